import os
import pathlib

import numpy as np
import tensorflow as tf


class ClassicImageDataDirectory:
    """train/ and test/ folders with one sub-folder per class."""

    def __init__(self, data_dir, target_size=(224, 224)):
        self.data_dir = pathlib.Path(data_dir)
        self.target_size = target_size
        self.class_names = list({p.name for p in (self.data_dir / 'train').iterdir() if p.is_dir()})
        self.lab2nm = dict(enumerate(self.class_names))
        self.nm2lab = {v: k for k, v in self.lab2nm.items()}

    def load(self, split='train', batch_size=32):
        return tf.keras.preprocessing.image_dataset_from_directory(
            self.data_dir / split, image_size=self.target_size, batch_size=batch_size, label_mode='int')

    def predict_name(self, model, img_path):
        img = tf.keras.preprocessing.image.load_img(img_path, target_size=self.target_size)
        x = np.expand_dims(tf.keras.preprocessing.image.img_to_array(img) / 255., 0)
        return self.lab2nm[int(model.predict(x)[0][0] > 0.5)]


imgdir = ClassicImageDataDirectory('../data/pizza_steak/')
print(imgdir.lab2nm)
# {0: 'steak', 1: 'pizza'}
