import numpy as np
from tensorflow.keras.applications.xception import Xception, preprocess_input
from tensorflow.keras.models import load_model
from tensorflow.keras.preprocessing import image

model = load_model("xception_flowers.h5")
img = image.load_img("rose.jpg", target_size=(299, 299))
x = preprocess_input(image.img_to_array(img))
x = np.expand_dims(x, axis=0)
print(model.predict(x).argmax())
