"""Folder layouts: class per folder, split folders, and what is ignored on purpose."""

from __future__ import annotations

import pytest
from _kit import make_class_tree, save_image

from graftlab.data import load_dataset
from graftlab.data.folders import scan_folder
from graftlab.errors import DataError


def test_class_per_folder_makes_all_three_splits(class_tree):
    root = class_tree({"cat": 10, "dog": 10, "owl": 10})

    ds = load_dataset(root, progress=False)

    assert ds.classes == ["cat", "dog", "owl"]
    assert ds.task == "multiclass"
    assert len(ds) == 30
    assert {s: len(ds.paths(s)) for s in ("train", "val", "test")} == {
        "train": 18,
        "val": 6,
        "test": 6,
    }
    # Labels follow the folder: every cat path has the index of "cat".
    for path, label in zip(ds.paths(), ds.labels(), strict=True):
        assert ds.classes[label] in path


def test_two_classes_is_binary(class_tree):
    assert load_dataset(class_tree({"a": 3, "b": 3}), progress=False).task == "binary"


@pytest.mark.parametrize("val_name", ["val", "valid", "validation"])
def test_split_folders_are_kept_and_test_is_made_from_train(tmp_path, val_name):
    make_class_tree(tmp_path / "train", {"cat": 10, "dog": 10})
    make_class_tree(tmp_path / val_name, {"cat": 2, "dog": 2})

    ds = load_dataset(tmp_path, progress=False)

    val = ds.paths("val")
    assert len(val) == 4 and all(f"/{val_name}/" in p for p in val)
    # No test folder: test comes from train, never from the given val.
    test = ds.paths("test")
    assert len(test) == 4 and all("/train/" in p for p in test)
    assert len(ds.paths("train")) == 16


def test_given_train_val_test_are_used_as_is(tmp_path):
    for split, n in (("train", 5), ("val", 2), ("test", 3)):
        make_class_tree(tmp_path / split, {"cat": n, "dog": n})

    ds = load_dataset(tmp_path, progress=False)

    for split, n in (("train", 5), ("val", 2), ("test", 3)):
        paths = ds.paths(split)
        assert len(paths) == 2 * n and all(f"/{split}/" in p for p in paths)


def test_only_train_folder_makes_val_and_test(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 10, "dog": 10})
    ds = load_dataset(tmp_path, progress=False)
    assert [len(ds.paths(s)) for s in ("train", "val", "test")] == [12, 4, 4]


def test_hidden_non_image_empty_and_loose_files_are_ignored_with_counts(class_tree):
    root = class_tree({"cat": 3, "dog": 3})
    (root / ".DS_Store").write_text("x")
    save_image(root / "cat" / ".hidden.png")
    save_image(root / ".ipynb_checkpoints" / "x.png")
    (root / "cat" / "notes.txt").write_text("x")
    (root / "empty").mkdir()
    save_image(root / "loose.png")
    save_image(root / "dog" / "nested" / "deep.png")  # images in sub-folders keep the class

    ds = load_dataset(root, progress=False)

    assert ds.classes == ["cat", "dog"]
    assert ds.ignored == {"hidden": 3, "non_image": 1, "empty_class_folders": 1, "loose_files": 1}
    assert any(p.endswith("nested/deep.png") for p in ds.paths())
    assert len(ds) == 7


def test_split_folders_mixed_with_class_folders_is_an_error(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 2, "dog": 2})
    save_image(tmp_path / "bird" / "x.png")
    with pytest.raises(DataError, match="mixes split folders"):
        scan_folder(tmp_path)


def test_two_val_folders_is_an_error(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 2, "dog": 2})
    make_class_tree(tmp_path / "val", {"cat": 1, "dog": 1})
    make_class_tree(tmp_path / "valid", {"cat": 1, "dog": 1})
    with pytest.raises(DataError, match="2 folders for the val split"):
        scan_folder(tmp_path)


def test_split_folders_without_train_is_an_error(tmp_path):
    make_class_tree(tmp_path / "val", {"cat": 2, "dog": 2})
    with pytest.raises(DataError, match="no train/ folder"):
        scan_folder(tmp_path)
