"""Random augmentation reaching evaluation through the poster's own code (aug_rules)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _aug(src: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "augmented-evaluation" and f.severity in ("error", "warning")
    ]


GENERATOR = """\
import numpy as np
from keras.models import Sequential
from keras.layers import Dense

def batches(x, y, size=32, augment=True):
    while True:
        idx = np.random.permutation(len(x))[:size]
        xb = x[idx]
        if augment:
            if np.random.rand() < 0.5:
                xb = xb[:, :, ::-1]
        yield xb, y[idx]

model = Sequential([Dense(2, activation="softmax")])
model.compile("adam", "categorical_crossentropy")
model.fit_generator(batches(x_tr, y_tr), steps_per_epoch=100,
                    validation_data=batches(x_val, y_val{flag}), validation_steps=10)
"""


def test_own_generator_reused_for_validation_with_augmentation_on():
    (f,) = _aug(GENERATOR.format(flag=""))
    assert f.code == "GL307" and "post.py:10:" in f.evidence
    assert _aug(GENERATOR.format(flag=", augment=False")) == []
    assert _aug(GENERATOR.format(flag=", 32, False")) == []


SEQUENCE = """\
import numpy as np
from tensorflow import keras

class Frames(keras.utils.Sequence):
    def __init__(self, x, y, augment=True):
        self.x, self.y, self.augment = x, y, augment
    def __len__(self):
        return len(self.x) // 32
    def __getitem__(self, i):
        xb = self.x[i * 32:(i + 1) * 32]
        if self.augment:
            xb = xb + np.random.normal(0, 0.1, xb.shape)
        return xb, self.y[i * 32:(i + 1) * 32]

model = keras.Sequential([keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "categorical_crossentropy")
model.fit(Frames(x_tr, y_tr), validation_data=Frames(x_val, y_val{flag}))
"""


def test_sequence_class_for_validation_with_augmentation_on():
    (f,) = _aug(SEQUENCE.format(flag=""))
    assert "Frames()" in f.title
    assert _aug(SEQUENCE.format(flag=", augment=False")) == []


def test_index_shuffling_is_not_augmentation():
    src = GENERATOR.replace(
        "        if augment:\n            if np.random.rand() < 0.5:\n"
        "                xb = xb[:, :, ::-1]\n",
        "",
    )
    assert _aug(src.format(flag="")) == []


def test_random_transform_in_a_prediction_script():
    src = """\
import torch
from PIL import Image
from torchvision import models, transforms
model = models.resnet18(weights="DEFAULT").eval()
tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                         transforms.ToTensor()])
with torch.no_grad():
    print(model(tf(Image.open("dog.jpg")).unsqueeze(0)).argmax(1))
"""
    (f,) = _aug(src)
    assert "random transform" in f.title
    det = src.replace(
        "transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip()",
        "transforms.Resize(256), transforms.CenterCrop(224)",
    )
    assert _aug(det) == []


def test_tf_data_validation_mapped_through_random_image_ops():
    src = """\
import tensorflow as tf
def augment(image, label):
    image = tf.image.random_flip_left_right(image)
    return image, label
train_ds = train_ds.map(augment)
val_ds = val_ds.map({fn})
"""
    (f,) = _aug(src.format(fn="augment"))
    assert "post.py:6:" in f.evidence
    assert _aug(src.format(fn="lambda x, y: (tf.cast(x, tf.float32) / 255.0, y)")) == []


def test_albumentations_training_pipeline_on_the_validation_dataset():
    src = """\
import albumentations as A
from albumentations.pytorch import ToTensorV2
train_tf = A.Compose([A.HorizontalFlip(p=0.5), A.ShiftScaleRotate(), ToTensorV2()])
val_tf = A.Compose([A.Resize(224, 224), ToTensorV2()])
val_ds = LeafDataset(val_df, transform={tf})
"""
    (f,) = _aug(src.format(tf="train_tf"))
    assert "HorizontalFlip" in f.title
    assert _aug(src.format(tf="val_tf")) == []


def test_generator_arguments_passed_as_a_dict():
    src = """\
from keras.preprocessing.image import ImageDataGenerator
data_gen_args = dict(rotation_range=0.2, horizontal_flip=True, fill_mode="nearest")
image_datagen = ImageDataGenerator(**data_gen_args)
train_gen = image_datagen.flow_from_directory("data/train", class_mode=None, seed=1)
val_gen = {val}.flow_from_directory("data/val", class_mode=None, seed=1)
model.fit_generator(train_gen, steps_per_epoch=300, validation_data=val_gen)
"""
    (f,) = _aug(src.format(val="image_datagen"))
    assert "horizontal_flip" in f.title
    assert _aug(src.format(val="ImageDataGenerator()")) == []


FROZEN = """\
import numpy as np

def jitter(x, seed=None):
    if seed is not None:
        np.random.seed(seed)
    angle = np.random.uniform(-30, 30)
    return rotate(x, angle)

def batches(files):
    while True:
        xs = [jitter(load(f), seed={seed}) for f in files]
        yield np.array(xs)

model.fit_generator(batches(train_files), steps_per_epoch=100)
"""


def test_augmentation_reseeded_on_every_call_or_zero_width():
    found = [
        f
        for f in check_script(FROZEN.format(seed="12345"), filename="post.py")
        if f.category == "overfitting"
    ]
    assert len(found) == 1 and found[0].code == "GL311"
    assert [
        f
        for f in check_script(FROZEN.format(seed="None"), filename="post.py")
        if f.category == "overfitting"
    ] == []
    zero = FROZEN.format(seed="None").replace("uniform(-30, 30)", "uniform(rng, rng)")
    assert [f for f in check_script(zero) if f.code == "GL311"]


def test_preprocess_input_mode_keyword_is_read():
    src = """\
import numpy as np
from keras.applications.mobilenet import MobileNet
from keras.applications.imagenet_utils import preprocess_input
base = MobileNet(weights="imagenet")
x = preprocess_input(np.array(batch), mode="{mode}")
print(base.predict(x))
"""
    codes = [f.code for f in check_script(src.format(mode="tf")) if f.severity != "info"]
    assert "GL110" not in codes
    codes = [f.code for f in check_script(src.format(mode="caffe")) if f.severity != "info"]
    assert "GL110" in codes


def test_augmentation_branch_switched_off():
    src = """\
from keras.preprocessing.image import ImageDataGenerator
data_augmentation = {flag}
if not data_augmentation:
    model.fit(x_train, y_train, validation_data=(x_test, y_test))
if data_augmentation:
    datagen = ImageDataGenerator(width_shift_range=0.1, horizontal_flip=True)
    model.fit_generator(datagen.flow(x_train, y_train), validation_data=(x_test, y_test))
"""
    found = [f for f in check_script(src.format(flag="False")) if f.category == "overfitting"]
    assert len(found) == 1 and "switched off" in found[0].title
    assert [f for f in check_script(src.format(flag="True")) if f.category == "overfitting"] == []


def test_random_batch_indices_are_not_augmentation():
    src = """\
import numpy as np
def batches(x, y, size=32):
    while True:
        idx = np.random.randint(0, len(x), size)
        yield x[idx], y[idx]
model.fit_generator(batches(x_tr, y_tr), steps_per_epoch=100,
                    validation_data=batches(x_val, y_val), validation_steps=10)
"""
    assert _aug(src) == []
