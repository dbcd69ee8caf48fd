"""Normalisation constants read against what pretrained weights expect (norm_rules)."""

from __future__ import annotations

import pytest

from graftlab.doctor.script import check_script


def _pre(src: str, codes=("GL212", "GL215", "GL305")) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == "preprocessing-mismatch"
        and f.severity in ("error", "warning")
        and f.code in codes
    ]


TV = """\
import torch
from torchvision import datasets, models, transforms
model = models.resnet50(weights="IMAGENET1K_V2")
tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                         transforms.ToTensor(), transforms.Normalize({mean}, {std})])
"""


@pytest.mark.parametrize(
    "mean, std",
    [
        ("[0.485, 0.456, 0.406]", "[0.485, 0.456, 0.406]"),  # the mean twice
        ("(0.4914, 0.4822, 0.4465)", "(0.4914, 0.4822, 0.4465)"),
        ("[0.229, 0.224, 0.225]", "[0.485, 0.456, 0.406]"),  # swapped
        ("(0.5, 0.5, 0.5)", "(0.4914, 0.4822, 0.4465)"),  # CIFAR mean as std
    ],
)
def test_a_std_that_is_a_mean_is_an_error(mean, std):
    (f,) = _pre(TV.format(mean=mean, std=std))
    assert f.severity == "error" and f.code == "GL212"
    assert "post.py:5:" in f.evidence


@pytest.mark.parametrize(
    "mean, std",
    [
        ("[0.485, 0.456, 0.406]", "[0.229, 0.224, 0.225]"),
        ("(0.5, 0.5, 0.5)", "(0.5, 0.5, 0.5)"),  # [-1, 1]: a deliberate recipe
        ("(0.4914, 0.4822, 0.4465)", "(0.2023, 0.1994, 0.2010)"),
    ],
)
def test_ordinary_statistics_are_silent(mean, std):
    src = TV.format(mean=mean, std=std).replace('models.resnet50(weights="IMAGENET1K_V2")', "Net()")
    assert _pre(src, codes=("GL210", "GL212", "GL215", "GL305")) == []


def test_mean_zero_std_one_before_a_pretrained_model_is_a_warning():
    (f,) = _pre(TV.format(mean="[0, 0, 0]", std="[1, 1, 1]"))
    assert f.severity == "warning" and "mean 0 and std 1" in f.title


def test_mean_zero_std_one_in_a_config_fragment_names_the_inference():
    src = "# inputs of the imagenet encoder\nMEAN = [0.0, 0.0, 0.0]\nSTD = [1.0, 1.0, 1.0]\n"
    (f,) = _pre(src)
    assert f.severity == "warning" and "inferred" in f.explanation
    assert _pre("MEAN = [0.0, 0.0, 0.0]\nSTD = [1.0, 1.0, 1.0]\n") == []  # nothing pretrained


def test_0_255_statistics_after_to_tensor_is_an_error():
    src = TV.format(mean="[123.68, 116.78, 103.94]", std="[58.4, 57.1, 57.4]")
    (f,) = _pre(src)
    assert f.severity == "warning" and "0..255" in f.title  # the input type is not shown
    (f,) = _pre(src + 'train_set = datasets.ImageFolder("data", transform=tf)\n')
    assert f.severity == "error"
    # without ToTensor (a tensor already on 0..255) the same numbers are fine
    assert _pre(src.replace("transforms.ToTensor(), ", "")) == []


def test_imagenet_mean_in_bgr_order_is_a_warning():
    (f,) = _pre(TV.format(mean="[0.406, 0.456, 0.486]", std="[0.225, 0.224, 0.229]"))
    assert f.severity == "warning" and "BGR" in f.title


