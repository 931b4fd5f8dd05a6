"""Rendering: Report -> HTML, Markdown, JSON files. Computation never happens here."""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfigurationError

__all__ = ["write_report", "to_html", "to_markdown"]


def to_html(report, **options) -> str:
    from .html import to_html as render

    return render(report, **options)


def to_markdown(report, **options) -> str:
    from .markdown import to_markdown as render

    return render(report, **options)


def write_report(report, path: str | Path) -> Path:
    """Write ``report`` to ``path`` in the format its suffix names (.html, .md, .json)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        from .html import write_html

        return write_html(report, path)
    if suffix in (".md", ".markdown"):
        from .markdown import write_markdown

        return write_markdown(report, path)
    if suffix == ".json":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.to_json() + "\n", encoding="utf-8")
        return path
    raise ConfigurationError(f"cannot tell the report format from {path.name!r}; use a .html, .md or .json file name.")
