"""Findings -> ``linear`` / ``linear_with_remedies`` / ``nonlinear``.

The verdict reads severities the checks already decided; it compares no
statistic with a cut-off itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .report import Finding, Verdict
from .result import Assumption, Severity, TestResult
from .thresholds import Thresholds

__all__ = ["data_findings", "decide", "LINEAR", "LINEAR_WITH_REMEDIES", "NONLINEAR"]

LINEAR = "linear"
LINEAR_WITH_REMEDIES = "linear_with_remedies"
NONLINEAR = "nonlinear"

_LINEARITY_TESTS = ("reset", "harvey_collier", "rainbow")


def data_findings(fit) -> list[Finding]:
    """Findings about the data and the design: aliased columns, dropped rows, order."""
    findings: list[Finding] = []
    if fit.aliased:
        names = ", ".join(repr(a) for a in fit.aliased)
        findings.append(
            Finding(
                check="aliasing",
                assumption=Assumption.NO_COLLINEARITY,
                severity=Severity.WARN,
                message=(
                    f"Warning: column(s) {names} are exact (or numerically exact) linear combinations of earlier "
                    "columns; the model was fitted without them, as R's lm does (their coefficients are NA)."
                ),
                effect=float(len(fit.aliased)),
                effect_name="aliased columns",
                remedy="Drop the aliased column(s) or combine them with the columns they duplicate.",
            )
        )
    for note in fit.design.notes:
        findings.append(Finding(check="data", assumption=Assumption.DATA, severity=Severity.NOTE, message=f"Note: {note}"))
    return findings


def decide(
    tests: Mapping[str, TestResult],
    extra_findings: list[Finding],
    nonlinearity: Mapping[str, Any],
    thresholds: Thresholds,
) -> Verdict:
    """Combine the findings into the verdict.

    ``nonlinear`` when a specification test fails outright (severity FAIL);
    ``linear_with_remedies`` when any assumption check warns or fails;
    ``linear`` otherwise.
    """
    findings = list(extra_findings) + [Finding.from_result(r) for r in tests.values()]
    findings.sort(key=lambda f: -f.severity.rank)
    linearity_failed = [n for n in _LINEARITY_TESTS if n in tests and tests[n].severity is Severity.FAIL]
    troubled = [f for f in findings if f.severity in (Severity.WARN, Severity.FAIL)]
    if linearity_failed:
        level = NONLINEAR
        summary = (
            "The conditional mean is not linear in the predictors: "
            + ", ".join(linearity_failed)
            + " reject a linear specification."
        )
    elif troubled:
        level = LINEAR_WITH_REMEDIES
        summary = "A linear model can describe the mean, but inference needs remedies for: " + ", ".join(
            dict.fromkeys(f.check for f in troubled)
        ) + "."
    else:
        level = LINEAR
        summary = "No assumption check raises a warning: ordinary least squares suits this data as it is."
    return Verdict(level=level, summary=summary, findings=tuple(findings))
