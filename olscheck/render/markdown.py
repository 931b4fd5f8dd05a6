"""Markdown report with the same content as the HTML one; plots as PNG files beside it."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from .plots import render_plots
from .view import build_view

__all__ = ["to_markdown", "write_markdown", "escape_markdown"]

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>-])")


def escape_markdown(text) -> str:
    """Escape user text so it renders as text on GitHub/GitLab (no markup, no HTML)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _SPECIAL.sub(r"\\\1", text)


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined

    environment = Environment(
        loader=PackageLoader("olscheck.render", "templates"),
        autoescape=False,  # Markdown: user text goes through the md filter instead
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["md"] = escape_markdown
    environment.filters["code"] = lambda text: str(text).replace("`", "'")
    environment.filters["fence"] = lambda text: str(text).replace("```", "'''")
    return environment


def to_markdown(report, *, images: dict[str, str] | None = None, plots=None, generated: str | None = None) -> str:
    """The report as Markdown; ``images`` maps plot keys to relative links."""
    plots = [] if plots is None else plots
    view = build_view(report, plots)
    stamp = generated or datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    template = _environment().get_template("report.md.j2")
    return template.render(view=view, images=images or {}, generated=stamp)


def write_markdown(report, path: str | Path, **options) -> Path:
    """Write ``path`` and its plots into ``<stem>_files/`` beside it, linked relatively."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    plots = render_plots(report)
    folder = path.parent / f"{path.stem}_files"
    images = {}
    if plots:
        folder.mkdir(exist_ok=True)
        for plot in plots:
            file = folder / f"{plot.key}.png"
            file.write_bytes(plot.png)
            images[plot.key] = f"{folder.name}/{file.name}"
    path.write_text(to_markdown(report, images=images, plots=plots, **options), encoding="utf-8")
    return path
