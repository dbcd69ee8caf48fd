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
