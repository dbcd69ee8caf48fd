"""The artifact: the head that was trained is the head that is loaded, with its preprocessing."""

import json

import pytest
import timm
import torch

from graftlab.artifacts import FORMAT_VERSION, load_artifact, load_weights, save_artifact
from graftlab.data.transforms import Preprocess
from graftlab.errors import ArtifactError
from graftlab.finetune.task import Task


@pytest.fixture
def model():
    torch.manual_seed(0)
    m = timm.create_model("test_efficientnet", pretrained=False, num_classes=3).eval()
    m.graftlab_name = "test_efficientnet"
    m.graftlab_weights = {"source": "random", "path": None, "sha256": None}
    return m


def _save(model, path, task=None):
    task = task or Task("multiclass", 3)
    pre = Preprocess.from_model(model, image_size=32)
    return save_artifact(path, model, task=task, classes=["a", "b", "c"], preprocess=pre)


def test_round_trip_restores_weights_head_classes_and_preprocessing(model, tmp_path):
    # BatchNorm running statistics are part of the model: make them non-default.
    model.train()
    with torch.no_grad():
        model(torch.randn(4, 3, 32, 32))
    model.eval()
    _save(model, tmp_path / "model", Task("multilabel", 3))
    art = load_artifact(tmp_path / "model")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(art.model(x), model(x))
    assert art.classes == ["a", "b", "c"]
    assert art.task == Task("multilabel", 3)
    assert art.preprocess == Preprocess.from_model(model, image_size=32)
    meta = json.loads((tmp_path / "model" / "graftlab.json").read_text())
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["head"] == {
        "type": "linear",
        "in_features": model.num_features,
        "out_features": 3,
        "activation": "sigmoid",
    }
    assert meta["preprocessing"]["channel_order"] == "RGB"
    assert meta["preprocessing"]["input_size"] == 32
    assert meta["weights"] == {"source": "random", "sha256": None}


def test_a_run_directory_loads_its_model(model, tmp_path):
    _save(model, tmp_path / "run" / "model")
    assert load_artifact(tmp_path / "run").path == tmp_path / "run" / "model"


def test_newer_format_version_is_refused_with_upgrade_hint(model, tmp_path):
    path = _save(model, tmp_path / "model")
    meta = json.loads((path / "graftlab.json").read_text())
    meta["format_version"] = FORMAT_VERSION + 1
    (path / "graftlab.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=f"format_version {FORMAT_VERSION + 1}.*Upgrade"):
        load_artifact(path)


def test_missing_format_version_is_refused(model, tmp_path):
    path = _save(model, tmp_path / "model")
    meta = json.loads((path / "graftlab.json").read_text())
    del meta["format_version"]
    (path / "graftlab.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="format_version"):
        load_artifact(path)


def test_weights_that_do_not_fit_the_head_are_refused(model, tmp_path):
    path = _save(model, tmp_path / "model")
    meta = json.loads((path / "graftlab.json").read_text())
    meta["head"]["out_features"] = 5  # the head that was trained is not this head
    (path / "graftlab.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="does not match"):
        load_artifact(path)


def test_a_classifier_that_does_not_match_the_task_is_not_saved(model, tmp_path):
    with pytest.raises(ArtifactError, match="reset_classifier\\(4\\)"):
        _save(model, tmp_path / "model", Task("multiclass", 4))


def test_a_directory_without_a_model_is_named(tmp_path):
    with pytest.raises(ArtifactError, match="neither a graftlab model directory"):
        load_artifact(tmp_path)
    with pytest.raises(ArtifactError, match="No such"):
        load_artifact(tmp_path / "nope")


@pytest.mark.parametrize("kind", ["graftlab-best", "graftlab-epoch", "graftlab-train-state"])
def test_a_runs_weights_file_loads_into_its_model(model, tmp_path, kind):
    other = timm.create_model("test_efficientnet", pretrained=False, num_classes=3)
    torch.save({"format": kind, "model": other.state_dict(), "epoch": 2}, tmp_path / "w.pt")
    assert load_weights(model, tmp_path / "w.pt") == {"format": kind, "epoch": 2}
    for key, value in other.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_weights_files_that_are_not_a_runs_are_refused(model, tmp_path):
    torch.save({"format": "something", "model": model.state_dict()}, tmp_path / "other.pt")
    with pytest.raises(ArtifactError, match="not a graftlab weights file"):
        load_weights(model, tmp_path / "other.pt")
    wide = timm.create_model("test_efficientnet", pretrained=False, num_classes=5)
    torch.save({"format": "graftlab-epoch", "model": wide.state_dict()}, tmp_path / "wide.pt")
    with pytest.raises(ArtifactError, match="does not fit this model"):
        load_weights(model, tmp_path / "wide.pt")
    with pytest.raises(ArtifactError, match="Cannot read the weights file"):
        load_weights(model, tmp_path / "epoch-9.pt")
    (tmp_path / "text.pt").write_text("not a torch file")
    with pytest.raises(ArtifactError, match="Cannot read the weights file"):
        load_weights(model, tmp_path / "text.pt")
