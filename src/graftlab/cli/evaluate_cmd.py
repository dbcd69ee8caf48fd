"""``graftlab evaluate | predict | export | report``: use a trained model and look at a run."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from graftlab.cli._console import console as make_console

EVALUATE_HELP = """Evaluate a trained model on labelled data: accuracy, balanced accuracy, macro-F1,
top-5, per-class precision/recall/F1, confusion matrix, calibration (ECE) and log loss.

RUN_OR_MODEL is a run directory (runs/train/exp) or its model/ directory. DATA is a
class-per-folder tree, a path,label CSV or another run directory; without DATA the run's own
split manifest is used. Metrics and plots are saved under runs/evaluate/<name>/.

What is scored: on the run's own data (no DATA, or the folder it was trained on) its test
split, the images training never saw; on any other data every image. --split picks
another split. The output always names the split and the number of images.

[bold]Examples[/bold]

  graftlab evaluate runs/train/exp

  graftlab evaluate runs/train/exp ./new_photos --tta

  graftlab evaluate runs/train/exp --json > metrics.json
"""

PREDICT_HELP = """Predict the class of image files, folders (searched recursively) and globs.

Each image gets the model's own preprocessing. Unreadable files are listed on stderr and in
the error column; the others are still predicted. Without --out, CSV goes to stdout. Exit
code 1 when an input matches no file or no image could be predicted.

[bold]Examples[/bold]

  graftlab predict runs/train/exp photo.jpg ./more_photos "scans/**/*.png"

  graftlab predict runs/train/exp ./inbox --out preds.csv --top-k 3

  graftlab predict runs/train/exp ./inbox --out preds.json
"""

EXPORT_HELP = """Export a trained model to ONNX (default) or TorchScript.

The graph takes uint8 RGB images, NHWC (N, H, W, 3), at the model's input size and returns
probabilities; normalisation is inside the graph. Resize the shorter side to
floor(input_size / crop_pct) and centre-crop input_size before calling it (both are stored
in the ONNX metadata). --verify compares the exported file with PyTorch on sample images.

[bold]Examples[/bold]

  graftlab export runs/train/exp --verify

  graftlab export runs/train/exp --format torchscript --out model.pt

  graftlab export runs/train/exp --opset 17 --out model-opset17.onnx
"""

REPORT_HELP = """Rebuild a run's report.html (self-contained, readable offline) and its plots.

A report is not replaced by a worse one: if the run lost files or images that the current
report was built from, it is kept (and the command says what is missing) unless --force.

[bold]Examples[/bold]

  graftlab report runs/train/exp
