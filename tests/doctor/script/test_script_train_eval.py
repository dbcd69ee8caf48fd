"""Evaluation inputs prepared differently from training inputs, across functions and files."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _te(src) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "train-eval-preprocessing-mismatch" and f.severity in ("error", "warning")
    ]


TORCH = """\
from PIL import Image
from torchvision import transforms

class Pairs:
    def __init__(self, root, train=True):
        ops = [transforms.Resize(256)]
        if train:
            ops += [transforms.RandomCrop(224), transforms.RandomHorizontalFlip()]
        ops += [transforms.ToTensor()]
        self.transform = transforms.Compose(ops)

tf = transforms.Compose([transforms.Resize(256), transforms.ToTensor(){extra}])
img = tf(Image.open("x.jpg")).unsqueeze(0)
out = net(img)
"""


def test_inference_transform_against_the_augmenting_one_built_in_steps():
    (f,) = _te(TORCH.format(extra=", transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))"))
    assert f.code == "GL211" and f.severity == "warning" and "Inferred" in f.explanation
    assert _te(TORCH.format(extra="")) == []


KERAS_FN = """\
import numpy as np
from keras.models import Sequential, load_model
from keras.layers import Dense

def normalize(x):
    return (x - 127.5) / 50.0

x_train = normalize(np.load("train.npy"))
model = Sequential([Dense(3, activation="softmax")])
model.compile("adam", "categorical_crossentropy")
model.fit(x_train, y_train)
x_test = np.load("test.npy")
print(model.predict({arg}))
"""


def test_a_training_preprocessing_function_skipped_at_prediction():
    (f,) = _te(KERAS_FN.format(arg="x_test"))
    assert f.code == "GL112" and "normalize()" in f.title
    assert _te(KERAS_FN.format(arg="normalize(x_test)")) == []
    assert _te(KERAS_FN.format(arg="x_train[:5]")) == []


SAVED = """\
import numpy as np
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator, load_img, img_to_array
gen = ImageDataGenerator(rescale=1. / 255).flow_from_directory("data/train", target_size=(96, 96))
model = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(2, activation="softmax")])
model.compile("adam", "categorical_crossentropy")
model.fit(gen, epochs=2)
model.save("models/cls.h5")
clf = keras.models.load_model("models/cls.h5")
x = np.expand_dims(img_to_array(load_img("a.jpg", target_size=(96, 96))), 0){scale}
print(clf.predict(x))
"""


def test_prediction_with_the_saved_model_without_the_training_rescale():
    (f,) = _te(SAVED.format(scale=""))
    assert f.code == "GL112" and f.severity == "warning" and "saved" in f.explanation
    assert _te(SAVED.format(scale=" / 255.")) == []
    other = SAVED.format(scale="").replace('load_model("models/cls.h5")', 'load_model("x.h5")')
    assert _te(other) == []


HANDWRITTEN = """\
import numpy as np
import torch
import custom_transforms
normalize = custom_transforms.Normalize(mean=[0.5, 0.5, 0.5], std=[0.5, 0.5, 0.5])
train_transform = custom_transforms.Compose([
    custom_transforms.RandomHorizontalFlip(), custom_transforms.ArrayToTensor(), normalize])
img = np.transpose(imread(path).astype(np.float32), (2, 0, 1))
tensor_img = ((torch.from_numpy(img).unsqueeze(0) / 255 - 0.5) / {std})
pred = disp_net(tensor_img)
"""


def test_handwritten_inference_normalisation_against_the_training_one():
    (f,) = _te(HANDWRITTEN.format(std="0.2"))
    assert f.code == "GL211" and "hand-written" in f.title
    assert _te(HANDWRITTEN.format(std="0.5")) == []


UNNAMED = """\
from torchvision import transforms as T
m, s = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
a = T.Compose([T.RandomResizedCrop(224), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize(m, s)])
b = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(){norm}])
"""


def test_unnamed_transforms_the_augmenting_one_trains_the_other_evaluates():
    (f,) = _te(UNNAMED.format(norm=""))
    assert f.code == "GL211" and f.severity == "warning"
    assert "evaluation transform" in f.title and "Inferred" in f.explanation
    assert _te(UNNAMED.format(norm=", T.Normalize(m, s)")) == []


TWO_STREAMS = """\
import torch
from torchvision import models, transforms

