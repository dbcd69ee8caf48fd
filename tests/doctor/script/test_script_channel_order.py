"""BGR (OpenCV) versus RGB (everything else) between training and prediction (color_rules)."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _found(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


TRAIN_CV2 = """\
import cv2
import numpy as np
from PIL import Image
from keras.models import Sequential, load_model
from keras.layers import Dense, Flatten
images = [cv2.imread(p) for p in paths]
X_train = np.array(images)
model = Sequential([Flatten(), Dense(1)])
model.compile("adam", "mse")
model.fit(X_train, y_train)
frame = np.asarray(Image.open("frame.jpg"))
print(model.predict(frame[None]))
"""


def test_training_read_with_cv2_prediction_with_pil():
    (f,) = _found(TRAIN_CV2, "train-eval-preprocessing-mismatch")
    assert f.code == "GL309" and "post.py:6:" in f.evidence
    converted = TRAIN_CV2.replace(
        "[cv2.imread(p) for p in paths]",
        "[cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths]",
    )
    assert _found(converted, "train-eval-preprocessing-mismatch") == []
    both_pil = TRAIN_CV2.replace("cv2.imread(p)", "np.asarray(Image.open(p))")
    assert _found(both_pil, "train-eval-preprocessing-mismatch") == []


VIDEO = """\
import cv2
import tensorflow as tf
yolo = YoloV3(classes=80)
yolo.load_weights("yolov3.tf")
cap = cv2.VideoCapture(0)
while True:
    _, img = cap.read()
    x = tf.image.resize(tf.expand_dims(img, 0), (416, 416)) / 255
    boxes = yolo.predict(x)
"""


def test_video_frames_fed_to_loaded_weights_without_conversion():
    (f,) = _found(VIDEO, "preprocessing-mismatch")
    assert f.code == "GL310"
    fixed = VIDEO.replace(
        "tf.expand_dims(img, 0)", "tf.expand_dims(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), 0)"
    )
    assert _found(fixed, "preprocessing-mismatch") == []
    flipped = VIDEO.replace("tf.expand_dims(img, 0)", "tf.expand_dims(img[..., ::-1], 0)")
    assert _found(flipped, "preprocessing-mismatch") == []


HUE_JITTER = """\
import cv2
import numpy as np
from tensorflow import keras
def jitter(img):
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = (hsv[..., 0] + np.random.randint(-8, 8)) % 180
    return {back}
x_train = np.stack([jitter(np.asarray(keras.utils.load_img(p))) for p in paths])
model.fit(x_train, y_train, epochs=5)
img = np.asarray(keras.utils.load_img("query.png"))
print(model.predict(img[None]))
"""


def test_a_colour_space_round_trip_is_an_augmentation_not_a_conversion():
    # hue jitter that converts back to RGB: training pixels are RGB like the query's
    assert (
        _found(
            HUE_JITTER.format(back="cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)"),
            "train-eval-preprocessing-mismatch",
        )
        == []
    )
    # the same code without the way back trains on HSV and predicts on RGB
    (f,) = _found(HUE_JITTER.format(back="hsv"), "train-eval-preprocessing-mismatch")
    assert f.code == "GL318" and "HSV" in f.title


def test_a_loader_switch_converts_the_arrays_named_for_training():
    src = """\
from tensorflow import keras
import numpy as np
tr_images, tr_labels, va_images, va_labels = datasets.load_split("crops/", to_lab=True)
clf = keras.models.load_model("crops.keras")
x = np.asarray(keras.utils.load_img("one.jpg", target_size=(96, 96))) / 255.0
print(clf.predict(x[None]))
"""
    (f,) = _found(src, "train-eval-preprocessing-mismatch")
    assert f.severity == "warning" and "LAB" in f.title
    # the same switch on the prediction side: both are LAB
    same = src.replace(
        'x = np.asarray(keras.utils.load_img("one.jpg", target_size=(96, 96))) / 255.0',
        'x = datasets.load_one("one.jpg", to_lab=True)',
    )
    assert _found(same, "train-eval-preprocessing-mismatch") == []


def test_without_training_shown_the_converting_cell_is_taken_as_the_training_data():
    src = """\
