"""Read what a run directory holds for the report; every file is optional.

A missing file leaves its field ``None``; an unreadable one also adds a line to ``problems``,
which the report shows instead of failing: a report is most needed for runs that went wrong.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Predictions:
    """One ``predictions/<split>.npz``: probabilities, labels and image paths."""

    split: str
    probs: np.ndarray
    labels: np.ndarray
    paths: list[str]


@dataclass
class RunFiles:
    """The parsed files of a run directory (ARCHITECTURE.md, "Run directory")."""

    root: Path
    config: dict | None = None
    preprocess: dict | None = None
    dataset: dict | None = None
    classes_file: dict | None = None
    model_meta: dict | None = None
    results: list[dict] | None = None
    summary: dict | None = None
    findings: list[dict] | None = None
    predictions: dict[str, Predictions] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, root: str | Path) -> RunFiles:
        run = cls(Path(root))
        run.config = run._json("config.json")
        run.preprocess = run._json("preprocess.json")
        run.dataset = run._json("dataset.json")
        run.classes_file = run._json("classes.json")
        run.model_meta = run._json("model/graftlab.json")
        run.summary = run._json("summary.json")
        findings = run._json("findings.json")
        if findings is not None and not isinstance(findings, list):
            run.problems.append("findings.json does not hold a list; ignored.")
            findings = None
        run.findings = findings
        run.results = run._csv("results.csv")
        for split in ("test", "val"):
            pred = run._npz(split)
            if pred is not None:
                run.predictions[split] = pred
        return run

    # -- what the sections need ----------------------------------------------------------
    @property
    def classes(self) -> list[str] | None:
        for source in (self.model_meta, self.classes_file, self.dataset):
            if isinstance(source, dict) and isinstance(source.get("classes"), list):
                return [str(c) for c in source["classes"]]
        return None

    @property
    def task(self) -> str:
        for source in (self.model_meta, self.classes_file, self.dataset):
            if isinstance(source, dict) and source.get("task") in (
                "multiclass",
                "binary",
                "multilabel",
            ):
                return source["task"]
        pred = next(iter(self.predictions.values()), None)
        return "multilabel" if pred is not None and pred.labels.ndim == 2 else "multiclass"

    @property
    def preprocessing(self) -> dict | None:
        if isinstance(self.preprocess, dict):
            return self.preprocess
        if isinstance(self.model_meta, dict):
            return self.model_meta.get("preprocessing")
        return None

    # -- readers -------------------------------------------------------------------------
    def _json(self, name: str) -> Any:
        path = self.root / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.problems.append(f"{name} could not be read ({exc}); its section is left out.")
            return None

    def _csv(self, name: str) -> list[dict] | None:
        path = self.root / name
        if not path.is_file():
            return None
        try:
            with open(path, newline="", encoding="utf-8") as fh:
                return list(csv.DictReader(fh))
        except (OSError, csv.Error, UnicodeDecodeError) as exc:
            self.problems.append(f"{name} could not be read ({exc}).")
            return None

    def _npz(self, split: str) -> Predictions | None:
        path = self.root / "predictions" / f"{split}.npz"
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                probs = np.asarray(data["probs"], dtype=np.float64)
                labels = np.asarray(data["labels"])
                paths = [str(p) for p in data["paths"]] if "paths" in data else []
        except (OSError, ValueError, KeyError) as exc:
            self.problems.append(f"predictions/{split}.npz could not be read ({exc}).")
            return None
        if probs.ndim != 2 or len(labels) != len(probs):
            self.problems.append(
                f"predictions/{split}.npz has probs {probs.shape} and labels {labels.shape}, "
                "which do not match; ignored."
            )
            return None
        return Predictions(split, probs, labels, paths)
