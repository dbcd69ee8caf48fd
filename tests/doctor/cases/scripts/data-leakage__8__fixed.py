from tensorflow import keras

common = dict(image_size=(224, 224), batch_size=32)
# folders made by patient: every image of one patient_id is in one of them
train_ds = keras.utils.image_dataset_from_directory("chest_xray/train", **common)
val_ds = keras.utils.image_dataset_from_directory("chest_xray/val", **common)

base = keras.applications.DenseNet121(include_top=False, weights="imagenet", input_shape=(224, 224, 3), pooling="avg")
base.trainable = False
inputs = keras.Input((224, 224, 3))
x = keras.applications.densenet.preprocess_input(inputs)
outputs = keras.layers.Dense(2, activation="softmax")(base(x, training=False))
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
