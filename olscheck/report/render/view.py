"""Report -> presentation data shared by the HTML and Markdown templates.

Formats numbers, orders findings and groups results by assumption (one
judgement per assumption: :func:`assumption_judgements`). It reads the
severities the checks decided and never compares a statistic with a
cut-off. Everything here is plain text: the templates escape it for their
format (HTML autoescape, Markdown escaping), so user data (column names,
level labels, file names) can never become markup.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["ReportView", "Judgement", "assumption_judgements", "build_view", "format_number", "format_p",
           "split_code", "generated_stamp", "report_id", "unique_report_id", "column_rows", "KEY_PLOTS"]

ASSUMPTION_ORDER = [
    ("linearity", "Linearity of the mean"),
    ("homoskedasticity", "Constant error variance"),
    ("independence", "Independent errors"),
    ("normality", "Normal errors"),
    ("no_collinearity", "No collinearity"),
    ("no_influential_points", "No overly influential points"),
    ("data", "Data checks"),
]
ASSUMPTION_TITLES = dict(ASSUMPTION_ORDER)

LEVEL_LABEL = {
    "linear": "Linear",
    "linear_with_remedies": "Linear with remedies",
    "nonlinear": "Non-linear",
}

LEVEL_TEXT = {
    "linear": "Ordinary least squares suits this data as it is.",
    "linear_with_remedies": "The mean is linear, but inference needs the remedies below.",
    "nonlinear": "The conditional mean is materially non-linear: a linear model (of any depth) misses it.",
}

SEVERITY_ORDER = ["ok", "note", "warn", "fail"]

#: The plots the compact (notebook) view shows up front: R's ``plot(lm)`` four.
KEY_PLOTS = ("residuals_vs_fitted", "qq", "scale_location", "residuals_vs_leverage")

#: Headers of the Columns table, in order (the keys of :func:`column_rows`).
COLUMN_HEADERS = (("name", "column"), ("role", "role"), ("kind", "kind"), ("distinct", "distinct"),
                  ("missing", "missing"), ("reason", "reason"))

#: Options of :func:`olscheck.check` in the order a reproducing call names them.
_CALL_OPTIONS = ("intercept", "order_by", "groups", "alpha", "probe", "seed", "durbin_watson_exact",
                 "breusch_godfrey_order")
_CALL_DEFAULTS = {"intercept": True, "order_by": None, "groups": None, "alpha": 0.05, "probe": True, "seed": 0,
                  "durbin_watson_exact": None, "breusch_godfrey_order": 1}


# ----------------------------------------------------------------------------- numbers
def format_number(value: Any, digits: int = 4) -> str:
    """A statistic for a table: 4 significant digits, scientific when tiny or huge."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    value = float(value)
    if not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    if abs(value) >= 1e6 or abs(value) < 1e-3:
        return f"{value:.{digits - 1}e}"
    return f"{value:.{digits}g}"


def format_p(value: Any) -> str:
    """A p-value: four decimals, scientific below 1e-4, and a floor at 1e-16 (R's format.pval)."""
    if value is None:
        return "—"
    value = float(value)
    if not math.isfinite(value):
        return "—"
    if value < 1e-16:
        return "< 1e-16"
    if value < 1e-4:
        return f"{value:.2e}"
    return f"{value:.4f}"


def format_df(entry: dict[str, Any]) -> str:
    if entry.get("df") is not None:
        return format_number(entry["df"])
    if entry.get("df1") is not None:
        return f"{format_number(entry['df1'])}, {format_number(entry['df2'])}"
    return "—"


def split_code(text: str) -> list[tuple[bool, str]]:
    """Split prose at backticks into ``(is_code, text)`` pieces (inline code in remedies)."""
    pieces = str(text).split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: keep it as text
        pieces[-2:] = [pieces[-2] + "`" + pieces[-1]]
    return [(index % 2 == 1, piece) for index, piece in enumerate(pieces) if piece]


