"""The registry of script checks and what every check receives."""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graftlab._registry import Registry
from graftlab.doctor._checks import declared
from graftlab.doctor.findings import Finding
from graftlab.doctor.script.flow import Program
from graftlab.doctor.script.parse import Source


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
        prog = Program(src.tree)
        mods = set()
        for node in ast.walk(src.tree):
            if isinstance(node, ast.Import):
                mods.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods.add(node.module)
        top = {m.split(".")[0] for m in mods}
        keras = bool(top & {"keras", "tensorflow", "tf_keras"})
        torch = bool(top & {"torch", "torchvision", "timm"})
        if not keras and not torch:  # a fragment without imports: guess from what it calls
            names = {c.name for c in prog.calls}
            keras = bool(names & {"Dense", "compile", "ImageDataGenerator", "flow_from_directory"})
            torch = bool(names & {"Linear", "CrossEntropyLoss", "DataLoader", "backward"})
        return cls(src, prog, keras, torch, "tensorflow" in top)

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


def run_checks(ctx: Ctx) -> list[Finding]:
    """Run every registered check; a check that crashes becomes an ``info`` finding."""
    for name in CHECKS.names():
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
    return ctx.findings
