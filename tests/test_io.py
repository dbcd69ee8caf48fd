"""graftlab._io: atomic writes leave files as readable as any other file the user writes."""

import os
import stat

import pytest

from graftlab._io import write_json, write_text


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_follow_the_umask(tmp_path, umask, mode):
    # mkstemp made every run file 0600: unreadable by the team sharing a run folder.
    old = os.umask(umask)
    try:
        write_json(tmp_path / "a.json", {"x": 1})
        write_text(tmp_path / "sub" / "b.txt", "hello")
    finally:
        os.umask(old)
    for name in ("a.json", "sub/b.txt"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == mode, name


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    from graftlab._io import atomic_path

    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("crash")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]
