"""Fragments pasted without their imports: the conventional aliases and the one backbone say
what the bare names are."""

from __future__ import annotations

from graftlab.doctor.script import check_script


def _found(src: str, category: str) -> list:
    return [
        f
        for f in check_script(src, filename="post.py")
        if f.category == category and f.severity in ("error", "warning")
    ]


def test_bare_F_is_torch_functional_in_a_fragment_without_imports():
    src = """\
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(512, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


net = Net()
opt = optim.Adam(net.parameters(), lr=1e-3)
for x, y in loader:
    loss = F.binary_cross_entropy_with_logits(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
"""
    assert _found(src, "activation-loss-mismatch")
    # a script that binds F itself is read as written
    assert not _found("F = my_losses\n" + src, "activation-loss-mismatch")


def test_a_bare_preprocess_input_belongs_to_the_one_backbone_built():
    src = """\
datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
train = datagen.flow_from_directory("data/train", target_size=(224, 224))
base = MobileNetV2(weights="imagenet", include_top=False, input_shape=(224, 224, 3))
x = GlobalAveragePooling2D()(base.output)
model = Model(base.input, Dense(3, activation="softmax")(x))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(train, epochs=5)

img = np.array(Image.open("cat.jpg").resize((224, 224))) / 255.0
print(model.predict(img[None]))
"""
    found = _found(src, "train-eval-preprocessing-mismatch")
    assert found, "predict() on x / 255 after training on MobileNetV2's preprocess_input"


NET_PY = """\
def make(n_out):
    m = Sequential()
    m.add(Dense(64, activation='relu', input_dim=20))
    m.add(Dense(n_out, activation='softmax'))
    return m
"""
FIT_PY = """\
N_OUT = 1


def run(x, y):
    clf = net.make(N_OUT)
    clf.compile(loss='binary_crossentropy', optimizer='sgd', metrics=['accuracy'])
    clf.fit(x, y, epochs=3)
"""


def _pasted(tmp_path, files: dict[str, str], category: str) -> list:
    paths = []
    for name, text in files.items():
        (tmp_path / name).write_text(text)
        paths.append(tmp_path / name)
    return [
        f
        for f in check_script(paths)
        if f.category == category and f.severity in ("error", "warning")
    ]


def test_a_function_of_another_pasted_file_is_followed_without_its_import(tmp_path):
    # net.py and fit.py pasted together, imports left out: `net.make(...)` runs net.py's make
    # with N_OUT = 1 output unit
    files = {"net.py": NET_PY, "fit.py": FIT_PY}
    (f,) = _pasted(tmp_path, files, "single-unit-softmax")
    assert f.code == "GL102"
    # the same call on an object the code binds is that object's method, not the file's
    bound = {"net.py": NET_PY, "fit.py": FIT_PY.replace("def run(x, y):", "def run(x, y, net):")}
    assert not _pasted(tmp_path, bound, "single-unit-softmax")
    # nor is a name that no file of the paste is called
    other = {"model.py": NET_PY, "fit.py": FIT_PY}
    assert not _pasted(tmp_path, other, "single-unit-softmax")


KERAS_FRAGMENT = """\
train_ds = image_dataset_from_directory('data', label_mode='categorical', image_size=(160, 160))
base = MobileNetV2(weights='imagenet', include_top=False, input_shape=(160, 160, 3))
base.trainable = False
inp = layers.Input(shape=(160, 160, 3))
x = layers.Rescaling({scale})(inp)
x = base(x, training=False)
x = layers.GlobalAveragePooling2D()(x)
out = layers.Dense(3, activation='softmax')(x)
clf = models.Model(inp, out)
clf.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
clf.fit(train_ds, epochs=5)
"""


def test_keras_submodules_without_imports_are_keras():
    # layers.* and models.Model read as keras.layers / keras.models: the functional model
    # is found, and its Rescaling(1/255) against MobileNetV2's [-1, 1] convention
    (f,) = _found(KERAS_FRAGMENT.format(scale="1. / 255"), "preprocessing-mismatch")
    assert f.code == "GL110" and "'unit'" in f.title
    assert not _found(
        KERAS_FRAGMENT.format(scale="1. / 127.5, offset=-1"), "preprocessing-mismatch"
    )


def test_models_is_torchvision_for_a_network_constructor():
    src = """\
class Transfer(LightningModule):
    def __init__(self):
        super().__init__()
        self.backbone = models.resnet50(pretrained=True)
        self.head = nn.Linear({width}, 10)

    def forward(self, x):
        return self.head(self.backbone(x))
"""
    (f,) = _found(src.format(width=2048), "head-mismatch")
    assert f.code == "GL207"
    assert not _found(src.format(width=1000), "head-mismatch")


def test_a_keras_application_module_without_its_import():
    src = """\
ds = image_dataset_from_directory('imagenet/val', label_mode='categorical', image_size=(224, 224))
ds = ds.map(lambda x, y: (resnet50.preprocess_input(x), y))
net = resnet50.ResNet50(weights='imagenet')
net.compile(loss='categorical_crossentropy', metrics=['accuracy'])
net.evaluate(ds)
"""
    (f,) = _found(src, "preprocessing-mismatch")
    assert f.code == "GL241"
    kept = src.replace(
        "image_size=(224, 224))", "image_size=(224, 224), crop_to_aspect_ratio=True)"
    )
    assert not _found(kept, "preprocessing-mismatch")


def test_tf_in_a_fragment_means_tensorflow_keras():
    # without imports, `tf.keras` says Keras comes with TensorFlow 2, whose frozen BatchNorm
    # runs in inference mode: no note about Keras 2's batch statistics
    src = """\
base = tf.keras.applications.ResNet50(weights='imagenet', include_top=False)
base.trainable = False
clf = Sequential([base, GlobalAveragePooling2D(), Dense(5, activation='softmax')])
clf.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
clf.fit(train_gen, epochs=5)
"""
    assert not [f for f in _found(src, "batchnorm") if "Keras 2" in f.title]
    assert [f for f in _found(src.replace("tf.keras.applications.", ""), "batchnorm")]


def test_hugging_face_classes_without_imports_are_read_by_their_use():
    src = """\
cfg = RobertaConfig.from_pretrained('roberta-base', num_labels=4)
clf = {ctor}
opt = AdamW(clf.parameters(), lr=2e-5)
for ids, y in loader:
    out = clf(ids, labels=y)
    out.loss.backward()
    opt.step()
"""
    (f,) = _found(src.format(ctor="RobertaForSequenceClassification(cfg)"), "other")
    assert f.code == "GL238"
    loaded = "RobertaForSequenceClassification.from_pretrained('roberta-base', config=cfg)"
    assert not _found(src.format(ctor=loaded), "other")


def test_a_bare_summary_with_one_images_shape_is_torchsummary():
    src = """\
net = models.densenet121(pretrained=True).cuda()
summary(net, {size})
validate(val_loader, net)
"""
    (f,) = _found(src.format(size="(3, 224, 224)"), "batchnorm")
    assert f.code == "GL240"
    # torchinfo's summary takes the batch too and runs in eval mode
    assert not _found(src.format(size="(1, 3, 224, 224)"), "batchnorm")
