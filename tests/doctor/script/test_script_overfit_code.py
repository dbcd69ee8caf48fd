"""GL313: a long run with no augmentation, regulariser or early stopping (a warning)."""

from __future__ import annotations

from graftlab.doctor.script import check_script

KERAS = """\
from tensorflow import keras
(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
EPOCHS = {epochs}
model = keras.applications.ResNet50(weights=None, input_shape=(32, 32, 3), classes=10)
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
{extra}
model.fit(x_train / 255.0, y_train, epochs=EPOCHS, validation_data=(x_test / 255.0, y_test){cb})
"""

TORCH = """\
import torch, torchvision
model = torchvision.models.resnet50(pretrained=True)
model.fc = torch.nn.Linear(2048, 5)
opt = torch.optim.{opt}
for epoch in range({epochs}):
    for x, y in loader:
        opt.zero_grad()
        loss = crit(model(x), y)
        loss.backward()
        opt.step()
"""


def _of(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL313"]


def test_long_unguarded_runs_are_warned():
    (f,) = _of(KERAS.format(epochs=200, extra="", cb=""))
    assert f.severity == "warning" and f.category == "overfitting"
    assert _of(TORCH.format(opt="Adam(model.parameters(), lr=1e-4)", epochs=300))


def test_augmentation_early_stopping_or_a_short_run_is_silent():
    flip = "aug = keras.Sequential([keras.layers.RandomFlip('horizontal')])"
    idg = "gen = keras.preprocessing.image.ImageDataGenerator(horizontal_flip=True)"
    for extra in (flip, idg):
        assert _of(KERAS.format(epochs=200, extra=extra, cb="")) == [], extra
    es = ", callbacks=[keras.callbacks.EarlyStopping(patience=5)]"
    assert _of(KERAS.format(epochs=200, extra="", cb=es)) == []
    assert _of(KERAS.format(epochs=20, extra="", cb="")) == []


def test_regularisers_alone_do_not_replace_augmentation():
    drop = "x = keras.layers.Dropout(0.5)(model.output)"
    (f,) = _of(KERAS.format(epochs=200, extra=drop, cb=""))
    assert "no Dropout" not in f.explanation
    (g,) = _of(KERAS.format(epochs=200, extra="", cb=""))
    assert "no Dropout" in g.explanation
    wd = "AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)"
    assert _of(TORCH.format(opt=wd, epochs=80))
    flip = "Adam(model.parameters())\ntf = torchvision.transforms.RandomHorizontalFlip()"
    assert _of(TORCH.format(opt=flip, epochs=80)) == []


def test_top_model_on_cached_features_is_silent():
    src = """\
import numpy as np
from tensorflow import keras
train_data = np.load("bottleneck_features_train.npy")
top = keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
top.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
top.fit(train_data, train_labels, epochs=50, batch_size=16)
"""
    assert _of(src) == []
    assert _of(src.replace('np.load("bottleneck_features_train.npy")', "x_train / 255.0"))


def test_epoch_loops_over_xrange_and_trange():
    for rng in ("xrange", "trange"):
        src = TORCH.format(opt="Adam(model.parameters())", epochs=100).replace(
            "range(100)", f"{rng}(100)"
        )
        assert _of(src), rng


SMALL = """\
from keras.applications import VGG16
from keras.layers import Dense, Flatten
from keras.models import Model
from keras.preprocessing.image import ImageDataGenerator
nb_train_samples = 400
epochs = 30
base = VGG16(weights="imagenet", include_top=False, input_shape=(150, 150, 3))
model = Model(base.input, Dense(2, activation="softmax")(Flatten()(base.output)))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
gen = ImageDataGenerator(rescale=1.0 / 255).flow_from_directory("data/train", batch_size=16)
model.fit(gen, steps_per_epoch=nb_train_samples // 16, epochs=epochs)
"""


def test_full_fine_tuning_on_a_small_stated_set_is_long_from_twenty_epochs():
    (f,) = _of(SMALL)
    assert "30 epochs" in f.title and "400 images" in f.title
    assert "post.py:5:" in f.evidence and "post.py:11:" in f.evidence
    frozen = SMALL.replace("model = Model(", "base.trainable = False\nmodel = Model(")
    assert _of(frozen) == []  # only the head learns: 30 epochs are not long
    assert _of(SMALL.replace("nb_train_samples = 400", "nb_train_samples = 20000")) == []
    assert _of(SMALL.replace('weights="imagenet"', "weights=None")) == []
    steps = SMALL.replace("steps_per_epoch=nb_train_samples // 16", "steps_per_epoch=25")
    (g,) = _of(steps.replace("nb_train_samples = 400\n", ""))
    assert "400 images" in g.title  # 25 steps of 16
    flip = SMALL.replace("rescale=1.0 / 255)", "rescale=1.0 / 255, horizontal_flip=True)")
    assert _of(flip) == []
