"""olscheck.engine.parallel: threads, and a forked child process, that change no value."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
import pytest

from olscheck.engine import parallel


def _where(value):
    return value * 2, threading.current_thread().name


@pytest.mark.parametrize("cores", [1, 2])
def test_alongside_gives_the_call_s_value_and_its_error(monkeypatch, cores):
    monkeypatch.setattr(parallel, "available_cores", lambda: cores)
    value, thread = parallel.alongside(_where, 21).result()
    assert value == 42
    # on two cores the call ran on a thread of its own; on one, in the caller's thread when asked for
    assert (thread == threading.current_thread().name) == (cores == 1)

    def fails():
        raise ValueError("the step's own error")

    with pytest.raises(ValueError, match="the step's own error"):
        parallel.alongside(fails).result()


def test_in_order_yields_in_the_order_of_the_items_whatever_finishes_first():
    import time

    def slow_first(item):
        time.sleep(0.05 if item == 0 else 0.0)
        return item

    assert list(parallel.in_order(slow_first, range(6), workers=3)) == list(range(6))


# ----------------------------------------------------------------------------- in a forked child process
needs_fork = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child process is forked on Linux only")


@dataclass(frozen=True)
class _Frozen:
    """A result as olscheck's are: frozen, with a read-only mapping (which plain pickle refuses)."""

    process: int
    values: MappingProxyType


def _computed_where(value):
    return _Frozen(os.getpid(), MappingProxyType({"twice": np.arange(3) * value, "nested": MappingProxyType({"a": 1})}))


def _forced(monkeypatch):
    # the test session has loaded scikit-learn (and GNU OpenMP), so a fork is normally declined here; these
    # calls use neither, so the child is safe
    monkeypatch.setattr(parallel, "_fork_is_safe", lambda: True)


@needs_fork
def test_in_child_process_returns_the_value_computed_in_the_child(monkeypatch):
    _forced(monkeypatch)
    with parallel.in_child_process(_computed_where, 21) as started:
        result = started.result()
    assert result.process != os.getpid()  # computed in the child
    assert type(result.values) is MappingProxyType and type(result.values["nested"]) is MappingProxyType
    np.testing.assert_array_equal(result.values["twice"], [0, 21, 42])
    assert started.result() is result  # asked again: the same value, nothing recomputed



def _frozen_objects():
    import gc

    return os.getpid(), gc.get_freeze_count()


@needs_fork
def test_the_child_leaves_the_parent_s_objects_out_of_its_collections(monkeypatch):
    import gc

    _forced(monkeypatch)
    before = gc.get_freeze_count()
    with parallel.in_child_process(_frozen_objects) as started:
        process, frozen = started.result()
    assert process != os.getpid()
    # every object inherited from the parent (this test session's: tens of thousands) is frozen in the child
    assert frozen > 10_000 and frozen > before
    assert gc.get_freeze_count() == before  # and nothing in the parent

def _fails_in_a_child(parent: int, how: str):
    if os.getpid() != parent:
        if how == "raises":
            raise ValueError("only in the child")
        if how == "dies":
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        if how == "unpicklable":
            return lambda: None
    return "computed here", os.getpid()


@needs_fork
@pytest.mark.parametrize("how", ["raises", "dies", "unpicklable"])
def test_a_child_that_fails_leaves_the_call_to_the_parent(monkeypatch, how):
    _forced(monkeypatch)
    with parallel.in_child_process(_fails_in_a_child, os.getpid(), how) as started:
        assert started.result() == ("computed here", os.getpid())


@needs_fork
def test_an_error_is_raised_as_in_turn(monkeypatch):
    _forced(monkeypatch)

    def fails():
        raise ValueError("the call's own error")

    with pytest.raises(ValueError, match="the call's own error"), parallel.in_child_process(fails) as started:
        started.result()


@needs_fork
def test_a_child_whose_value_is_not_asked_for_is_stopped_and_reaped(monkeypatch):
    _forced(monkeypatch)
    with parallel.in_child_process(time.sleep, 600) as started:
        child = started._pid
        assert os.waitpid(child, os.WNOHANG) == (0, 0)  # running
    with pytest.raises(ChildProcessError):  # gone: killed and reaped on leaving, no zombie left
        os.waitpid(child, os.WNOHANG)


