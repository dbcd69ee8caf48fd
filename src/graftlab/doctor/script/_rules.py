"""The registry of script checks and what every check receives."""

from __future__ import annotations

import ast
import signal
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graftlab._registry import Registry
from graftlab.doctor._checks import declared
from graftlab.doctor.findings import Finding
from graftlab.doctor.script.flow import Program
from graftlab.doctor.script.parse import Source

#: CPU seconds all checks of one script may take together; pasted files are untrusted input.
#: CPU time, not wall time: the findings of one file must not depend on what else the machine
#: runs (at load 5 on 2 cores a 5 MB paste ran out of a wall-clock budget and lost its finding).
CHECK_BUDGET_S = 5.0


class _OutOfTime(BaseException):
    """Raised by the timer inside whatever check is running (BaseException: checks catch
    Exception, and must not swallow this)."""


class UndeclaredCheck(ValueError):
    """A rule emitted a code the catalogue does not have: a bug in the rule, never in the script."""


#: Script checks by theme name; each adds findings to the context it is given.
CHECKS: Registry[Callable[[Ctx], None]] = Registry("script check")


def check(name: str) -> Callable[[Callable[[Ctx], None]], Callable[[Ctx], None]]:
    """Register a check under ``name`` (``keras.loss``, ``torch.eval`` ...)."""
    return CHECKS.register(name)


@dataclass
class Ctx:
    """The analysed script and the findings so far.

    Attributes:
        src: Text, line mapping and parse notes.
        prog: Trace and data flow.
        keras: The script imports Keras or TensorFlow.
        torch: The script imports PyTorch.
        tf2: The script imports Keras through TensorFlow (``tf.keras``), so TF 2 semantics apply.
    """

    src: Source
    prog: Program
    keras: bool = False
    torch: bool = False
    tf2: bool = False
    findings: list[Finding] = field(default_factory=list)
    cache: dict = field(default_factory=dict)  # per-framework analyses shared by checks
    _seen: set = field(default_factory=set)

    @classmethod
    def build(cls, src: Source) -> Ctx:
        prog = Program(src.tree, [name for _, name in src.parts])
        mods = set()
        for node in ast.walk(src.tree):
            if isinstance(node, ast.Import):
                mods.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods.add(node.module)
        top = {m.split(".")[0] for m in mods}
        keras = bool(top & {"keras", "tensorflow", "tf_keras"})
        torch = bool(
            top & {"torch", "torchvision", "timm", "fastai", "pytorch_lightning", "lightning"}
        )
        if not keras and not torch:  # a fragment without imports: guess from what it calls
            names = {c.name for c in prog.calls}
            keras = bool(names & {"Dense", "compile", "ImageDataGenerator", "flow_from_directory"})
            torch = bool(names & {"Linear", "CrossEntropyLoss", "DataLoader", "backward"})
        tf2 = "tensorflow" in top
        if not top & {"keras", "tensorflow", "tf_keras"} and not prog.bindings("tf"):
            # imports left out: ``tf.keras...`` / ``tf.data`` read through the usual alias
            tf2 = any(isinstance(n, ast.Name) and n.id == "tf" for n in ast.walk(src.tree))
        return cls(src, prog, keras, torch, tf2)

    def add(
        self,
        code: str,
        category: str,
        severity: str,
        title: str,
        lines: Iterable[int],
        explanation: str,
        fix: str,
        refs: Iterable[str] = (),
    ) -> None:
        """Record a finding once; evidence is ``file:line: code`` for each line, in order.

        Raises:
            UndeclaredCheck: ``code`` is not in the catalogue (``_checks.declare``) or is
                declared with another category.
        """
        entry = declared(code)
        if entry is None or entry.category != category:
            raise UndeclaredCheck(
                f"script check code {code} ({category}) is not declared in the catalogue"
                + (f" (declared as {entry.category})" if entry else "")
            )
        lines = sorted({n for n in lines if n})
        key = (code, tuple(lines))
        if key in self._seen:
            return
        self._seen.add(key)
        evidence = "\n".join(self.src.evidence(n) for n in lines)
        self.findings.append(
            Finding(code, category, severity, title, evidence, explanation, fix, list(refs))
        )

    def line(self, node: ast.AST | None) -> int:
        return getattr(node, "lineno", 0) or 0


def run_checks(ctx: Ctx, budget_s: float = CHECK_BUDGET_S) -> list[Finding]:
    """Run every registered check; a check that crashes becomes an ``info`` finding, and checks
    still running after ``budget_s`` seconds are stopped with an ``info`` finding saying so."""
    names = CHECKS.names()
    done = 0
    try:
        with _Deadline(budget_s):
            for name in names:
                _run_one(ctx, name)
                done += 1
    except _OutOfTime:
        ctx.add(
            "GL398",
            "other",
            "info",
            f"The analysis stopped after {budget_s:g} s; {len(names) - done} of {len(names)} "
            "checks did not run",
            [],
            "The script analyser bounds its time on any input. This file made the data-flow "
            "analysis too slow, so the findings above may be incomplete.",
            "Pass the training script alone (not a concatenation of many files) to have every "
            "check run.",
        )
    return ctx.findings


def _run_one(ctx: Ctx, name: str) -> None:
    try:
        CHECKS.get(name)(ctx)
    except UndeclaredCheck:
        raise  # a programming error must fail the tests, not become a note
    except Exception as e:  # a check must never take the whole diagnosis down
        ctx.add(
            "GL399",
            "other",
            "info",
            f"Internal: the {name!r} check could not analyse this script",
            [],
            f"{type(e).__name__}: {e}. The other checks ran; please report this script.",
            "Nothing to fix in your script for this note.",
        )


class _Deadline:
    """Raise :class:`_OutOfTime` in the main thread after ``seconds`` of this process's CPU
    time (``ITIMER_PROF``; a no-op outside the main thread)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = threading.current_thread() is threading.main_thread() and hasattr(
            signal, "setitimer"
        )

    def __enter__(self) -> None:
        if self.armed:
            self.previous = signal.signal(signal.SIGPROF, self._fire)
            signal.setitimer(signal.ITIMER_PROF, self.seconds)

    def __exit__(self, *exc: object) -> None:
        if self.armed:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self.previous)

    @staticmethod
    def _fire(signum: int, frame: object) -> None:
        raise _OutOfTime
