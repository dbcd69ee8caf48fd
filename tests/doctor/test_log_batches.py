"""GL447: one evaluation pass right on its first batches and never right, not even in the top
five, on later ones (graftlab.doctor._logbatches)."""

from __future__ import annotations

from graftlab.doctor.logs import check_log


def _pass(values: list[tuple[float, float]]) -> str:
    """timm-style step lines of one evaluation: ``Acc@1: batch (running mean)``."""
    lines, n = [], len(values)
    for i, (top1, top5) in enumerate(values):
        lines.append(
            f"Test: [{i * 10:>4}/{(n - 1) * 10}]  Time: 0.401 (0.402)  Loss:  1.2000 (1.1000)  "
            f"Acc@1: {top1:8.4f} ({top1:8.4f})  Acc@5: {top5:8.4f} ({top5:8.4f})"
        )
    return "\n".join(lines) + "\n"


def _never(text: str) -> list:
    return [f for f in check_log(text) if f.code == "GL447"]


def test_whole_later_batches_outside_the_top_five_after_right_ones():
    (f,) = _never(_pass([(93.75, 99.2), (91.4, 98.0), (0.0, 0.0), (0.0, 0.0)]))
    assert f.category == "label-order-mismatch" and f.severity == "warning"
    assert "batch 20 and 1 more" in f.title


def test_a_weak_model_with_bad_batches_but_true_labels_in_its_top_five_is_not_this():
    # some classes never top-1, but their true class is still among the five best
    assert _never(_pass([(93.75, 99.2), (12.5, 60.0), (0.0, 31.25), (0.0, 25.0)])) == []
    # nothing right anywhere: another cause (GL439 and the chance checks judge that)
    assert _never(_pass([(3.1, 9.4), (0.0, 0.0), (0.0, 0.0)])) == []
