"""A model built from a pretrained checkpoint's configuration, without its weights (GL238).
Written from the general shape, not from a post."""

from __future__ import annotations

from graftlab.doctor.script import check_script

FROM_CONFIG = """\
import torch
from transformers import AutoConfig, AutoModelForSequenceClassification

config = AutoConfig.from_pretrained("distilroberta-base", num_labels=12)
model = AutoModelForSequenceClassification.from_config(config)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-5)
model.train()
for batch in loader:
    out = model(**batch)
    out.loss.backward()
    optimizer.step()
    optimizer.zero_grad()
"""


def _random(source: str):
    return [f for f in check_script(source) if f.code == "GL238"]


def test_a_model_built_from_a_checkpoints_config_is_reported():
    (f,) = _random(FROM_CONFIG)
    assert f.severity == "warning" and "distilroberta-base" in f.title


def test_the_plain_constructor_is_the_same_shape():
    plain = FROM_CONFIG.replace(
        "AutoModelForSequenceClassification.from_config(config)",
        "RobertaForSequenceClassification(config)",
    ).replace("AutoModelForSequenceClassification", "RobertaForSequenceClassification")
    assert _random(plain)


def test_from_pretrained_with_the_config_loads_the_weights():
    loaded = FROM_CONFIG.replace(
        "AutoModelForSequenceClassification.from_config(config)",
        'AutoModelForSequenceClassification.from_pretrained("distilroberta-base", config=config)',
    )
    assert not _random(loaded)


def test_weights_loaded_into_the_built_model_afterwards_are_used():
    restored = FROM_CONFIG.replace(
        "optimizer = ", 'model.load_state_dict(torch.load("ckpt.pt"))\noptimizer = '
    )
    assert not _random(restored)
