"""The report's figures, drawn with matplotlib and saved as PNG files.

Each function takes plain data (rows of results.csv, a confusion matrix, reliability bins),
writes one PNG and returns its path, so the same figure can be embedded in ``report.html`` and
opened on its own from ``RUN/plots/``.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

# Figure objects without pyplot: no global backend switch in the user's process (a notebook
# keeps its own), no display needed, and PNGs are rendered by Agg.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from graftlab._io import atomic_path

#: PNG resolution: sharp on a laptop screen, small enough to embed a dozen figures.
DPI = 110
_TRAIN, _VAL = "#1f77b4", "#d62728"


# -- fonts: class names in any script ----------------------------------------------------------
_DEFAULT_FONT = "DejaVu Sans"  # matplotlib's own font: Latin, Greek, Cyrillic, no CJK


@functools.cache
def _charmap(path: str) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError, ValueError):
        return frozenset()


@functools.cache
def _font_for(chars: frozenset[int]) -> tuple[str, ...] | None:
    """Font family names that together draw ``chars``: matplotlib's default, then the first
    installed font (CJK fonts such as Debian's fonts-noto-cjk first) with what it lacks;
    None when no installed font has them."""
    from matplotlib import font_manager

    default = font_manager.findfont(_DEFAULT_FONT, fallback_to_default=True)
    missing = chars - _charmap(default)
    if not missing:
        return (_DEFAULT_FONT,)
    entries = sorted(
        font_manager.fontManager.ttflist,
        key=lambda f: (not any(t in f.name for t in ("CJK", "Noto Sans")), f.name),
    )
    for entry in entries:
        # "Last Resort" fonts map every character to a box: exactly what this avoids.
        if "Last Resort" not in entry.name and missing <= _charmap(entry.fname):
            return (_DEFAULT_FONT, entry.name)
    # matplotlib's font list is cached from its first run: fonts installed since (e.g.
    # apt-get install fonts-noto-cjk) are only found on disk. Regular sans faces first.
    known = {f.fname for f in font_manager.fontManager.ttflist}
    paths = [p for p in font_manager.findSystemFonts() if p not in known and "LastResort" not in p]
    for path in sorted(paths, key=lambda p: ("Sans" not in p, "Regular" not in p, p)):
        if missing <= _charmap(path):
            font_manager.fontManager.addfont(path)
            return (_DEFAULT_FONT, font_manager.FontProperties(fname=path).get_name())
    return None


def undrawable(names: list[str]) -> list[str]:
    """The names no installed font can draw (the figures show their numbers instead)."""
    return [n for n in names if _font_for(frozenset(map(ord, n))) is None]


@contextlib.contextmanager
def _fonts(names: list[str], numbers: list[int] | None = None) -> Iterator[list[str]]:
    """Draw with fonts that have every character of ``names``; yields the labels to draw:
    the names, or ``#<number>`` (class number; position by default) for a name no installed
    font can draw, rather than a row of boxes."""
    from matplotlib import rc_context

    families: list[str] = [_DEFAULT_FONT]
    labels = []
    for i, name in enumerate(names):
        found = _font_for(frozenset(map(ord, name)))
        if found is None:
            labels.append(f"#{numbers[i] if numbers else i}")
            continue
        labels.append(name)
        families += [f for f in found if f not in families]
    with rc_context({"font.family": families}):
        yield labels


def _save(fig: Figure, path: Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        # Every figure is laid out by tight_layout; bbox_inches="tight" would draw it a second
        # time to trim the margin (4.6 s -> 2.75 s for a 7-class report; the same pixels,
        # give or take a few of margin).
        fig.savefig(tmp, format="png", dpi=DPI)
    return path


def _subplots(*args, figsize: tuple[float, float], **kwargs):
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(*args, **kwargs)


def _column(rows: list[dict], name: str) -> np.ndarray:
    out = []
    for r in rows:
        try:
            out.append(float(r.get(name, "")))
        except (TypeError, ValueError):
            out.append(np.nan)
    return np.asarray(out, dtype=np.float64)


def metric_columns(rows: list[dict]) -> tuple[str, str] | None:
    """The (train, val) metric pair of results.csv to plot: accuracy when it was logged,
    else the first validation metric with numbers in it (multi-label runs)."""
    candidates = [("train_accuracy", "val_accuracy")]
    keys = list(rows[0]) if rows else []
    candidates += [(f"train_{k[4:]}", k) for k in keys if k.startswith("val_") and k != "val_loss"]
    for train, val in candidates:
        if np.isfinite(_column(rows, val)).any() or np.isfinite(_column(rows, train)).any():
            return train, val
    return None


def learning_curves(rows: list[dict], path: Path) -> Path | None:
    """Loss and metric per epoch, train and val, one row of panels per phase of results.csv.

    Returns ``None`` (and writes nothing) when no row has a number to plot.
    """
    phases: dict[str, list[dict]] = {}
    for r in rows:
        phases.setdefault(r.get("phase") or "train", []).append(r)
    # A one-row phase (the linear probe) beside epoch-wise phases reads best as reference lines
    # on their panels: the level fine-tuning starts from and must beat.
    references = {k: v[0] for k, v in phases.items() if len(v) == 1 and len(phases) > 1}
    phases = {k: v for k, v in phases.items() if k not in references} or phases
    metric = metric_columns(rows)
    panels = [("loss", ("train_loss", "val_loss"))] + ([("metric", metric)] if metric else [])
    if not any(
        np.isfinite(_column(prs, c)).any()
        for prs in phases.values()
        for _, cols in panels
        for c in cols
    ):
        return None
    fig, axes = _subplots(
        len(phases), len(panels), figsize=(4.6 * len(panels), 2.9 * len(phases)), squeeze=False
    )
    for row_axes, (phase, prs) in zip(axes, phases.items(), strict=True):
        epochs = _column(prs, "epoch")
        if not np.isfinite(epochs).all():
            epochs = np.arange(1, len(prs) + 1, dtype=np.float64)
        for ax, (kind, (train_col, val_col)) in zip(row_axes, panels, strict=True):
            for col, colour, label in ((train_col, _TRAIN, "train"), (val_col, _VAL, "val")):
                values = _column(prs, col)
                if np.isfinite(values).any():
                    ax.plot(epochs, values, marker="o", ms=3.5, color=colour, label=label)
                for ref_phase, ref in references.items():
                    level = _column([ref], col)[0]
                    if np.isfinite(level):
                        ax.axhline(level, color=colour, ls=":", label=f"{ref_phase} {label}")
            title = "loss" if kind == "loss" else val_col.removeprefix("val_").replace("_", " ")
            ax.set_title(f"{phase}: {title}", fontsize=10)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            if np.ptp(epochs) == 0:  # one epoch (the probe): a point, not a ±0.05 axis
                ax.set_xlim(epochs[0] - 1, epochs[0] + 1)
            ax.grid(alpha=0.3)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=8)
            else:
                ax.text(0.5, 0.5, "not logged", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    return _save(fig, path)


def probe_path(points: list[dict], chosen: float | None, path: Path) -> Path | None:
    """The linear probe's validation loss and metric against its L2 strength (log axis,
    strong to weak, as the probe walks it), the chosen strength marked.

    Args:
        points: ``summary.json``'s ``probe_path``: ``{"weight_decay", "val_loss", ...}`` per
            strength tried.
        chosen: The strength validation picked.
        path: The PNG to write.

    Returns:
        ``None`` when no point has a strength and a loss.
    """
    pts = [p for p in points if isinstance(p, dict) and _positive(p.get("weight_decay"))]
    if not pts:
        return None
    wd = np.asarray([float(p["weight_decay"]) for p in pts])
    metric = next(
        (k for k in pts[0] if k.startswith("val_") and k != "val_loss"), None
    )  # val_accuracy, or the multi-label metric the probe logged
    panels = [("val_loss", "validation loss")] + (
        [(metric, metric[4:].replace("_", " "))] if metric else []
    )
    fig, axes = _subplots(1, len(panels), figsize=(4.6 * len(panels), 3.0), squeeze=False)
    for ax, (key, title) in zip(axes[0], panels, strict=True):
        values = _column(pts, key)
        ax.plot(wd, values, marker="o", ms=4, color=_VAL)
        if chosen is not None and _positive(chosen):
            ax.axvline(float(chosen), color="k", ls="--", lw=1, label=f"chosen: {chosen:g}")
            ax.legend(fontsize=8)
        if np.unique(wd).size == 1:  # one strength (a fixed one): a decade around it
            ax.set_xlim(wd[0] * 3.0, wd[0] / 3.0)
            ax.set_xscale("log")
        else:
            ax.set_xscale("log")
            ax.invert_xaxis()  # strong regularisation first, as the probe walks the path
        ax.set_xlabel("L2 strength (weight decay)")
        ax.set_title(f"probe: {title}", fontsize=10)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def confusion_matrix(cm: list[list[int]], classes: list[str], path: Path) -> Path:
    """Row-normalised heat map (colour = share of the true class) annotated with counts."""
    with _fonts(classes) as drawn:
        return _confusion_matrix(np.asarray(cm, dtype=np.int64), drawn, path)


def _confusion_matrix(cm: np.ndarray, classes: list[str], path: Path) -> Path:
    k = len(classes)
    share = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    side = min(max(3.2, 0.45 * k + 1.8), 16)
    fig, ax = _subplots(figsize=(side + 0.8, side))
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    ticks = np.arange(k)
    labels = [c if len(c) <= 18 else c[:17] + "…" for c in classes]
    ax.set_xticks(ticks, labels, rotation=90 if k > 6 else 45, ha="center" if k > 6 else "right")
    ax.set_yticks(ticks, labels)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if k <= 25:
        for i in range(k):
            for j in range(k):
                if cm[i, j]:
                    colour = "white" if share[i, j] > 0.55 else "black"
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8, color=colour)
    ax.set_title("Confusion matrix", fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def reliability_diagram(reliability: dict, ece: float, path: Path) -> Path:
    """Accuracy against confidence per bin (bars) with the diagonal of perfect calibration,
    and the number of predictions per bin below."""
    edges = np.asarray(reliability["edges"], dtype=np.float64)
    count = np.asarray(reliability["count"], dtype=np.float64)
    acc = np.asarray([np.nan if v is None else v for v in reliability["accuracy"]], dtype=float)
    conf = np.asarray([np.nan if v is None else v for v in reliability["confidence"]], dtype=float)
    width = np.diff(edges)
    fig, (top, bottom) = _subplots(
        2, 1, figsize=(4.6, 5.0), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    filled = np.isfinite(acc)
    top.bar(
        edges[:-1][filled],
        acc[filled],
        width=width[filled],
        align="edge",
        color="#4c72b0",
        edgecolor="white",
        label="accuracy",
    )
    top.bar(
        edges[:-1][filled],
        (conf - acc)[filled],
        bottom=acc[filled],
        width=width[filled],
        align="edge",
        color="#dd8452",
        alpha=0.45,
        edgecolor="white",
        label="gap to confidence",
    )
    top.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    ece_text = "n/a" if ece is None or not math.isfinite(ece) else f"{ece:.3f}"
    top.set_title(f"Reliability diagram (ECE = {ece_text}, {len(count)} bins)", fontsize=10)
    top.legend(fontsize=8, loc="upper left")
    bottom.bar(edges[:-1], count, width=width, align="edge", color="#8c8c8c", edgecolor="white")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("count")
    fig.tight_layout()
    return _save(fig, path)


def mistakes_gallery(
    items: list[dict], path: Path, thumb: int = 128, classes: list[str] | None = None
) -> Path | None:
    """A grid of thumbnails titled ``true → predicted (confidence)``.

    Args:
        items: ``[{"path", "true", "pred", "confidence"}]``, most confident first.
        path: The PNG to write.
        thumb: Thumbnail side in pixels.
        classes: The class names, to number a name that no installed font can draw.

    Returns:
        ``None`` when ``items`` is empty.
    """
    if not items:
        return None
    names = sorted({n for item in items for n in (item["true"], item["pred"])})
    numbers = [classes.index(n) if classes and n in classes else i for i, n in enumerate(names)]
    with _fonts(names, numbers) as drawn:
        shown = dict(zip(names, drawn, strict=True))
        items = [{**i, "true": shown[i["true"]], "pred": shown[i["pred"]]} for i in items]
        return _mistakes_gallery(items, path, thumb)


def _mistakes_gallery(items: list[dict], path: Path, thumb: int) -> Path:
    cols = min(len(items), 6)
    rows = math.ceil(len(items) / cols)
    fig, axes = _subplots(rows, cols, figsize=(2.1 * cols, 2.45 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, item in zip(axes.ravel(), items, strict=False):
        ax.imshow(_thumbnail(item["path"], thumb))
        pred = f"{_short(item['pred'])} ({item['confidence']:.2f})"
        # y=1.0: the place matplotlib would find, given directly. Finding it asks the hidden
        # axes for their tick labels, which builds them: 0.32 -> 0.19 s CPU for 12 thumbnails,
        # the same pixels.
        ax.set_title(f"true: {_short(item['true'])}\npred: {pred}", fontsize=8, y=1.0)
    fig.tight_layout()
    return _save(fig, path)


def _short(text: str, n: int = 20) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _thumbnail(path: str, side: int) -> np.ndarray:
    """The image fitted in a ``side`` square; a grey square with a cross when unreadable."""
    from PIL import Image

    from graftlab.data import decode_image
    from graftlab.errors import GraftlabError

    try:
        image = decode_image(path)
    except GraftlabError:
        grey = np.full((side, side, 3), 200, dtype=np.uint8)
        idx = np.arange(side)
        grey[idx, idx] = grey[idx, side - 1 - idx] = 120
        return grey
    image.thumbnail((side, side), Image.Resampling.BICUBIC)
    return np.asarray(image)
