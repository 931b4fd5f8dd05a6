"""olscheck.progress: the display olscheck.check shows when progress=None.

The streams and the IPython modules here are fakes built by hand: a stream
whose isatty() says True stands for a terminal, and a module named
``IPython`` whose shell has a ``kernel`` stands for a notebook. What they
record is compared with the text a reader would see.
"""

from __future__ import annotations

import io
import sys
import types

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck import progress
from olscheck.errors import ConfigurationError

STEPS_IN_MEMORY = ["reading the data", "fitting the linear model", "running the assumption tests"]


class FakeTerminal(io.StringIO):
    """A text stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


class FakePipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def screen(written: str) -> str:
    """What a terminal shows after ``written``: a carriage return moves to the column 0, text overwrites."""
    line: list[str] = []
    column = 0
    for char in written:
        if char == "\r":
            column = 0
        elif char == "\n":
            raise AssertionError("the progress line must never start a new line")
        else:
            if column < len(line):
                line[column] = char
            else:
                line.append(char)
            column += 1
    return "".join(line)


@pytest.fixture
def interactive_env(monkeypatch):
    # the test may itself run in CI (CI=true) or from a dumb terminal: the display's own rules, not the
    # environment of this run, decide what these tests see
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    monkeypatch.delitem(sys.modules, "IPython.display", raising=False)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    x1, x2 = rng.normal(size=40), rng.normal(size=40)
    return pd.DataFrame({"y": 2 + x1 - x2 + rng.normal(size=40), "x1": x1, "x2": x2})


# ----------------------------------------------------------------------------- the terminal line
def test_terminal_line_rewrites_one_line_and_erases_it():
    stream = FakeTerminal()
    line = progress.TerminalLine(stream)
    line("running the out-of-sample non-linear probe")
    assert screen(stream.getvalue()) == "olscheck: running the out-of-sample non-linear probe…"
    line("fitting the linear model")  # shorter: the rest of the longer line must be overwritten
    assert screen(stream.getvalue()).rstrip() == "olscheck: fitting the linear model…"
    assert stream.getvalue().count("\r") == 2 and "\n" not in stream.getvalue()
    line.close()
    assert screen(stream.getvalue()).strip() == ""
    assert stream.getvalue().endswith("\r")  # what is printed next starts at column 0


class SizedTerminal(FakeTerminal):
    def fileno(self) -> int:
        return 2


@pytest.mark.parametrize("columns, shown", [(30, 29), (0, 80)])  # 0: an unsized pty, read as 80 columns
def test_terminal_line_is_cut_to_the_terminal_width(monkeypatch, columns, shown):
    # a line that wraps cannot be rewritten by a carriage return: it must stay one column short of the width
    monkeypatch.setattr("os.get_terminal_size", lambda fd: __import__("os").terminal_size((columns, 24)))
    stream = SizedTerminal()
    line = progress.TerminalLine(stream)
    description = "running the out-of-sample non-linear probe on the rows kept whole"
    line(description)
    assert screen(stream.getvalue()) == f"olscheck: {description}…"[:shown]


def test_terminal_line_uses_three_dots_where_the_stream_cannot_encode_an_ellipsis():
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii")
    line = progress.TerminalLine(stream)
    line("reading the data")
    assert raw.getvalue() == b"\rolscheck: reading the data..."


def test_terminal_line_stops_quietly_when_the_stream_is_closed():
    stream = FakeTerminal()
    line = progress.TerminalLine(stream)
    stream.close()
    line("reading the data")  # a display must not break the check
    line.close()


# ----------------------------------------------------------------------------- which display, through check
def test_check_on_a_terminal_shows_each_step_then_clears_the_line(monkeypatch, interactive_env, frame):
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    report = olscheck.check(frame, target="y", probe=False)
    written = stream.getvalue()
    shown = [part.rstrip() for part in written.split("\r") if part.strip()]
    assert shown == [f"olscheck: {step}…" for step in STEPS_IN_MEMORY]
    assert screen(written).strip() == "" and written.endswith("\r")
    assert report.verdict.level in ("linear", "linear_with_remedies", "nonlinear")


def test_check_clears_the_line_when_it_raises(monkeypatch, interactive_env, frame):
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    with pytest.raises(olscheck.errors.OlscheckError, match="nope"):
        olscheck.check(frame, target="nope", probe=False)
    assert "olscheck: reading the data" in stream.getvalue()
    assert screen(stream.getvalue()).strip() == ""


@pytest.mark.parametrize("stream", [FakePipe(), io.StringIO()], ids=["not-a-tty", "no-isatty-answer-true"])
def test_check_in_a_pipe_shows_nothing(monkeypatch, interactive_env, frame, stream):
    monkeypatch.setattr(sys, "stderr", stream)
    olscheck.check(frame, target="y", probe=False)
    assert stream.getvalue() == ""


def test_check_with_progress_false_shows_nothing_on_a_terminal(monkeypatch, interactive_env, frame):
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    olscheck.check(frame, target="y", probe=False, progress=False)
    assert stream.getvalue() == ""


def test_a_callable_is_called_with_each_step_and_nothing_else_is_shown(monkeypatch, interactive_env, frame):
    stream = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", stream)
    steps: list[str] = []
    olscheck.check(frame, target="y", probe=False, progress=steps.append)
    assert steps == STEPS_IN_MEMORY
    assert stream.getvalue() == ""


@pytest.mark.parametrize("variable, value", [("CI", "true"), ("TERM", "dumb")])
def test_ci_and_dumb_terminals_show_nothing_even_on_a_tty(monkeypatch, interactive_env, variable, value):
    monkeypatch.setenv(variable, value)
    assert progress.default_display(FakeTerminal()) is None


def test_ci_set_to_false_still_shows_the_line(monkeypatch, interactive_env):
    monkeypatch.setenv("CI", "false")
    assert isinstance(progress.default_display(FakeTerminal()), progress.TerminalLine)


def test_no_stderr_at_all_shows_nothing(monkeypatch, interactive_env):
    monkeypatch.setattr(sys, "stderr", None)  # pythonw on Windows
    assert progress.default_display() is None


@pytest.mark.parametrize("bad", [True, "yes", 1])
def test_progress_must_be_none_false_or_a_callable(bad, frame):
    with pytest.raises(ConfigurationError, match=f"progress must be None, False or a function.*{bad!r}"):
        olscheck.check(frame, target="y", probe=False, progress=bad)


# ----------------------------------------------------------------------------- the notebook
class FakeHandle:
    def __init__(self, log: list) -> None:
        self.log = log

    def update(self, obj) -> None:
        self.log.append(("update", obj))


def install_fake_ipython(monkeypatch, *, kernel: bool) -> list:
    """Fake ``IPython`` and ``IPython.display`` modules; returns the log of what was displayed."""
    log: list = []
    shell = types.SimpleNamespace(kernel=object() if kernel else None)
    ipython = types.ModuleType("IPython")
    ipython.get_ipython = lambda: shell
    display_module = types.ModuleType("IPython.display")

    def display(obj, display_id=None):
        assert display_id is True  # only a display with an id can be updated in place
        log.append(("display", obj))
        return FakeHandle(log)

    display_module.display = display
    ipython.display = display_module
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display_module)
    return log


def test_check_in_a_notebook_updates_one_output_and_empties_it(monkeypatch, interactive_env, frame):
    log = install_fake_ipython(monkeypatch, kernel=True)
    stream = FakeTerminal()  # a kernel wins over a terminal: the notebook is where the user looks
    monkeypatch.setattr(sys, "stderr", stream)
    olscheck.check(frame, target="y", probe=False)
    kinds = [kind for kind, _ in log]
    assert kinds == ["display"] + ["update"] * len(STEPS_IN_MEMORY)
    texts = [repr(obj) for _, obj in log]
    assert texts[:-1] == [f"olscheck: {step}…" for step in STEPS_IN_MEMORY]
    assert "fitting the linear model" in log[1][1]._repr_html_()
    assert texts[-1] == "" and log[-1][1]._repr_html_() == ""  # removed at the end
    assert stream.getvalue() == ""


def test_notebook_text_is_escaped_as_html():
    log: list = []
    module = types.SimpleNamespace(display=lambda obj, display_id=None: log.append(obj) or FakeHandle(log))
    status = progress.NotebookStatus(module)
    status("reading <data> & more")
    assert "&lt;data&gt; &amp; more" in log[0]._repr_html_()


def test_ipython_without_a_kernel_is_a_terminal_or_nothing(monkeypatch, interactive_env):
    install_fake_ipython(monkeypatch, kernel=False)
    assert isinstance(progress.default_display(FakeTerminal()), progress.TerminalLine)
    assert progress.default_display(FakePipe()) is None


def test_a_notebook_with_progress_false_shows_nothing(monkeypatch, interactive_env, frame):
    log = install_fake_ipython(monkeypatch, kernel=True)
    olscheck.check(frame, target="y", probe=False, progress=False)
    assert log == []


def test_ipython_is_never_imported_by_the_display(monkeypatch, interactive_env):
    # IPython absent from sys.modules: the display must not import it (a second of start-up in scripts)
    imported = []
    real_import = __import__

    def spy(name, *args, **kwargs):
        if name.startswith("IPython"):
            imported.append(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("builtins.__import__", spy)
    assert progress.default_display(FakePipe()) is None
    assert imported == [] and "IPython" not in sys.modules
