"""Dataset: subsets, labels, the manifest round trip and the summary."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _kit import save_image
from PIL import Image

from graftlab.data import Dataset, Record, load_dataset
from graftlab.errors import ConfigError, DataError


def test_subset_keeps_class_order_and_only_that_split(class_tree):
    ds = load_dataset(class_tree({"cat": 10, "dog": 10, "owl": 10}), progress=False)
    val = ds.subset("val")
    assert val.classes == ds.classes and val.task == ds.task
    assert {r.split for r in val.records} == {"val"}
    assert val.paths() == ds.paths("val")
    assert np.array_equal(val.labels(), ds.labels("val"))
    assert val.labels().dtype == np.int64


def test_unknown_split_name_suggests_the_right_one(class_tree):
    ds = load_dataset(class_tree({"a": 2, "b": 2}), progress=False)
    with pytest.raises(ConfigError, match="Did you mean 'val'"):
        ds.paths("valid")


def test_manifest_round_trip_repeats_the_dataset_exactly(class_tree, tmp_path):
    ds = load_dataset(class_tree({"cat": 6, "dog": 7, "owl": 5}), seed=3, progress=False)
    path = tmp_path / "run" / "manifest.csv"

    ds.save_manifest(path)
    back = Dataset.load_manifest(path, verify=True)

    assert (tmp_path / "run" / "classes.json").exists()
    assert back.records == ds.records
    assert back.classes == ds.classes and back.task == ds.task
    assert back.source == ds.source and back.ignored == ds.ignored
    assert path.read_text().splitlines()[0] == "path,label,split,sha256"
    assert not list(path.parent.glob(".*.tmp"))  # atomic writes leave no temp files


def test_multilabel_manifest_round_trip(tmp_path):
    for n in "abc":
        save_image(tmp_path / f"{n}.png")
    (tmp_path / "l.csv").write_text('path,label\na.png,"x|y"\nb.png,y\nc.png,"z;x"\n')
    ds = load_dataset(tmp_path / "l.csv", val_fraction=0, test_fraction=0, progress=False)

    ds.save_manifest(tmp_path / "out" / "m.csv")
    back = Dataset.load_manifest(tmp_path / "out" / "m.csv")

    assert back.task == "multilabel" and back.records == ds.records
    assert np.array_equal(back.labels(), ds.labels())


def test_manifest_verify_detects_a_changed_file(class_tree, tmp_path):
    ds = load_dataset(class_tree({"cat": 2, "dog": 2}), progress=False)
    ds.save_manifest(tmp_path / "m.csv")
    Image.new("RGB", (3, 3), (1, 2, 3)).save(ds.paths()[0])

    Dataset.load_manifest(tmp_path / "m.csv")  # without verify the hashes are trusted
    with pytest.raises(DataError, match="missing or changed"):
        Dataset.load_manifest(tmp_path / "m.csv", verify=True)


def test_manifest_without_classes_json_is_an_error(class_tree, tmp_path):
    ds = load_dataset(class_tree({"cat": 2, "dog": 2}), progress=False)
    ds.save_manifest(tmp_path / "m.csv")
    (tmp_path / "classes.json").unlink()
    with pytest.raises(DataError, match=r"classes\.json"):
        Dataset.load_manifest(tmp_path / "m.csv")


def test_manifest_with_a_label_not_in_classes_is_an_error(class_tree, tmp_path):
    ds = load_dataset(class_tree({"cat": 2, "dog": 2}), progress=False)
    ds.save_manifest(tmp_path / "m.csv")
    (tmp_path / "classes.json").write_text(json.dumps({"classes": ["cat", "emu"]}))
    with pytest.raises(DataError, match="label not in"):
        Dataset.load_manifest(tmp_path / "m.csv")


def test_summary_reports_counts_sizes_modes_skipped_and_imbalance(tmp_path):
    for i in range(8):
        save_image(tmp_path / "big" / f"{i}.png", size=(10 + i, 20))
    (tmp_path / "small").mkdir()
    for i in range(2):
        Image.new("L", (5, 30 + i)).save(tmp_path / "small" / f"{i}.png")
    (tmp_path / "small" / "bad.png").write_text("nope")

    with pytest.warns(UserWarning):
        s = load_dataset(tmp_path, val_fraction=0.25, test_fraction=0, progress=False).summary()

    assert s["counts"]["big"] == {"train": 6, "val": 2, "test": 0, "total": 8}
    assert s["counts"]["small"] == {"train": 1, "val": 1, "test": 0, "total": 2}  # 0.5 rounds up
    assert s["split_sizes"] == {"train": 7, "val": 3, "test": 0}
    assert s["image_size"] == {"min_width": 5, "max_width": 17, "min_height": 20, "max_height": 31}
    assert s["modes"] == {"L": 2, "RGB": 8}
    assert [d["path"] for d in s["skipped"]] == [str(tmp_path / "small/bad.png")]
    assert s["imbalance_ratio"] == 6.0
    json.dumps(s)  # the CLI prints it as JSON


def test_dataset_built_by_hand_works_without_image_info():
    ds = Dataset(
        records=[Record("/a.png", 0, "train", "h1"), Record("/b.png", 1, "val", "h2")],
        classes=["x", "y"],
        task="binary",
    )
    s = ds.summary()
    assert s["image_size"] is None and s["modes"] == {}
    assert s["imbalance_ratio"] is None  # 'y' has no training image
    assert ds.splits == ["train", "val"]
