"""Two CPU processes over Gloo (torchrun) against one: same numbers, same run, resumable.

The runs are real: ``python -m torch.distributed.run --standalone --nproc-per-node 2 -m
graftlab train`` in a subprocess (``--standalone`` takes a free port from the OS, so runs in
parallel do not collide), one thread per process, on a tiny image tree made here.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import graftlab
from graftlab import distributed
from graftlab.errors import ConfigError
from graftlab.finetune.config import TrainConfig
from graftlab.train import resume_training, run_training

SRC = Path(graftlab.__file__).resolve().parents[1]
#: One config for every run here: frozen BatchNorm (Gloo has no SyncBatchNorm, so BN that
#: trains sees per-rank batches; frozen, the two processes compute what one does).
OPTIONS = {
    "backbone": "test_efficientnet",
    "weights": "none",
    "image_size": 32,
    "batch_size": 8,
    "precision": "fp32",
    "channels_last": False,
    "epochs": 3,
    "bn": "frozen",
    "lr": 5e-4,
    "early_stopping_patience": None,
}
#: Two processes sum the gradients of two half batches in another order than one process
#: sums one batch: the numbers agree to float32 rounding, accuracies exactly.
TOLERANCE = 1e-4
TIMEOUT_S = 60  # GRAFTLAB_DIST_TIMEOUT of the subprocess runs


def _env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]),
            "OMP_NUM_THREADS": "1",
            "GRAFTLAB_CACHE": str(cache),
            "GRAFTLAB_DIST_TIMEOUT": str(TIMEOUT_S),
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


def _torchrun(*args: str, cache: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    return subprocess.run(
        [*cmd, *args], env=_env(cache), capture_output=True, text=True, timeout=timeout
    )


def _cli_options() -> list[str]:
    return [f"{k}={'none' if v is None else str(v).lower()}" for k, v in OPTIONS.items()]


def _rows(run: Path) -> list[dict[str, str]]:
    with open(run / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _files(run: Path) -> set[str]:
    return {str(p.relative_to(run)) for p in run.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same training, in one process and in two (torchrun, Gloo), each with its own cache."""
    from _kit import make_image_tree

    root = tmp_path_factory.mktemp("dist")
    data = make_image_tree(root / "data", {"train": 8, "val": 4, "test": 4})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = run_training(
            data,
            TrainConfig(**OPTIONS),
            run_dir=root / "one",
            progress=False,
            verbose=False,
            cache_dir=root / "cache1",
        )
    finally:
        torch.set_num_threads(threads)
    two = _torchrun(
        "-m", "graftlab", "train", str(data), *_cli_options(), "--project", str(root / "runs"),
        "--name", "two", cache=root / "cache2",
    )  # fmt: skip
    assert two.returncode == 0, two.stderr[-3000:]
    return SimpleNamespace(root=root, data=data, one=one, two=root / "runs" / "train" / "two")


def test_two_processes_give_the_numbers_of_one(runs):
    one, two = runs.one.run_dir, runs.two
    rows1, rows2 = _rows(one), _rows(two)
    assert [r["phase"] for r in rows2] == ["probe", "finetune", "finetune", "finetune"]
    for a, b in zip(rows1, rows2, strict=True):
        assert a["val_accuracy"] == b["val_accuracy"], (a, b)  # probe and every epoch
        for key in ("train_loss", "val_loss"):
            assert float(a[key]) == pytest.approx(float(b[key]), abs=TOLERANCE), (key, a, b)
    s1, s2 = (json.loads((r / "summary.json").read_text()) for r in (one, two))
    for phase in ("probe", "finetune"):
        assert s1[phase]["val"]["accuracy"] == s2[phase]["val"]["accuracy"]
    assert s1["selected"] == s2["selected"]
    assert s2["distributed"]["world_size"] == 2 and s2["distributed"]["per_rank_batch"] == 4
    assert s2["distributed"]["global_batch"] == s1["distributed"]["global_batch"] == 8
    # One process trains the model itself: no DDP wrapper on its path.
    assert runs.one.trainer._train_forward is runs.one.trainer.model


