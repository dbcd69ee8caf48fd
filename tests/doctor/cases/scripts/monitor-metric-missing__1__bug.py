import tensorflow as tf
from tensorflow.keras.callbacks import EarlyStopping, ModelCheckpoint
from tensorflow.keras.applications.xception import Xception, preprocess_input
from tensorflow.keras.preprocessing.image import ImageDataGenerator

gen = ImageDataGenerator(preprocessing_function=preprocess_input)
train = gen.flow_from_directory("weather/train", target_size=(299, 299))
val = gen.flow_from_directory("weather/val", target_size=(299, 299))

base = Xception(include_top=False, weights="imagenet", pooling="avg", input_shape=(299, 299, 3))
base.trainable = False
model = tf.keras.Sequential([base, tf.keras.layers.Dense(4, activation="softmax")])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])

callbacks = [
    ModelCheckpoint("best.h5", monitor="val_acc", save_best_only=True, mode="max"),  # expect: monitor-metric-missing
    EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
]
model.fit(train, validation_data=val, epochs=50, callbacks=callbacks)
model = tf.keras.models.load_model("best.h5")  # OSError: no file found
