"""Report -> presentation data shared by the HTML and Markdown templates.

Formats numbers, orders findings and groups results by assumption. It reads
the severities the checks decided and never compares a statistic with a
cut-off. Everything here is plain text: the templates escape it for their
format (HTML autoescape, Markdown escaping), so user data (column names,
level labels, file names) can never become markup.
"""

from __future__ import annotations

import math
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = ["ReportView", "build_view", "format_number", "format_p", "split_code", "generated_stamp"]

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


@dataclass
class FindingRow:
    check: str
    assumption: str
    section: str
    severity: str
    effect: str
    message: str


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
    problems: list[FindingRow]
    passed: list[FindingRow]
    sections: list[Section]
    equation: str
    collapse_text: str
    coefficients: list[dict[str, str]]
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


def _worst(severities: list[str]) -> str:
    return max(severities, key=SEVERITY_ORDER.index) if severities else "ok"


def _effect_text(effect: Any, effect_name: str | None) -> str:
    if effect is None:
        return "—"
    return f"{effect_name or 'effect'} = {format_number(effect)}"


# ----------------------------------------------------------------------------- build
def build_view(report, plots: list[Any] | None = None, generated: str | None = None) -> ReportView:
    """Presentation data for ``report`` (``plots`` from :func:`olscheck.render.plots.render_plots`)."""
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
    problems, passed = [], []
    for finding in report.verdict.findings:
        row = FindingRow(
            check=finding.check,
            assumption=ASSUMPTION_TITLES.get(finding.assumption.value, finding.assumption.value),
            section=finding.assumption.value if finding.assumption.value in shown_keys else "",
            severity=finding.severity.value,
            effect=_effect_text(finding.effect, finding.effect_name),
            message=finding.message,
        )
        (passed if row.severity == "ok" else problems).append(row)
    # most serious first; the verdict's own order breaks ties
    problems.sort(key=lambda row: -SEVERITY_ORDER.index(row.severity))

    model = document["model"]
    coefficients = [
        {
            "term": term,
            "estimate": format_number(value, 6),
            "std_error": format_number(model["std_errors"].get(term), 4),
            "t": format_number(model["t_values"].get(term), 4),
            "p": format_p(model["p_values"].get(term)),
        }
        for term, value in model["coefficients"].items()
    ]
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
    )


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
    from ..thresholds import DEFAULT_THRESHOLDS

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
