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


def test_any_counter_measure_or_a_short_run_is_silent():
    flip = "aug = keras.Sequential([keras.layers.RandomFlip('horizontal')])"
    idg = "gen = keras.preprocessing.image.ImageDataGenerator(horizontal_flip=True)"
    drop = "x = keras.layers.Dropout(0.5)(model.output)"
    for extra in (flip, idg, drop):
        assert _of(KERAS.format(epochs=200, extra=extra, cb="")) == [], extra
    es = ", callbacks=[keras.callbacks.EarlyStopping(patience=5)]"
    assert _of(KERAS.format(epochs=200, extra="", cb=es)) == []
    best = ", callbacks=[keras.callbacks.ModelCheckpoint('m.h5', save_best_only=True)]"
    assert _of(KERAS.format(epochs=200, extra="", cb=best)) == []
    assert _of(KERAS.format(epochs=20, extra="", cb="")) == []
    wd = "Adam(model.parameters(), lr=1e-4, weight_decay=1e-4)"
    assert _of(TORCH.format(opt=wd, epochs=300)) == []
    assert _of(TORCH.format(opt="AdamW(model.parameters())", epochs=300)) == []
