import numpy as np
import tensorflow as tf
from sklearn.metrics import classification_report

(x_train, y_train), (x_test, y_test) = tf.keras.datasets.cifar10.load_data()


def make_ds(x, y, training):
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds = ds.map(lambda img, label: (tf.image.resize(img, (160, 160)), label))
    return ds.shuffle(10000).batch(64).prefetch(tf.data.AUTOTUNE)  # expect: label-order-mismatch


train_ds = make_ds(x_train, y_train, training=True)
test_ds = make_ds(x_test, y_test, training=False)

base = tf.keras.applications.MobileNetV2(input_shape=(160, 160, 3), include_top=False, weights="imagenet")
base.trainable = False
inputs = tf.keras.Input((160, 160, 3))
x = tf.keras.applications.mobilenet_v2.preprocess_input(inputs)
x = tf.keras.layers.GlobalAveragePooling2D()(base(x, training=False))
model = tf.keras.Model(inputs, tf.keras.layers.Dense(10, activation="softmax")(x))
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, epochs=5)

print(model.evaluate(test_ds))  # ~0.85
y_pred = np.argmax(model.predict(test_ds), axis=1)
print(classification_report(y_test.ravel(), y_pred))  # expect: label-order-mismatch
