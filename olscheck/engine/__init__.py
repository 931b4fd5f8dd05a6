"""Streaming engine: the fit and the battery from statistics accumulated over chunks, in two passes.

``check_streaming(source, target=..., ...)`` reads a Parquet or CSV file
chunk by chunk (or a dask DataFrame partition by partition) and returns the
same :class:`~olscheck.report.report.Report` as :func:`olscheck.check` on the same
data, with memory bounded by the chunk size. See
:func:`olscheck.engine.stream.check_streaming`.
"""

from __future__ import annotations

__all__ = ["check_streaming", "CHUNK_ROWS", "EXACT_ROWS", "MAX_WORKERS"]


def __getattr__(name: str):
    if name in __all__:
        from . import stream

        return getattr(stream, name)
    raise AttributeError(f"module 'olscheck.engine' has no attribute {name!r}")
