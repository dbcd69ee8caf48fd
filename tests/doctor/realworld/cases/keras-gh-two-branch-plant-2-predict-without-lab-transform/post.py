import numpy as np
import cai.datasets
from tensorflow import keras
from tensorflow.keras.preprocessing import image

model = keras.models.load_model('two-path-inception-plant-leaf.h5', custom_objects=cai.layers.GetCustomObjects())

img = image.load_img('leaf_test.jpg', target_size=(224, 224))
x = image.img_to_array(img)
x = np.expand_dims(x, axis=0)
x = x / 255.

pred = model.predict(x)
print(np.round(pred, 2))
print(np.argmax(pred))
# always 6, whatever leaf is loaded
