"""Run directories, graftlab's and other tools': where each keeps its per-epoch history.

- graftlab: ``findings.json`` and ``results.csv``.
- Lightning's ``CSVLogger``: ``<save_dir>/<name>/version_N/metrics.csv``, whose header always
  holds ``epoch`` and ``step`` (``hparams.yaml`` beside it only when hyperparameters were saved).
- The Hugging Face ``Trainer``: ``trainer_state.json`` (its ``log_history``: the dicts the
  Trainer prints) in the output directory after ``save_state()``, and in each
  ``checkpoint-N`` folder.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from graftlab.errors import ArtifactError

#: A trainer_state.json larger than this is not read (a history of ~100,000 log entries).
MAX_STATE_BYTES = 16_000_000


def run_kind(path: Path) -> str | None:
    """``graftlab``, ``lightning``, ``hf-trainer`` or None when ``path`` is no run directory."""
    if not path.is_dir():
        return None
    if (path / "findings.json").is_file() or (path / "results.csv").is_file():
        return "graftlab"
    if lightning_metrics(path) is not None:
        return "lightning"
    if trainer_state_file(path) is not None:
        return "hf-trainer"
    return None


def lightning_metrics(path: Path) -> Path | None:
    """The run's CSVLogger file, or None."""
    metrics = path / "metrics.csv"
    if not metrics.is_file():
        return None
    try:
        with metrics.open("r", encoding="utf-8", errors="replace") as fh:
            header = fh.readline(4096)
    except OSError:
        return None
    columns = {c.strip() for c in header.split(",")}
    return metrics if {"epoch", "step"} <= columns else None


def trainer_state_file(path: Path) -> Path | None:
    """The run's ``trainer_state.json``: the output directory's, else the newest checkpoint's."""
    if (path / "trainer_state.json").is_file():
        return path / "trainer_state.json"
    checkpoints = []
    for sub in path.glob("checkpoint-*"):
        if (m := re.fullmatch(r"checkpoint-(\d+)", sub.name)) and (
            sub / "trainer_state.json"
        ).is_file():
            checkpoints.append((int(m[1]), sub / "trainer_state.json"))
    return max(checkpoints)[1] if checkpoints else None


def trainer_history(state_file: Path) -> str:
    """The ``log_history`` of a ``trainer_state.json`` as the lines the Trainer prints (one dict
    a line, so line N of the evidence is entry N of the history)."""
    if state_file.stat().st_size > MAX_STATE_BYTES:
        raise ArtifactError(
            f"{str(state_file)!r} is larger than {MAX_STATE_BYTES // 1_000_000} MB; pass the "
            "printed log of the run instead."
        )
    try:
        state = json.loads(state_file.read_text("utf-8", errors="replace"))
    except ValueError as exc:
        raise ArtifactError(f"{str(state_file)!r} is not valid JSON: {exc}.") from None
    text = log_history_text(state)
    if text is None:
        raise ArtifactError(f"{str(state_file)!r} has no log_history: nothing was logged.")
    return text


def log_history_text(state: object) -> str | None:
    """A trainer state's ``log_history`` as the lines the Trainer prints, or None without one."""
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list) or not history:
        return None
    return "".join(f"{entry!r}\n" for entry in history if isinstance(entry, dict))


def pasted_trainer_state(text: str) -> str | None:
    """The ``log_history`` lines of a ``trainer_state.json`` pasted or passed as a log file."""
    head = text.lstrip()[:4096]
    if not head.startswith("{") or '"log_history"' not in text:
        return None
    try:
        return log_history_text(json.loads(text))
    except (ValueError, RecursionError):
        return None
