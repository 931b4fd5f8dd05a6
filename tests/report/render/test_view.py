"""Presentation data shared by the HTML and Markdown reports."""

from __future__ import annotations

import ast
import dataclasses

import pytest

import olscheck
from olscheck.report.render.view import SEVERITY_ORDER, build_view, format_number, format_p, split_code
from tests.helpers import linear_frame
from tests.report.render.conftest import hostile_frame


@pytest.mark.parametrize("value, expected", [
    (None, "—"), (True, "yes"), (12345, "12,345"), (0.0, "0"), (float("nan"), "—"), (float("inf"), "—"),
    (0.123456, "0.1235"), (-2.5, "-2.5"), (1.5e-5, "1.500e-05"), (2.5e7, "2.500e+07"),
])
def test_format_number(value, expected):
    assert format_number(value) == expected


@pytest.mark.parametrize("value, expected", [
    (None, "—"), (0.5, "0.5000"), (0.00012, "0.0001"), (3.2e-5, "3.20e-05"), (1e-20, "< 1e-16"), (0.0, "< 1e-16"),
])
def test_format_p(value, expected):
    assert format_p(value) == expected


def test_split_code():
    assert split_code("use `a` or `b`.") == [(False, "use "), (True, "a"), (False, " or "), (True, "b"), (False, ".")]
    assert split_code("an odd ` tick") == [(False, "an odd ` tick")]
    assert split_code("plain") == [(False, "plain")]


def test_findings_split_and_ordered(report):
    view = build_view(report, [])
    severities = [judgement.severity for judgement in view.problems]
    assert "ok" not in severities
    assert severities == sorted(severities, key=lambda s: -SEVERITY_ORDER.index(s))
    assert {judgement.severity for judgement in view.passed} <= {"ok"}
    # every finding appears exactly once, under its own assumption
    rows = [(row.check, j.assumption) for j in view.problems + view.passed for row in j.rows]
    assert sorted(rows) == sorted((f.check, f.assumption.value) for f in report.verdict.findings)


def test_one_judgement_per_assumption(report):
    """The judgement is the worst severity of the assumption's findings, in the words of the first with it."""
    view = build_view(report, [])
    judgements = view.problems + view.passed
    assert len({j.assumption for j in judgements}) == len(judgements)
    for judgement in judgements:
        members = [f for f in report.verdict.findings if f.assumption.value == judgement.assumption]
        ranks = [SEVERITY_ORDER.index(f.severity.value) for f in members]
        worst = SEVERITY_ORDER[max(ranks)]
        first = members[ranks.index(max(ranks))]
        assert (judgement.severity, judgement.check, judgement.message) == (worst, first.check, first.message)
        assert judgement.rows[0].check == first.check and not judgement.rows[0].repeats
        assert [row.check for row in judgement.evidence] == [f.check for f in members if f is not first]


def test_a_sentence_is_said_once_per_assumption():
    from olscheck.report.report import Finding
    from olscheck.report.result import Assumption, Severity
    from olscheck.report.render.view import assumption_judgements

    same = "Note: residuals are not normal (p < 0.001), but t and F tests remain reliable."
    findings = [
        Finding("jarque_bera", Assumption.NORMALITY, Severity.NOTE, same),
        Finding("durbin_watson", Assumption.INDEPENDENCE, Severity.OK, "OK: no autocorrelation."),
        Finding("shapiro_wilk", Assumption.NORMALITY, Severity.NOTE, same),
        Finding("breusch_pagan_original", Assumption.HOMOSKEDASTICITY, Severity.NOTE, "Note: supporting."),
        Finding("omnibus", Assumption.NORMALITY, Severity.NOTE, same),
        Finding("breusch_pagan", Assumption.HOMOSKEDASTICITY, Severity.WARN, "Warning: variance grows."),
    ]
    judgements = assumption_judgements(findings)
    assert [(j.assumption, j.severity, j.check) for j in judgements] == [
        ("homoskedasticity", "warn", "breusch_pagan"),  # the warning leads though a note came first
        ("normality", "note", "jarque_bera"),
        ("independence", "ok", "durbin_watson"),
    ]
    normality = judgements[1]
    assert [(row.check, row.repeats) for row in normality.rows] == [
        ("jarque_bera", False), ("shapiro_wilk", True), ("omnibus", True)]
    assert [row.check for row in judgements[0].rows] == ["breusch_pagan", "breusch_pagan_original"]


