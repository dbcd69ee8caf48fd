"""A hidden folder numbered as a class in a printed class mapping.

``flow_from_directory``, ``ImageFolder``, mmcls's ``find_folders`` and
``image_dataset_from_directory`` take every sub-folder of the data directory as a class.
Jupyter's ``.ipynb_checkpoints`` and ``__MACOSX`` from an unzipped archive are sub-folders too:
sorted first, they take index 0 and push every real class up by one, so the head is one unit
short (a target out of range) or, where another split lacks the folder, the same index names
different classes in the two splits. A printed mapping that holds one says so completely: the
finding is an error. A *file* in a printed list without indices (``.DS_Store``, ``Thumbs.db``,
``LICENSE.txt``) is the other mistake, a list made by listing the folder, whose file the loader
skipped: GL460 (``_logstray``) says that one, and this check leaves it.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import REFS, declare, make
from graftlab.doctor._labelfile import _LISTED
from graftlab.doctor._logclasses import _class_dict
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor._logstray import is_stray_file
from graftlab.doctor.findings import Finding

declare(
    "GL453",
    "label-order-mismatch",
    "error",
    "log",
    "A printed class mapping numbers a hidden or system folder as a class",
)

_ITEM = re.compile(r"\s*['\"]([^'\"]{1,80})['\"]\s*")
#: Folders no dataset means as a class: hidden ones, and what archives and NAS boxes leave.
_SYSTEM = {"__macosx", "__pycache__", "@eadir"}


def _hidden(name: str, mapping: bool) -> bool:
    """A hidden or system entry; in a plain list, a folder only (a file in a list is GL460's:
    the loader skipped it, the list did not). A mapping's index says the entry was numbered."""
    hidden = name.startswith(".") or name.lower() in _SYSTEM
    return hidden and (mapping or not is_stray_file(name))


def _names(line: str) -> tuple[list[str], bool]:
    """Class names of a printed ``{'name': index, ...}`` (indices 0..K-1) or ``classes: [...]``,
    and whether they came with their indices."""
    if "{" in line and (mapped := _class_dict(line)):
        return list(mapped), True
    if m := _LISTED.search(line):  # the class-names file check's pattern: one reading
        items = [_ITEM.fullmatch(part) for part in m[1][1:-1].rstrip(", ").split(",")]
        if len(items) >= 3 and all(items):
            return [i[1] for i in items], False
    return [], False


def hidden_class(log: ParsedLog) -> list[Finding]:
    """GL453: a class mapping or class list, printed in the log, whose names include a hidden or
    system folder beside at least two others."""
    for i, line in enumerate(log.lines, 1):
        if "{" not in line and "[" not in line:
            continue
        names, mapping = _names(line)
        odd = [n for n in names if _hidden(n, mapping)]
        if not odd or len(names) - len(odd) < 2:
            continue
        real = len(names) - len(odd)
        return [
            make(
                "GL453",
                title=f"The printed classes include {odd[0]!r}, a folder that is not a class: "
                f"{len(names)} classes where the data has {real}",
                evidence=f"  line {i:>4}  {line.strip()[:300]}",
                explanation=(
                    "The loader takes every sub-folder of the data directory as a class, hidden "
                    "ones included. A notebook's .ipynb_checkpoints or an archive's __MACOSX "
                    "sorts before the real classes and takes index 0, so every "
                    "real class is numbered one higher than intended: a head sized for the real "
                    "classes meets a target out of range, and a split without the folder numbers "
                    "the same classes differently, so its labels no longer match the model's "
                    "outputs."
                ),
                fix=(
                    "# remove it from every split (rm -r data/train/.ipynb_checkpoints), or list "
                    "the classes:\n"
                    "classes = sorted(d.name for d in os.scandir(train_dir)\n"
                    "                 if d.is_dir() and not d.name.startswith(('.', '__')))\n"
                    "train_gen = datagen.flow_from_directory(train_dir, classes=classes, ...)  "
                    "# Keras\n"
                    "# torchvision: subclass ImageFolder and override find_classes the same way"
                ),
                references=[REFS["keras-ft"]],
            )
        ]
    return []
