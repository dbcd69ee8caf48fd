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
