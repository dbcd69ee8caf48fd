"""Severity states certainty (issue 11, item 3): rules that used to say ``error`` where a
correct reading of the code exists. Each pair is written from the general shape: the correct
reading gets no error, the bug keeps its finding."""

from __future__ import annotations

from graftlab.doctor.script import check_script

SAME_FOLDER = """\
from keras.applications.resnet50 import ResNet50, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model

FOLDER = 'images/train'
datagen = ImageDataGenerator(preprocessing_function=preprocess_input)
fit_stream = datagen.flow_from_directory(FOLDER, target_size=(224, 224))
again = datagen.flow_from_directory(FOLDER, target_size=(224, 224), shuffle=False)
base = ResNet50(weights='imagenet', include_top=False)
out = Dense(4, activation='softmax')(GlobalAveragePooling2D()(base.output))
net = Model(base.input, out)
net.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
net.fit(fit_stream, epochs=2)
print(net.evaluate(again))
"""


def _leaks(source: str):
    return [f for f in check_script(source) if f.category == "data-leakage"]


def test_evaluating_knowingly_on_the_training_folder_is_a_question_not_an_error():
    # the folder is named for training and the evaluated stream's name claims nothing: a
    # fit-versus-evaluate check on seen images, as people run to rule out overfitting
    (f,) = _leaks(SAME_FOLDER)
    assert f.code == "GL302" and f.severity == "info"
    assert f.title.endswith("?")


def test_a_test_stream_named_as_held_out_that_reads_the_training_folder_is_an_error():
    named = SAME_FOLDER.replace("again", "test_generator")
    (f,) = _leaks(named)
    assert f.code == "GL302" and f.severity == "error"


def test_an_unnamed_stream_over_an_unnamed_folder_is_a_warning():
    plain = SAME_FOLDER.replace("'images/train'", "'images'")
    (f,) = _leaks(plain)
    assert f.code == "GL302" and f.severity == "warning"


RANKER = """\
import torch
import torch.nn as nn
import torch.nn.functional as F


class Ranker(nn.Module):
    def __init__(self, dim, n_candidates):
        super().__init__()
        self.n = n_candidates
        self.encode = nn.Linear(dim, dim)
        self.score = nn.Linear(dim, 1)

    def forward(self, x):
        h = torch.tanh(self.encode(x))
        s = self.score(h).view(-1, self.n)
        return F.softmax(s, dim=1)


net = Ranker(64, 4)
criterion = nn.CrossEntropyLoss()
opt = torch.optim.Adam(net.parameters())
for x, y in loader:
    loss = criterion(net(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
"""


def test_one_score_per_candidate_regrouped_before_softmax_is_not_a_single_unit_softmax():
    findings = check_script(RANKER)
    assert not [f for f in findings if f.code == "GL202"], findings
    # the softmax before CrossEntropyLoss is still a double softmax
    assert [f for f in findings if f.code == "GL201"]


def test_softmax_over_the_one_unit_output_itself_is_an_error():
    direct = RANKER.replace(
        "s = self.score(h).view(-1, self.n)\n        return F.softmax(s, dim=1)",
        "s = self.score(h)\n        return F.softmax(s, dim=1)",
    )
    (f,) = [f for f in check_script(direct) if f.code == "GL202"]
    assert f.severity == "error"


def test_a_softmax_whose_input_is_not_traced_to_the_one_unit_layer_is_a_warning():
    untraced = RANKER.replace(
        "s = self.score(h).view(-1, self.n)\n        return F.softmax(s, dim=1)",
        "s = self.pool(self.score(h))\n        return F.softmax(s, dim=1)",
    )
    (f,) = [f for f in check_script(untraced) if f.code == "GL202"]
    assert f.severity == "warning" and "Inferred" in f.explanation


UNDONE_SCALE = """\
from keras.applications.vgg16 import VGG16, preprocess_input
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense, GlobalAveragePooling2D
from keras.models import Model


def to_model_input(batch):
    batch = batch / 255.0  # kept in [0, 1] for plotting elsewhere
    return preprocess_input(batch * 255.0)


gen = ImageDataGenerator(preprocessing_function=to_model_input)
stream = gen.flow_from_directory('parts/train', target_size=(224, 224))
base = VGG16(weights='imagenet', include_top=False, input_shape=(224, 224, 3))
net = Model(base.input, Dense(6, activation='softmax')(GlobalAveragePooling2D()(base.output)))
net.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
net.fit(stream, epochs=2)
"""


def _pixel_errors(source: str):
    return [
        f
        for f in check_script(source)
        if f.category == "preprocessing-mismatch" and f.severity == "error"
    ]


def test_a_scale_undone_before_preprocess_input_is_not_two_scalings():
    assert not _pixel_errors(UNDONE_SCALE)


def test_preprocess_input_on_images_left_in_unit_range_is_still_two_scalings():
    kept = UNDONE_SCALE.replace("preprocess_input(batch * 255.0)", "preprocess_input(batch)")
    (f,) = _pixel_errors(kept)
    assert f.code == "GL110" and "two scalings" in f.title
