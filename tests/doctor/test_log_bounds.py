"""Bounded work on untrusted logs (issue 11 item 7): no input makes the reader run long or
grow large, and what cannot be read says so in one line.

Bounds are on the CPU time of this process (``time.process_time``), not the wall clock: the
analysis is single-threaded, and on a shared 2-core machine at load 5 the wall time of the
same work doubled (a 5 MB input went past its bound at 10.4 s) while its CPU time did not.
The bounds catch blowups (the bugs they pin took 4 s to minutes), not speed, which
benchmarks/doctor_recall.py measures."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from graftlab.doctor._logparse import parse_log
from graftlab.doctor.logs import check_log
from graftlab.errors import DataError


def timed(text):
    tracemalloc.start()
    start = time.process_time()
    try:
        result = [f.code for f in check_log(text)]
    except DataError as exc:
        result = str(exc)
    seconds = time.process_time() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, seconds, peak


def test_near_pairs_of_a_class_indices_dict_do_not_backtrack():
    # 23 pairs without commas took the former single pattern 2^23 steps (4 s on one line)
    line = "{" + "'a': 1 " * 23 + "\n"
    _, seconds, _ = timed(line + "Epoch 1 loss 0.5 acc 0.5\nEpoch 2 loss 0.4 acc 0.6\n")
    assert seconds < 1.0
    assert parse_log("{'cat': 0, 'dog': 1, 'owl': 2,}\nEpoch 1 loss 0.5\n").num_classes == 3


@pytest.mark.parametrize(
    "text",
    [
        "epoch 1 loss " + "a 1 " * 250_000 + "\n",  # one 1 MB "record" of words and numbers
        "{'loss': " + "[" * 1500 + "]" * 1500 + ", 'epoch': 1}\n" * 300,  # deep literals
        "x" * 5_000_000,  # 5 MB without a newline
        "loss " + "1" * 1_000_000 + "\n",
        # "fine-tune.*start" in one pattern rescanned each line from every "fine tune": 56 s
        "Epoch 1 loss 0.5\n" + ("fine tune " * 1990 + "\n") * 50 + "Epoch 2 loss 0.4\n",
        # an evaluation summary's numbers as unbounded digit runs: 40 s on one 20 kB line
        "* Acc@1 " + "1" * 19_990 + "\nTest: [1/9] Loss " + "2" * 19_990 + "\n",
        # a printed list's closing as two optional runs of spaces around an optional comma
        # split the spaces before a missing "]" every way: 0.4 s a 20 kB line, 8 s here
        "Epoch 1 loss 0.5 acc 0.5\nEpoch 2 loss 0.4 acc 0.6\n"
        + ("['a', 'b'" + " " * 19_990 + "x\n") * 20,
    ],
    ids=[
        "long-record",
        "nested-literals",
        "one-5mb-line",
        "long-number",
        "phase-words",
        "topk-digits",
        "unclosed-list-spaces",
    ],
)
def test_adversarial_lines_end_in_about_a_second_with_a_clear_result(text):
    result, seconds, peak = timed(text)
    assert seconds < 5.0 and peak < 100e6  # a loaded 2-core machine: well under a second alone
    assert isinstance(result, list) or "Found no per-epoch training metrics" in result


def test_a_5_mb_trainer_log_is_read_in_part_and_says_so():
    lines = "".join(
        str({"loss": 1 / (1 + s / 500), "learning_rate": 5e-05, "epoch": s / 100}) + "\n"
        for s in range(1, 80_000)
    )
    assert len(lines) > 5_000_000
    start = time.process_time()
    result = [f.code for f in check_log(lines)]
    assert "GL418" in result and time.process_time() - start < 10.0  # ~1 s alone


def test_a_paste_of_many_blank_lines_is_sniffed_in_linear_time(tmp_path):
    # under re.M, "^\s*" ran over the newlines from every line start: 30,000 took 40 s
    from graftlab.doctor.targets import diagnose

    path = tmp_path / "output.txt"
    path.write_text("\n" * 30_000 + "Epoch 1 loss 0.5 acc 0.5\nEpoch 2 loss 0.4 acc 0.6\n")
    start = time.process_time()  # CPU time: a loaded machine must not fail it
    diagnose([path])
    assert time.process_time() - start < 5.0


def test_a_log_whose_epochs_lie_beyond_what_is_read_says_it_was_cut():
    text = "\n" * 2_000_000 + "Epoch 1 loss 0.5 acc 0.5\nEpoch 2 loss 0.4 acc 0.6\n"
    with pytest.raises(DataError, match=r"only its first 1\.0 MB of 2\.0 MB were read"):
        check_log(text)


def test_a_log_file_is_read_only_up_to_its_byte_bound_and_says_so(tmp_path, monkeypatch):
    import graftlab.doctor._logparse as logparse

    epoch = "Epoch {e}/400\n45/45 [====] - 1s - loss: 0.5000 - val_loss: 0.6000\n"
    path = tmp_path / "train.log"
    path.write_text("".join(epoch.format(e=e) for e in range(1, 401)))
    monkeypatch.setattr(logparse, "MAX_READ_BYTES", 2_000)
    log = parse_log(path)
    size = path.stat().st_size
    assert len(log.rows) < 40 and log.truncated == (pytest.approx(2_000, abs=200), size)
    [note] = [f for f in check_log(path) if f.code == "GL418"]
    assert f"of a {size / 1e6:.1f} MB log" in note.title
