"""A printed class list that holds a file of the data folder, not only its class folders.

Folder loaders (Keras ``flow_from_directory`` and ``image_dataset_from_directory``,
torchvision ``ImageFolder``) number the *sub-folders* of the data folder and skip its files. A
class-name list made by listing the same folder (``os.listdir``, ``glob('*')``,
``Path.iterdir``) keeps every entry: ``.DS_Store`` written there by macOS Finder,
``Thumbs.db``, ``desktop.ini``, the ``LICENSE.txt`` of a downloaded data set. When the script
prints that list, the log shows the file among the class names; each class sorted after it
gets the name of the class before it, and a prediction can be called ``.DS_Store``.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logclasses import _KERAS_FOUND
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL460",
    "label-order-mismatch",
    "error",
    "log",
    "A printed class list holds a file of the data folder, which the folder loader skips",
)

#: A bracketed run of two or more quoted names, a Python list (``['a', 'b']``) or a NumPy
#: array as printed (``['a' 'b']``). The separator is a comma or whitespace, never both
#: optional: two optional parts would split each gap two ways and backtrack exponentially
#: on a long list that never closes. For the same reason the closing takes its spaces around
#: a comma, not ``\s*,?\s*``: without a comma that splits a run of spaces before a missing
#: ``]`` at every point (0.4 s on a 20 kB line, quadratic).
_QUOTED = r"""(?:'[^'\n]{1,100}'|"[^"\n]{1,100}")"""
_PRINTED_LIST = re.compile(rf"\[\s*({_QUOTED}(?:(?:\s*,\s*|\s+){_QUOTED}){{1,2000}})\s*(?:,\s*)?\]")
_ITEM = re.compile(_QUOTED)
#: Files that operating systems and data-set archives leave beside class folders.
_SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini", "._.ds_store", ".directory"}
#: A name with one of these endings is a file, not a class folder.
_FILE_SUFFIX = re.compile(
    r"(?i)\.(?:txt|csv|tsv|json|md|zip|tar|gz|tgz|h5|pkl|npy|py|ipynb|jpe?g|png|xml|ya?ml)$"
)
_MAX_LINES = 200_000


def is_stray_file(name: str) -> bool:
    """A file that sits beside class folders (``.DS_Store``, ``LICENSE.txt``), not a class."""
    return name.lower() in _SYSTEM_FILES or bool(_FILE_SUFFIX.search(name))


def _printed_lists(lines: list[str]):
    """(line, names) of every printed list of quoted names."""
    for i, line in enumerate(lines[:_MAX_LINES], 1):
        if "[" not in line or len(line) > 20_000:
            continue
        for m in _PRINTED_LIST.finditer(line):
            yield i, [s[1:-1] for s in _ITEM.findall(m[1])]


def stray_class_entry(log: ParsedLog) -> list[Finding]:
    """GL460: a printed list of names in which a file (``.DS_Store``, ``LICENSE.txt``) stands
    among two or more class names. An error when the log also shows the loader counting one
    class fewer per file, or a prediction named after the file; otherwise a warning (the list
    being the one that names the model's outputs is inferred)."""
    lines = log.lines
    for i, names in _printed_lists(lines):
        strays = [n for n in names if is_stray_file(n)]
        classes = [n for n in names if not is_stray_file(n)]
        if not strays or len(classes) < 2 or len(set(names)) != len(names):
            continue
        counts = [
            (j, int(m[2]))
            for j, line in enumerate(lines[:_MAX_LINES], 1)
            if (m := _KERAS_FOUND.search(line))
        ]
        counted = next(((j, k) for j, k in counts if k == len(classes)), None)
        named = next(
            (
                j
                for j, line in enumerate(lines[:_MAX_LINES], 1)
                if j != i and any(s in line for s in strays) and "[" not in line
            ),
            None,
        )
        evidence = [f"  line {i:>4} | {lines[i - 1].strip()[:200]}"]
        if counted:
            evidence.append(f"  line {counted[0]:>4} | {lines[counted[0] - 1].strip()[:200]}")
        if named:
            evidence.append(f"  line {named:>4} | {lines[named - 1].strip()[:200]}")
        if not counted and not named:
            evidence.append(
                "inferred: this list names the model's outputs (the log does not show the "
                "loader's class count or a prediction named after the file)"
            )
        first = names.index(strays[0])
        shifted = names[first + 1] if first + 1 < len(names) else None
        return [
            make(
                "GL460",
                severity="error" if counted or named else "warning",
                title=f"The printed class list holds {strays[0]!r}, a file the folder loader "
                "skips: the class names after it are shifted by one",
                evidence="\n".join(evidence),
                explanation=(
                    f"The list has {len(names)} entries, {len(classes)} of them classes"
                    + (f", and the loader found {counted[1]} classes" if counted else "")
                    + f". {strays[0]!r} is a file in the data folder; folder loaders number "
                    "only the sub-folders, so the model's output "
                    f"{first} is the class this list puts at {first + 1}"
                    + (f" ({shifted!r})" if shifted else "")
                    + ". A list made by listing the folder (os.listdir, glob('*'), iterdir) "
                    "names every output after the file with the previous class's name, and a "
                    "prediction can come out as the file's name, while training and "
                    "validation accuracy look fine."
                ),
                fix=(
                    "# take the names from the loader that numbered the labels\n"
                    "class_names = list(train_gen.class_indices)  # Keras generator\n"
                    "class_names = train_ds.class_names           # image_dataset_from_directory\n"
                    "class_names = train_set.classes              # torchvision ImageFolder\n"
                    "# or keep folders only: sorted(p.name for p in root.iterdir() if p.is_dir())"
                ),
                references=["https://keras.io/api/data_loading/image/"],
            )
        ]
    return []
