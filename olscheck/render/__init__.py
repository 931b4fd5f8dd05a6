"""Rendering: Report -> HTML, Markdown, JSON files. Computation never happens here.

Plots are the expensive part; render them once with :func:`render_plots`
and pass them to every format::

    plots = render_plots(report)
    write_report(report, "out/report.html", plots=plots)
    write_report(report, "out/report.md", plots=plots)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigurationError

__all__ = ["write_report", "write_reports", "to_html", "to_markdown", "render_plots", "FORMATS"]

#: File suffixes and the format each one names.
FORMATS = {".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".json": "json"}


def render_plots(report, seed: int | None = None):
    """Every diagnostic plot of ``report`` (see :func:`olscheck.render.plots.render_plots`)."""
    from .plots import render_plots as render

    return render(report, seed=seed)


def to_html(report, **options) -> str:
    from .html import to_html as render

    return render(report, **options)


def to_markdown(report, **options) -> str:
    from .markdown import to_markdown as render

    return render(report, **options)


def write_report(report, path: str | Path, *, plots=None, format: str | None = None) -> Path:
    """Write ``report`` to ``path`` in the format its suffix names (.html, .md or .json).

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
        The format when the suffix does not say it.
    """
    path = Path(path)
    kind = format or FORMATS.get(path.suffix.lower())
    if kind == "html":
        from .html import write_html

        return write_html(report, path, plots=plots)
    if kind == "markdown":
        from .markdown import write_markdown

        return write_markdown(report, path, plots=plots)
    if kind == "json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.to_json() + "\n", encoding="utf-8")
        return path
    if format is not None:
        raise ConfigurationError(f"unknown report format {format!r}; use html, markdown or json.")
    raise ConfigurationError(f"cannot tell the report format from {path.name!r}; use a .html, .md or .json file name.")


def write_reports(report, paths, *, plots=None) -> list[Path]:
    """Write ``report`` to several files, rendering the plots at most once."""
    paths = [Path(p) for p in paths]
    needs_plots = any(FORMATS.get(p.suffix.lower()) in ("html", "markdown") for p in paths)
    if plots is None and needs_plots:
        plots = render_plots(report)
    return [write_report(report, p, plots=plots) for p in paths]
