"""CSV datasets: header path,label[,split], multi-label cells, paths that leave the folder."""

from __future__ import annotations

import numpy as np
import pytest
from _kit import save_image

from graftlab.data import load_dataset
from graftlab.errors import DataError


def _write(tmp_path, text: str, name: str = "labels.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def _images(folder, names):
    for n in names:
        save_image(folder / n)


def test_csv_with_relative_paths_and_split_column(tmp_path):
    _images(tmp_path / "img", [f"{i}.png" for i in range(6)])
    rows = ["path,label,split"]
    rows += [f"img/{i}.png,{'cat' if i % 2 else 'dog'},{s}" for i, s in enumerate(["train"] * 4)]
    rows += ["img/4.png,cat,valid", "img/5.png,dog,val"]
    csv = _write(tmp_path, "\n".join(rows) + "\n")

    ds = load_dataset(csv, progress=False)

    assert ds.classes == ["cat", "dog"] and ds.task == "binary"
    assert ds.paths("val") == [str(tmp_path / "img/4.png"), str(tmp_path / "img/5.png")]
    assert ds.labels("val").tolist() == [0, 1]
    assert ds.paths("test") == []  # a split column is the user's decision: nothing is made


def test_csv_without_split_column_is_split_stratified(tmp_path):
    _images(tmp_path, [f"{i}.png" for i in range(20)])
    rows = [f"{i}.png,{'a' if i < 10 else 'b'}" for i in range(20)]
    ds = load_dataset(_write(tmp_path, "path,label\n" + "\n".join(rows)), progress=False)
    assert [len(ds.paths(s)) for s in ("train", "val", "test")] == [12, 4, 4]


@pytest.mark.parametrize("sep", ["|", ";"])
def test_multilabel_csv(tmp_path, sep):
    _images(tmp_path, ["a.png", "b.png", "c.png", "d.png"])
    csv = _write(
        tmp_path,
        f'path,label\na.png,"sky{sep}sea"\nb.png,sea\nc.png,"tree{sep} sky"\nd.png,tree\n',
    )

    ds = load_dataset(csv, val_fraction=0, test_fraction=0, progress=False)

    assert ds.task == "multilabel"
    assert ds.classes == ["sea", "sky", "tree"]
    by_path = {r.path: r.label for r in ds.records}
    assert by_path[str(tmp_path / "a.png")] == (0, 1)
    assert by_path[str(tmp_path / "c.png")] == (1, 2)
    assert by_path[str(tmp_path / "b.png")] == (0,)
    labels = ds.labels()
    assert labels.shape == (4, 3)
    assert labels.sum(axis=1).tolist() == [2, 1, 2, 1]


def test_path_escaping_the_csv_folder_is_refused_unless_allowed(tmp_path):
    save_image(tmp_path / "outside.png")
    inner = tmp_path / "inner"
    _images(inner, ["a.png", "b.png"])
    csv = _write(inner, "path,label\na.png,x\nb.png,y\n../outside.png,y\n")

    # The message must not name a CLI option: `graftlab train` had none (the command that
    # has one, `graftlab data`, adds it; tests/cli/test_data_cli.py).
    with pytest.raises(DataError, match=r"outside the CSV's folder.*allow_outside=True") as info:
        load_dataset(csv, progress=False)
    assert "--allow-outside" not in str(info.value)

    ds = load_dataset(csv, allow_outside=True, val_fraction=0, test_fraction=0, progress=False)
    assert str(tmp_path / "outside.png") in ds.paths()


def test_absolute_path_outside_is_refused(tmp_path):
    save_image(tmp_path / "outside.png")
    _images(tmp_path / "inner", ["a.png"])
    csv = _write(tmp_path / "inner", f"path,label\na.png,x\n{tmp_path / 'outside.png'},y\n")
    with pytest.raises(DataError, match="outside"):
        load_dataset(csv, progress=False)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("file,label\na.png,x\n", r"missing the column\(s\) path"),
        ("path,class\na.png,x\n", r"missing the column\(s\) label"),
        ("", "is empty"),
        ("path,label\n", "no rows"),
        ("path,label\na.png,x\nb.png,\n", "label cell is empty on line 3"),
        ("path,label\n,x\n", "path cell is empty on line 2"),
        ("path,label,split\na.png,x,train\nb.png,y,holdout\n", "not train, val or test"),
        ("path,label\na.png,x\na.png,y\n", "listed more than once"),
    ],
)
def test_bad_csv_gives_one_clear_error_naming_the_file(tmp_path, text, match):
    _images(tmp_path, ["a.png", "b.png"])
    csv = _write(tmp_path, text)
    with pytest.raises(DataError, match=match) as err:
        load_dataset(csv, progress=False)
    assert "labels.csv" in str(err.value)


def test_missing_file_listed_in_csv_is_skipped(tmp_path):
    _images(tmp_path, [f"{i}.png" for i in range(4)])
    csv = _write(tmp_path, "path,label\n0.png,a\n1.png,a\n2.png,b\n3.png,b\ngone.png,b\n")
    with pytest.warns(UserWarning, match="gone.png"):
        ds = load_dataset(csv, progress=False)
    assert ds.skipped == [(str(tmp_path / "gone.png"), "file not found")]
    assert np.bincount(ds.labels()).tolist() == [2, 2]
