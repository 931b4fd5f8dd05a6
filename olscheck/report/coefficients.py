"""The coefficient table: estimates with classical and, where the verdict calls for them, robust intervals.

statsmodels' summary gives the estimate, its standard error and a 95%
interval; olscheck also knows when the classical standard error is wrong,
so beside it the table gives the standard error and interval of the remedy
the verdict would apply:

* cluster-robust (CR1) when errors are correlated within the ``groups=``
  column (the ``grouped_errors`` test warns);
* Newey-West HAC when errors are autocorrelated (Durbin-Watson or
  Breusch-Godfrey warns), with the lags the battery used;
* HC3 when the error variance is not constant (the homoskedasticity
  family warns or fails).

The first that applies is used: cluster-robust and HAC errors are also
robust to a variance that is not constant. These are the conditions under
which :func:`olscheck.verdict.decide.decide` writes its remedies, read from the
severities the checks decided.

Nothing is estimated twice. The battery already stores each coefficient's
robust/classical standard-error ratio in the details of the test results
(``hc3_se_ratios``, ``hac_se_ratios``, ``cluster_se_ratios`` for the slopes;
``..._intercept_se_ratios`` for the intercept, summed in the same pass, see
:meth:`olscheck.numerics.covariance.StandardErrorChange.detail_fields`); the robust
standard error is that ratio times the classical one, in memory and
streamed alike. Whether a change is material is judged for the intercept
as for the slopes (its null ratio and spread come from the same sums), but
only the slopes' changes decide a severity.

Intervals: classical ones use Student's t with the residual degrees of
freedom (R's ``confint.lm``, statsmodels' ``conf_int()``); robust ones the
normal quantile, as the remedies' ``smf.ols(...).fit(cov_type=...)`` gives
them (statsmodels' default ``use_t=False`` for robust covariances).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from scipy import stats

from ..numerics.covariance import StandardErrorChange
from .result import Severity, clean_float

__all__ = ["CoefficientRow", "CoefficientTable", "coefficient_table", "robust_choice", "ROBUST_KINDS"]

#: The robust estimators the table can show, by the prefix of their details in the test results.
ROBUST_KINDS = {"HC3": "hc3", "HAC": "hac", "cluster": "cluster"}

_TROUBLE = (Severity.WARN, Severity.FAIL)


@dataclass(frozen=True, slots=True)
class RobustChoice:
    """Which robust standard errors the verdict's remedy uses, read from which test, and why."""

    kind: str
    source: str
    reason: str


@dataclass(frozen=True, slots=True)
class CoefficientRow:
    """One term of the coefficient table; every value None when the term is aliased (R's NA).

    ``material`` says the robust standard error differs from the classical
    one by at least ``Thresholds.se_change_warn`` beyond what the estimator
    gives under the null and beyond ``Thresholds.se_change_noise`` null
    standard deviations (:meth:`~olscheck.numerics.covariance.StandardErrorChange.material`,
    the rule the checks apply to the largest change); ``conclusion_changed``
    that zero lies inside one 95% interval and outside the other.
    """

    term: str
    estimate: float | None
    std_error: float | None
    t_value: float | None
    p_value: float | None
    lower: float | None
    upper: float | None
    robust_std_error: float | None = None
    robust_lower: float | None = None
    robust_upper: float | None = None
    se_ratio: float | None = None
    material: bool = False
    conclusion_changed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "estimate": clean_float(self.estimate),
            "std_error": clean_float(self.std_error),
            "t_value": clean_float(self.t_value),
            "p_value": clean_float(self.p_value),
            "lower": clean_float(self.lower),
            "upper": clean_float(self.upper),
            "robust_std_error": clean_float(self.robust_std_error),
            "robust_lower": clean_float(self.robust_lower),
            "robust_upper": clean_float(self.robust_upper),
            "se_ratio": clean_float(self.se_ratio),
            "material": self.material,
            "conclusion_changed": self.conclusion_changed,
        }


