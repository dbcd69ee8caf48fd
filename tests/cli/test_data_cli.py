"""``graftlab data``: the summary as a table or JSON, and one error line for user mistakes."""

from __future__ import annotations

import json

import pytest
import typer
from PIL import Image

import graftlab.cli.main as cli_main
from graftlab.cli import data_cmd


@pytest.fixture
def run(monkeypatch, capsys):
    """Call ``graftlab.cli.main.run`` (its error handling included) on an app holding ``data``.

    The app gets a callback so ``data`` stays a sub-command however many other commands are
    registered; returns ``(exit code, stdout, stderr)``.
    """
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    data_cmd.register(app)
    monkeypatch.setattr(cli_main, "app", app)

    def invoke(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exit_info:
            cli_main.run(list(argv))
            raise SystemExit(0)
        out = capsys.readouterr()
        return exit_info.value.code, out.out, out.err

    return invoke


@pytest.fixture
def tree(tmp_path):
    for k, colour in (("cat", (200, 0, 0)), ("dog", (0, 200, 0))):
        (tmp_path / k).mkdir()
        for i in range(10):
            Image.new("RGB", (8, 6), colour).save(tmp_path / k / f"{i}.png")
    (tmp_path / "dog" / "broken.jpg").write_text("not an image")
    return tmp_path


def test_data_is_registered_on_the_real_app():
    assert "data" in [c.name for c in cli_main.app.registered_commands]


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


def test_help_shows_a_copy_paste_example(run):
    code, out, _ = run("data", "--help")
    assert code == 0
    assert "graftlab data ./flowers" in out