"""

#: Largest probability difference --verify accepts between the export and PyTorch (fp32).
VERIFY_ATOL = 1e-4


def register(app: typer.Typer) -> None:
    """Add ``evaluate``, ``predict``, ``export`` and ``report`` to ``app``."""
    app.command("evaluate", help=EVALUATE_HELP, no_args_is_help=True)(evaluate)
    app.command("predict", help=PREDICT_HELP, no_args_is_help=True)(predict)
    app.command("export", help=EXPORT_HELP, no_args_is_help=True)(export)
    app.command("report", help=REPORT_HELP, no_args_is_help=True)(report)


def evaluate(
    model: Annotated[
        Path, typer.Argument(metavar="RUN_OR_MODEL", help="Run directory or model directory.")
    ],
    data: Annotated[
        Path | None,
        typer.Argument(metavar="[DATA]", help="Folder, CSV or run; default: the run's manifest."),
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split",
            help="train, val, test or all. Default: test on the run's data, all on other data.",
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics as one JSON object on stdout.")
    ] = False,
    tta: Annotated[
        bool, typer.Option("--tta", help="Also report horizontal-flip test-time augmentation.")
    ] = False,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Images per batch (default: by size).")
    ] = None,
    project: Annotated[
        Path, typer.Option("--project", help="Parent of the evaluate/<name> directory.")
    ] = Path("runs"),
    name: Annotated[str, typer.Option("--name", help="Name of this evaluation.")] = "exp",
) -> None:
    typer.echo(f"Evaluating {model} on {data or 'the run data'} ...", err=True)
    from graftlab._io import write_json
    from graftlab._paths import run_dir_for
    from graftlab.cli._startup import heavy_imports

    with heavy_imports():
        from graftlab.evaluation import evaluate as run_evaluate
        from graftlab.report import plots

    result = run_evaluate(model, data, split, tta, batch_size=batch_size, progress=True)
    for item in result["skipped"]:
        typer.secho(
            f"graftlab: warning: skipped {item['path']}: {item['reason']}", err=True, fg="yellow"
        )
    typer.echo(f"Scored {result['scored']}.", err=True)
    with run_dir_for(project, "evaluate", name) as out:
        write_json(out / "metrics.json", result)
        plots.reliability_diagram(result["reliability"], result["ece"], out / "reliability.png")
        if result["task"] != "multilabel":
            plots.confusion_matrix(
                result["confusion_matrix"], result["classes"], out / "confusion_matrix.png"
            )
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=_json_default))
    else:
        print_metrics(result, make_console())
    typer.echo(f"Saved metrics and plots to {out}", err=True)


def _json_default(obj: Any) -> Any:
    return obj.tolist() if hasattr(obj, "tolist") else str(obj)


def print_metrics(result: dict, console: Console) -> None:
    """The headline numbers, then the per-class table, as rich tables."""
    title = result.get("scored") or f"the {result['split']} split: {result['n']} images"
    console.print(f"[bold]{escape(title[:1].upper() + title[1:])}[/bold]", soft_wrap=True)
    head = Table()
    head.add_column("metric")
    head.add_column("value", justify="right")
    keys = [
        "accuracy",
        "balanced_accuracy",
        "macro_f1",
        "top_k_accuracy",
        "exact_match",
        "hamming_accuracy",
        "mAP",
        "ece",
        "log_loss",
    ]
    for key in keys:
        if result.get(key) is None:
            continue
        label = f"top-{result['top_k']} accuracy" if key == "top_k_accuracy" else key
        value = _num(result[key])
        if "tta" in result and result["tta"].get(key) is not None:
            value += f"  (TTA {_num(result['tta'][key])})"
        head.add_row(label.replace("_", " "), value)
    console.print(head)
    per = result.get("per_class") or result.get("per_label") or []
    table = Table(title="per class", title_justify="left")
    for col in ("class", "precision", "recall", "f1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for p in per:
        table.add_row(
            escape(p["class"]),
            _num(p["precision"]),
            _num(p["recall"]),
            _num(p["f1"]),
            str(p["support"]),
        )
    console.print(table)
    if result.get("averaging"):
        console.print(f"[dim]{escape(result['averaging'])}[/dim]", soft_wrap=True)


def _num(value: float) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.4f}"


def predict(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Run or model directory.")],
    paths: Annotated[
        list[str], typer.Argument(metavar="PATHS...", help="Image files, folders, glob patterns.")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", help="Write predictions to FILE.csv or FILE.json.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", help="Most probable classes per image.")] = 5,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", help="Images per batch (default: by size).")
    ] = None,
) -> int:
    from graftlab.errors import ConfigError

    if out is not None and out.suffix.lower() not in (".csv", ".json"):
        raise ConfigError(f"--out must end in .csv or .json. Got {out}.")
    typer.echo(f"Predicting {len(paths)} input(s) with {model} ...", err=True)
    from graftlab.cli._startup import heavy_imports

    with heavy_imports():
        from graftlab.evaluation.predict import NOT_FOUND, format_predictions, write_predictions
        from graftlab.evaluation.predict import predict as run_predict

    rows = run_predict(model, paths, top_k=top_k, batch_size=batch_size, progress=True)
    failed = [r for r in rows if r["error"]]
    for r in failed:
        typer.secho(f"graftlab: warning: {r['path']}: {r['error']}", err=True, fg="yellow")
    if out is None:
        typer.echo(format_predictions(rows, "csv"), nl=False)
    else:
        write_predictions(rows, out)
    predicted = len(rows) - len(failed)
    typer.echo(
        f"Predicted {predicted} image(s); {len(failed)} could not be read."
        + (f" Wrote {out}." if out else ""),
        err=True,
    )
    # Like cp or ls: an input that names nothing is an error, even when others worked.
    missing = sum(r["error"] in NOT_FOUND for r in failed)
    return 1 if predicted == 0 or missing else 0


def export(
    model: Annotated[Path, typer.Argument(metavar="MODEL", help="Run or model directory.")],
    format: Annotated[str, typer.Option("--format", help="onnx or torchscript.")] = "onnx",
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Output file; default RUN/model.onnx or model.torchscript.pt."),
    ] = None,
    verify: Annotated[
        bool, typer.Option("--verify", help="Compare the export with PyTorch on sample images.")
    ] = False,
    opset: Annotated[int | None, typer.Option("--opset", help="ONNX opset version.")] = None,
) -> int:
    typer.echo(f"Exporting {model} to {format} ...", err=True)
    from graftlab.artifacts.export import export as run_export

    result = run_export(model, format, out, opset=opset, verify=verify)
    shape = "x".join(str(d) for d in result.input_shape)
    typer.echo(f"Wrote {result.path}")
    opset_text = f", opset {result.opset}" if result.opset else ""
    typer.echo(
        f"  {result.format} via {result.exporter}{opset_text}; input 'images' uint8 "
        f"NHWC {shape} RGB, output 'probs' float32"
    )
    for note in result.notes:
        typer.secho(f"  note: {note}", fg="yellow")
    if result.verify is None:
        return 0
    v = result.verify
    line = (
        f"  verify: max |p_export - p_torch| = {v['max_abs_diff']:.2e} on {v['n_images']} "
        f"{v['images']} image(s); same top-1: {v['same_top1']}"
    )
    if "max_abs_diff_vs_predict" in v:
        line += f"; vs graftlab predict: {v['max_abs_diff_vs_predict']:.2e}"
    typer.echo(line)
    worst = max(v["max_abs_diff"], v.get("max_abs_diff_vs_predict", 0.0))
    if worst > VERIFY_ATOL:
        typer.secho(
            f"graftlab: error: the export differs from PyTorch by {worst:.2e} (> {VERIFY_ATOL:g}).",
            err=True,
            fg="red",
        )
        return 1
    return 0


def report(
    run_dir: Annotated[Path, typer.Argument(metavar="RUN", help="Run directory.")],
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Rebuild even when the run lost files the current report shows."
        ),
    ] = False,
) -> None:
    typer.echo(f"Building the report of {run_dir} ...", err=True)
    from graftlab.report import build_report

    path = build_report(run_dir, force=force)
    typer.echo(f"Wrote {path}")
