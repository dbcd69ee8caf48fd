"""The doctor finds the same causes when the same bug is written another way.

A fixed sample of the real-world corpus's dev cases (every third one, clean scripts included) is
rewritten by ``benchmarks/doctor_robustness.py`` (consistent renaming, the script wrapped in
``def main()`` or a class's method, a notebook, the model built in ``build_model()``, passed to
a function or held as an attribute, the imports left out, two at once) and diagnosed again.
Floors come from that benchmark minus a small margin; raise them when the doctor improves, never
lower them to make a change pass.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Recall on the sampled dev cases each rewrite applies to, after the rewrite. Measured after
#: session 7 grew the corpus (every third dev case is now a different sample, holding new cases
#: whose causes the doctor misses even unrewritten: recall before any rewrite is 0.83-0.91 on
#: it): rename 0.886, main 0.857, notebook 0.897, build_model 0.786, param 0.750, attr 0.786,
#: noimports 0.885, rename+main 0.857. The one cause each rewrite loses is a label-order case
#: whose evidence is a comment, which the rewrites drop.
#: Re-pinned when a fourth round added 10 real-world cases written blind to the rules: the new
#: dev cases shift the every-third sample (51 -> 53 cases) and bring in causes the doctor misses
#: even unrewritten (recall before any rewrite 0.62-0.81 on the new sample, against 0.93-0.95
#: before). Measured after the rewrite: rename 0.786, main 0.771, notebook 0.750, build_model
#: 0.667, param 0.615, attr 0.667, noimports 0.750, rename+main 0.743; the one cause a rewrite
#: loses (rename, notebook, rename+main) is an RGB/BGR train-inference case, unchanged rules.
#: Raised after the rules for that round's dev misses: rename 0.810, main 0.829, notebook
#: 0.806, build_model 0.667, param 0.615, attr 0.667, noimports 0.821, rename+main 0.771.
#: Renaming also loses the generator case whose roles the names carry (datagen_val).
#: Raised after the rules for the older dev misses: rename 0.881, main 0.914, notebook 0.889,
#: build_model 0.800, param 0.769, attr 0.800, noimports 0.893, rename+main 0.857. Without its
#: imports the Keras evaluation on stretched images (GL241) is not recognised as Keras.
#: Re-pinned when a fifth round added 11 blind cases: the new dev cases shift the every-third
#: sample (53 -> 57 cases) and bring older cases into it whose causes a rewrite loses (none of
#: the new cases is lost). Measured after the rewrite: rename 0.935, main 0.902, notebook
#: 0.929, build_model 0.947, param 0.938, attr 0.947, noimports 0.862, rename+main 0.925; main
#: loses a Normalize(mean=0, std=1) case, noimports four cases (one-unit softmax, MobileNetV2
#: scaling, VGG16 resize without crop, a Linear(2048) after the kept fc) that are found with
#: their imports and missed without them. Only main and noimports were below their floors.
#: Raised when the rules read values by use rather than by name or import (session 11: pasted
#: files called as modules, Keras/torchvision submodules and Hugging Face classes without
#: imports, phases of data from fit/loops, networks from .eval()/.load_state_dict()): rename
#: 0.978, main 0.976, notebook 1.000, build_model 1.000, param 1.000, attr 1.000, noimports
#: 1.000, rename+main 0.975 on this sample; the one cause still lost is the Normalize(mean=0,
#: std=1) case whose evidence is a comment and the names MEAN/STD.
#: Re-pinned when a sixth round added 10 blind cases: the 5 new dev cases shift the every-third
#: sample (57 -> 58 cases) and bring into it causes the doctor misses even unrewritten (one new
#: case, labels from os.listdir order, and three older ones: a README resize, a Normalize only
#: in the training Learner, BatchNorm after few iterations). Measured after the rewrite: rename
#: 0.938, main 0.932, notebook 0.911, build_model 0.842, param 0.824, attr 0.889, noimports
#: 0.935, rename+main 0.930; notebook loses the RGB/BGR train-inference case, unchanged rules.
#: Re-pinned again when two dev cases left the corpus (repository files without a licence that
#: allows keeping them): the sample shifts back into the Normalize(mean=0, std=1) case whose
#: evidence is a comment and the names MEAN/STD, lost by renaming and by def main() alike:
#: rename 0.915, main 0.905, rename+main 0.902; the other rewrites still meet their floors.
#: Raised after session 13's seventh blind round and the rules for its dev misses (the 8 new dev
#: cases shift the every-third sample, 58 -> 60 cases): rename 0.938, main 0.933, notebook
#: 0.978, build_model 0.952, param 0.941, attr 0.950, noimports 0.971, rename+main 0.932; the
#: causes still lost are the Normalize(mean=0, std=1) case (its evidence a comment and the
#: names MEAN/STD) and a places365 label-order case whose class list is read by its name.
#: Six of those eight cases and the 13 older ones that held files copied from repositories were
#: then kept out of the repository (9 of them dev), which shifts the sample once more, onto the
#: same two known losses in fewer cases: rename 0.907, main 0.892, notebook 0.919 (the RGB/BGR
#: train-inference case), build_model 0.895, param 0.882, attr 0.895, noimports 0.923 (nothing
#: lost: the rewritten recall equals the untransformed one), rename+main 0.892.
#: Re-pinned after the eighth blind round and its rules (5 new dev cases shift the every-third
#: sample, 57 cases): rename 0.909, main 0.892, notebook 0.919, build_model 0.895, param 0.889,
#: attr 0.889 (16 of 18: the places365 label-order case, lost as before, now weighs 1/18),
#: noimports 0.923, rename+main 0.892; the new rules lose nothing under any rewrite of the
#: full dev part (benchmarks/README.md).
#: Re-pinned after the twelfth blind round (4 new dev script cases, 3 of them missed, shift the
#: every-third sample): build_model 0.889, param 0.857, nothing lost to either rewrite (the
#: rewritten recall equals the untransformed one); the others unchanged.
#: Re-pinned after the thirteenth blind round (3 new dev prediction-script cases, all found,
#: shift the every-third sample): notebook 0.902 (37/41), build_model 0.842 (16/19), param
#: 0.800 (12/15), attr 0.842 (16/19), nothing lost to any rewrite (found before = found after);
#: the others unchanged.
FLOORS = {
    "rename": 0.905,
    "main": 0.89,
    "notebook": 0.90,
    "build_model": 0.84,
    "param": 0.795,
    "attr": 0.84,
    "noimports": 0.92,
    "rename+main": 0.89,
}


def _bench():
    spec = importlib.util.spec_from_file_location(
        "doctor_robustness", ROOT / "benchmarks" / "doctor_robustness.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules["doctor_robustness"] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    return bench


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict:
    bench = _bench()
    sample = bench.dev_script_cases()[::3]
    found, _ = bench.measure(sample, list(FLOORS), tmp_path_factory.mktemp("rewritten"))
    return {o.name: o for o in found}


def test_the_sample_holds_only_dev_cases_with_code():
    bench = _bench()
    sample = bench.dev_script_cases()[::3]
    assert len(sample) >= 30
    assert all(case["split"] == "dev" for _, case in sample)
    assert any(case.get("clean") for _, case in sample)


@pytest.mark.parametrize("name", FLOORS)
def test_recall_under_a_rewrite_does_not_fall_below_what_was_measured(outcomes, name):
    o = outcomes[name]
    assert o.cases >= 10, f"{name} applies to only {o.cases} sampled cases"
    lost = ", ".join(f"{cid}: {cat}" for cid, cat in o.lost)
    assert round(o.recall_after, 3) >= FLOORS[name], f"{name}: lost {lost}"


def test_rewritten_clean_scripts_get_no_error_and_at_most_one_warning(outcomes):
    noisy = {name: o.clean_noisy for name, o in outcomes.items() if o.clean_noisy}
    assert not noisy


def test_rewrites_keep_the_code_equivalent():
    bench = _bench()
    src = (
        "import torch\n"
        "from torch import nn\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, n_out):\n"
        "        super().__init__()\n"
        "        self.fc = nn.Linear(4, n_out)\n"
        "    def forward(self, x):\n"
        "        return self.fc(x)\n"
        "def make(n_out=3):\n"
        "    return Net(n_out=n_out)\n"
        "model = make(n_out=2)\n"
        "out = model(torch.zeros(1, 4))\n"
        "print(out.shape, nn.Linear(2, 3, bias=False).bias)\n"
    )
    renamed = bench.rename({"a.py": src})["a.py"]
    # the user's names change consistently; the library's, methods and keywords do not
    assert "model" not in renamed and "Net" not in renamed and "make" not in renamed
    for kept in ("nn.Linear", "def forward(self, ", "def __init__(self, ", "bias=False"):
        assert kept in renamed
    wrapped = bench.wrap_main({"a.py": src})["a.py"]
    assert wrapped.startswith("import torch\nfrom torch import nn\n\ndef main():")
    assert wrapped.rstrip().endswith("main()")
    built = bench.build_model({"a.py": src})
    assert built is None  # no model is compiled, trained or moved: the rewrite does not apply
    trained = src + "model.eval()\n"
    built = bench.build_model({"a.py": trained})["a.py"]
    assert "def build_model():" in built and "model = build_model()" in built
    for text in (renamed, wrapped, built, bench.pass_model({"a.py": trained})["a.py"]):
        compile(text, "a.py", "exec")


#: Bug cases of the unit corpus whose cause is not found once their names are replaced by
#: v0, v1...: a name is the only evidence left (a ``class_names`` list, a
#: ``data_augmentation = False`` flag).
#: Handing every value to a training function as ``a0``, ``a1``... renames them the same way.
RENAME_MISSES = {"label-order-mismatch__3__bug.py", "overfitting__1__bug.py"}
#: Without its imports, a bug case whose evidence is the import itself: vgg16's
#: ``preprocess_input`` imported for an InceptionV3.
NOIMPORT_MISSES = {"preprocessing-mismatch__3__bug.py"}
UNIT = ROOT / "tests" / "doctor" / "cases" / "scripts"


@pytest.mark.parametrize("name", ["rename", "class", "attr", "params", "noimports"])
def test_unit_bug_cases_keep_their_cause_when_rewritten(name, tmp_path):
    from graftlab.doctor.script import check_script

    rewrite = _bench().TRANSFORMS[name]
    lost = []
    for path in sorted(UNIT.glob("*__bug.py")):
        new = rewrite({path.name: path.read_text()})
        if new is None:
            continue
        out = tmp_path / path.name
        out.write_text(new[path.name])
        category = path.name.split("__")[0]
        found = check_script(out)
        if not any(f.category == category and f.severity != "info" for f in found):
            lost.append(path.name)
    allowed = {"rename": RENAME_MISSES, "params": RENAME_MISSES, "noimports": NOIMPORT_MISSES}
    allowed = allowed.get(name, set())
    assert set(lost) <= allowed, f"{name} loses {sorted(set(lost) - allowed)}"
