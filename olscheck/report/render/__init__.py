"""Rendering: Report -> HTML, Markdown, JSON files. Computation never happens here.

Plots are the expensive part; render them once with :func:`render_plots`
and pass them to every format::

    plots = render_plots(report)
    write_report(report, "out/report.html", plots=plots)
    write_report(report, "out/report.md", plots=plots)

:func:`render_plots` also remembers the plots of each report object (per
seed) for as long as the report lives, so saving a report twice, or
showing it in a notebook and then saving it, draws its plots once.
"""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import ConfigurationError

__all__ = ["write_report", "write_reports", "save", "format_of", "to_html", "to_markdown", "render_plots", "FORMATS"]

#: File suffixes and the format each one names.
FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".json": "json"}
_FORMAT_NAMES = {"html": "html", "htm": "html", "markdown": "markdown", "md": "markdown", "json": "json"}


def render_plots(report, seed: int | None = None):
    """Every diagnostic plot of ``report``, drawn once per report object and seed.

    See :func:`olscheck.report.render.plots.render_plots`.
    """
    from .plots import render_plots as render

    return render(report, seed=seed)


def to_html(report, **options) -> str:
    from .html import to_html as render

    return render(report, **options)


def to_markdown(report, **options) -> str:
    from .markdown import to_markdown as render

    return render(report, **options)


def format_of(path: str | Path, format: str | None = None) -> str:
    """The format (``"html"``, ``"markdown"`` or ``"json"``) that ``format`` or the suffix of ``path`` names.

    Raises :class:`~olscheck.errors.ConfigurationError` naming the suffix when
    it names no report format.
    """
    if format is not None:
        kind = _FORMAT_NAMES.get(str(format).strip().lower())
        if kind is None:
            raise ConfigurationError(f"unknown report format {format!r}; use html, markdown or json.")
        return kind
    path = Path(path)
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        said = f"the suffix {path.suffix!r} names no report format" if path.suffix else "it has no suffix"
        raise ConfigurationError(
            f"cannot tell the report format from {path.name!r}: {said}; use a .html (or .htm), .md or .json "
            "file name (or format='html', 'markdown' or 'json')."
        )
    return kind


def write_report(report, path: str | Path, *, plots=None, format: str | None = None) -> Path:
    """Write ``report`` to ``path`` in the format its suffix names (.html, .md or .json).

    The write is atomic (:func:`olscheck.report.render.files.write_atomic`): an
    interrupted run leaves the previous file or none, never half a report.

    Parameters
    ----------
    report : Report
    path : str or Path
        Output file; a Markdown report puts its plots in ``<stem>_files/``
        beside it.
    plots : list of Plot, optional
        Plots from :func:`render_plots`, reused instead of rendered again
        (render once, write several formats).
    format : {"html", "markdown", "json"}, optional
        The format, whatever the suffix says (the suffix decides when omitted).
    """
    path = Path(path)
    kind = format_of(path, format)
    if kind == "html":
        from .html import write_html

        return write_html(report, path, plots=plots)
    if kind == "markdown":
        from .markdown import write_markdown

        return write_markdown(report, path, plots=plots)
    from .files import write_atomic

    return write_atomic(path, report.to_json() + "\n")


def write_reports(report, paths, *, plots=None, format: str | None = None) -> list[Path]:
    """Write ``report`` to several files, rendering the plots at most once.

    Every path is checked before anything is rendered or written.
    """
    paths = [Path(p) for p in paths]
    kinds = [format_of(p, format) for p in paths]
    if plots is None and any(kind in ("html", "markdown") for kind in kinds):
        plots = render_plots(report)
    return [write_report(report, p, plots=plots, format=kind) for p, kind in zip(paths, kinds)]


def save(report, path, *, format: str | None = None, plots=None):
    """:meth:`olscheck.Report.save`: one path gives its Path, a list of paths a list of Paths."""
    if isinstance(path, (str, bytes, os.PathLike)):
        return write_reports(report, [os.fsdecode(path)], format=format, plots=plots)[0]
    return write_reports(report, [os.fsdecode(p) for p in path], format=format, plots=plots)
