"""Constant folding of untrusted code: Python values of small expressions, bounded.

A script is untrusted input: ``"a" * 10**9`` or ``10**10**10`` must give up, not be computed.
Scripts only need sizes, paths and short lists from the folder.
"""

from __future__ import annotations

import ast

__all__ = ["MAX_INT_BITS", "MAX_ITEMS", "UNKNOWN", "binop", "bounded"]


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"

    def __bool__(self) -> bool:
        return False


#: What :meth:`Program.const` returns when a value cannot be worked out statically.
UNKNOWN = _Unknown()


#: Largest folded value: scripts only need sizes, paths and short lists, and a script is
#: untrusted input (``"a" * 10**9`` or ``10**10**10`` must not be computed).
MAX_ITEMS = 10_000
MAX_INT_BITS = 256


def bounded(v):
    """``v`` if it is small enough to keep, else UNKNOWN."""
    if isinstance(v, str | bytes | list | tuple | dict) and len(v) > MAX_ITEMS:
        return UNKNOWN
    if isinstance(v, int) and not isinstance(v, bool) and v.bit_length() > MAX_INT_BITS:
        return UNKNOWN
    return v


def _too_big(op: ast.operator, a, b) -> bool:
    """Whether ``a <op> b`` would exceed the bounds, decided before computing it."""
    seq = (str, bytes, list, tuple)
    if isinstance(op, ast.Mult):
        for x, n in ((a, b), (b, a)):
            if isinstance(x, seq) and isinstance(n, int) and len(x) * max(n, 0) > MAX_ITEMS:
                return True
        return False
    if isinstance(op, ast.Pow) and isinstance(a, int) and isinstance(b, int) and b > 0:
        return max(abs(a).bit_length(), 1) * b > 4 * MAX_INT_BITS and abs(a) > 1
    return isinstance(op, ast.LShift | ast.RShift)


def binop(op: ast.operator, a, b):
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if _too_big(op, a, b):
        return UNKNOWN
    try:
        return bounded(_apply(op, a, b))
    except (TypeError, ZeroDivisionError, OverflowError, ValueError, MemoryError):
        return UNKNOWN


def _apply(op: ast.operator, a, b):
    if isinstance(op, ast.Add):
        return a + b
    if isinstance(op, ast.Sub):
        return a - b
    if isinstance(op, ast.Mult):
        return a * b
    if isinstance(op, ast.Div):
        if isinstance(a, str) and isinstance(b, str):  # pathlib's ``/``
            return f"{a.rstrip('/')}/{b}"
        return a / b
    if isinstance(op, ast.FloorDiv):
        return a // b
    if isinstance(op, ast.Pow):
        return a**b
    if isinstance(op, ast.Mod) and not isinstance(a, str):
        return a % b
    return UNKNOWN
