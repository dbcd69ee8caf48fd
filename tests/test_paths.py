"""graftlab._paths: run directories that a failed command does not leave half-written."""

import errno

import pytest

from graftlab._paths import FAILED_MARKER, new_run_dir, run_dir_for
from graftlab.errors import SetupError, storage_error


def test_a_command_that_fails_before_writing_anything_useful_leaves_no_directory(tmp_path):
    # Every failed `graftlab train` once left an expN directory behind.
    for exc in (ValueError("bad data"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), run_dir_for(tmp_path, "train", "exp") as run:
            (run / "config.json").write_text("{}")
            raise exc
        assert not (tmp_path / "train" / "exp").exists()
    with run_dir_for(tmp_path, "train", "exp") as run:
        (run / "config.json").write_text("{}")
    assert run == tmp_path / "train" / "exp" and (run / "config.json").is_file()


def test_a_failed_run_worth_resuming_is_kept_and_marked_failed(tmp_path):
    with (
        pytest.raises(RuntimeError),
        run_dir_for(tmp_path, "train", "exp", keep_if=("weights/last.pt",)) as run,
    ):
        (run / "weights").mkdir()
        (run / "weights" / "last.pt").write_bytes(b"x")
        raise RuntimeError("out of memory")
    assert (run / FAILED_MARKER).read_text() == "RuntimeError: out of memory\n"
    # Resumed in the same directory and finished: no longer marked.
    with run_dir_for(path=run, keep_if=("weights/last.pt",)):
        pass
    assert not (run / FAILED_MARKER).exists()


def test_a_directory_given_by_the_caller_is_never_removed(tmp_path):
    given = tmp_path / "mine"
    given.mkdir()
    (given / "notes.txt").write_text("keep")
    with pytest.raises(ValueError), run_dir_for(path=given):
        raise ValueError
    assert (given / "notes.txt").read_text() == "keep"


def test_new_run_dir_numbers_taken_names(tmp_path):
    assert [new_run_dir(tmp_path, "train", "exp").name for _ in range(3)] == [
        "exp",
        "exp2",
        "exp3",
    ]


@pytest.mark.parametrize(
    ("code", "where", "hint"),
    [
        (errno.EROFS, "cache", "GRAFTLAB_CACHE=DIR"),
        (errno.EACCES, "runs", "--project DIR"),
        (errno.ENOSPC, "runs", "Free space there"),
        (errno.EACCES, "data", "GRAFTLAB_DATA=DIR"),
    ],
)
def test_storage_problems_become_one_line_with_where_to_point_graftlab(
    tmp_path, monkeypatch, code, where, hint
):
    monkeypatch.setenv("GRAFTLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("GRAFTLAB_DATA", str(tmp_path / "data"))
    error = storage_error(OSError(code, "it failed", str(tmp_path / where / "x")))
    assert isinstance(error, SetupError) and hint in str(error)
    assert "\n" not in str(error) and str(tmp_path / where / "x") in str(error)
    assert storage_error(OSError(errno.EIO, "io")) is None  # a real fault keeps its traceback
