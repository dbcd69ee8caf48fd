"""Bird species: VGG16 bottleneck features and a small dense head (the Keras blog recipe),
then a second phase meant to fine-tune the last convolutional block."""
import numpy as np
from tensorflow import keras
from tensorflow.keras.applications.vgg16 import VGG16, preprocess_input

vgg = VGG16(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
vgg.trainable = False

train_imgs = preprocess_input(np.load("birds_train_x.npy").astype("float32"))
train_lbls = np.load("birds_train_y.npy")
bottleneck = vgg.predict(train_imgs, batch_size=32)

top = keras.Sequential(
    [
        keras.Input(bottleneck.shape[1:]),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(200, activation="softmax"),
    ]
)
top.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
top.fit(bottleneck, train_lbls, epochs=10, validation_split=0.15)

# phase 2: fine-tune block5
vgg.trainable = True
for layer in vgg.layers[:-4]:
    layer.trainable = False
inputs = keras.Input((224, 224, 3))
full = keras.Model(inputs, top(vgg(inputs, training=False)))
full.compile(keras.optimizers.Adam(1e-5), "sparse_categorical_crossentropy", metrics=["accuracy"])
full.fit(train_imgs, train_lbls, epochs=10, validation_split=0.15)
