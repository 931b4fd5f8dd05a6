"""The Markdown report: same content as the HTML one, links that resolve, user text that stays text."""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image

from olscheck.report.render import write_report
from olscheck.report.render.markdown import code_fence, code_span, escape_markdown, to_markdown, write_markdown
from olscheck.report.render.view import LEVEL_LABEL
from tests.report.render.conftest import HOSTILE

LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def outside_fences(markdown: str) -> list[str]:
    """The lines of the Markdown outside fenced code blocks (CommonMark: closed by a run of at least as many)."""
    lines, fence = [], None
    for line in markdown.splitlines():
        opener = re.match(r"^(`{3,})", line)
        if fence is None and opener:
            fence = opener.group(1)
            continue
        if fence is not None:
            closing = line.strip()
            if closing and closing == "`" * len(closing) and len(closing) >= len(fence):
                fence = None
            continue
        lines.append(line)
    return lines


def outside_code(markdown: str) -> str:
    """The Markdown without fenced code blocks and inline code spans (where user text is literal)."""
    return re.sub(r"(`+)(.+?)\1", " ", "\n".join(outside_fences(markdown)))


@pytest.fixture(scope="module")
def written(report, plots, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("markdown report")  # a space in the path, as users have
    return write_markdown(report, folder / "my report.md", plots=plots, generated="2026-01-01 00:00 UTC")


def test_verdict_in_the_first_line(written, report):
    first = written.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# ")
    assert LEVEL_LABEL[report.verdict.level].lower() in first


def test_every_link_resolves_to_a_file_that_exists(written, plots):
    markdown = written.read_text(encoding="utf-8")
    links = LINK.findall(markdown)
    assert len(links) == len(plots) > 0
    for link in links:
        assert not re.match(r"^[a-z][a-z0-9+.-]*:", link), f"absolute link {link}"
        assert not link.startswith("/")
        target = written.parent / unquote(link)
        assert target.is_file(), link
        assert Image.open(io.BytesIO(target.read_bytes())).format == "PNG"
    # and nothing else sits in the folder
    files = {p.name for p in (written.parent / "my report_files").iterdir()}
    assert files == {Path(unquote(link)).name for link in links}


def test_no_html_and_user_text_escaped(written):
    markdown = written.read_text(encoding="utf-8")
    prose = outside_code(markdown)
    assert "<" not in prose and ">" not in prose.replace("->", "")  # no raw HTML outside code
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in prose
    assert "\\$a\\*b\\*\\|c\\|\\_d\\_\\$" in prose  # markup characters of a column name escaped
    assert HOSTILE in markdown  # literally, inside code (the equation, the remedy code)


def test_tables_have_a_constant_number_of_cells(written):
    markdown = written.read_text(encoding="utf-8")
    in_table, width = False, None
    for line in outside_code_lines(markdown):
        if line.startswith("|"):
            cells = len(re.findall(r"(?<!\\)\|", line)) - 1
            if not in_table:
                in_table, width = True, cells
            assert cells == width, line
        else:
            in_table = False


def outside_code_lines(markdown: str) -> list[str]:
    # code spans may hold escaped pipes only; count them as text
    return [re.sub(r"(`+)(.+?)\1", lambda m: m.group(0).replace("\\|", "x"), line) for line in outside_fences(markdown)]


def test_same_content_as_the_html_report(written, report):
    markdown = written.read_text(encoding="utf-8")
    for heading in ("## Findings", "## Linearity of the mean", "## Constant error variance",
                    "## The collapsed linear model", "## Linear model vs non-linear learners", "## Data"):
        assert heading in markdown
    for name in report.tests:
        assert f"`{name}`" in markdown
    for remedy in report.verdict.remedies:
        assert remedy.code in markdown  # the runnable code, verbatim in a fenced block
    assert "```python\nimport olscheck\nreport = olscheck.check(df," in markdown
    assert "seed = 0" in markdown and "statsmodels" in markdown
    assert "2026-01-01 00:00 UTC" in markdown


def test_stale_plots_are_removed(linear_report, tmp_path):
    path = tmp_path / "r.md"
    folder = tmp_path / "r_files"
    folder.mkdir()
    (folder / "cr_7.png").write_bytes(b"old")
    write_report(linear_report, path)
    assert not (folder / "cr_7.png").exists()
    assert (folder / "qq.png").is_file()


def test_text_only_markdown_has_no_image_links(linear_report):
    markdown = to_markdown(linear_report)
    assert "![" not in markdown
    assert markdown.startswith("# olscheck verdict for y")


@pytest.mark.parametrize("text, expected", [
    ("*bold* _it_", r"\*bold\* \_it\_"),
    ("# heading", r"\# heading"),
    ("- item", r"\- item"),
    ("12. item", r"12\. item"),
    ("a|b", r"a\|b"),
    ("<b>x</b> & y", "&lt;b&gt;x&lt;/b&gt; &amp; y"),
    ("[link](http://x)", r"\[link\](http://x)"),
    ("two\nlines", "two lines"),
    ("$x^2$", r"\$x^2\$"),
    ("~~gone~~", r"\~\~gone\~\~"),
    ("back\\slash", r"back\\slash"),
    ("p = 0.5 (n - 1)", "p = 0.5 (n - 1)"),  # ordinary prose stays readable
])
def test_escape_markdown(text, expected):
    assert escape_markdown(text) == expected


def test_escape_in_table_cells_leaves_a_leading_minus():
    assert escape_markdown("-0.5", block=False) == "-0.5"
    assert escape_markdown("-0.5") == r"\-0.5"


def test_code_span_and_fence_survive_backticks():
    assert code_span("a") == "`a`"
    assert code_span("a`b") == "``a`b``"
    assert code_span("`x`") == "`` `x` ``"
    assert code_fence("no ticks") == "```"
    assert code_fence("has ```` four") == "`````"


def test_data_table_has_a_real_header_row(written, report):
    markdown = written.read_text(encoding="utf-8")
    assert "## Data\n\n| item | value |\n|---|---|\n| target | target y |\n" in markdown
    # no table anywhere starts with an empty header row (CommonMark renders it as a blank bar)
    for line in outside_code_lines(markdown):
        if line.startswith("|"):
            assert [cell.strip() for cell in line.strip("|").split("|")] != ["", ""], line
            assert not re.fullmatch(r"\|(\s*\|)+", line), line