def test_normalize_twice_and_div_255_after_to_tensor():
    twice = """\
import torchvision.transforms as T
norm = T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_tf = T.Compose([T.ToTensor(), norm, T.RandomHorizontalFlip(), norm])
"""
    (f,) = _pre(twice)
    assert f.code == "GL215" and f.severity == "error"
    undo = twice.replace(
        "norm])", "T.Normalize([-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.225], [4.4, 4.5, 4.4])])"
    )
    assert _pre(undo) == []  # an inverse normalisation for plotting is not a second one
    scaled = """\
from torchvision import datasets, transforms
tf = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda x: x / 255.)])
train_set = datasets.ImageFolder("data/train", transform=tf)
"""
    (f,) = _pre(scaled)
    assert f.severity == "error" and "255" in f.title
    # what the transform is applied to is not shown: a float array would not be scaled
    (f,) = _pre(
        scaled.replace('train_set = datasets.ImageFolder("data/train", transform=tf)\n', "")
    )
    assert f.severity == "warning"
    assert _pre(scaled.replace("x / 255.", "x * 2 - 1")) == []


def test_normalize_in_front_of_a_model_that_normalises_itself():
    src = """\
import torchvision
from torchvision import transforms
model = torchvision.models.detection.fasterrcnn_resnet50_fpn(weights="DEFAULT")
tf = transforms.Compose([transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
"""
    (f,) = _pre(src)
    assert f.code == "GL215" and f.severity == "warning"
    assert _pre(src.replace(",\n                         transforms.Normalize(", "  # (")) == []
    own = """\
import torch.nn as nn
from torchvision import transforms
class Net(nn.Module):
    def forward(self, x):
        x = (x - self.mean) / self.std
        return self.body(x)
net = Net()
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
"""
    (f,) = _pre(own)
    assert "inside the model" in f.title


CAFFE = """\
import numpy as np
import torch
from torchvision import models
model = models.vgg16(pretrained=True).eval()
mean_bgr = np.array([104., 117., 124.], dtype=np.float32)
x = cv2.resize(img.astype(np.float32), (224, 224))
x -= mean_bgr
out = model(torch.from_numpy(x.transpose(2, 0, 1))[None])
"""


def test_caffe_means_for_a_pytorch_imagenet_model():
    (f,) = _pre(CAFFE)
    assert f.code == "GL305" and f.severity == "warning" and "post.py:7:" in f.evidence
    # weights converted from Caffe do expect it
    assert _pre(CAFFE.replace("vgg16(pretrained=True)", "load_caffe_vgg('vgg.caffemodel')")) == []


BEFORE_FLIP = """\
def preprocess(x):
    x[:, :, :, 0] -= 103.939
    x[:, :, :, 1] -= 116.779
    x[:, :, :, 2] -= 123.68
    x = x[:, :, :, ::-1]
    return x
"""


def test_bgr_means_subtracted_before_the_flip():
    (f,) = _pre(BEFORE_FLIP)
    assert f.code == "GL305" and "post.py:5:" in f.evidence
    # flipped first, then the BGR means: Keras' own order
    fixed = (
        "def preprocess(x):\n    x = x[:, :, :, ::-1]\n    x[:, :, :, 0] -= 103.939\n"
        "    x[:, :, :, 1] -= 116.779\n    x[:, :, :, 2] -= 123.68\n    return x\n"
    )
    assert _pre(fixed) == []
    rgb = BEFORE_FLIP.replace("103.939", "A").replace("123.68", "103.939").replace("A", "123.68")
    assert _pre(rgb) == []  # RGB means, then the flip: right


def test_one_cause_one_finding_with_the_family_rule():
    src = TV.format(mean="[0.485, 0.456, 0.406]", std="[0.485, 0.456, 0.406]")
    assert len(_pre(src, codes=("GL210", "GL212"))) == 1


KERAS_PREDICT = """\
import numpy as np
from tensorflow.keras.applications.vgg16 import VGG16, preprocess_input
from tensorflow.keras.preprocessing import image
model = VGG16(weights="imagenet")
img = image.load_img("cat.jpg", target_size=(224, 224))
x = np.expand_dims(image.img_to_array(img), 0){scale}
x = preprocess_input(x)
print(model.predict(x))
"""

