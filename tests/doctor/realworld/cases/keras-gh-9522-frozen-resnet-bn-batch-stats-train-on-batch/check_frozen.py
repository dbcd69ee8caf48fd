import numpy as np
from keras.applications.resnet50 import ResNet50, preprocess_input
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model
from keras.optimizers import Adam

NUM_CLASSES = 4

base = ResNet50(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
x = GlobalAveragePooling2D()(base.output)
out = Dense(NUM_CLASSES, activation="softmax")(x)
model = Model(inputs=base.input, outputs=out)

# train only the new head
for layer in base.layers:
    layer.trainable = False

model.compile(optimizer=Adam(lr=1e-4), loss="categorical_crossentropy", metrics=["accuracy"])
model.summary()

X = np.load("crops_batch.npy").astype("float32")
X = preprocess_input(X)
Y = np.load("crops_labels.npy")

targets = model.predict_on_batch(X)
print("test before :", model.test_on_batch(X, targets))
print("train       :", model.train_on_batch(X, targets))
print("train       :", model.train_on_batch(X, targets))
print("test after  :", model.test_on_batch(X, targets))

model.fit(X, Y, batch_size=8, epochs=10, validation_split=0.25)
