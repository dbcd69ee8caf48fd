"""Predictions printed with class names that belong to ImageNet, not to the data.

After fine-tuning a pretrained network on K classes of one's own, the output index i means the
i-th class of the new data (``class_indices``, ``ImageFolder.classes``). A script that still maps
indices to names with the pretrained model's list (``decode_predictions``, an
``imagenet_class_index.json``, a ``classes`` attribute set when the ImageNet model was loaded)
prints the first names of ImageNet's list: index 0 is "tench", 1 "goldfish", 2 "great white
shark". Those names beside a data set of K classes say the index-to-name mapping is stale.
"""

from __future__ import annotations

import re

from graftlab.doctor._checks import make
from graftlab.doctor._logparse import ParsedLog
from graftlab.doctor.findings import Finding

#: ImageNet-1k classes 0-9, as their WordNet lemmas print (spaces or underscores).
FIRST_IMAGENET = (
    "tench", "goldfish", "great white shark", "tiger shark", "hammerhead", "electric ray",
    "stingray", "cock", "hen", "ostrich",
)  # fmt: skip
_NAMES = re.compile(
    r"['\"](" + "|".join(n.replace(" ", "[ _]") for n in FIRST_IMAGENET) + r")['\"]", re.I
)

_OWN = re.compile(_NAMES.pattern + r"\s*:\s*\d", re.I)


def imagenet_names(log: ParsedLog) -> list[Finding]:
    """GL431: quoted ImageNet names of indices below K in the output of a K-class model."""
    k = log.num_classes
    if not k or k >= 1000:
        return []
    if any(_OWN.search(ln) for ln in log.lines):
        return []  # printed as keys of a class_indices dict: the data's own class names
    hits = [(i, ln) for i, ln in enumerate(log.lines, 1) if _NAMES.search(ln)]
    names = sorted({m.lower().replace("_", " ") for _, ln in hits for m in _NAMES.findall(ln)})
    indices = {FIRST_IMAGENET.index(n) for n in names}
    if not hits or max(indices) >= k:
        return []  # a name past the K-th is not what a stale list gives for index < K
    evidence = "\n".join(f"  line {i:>4} | {ln.strip()[:140]}" for i, ln in hits[:3])
    return [
        make(
            "GL431",
            title=f"Predictions are named {', '.join(repr(n) for n in names)}: ImageNet's "
            f"classes {', '.join(str(i) for i in sorted(indices))}, on a {k}-class model",
            evidence=evidence
            + f"\nK = {k}: {log.num_classes_evidence}"
            + f"\n{', '.join(f'{n!r} is ImageNet class {FIRST_IMAGENET.index(n)}' for n in names)}"
            + "\ninferred: the names are read as the output indices mapped through ImageNet's "
            "class list",
            explanation=(
                f"The model has {k} outputs, one per class of this data, numbered as the data "
                "loader numbered them (sorted folder names). The printed names are the first "
                "entries of ImageNet's 1000-class list, exactly the names indices "
                f"0..{k - 1} get there: the script maps the new indices through the pretrained "
                "model's class list (decode_predictions, imagenet_class_index.json, or a class "
                "list kept from before the head was replaced), so every name it prints is "
                "wrong even when the prediction is right."
            ),
            fix=(
                "# Name predictions with the classes the new head was trained on:\n"
                "idx_to_class = {v: k for k, v in train_gen.class_indices.items()}  # Keras\n"
                "names = [idx_to_class[i] for i in preds.argmax(axis=1)]\n"
                "# PyTorch: names = [train_ds.classes[i] for i in preds.argmax(1)]"
            ),
        )
    ]
