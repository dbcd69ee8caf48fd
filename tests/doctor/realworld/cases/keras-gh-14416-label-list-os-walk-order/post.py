import os
import pandas as pd
import tensorflow as tf

images_directory = '/content/drive/MyDrive/galaxies/images'
labels_directory = '/content/drive/MyDrive/galaxies/labels'
SELECTED_FEATURE = 'shape'


def replace_file_extension(file_name, old, new):
    return file_name[:-len(old)] + new


def get_class_label(feature, label_file):
    table = pd.read_csv(os.path.join(labels_directory, label_file))
    return int(table[feature][0])


label_list = []
for path, directories, image_files in os.walk(images_directory):
  for image_file in image_files:
    label_file = replace_file_extension(image_file, 'png', 'csv')
    label_list.append(get_class_label(SELECTED_FEATURE, label_file))

train_ds = tf.keras.preprocessing.image_dataset_from_directory(
    images_directory,
    image_size=(32,32),
    labels=label_list,
    label_mode="int"
    )

model = tf.keras.Sequential([
    tf.keras.layers.experimental.preprocessing.Rescaling(1./255),
    tf.keras.layers.Conv2D(32, 3, activation='relu'),
    tf.keras.layers.MaxPooling2D(),
    tf.keras.layers.Conv2D(64, 3, activation='relu'),
    tf.keras.layers.MaxPooling2D(),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(64, activation='relu'),
    tf.keras.layers.Dense(3)
])
model.compile(optimizer='adam',
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=['accuracy'])
model.fit(train_ds, epochs=10)
