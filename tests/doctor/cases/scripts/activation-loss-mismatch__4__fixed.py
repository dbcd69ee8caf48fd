from tensorflow import keras

base = keras.applications.ResNet50(input_shape=(224, 224, 3), weights="imagenet", include_top=False)
base.trainable = False
x = keras.layers.GlobalAveragePooling2D()(base.output)
out = keras.layers.Dense(12, activation="softmax")(x)
model = keras.models.Model(inputs=[base.input], outputs=[out])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=10)
