"""Markdown report with the same content as the HTML one; plots as PNG files beside it.

Written for GitHub and GitLab (CommonMark with GFM tables). User text goes
through :func:`escape_markdown`, so a column name can neither become markup
nor raw HTML; the report itself uses no HTML at all.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from .environment import template_environment
from .view import build_view

__all__ = ["to_markdown", "write_markdown", "escape_markdown", "code_span", "code_fence"]

# Characters that start inline markup anywhere in a line (emphasis, code,
# links and images, tables, strikethrough, backslash escapes, and GitHub's
# $math$).
_INLINE = re.compile(r"([\\`*_\[\]|~$])")
# Characters that start block markup at the beginning of a line (headings,
# lists, quotes, setext underlines, ordered lists "1." / "1)").
_LINE_START = re.compile(r"^(\s*)([#>+\-=]|\d+[.)])")


def escape_markdown(text, block: bool = True) -> str:
    """Escape user text so it renders as the same text on GitHub/GitLab.

    Inline markup characters are backslash-escaped, ``<``, ``>`` and ``&``
    become entities (no raw HTML), line breaks become spaces, and a
    character that would start a heading, list or quote at the start of
    the text is escaped (``block=False`` for a table cell, where no block
    can start). Parentheses, dots and hyphens inside the text stay as they
    are, so the Markdown source remains readable.
    """
    text = " ".join(str(text).replace("\r", "\n").split("\n"))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _INLINE.sub(r"\\\1", text)
    return _LINE_START.sub(_escape_line_start, text) if block else text


def _escape_line_start(match: re.Match) -> str:
    indent, marker = match.group(1), match.group(2)
    # "#" -> "\#"; "12." -> "12\." (the escaped dot no longer makes a list)
    return indent + marker[:-1] + "\\" + marker[-1]


def code_span(text) -> str:
    """``text`` as an inline code span, whatever backticks it holds (CommonMark §6.1)."""
    text = " ".join(str(text).replace("\r", "\n").split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


def code_fence(text) -> str:
    """A fence longer than any backtick run in ``text`` (CommonMark §4.5)."""
    longest = max((len(run) for run in re.findall(r"`+", str(text))), default=0)
    return "`" * max(3, longest + 1)


def _table_code(text) -> str:
    """A code span inside a table cell: the pipe must be escaped even there (GFM)."""
    return code_span(text).replace("|", "\\|")


@lru_cache(maxsize=None)
def _environment():
    # Markdown: user text goes through the md filter instead of HTML escaping
    environment = template_environment(autoescape=False, keep_trailing_newline=True)
    environment.filters["md"] = escape_markdown
    environment.filters["cell"] = lambda text: escape_markdown(text, block=False)
    environment.filters["code"] = code_span
    environment.filters["tcode"] = _table_code
    environment.filters["fence"] = code_fence
    environment.filters["url"] = lambda link: quote(str(link), safe="/")
    return environment


def to_markdown(report, *, images: dict[str, str] | None = None, plots=None, generated: str | None = None) -> str:
    """The report as Markdown; ``images`` maps plot keys to relative links.

    Plots without an entry in ``images`` are left out (a Markdown file
    cannot embed them), so ``to_markdown(report)`` gives the text alone.
    """
    plots = [plot for plot in (plots or []) if images and plot.key in images]
    view = build_view(report, plots, generated=generated)
    template = _environment().get_template("report.md.j2")
    return template.render(view=view, images=images or {})


def write_markdown(report, path: str | Path, *, plots=None, generated: str | None = None) -> Path:
    """Write ``path`` and its plots into ``<stem>_files/`` beside it, linked relatively.

    ``plots`` are reused when given (see :func:`olscheck.report.render.write_report`).
    Every file is written atomically, the Markdown last, and PNGs of an
    earlier report that this one no longer has are removed only once it is
    written; when the write fails, a folder it created is removed again.
    """
    from .files import write_atomic

    path = Path(path)
    if plots is None:
        from .plots import render_plots

        plots = render_plots(report)
    folder = path.parent / f"{path.stem}_files"
    images = {plot.key: f"{folder.name}/{plot.key}.png" for plot in plots}
    text = to_markdown(report, images=images, plots=plots, generated=generated)  # before any file is touched
    path.parent.mkdir(parents=True, exist_ok=True)
    created = bool(plots) and not folder.exists()
    written: list[Path] = []
    try:
        if plots:
            folder.mkdir(exist_ok=True)
            for plot in plots:
                written.append(write_atomic(folder / f"{plot.key}.png", plot.png))
        write_atomic(path, text)
    except BaseException:
        if created:  # leave nothing of a report that was never written
            for file in written:
                file.unlink(missing_ok=True)
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    wanted = {f"{plot.key}.png" for plot in plots}
    if folder.is_dir():
        for stale in folder.glob("*.png"):
            if stale.name not in wanted:  # a plot from an earlier run that this report no longer has
                stale.unlink(missing_ok=True)
    return path
