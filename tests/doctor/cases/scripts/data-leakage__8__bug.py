from tensorflow import keras

common = dict(validation_split=0.2, seed=42, image_size=(224, 224), batch_size=32)
train_ds = keras.utils.image_dataset_from_directory("chest_xray/all", subset="training", **common)  # expect: data-leakage
val_ds = keras.utils.image_dataset_from_directory("chest_xray/all", subset="validation", **common)

base = keras.applications.DenseNet121(include_top=False, weights="imagenet", input_shape=(224, 224, 3), pooling="avg")
base.trainable = False
inputs = keras.Input((224, 224, 3))
x = keras.applications.densenet.preprocess_input(inputs)
outputs = keras.layers.Dense(2, activation="softmax")(base(x, training=False))
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
