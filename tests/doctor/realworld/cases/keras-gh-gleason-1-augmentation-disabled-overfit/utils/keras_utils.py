from __future__ import division, print_function
import os
import numpy as np
from keras.preprocessing import image
from keras.applications.imagenet_utils import preprocess_input


def center_crop(x, size):
    ch, cw = x.shape[0] // 2, x.shape[1] // 2
    return x[ch - size[0] // 2: ch - size[0] // 2 + size[0], cw - size[1] // 2: cw - size[1] // 2 + size[1], :]


def random_crop(x, size):
    dh = (x.shape[0] - size[0]) // 2
    dw = (x.shape[1] - size[1]) // 2
    oh = 0 if dh == 0 else np.random.randint(dh)
    ow = 0 if dw == 0 else np.random.randint(dw)
    return x[oh:oh + size[0], ow:ow + size[1], :]


def random_transform(x, rotation_range=0., channel_shift_range=0., fill_mode='nearest',
                     horizontal_flip=False, vertical_flip=False, seed=None):
    x = x.astype('float32')
    if seed is not None:
        np.random.seed(seed)
    theta = np.deg2rad(np.random.uniform(rotation_range, rotation_range)) if rotation_range else 0
    if theta != 0:
        rot = np.array([[np.cos(theta), -np.sin(theta), 0],
                        [np.sin(theta), np.cos(theta), 0],
                        [0, 0, 1]])
        rot = image.transform_matrix_offset_center(rot, x.shape[0], x.shape[1])
        x = image.apply_transform(x, rot, 2, fill_mode=fill_mode)
    if channel_shift_range:
        x = image.random_channel_shift(x, channel_shift_range, 2)
    if horizontal_flip and np.random.random() < 0.5:
        x = image.flip_axis(x, 1)
    if vertical_flip and np.random.random() < 0.5:
        x = image.flip_axis(x, 0)
    return x


def balanced_generator(image_dir, filenames, classes, input_dim, crop_dim, batch_size,
                       data_augmentation=True):
    n_class = len(np.unique(classes))
    n = len(filenames)
    per_class = batch_size // n_class
    while True:
        order = np.random.permutation(n)
        order_classes = classes[order]
        xs, ys = [], []
        for c in range(n_class):
            for j in order[order_classes == c][:per_class]:
                img = image.img_to_array(image.load_img(os.path.join(image_dir, filenames[j]),
                                                        target_size=(input_dim, input_dim)))
                if data_augmentation:
                    img = random_crop(img, (input_dim - 10, input_dim - 10))
                    img = random_transform(img, rotation_range=30., channel_shift_range=20.,
                                           fill_mode='reflect', horizontal_flip=True,
                                           vertical_flip=True, seed=12345)
                xs.append(center_crop(img, (crop_dim, crop_dim)))
                y = np.zeros(n_class, dtype=np.float32)
                y[c] = 1.
                ys.append(y)
        yield preprocess_input(np.array(xs), mode='tf'), np.array(ys)
