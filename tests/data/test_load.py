"""load_dataset on bad input: bad files, strict mode, too few classes, splits that disagree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _kit import make_class_tree, save_image
from PIL import Image

from graftlab.data import DataWarning, load_dataset
from graftlab.errors import ConfigError, DataError


def _add_bad_files(root):
    """A truncated JPEG and a text file named .jpg inside the class folders."""
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(root / "cat/t.jpg")
    data = (root / "cat/t.jpg").read_bytes()
    (root / "cat/t.jpg").write_bytes(data[: len(data) // 2])
    (root / "dog/fake.jpg").write_text("hello, I am not a JPEG")


def test_bad_files_are_skipped_with_a_warning_listing_them(class_tree):
    root = class_tree({"cat": 4, "dog": 4})
    _add_bad_files(root)

    with pytest.warns(DataWarning) as caught:
        ds = load_dataset(root, progress=False)

    message = str(caught[0].message)
    assert "t.jpg" in message and "fake.jpg" in message
    assert [p for p, _ in ds.skipped] == [str(root / "cat/t.jpg"), str(root / "dog/fake.jpg")]
    assert "truncated" in ds.skipped[0][1] and "not an image" in ds.skipped[1][1]
    assert len(ds) == 8 and not any(p.endswith(("t.jpg", "fake.jpg")) for p in ds.paths())


def test_strict_mode_refuses_bad_files_naming_them(class_tree):
    root = class_tree({"cat": 4, "dog": 4})
    _add_bad_files(root)
    with pytest.raises(DataError, match=r"2 file\(s\).*t\.jpg.*fake\.jpg"):
        load_dataset(root, strict=True, progress=False)


def test_strict_mode_accepts_clean_data(class_tree):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # clean data: no warning at all
        ds = load_dataset(class_tree({"cat": 3, "dog": 3}), strict=True, progress=False)
    assert ds.skipped == []


def test_unusual_but_valid_files_are_kept(class_tree):
    root = class_tree({"cat": 2, "dog": 2})
    Image.new("CMYK", (6, 6), (0, 255, 255, 0)).save(root / "cat/cmyk.jpg")
    Image.fromarray(np.full((6, 6), 40000, dtype=np.uint16)).save(root / "dog/deep.png")
    p = Image.new("P", (6, 6), 0)
    p.save(root / "dog/pal.png", transparency=0)

    ds = load_dataset(root, strict=True, progress=False)

    assert len(ds) == 7
    assert ds.summary()["modes"] == {"CMYK": 1, "I;16": 1, "P": 1, "RGB": 4}


def test_hashes_are_sha256_of_the_file_bytes(class_tree):
    import hashlib

    ds = load_dataset(class_tree({"cat": 2, "dog": 2}), progress=False)
    for path, digest in zip(ds.paths(), ds.hashes(), strict=True):
        with open(path, "rb") as fh:
            assert digest == hashlib.sha256(fh.read()).hexdigest()


def test_only_undecodable_files_is_an_error(tmp_path):
    for name in ("a/x.jpg", "b/y.jpg"):
        (tmp_path / name).parent.mkdir(parents=True)
        (tmp_path / name).write_text("text")
    with pytest.raises(DataError, match="None of the 2 image file"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        load_dataset(tmp_path, progress=False)


def test_one_class_only_is_a_clear_error(class_tree):
    root = class_tree({"cat": 3})
    with pytest.raises(DataError, match=r"Need at least 2 classes.*found 1 \('cat'\)") as err:
        load_dataset(root, progress=False)
    assert f"If {root / 'cat'} holds the class folders" in str(err.value)


def test_empty_class_folder_does_not_count_as_a_class(class_tree):
    root = class_tree({"cat": 3})
    (root / "dog").mkdir()
    with pytest.raises(DataError, match="found 1"):
        load_dataset(root, progress=False)


@pytest.mark.parametrize(
    ("setup", "match"),
    [
        (lambda p: p / "nowhere", "does not exist"),
        (lambda p: p, "No images found"),
        (lambda p: save_image(p / "one.png"), "is a file but not a .csv"),
    ],
)
def test_unusable_paths(tmp_path, setup, match):
    with pytest.raises(DataError, match=match) as err:
        load_dataset(setup(tmp_path), progress=False)
    assert str(tmp_path) in str(err.value)


def test_folder_with_only_non_images_says_what_it_ignored(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat" / "a.txt").write_text("x")
    with pytest.raises(DataError, match="ignored: 1 non image, 1 empty class folders"):
        load_dataset(tmp_path, progress=False)


def test_class_missing_in_val_is_an_error_naming_class_and_split(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 3, "dog": 3, "owl": 3})
    make_class_tree(tmp_path / "val", {"cat": 1, "dog": 1})
    with pytest.raises(DataError, match=r"'owl'.*none in val/"):
        load_dataset(tmp_path, progress=False)


def test_class_only_in_val_or_test_is_an_error(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 3, "dog": 3})
    make_class_tree(tmp_path / "test", {"cat": 1, "dog": 1, "emu": 1})
    with pytest.raises(DataError, match=r"'emu' appear in test/.*not in train/"):
        load_dataset(tmp_path, progress=False)


def test_class_missing_in_test_is_only_a_warning(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 3, "dog": 3, "owl": 3})
    make_class_tree(tmp_path / "test", {"cat": 1, "dog": 1})

    with pytest.warns(DataWarning, match=r"'owl'.*none in test/"):
        ds = load_dataset(tmp_path, val_fraction=0, progress=False)

    assert ds.classes == ["cat", "dog", "owl"]
    assert len(ds.paths("test")) == 2


def test_csv_splits_are_checked_the_same_way(tmp_path):
    for i in range(4):
        save_image(tmp_path / f"{i}.png")
    (tmp_path / "l.csv").write_text(
        "path,label,split\n0.png,a,train\n1.png,b,train\n2.png,a,val\n3.png,a,test\n"
    )
    with pytest.raises(DataError, match=r"'b'.*none in val"):
        load_dataset(tmp_path / "l.csv", progress=False)


def test_bad_fraction_is_a_config_error(class_tree):
    with pytest.raises(ConfigError, match="val_fraction"):
        load_dataset(class_tree({"a": 2, "b": 2}), val_fraction=1.5, progress=False)


def test_progress_bar_only_for_many_files(tmp_path, capsys):
    make_class_tree(tmp_path / "few", {"a": 2, "b": 2})
    load_dataset(tmp_path / "few", progress=True)
    assert "Checking images" not in capsys.readouterr().err

    make_class_tree(tmp_path / "many", {"a": 100, "b": 100})
    load_dataset(tmp_path / "many", progress=True)
    assert "Checking images" in capsys.readouterr().err
    load_dataset(tmp_path / "many", progress=False)
    assert "Checking images" not in capsys.readouterr().err
