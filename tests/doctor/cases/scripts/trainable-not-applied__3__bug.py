import tensorflow as tf
from tensorflow import keras

train_ds = keras.utils.image_dataset_from_directory("horses/train", image_size=(224, 224),
                                                    label_mode="binary")
val_ds = keras.utils.image_dataset_from_directory("horses/val", image_size=(224, 224),
                                                  label_mode="binary", shuffle=False)

base = keras.applications.MobileNetV2(include_top=False, weights="imagenet", input_shape=(224, 224, 3))
base.trainable = False  # expect: trainable-not-applied
inputs = keras.Input((224, 224, 3))
x = keras.applications.mobilenet_v2.preprocess_input(inputs)
x = base(x, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)

model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)

# fine-tuning
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss="binary_crossentropy",  # expect: trainable-not-applied
              metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
