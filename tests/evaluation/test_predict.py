"""predict(): files, folders and globs; unreadable files reported, the rest predicted."""

import json

import numpy as np
import pytest
import torch

from graftlab.artifacts.artifact import load_artifact
from graftlab.errors import ConfigError
from graftlab.evaluation import expand_inputs, predict, write_predictions


def test_a_corrupt_image_is_reported_and_the_others_predicted(tiny_run, tmp_path):
    good = sorted((tiny_run.parent / "data" / "test" / "cat").glob("*.png"))
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    rows = predict(tiny_run, [good[0], bad, good[1], empty, tmp_path / "missing.png"], top_k=2)
    by_path = {r["path"]: r for r in rows}
    assert len(rows) == 5
    assert by_path[str(good[0])]["error"] is None
    assert by_path[str(good[1])]["prediction"] in ("cat", "dog", "fox")
    assert "corrupt" in by_path[str(bad)]["error"] or "not an image" in by_path[str(bad)]["error"]
    assert "empty" in by_path[str(empty)]["error"]
    assert by_path[str(tmp_path / "missing.png")]["error"] == "file not found"
    assert by_path[str(bad)]["prediction"] is None

    write_predictions(rows, tmp_path / "p.csv")
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == (
        "path,prediction,probability,top1_class,top1_prob,top2_class,top2_prob,error"
    )
    assert any(
        line.startswith(str(bad)) and line.endswith(by_path[str(bad)]["error"]) for line in lines
    )


def test_probabilities_are_those_of_the_artifacts_own_preprocessing(tiny_run):
    path = sorted((tiny_run.parent / "data" / "test" / "fox").glob("*.png"))[0]
    row = predict(tiny_run, [path], top_k=3)[0]
    art = load_artifact(tiny_run)
    with torch.no_grad():
        x = art.preprocess.eval_batch(torch.from_numpy(art.preprocess.load(path)[None]))
        expected = art.model(x).softmax(1)[0].numpy()
    got = {t["class"]: t["probability"] for t in row["top_k"]}
    assert [got[c] for c in art.classes] == pytest.approx(expected.tolist(), abs=1e-6)
    assert row["prediction"] == art.classes[int(expected.argmax())]
    assert [t["probability"] for t in row["top_k"]] == sorted(got.values(), reverse=True)


def test_folders_are_searched_recursively_and_globs_expanded(tiny_run, tmp_path):
    data = tiny_run.parent / "data"
    (tmp_path / ".hidden.png").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    paths, missing = expand_inputs(
        [data / "test", str(data / "val" / "*" / "0.png"), tmp_path, str(tmp_path / "*.gif")]
    )
    assert len(paths) == 15 + 3
    assert all(p.endswith(".png") for p in paths)
    assert missing == {
        str(tmp_path): "folder holds no image files",
        str(tmp_path / "*.gif"): "no file matches this pattern",
    }
    assert paths == list(dict.fromkeys(paths))
    again, _ = expand_inputs([data / "test", data / "test" / "cat" / "0.png"])
    assert len(again) == 15  # duplicates dropped


def test_json_output_and_top_k_bounds(tiny_run, tmp_path):
    rows = predict(tiny_run, [tiny_run.parent / "data" / "val"], top_k=10, batch_size=4)
    assert len(rows) == 9
    assert all(len(r["top_k"]) == 3 for r in rows)  # at most the number of classes
    assert all(abs(sum(t["probability"] for t in r["top_k"]) - 1) < 1e-5 for r in rows)
    write_predictions(rows, tmp_path / "p.json")
    assert json.loads((tmp_path / "p.json").read_text()) == rows
    with pytest.raises(ConfigError, match="top_k"):
        predict(tiny_run, [tmp_path], top_k=0)


def test_batching_does_not_change_the_probabilities(tiny_run):
    folder = [tiny_run.parent / "data" / "test"]
    one = predict(tiny_run, folder, top_k=3, batch_size=1)
    many = predict(tiny_run, folder, top_k=3, batch_size=32)
    a = np.array([[t["probability"] for t in r["top_k"]] for r in one])
    b = np.array([[t["probability"] for t in r["top_k"]] for r in many])
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_predict_reproduces_graftlab_load_under_the_stored_execution(tmp_path, precision):
    from _kit import CLASSES, make_artifact, make_image_tree

    import graftlab
    from graftlab.evaluation._inference import as_artifact, predict_files

    data = make_image_tree(tmp_path / "data", {"test": 3})
    model_dir = make_artifact(tmp_path / "model")
    meta_path = model_dir / "graftlab.json"
    meta = json.loads(meta_path.read_text())
    meta["execution"] = {"device": "cpu", "precision": precision, "channels_last": True}
    meta_path.write_text(json.dumps(meta))
    paths = sorted(str(p) for p in data.rglob("*.png"))

    clf = graftlab.load(model_dir)
    expected = clf.predict_proba(paths)
    got = predict_files(as_artifact(model_dir), paths).probs
    np.testing.assert_array_equal(got, expected)
    # An ImageClassifier is accepted as it is, with its execution.
    rows = predict(clf, paths, top_k=len(CLASSES))
    assert [r["prediction"] for r in rows] == [CLASSES[i] for i in expected.argmax(1)]
    fp32 = predict_files(as_artifact(model_dir), paths, execution=_fp32()).probs
    if precision == "bf16":
        assert not np.array_equal(fp32, expected)  # the stored execution was really used
    else:  # channels_last changes the summation order only
        np.testing.assert_allclose(fp32, expected, atol=1e-6)


def _fp32():
    from graftlab.hardware import Execution

    return Execution("cpu", "fp32", False)
