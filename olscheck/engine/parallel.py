"""Work on blocks of rows in parallel threads, merged in row order; BLAS held to one thread.

The passes over chunks (:mod:`olscheck.engine.stream`) and the in-memory
battery's blocks (:mod:`olscheck.checks.battery`) both run here: each
block's statistics on a worker thread, the results merged by the caller in
row order, so they do not depend on which thread finished first.
"""

from __future__ import annotations

import os

__all__ = ["MAX_WORKERS", "alongside", "available_cores", "in_order", "one_blas_thread"]

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
    """``alongside``'s stand-in on one core: the call runs when its result is asked for."""

    def __init__(self, function, arguments, keywords):
        self._call = (function, arguments, keywords)

    def result(self):
        function, arguments, keywords = self._call
        return function(*arguments, **keywords)


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
