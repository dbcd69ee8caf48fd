import pathlib
import tensorflow as tf
from tensorflow import keras

model = tf.keras.models.load_model(
    "C:\\projects\\bacteria\\models\\cnn.h5")
img_path = pathlib.Path("C:/projects/bacteria/data/train/E.coli/sample_01.png")
img = keras.preprocessing.image.load_img(img_path, target_size=(244, 244))
arr = keras.preprocessing.image.img_to_array(img)
batch = tf.expand_dims(arr, 0)
probs = model.predict(batch)
print(probs)
