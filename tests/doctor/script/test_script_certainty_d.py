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
