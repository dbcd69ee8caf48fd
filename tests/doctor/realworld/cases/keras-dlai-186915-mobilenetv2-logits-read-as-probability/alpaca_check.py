import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing import image_dataset_from_directory

IMG_SIZE = (160, 160)
train_ds = image_dataset_from_directory('pets/', validation_split=0.2, subset='training',
                                        seed=7, image_size=IMG_SIZE, batch_size=32)
val_ds = image_dataset_from_directory('pets/', validation_split=0.2, subset='validation',
                                      seed=7, image_size=IMG_SIZE, batch_size=32)

preprocess_input = tf.keras.applications.mobilenet_v2.preprocess_input
augment = tf.keras.Sequential([tf.keras.layers.RandomFlip('horizontal'),
                               tf.keras.layers.RandomRotation(0.2)])


def pet_model(image_shape=IMG_SIZE):
    base_model = tf.keras.applications.MobileNetV2(input_shape=image_shape + (3,),
                                                   include_top=False, weights='imagenet')
    base_model.trainable = False
    inputs = tf.keras.Input(shape=image_shape + (3,))
    x = augment(inputs)
    x = preprocess_input(x)
    x = base_model(x, training=False)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    x = tf.keras.layers.Dropout(0.2)(x)
    outputs = tf.keras.layers.Dense(1)(x)
    return tf.keras.Model(inputs, outputs)


model = pet_model()
model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.001),
              loss=tf.keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=['accuracy'])
history = model.fit(train_ds, validation_data=val_ds, epochs=5)

# check a batch of training images by hand
images, labels = next(iter(train_ds))
scores = model.predict(images)
print(scores[:8].ravel())
guess = (scores > 0.5).astype(int).ravel()
print('hand accuracy', np.mean(guess == labels.numpy()))
