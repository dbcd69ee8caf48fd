"""Checks on a dataset before any training: leakage across splits, classes too small to learn
or to measure, and imbalance. ``run_preflight`` reads only the manifest (paths, labels, splits,
content hashes), so it takes milliseconds; ``near_duplicates`` needs features.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from graftlab.doctor._checks import REFS, make
from graftlab.doctor.findings import Finding
from graftlab.errors import ConfigError

_EVAL_SPLITS = ("val", "test")


@dataclass
class PreflightConfig:
    """Thresholds of the preflight checks.

    Attributes:
        min_train_per_class: Fewer training images than this and a class is hard to learn even
            with a frozen backbone (a linear probe needs a handful of examples per class).
        max_imbalance: Largest/smallest class ratio in train above which plain accuracy and an
            unweighted loss favour the big classes.
        min_val_per_class: Fewer validation images than this and one image moves the class's
            recall by more than 20 points: the split cannot rank checkpoints.
        leak_error_fraction: Share of a val/test split found in train above which leakage is an
            error (the reported score is inflated), rather than a warning.
    """

    min_train_per_class: int = 10
    max_imbalance: float = 10.0
    min_val_per_class: int = 5
    leak_error_fraction: float = 0.01


def _config(config: Any) -> PreflightConfig:
    if config is None:
        return PreflightConfig()
    if isinstance(config, PreflightConfig):
        return config
    names = [f.name for f in fields(PreflightConfig)]
    if isinstance(config, Mapping):
        unknown = [k for k in config if k not in names]
        if unknown:
            raise ConfigError(
                f"Unknown preflight setting(s) {unknown}. Valid names: {', '.join(names)}."
            )
        return PreflightConfig(**config)
    # Any other config object (e.g. a training config) may carry some of the thresholds.
    return PreflightConfig(**{n: getattr(config, n) for n in names if hasattr(config, n)})


def run_preflight(dataset: Any, config: Any = None) -> list[Finding]:
    """Check a dataset before training.

    Args:
        dataset: A :class:`graftlab.data.Dataset` (or anything with ``records`` holding ``path``,
            ``label``, ``split``, ``sha256``, and ``classes``).
        config: ``None``, a :class:`PreflightConfig`, a dict of its fields, or an object with
            some of its field names as attributes.

    Returns:
        Findings, errors first.
    """
    cfg = _config(config)
    records = list(getattr(dataset, "records", []))
    classes = list(getattr(dataset, "classes", []))
    if not records:
        raise ConfigError("run_preflight needs a dataset with records. Got an empty dataset.")
    findings = _duplicates(records, cfg)
    counts = _counts(records)
    findings += _small_classes(counts, classes, cfg)
    findings += _imbalance(counts, classes, cfg)
    findings += _small_val(counts, classes, cfg)
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: order[f.severity])


def _labels(label: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in label) if isinstance(label, (tuple, list)) else (int(label),)


def _counts(records: Sequence[Any]) -> dict[str, Counter]:
    out: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        out[r.split].update(_labels(r.label))
    return out


def _name(classes: list[str], i: int) -> str:
    return repr(classes[i]) if 0 <= i < len(classes) else str(i)


# -- duplicates by content hash ---------------------------------------------------------------


def _duplicates(records: Sequence[Any], cfg: PreflightConfig) -> list[Finding]:
    train: dict[str, Any] = {}
    for r in records:
        if r.split == "train" and r.sha256:
            train.setdefault(r.sha256, r)
    out = []
    for split in _EVAL_SPLITS:
        split_records = [r for r in records if r.split == split]
        if not split_records:
            continue
        shared = [(train[r.sha256], r) for r in split_records if r.sha256 in train]
        if not shared:
            continue
        fraction = len(shared) / len(split_records)
        relabelled = [(a, b) for a, b in shared if _labels(a.label) != _labels(b.label)]
        examples = "\n".join(f"  {a.path}\n    == {b.path}" for a, b in shared[:3])
        evidence = (
            f"{len(shared)} of {len(split_records)} {split} images ({fraction:.1%}) are "
            f"byte-identical to a training image (same sha256), e.g.:\n{examples}"
        )
        if relabelled:
            evidence += f"\n{len(relabelled)} of these pairs even carry different labels."
        severe = fraction >= cfg.leak_error_fraction
        out.append(
            make(
                "GL601",
                severity="error" if severe else "warning",
                title=f"{len(shared)} {split} images also in train ({fraction:.1%} of {split})",
                evidence=evidence,
                explanation=(
                    f"The model is scored on {split} images it was trained on, so the {split} "
                    f"score is inflated by up to {fraction:.1%} of the set and checkpoint "
                    "selection favours memorisation. Duplicates come from the same photo saved "
                    "twice, copies in several class folders, or a split made after "
                    "augmentation."
                ),
                fix=(
                    "# Drop the copies from train and keep val/test untouched:\n"
                    "held_out = {r.sha256 for r in ds.records if r.split != 'train'}\n"
                    "ds.records = [r for r in ds.records\n"
                    "              if not (r.split == 'train' and r.sha256 in held_out)]"
                ),
                references=[REFS["leakage"]],
            )
        )
    return out


# -- class sizes ------------------------------------------------------------------------------


def _small_classes(
    counts: dict[str, Counter], classes: list[str], cfg: PreflightConfig
) -> list[Finding]:
    train = counts.get("train", Counter())
    k = max(len(classes), max(train, default=-1) + 1)
    small = sorted(
        (train.get(i, 0), i) for i in range(k) if train.get(i, 0) < cfg.min_train_per_class
    )
    if not small:
        return []
    listed = ", ".join(f"{_name(classes, i)}: {n}" for n, i in small[:8])
    more = f" (and {len(small) - 8} more)" if len(small) > 8 else ""
    return [
        make(
            "GL603",
            title=(
                f"{len(small)} class(es) with fewer than {cfg.min_train_per_class} training images"
            ),
            evidence=f"training images per class: {listed}{more}",
            explanation=(
                "A class seen a handful of times is learnt poorly even on frozen pretrained "
                "features, and its validation estimate rests on even fewer images. A class with "
                "0 training images can never be predicted."
            ),
            fix=(
                "# Collect more images of these classes, merge each into a related class,\n"
                "# or drop them before training:\n"
                "ds.records = [r for r in ds.records if r.label not in tiny_classes]"
            ),
        )
    ]


def _imbalance(
    counts: dict[str, Counter], classes: list[str], cfg: PreflightConfig
) -> list[Finding]:
    train = counts.get("train", Counter())
    present = [(n, i) for i, n in train.items() if n > 0]
    if len(present) < 2:
        return []
    (n_min, i_min), (n_max, i_max) = min(present), max(present)
    ratio = n_max / n_min
    if ratio < cfg.max_imbalance:
        return []
    total = sum(n for n, _ in present)
    return [
        make(
            "GL604",
            title=f"Extreme class imbalance: {ratio:.0f}:1 in train",
            evidence=(
                f"largest class {_name(classes, i_max)}: {n_max} images ({n_max / total:.1%}); "
                f"smallest {_name(classes, i_min)}: {n_min} ({n_min / total:.1%})"
            ),
            explanation=(
                f"Predicting {_name(classes, i_max)} for every image already scores "
                f"{n_max / total:.1%} accuracy, so accuracy says little and an unweighted loss "
                "pulls the model towards the big classes; the typical failure is accuracy stuck "
                "at the majority share."
            ),
            fix=(
                "task = Task.from_dataset(ds, class_weights='auto')   # graftlab.finetune.task\n"
                "# torch: CrossEntropyLoss(weight=n_total / (K * counts)); judge by balanced\n"
                "# accuracy or macro-F1, not accuracy."
            ),
            references=[REFS["imbalance"]],
        )
    ]


def _small_val(
    counts: dict[str, Counter], classes: list[str], cfg: PreflightConfig
) -> list[Finding]:
    val = counts.get("val")
    if val is None:
        return []
    train = counts.get("train", Counter())
    k = max(len(classes), max(train, default=-1) + 1, max(val, default=-1) + 1)
    small = sorted((val.get(i, 0), i) for i in range(k) if val.get(i, 0) < cfg.min_val_per_class)
    if not small:
        return []
    missing = [i for n, i in small if n == 0]
    listed = ", ".join(f"{_name(classes, i)}: {n}" for n, i in small[:8])
    more = f" (and {len(small) - 8} more)" if len(small) > 8 else ""
    smallest = max(small[0][0], 1)
    return [
        make(
            "GL605",
            title=(
                f"Validation split too small: {len(small)} class(es) with fewer than "
                f"{cfg.min_val_per_class} images" + (f", {len(missing)} absent" if missing else "")
            ),
            evidence=f"validation images per class: {listed}{more} (total {sum(val.values())})",
            explanation=(
                f"With {smallest} image(s) of a class, one prediction moves its recall by "
                f"{1 / smallest:.0%}: early stopping and checkpoint selection follow noise. A "
                "class absent from validation is never measured at all."
            ),
            fix=(
                "# Make a larger, stratified validation split:\n"
                "ds = graftlab.load_dataset(DATA, val_fraction=0.2)\n"
                "# sklearn: train_test_split(paths, labels, test_size=0.2, stratify=labels)"
            ),
        )
    ]


# -- near-duplicates in feature space ---------------------------------------------------------


def near_duplicates(
    features_by_split: Mapping[str, Any],
    threshold: float = 0.98,
    *,
    paths_by_split: Mapping[str, Sequence[str]] | None = None,
    chunk: int = 1024,
    error_fraction: float = 0.01,
    max_queries: int | None = 2000,
    seed: int = 0,
) -> list[Finding]:
    """Find val/test images whose nearest training image is nearly identical in feature space.

    Catches what hashes miss: resized, re-encoded, cropped or slightly edited copies. Every
    compared image is matched against every training image, so a split larger than
    ``max_queries`` is checked on a seeded random sample of that many images: the cost then
    grows linearly with the data instead of with its square, and the share of near-copies (what
    decides whether validation can be trusted) is still estimated within about a point.

    Args:
        features_by_split: ``{"train": (N, D), "val": (M, D), "test": ...}`` arrays or tensors,
            e.g. pooled backbone features.
        threshold: Cosine similarity at or above which two images count as near-duplicates.
        paths_by_split: Optional file paths aligned with the features, for the evidence.
        chunk: Rows of the val/test matrix compared at once (bounds memory to chunk x N).
        error_fraction: Share of a split with near-duplicates above which the finding is an error.
        max_queries: Most images of one val/test split compared (a random sample beyond it);
            ``None`` compares them all.
        seed: Seed of that sample.

    Returns:
        One finding per val/test split that has near-duplicates in train.
    """
    if "train" not in features_by_split:
        raise ConfigError(
            f"near_duplicates needs a 'train' entry. Got splits {sorted(features_by_split)}."
        )
    if not 0 < threshold <= 1:
        raise ConfigError(f"'threshold' must be a cosine similarity in (0, 1]. Got {threshold}.")
    train = _unit_rows(features_by_split["train"])
    out = []
    for split, feats in features_by_split.items():
        if split == "train":
            continue
        other = _unit_rows(feats)
        if other.shape[1] != train.shape[1]:
            raise ConfigError(
                f"Features of {split!r} have {other.shape[1]} dimensions, train has "
                f"{train.shape[1]}; compute both with the same backbone."
            )
        rows = np.arange(len(other))
        if max_queries is not None and len(other) > max_queries:
            rng = np.random.default_rng([seed, len(other)])
            rows = np.sort(rng.choice(len(other), max_queries, replace=False))
        queries = other if len(rows) == len(other) else other[torch.from_numpy(rows)]
        sim, idx = _nearest(queries, train, chunk)
        hits = np.flatnonzero(sim >= threshold)
        if hits.size == 0:
            continue
        fraction = hits.size / len(rows)
        compared = (
            f"{len(other)} {split} images"
            if len(rows) == len(other)
            else f"a random sample of {len(rows)} of the {len(other)} {split} images"
        )
        paths = paths_by_split or {}
        lines = []
        for j in hits[np.argsort(-sim[hits])][:3]:
            r = int(rows[j])
            a = paths.get(split, [])[r] if r < len(paths.get(split, [])) else f"{split}[{r}]"
            t = idx[j]
            b = paths.get("train", [])[t] if t < len(paths.get("train", [])) else f"train[{t}]"
            lines.append(f"  {a}\n    ~ {b}  (cosine {sim[j]:.4f})")
        out.append(
            make(
                "GL602",
                severity="error" if fraction >= error_fraction else "warning",
                title=(
                    f"{hits.size} {split} images nearly identical to a training image"
                    if len(rows) == len(other)
                    else f"About {fraction:.1%} of {split} images nearly identical to a "
                    "training image"
                ),
                evidence=(
                    f"{hits.size} of {compared} ({fraction:.1%}) have a training "
                    f"image with cosine similarity >= {threshold} in feature space:\n"
                    + "\n".join(lines)
                ),
                explanation=(
                    "Images this close in a pretrained feature space are usually the same "
                    "picture resized, re-compressed, cropped or shot a second apart. The model "
                    "is then scored partly on images it has seen, so validation/test numbers "
                    "overestimate accuracy on genuinely new images."
                ),
                fix=(
                    "# Inspect the pairs; then move each group of near-copies into one split\n"
                    "# (split by group: sklearn.model_selection.GroupShuffleSplit)."
                ),
                references=[REFS["leakage"]],
            )
        )
    return out


def _unit_rows(x: Any) -> torch.Tensor:
    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim != 2:
        raise ConfigError(f"Features must be a 2-D array (N, D). Got shape {tuple(t.shape)}.")
    t = t.detach().float()
    return t / t.norm(dim=1, keepdim=True).clamp_min(1e-12)


def _nearest(
    a: torch.Tensor, b: torch.Tensor, chunk: int, block: int = 16384
) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``, the best cosine similarity in ``b`` and its index.

    ``chunk`` rows of ``a`` against ``block`` rows of ``b`` at a time: the similarity tile
    stays at 64 MB however large ``b`` is, instead of chunk x len(b) floats.
    """
    sims, idxs = [], []
    for start in range(0, len(a), max(1, chunk)):
        rows = a[start : start + chunk]
        best = torch.full((len(rows),), -float("inf"))
        where = torch.zeros(len(rows), dtype=torch.long)
        for b0 in range(0, len(b), block):
            s_best, s_where = (rows @ b[b0 : b0 + block].T).max(dim=1)
            better = s_best > best
            best = torch.where(better, s_best, best)
            where = torch.where(better, s_where + b0, where)
        sims.append(best)
        idxs.append(where)
    if not sims:
        return np.zeros(0), np.zeros(0, dtype=int)
    return torch.cat(sims).numpy(), torch.cat(idxs).numpy()