def test_two_process_run_directory_is_complete_and_the_same(runs):
    assert _files(runs.two) == _files(runs.one.run_dir)
    assert not (runs.two / "FAILED").exists()
    execution = json.loads((runs.two / "execution.json").read_text())
    assert execution["world"]["size"] == 2 and execution["world"]["backend"] == "gloo"
    saved = torch.load(runs.two / "weights" / "last.pt", weights_only=True)
    assert saved["world_size"] == 2


def test_sharded_features_are_the_cache_one_process_writes(runs):
    entries = sorted(p.name for p in (runs.root / "cache1" / "features").iterdir())
    assert entries == sorted(p.name for p in (runs.root / "cache2" / "features").iterdir())
    assert len(entries) == 3  # train, val, test: same keys, so one process reuses them
    for key in entries:
        a = np.load(runs.root / "cache1" / "features" / key / "features.npy")
        b = np.load(runs.root / "cache2" / "features" / key / "features.npy")
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


KILL = """
import os, signal, sys
from graftlab.finetune.callbacks import Callback
from graftlab.finetune.config import TrainConfig
from graftlab.train import resume_training, run_training

class KillRankOne(Callback):  # SIGKILL: no cleanup, as when the OOM killer takes a rank
    def on_batch_end(self, trainer, step, logs):
        if os.environ["RANK"] == "1" and trainer.epoch_ == 1:
            os.kill(os.getpid(), signal.SIGKILL)

run_training(sys.argv[1], TrainConfig(**{options!r}), run_dir=sys.argv[2],
             callbacks=[KillRankOne()], progress=False, verbose=False)
"""


