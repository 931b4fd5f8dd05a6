"""Self-contained HTML report: inline CSS, plots as base64 PNG, no script, no external URL."""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path

from .plots import render_plots
from .view import build_view

__all__ = ["to_html", "write_html"]


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=PackageLoader("olscheck.render", "templates"),
        # column names and messages are user data: escape everything
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["b64"] = lambda data: base64.b64encode(data).decode("ascii")
    return environment


def to_html(report, *, plots=None, generated: str | None = None, fragment: bool = False) -> str:
    """The report as one HTML document (str)."""
    plots = render_plots(report) if plots is None else plots
    view = build_view(report, plots)
    template = _environment().get_template("report.html.j2")
    stamp = generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return template.render(view=view, generated=stamp, fragment=fragment)


def write_html(report, path: str | Path, **options) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_html(report, **options), encoding="utf-8")
    return path
