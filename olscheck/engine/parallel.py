"""Work on blocks of rows in parallel threads, merged in row order; BLAS held to one thread; one call in a child.

The passes over chunks (:mod:`olscheck.engine.stream`) and the in-memory
battery's blocks (:mod:`olscheck.checks.battery`) both run here: each
block's statistics on a worker thread, the results merged by the caller in
row order, so they do not depend on which thread finished first. The
non-linear probe, which holds the GIL, runs in a forked child process
beside them where that is safe (:func:`in_child_process`).
"""

from __future__ import annotations

import os
import sys

__all__ = ["MAX_WORKERS", "alongside", "available_cores", "in_child_process", "in_order",
           "one_blas_thread"]

#: Default ceiling on the threads that work on chunks at once: each holds
#: a chunk and its temporaries, and beyond a few the passes are bound by
#: reading the file.
MAX_WORKERS = 4


def available_cores(limit: int | None = MAX_WORKERS) -> int:
    """The cores this process may run on (its CPU affinity on Linux), at most ``limit`` (None: no limit)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores if limit is None else min(cores, limit))


def in_order(function, items, workers: int):
    """``function(item)`` for each item, on ``workers`` threads, yielded in the order of the items.

    The items (chunks) are read on the calling thread while the workers
    compute; at most ``workers + 1`` are in flight, so memory stays bounded
    by the chunk size. Results are merged by the caller in row order, so
    they do not depend on which thread finished first. The heavy work
    (BLAS, LAPACK, ufunc loops, pyarrow decoding) releases the GIL.
    """
    if workers <= 1:
        for item in items:
            yield function(item)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="olscheck-chunk") as pool:
        pending: deque = deque()
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) > workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


class _Deferred:
    """A call made when its result is asked for.

    ``alongside``'s stand-in on one core, and ``in_child_process``'s where no
    child is started.
    """

    def __init__(self, function, arguments, keywords):
        self._call = (function, arguments, keywords)

    def result(self):
        function, arguments, keywords = self._call
        return function(*arguments, **keywords)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exception) -> None:
        self.close()


def alongside(function, *arguments, **keywords):
    """Start ``function(*arguments, **keywords)`` on a thread of its own; ``.result()`` waits for its value.

    For a step that needs nothing the caller computes next (the robust
    comparison reads only the fit, while the battery runs its
    single-threaded whole-sequence tests): on two cores the two overlap.
    With one core the call is simply made when its result is asked for.
    Its exception, if any, is raised by ``.result()``. Under
    :func:`one_blas_thread` (process-wide) each thread's BLAS calls stay on
    one thread, so the values do not depend on the overlap.
    """
    if available_cores() <= 1:
        return _Deferred(function, arguments, keywords)
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="olscheck-alongside")
    try:
        return pool.submit(function, *arguments, **keywords)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def one_blas_thread():
    """BLAS and LAPACK on one thread for the passes over chunks and for the report.

    Every call of a pass is tall and narrow (1e5 x 20 to 30): a second
    thread gains little on the QR and triangular solves, costs a wake-up
    per call, and some products (the m x k by k x s product of the scores)
    ran ten times slower on two threads; on a machine busy with other work
    the spinning threads made pass 2 slower still (seconds per chunk), and
    the report's checks on the rows kept whole (up to ``exact_rows``) took
    20 s instead of 0.5 s. The passes over a Dask source are left alone:
    its partitions already run in parallel, and the limit is process-wide.
    """
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


class _Child(_Deferred):
    """A forked child computing one call; ``result()`` reads its value, or makes the call here if it failed."""

    def __init__(self, function, arguments, keywords, pid: int, reader: int):
        super().__init__(function, arguments, keywords)
        self._pid, self._reader = pid, reader
        self._outcome: tuple = ("not received", None)  # closed before asked: computed here

    def result(self):
        if self._pid is not None:
            self._outcome = self._receive()
        outcome, value = self._outcome
        if outcome == "value":
            return value
        # the call raised in the child, or the child died: made here, so an error is raised as in turn
        return super().result()

    def _receive(self) -> tuple:
        import pickle

        try:
            chunks = []
            while chunk := os.read(self._reader, 1 << 20):
                chunks.append(chunk)
        finally:
            self.close()  # also on Ctrl-C while waiting: the child goes too
        try:
            return pickle.loads(b"".join(chunks))
        except Exception:  # noqa: BLE001 - killed (out of memory) or cut short
            return "failed", None

    def close(self) -> None:
        if self._pid is None:
            return
        import signal

        os.close(self._reader)
        try:
            os.kill(self._pid, signal.SIGKILL)  # a no-op once it has written its value and exited
        except ProcessLookupError:
            pass
        os.waitpid(self._pid, 0)
        self._pid = None


def _fork_is_safe() -> bool:
    """Whether a forked child may run Python, NumPy and scikit-learn code and return.

    Linux only (on macOS system libraries are not fork-safe; Windows has no
    fork), two cores or more (on one the child gains nothing), no other
    Python thread (a lock one holds would stay held in the child forever),
    and GNU OpenMP not loaded: its thread pool does not survive a fork, and
    a child that starts a parallel region after the parent used one hangs.
    scikit-learn loads it on import, so in a process that has already run a
    probe (a notebook, a test session) every call stays in turn. The
    remaining threads at that point are BLAS's and Arrow's pools, which both
    libraries shut down and restart across a fork.
    """
    import threading

    if not sys.platform.startswith("linux") or not hasattr(os, "fork") or available_cores() < 2:
        return False
    return threading.active_count() == 1 and not _gnu_openmp_loaded()


def _gnu_openmp_loaded() -> bool:
    """Whether GNU OpenMP (libgomp) is mapped into this process (True when that cannot be read)."""
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            return any("libgomp" in line for line in maps)
    except OSError:
        return True


def in_child_process(function, *arguments, in_turn=None, **keywords):
    """Start ``function(*arguments, **keywords)`` in a forked child process; ``.result()`` returns its value.

    For work that needs the GIL and nothing the caller computes next: the
    non-linear probe (scikit-learn's learners, mostly Python) runs while the
    parent runs the assumption tests, on the other core, where a thread
    would wait for the GIL. The child gets a copy of the parent's memory
    (copy-on-write: nothing is copied up front), computes, sends the value
    back pickled through a pipe and exits without running the parent's exit
    handlers. Use as a context manager (or call ``close()``): on leaving, a
    child whose value was never asked for is stopped.

    Where a fork is not safe (:func:`_fork_is_safe`) or fails, the call is
    made in this process when ``.result()`` is asked for; when the child
    fails (an exception, killed for memory), ``.result()`` makes the call
    again here, so an error is raised as it would have been in turn. Either
    way the value is the same: the child runs the same code on the same
    data with the same BLAS setting (the limit of :func:`one_blas_thread` is
    inherited). ``in_turn``, a function of no arguments, is what is called
    in this process instead when given: the same computation set up for a
    process that has nothing else to do (the probe on every core, where the
    child leaves one to the caller).
    """
    here = (function, arguments, keywords) if in_turn is None else (in_turn, (), {})
    if not _fork_is_safe():
        return _Deferred(*here)
    import warnings

    parent = os.getpid()
    reader, writer = os.pipe()
    try:
        with warnings.catch_warnings():
            # Python 3.12+ warns on forking with any other OS thread; those left (BLAS's and Arrow's
            # pools, see _fork_is_safe) restart in the child, and no other Python thread exists
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
    except OSError:  # no memory or process slot for a child: in turn
        os.close(reader)
        os.close(writer)
        return _Deferred(*here)
    if pid == 0:  # the child: compute, send, leave without the parent's atexit handlers or buffered output
        status = 1
        try:
            import gc
            import signal

            # the parent's objects are never freed here (the child leaves by os._exit): out of the
            # collector's sight, the child's collections neither walk them nor copy their pages (the
            # fork use of gc.freeze in Python's documentation)
            gc.freeze()
            if callable(signal.getsignal(signal.SIGINT)):
                # the caller's Ctrl-C handler (the CLI's, with its watchdog thread) is the parent's: an
                # interrupted child just ends, and the parent, interrupted as well, stops waiting for it
                signal.signal(signal.SIGINT, signal.SIG_DFL)
            _end_with(parent)
            os.close(reader)
            status = _send(writer, function, arguments, keywords)
        finally:
            os._exit(status)  # closes the pipe: the parent reads to its end
    os.close(writer)
    return _Child(*here, pid, reader)


def _end_with(parent: int) -> None:
    """In the child: be killed when ``parent`` ends, however it ends (Linux's ``PR_SET_PDEATHSIG``).

    A parent that leaves through ``os._exit`` (the CLI's second Ctrl-C) or
    is killed never stops its child itself; without this the child would
    run its computation to the end for nobody.
    """
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 is PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent ended before the request was made
        os._exit(1)


def _read_only(mapping: dict):
    """A read-only view of ``mapping``: how a result's frozen mappings are rebuilt from the child's pickle."""
    from types import MappingProxyType

    return MappingProxyType(mapping)


def _send(writer: int, function, arguments, keywords) -> int:
    """In the child: ``("value", function(...))`` or ``("raised", None)``, pickled into ``writer``; 0 when sent."""
    import io
    import pickle
    from types import MappingProxyType

    class _Pickler(pickle.Pickler):
        def reducer_override(self, value):
            # results are frozen with read-only mappings, which pickle cannot write as such
            if type(value) is MappingProxyType:
                return _read_only, (dict(value),)
            return NotImplemented

    try:
        message = ("value", function(*arguments, **keywords))
    except BaseException:  # noqa: BLE001 - the parent makes the call again and raises it there
        message = ("raised", None)
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(message)
    view = memoryview(buffer.getbuffer())
    while view:
        view = view[os.write(writer, view):]
    return 0
