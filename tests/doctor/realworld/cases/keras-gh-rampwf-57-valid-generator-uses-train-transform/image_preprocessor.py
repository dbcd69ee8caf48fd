import numpy as np
from skimage.transform import resize, rotate


def transform(x):
    # training-time preprocessing with random flips and rotations
    if np.random.rand() < 0.5:
        x = x[:, ::-1]
    x = rotate(x, np.random.uniform(-20, 20), mode='reflect')
    x = resize(x, (64, 64), preserve_range=True)
    return x / 255.


def transform_test(x):
    x = resize(x, (64, 64), preserve_range=True)
    return x / 255.
