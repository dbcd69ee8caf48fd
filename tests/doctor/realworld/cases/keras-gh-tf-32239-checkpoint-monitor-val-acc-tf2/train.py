import tensorflow as tf
from tensorflow.keras.applications.mobilenet_v2 import MobileNetV2, preprocess_input
from tensorflow.keras.callbacks import ModelCheckpoint
from tensorflow.keras.preprocessing.image import ImageDataGenerator

snapshot_path = "runs/parts_best.h5"
n_kinds = 7

gen = ImageDataGenerator(preprocessing_function=preprocess_input)
training_img_stream = gen.flow_from_directory("parts/train", target_size=(224, 224), batch_size=32)
validation_img_stream = gen.flow_from_directory("parts/val", target_size=(224, 224), batch_size=32)

base = MobileNetV2(include_top=False, weights="imagenet", input_shape=(224, 224, 3), pooling="avg")
base.trainable = False
net = tf.keras.Sequential([base, tf.keras.layers.Dense(n_kinds, activation="softmax")])
net.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])

callbacks = [ModelCheckpoint(snapshot_path, monitor="val_acc", save_best_only=True)]

net.fit_generator(training_img_stream,
                  steps_per_epoch=120, epochs=15,
                  validation_data=validation_img_stream, validation_steps=40,
                  callbacks=callbacks)