from tensorflow import keras
import numpy as np
a, b, c, d = datasets.load_split("crops/", to_lab=True)
clf = keras.models.load_model("crops.keras")
x = np.asarray(keras.utils.load_img("one.jpg", target_size=(96, 96))) / 255.0
print(clf.predict(x[None]))
"""
    (f,) = _found(src, "train-eval-preprocessing-mismatch")
    assert "no training is shown" in f.explanation
    # a fit on RGB arrays is shown: an HSV copy made for something else is not training data
    shown = src.replace(
        "clf = keras.models.load_model",
        "rgb = np.stack([np.asarray(keras.utils.load_img(p)) for p in paths]) / 255.0\n"
        "clf.fit(rgb, labels)\nclf2 = keras.models.load_model",
    )
    assert _found(shown, "train-eval-preprocessing-mismatch") == []


TORCH_LAB = """\
import cv2
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
class Tiles(Dataset):
    def __init__(self, files, ys, tf):
        self.files, self.ys, self.tf = files, ys, tf
    def __len__(self):
        return len(self.files)
    def __getitem__(self, k):
        arr = cv2.cvtColor(cv2.imread(self.files[k]), cv2.COLOR_BGR2YCrCb)
{extra}        return self.tf(arr), self.ys[k]
for xb, yb in DataLoader(Tiles(files, ys, tf), batch_size=16, shuffle=True):
    err = crit(net(xb), yb)
    err.backward()
    opt.step()
net.eval()
one = tf(Image.open("tile.png").convert("RGB")).unsqueeze(0)
print(net(one).argmax(1))
"""


def test_a_dataset_that_converts_what_the_training_loop_reads():
    (f,) = _found(TORCH_LAB.format(extra=""), "train-eval-preprocessing-mismatch")
    assert f.code == "GL318" and "YCrCb" in f.title and "Dataset Tiles" in f.explanation
    # converted back to RGB in the same __getitem__: the model trains on RGB
    back = "        arr = cv2.cvtColor(arr, cv2.COLOR_YCrCb2RGB)\n"
    assert _found(TORCH_LAB.format(extra=back), "train-eval-preprocessing-mismatch") == []


TORCH_FRAMES = """\
import cv2
import torch

def {reader}(path):
    cap = cv2.VideoCapture(path)
    ok, frame = cap.read()
    return frame

def classify(model, tf):
    cap = cv2.VideoCapture(0)
    ok, frame = cap.read()
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    return model(tf(rgb).unsqueeze(0)).argmax(1)
"""


def test_a_training_reader_that_keeps_bgr_against_inference_converted_to_rgb():
    (f,) = _found(
        TORCH_FRAMES.format(reader="load_train_clip"), "train-eval-preprocessing-mismatch"
    )
    assert f.code == "GL309" and "load_train_clip" in f.title
    assert "post.py:6:" in f.evidence and "post.py:12:" in f.evidence
    # a reader nothing names for training (a preview, a thumbnail) says nothing about training
    assert not _found(TORCH_FRAMES.format(reader="preview"), "train-eval-preprocessing-mismatch")


def test_a_network_known_by_its_use_whatever_its_name():
    # `v(x)` is the model's forward pass: load_state_dict/eval are only asked of a network
    src = (
        TORCH_FRAMES.format(reader="load_train_clip")
        .replace("def classify(model, tf):", "def classify(v, tf):\n    v.eval()")
        .replace("return model(", "return v(")
    )
    (f,) = _found(src, "train-eval-preprocessing-mismatch")
    assert f.code == "GL309"
    # the same call on a value nothing uses as a network is not an inference
    plain = src.replace("    v.eval()\n", "")
    assert not _found(plain, "train-eval-preprocessing-mismatch")
