"""Report -> presentation data shared by the HTML and Markdown templates.

Formats numbers and groups results by assumption. It reads severities the
checks decided and never compares a statistic with a cut-off.
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ReportView", "build_view", "format_number", "format_p"]

ASSUMPTION_ORDER = [
    ("linearity", "Linearity of the mean"),
    ("homoskedasticity", "Constant error variance"),
    ("independence", "Independent errors"),
    ("normality", "Normal errors"),
    ("no_collinearity", "No collinearity"),
    ("no_influential_points", "No overly influential points"),
    ("data", "Data"),
]

LEVEL_TEXT = {
    "linear": "Linear: ordinary least squares suits this data as it is.",
    "linear_with_remedies": "Linear with remedies: the mean is linear, but inference needs the remedies below.",
    "nonlinear": "Non-linear: the conditional mean is materially non-linear; use a non-linear model.",
}


def format_number(value: Any, digits: int = 4) -> str:
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
    if value is None:
        return "—"
    value = float(value)
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


@dataclass
class TestRow:
    key: str
    method: str
    statistic: str
    df: str
    p_value: str
    effect: str
    severity: str
    message: str


@dataclass
class Section:
    key: str
    title: str
    severity: str
    tests: list[TestRow] = field(default_factory=list)
    plots: list[Any] = field(default_factory=list)
    remedies: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class ReportView:
    level: str
    level_text: str
    summary: str
    findings: list[dict[str, str]]
    sections: list[Section]
    equation: str
    collapse_text: str
    coefficients: list[dict[str, str]]
    fit_stats: list[tuple[str, str]]
    data_rows: list[tuple[str, str]]
    notes: list[str]
    probe: dict[str, Any] | None
    probe_rows: list[dict[str, str]]
    footer: list[tuple[str, str]]
    title: str


def _worst(severities: list[str]) -> str:
    order = ["ok", "note", "warn", "fail"]
    return max(severities, key=order.index) if severities else "ok"


def build_view(report, plots: list[Any] | None = None) -> ReportView:
    """Presentation data for ``report`` (``plots`` from :func:`olscheck.render.plots.render_plots`)."""
    document = report.to_dict()
    plots = plots or []
    sections: dict[str, Section] = {key: Section(key, title, "ok") for key, title in ASSUMPTION_ORDER}
    for name, result in report.tests.items():
        entry = document["tests"][name]
        section = sections[result.assumption.value]
        effect = "—"
        if result.effect is not None:
            effect = f"{result.effect_name or 'effect'} = {format_number(result.effect)}"
        section.tests.append(TestRow(
            key=name,
            method=result.method,
            statistic=format_number(result.statistic),
            df=format_df(entry),
            p_value=format_p(result.p_value),
            effect=effect,
            severity=result.severity.value,
            message=result.message,
        ))
        if result.remedy and result.severity.value in ("warn", "fail"):
            section.remedies.append((name, result.remedy))
    for finding in report.verdict.findings:
        section = sections[finding.assumption.value]
        if finding.check not in report.tests and finding.remedy and finding.severity.value in ("warn", "fail"):
            section.remedies.append((finding.check, finding.remedy))
    for finding in report.verdict.findings:
        section = sections[finding.assumption.value]
        section.severity = _worst([section.severity, finding.severity.value])
    for plot in plots:
        sections[plot.assumption].plots.append(plot)
    # one remedy text per section and check
    for section in sections.values():
        section.remedies = list(dict.fromkeys(section.remedies))

    model = document["model"]
    coefficients = []
    for term, value in model["coefficients"].items():
        coefficients.append({
            "term": term,
            "estimate": format_number(value, 6),
            "std_error": format_number(model["std_errors"].get(term), 4),
            "t": format_number(model["t_values"].get(term), 4),
            "p": format_p(model["p_values"].get(term)),
        })
    fit_stats = [
        ("R²", format_number(model["r_squared"])),
        ("adjusted R²", format_number(model["adj_r_squared"])),
        ("residual SD (sigma)", format_number(model["sigma"])),
        ("F statistic", f"{format_number(model['f_statistic'])} on {model['f_df1']} and {model['f_df2']} df (p {format_p(model['f_p_value'])})"),
        ("condition number", format_number(document["collinearity"].get("condition_number"))),
    ]
    data = document["data"]
    data_rows = [
        ("target", data["target"]),
        ("predictors", ", ".join(data["predictors"]) or "—"),
        ("categorical", ", ".join(data["categorical"]) or "—"),
        ("rows in the data", format_number(data["n_rows"])),
        ("rows used", format_number(data["n_used"])),
        ("rows dropped (missing values)", format_number(data["n_dropped"])),
        ("order", data["order_note"]),
    ]
    if data.get("formula"):
        data_rows.insert(0, ("formula", data["formula"]))
    probe = document["nonlinearity"].get("probe")
    probe_rows = []
    if probe and probe.get("computed"):
        for name, values in (probe.get("models") or {}).items():
            probe_rows.append({
                "model": name,
                "r2": format_number(values.get("r_squared")),
                "mse": format_number(values.get("mse")),
            })
    options = document.get("options", {})
    footer = [
        ("olscheck", document["olscheck_version"]),
        ("Python", platform.python_version()),
        ("seed", str(options.get("seed"))),
        ("alpha", str(options.get("alpha"))),
        ("options", ", ".join(f"{k}={v}" for k, v in options.items() if k not in ("thresholds",))),
    ]
    for package in ("numpy", "scipy", "pandas", "statsmodels", "scikit-learn", "matplotlib"):
        version = _version(package)
        if version:
            footer.append((package, version))
    findings = [
        {
            "check": f.check,
            "assumption": dict(ASSUMPTION_ORDER).get(f.assumption.value, f.assumption.value),
            "severity": f.severity.value,
            "effect": "—" if f.effect is None else f"{f.effect_name or 'effect'} = {format_number(f.effect)}",
            "message": f.message,
        }
        for f in report.verdict.findings
    ]
    collapse = document["nonlinearity"].get("collapsed_equation") or report.model.equation()
    return ReportView(
        level=report.verdict.level,
        level_text=LEVEL_TEXT.get(report.verdict.level, report.verdict.level),
        summary=report.verdict.summary,
        findings=findings,
        sections=[s for s in sections.values() if s.tests or s.plots or s.key == "data" and s.remedies],
        equation=report.model.equation(),
        collapse_text=(
            "Any linear-activation network, of any depth, trained to its optimum on this data is "
            f"{collapse}"
        ),
        coefficients=coefficients,
        fit_stats=fit_stats,
        data_rows=data_rows,
        notes=list(data.get("notes") or []),
        probe=probe,
        probe_rows=probe_rows,
        footer=footer,
        title=f"olscheck report: {data['target']}",
    )


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None
