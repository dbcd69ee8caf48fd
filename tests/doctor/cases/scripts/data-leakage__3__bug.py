import tensorflow as tf

data_dir = "PetImages"
train_ds = tf.keras.utils.image_dataset_from_directory(  # expect: data-leakage
    data_dir, validation_split=0.2, subset="training", seed=123,
    image_size=(180, 180), batch_size=32)
val_ds = tf.keras.utils.image_dataset_from_directory(  # expect: data-leakage
    data_dir, validation_split=0.2, subset="validation", seed=321,
    image_size=(180, 180), batch_size=32)

base = tf.keras.applications.ResNet50V2(include_top=False, weights="imagenet", input_shape=(180, 180, 3))
base.trainable = False
inputs = tf.keras.Input((180, 180, 3))
x = tf.keras.applications.resnet_v2.preprocess_input(inputs)
x = base(x, training=False)
x = tf.keras.layers.GlobalAveragePooling2D()(x)
outputs = tf.keras.layers.Dense(1)(x)
model = tf.keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
