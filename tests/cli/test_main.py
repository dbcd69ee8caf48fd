"""The ``graftlab`` entry point: fast start, lazy commands, one line per mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import graftlab.cli.main as cli_main

SRC = str(Path(cli_main.__file__).resolve().parents[2])

# Runs the real entry point in a fresh interpreter and reports which heavy modules it loaded.
_PROBE = """
import json, sys
from graftlab.cli.main import run
code = 0
try:
    run(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "timm", "torchvision", "sklearn") if m in sys.modules)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _probe(*argv: str, cwd: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": SRC, "GRAFTLAB_CACHE": str(cwd / "cache")}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *argv], capture_output=True, text=True, env=env, cwd=cwd
    )
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [
        ("--help",),
        ("doctor", "script.py"),
        ("data", "--help"),
        ("cache", "info"),
        ("evaluate", "--help"),
        ("train", "--help"),
    ],
)
def test_commands_that_need_no_model_do_not_import_torch_or_timm(tmp_path, argv):
    (tmp_path / "script.py").write_text("import os\nprint(os.getcwd())\n")
    result = _probe(*argv, cwd=tmp_path)
    assert result["heavy"] == [], f"graftlab {' '.join(argv)} imported {result['heavy']}"
    assert result["code"] in (0, None)


def test_help_lists_the_commands_in_a_fresh_interpreter(tmp_path):
    # Its speed comes from importing neither torch nor timm (the test above); a wall-clock
    # bound here failed on a loaded machine (1.52 s) and belongs in a benchmark.
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run(
        [sys.executable, "-m", "graftlab", "--help"], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0 and "evaluate" in proc.stdout


def test_the_help_table_matches_each_commands_own_help():
    for name, (_, line) in cli_main.COMMANDS.items():
        command = cli_main.load_command(name)
        first = (command.help or "").split("\n\n")[0]
        assert first == line, f"COMMANDS[{name!r}] differs from the command's help: {first!r}"


def test_unknown_command_is_one_line_with_the_nearest_name(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main.run(["evalute"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and "evaluate" in err and "Traceback" not in err


def test_train_does_not_import_sklearn_for_a_single_label_run():
    # scikit-learn (with scipy and pandas) cost about 1 s of every run's start-up for three
    # numbers that numpy computes the same way; the training path must not bring it back.
    code = (
        "import sys, graftlab.train, graftlab.cli.train_cmd\n"
        "import numpy as np\n"
        "from graftlab.finetune.task import Task\n"
        "Task('multiclass', 3).metrics(np.eye(3), np.arange(3))\n"
        "print(sorted(m for m in ('sklearn', 'scipy', 'pandas') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert proc.stdout.strip() == "[]"
