"""Render ``report.html``: one self-contained page (inline CSS, PNGs as data URIs, no links to
load) that reads the same offline, attached to an e-mail or opened from a file share."""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import math
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from graftlab._io import write_text
from graftlab.errors import ArtifactError
from graftlab.report import _settings, plots
from graftlab.report._runfiles import Predictions, RunFiles

#: Mistakes shown in the gallery: enough to see a pattern, few enough to look at each.
GALLERY_SIZE = 12
#: The figures build_report writes under RUN/plots/.
PLOT_FILES = (
    "learning_curves.png",
    "probe_path.png",
    "confusion_matrix.png",
    "reliability.png",
    "mistakes.png",
)
#: Settings of config.json listed first; the rest are in a folded "all settings" table.
_KEY_SETTINGS = (
    "backbone",
    "weights",
    "strategy",
    "image_size",
    "epochs",
    "batch_size",
    "lr",
    "layer_decay",
    "weight_decay",
    "bn",
    "unfreeze",
    "augment",
    "label_smoothing",
    "class_weights",
    "precision",
    "seed",
)
_HEADLINE = (
    ("accuracy", "accuracy"),
    ("balanced_accuracy", "balanced accuracy"),
    ("macro_f1", "macro-F1"),
    ("top_k_accuracy", "top-5 accuracy"),
    ("exact_match", "exact match"),
    ("mAP", "mAP"),
    ("ece", "ECE (15 bins)"),
    ("log_loss", "log loss"),
    ("n", "images"),
)


