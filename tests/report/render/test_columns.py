"""The Columns table (``report.data.columns``) at the top of the HTML, the Markdown and ``print(report)``."""

from __future__ import annotations

import dataclasses
import re

import pytest

from olscheck.report.report import ColumnDecision
from olscheck.report.render import to_html, to_markdown
from tests.report.render.conftest import HOSTILE

COLUMNS = (
    ColumnDecision("y", "target", "numeric", 120, 0),
    ColumnDecision("x1", "predictor", "numeric", 118, 2),
    ColumnDecision("x2", "predictor", "numeric", 120, 0),
    ColumnDecision("customer_id", "excluded", "id", 120, 0, "an identifier: every value distinct"),
    ColumnDecision(HOSTILE, "excluded", "text", 7, 1234, "free text <b>not</b> a predictor"),
    ColumnDecision("a|b*c", "converted", "text", 3, None, "numbers written as text, read as numbers"),
)


def expected_cells(column: ColumnDecision) -> list[str]:
    """A row as a reader should see it, written out here rather than taken from the renderer."""
    def count(value):
        return "—" if value is None else f"{value:,}"

    return [column.name, column.role, column.kind, count(column.distinct), count(column.missing),
            "—" if column.reason is None else column.reason]


@pytest.fixture(scope="module")
def screened(linear_report):
    return dataclasses.replace(linear_report, data=dataclasses.replace(linear_report.data, columns=COLUMNS))


def html_table_rows(document: str, table_class: str) -> list[list[str]]:
    """The text of every body cell of the first ``<table class=table_class>``, row by row."""
    from html import unescape

    body = document.split(f'<table class="{table_class}">', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [[unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in rows]


def test_html_columns_table_comes_first_and_holds_every_column(screened):
    html = to_html(screened, plots=[])
    assert html.index('<table class="columns">') < html.index('<table class="findings">')
    assert html_table_rows(html, "columns") == [expected_cells(c) for c in COLUMNS]
    headers = re.findall(r"<th>(.*?)</th>", html.split('<table class="columns">', 1)[1].split("</thead>", 1)[0])
    assert headers == ["column", "role", "kind", "distinct", "missing", "reason"]
    assert HOSTILE not in html and "<b>not</b>" not in html  # user text stays text
    assert "1,234" in html


def test_compact_view_folds_the_columns_table_before_the_findings(screened):
    html = to_html(screened, plots=[], fragment=True, compact=True)
    before_findings = html.split('-findings"', 1)[0]
    assert re.search(r'<details class="section" id="[^"]+-columns">', before_findings)
    assert html_table_rows(html, "columns") == [expected_cells(c) for c in COLUMNS]


def markdown_table(markdown: str, heading: str) -> list[list[str]]:
    block = markdown.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in block.splitlines() if line.startswith("|")]
    assert re.fullmatch(r"\|(---\|)+", lines[1])
    # split on pipes that are not escaped, then undo the Markdown escapes the report applied
    def cells(line):
        parts = re.split(r"(?<!\\)\|", line)[1:-1]
        return [re.sub(r"\\(.)", r"\1", part.strip()).strip("`").replace("&lt;", "<").replace("&gt;", ">")
                .replace("&amp;", "&") for part in parts]

    return [cells(line) for line in lines[:1] + lines[2:]]


def test_markdown_columns_table_comes_first(screened):
    markdown = to_markdown(screened)
    assert markdown.index("## Columns") < markdown.index("## Findings")
    table = markdown_table(markdown, "Columns")
    assert table[0] == ["column", "role", "kind", "distinct", "missing", "reason"]
    assert table[1:] == [expected_cells(c) for c in COLUMNS]
    for line in markdown.split("## Columns", 1)[1].split("## Findings", 1)[0].splitlines():
        assert line == line.rstrip()
    assert "<b>" not in markdown


def test_print_shows_the_columns_before_the_findings(screened):
    text = str(screened)
    lines = text.splitlines()
    start = lines.index(f"Columns ({len(COLUMNS)}):")
    assert start < min(i for i, line in enumerate(lines) if line.lstrip().startswith("["))
    header = lines[start + 1].split()
    assert header == ["column", "role", "kind", "distinct", "missing", "reason"]
    for column, line in zip(COLUMNS, lines[start + 2:start + 2 + len(COLUMNS)]):
        cells = expected_cells(column)
        assert line.strip().startswith(cells[0])
        assert line.rstrip().endswith(cells[-1])
        for cell in cells[1:5]:
            assert f" {cell} " in f" {line} "
    # the reason column starts at the same place on every line
    rows = lines[start + 1:start + 2 + len(COLUMNS)]
    starts = {row.index("reason") if i == 0 else row.rindex(expected_cells(COLUMNS[i - 1])[-1])
              for i, row in enumerate(rows)}
    assert len(starts) == 1


def test_no_columns_no_table(linear_report):
    # a report whose data was not screened (no decisions) has no Columns table
    unscreened = dataclasses.replace(linear_report, data=dataclasses.replace(linear_report.data, columns=()))
    assert 'class="columns"' not in to_html(unscreened, plots=[])
    assert "## Columns" not in to_markdown(unscreened)
    assert "Columns (" not in str(unscreened)
