"""The doctor on the real-world corpus: recall, clean-script findings, false alarms, cost.

    python benchmarks/doctor_recall.py            # the tables below, dev and test parts
    python benchmarks/doctor_recall.py --misses   # also every missed cause of the dev part
    python benchmarks/doctor_recall.py --misses all   # and of the test part (report, never tune)
    python benchmarks/doctor_recall.py --json     # the summary as JSON on stdout
    python benchmarks/doctor_recall.py --json out.json   # ... or into a file

Reads ``tests/doctor/realworld/``: ``cases/<id>/`` (a failing case from a public thread, labelled
with the cause the accepted answer or the maintainer gave) and ``clean/<id>/`` (correct scripts
from official guides and popular repositories). Each case's files are diagnosed together, as one
``graftlab doctor FILE...`` would. A labelled cause counts as found when a finding of its
category is reported at ``warning`` or ``error``, or names it as its likely cause (``causes``;
counted apart as "via a likely cause"). Recall is given per split, per origin (``reconstruction``:
the poster's own code or log; ``reproduction``: a log produced here by reproducing the thread)
and per category, with the mean over categories and the worst one. False alarms: ``error``
findings on a bug case whose category is none of the case's labels, except a category the
case lists in ``also_true``: a second bug of the posted code that the answer did not name,
checked against the source and explained in its ``why`` (printed apart). Throughput: the corpus
folder walked as ``graftlab doctor tests/doctor/realworld`` would. Tune rules on the dev part
only; the test part is measured, never read to design a rule.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tracemalloc
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "doctor" / "realworld"
FOUND_AT = ("error", "warning")


@dataclass
class CaseResult:
    """One case: what was labelled, what the doctor said, and its cost."""

    id: str
    split: str
    origin: str
    clean: bool
    labels: list[str]
    reported: dict[str, str]  # category -> most certain severity reported
    also_true: list[str]  # real bugs of the posted code the answer did not name (case.json)
    errors: list[tuple[str, str, str]]  # (code, category, title) of every error
    warnings: list[tuple[str, str, str]]
    seconds: float
    n_files: int
    size: int
    failure: str = ""  # the doctor could not read the case at all
    hits: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    via_cause: list[str] = field(default_factory=list)  # hits named only as a likely cause


def load_cases(root: Path = CORPUS) -> list[tuple[Path, dict]]:
    """``(folder, case.json)`` of every case and clean script, sorted by id."""
    out = []
    for part in ("cases", "clean"):
        for path in sorted((root / part).glob("*/case.json")):
            out.append((path.parent, json.loads(path.read_text("utf-8"))))
    return out


def run_case(folder: Path, case: dict) -> CaseResult:
    from graftlab.doctor.targets import diagnose
    from graftlab.errors import GraftlabError

    files = [folder / name for name in case["files"]]
    start = time.perf_counter()
    failure = ""
    try:
        pairs = diagnose(files)
    except GraftlabError as exc:
        pairs, failure = [], str(exc)
    seconds = time.perf_counter() - start
    rank = {"error": 0, "warning": 1, "info": 2}
    reported: dict[str, str] = {}
    named: dict[str, str] = {}  # categories named only as a finding's likely cause
    for _, f in pairs:
        for seen, c in [(reported, f.category), *((named, c) for c in getattr(f, "causes", []))]:
            if c not in seen or rank[f.severity] < rank[seen[c]]:
                seen[c] = f.severity
    labels = list(case.get("categories", []))
    hits = [c for c in labels if reported.get(c) in FOUND_AT or named.get(c) in FOUND_AT]
    return CaseResult(
        id=case["id"],
        split=case.get("split", "dev"),
        origin=case.get("origin", "reconstruction"),
        clean=bool(case.get("clean")),
        labels=labels,
        reported=reported,
        also_true=[a["category"] for a in case.get("also_true", [])],
        errors=[(f.code, f.category, f.title) for _, f in pairs if f.severity == "error"],
        warnings=[(f.code, f.category, f.title) for _, f in pairs if f.severity == "warning"],
        seconds=seconds,
        n_files=len(files),
        size=sum(p.stat().st_size for p in files if p.is_file()),
        failure=failure,
        hits=hits,
        misses=[c for c in labels if c not in hits],
        via_cause=[c for c in hits if reported.get(c) not in FOUND_AT],
    )


def _recall(bugs: list[CaseResult]) -> dict:
    labelled = sum(len(r.labels) for r in bugs)
    found = sum(len(r.hits) for r in bugs)
    return {
        "cases": len(bugs),
        "causes": labelled,
        "found": found,
        "recall": found / labelled if labelled else 0.0,
        "cases_hit": sum(bool(r.hits) for r in bugs),
        "via_cause": sum(len(r.via_cause) for r in bugs),
    }


def summarise(results: list[CaseResult]) -> dict:
    """The numbers the benchmark prints and the regression test pins."""
    out: dict = {"parts": {}, "origins": {}, "clean": {}, "false_alarms": [], "also_true": []}
    for split in ("dev", "test"):
        bugs = [r for r in results if not r.clean and r.split == split]
        per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for r in bugs:
            for c in r.labels:
                per_cat[c][0] += 1
                per_cat[c][1] += c in r.hits
        rates = {c: k / n for c, (n, k) in per_cat.items() if c != "other"}
        worst = min(rates, key=lambda c: (rates[c], -per_cat[c][0])) if rates else ""
        out["parts"][split] = {
            **_recall(bugs),
            "categories": {c: tuple(v) for c, v in sorted(per_cat.items())},
            "category_mean": sum(rates.values()) / len(rates) if rates else 0.0,
            "category_worst": [worst, rates.get(worst, 0.0), *per_cat.get(worst, [0, 0])],
            "misses": [(r.id, c) for r in bugs for c in r.misses],
        }
        for origin in sorted({r.origin for r in bugs}):
            out["origins"][f"{split}/{origin}"] = _recall([r for r in bugs if r.origin == origin])
    for r in results:
        if r.clean:
            out["clean"][r.id] = {"errors": r.errors, "warnings": r.warnings, "split": r.split}
        else:
            outside = [(r.id, r.split, code, cat, title) for code, cat, title in r.errors]
            outside = [e for e in outside if e[3] not in r.labels]
            out["false_alarms"] += [e for e in outside if e[3] not in r.also_true]
            out["also_true"] += [e for e in outside if e[3] in r.also_true]
    clean = out["clean"].values()
    out["clean_summary"] = {
        "scripts": len(clean),
        "with_error": sum(bool(v["errors"]) for v in clean),
        "max_warnings": max((len(v["warnings"]) for v in clean), default=0),
        "over_one_warning": sum(len(v["warnings"]) > 1 for v in clean),
    }
    n_files = sum(r.n_files for r in results)
    total = sum(r.seconds for r in results)
    out["cost"] = {
        "files": n_files,
        "seconds": total,
        "ms_per_file": 1000 * total / n_files if n_files else 0.0,
    }
    return out


def folder_throughput(root: Path = CORPUS) -> dict:
    """Files per second of the folder walk (``graftlab doctor <folder>``) over the corpus."""
    from graftlab.doctor.targets import scan

    start = time.perf_counter()
    results = list(scan(root))
    seconds = time.perf_counter() - start
    return {
        "files": len(results),
        "seconds": seconds,
        "files_per_s": len(results) / seconds if seconds else 0.0,
    }


def peak_on_largest(results: list[CaseResult], cases: list[tuple[Path, dict]]) -> dict:
    """Time and peak Python heap (tracemalloc) of the doctor on the largest case, run again."""
    largest = max(results, key=lambda r: r.size)
    folder, case = next((f, c) for f, c in cases if c["id"] == largest.id)
    tracemalloc.start()
    start = time.perf_counter()
    run_case(folder, case)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"id": largest.id, "bytes": largest.size, "seconds": seconds, "peak_mb": peak / 1e6}


def report(summary: dict, largest: dict, walk: dict, *, misses: str | None) -> str:
    lines = []
    for split, part in summary["parts"].items():
        worst, rate, n, k = part["category_worst"]
        lines.append(
            f"{split:>4}: recall {part['recall']:.3f} ({part['found']}/{part['causes']} causes, "
            f"{part['via_cause']} via a likely cause), {part['cases_hit']}/{part['cases']} cases "
            f"with >= 1 hit; per category: mean {part['category_mean']:.3f}, worst {worst} "
            f"{rate:.2f} ({k}/{n})"
        )
    for key, part in summary["origins"].items():
        lines.append(
            f"  {key:<24} recall {part['recall']:.3f} ({part['found']}/{part['causes']}), "
            f"{part['cases']} cases"
        )
    lines.append("")
    cats = sorted({c for p in summary["parts"].values() for c in p["categories"]})
    lines.append(f"{'category':<36}{'dev found/labelled':>20}{'test found/labelled':>21}")
    for c in cats:
        cells = []
        for split in ("dev", "test"):
            n, k = summary["parts"][split]["categories"].get(c, (0, 0))
            cells.append(f"{k}/{n}" if n else "-")
        lines.append(f"{c:<36}{cells[0]:>20}{cells[1]:>21}")
    lines.append("")
    clean, cs = summary["clean"], summary["clean_summary"]
    noisy = {i: v for i, v in clean.items() if v["errors"] or v["warnings"]}
    lines.append(
        f"clean scripts: {cs['scripts']}; with an error: {cs['with_error']}; most warnings on "
        f"one script: {cs['max_warnings']}; with more than one warning: {cs['over_one_warning']}"
    )
    for cid, v in sorted(noisy.items()):
        for sev in ("errors", "warnings"):
            for code, cat, title in v[sev]:
                lines.append(f"  {cid}: {sev[:-1]} {code} {cat}: {title}")
    lines.append("")
    fa = summary["false_alarms"]
    lines.append(f"false alarms (errors outside a bug case's labels): {len(fa)}")
    for cid, split, code, cat, title in fa:
        lines.append(f"  [{split}] {cid}: {code} {cat}: {title}")
    also = summary["also_true"]
    lines.append(
        f"errors on a second bug of the posted code that the answer did not name "
        f"(case.json also_true, checked against the source): {len(also)}"
    )
    for cid, split, code, cat, title in also:
        lines.append(f"  [{split}] {cid}: {code} {cat}: {title}")
    lines.append("")
    cost = summary["cost"]
    lines.append(
        f"cost: {cost['files']} files in {cost['seconds']:.1f} s, "
        f"{cost['ms_per_file']:.0f} ms per file (in-process, after imports)"
    )
    lines.append(
        f"folder walk of the corpus: {walk['files']} files in {walk['seconds']:.2f} s, "
        f"{walk['files_per_s']:.0f} files/s"
    )
    lines.append(
        f"largest input: {largest['id']} ({largest['bytes'] / 1e3:.0f} kB): "
        f"{largest['seconds']:.2f} s, peak Python heap {largest['peak_mb']:.1f} MB"
    )
    # Test misses are printed only on request, each line tagged, so that whoever tunes the
    # rules can read the dev misses without seeing what the test part holds.
    for split in {"dev": ("dev",), "all": ("dev", "test")}.get(misses or "", ()):
        lines.append("")
        lines.append(
            f"{split} misses" + (" (measure only, do not tune)" if split == "test" else "")
        )
        for cid, c in summary["parts"][split]["misses"]:
            lines.append(f"  [{split}] {cid}: {c}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--misses",
        nargs="?",
        const="dev",
        choices=("dev", "all"),
        help="list the dev part's missed causes ('all': the test part's too, to report, not tune)",
    )
    parser.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="PATH",
        help="the summary as JSON: on stdout (no PATH, instead of the tables) or into PATH",
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    import graftlab.doctor.script  # noqa: F401  (import cost outside the per-file timing)

    cases = load_cases()
    results = [run_case(folder, case) for folder, case in cases]
    summary = summarise(results)
    largest = peak_on_largest(results, cases)
    walk = folder_throughput()
    data = {**summary, "largest": largest, "folder": walk}
    if args.json == "-":
        print(json.dumps(data, indent=2))
        return 0
    print(report(summary, largest, walk, misses=args.misses))
    if args.json:
        Path(args.json).write_text(json.dumps(data, indent=2))
    return 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # piped into head: the reader has what it wanted
        sys.stderr.close()
        raise SystemExit(0) from None
