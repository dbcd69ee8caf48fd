"""GL320: images and labels shuffled apart (graftlab.doctor.script.pair_shuffle)."""

from __future__ import annotations

from graftlab.doctor.script import check_script

ONE_SIDED = """\
import numpy as np
feats = np.load("feats.npy")
target = np.load("target.npy")
np.random.shuffle(feats)
clf.fit(feats, target)
"""


def _apart(src: str) -> list:
    return [f for f in check_script(src, filename="post.py") if f.code == "GL320"]


def test_one_array_shuffled_alone_is_an_error_when_both_are_built_in_the_code():
    (f,) = _apart(ONE_SIDED)
    assert (f.severity, f.category) == ("error", "label-order-mismatch")
    assert "post.py:4:" in f.evidence and "post.py:5:" in f.evidence
    assert "shuffle(feats, target" in f.fix


def test_in_a_fragment_without_the_arrays_it_is_a_warning_that_says_so():
    fragment = "np.random.shuffle(feats)\nclf.fit(feats, target)\n"
    (f,) = _apart(fragment)
    assert f.severity == "warning" and "Inferred" in f.explanation


def test_one_permutation_for_both_or_a_reseed_before_each_is_silent():
    together = ONE_SIDED.replace(
        "np.random.shuffle(feats)",
        "order = np.random.permutation(len(feats))\nfeats, target = feats[order], target[order]",
    )
    assert _apart(together) == []
    reseeded = ONE_SIDED.replace(
        "np.random.shuffle(feats)",
        "np.random.seed(3)\nnp.random.shuffle(feats)\nnp.random.seed(3)\nnp.random.shuffle(target)",
    )
    assert _apart(reseeded) == []


def test_labels_read_from_the_shuffled_list_afterwards_are_silent():
    src = """\
import random
paths = sorted(glob.glob("shapes/*/*.png"))
random.shuffle(paths)
labels = [p.split("/")[-2] for p in paths]
x_tr, x_te, y_tr, y_te = train_test_split(paths, labels, test_size=0.2)
"""
    assert _apart(src) == []


def test_the_pair_handed_to_a_training_function_is_still_one_pair():
    # the arrays reach the fit through a function's parameters: the shuffle at module level
    # is what the function's `xs` and `ys` hold
    src = ONE_SIDED.replace(
        "clf.fit(feats, target)\n",
        "def train(xs, ys):\n    clf.fit(xs, ys)\ntrain(feats, target)\n",
    )
    (f,) = _apart(src)
    assert f.severity == "error"
    # a function that shuffles its own local copy and trains on it in step is silent
    local = """\
import numpy as np
def train(xs, ys):
    idx = np.random.permutation(len(xs))
    clf.fit(xs[idx], ys[idx])
feats = np.load("feats.npy")
target = np.load("target.npy")
train(feats, target)
"""
    assert _apart(local) == []