def test_the_rendered_reports_say_a_repeated_sentence_once(report):
    from olscheck.report.render import to_html, to_markdown

    # three normality checks with one sentence, as jarque_bera, shapiro_wilk and omnibus often give
    same = "Note: residuals are not normal <heavy tails>, but t and F tests remain reliable."
    from olscheck.report.result import Severity

    findings = tuple(dataclasses.replace(f, message=same, severity=Severity.NOTE)
                     if f.assumption.value == "normality" else f for f in report.verdict.findings)
    assert sum(f.message == same for f in findings) >= 2
    repeated = dataclasses.replace(report, verdict=dataclasses.replace(report.verdict, findings=findings))
    markdown = to_markdown(repeated)
    findings_md = markdown.split("## Findings", 1)[1].split("\n## ", 1)[0]
    assert findings_md.count(escape_md(same)) == 1 and "(as above)" in findings_md
    html = to_html(repeated, plots=[])
    findings_html = html.split('<table class="findings">', 1)[1].split("</section>", 1)[0]
    assert findings_html.count("residuals are not normal &lt;heavy tails&gt;") == 1
    assert "(as above)" in findings_html


def escape_md(text: str) -> str:
    from olscheck.report.render.markdown import escape_markdown

    return escape_markdown(text, block=False)


def test_every_test_in_exactly_one_section(report, plots):
    view = build_view(report, plots)
    placed = [row.key for section in view.sections for row in section.tests]
    assert sorted(placed) == sorted(report.tests)
    for section in view.sections:
        for row in section.tests:
            assert report.tests[row.key].assumption.value == section.key
    # a section's badge is its worst finding
    for section in view.sections:
        worst = max((f.severity.value for f in report.verdict.findings if f.assumption.value == section.key),
                    key=SEVERITY_ORDER.index, default="ok")
        assert section.severity == worst
    # plots: every one placed once, the probe's in the probe section
    placed_plots = [p.key for s in view.sections for p in s.plots] + [p.key for p in view.probe_plots]
    assert sorted(placed_plots) == sorted(p.key for p in plots)
    assert [p.key for p in view.probe_plots] == ["probe"]


def test_verdict_remedies_go_to_their_sections_and_replace_check_advice(report):
    view = build_view(report, [])
    by_key = {section.key: section for section in view.sections}
    for remedy in report.verdict.remedies:
        assert remedy.code in [r.code for r in by_key[remedy.assumption].remedies]
        assert by_key[remedy.assumption].advice == []


def test_check_advice_when_the_verdict_gives_no_remedy(report):
    bare = dataclasses.replace(report, verdict=dataclasses.replace(report.verdict, remedies=()))
    view = build_view(bare, [])
    advised = {check for section in view.sections for advice in section.advice for check in advice.checks}
    expected = {r.name for r in report.tests.values() if r.remedy and r.severity.value in ("warn", "fail")}
    assert advised == expected
    # identical advice from several checks is shown once, naming them all
    texts = [tuple(map(tuple, advice.lines)) for section in view.sections for advice in section.advice]
    assert len(texts) == len(set(texts))


def test_reproducing_call_reproduces_the_report(linear_report):
    view = build_view(linear_report, [])
    tree = ast.parse(view.reproduce)
    assert isinstance(tree.body[-1], ast.Assign)
    namespace = {"df": linear_frame()}
    exec(compile(tree, "<reproduce>", "exec"), namespace)
    again = namespace["report"]
    assert again.to_dict()["tests"] == linear_report.to_dict()["tests"]
    assert again.verdict.level == linear_report.verdict.level


def test_reproducing_call_names_changed_options_and_thresholds():
    frame = hostile_frame(80)
    report = olscheck.check(frame, formula="Q('target y') ~ Q('<script>alert(1)</script>')", probe=False,
                            seed=3, alpha=0.01, thresholds={"vif_warn": 4.0})
    code = build_view(report, []).reproduce
    assert "formula=\"Q('target y') ~ Q('<script>alert(1)</script>')\"" in code
    assert "probe=False" in code and "seed=3" in code and "alpha=0.01" in code
    assert "thresholds={'vif_warn': 4.0}" in code
    assert "intercept" not in code  # defaults are left out
    ast.parse(code)


def test_data_summary_rows(report):
    rows = dict(build_view(report, []).data_rows)
    assert rows["rows in the data"] == "160" and rows["rows used"] == "158"
    assert rows["rows dropped (missing values)"] == "2"
    assert "order" in rows["row order"]