net = models.resnet18(pretrained=True)
train_rgb = transforms.Compose([transforms.RandomCrop(224), transforms.ToTensor(),
                                transforms.Normalize(mean=(0.5,), std=(0.5,))])
train_depth = transforms.Compose([transforms.RandomCrop(224), transforms.ToTensor(),
                                  transforms.Normalize(mean=(0.1,), std=(0.2,))])
test_rgb = transforms.Compose([transforms.CenterCrop(224), transforms.ToTensor(),
                               transforms.Normalize(mean=({rgb},), std=(0.5,))])
test_depth = transforms.Compose([transforms.CenterCrop(224), transforms.ToTensor(),
                                 transforms.Normalize(mean=(0.1,), std=(0.2,))])
train_set = Pairs("train", transform=train_rgb, transform_depth=train_depth)
test_set = Pairs("test", transform=test_rgb, transform_depth=test_depth)
"""


def test_two_input_streams_each_evaluated_like_it_trains_are_not_crossed():
    # the RGB test transform is not compared with the depth training transform
    assert _te(TWO_STREAMS.format(rgb="0.5")) == []
    # but an RGB test transform that matches no training transform still is
    (f,) = _te(TWO_STREAMS.format(rgb="0.4"))
    assert f.code == "GL211"


STATS_AGAIN = """\
import numpy as np
from keras.preprocessing.image import img_to_array

X_train = X_train.astype("float32")
mean_image = np.mean(X_train, axis=0)
X_train -= mean_image
X_train /= 128.0
model.fit(X_train, Y_train, epochs=10)

image = img_to_array(photo).astype("float32")
mean_image = {stat}
image -= mean_image
image /= 128.0
print(model.predict(np.expand_dims(image, axis=0)))
"""


def test_a_training_mean_recomputed_from_the_image_predicted():
    (f,) = _te(STATS_AGAIN.format(stat="np.mean(image, axis=0)"))
    assert f.code == "GL326" and f.severity == "warning"
    assert "post.py:5:" in f.evidence and "post.py:11:" in f.evidence
    # the training mean saved and loaded again is the statistic the model was trained with
    assert _te(STATS_AGAIN.format(stat='np.load("mean_image.npy")')) == []


def test_the_training_data_is_read_from_its_use_in_fit_not_its_name():
    renamed = STATS_AGAIN.replace("X_train", "feats").replace("Y_train", "onehot")
    (f,) = _te(renamed.format(stat="np.mean(image, axis=0)"))
    assert f.code == "GL326" and "computed from the training data" in f.title


MMCV_CONFIG = """\
import torch
from PIL import Image
from torchvision import transforms

norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', size=224),
    dict(type='Normalize', **norm_cfg),
    dict(type='ImageToTensor', keys=['img']),
]

def predict(net, path):
    net.eval()
    prep = transforms.Compose([transforms.ToTensor(), transforms.Normalize({stats})])
    return net(prep(Image.open(path)).unsqueeze(0))
"""


def test_inference_scaled_by_to_tensor_against_a_config_that_normalised_0_255_pixels():
    src = MMCV_CONFIG.format(stats="[123.675, 116.28, 103.53], [58.395, 57.12, 57.375]")
    (f,) = _te(src)
    assert f.code == "GL211" and f.severity == "warning"
    assert "post.py:9:" in f.evidence and "post.py:15:" in f.evidence
    # one cause, one finding: GL212 does not say it again as a preprocessing mismatch
    assert not [g for g in check_script(src, filename="post.py") if g.code == "GL212"]


def test_inference_with_the_config_statistics_divided_by_255_is_silent():
    assert _te(MMCV_CONFIG.format(stats="[0.485, 0.456, 0.406], [0.229, 0.224, 0.225]")) == []
