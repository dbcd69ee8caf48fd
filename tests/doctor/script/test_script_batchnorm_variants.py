"""BatchNorm in training mode where it should not be, written the ways people write it: each
shape with its correct twin, which must stay silent. PyTorch: a freeze undone by train()
(GL243), one image per training step (GL228); Keras: a pretrained base fine-tuned with its
BatchNorm layers in training mode (GL122 / GL128)."""

from __future__ import annotations

import pytest
from _torch_setup import TORCH_SETUP

from graftlab.doctor.script import check_script

KERAS_SETUP = """\
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
train_ds = keras.utils.image_dataset_from_directory("data/train", image_size=(224, 224))
val_ds = keras.utils.image_dataset_from_directory("data/val", image_size=(224, 224))
base = keras.applications.ResNet50(weights="imagenet", include_top=False)
LOSS = "sparse_categorical_crossentropy"
base.trainable = False
"""

#: name -> (bug, its correct twin); None where a shape has only one side.
TORCH = {
    # BatchNorm layers put in eval() once before the loop, model.train() every epoch
    "t1": (
        """\
for m in model.modules():
    if isinstance(m, nn.BatchNorm2d):
        m.eval()
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
        """\
for epoch in range(10):
    model.train()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
    ),
    # the same through model.apply(lambda m: ...)
    "t2": (
        """\
model.apply(lambda m: m.eval() if isinstance(m, nn.BatchNorm2d) else None)
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
        """\
for epoch in range(10):
    model.train()
    model.apply(lambda m: m.eval() if isinstance(m, nn.BatchNorm2d) else None)
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
    ),
    # the frozen backbone (a part of the model) put in eval() once, model.train() every epoch
    "t3": (
        """\
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(2048, 5)
opt = torch.optim.SGD(model.fc.parameters(), lr=1e-3, momentum=0.9)
backbone = nn.Sequential(*list(model.children())[:-1])
backbone.eval()
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
        """\
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(2048, 5)
opt = torch.optim.SGD(model.fc.parameters(), lr=1e-3, momentum=0.9)
backbone = nn.Sequential(*list(model.children())[:-1])
for epoch in range(10):
    model.train()
    backbone.eval()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
    ),
    # a freeze_bn() helper picking layers by name, called once
    "t4": (
        """\
def freeze_bn(net):
    for name, mod in net.named_modules():
        if "bn" in name or "downsample.1" in name:
            mod.train(False)
freeze_bn(model)
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
        """\
def freeze_bn(net):
    for name, mod in net.named_modules():
        if "bn" in name or "downsample.1" in name:
            mod.train(False)
for epoch in range(10):
    model.train()
    freeze_bn(model)
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
    ),
    # apply(set_bn_eval) once, train() inside a train_epoch(net, loader) helper
    "t5": (
        """\
def set_bn_eval(m):
    if type(m) in (nn.BatchNorm1d, nn.BatchNorm2d):
        m.eval()
def train_epoch(net, loader):
    net.train()
    for x, y in loader:
        opt.zero_grad(); loss = crit(net(x), y); loss.backward(); opt.step()
model.apply(set_bn_eval)
for epoch in range(10):
    train_epoch(model, train_loader)
""",
        """\
def set_bn_eval(m):
    if type(m) in (nn.BatchNorm1d, nn.BatchNorm2d):
        m.eval()
def train_epoch(net, loader):
    net.train()
    net.apply(set_bn_eval)
    for x, y in loader:
        opt.zero_grad(); loss = crit(net(x), y); loss.backward(); opt.step()
for epoch in range(10):
    train_epoch(model, train_loader)
""",
    ),
    # a training DataLoader with batch_size=1
    "t6": (
        """\
loader1 = DataLoader(train_ds, batch_size=1, shuffle=True)
for epoch in range(10):
    model.train()
    for x, y in loader1:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
        """\
loader1 = DataLoader(train_ds, batch_size=16, shuffle=True)
for epoch in range(10):
    model.train()
    for x, y in loader1:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
    ),
    # batch_size=1 from a constant, passed positionally
    "t7": (
        """\
BATCH = 1
loader1 = DataLoader(train_ds, BATCH, shuffle=True)
for epoch in range(10):
    model.train()
    for x, y in loader1:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
        """\
BATCH = 32
loader1 = DataLoader(train_ds, BATCH, shuffle=True)
for epoch in range(10):
    model.train()
    for x, y in loader1:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
""",
    ),
    # the training loop over the dataset itself, one unsqueezed image per step
    "t8": (
        """\
for epoch in range(10):
    model.train()
    for img, label in train_ds:
        opt.zero_grad()
        loss = crit(model(img.unsqueeze(0)), torch.tensor([label]))
        loss.backward(); opt.step()
""",
        """\
for epoch in range(10):
    model.train()
    for img, label in train_loader:
        opt.zero_grad()
        loss = crit(model(img), label)
        loss.backward(); opt.step()
""",
    ),
    # the same with indexing and img[None]
    "t9": (
        """\
for epoch in range(10):
    model.train()
    for i in range(len(train_ds)):
        img, label = train_ds[i]
        x = img[None].to("cuda")
        opt.zero_grad()
        loss = crit(model(x), torch.tensor([label]))
        loss.backward(); opt.step()
""",
        """\
for epoch in range(10):
    model.train()
    for i in range(0, len(train_ds), 16):
        imgs, labels = zip(*[train_ds[j] for j in range(i, min(i + 16, len(train_ds)))])
        x = torch.stack(imgs)
        opt.zero_grad()
        loss = crit(model(x), torch.tensor(labels))
        loss.backward(); opt.step()
model.eval()
with torch.no_grad():
    p = model(val_ds[0][0].unsqueeze(0))
""",
    ),
    # a correct script
    "t10": (
        None,
        """\
sample = val_ds[0][0]
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        opt.zero_grad(); loss = crit(model(x), y); loss.backward(); opt.step()
    print(model(sample.unsqueeze(0)).argmax(1))
""",
    ),
    # a correct script
    "t11": (
        None,
        """\
for p in model.parameters():
    p.requires_grad = False
backbone = nn.Sequential(*list(model.children())[:-1])
backbone.eval()
head = nn.Linear(2048, 5)
opt = torch.optim.Adam(head.parameters(), lr=1e-3)
for epoch in range(10):
    head.train()
    for x, y in train_loader:
        with torch.no_grad():
            feats = backbone(x).flatten(1)
        opt.zero_grad(); loss = crit(head(feats), y); loss.backward(); opt.step()
""",
    ),
}

KERAS = {
    # tf.keras base called without training=False, then unfrozen
    "k1": (
        """\
inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.resnet50.preprocess_input(inputs)
x = base(x)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        """\
inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.resnet50.preprocess_input(inputs)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
    ),
    # the base called with training=True
    "k2": (
        """\
inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.resnet50.preprocess_input(inputs)
x = base(x, training=True)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
base.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        None,
    ),
    # the top layers of the base unfrozen in a slice loop
    "k3": (
        """\
inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.resnet50.preprocess_input(inputs)
x = base(x)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
for layer in base.layers[-30:]:
    layer.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        """\
inputs = keras.Input(shape=(224, 224, 3))
x = keras.applications.resnet50.preprocess_input(inputs)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
for layer in base.layers[-30:]:
    layer.trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
    ),
    # a Sequential model, unfrozen through model.layers[0]
    "k4": (
        """\
model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(5)])
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
model.layers[0].trainable = True
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        """\
model = keras.Sequential([base, layers.GlobalAveragePooling2D(), layers.Dense(5)])
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
model.layers[0].trainable = True
for layer in model.layers[0].layers:
    if isinstance(layer, layers.BatchNormalization):
        layer.trainable = False
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
    ),
    # the model built in a function, unfrozen from an index on (the keras guide shape)
    "k5": (
        """\
def build(n_classes):
    inputs = keras.Input(shape=(224, 224, 3))
    x = base(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax")(x))
model = build(5)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
base.trainable = True
for layer in base.layers[:140]:
    layer.trainable = False
model.compile(optimizer=keras.optimizers.RMSprop(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        """\
def build(n_classes):
    inputs = keras.Input(shape=(224, 224, 3))
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(n_classes, activation="softmax")(x))
model = build(5)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
base.trainable = True
for layer in base.layers[:140]:
    layer.trainable = False
model.compile(optimizer=keras.optimizers.RMSprop(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
    ),
    # a model built on base.input / base.output, its top layers unfrozen
    "k6": (
        """\
x = layers.GlobalAveragePooling2D()(base.output)
out = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs=base.input, outputs=out)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
for layer in model.layers[150:]:
    layer.trainable = True
model.compile(optimizer=keras.optimizers.SGD(1e-4, momentum=0.9), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        """\
x = layers.GlobalAveragePooling2D()(base.output)
out = layers.Dense(5, activation="softmax")(x)
model = keras.Model(inputs=base.input, outputs=out)
model.compile(optimizer="adam", loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
for layer in model.layers[150:]:
    if not isinstance(layer, layers.BatchNormalization):
        layer.trainable = True
model.compile(optimizer=keras.optimizers.SGD(1e-4, momentum=0.9), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
    ),
    # the base trainable from the start, called without training=False
    "k7": (
        """\
base.trainable = True
inputs = keras.Input(shape=(224, 224, 3))
x = base(inputs)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(5, activation="softmax")(x))
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
        """\
base.trainable = True
inputs = keras.Input(shape=(224, 224, 3))
x = base(inputs, training=False)
x = layers.GlobalAveragePooling2D()(x)
model = keras.Model(inputs, layers.Dense(5, activation="softmax")(x))
model.compile(optimizer=keras.optimizers.Adam(1e-5), loss=LOSS, metrics=["accuracy"])
model.fit(train_ds, validation_data=val_ds, epochs=5)
""",
    ),
}


def _bn(src: str) -> set[str]:
    return {
        f.code
        for f in check_script(src, filename="post.py")
        if f.category == "batchnorm" and f.severity in ("error", "warning")
    }


CASES = [(TORCH_SETUP, k, *v) for k, v in TORCH.items()] + [
    (KERAS_SETUP, k, *v) for k, v in KERAS.items()
]


@pytest.mark.parametrize(
    ("setup", "bug"), [pytest.param(c[0], c[2], id=c[1]) for c in CASES if c[2]]
)
def test_batchnorm_in_training_mode_is_found(setup, bug):
    assert _bn(setup + bug)


@pytest.mark.parametrize(
    ("setup", "fixed"), [pytest.param(c[0], c[3], id=c[1]) for c in CASES if c[3]]
)
def test_the_correct_twin_stays_silent(setup, fixed):
    assert not _bn(setup + fixed)