KERAS_FIT = """\
from tensorflow import keras
from tensorflow.keras.preprocessing.image import ImageDataGenerator
base = keras.applications.{app}(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
base.trainable = False
inputs = keras.Input((224, 224, 3))
x = base(inputs, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
gen = ImageDataGenerator({gen})
train = gen.flow_from_directory("data/train", target_size=(224, 224))
model.fit(train, epochs=5)
"""


@pytest.mark.parametrize(
    "src, severity",
    [
        # [0, 1] pixels into preprocess_input; traced through arrays: a warning
        (KERAS_PREDICT.format(scale=" / 255."), "warning"),
        (KERAS_FIT.format(app="EfficientNetB0", gen="rescale=1./255"), "error"),
        (KERAS_FIT.format(app="MobileNetV3Small", gen="rescale=1./255"), "error"),
        (KERAS_FIT.format(app="ResNet50", gen="rescale=1./255"), "warning"),
        (KERAS_FIT.format(app="ResNet50", gen=""), "warning"),  # nothing at all
        (
            KERAS_FIT.format(
                app="ResNet50",
                gen="rescale=1./255, preprocessing_function=keras.applications.resnet50."
                "preprocess_input",
            ),
            "error",
        ),
    ],
)
def test_keras_contracts(src, severity):
    found = _pre(src, codes=("GL110",))
    assert [f.severity for f in found] == [severity]


RESNET_PRE = "keras.applications.resnet50.preprocess_input"


@pytest.mark.parametrize(
    "src",
    [
        KERAS_PREDICT.format(scale=""),
        KERAS_FIT.format(app="EfficientNetB0", gen=""),
        KERAS_FIT.format(app="ResNet50", gen=f"preprocessing_function={RESNET_PRE}"),
        KERAS_FIT.format(app="MobileNetV2", gen="").replace(
            "x = base(inputs",
            "x = keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs)\nx = base(x",
        ),
    ],
)
def test_keras_contracts_kept_are_silent(src):
    assert _pre(src, codes=("GL110",)) == []


CAFFE_WEIGHTS = """\
import torch
from torchvision import transforms
model = XNORNet()
model.load_state_dict(torch.load("alexnet_xnor_caffe.pth"))
tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(227),
                         transforms.ToTensor(){extra}])
"""


def test_caffe_converted_weights_fed_unit_range_tensors():
    (f,) = _pre(CAFFE_WEIGHTS.format(extra=""))
    assert f.code == "GL305" and "Caffe" in f.title
    back = ", transforms.Lambda(lambda x: x[[2, 1, 0]] * 255)"
    assert _pre(CAFFE_WEIGHTS.format(extra=back)) == []
    assert _pre(CAFFE_WEIGHTS.format(extra="").replace("_caffe", "")) == []


def test_statistics_passed_as_a_kwargs_dict():
    src = """\
from torchvision import transforms
STATS = {{"mean": [0.485, 0.456, 0.406], "std": {std}}}
tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(**STATS)])
"""
    (f,) = _pre(src.format(std="[0.485, 0.456, 0.406]"))
    assert f.code == "GL212" and f.severity == "error"
    assert _pre(src.format(std="[0.229, 0.224, 0.225]")) == []


def test_transform_output_divided_by_255():
    src = """\
from PIL import Image
from torchvision import transforms
tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor()])
x = tf(Image.open("a.jpg")){op}
"""
    (f,) = _pre(src.format(op=" / 255.0"))
    assert f.code == "GL215" and f.severity == "error" and "post.py:4:" in f.evidence
    assert _pre(src.format(op=" * 2 - 1")) == []


def test_a_rescaling_normalize_before_the_real_one_is_not_a_second_normalisation():
    src = """\
import torchvision.transforms as T
tf = T.Compose([T.PILToTensor(), T.ConvertImageDtype(torch.float32),
                T.Normalize([0, 0, 0], [255, 255, 255]),
                T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
"""
    assert [f for f in _pre(src) if f.code == "GL215"] == []
