"""The real-world corpus (tests/doctor/realworld): well-formed, and the doctor's measured results
on it pinned as floors, so that a rule that regresses fails here.

Floors come from ``python benchmarks/doctor_recall.py`` minus a small margin; raise them when
the doctor improves, never lower them to make a change pass.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from graftlab.doctor.findings import CATEGORIES

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "realworld"
KINDS = {"script", "fragment", "notebook", "multi-file", "log", "script+log"}
PREFIXES = ("keras-", "torch-", "log-", "clean-")

#: Measured on this corpus (benchmarks/doctor_recall.py); the test fails below them. Re-pinned
#: when session 7 added 15 cases nobody had written rules for (dev 0.940 -> 0.903, test 0.603
#: -> 0.582: the rules found 5 of the 11 new dev causes and 1 of the 4 new test causes).
#: Dev raised after rules written for the dev misses, each shown on its own unit pairs (0.903
#: -> 0.966; test unchanged at 0.582). Re-pinned when a second round added 22 cases (16 with a
#: log as main material): the rules found 2 of the 12 new dev causes and 5 of the 12 new test
#: causes (dev 0.904, test 0.557). Dev raised by rules for the dev misses of that round (a
#: metric KeyError in a callback, dropout built in forward, an accuracy the loss rules out, the
#: script's learning rate cited by a log's divergence, skorch's shuffled prediction iterator,
#: an evaluation at chance top-1/top-5 with a confident loss, a training reader that keeps
#: OpenCV's BGR against inference converted to RGB): dev 0.904 -> 0.949, test unchanged.
#: Re-pinned when a third round added 9 cases written blind to the rules (8 dev, 1 test): the
#: rules found 2 of the 8 new dev causes and 0 of the 1 test cause (dev 0.915, test 0.550).
#: Test raised (measured, never read) after session 9 wrote rules for general shapes of the
#: weakest test categories from scratch (the framework's own size messages in a log, an
#: evaluation after training that is a permuted confusion matrix or sits at chance, images and
#: labels shuffled apart, a class list from one split's unique()): dev 0.915, test 0.575.
#: Re-pinned when a fourth round added 10 cases written blind to the rules (7 dev, 3 test): the
#: rules found 0 of the 7 new dev causes and 2 of the 3 new test causes (dev 0.915 -> 0.878,
#: dev/reconstruction 0.901 -> 0.858; test 0.575 -> 0.578, its floors unchanged).
#: Raised after rules for the general shapes of those 7 dev misses, each with its own unit pairs
#: (softmax returned through a method or a pretrained definition, another library's
#: cross-entropy, a Linear sized for pooled features after the kept classifier, training data
#: built from the object named for evaluation, one element of a transform list applied for
#: prediction, a 1000-unit output meeting K-class targets in a log): dev 0.878 -> 0.919,
#: dev/reconstruction 0.858 -> 0.905; test (measured, never read) 0.578 -> 0.590.
#: Raised after rules for the general shapes of the older dev misses, each with its own unit
#: pairs (a part 'frozen' by eval() alone, a Hugging Face model built from a checkpoint's
#: configuration, Normalize on hand-made 0..255 tensors, a torchsummary pass in training mode,
#: a pretrained classifier evaluated on stretched images, a model argument matched to the one
#: module whose forward() takes its inputs, a pretrained model evaluated at a few percent in a
#: log): dev 0.919 -> 0.959, dev/reconstruction 0.905 -> 0.953; test (measured, never read)
#: 0.590 -> 0.602, test/reconstruction 0.600 -> 0.613.
#: Re-pinned when a fifth round added 11 cases written blind to the rules from Q&A pages and
#: blogs (9 dev, 2 test): the rules found 4 of the 10 new dev causes and 1 of the 2 new test
#: causes (dev 0.959 -> 0.929, dev/reconstruction 0.953 -> 0.918; test 0.602 -> 0.600,
#: test/reconstruction 0.613 -> 0.610, their floors unchanged).
#: Raised after rules for the general shapes of three of those misses and one older one, each
#: with its own unit tests (a built but uncalled criterion beside the one network whose last
#: activation it repeats, a training sampler that keeps the stored order, a photo prepared
#: unlike the arrays a loaded model is scored on; a random crop or hue jitter that leaves
#: little of the image):
#: dev 0.929 -> 0.951, dev/reconstruction 0.918 -> 0.943; test (measured, never read) 0.600.
#: The doc12 rules for the general shapes of label order, overfitting and
#: train/eval preprocessing (GL118/GL320/GL323/GL324/GL441/GL242/GL313, each with unit pairs):
#: measured on the corpus before the fifth round, dev 0.959 and test 0.602 as before them.
#: Re-pinned when a sixth round added 10 cases written blind to the rules from GitHub issues and
#: the repositories they link (5 dev, 5 test): the rules found 1 of the 5 new dev causes (a
#: label-order warning read from two unrelated loaders of the same notebook, not from the cause)
#: and 4 of the 5 new test causes (dev 0.951 -> 0.930, dev/reconstruction 0.943 -> 0.920; test
#: 0.600 -> 0.611, test/reconstruction 0.610 -> 0.622, their floors unchanged).
#: Re-pinned when a seventh round added 10 cases written blind to the rules from GitHub issues,
#: pull requests and the repositories they link (8 dev, 2 test): the rules found 3 of the 8 new
#: dev causes and 1 of the 2 new test causes (dev 0.935 -> 0.912, dev/reconstruction 0.925 ->
#: 0.899; test 0.611 -> 0.609, test/reconstruction 0.622 -> 0.619).
#: Raised after rules for the general shapes of those dev misses and two older ones, each with
#: its own unit tests (a wrapper module given a layer that ends in softmax, a training wrapper
#: given the network and a cross-entropy, a class index numbered by the labels of the files
#: found in a folder passed in, an evaluation pass right on early batches and outside the top
#: five on later ones, an encoder method run in training mode, a later file's function called
#: through its module, a training mean recomputed from the image predicted, two image decoders
#: that scale once and twice): dev 0.912 -> 0.948, dev/reconstruction 0.899 -> 0.941; test
#: (measured, never read) 0.609 unchanged.
#: Six of the round's ten cases hold files copied from repositories and were kept out
#: (repository code is kept out of this repository; the four posts stay, as reconstructions),
#: and so were the 13 older cases that held repository files (9 dev, 4 test): dev 0.945
#: (171/181), dev/reconstruction 0.936, test 0.600 (51/85), test/reconstruction 0.610,
#: false alarms 2 (the GL117 one was on a repository-file case).
#: Re-pinned when an eighth round added 8 reconstruction cases written blind to the rules from
#: Q&A and forum pages, a blog, GitHub issues and pull requests (5 dev, 3 test): the rules found
#: 2 of the 5 new dev causes and 2 of the 3 new test causes (dev 0.945 -> 0.930, test 0.600 ->
#: 0.602). Raised after rules for the general shapes of those three dev misses, each with its
#: own unit tests (a model's own Rescaling before a pretrained backbone of another convention,
#: a log whose training loss only moves once a schedule cuts the learning rate, a printed
#: evaluation pipeline that squashes the whole frame while training crops): dev 0.930 -> 0.946
#: (176/186), dev/reconstruction 0.920 -> 0.938; test (measured, never read) 0.602 (53/88),
#: test/reconstruction 0.613; false alarms 2.
#: Re-pinned when a ninth round added 8 reconstruction cases written blind to the rules from
#: GitHub issues (6 dev, 2 test): the rules found 4 of the 6 new dev causes and 1 of the 2 new
#: test causes (dev 0.946 -> 0.938, 180/192; dev/reconstruction 0.938 -> 0.929; test 0.602 ->
#: 0.600, 54/90; test/reconstruction 0.613 -> 0.610, its floor unchanged). Raised after rules
#: for the general shapes of its two dev misses, each with its own unit tests (labels written by
#: index ranges over images read folder by folder in os.listdir order; an inference Compose
#: scaled by ToTensor() before the 0..255 statistics of an OpenMMLab-style training config):
#: dev 0.938 -> 0.948 (182/192), dev/reconstruction 0.929 -> 0.940; test (measured, never read)
#: 0.600 unchanged; false alarms 2.
#: Re-pinned when a tenth round added 7 reconstruction cases written blind to the rules, all of
#: them logs, from GitHub issues, Q&A pages and a forum (4 dev, 3 test): the rules found 1 of the
#: 4 new dev causes and 2 of the 3 new test causes (dev 0.948 -> 0.934, 183/196;
#: dev/reconstruction 0.940 -> 0.924; test 0.600 -> 0.602, 56/93; test/reconstruction 0.610 ->
#: 0.612, its floor unchanged). Raised after rules for two of its three dev misses, each with its
#: own unit tests (the end state read from one epoch line pasted late in a run; a training loss
#: that came down and went back to ln K, flat, with accuracy at 1/K): dev 0.934 -> 0.944
#: (185/196), dev/reconstruction 0.924 -> 0.936; test (measured, never read) 0.602 unchanged;
#: false alarms 2.
#: Re-pinned when an eleventh round added 5 reconstruction log cases written blind to the rules,
#: in the formats of the tools they were trained with (the pytorch/examples ImageNet script,
#: timm train.py, fastai v1), from GitHub issues (2 dev, 3 test): the rules found 0 of the 2 new
#: dev causes and 2 of the 5 new test causes (dev 0.944 -> 0.934, 185/198; dev/reconstruction
#: 0.936 -> 0.925; test 0.602 -> 0.592, 58/98; test/reconstruction 0.612 -> 0.600).
#: Raised after parsers for those formats (the ImageNet example, timm, mmcv, mmengine) and rules
#: for the general shapes of two of its dev misses and one older one, each with its own unit
#: tests (a collapse in the last quarter of the first epoch behind good running averages; a
#: pretrained model pinned at ln K): dev 0.934 -> 0.944 (187/198), dev/reconstruction 0.925 ->
#: 0.937; test (measured, never read) 0.592 -> 0.602 (59/98), test/reconstruction 0.611;
#: false alarms 2.
#: Re-pinned when a twelfth round added 6 reconstruction script cases written blind to the
#: rules, on BatchNorm, head/weight loading and a binary loss on five classes, from GitHub
#: issues and a Q&A page (4 dev, 2 test): the rules found 1 of the 4 new dev causes and 1 of the
#: 2 new test causes (dev 0.944 -> 0.931, 188/202; dev/reconstruction 0.937 -> 0.921; test
#: 0.602 -> 0.600, 60/100; test/reconstruction 0.611 -> 0.609).
#: Re-pinned when a thirteenth round added 4 reconstruction cases written blind to the rules,
#: prediction scripts that do not preprocess as training did, from Q&A pages and a GitHub issue
#: (3 dev, 1 test): the rules found the 3 new dev causes and not the test one (dev 0.936 ->
#: 0.937, 192/205; dev/reconstruction 0.927 -> 0.928; test 0.600 -> 0.594, 60/101;
#: test/reconstruction 0.609 -> 0.602).
#: Re-pinned when a fourteenth round added 3 reconstruction label-order cases written blind to
#: the rules, from GitHub issues (1 dev, 2 test): the rules found none of them (dev 0.937 ->
#: 0.932, 192/206; dev/reconstruction 0.928 -> 0.923; test 0.594 -> 0.583, 60/103;
#: test/reconstruction 0.602 -> 0.589).
#: Re-pinned when a fifteenth round added 5 reconstruction dev cases written blind to the rules,
#: from GitHub issues (label order read through a hand-made list, BatchNorm under a frozen
#: model, a pretrained model fed another model's preprocessing or another crop): the rules found
#: 2 of the 5 new dev causes (dev 0.932 -> 0.919, 194/211; dev/reconstruction 0.923 -> 0.909;
#: test unchanged, 0.583, 60/103).
#: Then raised after rules (doc16, written beside the fifteenth round) for the general shapes of
#: five of the 14 dev misses, each with its own unit tests (BatchNorm set to eval once and switched
#: back by model.train(); K sigmoid units with binary cross-entropy and 'accuracy' on labels not
#: shown; class names typed by hand for a Keras 1 flow_from_directory; a linear evaluation in
#: training mode; a training loss that rises with a warm-up's learning rate): dev 0.932 -> 0.956
#: (197/206), dev/reconstruction 0.923 -> 0.951; test (measured, never read) 0.583 unchanged; false
#: alarms 2. Together (session 15): dev 0.948 (200/211), dev/reconstruction 0.941, test 0.583.
#: Re-pinned when a sixteenth round added 4 reconstruction cases written blind to the rules, from
#: Q&A forums and a blog (2 dev, 2 test): the rules found 1 of the 2 new dev causes and 0 of the 2
#: new test causes (dev 0.924 -> 0.920, 196/213; dev/reconstruction 0.914 -> 0.910; test 0.583 ->
#: 0.571, 60/105, its floor 0.58 -> 0.57; test/reconstruction 0.589 -> 0.577, its floor 0.58 ->
#: 0.57). A fifth case from a PyTorch forum thread (dev, BatchNorm statistics updated by forward
#: passes in train()) was a blind miss with GL230 reported outside its label; labelled
#: eval-mode-missing too, as its reply's fix is GL230's: dev 0.916 (197/215),
#: dev/reconstruction 0.906, false alarms 2. GL251 (a fastai learner fine-tuned after unfreeze()
#: with a layer-group rate above 1e-2) for the round's learning-rate miss: dev 0.916 -> 0.921
#: (198/215), dev/reconstruction 0.906 -> 0.911; test (measured, never read) 0.571 unchanged.
#: All three merged (session 15): dev 0.944 (203/215), dev/reconstruction 0.937, test 0.571
#: (60/105), test/reconstruction 0.577, false alarms 2.
#: Raised after rules (doc19) for four dev misses, each with its own unit tests (a printed class
#: list holding .DS_Store, GL460 with the script's listing GL336; batch statistics printed per
#: split on two scales, GL461; GL222 at warning for a frozen model run in train() with nothing
#: trained; a weight loader that skips the classifier before predict(), GL140): dev 0.944 ->
#: 0.963 (207/215), dev/reconstruction 0.937 -> 0.958; test (measured, never read) 0.571
#: unchanged; false alarms 2.
#: Re-pinned when a seventeenth round added 6 reconstruction dev cases written blind to the
#: rules, from GitHub issues (three of them logs): the rules found 2 of the 6 new dev causes
#: (dev 0.944 -> 0.928, 205/221; dev/reconstruction 0.937 -> 0.919; test unchanged, 0.571),
#: and GL426 called the head-size warning of a non-strict checkpoint load an error (3 false
#: alarms).
#: Raised after rules for the general shapes of its four dev misses, each with its own unit
#: tests (validation at chance also when under 1/K with K printed, and preprocessing among its
#: candidates; training accuracy steady above 0.9 while validation jumps between chance and
#: 0.9+; a hidden folder numbered as a class in a printed mapping; an inception_v3 rebuilt
#: without transform_input for the fine-tuned weights) and GL426 reading a non-strict load's
#: warning as a warning: dev 0.928 -> 0.946 (209/221), dev/reconstruction 0.919 -> 0.939; test
#: (measured, never read) 0.571 unchanged; false alarms 3 -> 2.
#: Both merged (session 16), with GL453 leaving a file in a plain list to GL460: dev 0.964
#: (213/221), dev/reconstruction 0.959; test 0.571 (60/105); false alarms 2.
#: Re-pinned when an eighteenth round added 3 reconstruction dev cases written blind to the
#: rules, from Q&A pages and a forum (a script + log and a log among them): the rules found 2 of
#: the 3 new dev causes (dev 0.964 -> 0.960, 215/224; dev/reconstruction 0.959 -> 0.955; test
#: unchanged, 0.571). Raised after GL133 (a Keras backbone frozen with its BatchNorm layers in a
#: paste that compares it with a fastai learner training them), with its own unit tests: dev
#: 0.960 -> 0.964 (216/224), dev/reconstruction 0.955 -> 0.960, its floor 0.95 -> 0.96; test
#: (measured, never read) 0.571 unchanged; false alarms 2.
#: A nineteenth round (doc21) added 4 reconstructions of PyTorch-side GitHub issues, 3 dev and
#: 1 test, written blind to the rules: 0 of the 3 dev causes and the 1 test cause found (dev
#: 0.964 -> 0.951, 213/224; dev/reconstruction 0.959 -> 0.945; test 0.571 -> 0.575, 61/106;
#: test/reconstruction 0.577 -> 0.582). Its rules for the three dev misses (top-1/top-5 printed
#: as named values read as a summary, a released checkpoint's hashed name as pretrained for
#: GL446; GL141, ImageNet statistics for timm weights trained on mean = std = 0.5) took dev to
#: 0.964 (216/224), dev/reconstruction to 0.960; test (measured, never read) 0.575 unchanged;
#: false alarms 2.
#: Rounds 18 and 19 merged (session 16): dev 0.965 (219/227), dev/reconstruction 0.961; test
#: 0.575 (61/106), test/reconstruction 0.582; false alarms 2.
#: Re-pinned when a twentieth round (doc22) added 6 reconstruction label-order cases written
#: blind to the rules, from GitHub issues and pull requests (4 dev, 2 test): the rules found 1
#: of the 4 new dev causes and 0 of the 2 new test causes (dev 0.965 -> 0.952, 220/231;
#: dev/reconstruction 0.961 -> 0.947; test 0.575 -> 0.565, 61/108; test/reconstruction 0.582 ->
#: 0.570). Raised after rules for the general shapes of its three dev misses, each with its
#: own unit tests (GL306: two folders listed apart and read item by item with one index; a
#: class mapping numbered in listing order, in any spelling, scoring weights loaded from a
#: file; GL324: a class list sorted where training numbers the classes and read as written
#: where predictions are named): dev 0.952 -> 0.965 (223/231), dev/reconstruction 0.947 ->
#: 0.961; test (measured, never read) 0.565 unchanged; false alarms 2.
#: Re-pinned when a twenty-first round (doc23) added 6 reconstruction log cases written blind to
#: the rules, from GitHub issues, in formats the corpus had few of (YOLOv3 results.txt, YOLOv5
#: results.csv, SlowFast json_stats, a test run per batch size, a BERT example's progress lines;
#: 3 dev, 3 test): the rules found none of the 3 new dev causes and none of the 3 new test causes
#: (dev 0.965 -> 0.952, 219/230; dev/reconstruction 0.961 -> 0.947; test 0.575 -> 0.560, 61/109;
#: test/reconstruction 0.582 -> 0.564); false alarms 2, clean scripts as before.
#: Raised after readers for a loss logged in parts (YOLO results.csv/results.txt, names split at
#: '/') and GL480 (a validation part of the loss that turns up while the same part falls on
#: training), with their own unit tests: all 3 dev misses found, dev 0.952 -> 0.965 (222/230),
#: dev/reconstruction 0.947 -> 0.961; test (measured) 0.560 -> 0.569 (62/109), the one more
#: being log-gh-yolov5-3851, a results.txt case opened as a format example before its split
#: was noticed (not blind; without it test is 0.565 before and after); false alarms 2.
#: Rounds 20 and 21 merged (session 17): dev 0.966 (226/234), dev/reconstruction 0.962; test
#: 0.559 (62/111), test/reconstruction 0.563 (their five new test causes, one found and that
#: one not blind); false alarms 1 (GL112 on keras-gh-tfbook-pr3 is a real second bug of the
#: notebook, listed in its also_true). Test floors re-pinned to what the two rounds' blind
#: test cases leave.
#: Re-pinned when a twenty-second round (doc24) added 4 reconstructions of GitHub issue threads
#: written blind to the rules, on double softmax, BatchNorm and preprocessing (2 dev, 2 test): the
#: rules found 1 of the 2 new dev causes and 1 of the 2 new test causes (dev 0.965 -> 0.961,
#: 220/229; dev/reconstruction 0.961 -> 0.956, its floor 0.96 -> 0.95; test 0.575 -> 0.574,
#: 62/108; test/reconstruction 0.582 -> 0.580). Raised after GL252/GL253 (a softmax given as a
#: network's output activation by a constructor default or a keyword, under cross-entropy), each
#: with its own unit tests, found the round's dev miss: dev 0.961 -> 0.965 (221/229),
#: dev/reconstruction 0.956 -> 0.961, its floor 0.95 -> 0.96; test (measured, never read) 0.574
#: unchanged; false alarms 2.
#: Two more test reconstructions of the same round, added after GL252/GL253 and measured blind
#: (a Lightning LogisticRegression with softmax in forward() and F.cross_entropy,
#: lightning-bolts#654; an ACGAN whose auxiliary head ends in nn.Softmax under F.cross_entropy,
#: pytorch-lightning-gans#9): 2 of 2 causes found (test 0.574 -> 0.582, 64/110, its floor 0.57 ->
#: 0.58; test/reconstruction 0.580 -> 0.588); dev unchanged, 0.965.
#: Rounds 20, 21 and 22 merged (session 17): dev 0.966 (228/236), dev/reconstruction 0.962;
#: test 0.565 (65/115), test/reconstruction 0.570.
#: Round 23 (BatchNorm, learning rate, trivial accuracy; 3 dev and 2 test cases, blind: dev 1 of 3,
#: test 0 of 2): test 0.565 -> 0.556 (65/117), its floor 0.56 -> 0.555; GL254 and GL255 for the
#: two dev misses: dev 0.958 -> 0.967 (231/239), dev/reconstruction 0.963.
#: Round 25 (doc25, label order): 3 test cases measured blind, none found: test 0.551 (65/118),
#: test/reconstruction 0.555, both floors 0.56 -> 0.55; dev 0.966 (230/238) after GL306's
#: extension to ``.unique().tolist()``, ``pd.unique`` and ``drop_duplicates``.
#: Both rounds merged (session 18): test 0.542 (65/120), test/reconstruction 0.545 (61/112),
#: both floors 0.54; dev 0.967 (233/241).
FLOORS = {"dev": 0.96, "test": 0.54}
#: The same per origin: the poster's own material, and logs reproduced here from a thread.
ORIGIN_FLOORS = {
    "dev/reconstruction": 0.96,
    "dev/reproduction": 0.995,
    "test/reconstruction": 0.54,
    "test/reproduction": 0.495,
}
#: Errors on bug cases outside their labels, at most (target: none). The three left are script
#: rules, listed by the benchmark (one of them, GL112 on a dev case, judged a real second bug;
#: GL202 on a test case added in session 7, measured only). GL408 no longer calls a first-epoch
#: loss in the hundreds divergence when that epoch's accuracy is far above chance (4 -> 3).
#: The third round brought one (GL302 on a dev case whose poster evaluates on the training
#: folder on purpose, to show fit and evaluate disagree on the same images): 4.
#: GL302 is an error only when the held-out stream's own name says it is held out (a question
#: on that dev case), and GL202 traces what forward() feeds the softmax (a one-unit scorer
#: regrouped per candidate is not reported; written from the rule's general misreading, the
#: test case was not opened): 4 -> 2, GL112 on the dev case and GL110 on a test case left.
#: The sixth round brought two, both on its dev cases: GL112 on a script that scales its
#: training arrays and its test image alike by 1/255 (a misreading), and GL117 on a course
#: notebook that trains on unshuffled generators on purpose, to show why shuffling matters: 4.
#: The seventh round brought one, on its dev case torch-gh-tacto-25 (GL211: the RGB training
#: transform compared with the depth test transform of a two-stream script): 3 -> 4; gone once
#: an evaluation transform normalised like one training stream is that stream's partner: 3.
#: The seventeenth round brought one, on its dev case log-gh-mmpretrain-507 (GL426 reading
#: mmcv's non-strict load warning about the replaced head as labels that do not fit): 3; gone
#: once a size mismatch listed under such a warning is no longer an error: 2. Then 1: GL112
#: on keras-gh-tfbook-pr3 names a real second bug of that notebook (prediction on raw 0..255
#: pixels after training on x / 255, upstream as posted), now listed in its ``also_true``.
MAX_FALSE_ALARMS = 1


def _cases() -> list[tuple[Path, dict]]:
    out = []
    for path in sorted(CORPUS.glob("*/*/case.json")):
        out.append((path.parent, json.loads(path.read_text("utf-8"))))
    return out


CASES = _cases()


def split_of(source: str) -> str:
    """The corpus split rule: by the sha1 of the source address, once, deterministic."""
    return "test" if int(hashlib.sha1(source.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def test_corpus_is_there_with_both_parts_and_clean_scripts():
    assert len(CASES) >= 20
    parts = {c.get("split") for _, c in CASES if not c.get("clean")}
    assert parts == {"dev", "test"}
    assert any(c.get("clean") for _, c in CASES)


@pytest.mark.parametrize(("folder", "case"), CASES, ids=[f.name for f, _ in CASES])
def test_case_json_is_well_formed(folder, case):
    clean = folder.parent.name == "clean"
    assert case["id"] == folder.name and re.fullmatch(r"[a-z0-9-]+", case["id"])
    assert case["id"].startswith(PREFIXES[3:] if clean else PREFIXES[:3])
    assert re.match(r"https?://\S+$", case["source"])
    assert case["framework"] in ("keras", "pytorch")
    assert case["kind"] in KINDS
    assert case["split"] == split_of(case["source"]), "split must follow the sha1 rule"
    assert case["files"] and len(set(case["files"])) == len(case["files"])
    for name in case["files"]:
        path = folder / name
        assert path.is_file(), name
        assert not re.match(r"(test_.*|.*_test)\.py$|conftest\.py$", path.name), name
    assert set(case["categories"]) <= set(CATEGORIES)
    if clean:
        assert case.get("clean") is True and case["categories"] == []
        return
    assert case["categories"] and case["answer"].strip() and case["symptom"].strip()
    for also in case.get("also_true", []):  # a second real bug that the answer did not name
        assert also["category"] in set(CATEGORIES) - set(case["categories"]), also
        assert also["why"].strip() and also["file"] in case["files"], also
    for ev in case.get("evidence", []):
        assert ev["file"] in case["files"] and ev["category"] in case["categories"]
        n_lines = len((folder / ev["file"]).read_bytes().split(b"\n"))
        assert all(1 <= int(n) <= n_lines for n in ev["lines"]), ev


@pytest.fixture(scope="module")
def summary() -> dict:
    spec = importlib.util.spec_from_file_location(
        "doctor_recall", ROOT / "benchmarks" / "doctor_recall.py"
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules["doctor_recall"] = bench  # dataclasses look their module up there
    spec.loader.exec_module(bench)
    results = [bench.run_case(folder, case) for folder, case in bench.load_cases(CORPUS)]
    return bench.summarise(results)


def test_recall_does_not_fall_below_what_was_measured(summary):
    got = {split: round(part["recall"], 3) for split, part in summary["parts"].items()}
    assert all(got[s] >= FLOORS[s] for s in FLOORS), got


def test_recall_per_origin_does_not_fall_below_what_was_measured(summary):
    got = {key: round(part["recall"], 3) for key, part in summary["origins"].items()}
    assert all(got[k] >= ORIGIN_FLOORS[k] for k in ORIGIN_FLOORS), got


def test_clean_scripts_get_no_error_and_at_most_one_warning(summary):
    noisy = {cid: v for cid, v in summary["clean"].items() if v["errors"] or len(v["warnings"]) > 1}
    assert not noisy


def test_false_alarms_do_not_grow(summary):
    assert len(summary["false_alarms"]) <= MAX_FALSE_ALARMS, summary["false_alarms"]
