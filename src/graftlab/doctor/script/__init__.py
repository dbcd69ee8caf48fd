"""Static checks of other people's Keras / PyTorch transfer-learning scripts.

``check_script(path_or_source)`` parses a ``.py`` file, a converted or raw ``.ipynb`` notebook
or a pasted fragment, follows the values through the script (image sizes, generators, models,
preprocessing functions) and returns :class:`~graftlab.doctor.findings.Finding` objects that
name the root cause with the offending lines, the arithmetic and the fix.

Codes: ``GL1xx`` Keras, ``GL2xx`` PyTorch / torchvision / timm, ``GL3xx`` either framework.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from graftlab.doctor.findings import Finding
from graftlab.doctor.script import (  # noqa: F401  (importing registers the checks)
    aug_strength,
    bn_compare,
    bn_modes,
    cache_rules,
    common_rules,
    fastai_rates,
    forward_rules,
    keras_blocks,
    keras_decoders,
    keras_eval_resize,
    keras_hub,
    keras_label_list,
    keras_model,
    keras_partial_load,
    keras_pipeline,
    keras_sequence,
    keras_split,
    keras_train,
    label_encoders,
    label_entries,
    label_names,
    label_pairing,
    lightning_rules,
    pair_shuffle,
    partial_pipeline,
    pretrained_rules,
    role_swap_rules,
    skorch_rules,
    stat_rules,
    torch_criterion,
    torch_data,
    torch_model,
    torch_pixels,
    torch_samplers,
    torch_schedules,
    torch_softmax_default,
    torch_train,
    torch_wiring,
    transform_input,
    weight_stats,
)
from graftlab.doctor.script._rules import CHECKS, Ctx, run_checks
from graftlab.doctor.script.parse import load_source

__all__ = ["CHECKS", "check_script"]

_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def check_script(path_or_source: str | Path, *, filename: str | None = None) -> list[Finding]:
    """Diagnose a training script statically.

    Args:
        path_or_source: Path of a ``.py`` or ``.ipynb`` file, or the source text.
        filename: Name to show in evidence (``file:line``); defaults to the path, or
            ``<script>`` for text.

    Returns:
        Findings, errors first, then by line.

    Raises:
        DataError: A path was given that does not exist or cannot be read.
    """
    src = load_source(path_or_source, filename)
    ctx = Ctx.build(src)
    findings = _one_per_cause(run_checks(ctx))
    if src.notes:
        findings.append(
            Finding(
                "GL300",
                "other",
                "info",
                _parse_title(src),
                "\n".join(src.evidence(n) for n in sorted({*src.dropped, *src.converted})[:5]),
                " ".join(src.notes),
                "Make the file valid Python 3 (for example convert Python 2 print statements, "
                "remove merge-conflict markers or unfinished lines) to have every line checked.",
                ["https://docs.python.org/3/library/ast.html"],
            )
        )
    return sorted(findings, key=lambda f: (_SEVERITY_ORDER[f.severity], _first_line(f)))


def _parse_title(src) -> str:
    # imports, prints and pass give the checks nothing to read
    analysable = any(
        not isinstance(st, ast.Import | ast.ImportFrom | ast.Pass)
        and not (
            isinstance(st, ast.Expr)
            and isinstance(st.value, ast.Call)
            and getattr(st.value.func, "id", "") == "print"
        )
        for st in src.tree.body
    )
    if not analysable:
        return "Nothing in the file could be analysed"
    if src.dropped:
        return "Part of the script could not be parsed; the rest was analysed"
    return "Python 2 lines were read as Python 3; the rest was analysed as written"


def _one_per_cause(findings: list[Finding]) -> list[Finding]:
    """Findings with the same code and title are one cause seen at several places (a transform
    built once and used by several loaders): one finding, every place in its evidence."""
    out: dict[tuple[str, str], Finding] = {}
    for f in findings:
        key = (f.code, f.title)
        if key not in out:
            out[key] = f
            continue
        seen = out[key].evidence.split("\n")
        extra = [ln for ln in f.evidence.split("\n") if ln not in seen]
        if extra:
            out[key] = replace(out[key], evidence="\n".join([*seen, *extra]))
    return list(out.values())


def _first_line(f: Finding) -> int:
    head = f.evidence.split(": ", 1)[0]
    try:
        return int(head.rsplit(":", 1)[-1])
    except ValueError:
        return 0
