"""``graftlab data``: the summary as a table or JSON, and one error line for user mistakes."""

from __future__ import annotations

import json

import pytest
from _kit import make_class_tree

import graftlab.cli.main as cli_main


@pytest.fixture
def run(cli):
    """The shared runner: ``(exit code, stdout, stderr)`` through graftlab's entry point."""
    return cli


@pytest.fixture
def tree(tmp_path):
    make_class_tree(tmp_path, {"cat": 10, "dog": 10})
    (tmp_path / "dog" / "broken.jpg").write_text("not an image")
    return tmp_path


def test_data_is_registered_on_the_real_app():
    assert cli_main.load_command("data").name == "data"


def test_prints_a_table_per_class_and_split(run, tree):
    code, out, err = run("data", str(tree), "--seed", "1")
    assert code == 0
    assert "cat" in out and "dog" in out
    assert "train" in out and "val" in out and "test" in out
    assert "broken.jpg" in out  # skipped files are listed in the summary
    assert "imbalance" in out
    assert "Warning" not in err  # the skipped file is in the summary, not a raw Python warning


def test_json_output_is_machine_readable(run, tree):
    code, out, _ = run("data", str(tree), "--json", "--val-fraction", "0.2", "--test-fraction", "0")
    assert code == 0
    summary = json.loads(out)
    assert summary["classes"] == ["cat", "dog"]
    assert summary["split_sizes"] == {"train": 16, "val": 4, "test": 0}
    assert summary["skipped"][0]["path"].endswith("broken.jpg")


def test_strict_turns_a_bad_file_into_one_error_line(run, tree):
    code, _, err = run("data", str(tree), "--strict")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("graftlab: error:")
    assert "broken.jpg" in lines[0] and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("data", "/no/such/folder"), "does not exist"),
        (("data", "{tree}", "--val-fraction", "1.5"), "val_fraction"),
    ],
)
def test_mistakes_give_one_line_and_exit_code_2(run, tree, args, match):
    code, _, err = run(*(a.format(tree=tree) for a in args))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and match in err


def test_a_semicolon_csv_is_named_once(run, tree):
    # "Did you mean 'path;label'?" was printed twice, and is not what is wrong.
    (tree / "labels.csv").write_text("path;label\ncat/0.png;cat\ndog/0.png;dog\n")
    code, _, err = run("data", tree / "labels.csv")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "semicolon-separated" in err and err.count("Did you mean") == 0


def test_paths_outside_the_csv_folder_suggest_this_commands_option(run, tree):
    (tree / "sub").mkdir()
    (tree / "sub" / "labels.csv").write_text(
        "path,label\n../cat/000.png,cat\n../cat/001.png,cat\n../dog/000.png,dog\n../dog/001.png,dog\n"
    )
    code, _, err = run("data", tree / "sub" / "labels.csv")
    assert code == 2 and "--allow-outside" in err and "allow_outside=True" in err
    code, _, err = run("data", tree / "sub" / "labels.csv", "--allow-outside", "--json")
    assert code == 0, err


def test_help_shows_a_copy_paste_example(run):
    code, out, _ = run("data", "--help")
    assert code == 0
    assert "graftlab data ./flowers" in out
