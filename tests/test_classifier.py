"""ImageClassifier: fit, predict any kind of image, evaluate, save and load exactly."""

import numpy as np
import pytest
from _kit import make_image_tree
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
    """Two colour classes of 12 images each, no split folders: the run makes its splits."""
    return make_image_tree(tmp_path_factory.mktemp("shapes"), {"": 12}, classes=("dark", "light"))


@pytest.fixture(scope="module")
def fitted(data, tmp_path_factory):
    clf = ImageClassifier("test_efficientnet", strategy="lp-ft", **TINY)
    return clf.fit(data, run_dir=tmp_path_factory.mktemp("run"), progress=False, report=False)


def test_config_is_stored_unchanged_and_fit_returns_self(data, fitted):
    clf = ImageClassifier("test_efficientnet", strategy="lp", **TINY)
    assert clf.config == TINY and not hasattr(clf, "model_")
    assert fitted.classes_ == ["dark", "light"] and fitted.task_.kind == "binary"
    assert fitted.summary_["selected"] in ("probe", "finetune", "interpolated")
    assert (fitted.run_dir_ / "model" / "graftlab.json").is_file()


def test_predict_accepts_paths_pil_and_arrays_alike(data, fitted):
    path = str(next((data / "light").iterdir()))
    pil = Image.open(path)
    arr = np.asarray(pil.convert("RGB"))
    probs = fitted.predict_proba([path, pil, arr, arr[:, :, 0]])
    assert probs.shape == (4, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)
    # The same pixels reach the model from a path, a PIL image and an array; their
    # probabilities agree to float rounding (oneDNN may round a batch's rows differently).
    decoded = fitted._decode([path, pil, arr])
    np.testing.assert_array_equal(decoded[0], decoded[1])
    np.testing.assert_array_equal(decoded[1], decoded[2])
    np.testing.assert_allclose(probs[:3], np.repeat(probs[:1], 3, axis=0), atol=1e-6)
    assert fitted.predict(path) == [fitted.classes_[probs[0].argmax()]]


def _test_split_size(run) -> int:
    from graftlab.data import Dataset

    return len(Dataset.load_manifest(run / "manifest.csv").subset("test"))


def test_evaluate_on_its_own_training_folder_scores_only_the_test_split(data, fitted):
    # The README's clf.evaluate("photos/") once scored the training images too.
    n_test = _test_split_size(fitted.run_dir_)
    assert 0 < n_test < 24
    for source in (data, None, fitted.run_dir_):
        metrics = fitted.evaluate(source)
        assert metrics["split"] == "test" and metrics["n"] == metrics["num_images"] == n_test
        assert (
            metrics["scored"].startswith("the test split of")
            and f"{n_test} images" in (metrics["scored"])
        )
    assert {"accuracy", "balanced_accuracy", "macro_f1"} <= set(metrics)
    everything = fitted.evaluate(data, split="all")
    assert everything["n"] == 24 and "optimistic" in everything["scored"]


def test_evaluate_on_other_data_scores_every_image(fitted, tmp_path):
    for name, level, n in (("dark", 20, 2), ("light", 220, 3)):
        (tmp_path / name).mkdir()
        for i in range(n):
            Image.fromarray(np.full((18, 18, 3), level + i, np.uint8)).save(
                tmp_path / name / f"{i}.png"
            )
    metrics = fitted.evaluate(tmp_path)
    assert metrics["split"] == "all" and metrics["n"] == 5
    assert metrics["scored"].startswith("every image of") and "5 images" in metrics["scored"]


def test_evaluate_matches_classes_by_name_not_position(fitted, tmp_path):
    # A folder with only the model's second class: the folder's class 0 is "light", which
    # the model calls 1. Matched by position, its images would count as "dark".
    (tmp_path / "light").mkdir()
    for i, level in enumerate((200, 190, 210)):
        Image.fromarray(np.full((18, 18, 3), level, np.uint8)).save(tmp_path / "light" / f"{i}.png")
    metrics = fitted.evaluate(tmp_path)
    support = {c["class"]: c["support"] for c in metrics["per_class"]}
    assert support == {"dark": 0, "light": 3}
    assert metrics["confusion_matrix"][0] == [0, 0]  # no true "dark" row
    (tmp_path / "cat").mkdir()
    Image.fromarray(np.zeros((18, 18, 3), np.uint8)).save(tmp_path / "cat" / "a.png")
    with pytest.raises(DataError, match="classes the model was not trained on: cat"):
        fitted.evaluate(tmp_path)


def test_save_and_load_reproduce_predictions_exactly(data, fitted, tmp_path):
    paths = [str(p) for p in sorted((data / "dark").iterdir())[:5]]
    before = fitted.predict_proba(paths)
    fitted.save(tmp_path / "saved")
    for source in (tmp_path / "saved", fitted.run_dir_):
        loaded = graftlab.load(source)
        assert loaded.classes_ == fitted.classes_
        np.testing.assert_array_equal(loaded.predict_proba(paths), before)
    # The run's own predictions file holds the same numbers as the loaded model, up to the last
    # bit: training predicted the split in its own batches, and oneDNN picks fp32 kernels per
    # batch shape and per CPU (a CI machine differed by 6e-8). A wrong transform or weight
    # differs by 1e-3 or more.
    val = np.load(fitted.run_dir_ / "predictions" / "val.npz")
    loaded = graftlab.load(fitted.run_dir_)
    np.testing.assert_allclose(
        loaded.predict_proba(list(val["paths"])), val["probs"], rtol=1e-6, atol=1e-7
    )
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