def test_a_killed_rank_ends_the_run_and_resume_finishes_it(runs, tmp_path):
    script = tmp_path / "kill_rank_one.py"
    script.write_text(KILL.format(options=OPTIONS))
    run = tmp_path / "killed"
    t = time.perf_counter()
    killed = _torchrun(str(script), str(runs.data), str(run), cache=runs.root / "cache2")
    assert time.perf_counter() - t < TIMEOUT_S + 60  # ended by the launcher, no hang
    assert killed.returncode != 0
    assert "rank      : 1" in killed.stderr and "SIGKILL" in killed.stderr, killed.stderr[-2000:]
    assert (run / "weights" / "last.pt").is_file() and not (run / "summary.json").exists()
    assert torch.load(run / "weights" / "last.pt", weights_only=True)["epoch"] == 1
    one = tmp_path / "resumed-by-one"
    shutil.copytree(run, one)

    # graftlab's own launcher (--devices) continues it with two processes.
    resumed = subprocess.run(
        [sys.executable, "-m", "graftlab", "train", "--resume", str(run), "--devices", "2"],
        env=_env(runs.root / "cache2"),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "resumed after epoch 1" in resumed.stderr + resumed.stdout
    assert _files(run) == _files(runs.two)
    # Exact resumption: the epochs after the kill are those of the uninterrupted run.
    for a, b in zip(_rows(runs.two), _rows(run), strict=True):
        assert a["val_accuracy"] == b["val_accuracy"]
        assert float(a["val_loss"]) == pytest.approx(float(b["val_loss"]), abs=1e-6)

    # One process continues a two-process checkpoint: same global batches, same order.
    threads = torch.get_num_threads()
    try:
        resume_training(
            one, cache_dir=runs.root / "cache2", progress=False, verbose=False, report=False
        )
    finally:
        torch.set_num_threads(threads)  # the run pins the threads it recorded
    for a, b in zip(_rows(runs.two), _rows(one), strict=True):
        assert a["val_accuracy"] == b["val_accuracy"]
        assert float(a["val_loss"]) == pytest.approx(float(b["val_loss"]), abs=TOLERANCE)


# -- the pieces, in one process --------------------------------------------------------------
def test_shards_are_whole_batches_that_cover_every_row_once():
    for n, batch, size in [(0, 4, 2), (10, 4, 2), (17, 4, 3), (5, 8, 4), (64, 16, 8)]:
        parts = [distributed.shard(n, batch, distributed.World(r, size)) for r in range(size)]
        assert [i for p in parts for i in p] == list(range(n))
        assert all(p.start % batch == 0 for p in parts)


def test_one_process_has_a_world_of_one_and_no_collectives():
    here = distributed.world()
    assert (here.size, here.rank, here.is_main) == (1, 0, True)
    assert distributed.gather_rows(np.arange(3)).tolist() == [0, 1, 2]
    assert distributed.on_main(lambda: 7) == 7 and distributed.any_rank(False) is False


def test_a_global_batch_that_does_not_split_is_refused_in_one_line():
    assert distributed.per_rank_batch(32, 4) == 8
    with pytest.raises(ConfigError, match=r"batch_size 30 .* over 4 processes.*28 or 32"):
        distributed.per_rank_batch(30, 4)


def test_a_failed_rank_is_named_in_one_line():
    failure = SimpleNamespace(local_rank=1, pid=4242, exitcode=-9)
    exc = SimpleNamespace(get_first_failure=lambda: (3, failure), failures={3: 0, 0: 0})
    text = distributed.describe_failure(exc)
    assert text.startswith("rank 3 (local rank 1, pid 4242) was killed by SIGKILL")
    assert "--resume RUN" in text and "\n" not in text


def test_devices_under_torchrun_must_match_its_world(cli, monkeypatch, tmp_path):
    monkeypatch.setenv("WORLD_SIZE", "3")
    monkeypatch.setenv("RANK", "0")
    code, _, err = cli("train", tmp_path, "--devices", "2")
    assert code == 2 and "--devices 2 under torchrun, which started 3 processes" in err
    monkeypatch.delenv("WORLD_SIZE")
    code, _, err = cli("train", tmp_path, "--devices", "0")
    assert code == 2 and "'--devices' must be 'auto' or an integer >= 1" in err


HANG = """
import sys, time
from graftlab import distributed

with distributed.session("cpu") as here:
    if here.rank == 1:
        time.sleep(600)  # alive but stuck: the launcher sees nothing wrong
    distributed.all_sum([1.0])
"""


def test_a_hung_rank_is_named_after_the_timeout(tmp_path):
    script = tmp_path / "hang.py"
    script.write_text(HANG)
    env_timeout = 5  # also bounds init: leaves room for one rank importing slower
    t = time.perf_counter()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    env = {**_env(tmp_path / "cache"), "GRAFTLAB_DIST_TIMEOUT": str(env_timeout)}
    done = subprocess.run([*cmd, str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert time.perf_counter() - t < 100  # a hang would run into run()'s 120 s (66 s at load 5)
    said = done.stderr
    assert f"rank 0 of 2 waited past the {env_timeout} s timeout" in said, said[-2000:]
    assert "rank(s) 1 did not respond" in done.stderr


NOT_SHARED = """
import os, sys
from pathlib import Path
from graftlab import distributed

with distributed.session("cpu"):  # each rank its own folder: a cache on a node's local disk
    distributed.check_shared({"cache": Path(sys.argv[1]) / ("node" + os.environ["RANK"])})
"""


def test_a_cache_that_other_nodes_cannot_see_is_refused(tmp_path):
    script = tmp_path / "not_shared.py"
    script.write_text(NOT_SHARED)
    done = _torchrun(str(script), str(tmp_path), cache=tmp_path / "cache", timeout=120)
    assert done.returncode != 0
    assert f"The cache {tmp_path / 'node0'} is not shared: rank(s) 1 (" in done.stderr, done.stderr[
        -2000:
    ]
    assert not list((tmp_path / "node0").iterdir())  # rank 0 removed its marker
