import pathlib
import tensorflow as tf
from tensorflow import keras

model = tf.keras.models.load_model(
    "D:\\Python Projects\\Final Year Project\\assets\\resource\\micro.h5")
path_img = pathlib.Path("D:/Python Projects/Final Year Project/assets/resource/train_images/Acinetobacter.baumanii/edited/img0.png")
image = keras.preprocessing.image.load_img(path_img, target_size=(244, 244))
image_array = keras.preprocessing.image.img_to_array(image)
image_array = tf.expand_dims(image_array, 0)
prediction = model.predict(image_array)
print(prediction)
