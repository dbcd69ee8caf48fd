import tensorflow as tf
from tensorflow.keras import layers, models

IMG_SIZE = (224, 224)

train_ds = tf.keras.utils.image_dataset_from_directory('dataset', validation_split=0.2, subset='training',
                                                       seed=42, image_size=IMG_SIZE, batch_size=32)
val_ds = tf.keras.utils.image_dataset_from_directory('dataset', validation_split=0.2, subset='validation',
                                                     seed=42, image_size=IMG_SIZE, batch_size=32)

base = tf.keras.applications.MobileNetV2(weights='imagenet', include_top=False, input_shape=IMG_SIZE + (3,))
base.trainable = False

inputs = layers.Input(shape=IMG_SIZE + (3,))
x = layers.Rescaling(1. / 255)(inputs)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(1, activation='sigmoid')(x)
model = models.Model(inputs, outputs)
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
model.fit(train_ds, validation_data=val_ds, epochs=10)
model.save('models/pixeltruth_model.h5')