def generated_stamp() -> str:
    """When the report was made; SOURCE_DATE_EPOCH pins it for reproducible files."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.now(timezone.utc)
    if epoch and epoch.strip().isdigit():
        moment = datetime.fromtimestamp(int(epoch), timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def report_id(report, document: dict[str, Any] | None = None) -> str:
    """A stable id for the report's root element: ``olscheck-`` and 12 hex digits of its JSON.

    Every id inside the report is prefixed with it, so two different reports
    on one page (a notebook) never share an id and each one's links stay in
    it; the same report gives the same id, so its files are reproducible.
    ``document`` is ``report.to_dict()`` when the caller has it already.
    """
    document = report.to_dict() if document is None else document
    text = json.dumps(document, sort_keys=True, allow_nan=False, ensure_ascii=False)
    return f"olscheck-{hashlib.sha256(text.encode('utf-8')).hexdigest()[:12]}"


def unique_report_id(report) -> str:
    """:func:`report_id` with a random suffix: for a notebook, where one report may be displayed twice."""
    return f"{report_id(report)}-{secrets.token_hex(3)}"


def column_rows(columns) -> list[dict[str, str]]:
    """The Columns table as text cells (``report.data.columns``: :class:`~olscheck.report.report.ColumnDecision`)."""
    return [
        {
            "name": str(column.name),
            "role": str(column.role),
            "kind": str(column.kind),
            "distinct": format_number(column.distinct),
            "missing": format_number(column.missing),
            "reason": "—" if column.reason is None else str(column.reason),
        }
        for column in columns
    ]


# ----------------------------------------------------------------------------- view types
@dataclass
class TestRow:
    key: str
    method: str
    statistic: str
    df: str
    p_value: str
    effect: str
    effect_name: str
    severity: str
    message: str
    #: The message says what the section's judgement (or an earlier test) already says.
    repeats: bool = False


@dataclass
class FindingRow:
    """One check's finding, as evidence under its assumption's judgement.

    ``repeats`` is true when an earlier row of the same assumption (or the
    judgement) already says the same sentence: the templates then do not
    print it again.
    """

    check: str
    assumption: str
    section: str
    severity: str
    effect: str
    message: str
    repeats: bool = False


@dataclass
class Judgement:
    """One assumption's verdict: the worst severity its checks decided, in the words of the check that decided it.

    ``rows`` are every finding of the assumption, the deciding one first
    (its message is the judgement's); the rest are the evidence.
    """

    assumption: str
    title: str
    section: str
    severity: str
    check: str
    message: str
    rows: list[FindingRow] = field(default_factory=list)

    @property
    def evidence(self) -> list[FindingRow]:
        return self.rows[1:]


@dataclass
class RemedyView:
    """A runnable remedy from the verdict: what to do and the code."""

    title: str
    code: str


@dataclass
class AdviceView:
    """A check's own remedy text, shared by the checks that gave the same advice."""

    checks: list[str]
    lines: list[list[tuple[bool, str]]]


@dataclass
class Section:
    key: str
    title: str
    severity: str
    #: The assumption's one judgement (None when no finding belongs to it).
    judgement: Judgement | None = None
    tests: list[TestRow] = field(default_factory=list)
    plots: list[Any] = field(default_factory=list)
    remedies: list[RemedyView] = field(default_factory=list)
    advice: list[AdviceView] = field(default_factory=list)


@dataclass
class ReportView:
    level: str
    level_label: str
    level_text: str
    headline: str
    summary: str
    target: str
    #: One judgement per assumption with a note, warning or failure, the most serious first.
    problems: list[Judgement]
    #: The assumptions whose checks all passed.
    passed: list[Judgement]
    sections: list[Section]
    equation: str
    collapse_text: str
    #: One dict of text per term: term, estimate, std_error, interval, t, p, and robust_std_error,
    #: robust_interval and ``changed`` (the table's own judgement of a material change) when robust_label is set.
    coefficients: list[dict[str, Any]]
    #: The robust standard errors beside the classical ones ("HC3", "HAC", "cluster"), or "" when none.
    robust_label: str
    #: Which robust errors, why, and what a highlighted row means; "" when none.
    robust_note: str
    fit_stats: list[tuple[str, str]]
    transforms: list[dict[str, str]]
    box_cox_lambda: str | None
    data_rows: list[tuple[str, str]]
    notes: list[str]
    probe_computed: bool
    probe_reason: str
    probe_rows: list[dict[str, str]]
    probe_summary: str
    probe_method: str
    probe_plots: list[Any]
    reproduce: str
    options: list[tuple[str, str]]
    versions: list[tuple[str, str]]
    title: str
    generated: str
    #: The id of the report's root element; every other id is ``{root_id}-{name}``.
    root_id: str = "olscheck-report"
    #: R's four plots, shown up front in the compact view (also still in their sections).
    key_plots: list[Any] = field(default_factory=list)
    #: ``report.data.columns`` as text (:func:`column_rows`); empty when the columns were not screened.
    columns: list[dict[str, str]] = field(default_factory=list)
    column_headers: list[tuple[str, str]] = field(default_factory=lambda: list(COLUMN_HEADERS))


def _worst(severities: list[str]) -> str:
    return max(severities, key=SEVERITY_ORDER.index) if severities else "ok"


def _effect_text(effect: Any, effect_name: str | None) -> str:
    if effect is None:
        return "—"
    return f"{effect_name or 'effect'} = {format_number(effect)}"


# ----------------------------------------------------------------------------- build
def build_view(report, plots: list[Any] | None = None, generated: str | None = None,
               root_id: str | None = None) -> ReportView:
    """Presentation data for ``report``.

    Parameters
    ----------
    report : Report
    plots : list of Plot, optional
        From :func:`olscheck.report.render.plots.render_plots`.
    generated : str, optional
        The time stamp (default :func:`generated_stamp`).
    root_id : str, optional
        The id of the report's root element (default :func:`report_id`).
    """
    document = report.to_dict()
    plots = list(plots or [])
    data = document["data"]
    level = report.verdict.level
    level_label = LEVEL_LABEL.get(level, level)

    sections = {key: Section(key, title, "ok") for key, title in ASSUMPTION_ORDER}
    _fill_tests(report, document, sections)
    _fill_remedies(report, sections)
    for finding in report.verdict.findings:
        section = sections.get(finding.assumption.value)
        if section is not None:
            section.severity = _worst([section.severity, finding.severity.value])
    probe_plots = []
    for plot in plots:
        if plot.assumption in sections:
            sections[plot.assumption].plots.append(plot)
        else:
            probe_plots.append(plot)

    shown = [s for s in sections.values() if s.tests or s.plots or s.remedies or s.advice]
    shown_keys = {s.key for s in shown}
    judgements = assumption_judgements(report.verdict.findings, shown_keys)
    for judgement in judgements:
        section = sections.get(judgement.assumption)
        if section is not None:
            section.judgement = judgement
            _mark_repeats(section)
    problems = [j for j in judgements if j.severity != "ok"]
    passed = [j for j in judgements if j.severity == "ok"]

    model = document["model"]
    coefficients, robust_label, robust_note = _coefficient_rows(report)
    if model["f_statistic"] is None:
        f_text = "—"
    else:
        p_text = format_p(model["f_p_value"])
        f_text = (f"{format_number(model['f_statistic'])} on {model['f_df1']} and {model['f_df2']} df "
                  f"(p {p_text if p_text.startswith('<') else '= ' + p_text})")
    fit_stats = [
        ("R²", format_number(model["r_squared"])),
        ("adjusted R²", format_number(model["adj_r_squared"])),
        ("residual standard deviation (sigma)", format_number(model["sigma"])),
        ("F statistic", f_text),
        ("residual degrees of freedom", format_number(model["df_resid"])),
        ("condition number", format_number(document["collinearity"].get("condition_number"))),
    ]
    if model.get("aliased"):
        fit_stats.append(("aliased (dropped) columns", ", ".join(model["aliased"])))

    data_rows = []
    if data.get("formula"):
        data_rows.append(("formula", data["formula"]))
    data_rows += [
        ("target", data["target"]),
        ("predictors", ", ".join(data["predictors"]) or "—"),
        ("categorical", ", ".join(data["categorical"]) or "—"),
        ("rows in the data", format_number(data["n_rows"])),
        ("rows used", format_number(data["n_used"])),
        ("rows dropped (missing values)", format_number(data["n_dropped"])),
        ("row order", data["order_note"]),
    ]

    nonlinearity = document.get("nonlinearity") or {}
    probe = nonlinearity.get("probe") or {}
    probe_rows = []
    if probe.get("computed"):
        for name, values in (probe.get("models") or {}).items():
            probe_rows.append({
                "model": "OLS" if name == "ols" else name,
                "r2": format_number(values.get("r_squared")),
                "mse": format_number(values.get("mse")),
                "description": str(values.get("description") or ""),
                "best": "yes" if name == probe.get("best_learner") else "",
            })
    transforms_section = nonlinearity.get("transforms") or {}
    transforms = [
        {
            "name": str(item.get("name", "")),
            "description": str(item.get("description", "")),
            "formula": str(item.get("formula") or ""),
            "adequate": "yes" if item.get("adequate") else "no",
        }
        for item in transforms_section.get("tried") or []
    ]
    lam = transforms_section.get("box_cox_lambda")

    collapse = nonlinearity.get("collapsed_equation") or report.model.equation()
    options = dict(document.get("options") or {})
    return ReportView(
        level=level,
        level_label=level_label,
        level_text=LEVEL_TEXT.get(level, ""),
        headline=f"olscheck verdict for {data['target']}: {level_label.lower()}",
        summary=report.verdict.summary,
        target=str(data["target"]),
        problems=problems,
        passed=passed,
        sections=shown,
        equation=collapse,
        collapse_text=(
            "Any network whose activations are all the identity, of any depth and width, trained to its "
            "optimum on this data, collapses to one affine map: this least-squares fit."
        ),
        coefficients=coefficients,
        robust_label=robust_label,
        robust_note=robust_note,
        fit_stats=fit_stats,
        transforms=transforms,
        box_cox_lambda=None if lam is None else format_number(lam),
        data_rows=data_rows,
        notes=[str(note) for note in data.get("notes") or []],
        probe_computed=bool(probe.get("computed")),
        probe_reason=_probe_reason(probe.get("reason")),
        probe_rows=probe_rows,
        probe_summary=str(probe.get("summary") or ""),
        probe_method=str(probe.get("method") or ""),
        probe_plots=probe_plots,
        reproduce=_reproduce(data, options),
        options=_option_rows(options),
        versions=_versions(document.get("olscheck_version") or ""),
        title=f"olscheck: {data['target']} — {level_label}",
        generated=generated or generated_stamp(),
        root_id=root_id or report_id(report, document),
        key_plots=[plot for key in KEY_PLOTS for plot in plots if plot.key == key],
        columns=column_rows(getattr(report.data, "columns", ()) or ()),
    )


#: How the coefficient table names each robust estimator in its column headers.
ROBUST_LABELS = {"HC3": "HC3", "HAC": "HAC", "cluster": "cluster-robust"}


def _interval(lower: Any, upper: Any) -> str:
    if lower is None or upper is None:
        return "—"
    return f"[{format_number(lower)}, {format_number(upper)}]"


def _coefficient_rows(report) -> tuple[list[dict[str, Any]], str, str]:
    """The coefficient table as text (:meth:`olscheck.Report.coefficient_table`), its robust label and note."""
    table = report.coefficient_table()
    percent = f"{table.level:.0%}"
    rows = []
    for row in table.rows:
        rows.append({
            "term": row.term,
            "estimate": format_number(row.estimate, 6),
            "std_error": format_number(row.std_error),
            "interval": _interval(row.lower, row.upper),
            "t": format_number(row.t_value),
            "p": format_p(row.p_value),
            "robust_std_error": format_number(row.robust_std_error),
            "robust_interval": _interval(row.robust_lower, row.robust_upper),
            "changed": bool(row.material or row.conclusion_changed),
        })
    if table.robust is None:
        return rows, "", ""
    label = ROBUST_LABELS.get(table.robust, table.robust)
    note = (f"{label} columns: the standard errors of the remedy ({table.estimator}), because {table.reason} "
            f"({table.source}). Classical {percent} intervals use Student's t with {table.df_resid} df, the "
            f"robust ones the normal quantile, as statsmodels' fit(cov_type=...) does. Marked rows: the "
            f"standard error changes materially or the interval changes side of zero.")
    return rows, label, note


def assumption_judgements(findings, sections: set[str] | None = None) -> list[Judgement]:
    """One judgement per assumption from the severities the checks decided, the most serious first.

    An assumption's severity is the worst of its findings' (the checks
    already decided each one, primary tests at the family-wise level and
    supporting ones as notes at most); its message is that of the first
    finding, in the verdict's order, with that severity. Every finding
    becomes a row under it, the deciding one first; a row whose message an
    earlier row of the assumption already gave is marked ``repeats``.
    Ties between assumptions keep the report's section order.

    Parameters
    ----------
    findings : sequence of Finding
        ``report.verdict.findings``.
    sections : set of str, optional
        Assumptions with a section in the report (their rows link to it);
        all when omitted.
    """
    grouped: dict[str, list] = {}
    for finding in findings:
        grouped.setdefault(finding.assumption.value, []).append(finding)
    order = [key for key, _ in ASSUMPTION_ORDER]
    judgements = []
    for assumption, members in grouped.items():
        worst = _worst([f.severity.value for f in members])
        lead = next(f for f in members if f.severity.value == worst)
        link = assumption if sections is None or assumption in sections else ""
        title = ASSUMPTION_TITLES.get(assumption, assumption)
        rows, said = [], set()
        for finding in [lead] + [f for f in members if f is not lead]:
            rows.append(FindingRow(check=finding.check, assumption=title, section=link,
                                   severity=finding.severity.value,
                                   effect=_effect_text(finding.effect, finding.effect_name),
                                   message=finding.message, repeats=finding.message in said))
            said.add(finding.message)
        judgements.append(Judgement(assumption=assumption, title=title, section=link, severity=worst,
                                    check=lead.check, message=lead.message, rows=rows))
    judgements.sort(key=lambda j: (-SEVERITY_ORDER.index(j.severity),
                                   order.index(j.assumption) if j.assumption in order else len(order)))
    return judgements


def _mark_repeats(section: Section) -> None:
    """Mark the test rows whose message the section's judgement or an earlier test already gave."""
    said = {section.judgement.message} if section.judgement is not None else set()
    for row in section.tests:
        row.repeats = row.message in said
        said.add(row.message)


def _fill_tests(report, document, sections) -> None:
    for name, result in report.tests.items():
        entry = document["tests"][name]
        section = sections.get(result.assumption.value)
        if section is None:
            continue
        section.tests.append(TestRow(
            key=name,
            method=result.method,
            statistic=format_number(result.statistic),
            df=format_df(entry),
            p_value=format_p(result.p_value),
            effect=format_number(result.effect) if result.effect is not None else "—",
            effect_name=result.effect_name or "",
            severity=result.severity.value,
            message=result.message if result.reason is None or result.reason in result.message
            else f"{result.message} ({result.reason})",
        ))


def _fill_remedies(report, sections) -> None:
    """Runnable remedies from the verdict; a check's own advice where the verdict has none."""
    for remedy in getattr(report.verdict, "remedies", ()) or ():
        section = sections.get(str(getattr(remedy, "assumption", "")))
        if section is not None:
            section.remedies.append(RemedyView(title=str(remedy.title), code=str(remedy.code)))
    advice: dict[str, dict[str, list[str]]] = {}
    sources = [(r.name, r.assumption.value, r.severity.value, r.remedy) for r in report.tests.values()]
    sources += [(f.check, f.assumption.value, f.severity.value, f.remedy)
                for f in report.verdict.findings if f.check not in report.tests]
    for check, assumption, severity, text in sources:
        if not text or severity not in ("warn", "fail") or assumption not in sections:
            continue
        advice.setdefault(assumption, {}).setdefault(str(text), []).append(check)
    for assumption, texts in advice.items():
        section = sections[assumption]
        if section.remedies:
            continue  # the verdict's runnable remedy covers these checks
        for text, checks in texts.items():
            lines = [split_code(line) for line in text.splitlines() if line.strip()]
            section.advice.append(AdviceView(checks=checks, lines=lines))


def _probe_reason(reason: Any) -> str:
    if reason in (None, "", "probe=False"):
        return "switched off (probe=False, or --no-probe on the command line)"
    return str(reason)


def _python_literal(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_python_literal(v) for v in value) + "]"
    return repr(value)


def _reproduce(data: dict[str, Any], options: dict[str, Any]) -> str:
    """A Python call that reproduces the report from the same data."""
    arguments = ["df"]
    if data.get("formula"):
        arguments.append(f"formula={_python_literal(data['formula'])}")
    else:
        arguments.append(f"target={_python_literal(data['target'])}")
        arguments.append(f"predictors={_python_literal(list(data.get('predictors') or []))}")
        if data.get("categorical"):
            arguments.append(f"categorical={_python_literal(list(data['categorical']))}")
    for name in _CALL_OPTIONS:
        if name in options and options[name] != _CALL_DEFAULTS.get(name, object()):
            arguments.append(f"{name}={_python_literal(options[name])}")
    changed = _changed_thresholds(options)
    if changed:
        arguments.append("thresholds={" + ", ".join(f"{k!r}: {v!r}" for k, v in changed.items()) + "}")
    lines = ["import olscheck", "report = olscheck.check(" + arguments[0] + ","]
    for argument in arguments[1:]:
        lines.append(f"    {argument},")
    lines.append(")")
    return "\n".join(lines)


def _changed_thresholds(options: dict[str, Any]) -> dict[str, Any]:
    from ...thresholds import DEFAULT_THRESHOLDS

    defaults = DEFAULT_THRESHOLDS.to_dict()
    chosen = options.get("thresholds") or {}
    return {k: v for k, v in chosen.items() if k != "alpha" and k in defaults and v != defaults[k]}


def _option_rows(options: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [(name, "—" if options.get(name) is None else str(options.get(name)))
            for name in _CALL_OPTIONS if name in options]
    changed = _changed_thresholds(options)
    rows.append(("thresholds", ", ".join(f"{k} = {v}" for k, v in changed.items()) if changed else "the defaults"))
    return rows


def _versions(olscheck_version: str) -> list[tuple[str, str]]:
    versions = [("olscheck", olscheck_version or "?"), ("Python", platform.python_version())]
    for package in ("numpy", "scipy", "pandas", "statsmodels", "scikit-learn", "matplotlib"):
        version = _version(package)
        if version:
            versions.append((package, version))
    return versions


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None