@needs_fork
def test_scikit_learn_s_gnu_openmp_is_seen():
    import sklearn  # noqa: F401 - loads its bundled libgomp

    assert parallel._gnu_openmp_loaded() and not parallel._fork_is_safe()


def test_no_fork_where_another_python_thread_runs_or_one_core(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(parallel, "_gnu_openmp_loaded", lambda: False)
    # earlier tests may have left a thread running (a display, a pool): the expectation follows what is there
    assert parallel._fork_is_safe() == (hasattr(os, "fork") and threading.active_count() == 1)
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        assert not parallel._fork_is_safe()
    finally:
        release.set()
        other.join()
    monkeypatch.setattr(parallel, "available_cores", lambda: 1)
    assert not parallel._fork_is_safe()
    started = parallel.in_child_process(_computed_where, 2)  # declined: made in this process when asked
    assert started.result().process == os.getpid()


_CHECK_IN_A_FRESH_PROCESS = """
import json, sys
import olscheck
from olscheck.engine import parallel
if sys.argv[2] == "in turn":
    parallel._fork_is_safe = lambda: False
forked = []
original = parallel._Child.result
parallel._Child.result = lambda self: forked.append(True) or original(self)
report = olscheck.check(sys.argv[1], target="y", plots=True, streaming=sys.argv[3] == "streamed")
print(json.dumps({"forked": bool(forked), "report": report.to_dict()}, default=str))
"""


@needs_fork
@pytest.mark.parametrize("path", ["in memory", "streamed"])
def test_the_probe_in_a_child_gives_the_report_made_in_turn(tmp_path, path):
    """In a fresh process (nothing has loaded OpenMP) the probe runs in a child; the report is the same to the bit."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 3))
    frame = pd.DataFrame(x, columns=["x1", "x2", "x3"])
    frame["y"] = 1 + x[:, 0] + np.sin(2 * x[:, 1]) + rng.normal(size=600)
    frame.to_csv(tmp_path / "data.csv", index=False)
    script = tmp_path / "check.py"
    script.write_text(_CHECK_IN_A_FRESH_PROCESS)
    outputs = {}
    for mode in ("forked", "in turn"):
        completed = subprocess.run([sys.executable, str(script), str(tmp_path / "data.csv"), mode, path],
                                   capture_output=True, text=True, check=True, timeout=600)
        outputs[mode] = json.loads(completed.stdout)
    assert outputs["forked"]["forked"] and not outputs["in turn"]["forked"]
    assert outputs["forked"]["report"]["nonlinearity"]["probe"]["computed"]
    assert outputs["forked"]["report"] == outputs["in turn"]["report"]


@needs_fork
@pytest.mark.parametrize("fork", [True, False])
def test_in_turn_is_what_runs_here(monkeypatch, fork):
    """The child makes the call as given; this process (declined, or the child failed) makes ``in_turn``."""
    monkeypatch.setattr(parallel, "_fork_is_safe", lambda: fork)
    with parallel.in_child_process(_computed_where, 3, in_turn=lambda: "set up for this process") as started:
        result = started.result()
    if fork:
        assert result.process != os.getpid() and result.values["twice"][1] == 3
    else:
        assert result == "set up for this process"
    with parallel.in_child_process(_fails_in_a_child, os.getpid(), "raises", in_turn=lambda: "here") as started:
        assert started.result() == "here"


@needs_fork
def test_a_child_ends_when_its_parent_is_killed(tmp_path):
    """A parent that dies without stopping its child (SIGKILL, os._exit) takes the child with it."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from olscheck.engine import parallel\n"
        "parallel._fork_is_safe = lambda: True\n"
        "started = parallel.in_child_process(time.sleep, 600)\n"
        "print(started._pid, flush=True)\n"
        "time.sleep(600)\n")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        child = int(process.stdout.readline())
        os.kill(child, 0)  # running
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(child):
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting for its new parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