@dataclass(frozen=True, slots=True)
class CoefficientTable:
    """The coefficient table of a report (:func:`coefficient_table`).

    Attributes
    ----------
    rows : tuple of CoefficientRow
        One per term, in the model's order.
    level : float
        Coverage of the intervals (0.95).
    df_resid : int
        Degrees of freedom of the classical intervals' t quantile.
    robust : str or None
        ``"HC3"``, ``"HAC"`` or ``"cluster"``: the robust standard errors the
        verdict's remedy uses; None when no remedy calls for them (then the
        robust fields of every row are None).
    estimator : str or None
        The estimator as the battery describes it (e.g. ``"Newey-West HAC,
        Bartlett kernel, 4 lags"``).
    source : str or None
        The test whose details hold the ratios (``"breusch_pagan"``...).
    reason : str or None
        Why these standard errors, in words.
    """

    rows: tuple[CoefficientRow, ...]
    level: float
    df_resid: int
    robust: str | None = None
    estimator: str | None = None
    source: str | None = None
    reason: str | None = None

    @property
    def material_terms(self) -> tuple[str, ...]:
        """Terms whose standard error changes materially or whose interval changes side of zero."""
        return tuple(row.term for row in self.rows if row.material or row.conclusion_changed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "df_resid": self.df_resid,
            "robust": self.robust,
            "estimator": self.estimator,
            "source": self.source,
            "reason": self.reason,
            "interval": "classical: Student t with df_resid; robust: normal, as statsmodels fit(cov_type=...)",
            "rows": [row.to_dict() for row in self.rows],
        }

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame indexed by term."""
        return pd.DataFrame([row.to_dict() for row in self.rows]).set_index("term")


def robust_choice(report) -> RobustChoice | None:
    """The robust standard errors the verdict's remedy uses, or None (see the module docstring).

    Reads the severities the checks decided, in the order cluster, HAC, HC3,
    and only tests whose details hold the ratios.
    """
    tests = report.tests

    def has(name: str, prefix: str) -> bool:
        result = tests.get(name)
        return result is not None and bool(result.details.get(f"{prefix}_se_ratios"))

    def troubled(name: str) -> bool:
        result = tests.get(name)
        return result is not None and result.severity in _TROUBLE

    if troubled("grouped_errors") and has("grouped_errors", "cluster"):
        group = tests["grouped_errors"].details.get("groups")
        return RobustChoice("cluster", "grouped_errors", f"errors are correlated within groups of {group!r}")
    for name in ("durbin_watson", "breusch_godfrey"):
        if troubled(name):
            source = next((n for n in ("durbin_watson", "breusch_godfrey") if has(n, "hac")), None)
            if source is not None:
                return RobustChoice("HAC", source, "errors are autocorrelated")
    heteroskedastic = any(f.assumption.value == "homoskedasticity" and f.severity in _TROUBLE
                          for f in report.verdict.findings)
    if heteroskedastic:
        source = next((n for n in ("breusch_pagan", *tests) if has(n, "hc3")), None)
        if source is not None:
            return RobustChoice("HC3", source, "the error variance is not constant")
    return None


def coefficient_table(report, level: float = 0.95) -> CoefficientTable:
    """Estimates, classical and robust standard errors and intervals of ``report``'s model.

    Parameters
    ----------
    report : Report
    level : float
        Coverage of the intervals.

    Returns
    -------
    CoefficientTable
        Its rows follow ``report.model.coefficients``; aliased terms are
        empty.

    Examples
    --------
    >>> import olscheck
    >>> from olscheck import datasets
    >>> report = olscheck.check(datasets.load("spending"), target="spending", probe=False)
    >>> table = report.coefficient_table()
    >>> table.robust
    'HC3'
    >>> round(table.rows[1].robust_std_error / table.rows[1].std_error, 3) == round(
    ...     report.tests["breusch_pagan"].details["hc3_se_ratios"]["income"], 3)
    True
    """
    model = report.model
    df_resid = int(model.df_resid)
    t_quantile = float(stats.t.ppf(0.5 + level / 2, df_resid)) if df_resid > 0 else math.nan
    z_quantile = float(stats.norm.ppf(0.5 + level / 2))
    choice = robust_choice(report)
    details = report.tests[choice.source].details if choice else {}
    prefix = ROBUST_KINDS[choice.kind] if choice else ""
    ratios, null_ratios, null_sds = {}, {}, {}
    for kind in (prefix, f"{prefix}_intercept"):  # the slopes' ratios, then the intercept's
        ratios.update(details.get(f"{kind}_se_ratios") or {})
        null_ratios.update(details.get(f"{kind}_se_null_ratios") or {})
        null_sds.update(details.get(f"{kind}_se_null_sds") or {})
    estimator = details.get(f"{prefix}_estimator") or (choice.kind if choice else None)
    smallest, noise = _materiality(report)

    rows = []
    for term, estimate in model.coefficients.items():
        term = str(term)
        estimate = _finite(estimate)
        se = _finite(model.std_errors.get(term))
        if estimate is None or se is None:
            rows.append(CoefficientRow(term, None, None, None, None, None, None))
            continue
        lower, upper = estimate - t_quantile * se, estimate + t_quantile * se
        ratio = _finite(ratios.get(term))
        robust_se = robust_lower = robust_upper = None
        material = changed = False
        if ratio is not None:
            robust_se = ratio * se
            robust_lower, robust_upper = estimate - z_quantile * robust_se, estimate + z_quantile * robust_se
            null = (None, None) if term not in null_ratios else ((null_ratios[term],), (null_sds[term],))
            change = StandardErrorChange((ratio,), (term,), str(estimator), *null)
            material = change.material(smallest, noise) is not None
            changed = (lower > 0 or upper < 0) != (robust_lower > 0 or robust_upper < 0)
        rows.append(CoefficientRow(
            term=term, estimate=estimate, std_error=se, t_value=_finite(model.t_values.get(term)),
            p_value=_finite(model.p_values.get(term)), lower=lower, upper=upper,
            robust_std_error=robust_se, robust_lower=robust_lower, robust_upper=robust_upper, se_ratio=ratio,
            material=material, conclusion_changed=changed,
        ))
    return CoefficientTable(
        rows=tuple(rows), level=level, df_resid=df_resid,
        robust=choice.kind if choice else None, estimator=str(estimator) if choice else None,
        source=choice.source if choice else None, reason=choice.reason if choice else None,
    )


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _materiality(report) -> tuple[float, float]:
    """``se_change_warn`` and ``se_change_noise`` of the thresholds the report was made with."""
    from ..thresholds import DEFAULT_THRESHOLDS

    chosen = dict(report.options.get("thresholds") or {})
    return (float(chosen.get("se_change_warn", DEFAULT_THRESHOLDS.se_change_warn)),
            float(chosen.get("se_change_noise", DEFAULT_THRESHOLDS.se_change_noise)))
