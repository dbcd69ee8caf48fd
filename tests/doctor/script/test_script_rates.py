"""The learning rates a script sets (graftlab.doctor.script.rates): a rate left out is the
framework's own default, and "high" is judged against what is normal for each optimizer."""

from __future__ import annotations

import inspect

import pytest

from graftlab.doctor.script.rates import high, optimizer_rates
from graftlab.doctor.targets import diagnose


def _rates(tmp_path, source: str):
    script = tmp_path / "opt.py"
    script.write_text(source)
    return [(r.optimizer, r.lr, r.text, high(r)) for r in optimizer_rates([script])]


def test_the_torch_default_table_matches_the_installed_torch():
    from graftlab.doctor.script.rates import TORCH_DEFAULT_LR

    torch = pytest.importorskip("torch")
    classes = {c.lower(): getattr(torch.optim, c) for c in dir(torch.optim)}
    got = {n: inspect.signature(classes[n]).parameters["lr"].default for n in TORCH_DEFAULT_LR}
    assert got == TORCH_DEFAULT_LR


def test_a_torch_optimizer_without_a_rate_gets_torchs_default_not_keras(tmp_path):
    got = _rates(
        tmp_path,
        "import torch\n"
        "a = torch.optim.RMSprop(net.parameters())\n"
        "b = torch.optim.Adagrad(net.parameters(), weight_decay=1e-4)\n"
        "c = torch.optim.NAdam(net.parameters())\n"
        "d = torch.optim.SGD(net.parameters(), momentum=0.9)\n",
    )
    assert got == [
        ("rmsprop", 1e-2, "default", True),
        ("adagrad", 1e-2, "default", True),
        ("nadam", 2e-3, "default", True),
        ("sgd", 1e-3, "default", False),
    ]


def test_adadelta_at_its_published_rate_is_not_high_in_either_framework(tmp_path):
    got = _rates(
        tmp_path,
        "import torch\n"
        "from tensorflow import keras\n"
        "a = torch.optim.Adadelta(net.parameters())\n"
        "b = keras.optimizers.Adadelta(learning_rate=1.0)\n"
        "c = torch.optim.Adadelta(net.parameters(), lr=10.0)\n",
    )
    assert got == [
        ("adadelta", 1.0, "default", False),
        ("adadelta", 1.0, "1.0", False),
        ("adadelta", 10.0, "10.0", True),
    ]


NAN_LOG = "".join(
    f"Epoch {i}/20\n100/100 - 9s - loss: nan - accuracy: 0.1000 - val_loss: nan - "
    "val_accuracy: 0.1000\n"
    for i in range(1, 5)
)


def _divergence(tmp_path, optimizer: str):
    (tmp_path / "train.py").write_text(
        f"import torch\nopt = torch.optim.{optimizer}(model.parameters())\n"
    )
    (tmp_path / "train.log").write_text(NAN_LOG)
    [f] = [f for _, f in diagnose([tmp_path / "train.py", tmp_path / "train.log"])]
    return f


def test_a_divergence_cites_torchs_own_default_rate(tmp_path):
    f = _divergence(tmp_path, "RMSprop")
    assert f.causes == ["learning-rate"]
    assert "(lr = 0.01, the optimizer's default)" in f.evidence


def test_a_divergence_with_adadelta_at_its_default_does_not_blame_the_rate(tmp_path):
    f = _divergence(tmp_path, "Adadelta")
    assert f.causes == []
    assert "(lr = 1, the optimizer's default)" in f.evidence


UNFROZEN = """\
from fastai.vision import *
data = ImageDataBunch.from_folder(path, size=224).normalize(imagenet_stats)
learner = cnn_learner(data, models.resnet34, metrics=accuracy)
learner.fit_one_cycle(4)
learner.unfreeze()
learner.lr_find()
body, top = 1e-5, {top}
learner.fit_one_cycle(3, max_lr={rates})
"""


def _lr(src: str) -> list:
    from graftlab.doctor.script import check_script

    return [f for f in check_script(src, filename="nb.py") if f.code == "GL251"]


def test_an_unfrozen_fastai_learner_fine_tuned_at_a_finder_rate_is_reported():
    (f,) = _lr(UNFROZEN.format(top="0.05", rates="[body, body * 10, top]"))
    assert f.severity == "warning" and f.category == "learning-rate"
    assert "0.05" in f.title and "nb.py:5:" in f.evidence and "nb.py:8:" in f.evidence
    assert "lr_find" in f.explanation
    (g,) = _lr(UNFROZEN.format(top="3e-2", rates="slice(body, top)"))
    assert "0.03" in g.title
    # fastai 0.7 puts the rates first: ``fit(lrs, n_cycle)``
    old = "from fastai.conv_learner import *\nlearn.unfreeze()\nlearn.fit([1e-5, 1e-4, 0.1], 2)\n"
    assert [h.code for h in _lr(old)] == ["GL251"]


def test_discriminative_rates_of_the_fastai_recipe_stay_silent():
    assert not _lr(UNFROZEN.format(top="1e-4", rates="slice(1e-6, top)"))
    assert not _lr(UNFROZEN.format(top="1e-2", rates="[1e-4, 1e-3, top]"))
    # fastai 0.7: the rates first, then the cycles; the course's own rates
    old = "learn.unfreeze()\nlrs = np.array([1e-4, 1e-3, 1e-2])\nlearn.fit(lrs, 3, cycle_len=1)\n"
    assert not _lr("from fastai.conv_learner import *\n" + old)
    # a first phase at a high rate, before any unfreeze, is not a fine-tuning phase
    assert not _lr(
        "from fastai.vision import *\nlearn = cnn_learner(d, models.resnet18)\n"
        "learn.fit_one_cycle(4, max_lr=5e-2)\n"
    )
