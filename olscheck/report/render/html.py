"""Self-contained HTML report: inline CSS, plots as base64 PNG, no script, no external URL.

Jinja2 autoescape is on for every value: column names, messages and level
labels are user data and must reach the browser as text.
"""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path

from .environment import template_environment
from .view import build_view

__all__ = ["to_html", "write_html"]


@lru_cache(maxsize=None)
def _environment():
    environment = template_environment(autoescape=True)  # column names and messages are user data: escape all
    environment.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return environment


def to_html(report, *, plots=None, generated: str | None = None, fragment: bool = False, compact: bool = False,
            root_id: str | None = None) -> str:
    """The report as one HTML document (str).

    Parameters
    ----------
    report : Report
    plots : list of Plot, optional
        Plots already rendered by :func:`olscheck.report.render.plots.render_plots`
        (pass them to render once for several formats); rendered here when
        omitted.
    generated : str, optional
        Time stamp to print (default: now, or SOURCE_DATE_EPOCH when set).
    fragment : bool
        A ``<div>`` with its ``<style>`` for Jupyter instead of a whole document.
    compact : bool
        The notebook view: verdict, Columns and findings, R's four plots up
        front, and every section folded into a ``<details>`` one click away.
    root_id : str, optional
        The id of the report's root element, which prefixes every other id
        and every CSS rule (default :func:`olscheck.report.render.view.report_id`,
        stable for the same report; :meth:`olscheck.Report._repr_html_`
        adds a random suffix).

    Notes
    -----
    Every CSS rule starts with ``#<root_id>``: an id outranks the class
    rules of a host page (JupyterLab's and VS Code's right-aligned table
    cells, striped rows, centred tables), and the rules reach nothing
    outside the report.
    """
    if plots is None:
        from .plots import render_plots

        plots = render_plots(report)
    view = build_view(report, plots, generated=generated, root_id=root_id)
    template = _environment().get_template("report.html.j2")
    return template.render(view=view, fragment=fragment, compact=compact)


def write_html(report, path: str | Path, **options) -> Path:
    """Write the HTML report to ``path`` (options as :func:`to_html`), atomically.

    The whole page is rendered first, then written to a temporary file beside
    ``path`` and moved over it: an interrupted write leaves no half page.
    """
    from .files import write_atomic

    return write_atomic(path, to_html(report, **options))
