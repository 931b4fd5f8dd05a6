"""Atomic writes: a report file is complete or absent, never half-written, and no temporary file is left."""

from __future__ import annotations

import os
import stat
import sys
import threading

import pytest

from olscheck.report.render import files
from olscheck.report.render.files import discard_pending, write_atomic


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_text_and_bytes_and_creates_the_folder(tmp_path):
    text_path = write_atomic(tmp_path / "new folder" / "a.html", "<p>é</p>")
    assert text_path == tmp_path / "new folder" / "a.html"
    assert text_path.read_bytes() == "<p>é</p>".encode("utf-8")
    assert write_atomic(tmp_path / "b.png", b"\x89PNG\x00").read_bytes() == b"\x89PNG\x00"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "new folder") == []


def test_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("the previous report", encoding="utf-8")

    def interrupted(fd):
        raise KeyboardInterrupt  # after the bytes went to the temporary file, before it replaces the report

    monkeypatch.setattr(files.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, "the new report " * 1000)
    assert path.read_text(encoding="utf-8") == "the previous report"
    assert leftovers(tmp_path) == []
    assert files._pending == set()


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "replace", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "report.json", "{}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_permissions_follow_the_umask_or_the_existing_file(tmp_path):
    old = os.umask(0o027)
    try:
        fresh = write_atomic(tmp_path / "fresh.md", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o640  # 0o666 & ~0o027, as open() would give
    kept = tmp_path / "kept.md"
    kept.write_text("old")
    kept.chmod(0o604)
    write_atomic(kept, "new")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o604 and kept.read_text() == "new"


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_a_symbolic_link_is_written_through(tmp_path):
    real = tmp_path / "real.html"
    real.write_text("old")
    link = tmp_path / "link.html"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_discard_pending_removes_a_write_under_way(tmp_path, monkeypatch):
    """What the command line does before it exits at once on Ctrl-C: the temporary file goes."""
    started, release = threading.Event(), threading.Event()
    real_fsync = files.os.fsync

    def slow_fsync(fd):
        started.set()
        release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", slow_fsync)
    errors = []
    worker = threading.Thread(target=lambda: _catch(errors, write_atomic, tmp_path / "r.html", "x" * 10_000))
    worker.start()
    assert started.wait(10)
    assert len(leftovers(tmp_path)) == 1
    discard_pending()
    assert leftovers(tmp_path) == []
    release.set()
    worker.join(10)
    assert not (tmp_path / "r.html").exists()  # the replace found no temporary file
    assert errors and isinstance(errors[0], FileNotFoundError)


def _catch(errors, function, *args):
    try:
        function(*args)
    except BaseException as error:  # noqa: BLE001 - recorded for the assertion
        errors.append(error)
