"""The coefficient table in the HTML and Markdown reports: classical and robust intervals, changes marked."""

from __future__ import annotations

import re
from html import unescape

import statsmodels.formula.api as smf

import olscheck
from olscheck.report.render import to_html, to_markdown
from olscheck.report.render.view import format_number
from tests.report.test_coefficients import heteroskedastic_frame


def html_rows(document: str) -> tuple[list[str], list[tuple[str, list[str]]]]:
    table = document.split('<table class="coefficients">', 1)[1].split("</table>", 1)[0]
    headers = [unescape(h) for h in re.findall(r"<th>(.*?)</th>", table)]
    rows = []
    for attributes, body in re.findall(r"<tr([^>]*)>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S):
        cells = [unescape(re.sub(r"<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)]
        rows.append((attributes, cells))
    return headers, rows


def test_html_shows_hc3_beside_the_classical_errors():
    frame = heteroskedastic_frame()
    report = olscheck.check(frame, target="y", probe=False)
    html = to_html(report, plots=[])
    headers, rows = html_rows(html)
    assert headers == ["term", "estimate", "std. error", "95% interval", "t", "p-value", "HC3 std. error",
                       "HC3 95% interval"]
    fit = smf.ols("y ~ x1 + x2 + g", frame).fit()
    robust = smf.ols("y ~ x1 + x2 + g", frame).fit(cov_type="HC3")
    names = list(fit.params.index)
    for attributes, cells in rows:
        term = cells[0].rstrip(" *")
        lower, upper = fit.conf_int().loc[term]
        assert cells[2] == format_number(fit.bse[term])
        assert cells[3] == f"[{format_number(lower)}, {format_number(upper)}]"
        robust_lower, robust_upper = robust.conf_int().loc[term]
        assert cells[6] == format_number(robust.bse.iloc[names.index(term)])
        assert cells[7] == f"[{format_number(robust_lower)}, {format_number(robust_upper)}]"
    # the row whose error moves most (x1: the variance grows with it) is marked, in the row and the cells
    marked = {cells[0].rstrip(" *") for attributes, cells in rows if 'class="changed"' in attributes}
    assert "x1" in marked
    assert marked == set(report.coefficient_table().material_terms)
    assert "HC3 columns" in html and "breusch_pagan" in html


def test_markdown_shows_the_same_table():
    report = olscheck.check(heteroskedastic_frame(), target="y", probe=False)
    markdown = to_markdown(report)
    lines = [line for line in markdown.split("## The collapsed linear model", 1)[1].splitlines()
             if line.startswith("| ")]
    assert lines[0].startswith("| term | estimate | std. error | 95% interval | t | p-value | HC3 std. error")
    table = report.coefficient_table()
    for row in table.rows:
        line = next(line for line in lines if line.startswith("| `" + row.term + "`"))  # no pipes in these terms
        assert format_number(row.robust_std_error) in line
        assert (f"**{format_number(row.robust_std_error)}**" in line) == (row.term in table.material_terms)


def test_no_robust_columns_when_no_remedy_needs_them(linear_report):
    html = to_html(linear_report, plots=[])
    headers, rows = html_rows(html)
    assert headers == ["term", "estimate", "std. error", "95% interval", "t", "p-value"]
    assert all(len(cells) == 6 for _, cells in rows)
    assert "HC3" not in to_markdown(linear_report).split("## The collapsed linear model", 1)[1].split("## ", 1)[0]
