import tensorflow as tf
import tensorflow_datasets as tfds

IMG = 224
train_ds = tfds.load("tf_flowers", split="train", as_supervised=True)  # expect: data-leakage
val_ds = tfds.load("tf_flowers", split="train[80%:]", as_supervised=True)  # expect: data-leakage


def prep(image, label):
    return tf.keras.applications.mobilenet_v2.preprocess_input(tf.image.resize(image, (IMG, IMG))), label


train_ds = train_ds.map(prep).shuffle(1000).batch(32)
val_ds = val_ds.map(prep).batch(32)
base = tf.keras.applications.MobileNetV2(input_shape=(IMG, IMG, 3), include_top=False, weights="imagenet")
base.trainable = False
model = tf.keras.Sequential([base, tf.keras.layers.GlobalAveragePooling2D(), tf.keras.layers.Dense(5)])
model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
