import numpy as np
from tensorflow.keras.applications.xception import Xception, preprocess_input
from tensorflow.keras.models import load_model
from tensorflow.keras.preprocessing import image

model = load_model("xception_flowers.h5")
img = image.load_img("rose.jpg", target_size=(299, 299))  # expect: preprocessing-mismatch
x = preprocess_input(img)  # expect: preprocessing-mismatch
x = np.expand_dims(x, axis=0)
print(model.predict(x).argmax())
