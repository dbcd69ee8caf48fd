"""A class-names file read against the class order a training log printed.

Deployment tools read predictions through a plain text file of class names, one per line
(``labels.txt``, ``classes.txt``): line k names output k. Training scripts built on folder
loaders print the numbering they used (``=> dataset classes: 3 ['a', 'b', 'c']``,
``class_indices {'a': 0, ...}``, ``class_to_idx``). When a hand-written names file lists the
same classes in another order (alphabetical by hand, while the loader sorts case-sensitively,
or in the order the folders were made), every prediction is read as the wrong name while the
training log shows high accuracy.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logclasses import _class_dict
from graftlab.doctor.findings import Finding

declare(
    "GL451",
    "label-order-mismatch",
    "warning",
    "log",
    "A class-names file lists the training classes in another order than the log printed",
)

#: ``classes: ['a', 'b']`` / ``=> dataset classes:  3 ['a', 'b', 'c']`` / ``class_names = [...]``.
_LISTED = re.compile(r"class(?:es|_names)?\b[^\[\n]{0,40}(\[[^\[\]\n]{1,20000}\])", re.I)
_NAME_LINE = re.compile(r"[^\s:=#,\[\]{}()'\"][^:=#\[\]{}()'\"]{0,79}")
_MAX_LINES = 200_000


def printed_classes(text: str) -> tuple[int, tuple[str, ...]] | None:
    """(line, names in index order) of the first class numbering a log prints."""
    for i, line in enumerate(text.splitlines()[:_MAX_LINES], 1):
        if "class" not in line.lower() or len(line) > 20_000:
            continue
        if m := _LISTED.search(line):
            try:
                names = ast.literal_eval(m[1])
            except (ValueError, SyntaxError):
                names = None
            if (
                isinstance(names, list)
                and len(names) >= 2
                and all(isinstance(n, str) and n for n in names)
                and len(set(names)) == len(names)
            ):
                return i, tuple(names)
        if "{" in line and (found := _class_dict(line)):
            return i, found
    return None


def names_file(text: str) -> tuple[str, ...] | None:
    """The names of a class-names file: 2+ non-empty lines, each a bare name, no repeats."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not 2 <= len(lines) <= 100_000 or not all(_NAME_LINE.fullmatch(ln) for ln in lines):
        return None
    return tuple(lines) if len(set(lines)) == len(lines) else None


def names_file_order(texts: dict[Path, str]) -> list[tuple[Path, Finding]]:
    """GL451: among files diagnosed together, a class-names file whose names are exactly the
    classes a log printed for training, in another order; each under the names file."""
    printed = [(p, found) for p, t in texts.items() if (found := printed_classes(t))]
    out: list[tuple[Path, Finding]] = []
    for path, text in texts.items():
        if not (names := names_file(text)):
            continue
        for log, (line, order) in printed:
            if log != path and set(order) == set(names) and order != names:
                out.append((path, _finding(path, names, f"{log}:{line}", order)))
                break
    return out


def _finding(path: Path, names: tuple[str, ...], where: str, order: tuple[str, ...]) -> Finding:
    moved = [k for k, n in enumerate(names) if order[k] != n]
    name = names[moved[0]]
    trained = order.index(name)
    return make(
        "GL451",
        title=f"{path.name} names {len(moved)} of {len(names)} outputs differently from the "
        "class order the training log printed",
        evidence="\n".join(
            [
                f"{where}: {' '.join(repr(n) for n in order)[:300]}",
                f"{path}: {' '.join(repr(n) for n in names)[:300]}",
                f"output {trained} was trained as {name!r}; {path.name} reads it as "
                f"{names[trained]!r} and calls output {moved[0]} {name!r}",
                "inferred: the names file is the one that reads this model's outputs (they "
                "were given together)",
            ]
        ),
        explanation=(
            "A names file maps output k to its k-th line. The training run numbered the classes "
            "in the order its log printed (a folder loader sorts the folder names, upper case "
            "before lower case); this file lists the same names in another order, so "
            "predictions are right as indices and named wrongly. Validation accuracy stays high "
            "while the deployed model seems to confuse classes consistently."
        ),
        fix=(
            "# Write the names file from the training numbering, not by hand:\n"
            "with open('labels.txt', 'w') as f:\n"
            "    f.write('\\n'.join(train_set.classes))  # ImageFolder's order\n"
            "# Keras: sorted(gen.class_indices, key=gen.class_indices.get)"
        ),
        references=[
            "https://pytorch.org/vision/stable/generated/torchvision.datasets.ImageFolder.html"
        ],
    )
