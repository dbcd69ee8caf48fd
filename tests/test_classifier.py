"""ImageClassifier: fit, predict any kind of image, evaluate, save and load exactly."""

import numpy as np
import pytest
from PIL import Image

import graftlab
from graftlab.classifier import ImageClassifier
from graftlab.errors import ConfigError, DataError

TINY = {
    "weights": "none",
    "image_size": 32,
    "epochs": 1,
    "batch_size": 8,
    "precision": "fp32",
    "channels_last": False,
}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes")
    rng = np.random.default_rng(1)
    for k, name in enumerate(["dark", "light"]):
        (root / name).mkdir()
        for i in range(12):
            a = (rng.integers(0, 60, (18, 18, 3)) + 150 * k).astype(np.uint8)
            Image.fromarray(a).save(root / name / f"{i}.png")
    return root


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    clf = ImageClassifier("test_efficientnet", strategy="lp-ft", **TINY)
    return clf.fit(data, run_dir=tmp_path_factory.mktemp("run"), progress=False, report=False)


def test_config_is_stored_unchanged_and_fit_returns_self(data, fitted):
    clf = ImageClassifier("test_efficientnet", strategy="lp", **TINY)
    assert clf.config == TINY and not hasattr(clf, "model_")
    assert fitted.classes_ == ["dark", "light"] and fitted.task_.kind == "binary"
    assert fitted.summary_["selected"] in ("probe", "finetune")
    assert (fitted.run_dir_ / "model" / "graftlab.json").is_file()


def test_predict_accepts_paths_pil_and_arrays_alike(data, fitted):
    path = str(next((data / "light").iterdir()))
    pil = Image.open(path)
    arr = np.asarray(pil.convert("RGB"))
    probs = fitted.predict_proba([path, pil, arr, arr[:, :, 0]])
    assert probs.shape == (4, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    np.testing.assert_array_equal(probs[0], probs[1])
    np.testing.assert_array_equal(probs[1], probs[2])
    assert fitted.predict(path) == [fitted.classes_[probs[0].argmax()]]


def test_evaluate_returns_the_task_metrics(data, fitted):
    metrics = fitted.evaluate(data)
    assert metrics["num_images"] == 24
    assert {"accuracy", "balanced_accuracy", "macro_f1"} <= set(metrics)
    assert metrics["accuracy"] > 0.5  # dark vs light is easy


def test_evaluate_matches_classes_by_name_not_position(fitted, tmp_path):
    # A folder with only the "light" class: its index 0 must be mapped to the model's 1.
    (tmp_path / "light").mkdir()
    Image.fromarray(np.full((18, 18, 3), 200, np.uint8)).save(tmp_path / "light" / "a.png")
    Image.fromarray(np.full((18, 18, 3), 190, np.uint8)).save(tmp_path / "light" / "b.png")
    (tmp_path / "dark").mkdir()
    Image.fromarray(np.full((18, 18, 3), 10, np.uint8)).save(tmp_path / "dark" / "a.png")
    y = fitted._labels_in_model_order(
        graftlab.load_dataset(tmp_path, val_fraction=0, test_fraction=0, progress=False)
    )
    assert sorted(y.tolist()) == [0, 1, 1]
    (tmp_path / "cat").mkdir()
    Image.fromarray(np.zeros((18, 18, 3), np.uint8)).save(tmp_path / "cat" / "a.png")
    with pytest.raises(DataError, match="classes the model does not know: cat"):
        fitted.evaluate(tmp_path)


def test_save_and_load_reproduce_predictions_exactly(data, fitted, tmp_path):
    paths = [str(p) for p in sorted((data / "dark").iterdir())[:5]]
    before = fitted.predict_proba(paths)
    fitted.save(tmp_path / "saved")
    for source in (tmp_path / "saved", fitted.run_dir_):
        loaded = graftlab.load(source)
        assert loaded.classes_ == fitted.classes_
        np.testing.assert_array_equal(loaded.predict_proba(paths), before)
    # The run's own predictions file holds the same numbers as the loaded model.
    val = np.load(fitted.run_dir_ / "predictions" / "val.npz")
    loaded = graftlab.load(fitted.run_dir_)
    np.testing.assert_array_equal(loaded.predict_proba(list(val["paths"])), val["probs"])
    # An image's prediction does not depend on what else is predicted with it (up to the last
    # bit: oneDNN's fp32 kernels, chosen for this tiny model, differ between batch sizes).
    one = loaded.predict_proba(str(val["paths"][1]))
    np.testing.assert_allclose(one[0], val["probs"][1], rtol=1e-6, atol=1e-7)


def test_mistakes_are_clear(data):
    with pytest.raises(ConfigError, match="not fitted"):
        ImageClassifier().predict("x.png")
    with pytest.raises(ConfigError, match="Did you mean 'epochs'"):
        ImageClassifier("test_efficientnet", epoch=3).fit(data)


def test_bad_image_inputs_are_named(fitted):
    with pytest.raises(DataError, match="uint8"):
        fitted.predict_proba(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(DataError, match="dict"):
        fitted.predict_proba([{}])