def build_report(run_dir: str | Path, *, force: bool = False) -> Path:
    """Write ``RUN/report.html`` and its figures under ``RUN/plots/``; return the HTML path.

    Every input file is optional: a section whose file is missing says so, and a run that only
    fitted the linear probe, or has no test split, still gets a report. But a report is not
    replaced by a worse one: when the run lost files (or images) that the existing report was
    built from, nothing is written unless ``force``.

    Raises:
        ArtifactError: ``run_dir`` is not a directory, or the rebuild would lose sections.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise ArtifactError(f"{root} is not a run directory. Pass runs/train/<name>.")
    run = RunFiles.read(root)
    inputs = _settings.inputs(run)
    lost = sorted(_built_from(root / "report.html") - inputs)
    if lost and not force:
        raise ArtifactError(
            f"Kept {root / 'report.html'}: it was built from {', '.join(lost)}, which the run "
            "no longer has, so a new report would show less. Restore them, or rebuild anyway "
            "with graftlab report RUN --force."
        )
    for name in PLOT_FILES:  # a figure this run no longer has must not outlive a rebuild
        (root / "plots" / name).unlink(missing_ok=True)
    page = _Page(run)
    body = "\n".join(
        [
            page.overview(),
            page.dataset(),
            page.configuration(),
            page.curves(),
            page.comparison(),
            page.evaluation(),
            page.mistakes(),
            page.findings(),
        ]
    )
    template = Template(_resource("template.html"))
    title = f"graftlab run {root.resolve().name}"
    nav = "".join(f'<a href="#{sid}">{html.escape(name)}</a>' for sid, name in page.toc)
    created = _dt.datetime.now().astimezone().isoformat(timespec="seconds")
    text = template.substitute(
        inputs=html.escape(",".join(sorted(inputs))),
        title=html.escape(title),
        subtitle=f"<p>{html.escape(str(root.resolve()))}</p>",
        style=_resource("style.css"),
        nav=nav,
        body=body,
        footer=f"Written by graftlab {_version()} on {html.escape(created)}. "
        "Rebuild with <code>graftlab report RUN</code>.",
    )
    out = root / "report.html"
    write_text(out, text)
    return out


def _built_from(report: Path) -> set[str]:
    """The inputs an existing report.html records (empty for none, or one from before)."""
    import re

    try:
        head = report.read_text(encoding="utf-8", errors="replace")[:4096]
    except OSError:
        return set()
    found = re.search(r'<meta name="graftlab-inputs" content="([^"]*)">', head)
    return {i for i in html.unescape(found.group(1)).split(",") if i} if found else set()


def _resource(name: str) -> str:
    return resources.files("graftlab.report").joinpath(name).read_text(encoding="utf-8")


def _version() -> str:
    from graftlab import __version__

    return __version__


# -- small HTML builders ----------------------------------------------------------------------
def _e(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any) -> str:
    """Numbers to 4 significant decimals, everything else as text; ``None`` as a dash."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "–"
        return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e4 else f"{value:.4f}"
    if isinstance(value, list | tuple):
        return ", ".join(_fmt(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _table(headers: list[str], rows: list[list[Any]], selected: int | None = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    lines = []
    for i, row in enumerate(rows):
        cells = "".join(
            f'<td class="num">{_e(_fmt(c))}</td>'
            if isinstance(c, int | float) and not isinstance(c, bool)
            else f"<td>{_e(_fmt(c))}</td>"
            for c in row
        )
        cls = ' class="selected"' if i == selected else ""
        lines.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(lines)}</tbody></table>"


def _kv_table(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in items)
    return f"<table><tbody>{rows}</tbody></table>"


def _figure(path: Path | None, alt: str, fig_id: str, caption: str = "") -> str:
    if path is None:
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    cap = f"<figcaption>{_e(caption)} (also <code>plots/{_e(Path(path).name)}</code>)</figcaption>"
    return (
        f'<figure><img id="{fig_id}" alt="{_e(alt)}" src="data:image/png;base64,{data}">'
        f"{cap}</figure>"
    )


def _columns(blocks: list[str]) -> str:
    """Blocks side by side, wrapping on narrow screens."""
    return '<div class="cols">' + "".join(f"<div>{b}</div>" for b in blocks) + "</div>"


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def _section(sid: str, title: str, content: str) -> str:
    return f'<section id="{sid}"><h2>{_e(title)}</h2>\n{content}\n</section>'


class _Page:
    """The sections of the report, each a method returning HTML."""

    def __init__(self, run: RunFiles) -> None:
        self.run = run
        self.plots = run.root / "plots"
        self.toc: list[tuple[str, str]] = []
        self.pred: Predictions | None = run.predictions.get("test") or run.predictions.get("val")
        self.metrics: dict | None = None
        if self.pred is not None:
            self.metrics = self._metrics(self.pred)

    def _add(self, sid: str, title: str, content: str) -> str:
        self.toc.append((sid, title))
        return _section(sid, title, content)

    def _metrics(self, pred: Predictions) -> dict | None:
        from graftlab.evaluation.metrics import full_metrics

        classes = self.run.classes or [str(i) for i in range(pred.probs.shape[1])]
        if len(classes) != pred.probs.shape[1]:
            self.run.problems.append(
                f"predictions/{pred.split}.npz has {pred.probs.shape[1]} columns for "
                f"{len(classes)} classes; metrics left out."
            )
            return None
        try:
            return full_metrics(pred.probs, pred.labels, classes, self.run.task)
        except ValueError as exc:
            self.run.problems.append(f"predictions/{pred.split}.npz: {exc}; metrics left out.")
            return None

    # -- sections -----------------------------------------------------------------------
    def overview(self) -> str:
        run, parts = self.run, []
        cfg = run.config or {}
        summary = run.summary or {}
        facts = [
            ("backbone", cfg.get("backbone") or (run.model_meta or {}).get("architecture")),
            ("strategy", cfg.get("strategy")),
            ("task", run.task),
            ("classes", len(run.classes) if run.classes else None),
            ("selected model", summary.get("selected")),
            ("execution", _describe_execution(summary.get("execution"))),
            ("fine-tuning execution", _describe_execution(summary.get("train_execution"))),
        ]
        parts.append(_kv_table([(k, v) for k, v in facts if v is not None]))
        if self.metrics:
            split = "test" if self.pred.split == "test" else "validation"
            n = self.metrics["n"]
            parts.append(
                f"<h3>Headline ({split} split, {n:,} images)</h3>" + self._cards(self.metrics)
            )
        for problem in run.problems:
            parts.append(_note(problem))
        return self._add("overview", "Overview", "\n".join(parts))

    def _cards(self, m: dict) -> str:
        cards = []
        for key, label in _HEADLINE:
            if m.get(key) is None:
                continue
            if key == "top_k_accuracy":
                label = f"top-{m.get('top_k')} accuracy"
            cards.append(
                f'<div class="card"><div class="v">{_e(_fmt(m[key]))}</div>'
                f'<div class="k">{_e(label)}</div></div>'
            )
        return f'<div class="cards">{"".join(cards)}</div>'

    def dataset(self) -> str:
        ds = self.run.dataset
        if not isinstance(ds, dict):
            return self._add("dataset", "Dataset", _note("No dataset summary (dataset.json)."))
        parts = []
        sizes = ds.get("image_size") or {}
        facts = [
            ("source", ds.get("source")),
            ("task", ds.get("task")),
            ("images", ds.get("num_images")),
            ("split sizes", _fmt_dict(ds.get("split_sizes"))),
            ("class imbalance (train, largest / smallest)", ds.get("imbalance_ratio")),
            (
                "image sizes (w × h)",
                f"{sizes['min_width']}–{sizes['max_width']} × "
                f"{sizes['min_height']}–{sizes['max_height']}"
                if {"min_width", "max_width", "min_height", "max_height"} <= set(sizes)
                else None,
            ),
            ("modes in the files", _fmt_dict(ds.get("modes"))),
            ("ignored files", _fmt_dict(ds.get("ignored"))),
        ]
        blocks = [
            "<h3>Summary</h3>" + _kv_table([(k, v) for k, v in facts if v not in (None, "", {})])
        ]
        counts = ds.get("counts")
        if isinstance(counts, dict) and counts:
            cols = [
                c
                for c in ("train", "val", "test", "total")
                if any(isinstance(v, dict) and c in v for v in counts.values())
            ]
            rows = [[name, *[(v or {}).get(c) for c in cols]] for name, v in counts.items()]
            blocks.append("<h3>Images per class and split</h3>" + _table(["class", *cols], rows))
        parts.append(_columns(blocks))
        skipped = ds.get("skipped") or []
        if skipped:
            rows = [[s.get("path"), s.get("reason")] for s in skipped[:20] if isinstance(s, dict)]
            more = f" (first 20 of {len(skipped)})" if len(skipped) > 20 else ""
            parts.append(f"<h3>Skipped files{more}</h3>" + _table(["path", "reason"], rows))
        return self._add("dataset", "Dataset", "\n".join(parts))

    def configuration(self) -> str:
        cfg, blocks = self.run.config, []
        used, not_applied = _settings.settings(self.run)
        if isinstance(cfg, dict):
            key = [(k, used[k]) for k in _KEY_SETTINGS if k in used]
            blocks.append("<h3>Training</h3>" + (_kv_table(key) if key else ""))
        else:
            blocks.append(_note("No configuration (config.json)."))
        found = _settings.param_groups(self.run) if _settings.finetuned(self.run) else None
        if found:
            groups, frozen = found
            rows = [
                [g.get("name"), g.get("lr"), g.get("params"), g.get("weight_decay")] for g in groups
            ]
            blocks.append(
                "<h3>Parameter groups (fine-tuning)</h3>"
                + _table(["group", "peak learning rate", "parameters", "weight decay"], rows)
                + (_note(f"Frozen: {frozen:,} parameters.") if frozen is not None else "")
            )
        prep = self.run.preprocessing
        if isinstance(prep, dict):
            blocks.append("<h3>Preprocessing</h3>" + _kv_table(list(prep.items())))
        else:
            blocks.append(_note("No preprocessing record (preprocess.json)."))
        parts = [_columns(blocks)]
        if not_applied:
            parts.append(
                "<h3>Not used by this run</h3>"
                + _table(
                    ["setting", "value", "why"],
                    [[k, cfg.get(k), w] for k, w in not_applied.items()],
                )
            )
        if isinstance(cfg, dict):
            rest = [(k, v) for k, v in used.items() if k not in _KEY_SETTINGS]
            if rest:
                parts.append(
                    "<details><summary>All settings</summary>" + _kv_table(rest) + "</details>"
                )
        return self._add("configuration", "Configuration", "\n".join(parts))

    def curves(self) -> str:
        rows = self.run.results
        phases = list(dict.fromkeys(r.get("phase") or "train" for r in rows or []))
        parts = []
        if not rows:
            parts.append(_note("No training history (results.csv) in this run."))
        elif phases != ["probe"]:  # one probe row is a point, not a curve: see the probe path
            png = plots.learning_curves(rows, self.plots / "learning_curves.png")
            caption = f"Loss and metric per epoch; one row per phase ({', '.join(phases)})."
            parts.append(
                _figure(png, "learning curves", "fig-curves", caption)
                or _note("results.csv has no numbers to plot.")
            )
        summary = self.run.summary or {}
        path = summary.get("probe_path")
        png = (
            plots.probe_path(path, summary.get("probe_weight_decay"), self.plots / "probe_path.png")
            if isinstance(path, list)
            else None
        )
        if png is not None:
            parts.append(
                "<h3>Linear probe</h3>"
                + _figure(
                    png,
                    "linear probe validation path",
                    "fig-probe",
                    "The probe is fitted on frozen features once per L2 strength, strong to weak; "
                    "validation picks the strength (dashed). It has no epochs.",
                )
            )
        if phases == ["probe"]:
            parts.append(_note("Only the linear probe was fitted: there is no fine-tuning curve."))
        eps = _settings.label_smoothing(self.run)
        if eps and rows:
            k = len(self.run.classes or []) or 2
            floor = _settings.smoothed_loss_floor(eps, k, self.run.task)
            parts.append(
                _note(
                    f"Training and validation losses include label smoothing (ε = {eps:g}): "
                    f"the lowest they can reach with {k} classes is {floor:.3f}, not 0. The test "
                    "log loss under the metrics below is computed without smoothing, so the two "
                    "are not comparable."
                )
            )
        title = "Learning curves" if phases != ["probe"] else "Linear probe"
        return self._add("curves", title, "\n".join(parts))

    def comparison(self) -> str:
        summary = self.run.summary
        if not isinstance(summary, dict):
            return self._add("comparison", "Probe vs fine-tune", _note("No summary.json."))
        names = [n for n in ("probe", "finetune") if n in summary]
        names += ["interpolated"] if isinstance(summary.get("interpolated"), dict) else []
        # One column per (split, metric) that some model reports, val first.
        cols: list[tuple[str, str]] = []
        for split in ("val", "test"):
            for name in names:
                for key, value in ((summary.get(name) or {}).get(split) or {}).items():
                    if _is_number(value) and (split, key) not in cols:
                        cols.append((split, key))
        headers = ["model", *[f"{split} {key.replace('_', ' ')}" for split, key in cols]]
        rows, selected = [], None
        for i, name in enumerate(names):
            part = summary.get(name)
            if not isinstance(part, dict):
                rows.append([name, *(["not run"] + [None] * (len(cols) - 1) if cols else [])])
                continue
            rows.append([name, *[(part.get(split) or {}).get(key) for split, key in cols]])
            if summary.get("selected") == name:
                selected = i
        parts = [_table(headers, rows, selected)] if rows else []
        if summary.get("selected"):
            parts.append(
                f"<p>Selected: <b>{_e(summary['selected'])}</b>. "
                f"{_e(summary.get('reason') or '')}</p>"
            )
        if isinstance(summary.get("timings"), dict):
            timings = list(summary["timings"].items())
            parts.append("<h3>Timings (seconds)</h3>" + _kv_table(timings))
        return self._add("comparison", "Probe vs fine-tune", "\n".join(parts))

    def evaluation(self) -> str:
        m, pred = self.metrics, self.pred
        if pred is None or m is None:
            text = "No predictions (predictions/test.npz) to evaluate"
            text += ": the run has no test split." if pred is None else "."
            return self._add("evaluation", "Test metrics", _note(text))
        title = "Test metrics" if pred.split == "test" else "Validation metrics (no test split)"
        parts = [
            f"<p>The {_e(pred.split)} split: <b>{m['n']:,} images</b>, scored by the selected "
            f"model (<code>predictions/{_e(pred.split)}.npz</code>).</p>",
            self._cards(m),
        ]
        if m.get("averaging"):
            parts.append(_note(m["averaging"]))
        per = m.get("per_class") or m.get("per_label") or []
        keys = ["precision", "recall", "f1", "support"]
        if per and "average_precision" in per[0]:
            keys.append("average_precision")
        parts.append(
            "<h3>Per class</h3>"
            + _table(
                ["class", *[k.replace("_", " ") for k in keys]],
                [[p["class"], *[p.get(k) for k in keys]] for p in per],
            )
        )
        figs = []
        if m["task"] != "multilabel":
            png = plots.confusion_matrix(
                m["confusion_matrix"], m["classes"], self.plots / "confusion_matrix.png"
            )
            figs.append(
                _figure(
                    png,
                    "confusion matrix",
                    "fig-confusion",
                    "Rows: true class; columns: predicted class; colour: row share.",
                )
            )
        else:
            rows = [
                [c, *np.ravel(cm).tolist()]
                for c, cm in zip(m["classes"], m["confusion_matrix"], strict=True)
            ]
            parts.append(
                "<h3>Per-label decisions at 0.5</h3>"
                + _table(["label", "TN", "FP", "FN", "TP"], rows)
            )
        png = plots.reliability_diagram(m["reliability"], m["ece"], self.plots / "reliability.png")
        figs.append(
            _figure(
                png,
                "reliability diagram",
                "fig-reliability",
                "Accuracy per confidence bin; bars below the diagonal are over-confident."
                + self._smoothing_caption(),
            )
        )
        parts.append(f'<div class="figrow">{"".join(figs)}</div>')
        return self._add("evaluation", title, "\n".join(parts))

    def _smoothing_caption(self) -> str:
        eps = _settings.label_smoothing(self.run)
        if not eps or self.run.task == "multilabel":
            return ""
        k = len(self.run.classes or []) or 2
        return (
            f" Trained with label smoothing (ε = {eps:g}), the model aims at a confidence of "
            f"{1 - eps + eps / k:.3f}, not 1: bars above the diagonal near the top are by design."
        )

    def mistakes(self) -> str:
        pred = self.pred
        if pred is None:
            return self._add("mistakes", "Most confident mistakes", _note("No predictions."))
        items = confident_mistakes(pred, self.run.classes, self.run.task)
        if not items:
            return self._add(
                "mistakes", "Most confident mistakes", _note("No mistakes on this split.")
            )
        if not pred.paths:
            return self._add(
                "mistakes",
                "Most confident mistakes",
                _note("The predictions file has no image paths to show."),
            )
        notes = ""
        if not any(_settings.image_exists(i["path"]) for i in items):
            notes += _note(
                "The images of these predictions are gone (moved or deleted), so the gallery "
                "shows placeholders; the run's numbers do not depend on them."
            )
        hidden = plots.undrawable(self.run.classes or [])
        if hidden:
            notes += _note(
                f"No installed font draws {len(hidden)} class name(s) ({', '.join(hidden[:5])}); "
                "the figures show their class numbers (#i, in class order). On Debian: "
                "apt-get install fonts-noto-cjk."
            )
        png = plots.mistakes_gallery(items, self.plots / "mistakes.png", classes=self.run.classes)
        return self._add(
            "mistakes",
            "Most confident mistakes",
            notes
            + _figure(
                png,
                "most confident mistakes",
                "fig-mistakes",
                f"The {len(items)} wrong predictions made with the highest confidence "
                f"({pred.split} split): often label noise, or classes a person confuses too.",
            ),
        )

    def findings(self) -> str:
        findings = self.run.findings
        if not findings:
            return self._add(
                "findings",
                "Doctor's findings",
                _note("None: the doctor reported no findings for this run."),
            )
        order = {"error": 0, "warning": 1, "info": 2}
        blocks = []
        for f in sorted(findings, key=lambda f: order.get(f.get("severity"), 3)):
            sev = str(f.get("severity", "info"))
            refs = f.get("references") or []
            blocks.append(
                f'<div class="finding {_e(sev)}"><span class="sev {_e(sev)}">{_e(sev)}</span>'
                f"<b>{_e(f.get('code', ''))}</b> {_e(f.get('title', ''))}"
                f' <span class="note">[{_e(f.get("category", ""))}]</span>'
                + (f"<pre>{_e(f['evidence'])}</pre>" if f.get("evidence") else "")
                + (f"<p>{_e(f['explanation'])}</p>" if f.get("explanation") else "")
                + (f"<p><b>Fix:</b></p><pre>{_e(f['fix'])}</pre>" if f.get("fix") else "")
                # References are text, not links: the page loads nothing from outside.
                + (
                    f'<p class="note">References: {_e("; ".join(map(str, refs)))}</p>'
                    if refs
                    else ""
                )
                + "</div>"
            )
        return self._add("findings", "Doctor's findings", "\n".join(blocks))


def confident_mistakes(
    pred: Predictions, classes: list[str] | None, task: str, limit: int = GALLERY_SIZE
) -> list[dict]:
    """The wrong predictions with the highest confidence, most confident first.

    Single-label: the predicted class is wrong, ranked by its probability. Multi-label: the
    predicted label set differs from the true one, ranked by the most confidently wrong label
    decision (``max |p - y|`` over the wrong ones).
    """
    probs = pred.probs
    classes = classes or [str(i) for i in range(probs.shape[1])]
    out = []
    if task == "multilabel":
        y = pred.labels.astype(bool)
        decided = probs >= 0.5
        wrong = decided != y
        score = np.where(wrong, np.abs(probs - y), 0.0).max(axis=1)
        for i in np.argsort(-score, kind="stable"):
            if not wrong[i].any():
                break
            out.append(
                {
                    "index": int(i),
                    "path": pred.paths[i] if pred.paths else "",
                    "true": "|".join(classes[j] for j in np.flatnonzero(y[i])) or "(none)",
                    "pred": "|".join(classes[j] for j in np.flatnonzero(decided[i])) or "(none)",
                    "confidence": float(score[i]),
                }
            )
            if len(out) == limit:
                break
        return out
    top = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    wrong = np.flatnonzero(top != pred.labels)
    for i in wrong[np.argsort(-conf[wrong], kind="stable")][:limit]:
        out.append(
            {
                "index": int(i),
                "path": pred.paths[i] if pred.paths else "",
                "true": classes[int(pred.labels[i])],
                "pred": classes[int(top[i])],
                "confidence": float(conf[i]),
            }
        )
    return out


def _describe_execution(execution: Any) -> str | None:
    if not isinstance(execution, dict) or "device" not in execution:
        return None
    text = f"{execution['device']}, {execution.get('precision', 'fp32')}"
    return text + (", channels_last" if execution.get("channels_last") else "")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fmt_dict(d: Any) -> str | None:
    if not isinstance(d, dict) or not d:
        return None
    return ", ".join(f"{k}: {_fmt(v)}" for k, v in d.items())
