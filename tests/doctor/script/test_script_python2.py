"""Python 2 code as people still post it: print statements and ``except E, e`` are read as
their Python 3 equivalent, so the blocks around them are analysed instead of left out."""

from __future__ import annotations

from graftlab.doctor.script import check_script
from graftlab.doctor.script.parse import _python2

PY2_LOOP = """\
import torch
for epoch in xrange(10):
    for x, y in testloader:
        out = model(x)
        correct += (out.max(1)[1] == y).sum()
    print 'epoch', epoch, correct
"""


def test_print_statements_and_old_except_are_rewritten_line_for_line():
    assert _python2('    print "a %d" % x') == '    print("a %d" % x)'
    assert _python2("print x, y,") == "print(x, y)"
    assert _python2('print >>sys.stderr, "err"') == 'print("err")'
    assert _python2("except ValueError, e:") == "except ValueError as e:"
    for kept in ("print(x)", "printer = 3", "print = 3", "print.x"):
        assert _python2(kept) == kept


def test_a_loop_that_prints_the_python_2_way_is_still_checked():
    findings = check_script(PY2_LOOP, filename="old.py")
    assert "eval-mode-missing" in {f.category for f in findings}
    (note,) = [f for f in findings if f.code == "GL300"]
    assert "Python 2" in note.title and "old.py:6: print 'epoch'" in note.evidence
    assert "could not be parsed" not in note.explanation  # nothing was left out


def test_a_function_body_pasted_under_a_column_0_comment_is_dedented_and_read():
    from graftlab.doctor.script.parse import _dedent

    text = "# train.py (inside main())\n  x = 1\n  if x:\n    y = 2\n"
    assert _dedent(text) == "# train.py (inside main())\nx = 1\nif x:\n  y = 2\n"
    assert _dedent("a = 1\n  # note\nb = 2\n") == "a = 1\n  # note\nb = 2\n"
