"""Result types: one frozen shape for every diagnostic test.

Computation modules (``olscheck.checks.*``) return :class:`TestResult`
objects whose severity is decided where the statistic is computed, from
:class:`olscheck.thresholds.Thresholds`. Renderers only read them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, Mapping

__all__ = ["Severity", "Assumption", "TestResult", "not_computable", "clean_float", "p_text", "p_text_decimals"]


class Severity(str, Enum):
    """How much a finding matters, in increasing order."""

    OK = "ok"
    NOTE = "note"
    WARN = "warn"
    FAIL = "fail"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    def __str__(self) -> str:  # so f-strings print "warn", not "Severity.WARN"
        return self.value


_SEVERITY_RANK = {Severity.OK: 0, Severity.NOTE: 1, Severity.WARN: 2, Severity.FAIL: 3}


class Assumption(str, Enum):
    """The OLS assumption a check speaks to (the schema's ``assumption`` enum)."""

    LINEARITY = "linearity"
    INDEPENDENCE = "independence"
    HOMOSKEDASTICITY = "homoskedasticity"
    NORMALITY = "normality"
    NO_COLLINEARITY = "no_collinearity"
    NO_INFLUENTIAL_POINTS = "no_influential_points"
    DATA = "data"

    def __str__(self) -> str:
        return self.value


def p_text(p: float) -> str:
    """A p-value as messages print it: "p < 0.001" or "p = 0.0123"."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


def p_text_decimals(p: float) -> str:
    """A p-value with at most three decimals, as the normality and autocorrelation messages print it.

    "p < 0.001", two significant digits below 0.01 ("p = 0.0023"), else
    three decimals without trailing zeros ("p = 0.04", "p = 0.127").
    """
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.2g}"
    return "p = " + f"{p:.3f}".rstrip("0").rstrip(".")


def clean_float(value: Any) -> float | None:
    """Return ``value`` as a Python float, or None when it is missing or not finite.

    JSON has no NaN or Infinity; a value that cannot be computed is ``None``
    and the result's ``reason`` says why.
    """
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True, slots=True)
class TestResult:
    """The outcome of one diagnostic test.

    Attributes
    ----------
    name : str
        Key in ``Report.tests``, e.g. ``"breusch_pagan"``.
    assumption : Assumption
        The assumption the test speaks to.
    method : str
        What exactly was computed, naming the R function it matches,
        e.g. ``"Breusch-Pagan, Koenker studentized (lmtest::bptest)"``.
    statistic, p_value : float or None
        None when the test could not be computed (``reason`` says why) or
        has no p-value.
    df : tuple of float, optional
        Degrees of freedom: one entry for chi-square/t tests, two for F.
    effect, effect_name : float or None, str or None
        The effect size that drove the severity (e.g. auxiliary R²,
        rho = 1 - d/2).
    severity : Severity
    message : str
        One sentence for the reader, starting "OK:", "Note:", "Warning:" or
        "Problem:".
    remedy : str or None
        What to do about it, with runnable code where there is some.
    details : Mapping[str, float or None]
        Further numbers (``p_value_two_sided``, ``skewness``...), JSON-ready.
    reason : str or None
        Why the test was not computed, when it was not.
    """

    __test__ = False  # not a pytest test class

    name: str
    assumption: Assumption
    method: str
    statistic: float | None
    p_value: float | None
    df: tuple[float, ...] | None = None
    effect: float | None = None
    effect_name: str | None = None
    severity: Severity = Severity.OK
    message: str = ""
    remedy: str | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    reason: str | None = None

    def __post_init__(self) -> None:
        # Normalise on construction so no NaN or numpy scalar leaks into reports.
        object.__setattr__(self, "statistic", clean_float(self.statistic))
        object.__setattr__(self, "p_value", clean_float(self.p_value))
        object.__setattr__(self, "effect", clean_float(self.effect))
        if self.df is not None:
            object.__setattr__(self, "df", tuple(float(d) for d in self.df))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))

    @property
    def computable(self) -> bool:
        return self.reason is None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary in the report schema's ``test`` shape."""
        out: dict[str, Any] = {
            "statistic": self.statistic,
            "p_value": self.p_value,
            "method": self.method,
        }
        if self.df is not None:
            if len(self.df) == 1:
                out["df"] = _integral(self.df[0])
            else:
                out["df1"] = _integral(self.df[0])
                out["df2"] = _integral(self.df[1])
        out["effect"] = self.effect
        out["effect_name"] = self.effect_name
        out["severity"] = self.severity.value
        out["message"] = self.message
        out["remedy"] = self.remedy
        out["computable"] = self.computable
        if self.reason is not None:
            out["reason"] = self.reason
        for key, value in self.details.items():
            out[key] = _json_value(value)
        return out


def _integral(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _json_value(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, int):
        return value
    try:
        return clean_float(value)
    except (TypeError, ValueError):
        return str(value)


def not_computable(name: str, assumption: Assumption, method: str, reason: str) -> TestResult:
    """A result for a test that cannot be computed on this data, with the reason.

    Severity is NOTE: the reader should know the check did not run, but it is
    not evidence against the model.
    """
    return TestResult(
        name=name,
        assumption=assumption,
        method=method,
        statistic=None,
        p_value=None,
        severity=Severity.NOTE,
        message=f"Note: not computed: {reason}",
        reason=reason,
    )
