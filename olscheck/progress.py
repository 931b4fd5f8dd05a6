"""The progress display :func:`olscheck.check` shows when nobody chose one.

A check tells its ``progress`` callable a short description before each
step that may take a moment (:meth:`olscheck.options.Options.step`). With
``progress=None`` (the default) this module decides what an interactive
session sees:

- in a Jupyter notebook (an IPython kernel is running): one output that is
  updated in place, and emptied when the check ends;
- in a terminal (standard error is a TTY): one line, ``olscheck: fitting
  the linear model…``, rewritten in place and erased when the check ends;
- anywhere else (a pipe, a log file, CI, a script whose standard error is
  not a terminal): nothing, so logs never fill with carriage returns.

``progress=False`` shows nothing; a callable is called as before and never
wrapped. The CLI passes its own callable (one line per step on stderr).

Examples
--------
>>> import io
>>> class Terminal(io.StringIO):
...     def isatty(self):
...         return True
>>> stream = Terminal()
>>> line = TerminalLine(stream)
>>> line("fitting the linear model")
>>> line("running the assumption tests")
>>> line.close()
>>> stream.getvalue().split("\\r")[1:3]
['olscheck: fitting the linear model…', 'olscheck: running the assumption tests…']
>>> stream.getvalue().endswith("\\r")  # erased: the cursor is back at the start of an empty line
True
"""

from __future__ import annotations

import functools
import html
import os
import sys
from collections.abc import Callable
from typing import Any, Protocol

__all__ = ["Display", "TerminalLine", "NotebookStatus", "default_display", "with_default_display"]

#: Width assumed when the terminal's cannot be read (a stream without a file descriptor, an unsized pty).
FALLBACK_WIDTH = 80


class Display(Protocol):
    """What a default display offers: called with each step, closed once at the end."""

    def __call__(self, description: str) -> None: ...

    def close(self) -> None: ...


def _text(description: str, ellipsis: str = "…") -> str:
    return f"olscheck: {description}{ellipsis}"


class TerminalLine:
    """One line on a terminal stream, rewritten for each step and erased by :meth:`close`.

    Parameters
    ----------
    stream : file-like
        A text stream attached to a terminal (``sys.stderr``).

    Notes
    -----
    The line is rewritten with a carriage return and padded with spaces
    over the previous text, not with ANSI escape codes, which some
    terminals (older Windows consoles, IDE run panes) print literally. It
    is cut to the terminal's width less one column: a line that wraps
    cannot be rewritten by a carriage return.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._shown = 0  # characters on the line now, to pad over and to erase
        # a stream without an encoding (io.StringIO) holds any text; a cp437 or ASCII console gets three dots
        encoding = getattr(stream, "encoding", None)
        self._ellipsis = "…"
        if encoding is not None:
            try:
                "…".encode(encoding)
            except (LookupError, UnicodeEncodeError):
                self._ellipsis = "..."

    def _width(self) -> int:
        try:
            columns = os.get_terminal_size(self._stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            return FALLBACK_WIDTH
        return columns if columns > 0 else FALLBACK_WIDTH  # a pseudo-terminal nobody sized reports 0

    def _write(self, text: str) -> None:
        # a display must never break the check it reports on: a closed or broken stream ends the display
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            self._stream = None

    def __call__(self, description: str) -> None:
        if self._stream is None:
            return
        text = _text(description, self._ellipsis)[: max(self._width() - 1, 1)]
        self._write("\r" + text + " " * max(self._shown - len(text), 0))
        self._shown = len(text)

    def close(self) -> None:
        """Erase the line, leaving the cursor at its start (what follows prints on a clean line)."""
        if self._stream is not None and self._shown:
            self._write("\r" + " " * self._shown + "\r")
        self._shown = 0


class _Status:
    """One status line as a notebook shows it (HTML, and plain text for other front ends)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f'<span style="color: #666">{html.escape(self.text)}</span>' if self.text else ""


class NotebookStatus:
    """One notebook output, updated for each step and emptied by :meth:`close`.

    Parameters
    ----------
    display_module : module
        ``IPython.display`` (its ``display(obj, display_id=True)`` returns a
        handle whose ``update`` replaces that output in place).
    """

    def __init__(self, display_module: Any) -> None:
        self._display = display_module.display
        self._handle = None

    def __call__(self, description: str) -> None:
        status = _Status(_text(description))
        if self._handle is None:
            self._handle = self._display(status, display_id=True)
        else:
            self._handle.update(status)

    def close(self) -> None:
        """Empty the output, so only the report the cell returns remains."""
        if self._handle is not None:
            self._handle.update(_Status(""))
            self._handle = None


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _notebook_display_module():
    """``IPython.display`` when an IPython kernel runs this session, else None.

    IPython is looked up in ``sys.modules`` only: a session that has not
    imported it is not a notebook, and importing it would cost a second.
    """
    ipython = sys.modules.get("IPython")
    get_ipython = getattr(ipython, "get_ipython", None)
    if not callable(get_ipython):
        return None
    try:
        shell = get_ipython()
    except Exception:  # an IPython in a broken state is treated as no IPython
        return None
    # a kernel (Jupyter, VS Code, Colab) has shell.kernel; the terminal IPython shell has none and is a TTY
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    import importlib

    try:
        return importlib.import_module("IPython.display")
    except ImportError:
        return None


def default_display(stream: Any = None) -> Display | None:
    """The display for this session, or None when it is not interactive.

    Parameters
    ----------
    stream : file-like, optional
        The terminal stream; default ``sys.stderr`` as it is at the call.

    Returns
    -------
    NotebookStatus, TerminalLine or None
        A notebook status when an IPython kernel is running, a terminal
        line when ``stream`` is a TTY (and neither the ``CI`` environment
        variable is set nor ``TERM`` is ``dumb``), else None.
    """
    module = _notebook_display_module()
    if module is not None:
        return NotebookStatus(module)
    stream = sys.stderr if stream is None else stream
    try:
        interactive = bool(stream.isatty())
    except (AttributeError, OSError, ValueError):  # no stderr (pythonw), or a closed one
        return None
    if not interactive or _in_ci() or os.environ.get("TERM") == "dumb":
        return None
    return TerminalLine(stream)


def with_default_display(function: Callable[..., Any]) -> Callable[..., Any]:
    """Give ``function`` (which takes ``progress=``) the default display when ``progress`` is None.

    The display is closed when ``function`` returns or raises (Ctrl-C
    included), so a terminal line never stays behind a traceback. Any other
    ``progress`` (False, a callable, a wrong value for the options to
    reject) is passed on unchanged.
    """

    @functools.wraps(function)
    def wrapper(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        display = default_display() if progress is None else None
        if display is None:
            return function(*args, progress=progress, **kwargs)
        try:
            return function(*args, progress=display, **kwargs)
        finally:
            display.close()

    return wrapper
