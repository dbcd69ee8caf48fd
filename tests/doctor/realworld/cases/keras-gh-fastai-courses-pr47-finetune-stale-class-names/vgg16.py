from __future__ import division, print_function

import os, json
import numpy as np
from keras import backend as K
from keras.layers.core import Flatten, Dense, Dropout, Lambda
from keras.layers.convolutional import Convolution2D, MaxPooling2D, ZeroPadding2D
from keras.models import Sequential
from keras.optimizers import Adam
from keras.preprocessing import image
from keras.utils.data_utils import get_file

imagenet_mean = np.array([123.68, 116.779, 103.939], dtype=np.float32).reshape((3, 1, 1))


def subtract_mean(x):
    x = x - imagenet_mean
    return x[:, ::-1]  # channel order the weights expect


class Vgg16():
    """VGG16 with ImageNet weights and a few training helpers."""

    def __init__(self):
        self.WEIGHTS_URL = 'http://files.fast.ai/models/'
        self.build()
        self.load_imagenet_names()

    def load_imagenet_names(self):
        fname = 'imagenet_class_index.json'
        fpath = get_file(fname, self.WEIGHTS_URL + fname, cache_subdir='models')
        with open(fpath) as f:
            idx_map = json.load(f)
        self.classes = [idx_map[str(i)][1] for i in range(len(idx_map))]

    def predict(self, imgs, details=False):
        probs = self.model.predict(imgs)
        idxs = np.argmax(probs, axis=1)
        preds = [probs[i, idxs[i]] for i in range(len(idxs))]
        classes = [self.classes[idx] for idx in idxs]
        return np.array(preds), idxs, classes

    def conv_block(self, layers, filters):
        model = self.model
        for i in range(layers):
            model.add(ZeroPadding2D((1, 1)))
            model.add(Convolution2D(filters, 3, 3, activation='relu'))
        model.add(MaxPooling2D((2, 2), strides=(2, 2)))

    def dense_block(self):
        model = self.model
        model.add(Dense(4096, activation='relu'))
        model.add(Dropout(0.5))

    def build(self):
        model = self.model = Sequential()
        model.add(Lambda(subtract_mean, input_shape=(3, 224, 224), output_shape=(3, 224, 224)))
        self.conv_block(2, 64)
        self.conv_block(2, 128)
        self.conv_block(3, 256)
        self.conv_block(3, 512)
        self.conv_block(3, 512)
        model.add(Flatten())
        self.dense_block()
        self.dense_block()
        model.add(Dense(1000, activation='softmax'))
        fname = 'vgg16.h5'
        model.load_weights(get_file(fname, self.WEIGHTS_URL + fname, cache_subdir='models'))

    def get_batches(self, path, gen=image.ImageDataGenerator(), shuffle=True, batch_size=8, class_mode='categorical'):
        return gen.flow_from_directory(path, target_size=(224, 224),
                                       class_mode=class_mode, shuffle=shuffle, batch_size=batch_size)

    def replace_head(self, num):
        model = self.model
        model.pop()
        for layer in model.layers:
            layer.trainable = False
        model.add(Dense(num, activation='softmax'))
        self.compile()

    def finetune(self, batches):
        self.replace_head(batches.nb_class)

    def compile(self, lr=0.001):
        self.model.compile(optimizer=Adam(lr=lr), loss='categorical_crossentropy', metrics=['accuracy'])

    def fit(self, batches, val_batches, nb_epoch=1):
        self.model.fit_generator(batches, samples_per_epoch=batches.nb_sample, nb_epoch=nb_epoch,
                                 validation_data=val_batches, nb_val_samples=val_batches.nb_sample)
