import pathlib
import numpy as np
import tensorflow as tf
from tensorflow.keras.preprocessing.image import ImageDataGenerator

data_dir = pathlib.Path("food_2classes/train")
class_names = np.array(sorted([item.name for item in data_dir.glob("*")]))
print(class_names)

train_datagen = ImageDataGenerator(rescale=1 / 255.)
valid_datagen = ImageDataGenerator(rescale=1 / 255.)

train_data = train_datagen.flow_from_directory("food_2classes/train",
                                               target_size=(224, 224),
                                               batch_size=32,
                                               class_mode="binary",
                                               seed=7)
valid_data = valid_datagen.flow_from_directory("food_2classes/test",
                                               target_size=(224, 224),
                                               batch_size=32,
                                               class_mode="binary",
                                               seed=7)

model = tf.keras.Sequential([
    tf.keras.layers.Conv2D(16, 3, activation="relu", input_shape=(224, 224, 3)),
    tf.keras.layers.Conv2D(16, 3, activation="relu"),
    tf.keras.layers.MaxPool2D(pool_size=2),
    tf.keras.layers.Conv2D(32, 3, activation="relu"),
    tf.keras.layers.Conv2D(32, 3, activation="relu"),
    tf.keras.layers.MaxPool2D(pool_size=2),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(1, activation="sigmoid"),
])
model.compile(loss="binary_crossentropy", optimizer=tf.keras.optimizers.Adam(), metrics=["accuracy"])
history = model.fit(train_data, epochs=5, validation_data=valid_data)


def load_and_prep_image(filename, img_shape=224):
    img = tf.io.read_file(filename)
    img = tf.image.decode_image(img, channels=3)
    img = tf.image.resize(img, size=[img_shape, img_shape])
    return img / 255.


def pred_and_plot(model, filename, class_names):
    img = load_and_prep_image(filename)
    pred = model.predict(tf.expand_dims(img, axis=0))
    pred_class = class_names[int(tf.round(pred)[0][0])]
    print(f"Prediction: {pred_class} ({pred[0][0]:.3f})")


pred_and_plot(model, "my_lunch_photo.jpeg", class_names)
pred_and_plot(model, "sushi_from_web.jpg", class_names)
