"""Severity states certainty (issue 11, item 3): ``error`` when the evidence is complete,
``warning`` when a link was inferred or the code allows a correct reading."""

from __future__ import annotations

from graftlab.doctor.script import check_script

KERAS_FIT = """\
from keras.applications.resnet50 import ResNet50
from keras.preprocessing.image import ImageDataGenerator
from keras.layers import Dense
from keras.models import Model
base = ResNet50(weights='imagenet', include_top=False, pooling='avg')
model = Model(base.input, Dense(2, activation='softmax')(base.output))
model.compile('adam', 'categorical_crossentropy', metrics=['accuracy'])
datagen = ImageDataGenerator()
train_generator = datagen.flow_from_directory('data/train', target_size=(224, 224))
{extra}model.fit(train_generator, epochs=5, validation_data=train_generator)
"""


def _leak(source: str):
    return [f for f in check_script(source) if f.code == "GL116"]


def test_validating_on_training_data_is_an_error_when_held_out_data_is_left_unused():
    extra = "val_generator = datagen.flow_from_directory('data/val', target_size=(224, 224))\n"
    (leak,) = _leak(KERAS_FIT.format(extra=extra))
    assert leak.severity == "error"
    assert "val_generator" in leak.evidence


def test_validating_on_training_data_with_no_held_out_data_is_a_warning():
    # a script with one data source may validate on it on purpose (comparing training-mode and
    # inference-mode numbers on the same images)
    (leak,) = _leak(KERAS_FIT.format(extra=""))
    assert leak.severity == "warning"
    assert "deliberate" in leak.explanation


FORWARD_FRAGMENT = """\
    def forward(self, x):
        x = self.classifier(self.features(x).flatten(1))
        return F.softmax(x, dim=1)

criterion = nn.CrossEntropyLoss()
for data, target in train_loader:
    loss = criterion(model(data), target)
    loss.backward()
"""


def test_a_forward_pasted_without_its_class_is_read_as_an_inferred_link():
    (f,) = [f for f in check_script(FORWARD_FRAGMENT) if f.category == "double-softmax"]
    assert f.severity == "warning"
    assert "Inferred" in f.explanation
