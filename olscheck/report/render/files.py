"""Atomic writes: a report file is either complete or absent, never half-written.

Every report file is written to a temporary file in the same folder (same
file system) and moved over the target with :func:`os.replace`, which is
atomic: an interrupted run (Ctrl-C, a crash, a full disk) leaves the
previous file, or none, and never a truncated report. The temporary file is
removed when the write fails; :func:`discard_pending` removes those of
writes still under way (for a process that must exit at once).
"""

from __future__ import annotations

import os
import secrets
import stat
import threading
from pathlib import Path

__all__ = ["write_atomic", "discard_pending"]

_pending: set[str] = set()
_lock = threading.Lock()
#: Keeps the temporary name within the 255 bytes most file systems allow.
_MAX_STEM = 100


def write_atomic(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns ``path`` as a Path.

    The folder is created when missing. An existing file keeps its
    permission bits; a new one gets the usual ``0o666 & ~umask``. A symbolic
    link is written through (its target is replaced, the link stays).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    temp, handle = _create_temporary(folder, target.name)
    try:
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            mode = None
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, target)
    except BaseException:  # KeyboardInterrupt included: never leave the temporary file behind
        _unlink(temp)
        raise
    finally:
        with _lock:
            _pending.discard(temp)
    return path


def discard_pending() -> None:
    """Remove the temporary files of writes still under way (before ``os._exit``)."""
    with _lock:
        names = list(_pending)
        _pending.clear()
    for name in names:
        _unlink(name)


def _create_temporary(folder: Path, name: str) -> tuple[str, int]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp = str(folder / f".{name[:_MAX_STEM]}.{secrets.token_hex(4)}.tmp")
        with _lock:  # registered before it exists, so discard_pending() cannot miss it
            _pending.add(temp)
        try:
            return temp, os.open(temp, flags, 0o666)  # 0o666 & ~umask, as open() gives a new file
        except FileExistsError:
            with _lock:
                _pending.discard(temp)
        except BaseException:
            with _lock:
                _pending.discard(temp)
            raise
    raise FileExistsError(f"cannot create a temporary file in {folder}")  # pragma: no cover


def _unlink(name: str) -> None:
    try:
        os.unlink(name)
    except OSError:
        pass
