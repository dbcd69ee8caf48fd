import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator

DATA = "dataset/flowers"
datagen = ImageDataGenerator(
    rescale=1. / 255,
    rotation_range=40,
    zoom_range=0.2,
    horizontal_flip=True,
    validation_split=0.2,
)
train_generator = datagen.flow_from_directory(DATA, target_size=(224, 224), batch_size=32,
                                              subset="training")
val_datagen = ImageDataGenerator(rescale=1. / 255, validation_split=0.2)
validation_generator = val_datagen.flow_from_directory(DATA, target_size=(224, 224), batch_size=32,
                                                   subset="validation")

base = tf.keras.applications.MobileNetV2(input_shape=(224, 224, 3), include_top=False,
                                         weights="imagenet")
base.trainable = False
model = tf.keras.Sequential([
    tf.keras.layers.Rescaling(2.0, offset=-1.0),
    base,
    tf.keras.layers.GlobalAveragePooling2D(),
    tf.keras.layers.Dense(5, activation="softmax"),
])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_generator, validation_data=validation_generator, epochs=10)
