"""Class numbering read from what the log shows of the data folders.

Folder loaders (Keras ``flow_from_directory`` and ``image_dataset_from_directory``,
torchvision ``ImageFolder``, the Ultralytics classification dataset) number the classes of the
folder they are given by sorting the names of the sub-folders present there. Two things a log
can show break the link between an index and a class:

- the splits report different classes (a test folder with one class missing): each split is
  numbered by its own folders, so every class sorted after the missing one gets another index
  in evaluation than in training;
- the class folders are named by numbers and listed in string order (``1, 10, 100, 1000,
  101``): the loader numbers them in that order, so a model whose output k means class k (a
  released checkpoint, another tool's numbering) is scored against shuffled targets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graftlab.doctor._checks import declare, make
from graftlab.doctor._logrows import ParsedLog
from graftlab.doctor.findings import Finding

declare(
    "GL435",
    "label-order-mismatch",
    "warning",
    "log",
    "The data splits report different classes: each is numbered by its own folders",
)
declare(
    "GL436",
    "label-order-mismatch",
    "warning",
    "log",
    "Class folders named by numbers sort as strings, and evaluation scores at chance",
)

_SPLITS = {"train": "train", "training": "train", "val": "val", "valid": "val"}
_SPLITS |= {"validation": "val", "test": "test", "testing": "test"}
#: ``Found 400 images belonging to 4 classes.`` (Keras) -- the split is the call's order.
_KERAS_FOUND = re.compile(r"\bFound (\d+) (?:images|files) belonging to (\d+) class", re.I)
#: ``test: /data/rot/test... found 50 images in 3 classes`` (Ultralytics classification).
_NAMED_FOUND = re.compile(
    r"^\s*(train|training|val|valid|validation|test)\s*:\s*\S.*?\bfound (\d+) images in "
    r"(\d+) classes",
    re.I,
)
#: ``data/rot/test:`` -- the header ``ls`` prints above each folder it lists.
_LS_HEADER = re.compile(r"^\s*(\S*?)/?(train|training|val|valid|validation|test):\s*$", re.I)
_NAME = re.compile(r"[\w.-]{1,80}")
#: ``* Acc@1 0.080 Acc@5 0.582``: timm / DeiT validation scripts, in percent.
_TOP1 = re.compile(r"\bAcc@1\s+(\d+(?:\.\d+)?)")
_MAX_LINES = 200_000


@dataclass
class SplitClasses:
    """What one line says about the classes of one split."""

    line: int
    split: str | None  # train / val / test, None when the log does not name it (Keras)
    k: int
    names: tuple[str, ...] = ()  # the class names in index order, when the log shows them


#: ``{'cat': 0, 'dog': 1}``: a printed ``class_indices`` / ``class_to_idx``.
_BRACED = re.compile(r"\{([^{}\n]{1,8000})\}")
_INDEX_PAIR = re.compile(r"\s*['\"]([^'\"]{1,80})['\"]\s*:\s*(\d+)\s*")
_SPLIT_WORD = re.compile(r"(?<![a-z])(train|training|val|valid|validation|test|testing)", re.I)


def _class_dict(line: str) -> tuple[str, ...] | None:
    """The names of a printed ``{'name': index}`` whose indices are 0..K-1, in index order."""
    for m in _BRACED.finditer(line):
        pairs = [_INDEX_PAIR.fullmatch(part) for part in m[1].rstrip(", ").split(",")]
        if len(pairs) < 2 or not all(pairs):
            continue
        by_index = {int(p[2]): p[1] for p in pairs}
        if sorted(by_index) == list(range(len(pairs))):
            return tuple(by_index[i] for i in range(len(pairs)))
    return None


def split_classes(lines: list[str]) -> list[SplitClasses]:
    """Class counts (and names, in index order) per split, in log order."""
    out: list[SplitClasses] = []
    header: tuple[int, str] | None = None
    names: list[str] = []

    def close() -> None:
        if header and names:
            out.append(SplitClasses(header[0], header[1], len(names), tuple(sorted(names))))

    for i, line in enumerate(lines[:_MAX_LINES], 1):
        if m := _LS_HEADER.match(line):
            close()
            header, names = (i, _SPLITS[m[2].lower()]), []
            continue
        if header is not None:
            words = line.split()
            if words and all(_NAME.fullmatch(w) for w in words) and len(names) < 10_000:
                names += words
                continue
            close()
            header, names = None, []
        if m := _NAMED_FOUND.match(line):
            out.append(SplitClasses(i, _SPLITS[m[1].lower()], int(m[3])))
        elif m := _KERAS_FOUND.search(line):
            out.append(SplitClasses(i, None, int(m[2])))
        elif "{" in line and len(line) < 20_000 and (found := _class_dict(line)):
            said = _SPLIT_WORD.search(line[: line.index("{")])
            split = _SPLITS[said[1].lower()] if said else None
            out.append(SplitClasses(i, split, len(found), found))
    close()
    return out


def _cite(lines: list[str], i: int) -> str:
    return f"  line {i:>4} | {lines[i - 1].strip()[:140]}"


def _training(seen: list[SplitClasses]) -> tuple[list[SplitClasses], list[SplitClasses], str]:
    """(training entries, evaluation entries, how training was told apart)."""
    named = [s for s in seen if s.split == "train"]
    if named:
        return named, [s for s in seen if s.split in ("val", "test")], ""
    unnamed = [s for s in seen if s.split is None]
    if not unnamed:
        return [], [], ""
    # Keras prints the training generator's "Found" line first, and people print the
    # training mapping first
    first = unnamed[0]
    same_kind = [s for s in unnamed if bool(s.names) == bool(first.names)]
    return (
        [first],
        [s for s in seen if s.split in ("val", "test")] + same_kind[1:],
        f"inferred: line {first.line}, printed first, is taken to be the training data",
    )


def _differs(train: SplitClasses, other: SplitClasses) -> bool:
    if other.k <= 1:
        return False  # one folder for an unlabelled test set (class_mode=None)
    if train.names and other.names:
        # a class that moves to another index; a renamed folder that keeps its place does not
        shared = set(train.names) & set(other.names)
        return any(train.names.index(n) != other.names.index(n) for n in shared)
    return other.k != train.k


def split_class_mismatch(log: ParsedLog) -> list[Finding]:
    """GL435: a split other than training reports classes training does not (a count that
    differs, other names, or the same names at other indices): its indices do not mean the
    training classes."""
    seen = split_classes(log.lines)
    if len(seen) < 2:
        return []
    trains, others, how = _training(seen)
    found = None
    for other in others:
        # compare names with names when both are shown, else counts
        pool = [t for t in trains if bool(t.names) == bool(other.names)] or trains
        train = pool[0]
        if _differs(train, other):
            found = (train, other)
            break
    if found is None:
        return []
    train, bad = found
    role = bad.split or "evaluation"
    evidence = [_cite(log.lines, train.line), _cite(log.lines, bad.line)]
    shift = ""
    if bad.names and train.names:
        missing = sorted(set(train.names) - set(bad.names))
        extra = sorted(set(bad.names) - set(train.names))
        moved = [
            n for n in bad.names if n in train.names and bad.names.index(n) != train.names.index(n)
        ]
        evidence.append(
            f"{role} classes {list(bad.names)}, training classes {list(train.names)}"
            + (f"; missing {missing}" if missing else "")
            + (f"; not in training {extra}" if extra else "")
        )
        if moved:
            evidence.append(
                "by index, "
                + ", ".join(
                    f"{n!r} is index {bad.names.index(n)} in {role} but "
                    f"{train.names.index(n)} in training"
                    for n in moved[:3]
                )
            )
            shift = f" Here {moved[0]!r} gets index {bad.names.index(moved[0])} instead of " + (
                f"{train.names.index(moved[0])}."
            )
    if how:
        evidence.append(how)
    evidence.append(
        "inferred: each split is taken to be numbered by its own folders (a folder loader)"
    )
    return [
        make(
            "GL435",
            title=f"The {role} data has {bad.k} classes and the training data {train.k}: "
            "class indices do not mean the same classes"
            if bad.k != train.k
            else f"The {role} data numbers its {bad.k} classes differently from the training data",
            evidence="\n".join(evidence),
            explanation=(
                "A folder loader numbers the classes of the folder it reads by sorting the "
                "sub-folder names it finds there. The model learned the numbering of the "
                f"training folders; the {role} folders hold other classes (or other names), "
                "so a class can get another index than in training, and its images are "
                "scored as the wrong class." + shift + " Accuracy drops, or one class looks "
                "systematically confused with another."
            ),
            fix=(
                "# Number every split with the training classes, not with its own folders:\n"
                "val_gen = datagen.flow_from_directory(val_dir, classes=list(train_gen."
                "class_indices))  # Keras\n"
                "# torchvision: build targets through train_set.class_to_idx by folder name;\n"
                "# or give the evaluation folder an (empty) folder for every training class."
            ),
            references=["https://keras.io/api/data_loading/image/"],
        )
    ]


def numbered_listing(lines: list[str]) -> tuple[int, list[str]] | None:
    """(first line, names) of four or more bare integers, one a line, in string order and of
    several lengths (``0, 1, 10, 100``): ``ls`` of folders named by numbers."""
    run: list[tuple[int, str]] = []
    for i, line in enumerate([*lines[:_MAX_LINES], ""], 1):
        word = line.strip()
        if word.isdigit() and len(word) <= 6:
            run.append((i, word))
            continue
        names = [w for _, w in run]
        # sorted as strings, with names of several lengths: ``1, 10, 100`` leaves ``2`` after
        # ``199``, so the folders beyond the ninth are out of numeric order
        if len(names) >= 4 and names == sorted(names) and len({len(n) for n in names}) > 1:
            return run[0][0], names
        run = []
    return None


def numbered_folders_at_chance(log: ParsedLog) -> list[Finding]:
    """GL436: folders named by numbers, listed in string order, and a top-1 accuracy at the
    chance level of that many classes."""
    listing = numbered_listing(log.lines)
    if listing is None:
        return []
    first, names = listing
    k = max(int(n) for n in names)  # folders 1..K (or 0..K-1): at least this many classes
    if k < 10:
        return []  # below ten, string and numeric order agree
    top1 = None
    for i, line in enumerate(log.lines[:_MAX_LINES], 1):
        if m := _TOP1.search(line):
            top1 = (i, float(m[1]) / 100)  # timm / DeiT print percent
    if top1 is None or top1[0] < first:
        return []
    line, acc = top1
    chance = 1 / k
    if acc > 3 * chance:
        return []
    return [
        make(
            "GL436",
            title=f"Class folders named by numbers are listed as {', '.join(names[:5])}, and "
            f"top-1 accuracy is {acc:.4f}: chance level for {k} or more classes",
            evidence="\n".join(
                [
                    _cite(log.lines, first) + f" ... (the listing: {', '.join(names[:8])})",
                    _cite(log.lines, line),
                    f"1/{k} = {chance:.4f}: at least {k} classes, from the largest folder name",
                    "inferred: the folders are read by a loader that numbers them in sorted "
                    "order (ImageFolder) and scored against outputs numbered by the numbers",
                ]
            ),
            explanation=(
                "The class folders are named by numbers and sort as strings: '1', '10', '100', "
                "'1000', '101', ... ImageFolder gives index 0 to the first of that order, index "
                "1 to the second, so the target of an image in folder '10' is 1, not 10. A "
                "model whose output k means class k (a released checkpoint, a numbering made "
                "elsewhere) then disagrees with almost every target: accuracy sits at chance "
                "although the model is fine."
            ),
            fix=(
                "# Name the folders by the class ids the model was trained with (ImageNet: the "
                "WordNet ids), or map the loader's targets back through its classes:\n"
                "target_of = [int(c) for c in val_set.classes]  # index -> the folder's number\n"
                "y_true = torch.tensor([target_of[t] for t in targets])  # - 1 if numbered from 1"
            ),
            references=[
                "https://pytorch.org/vision/stable/generated/torchvision.datasets.ImageFolder.html"
            ],
        )
    ]


declare(
    "GL437",
    "label-order-mismatch",
    "warning",
    "log",
    "Predictions named by the model's own class list match the true labels, yet accuracy is 0",
)
#: ``[[('n01440764', 'tench', 0.9472)], ...]``: Keras ``decode_predictions`` output.
_DECODED = re.compile(r"\[\s*\(\s*'([^']{1,80})'\s*,\s*'[^']{0,80}'\s*,\s*[\d.eE-]+\s*\)")
_QUOTED_LIST = re.compile(r"^\s*\[\s*'[^']{1,80}'(?:\s*,\s*'[^']{1,80}')+\s*\]\s*$")
_ZERO_ACC = re.compile(r"\b(?:acc|accuracy)\s*[:=]\s*(0(?:\.0+)?(?:e[+-]?\d+)?)(?![\d.])", re.I)


def decoded_match_zero_accuracy(log: ParsedLog) -> list[Finding]:
    """GL437: the top-1 names of printed predictions (decoded with the model's own class
    list) equal the printed true labels, while the accuracy computed on integer targets is 0:
    the targets number the classes in another order than the model's outputs."""
    lines = log.lines[:_MAX_LINES]
    if any(
        v >= 0.5 for r in log.rows for c, v in r.values.items() if c.endswith("accuracy")
    ) or any(acc >= 0.5 for _, _, acc in log.evaluations):
        return []  # scored well somewhere: a 0 is the start of a progress bar, not the targets
    for i, line in enumerate(lines, 1):
        tops = _DECODED.findall(line)
        if len(tops) < 2:
            continue
        for j in range(i, min(i + 3, len(lines))):
            truth = lines[j]
            if not _QUOTED_LIST.match(truth):
                continue
            names = re.findall(r"'([^']{1,80})'", truth)
            if len(names) != len(tops):
                continue
            same = sum(a == b for a, b in zip(tops, names, strict=True))
            if same < max(2, 0.75 * len(tops)):
                continue
            zero = _zero_accuracy(log, i)
            if zero is None:
                continue
            zline, ztext = zero
            return [
                make(
                    "GL437",
                    title=f"{same} of {len(tops)} decoded predictions equal the true labels, "
                    "but the accuracy on the integer targets is 0",
                    evidence="\n".join(
                        [
                            _cite(lines, zline) + f"  ({ztext})",
                            _cite(lines, i),
                            _cite(lines, j + 1),
                            "inferred: the accuracy is taken to be computed on the same "
                            "images, with the integer targets the script built",
                        ]
                    ),
                    explanation=(
                        "Read through the model's own class list, the predictions name the "
                        "right classes; scored against the integer targets they are all "
                        "wrong. So the model is fine and the targets number the classes in "
                        "another order than the model's outputs: they come from a different "
                        "class list (another label file, another ordering of the same "
                        "classes). Training on such targets only relearns the permutation."
                    ),
                    fix=(
                        "# Number the targets with the model's own class order:\n"
                        "from keras.applications.imagenet_utils import decode_predictions\n"
                        "# or build the index from imagenet_class_index.json (its keys are "
                        "the output indices):\n"
                        "wnid_to_idx = {v[0]: int(k) for k, v in json.load(open(path)).items()}"
                    ),
                    references=["https://keras.io/api/applications/"],
                )
            ]
    return []


def _zero_accuracy(log: ParsedLog, near: int) -> tuple[int, str] | None:
    """(line, text) of an accuracy of exactly 0 before ``near``: an ``evaluate()`` result
    ``[loss, 0.0]`` or a metric printed as ``acc: 0.0000``."""
    for line, _, acc in log.evaluations:
        if acc == 0 and line < near:
            return line, "evaluate(): accuracy 0"
    for i, text in enumerate(log.lines[: near - 1], 1):
        if m := _ZERO_ACC.search(text):
            return i, f"accuracy {m[1]}"
    return None
