import numpy as np
from keras.applications.vgg19 import VGG19, preprocess_input
from keras.layers import Dense, Flatten
from keras.models import Model
from keras.utils import to_categorical
from sklearn.model_selection import train_test_split

X = np.load("images.npy").astype("float32")
y = to_categorical(np.load("labels.npy"), 4)
X = preprocess_input(X)
x_train, x_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=1)

base = VGG19(weights="imagenet", include_top=False, input_shape=(128, 128, 3))
for layer in base.layers:
    layer.trainable = False
x = Flatten()(base.output)
out = Dense(4, activation="softmax")(x)
model = Model(base.input, out)
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(x_train, y_train, epochs=15, batch_size=32, validation_data=(x_train, y_train))  # expect: data-leakage
print(model.evaluate(x_test, y_test))
