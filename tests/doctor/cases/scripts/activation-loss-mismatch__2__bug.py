import tensorflow as tf

NUM_CLASSES = 10
IMG_SIZE = 224

train_ds = tf.keras.utils.image_dataset_from_directory(
    "birds/train", image_size=(IMG_SIZE, IMG_SIZE), label_mode="categorical", batch_size=32)
val_ds = tf.keras.utils.image_dataset_from_directory(
    "birds/valid", image_size=(IMG_SIZE, IMG_SIZE), label_mode="categorical", batch_size=32,
    shuffle=False)

base_model = tf.keras.applications.EfficientNetB0(include_top=False, weights="imagenet",
                                                  input_shape=(IMG_SIZE, IMG_SIZE, 3))
base_model.trainable = False

inputs = tf.keras.Input(shape=(IMG_SIZE, IMG_SIZE, 3))
x = base_model(inputs, training=False)
x = tf.keras.layers.GlobalAveragePooling2D()(x)
x = tf.keras.layers.Dropout(0.3)(x)
logits = tf.keras.layers.Dense(NUM_CLASSES)(x)  # expect: activation-loss-mismatch
model = tf.keras.Model(inputs, logits)

model.compile(optimizer="adam",
              loss=tf.keras.losses.CategoricalCrossentropy(),  # expect: activation-loss-mismatch
              metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=15)
