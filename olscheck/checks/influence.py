"""Influential points: Cook's distance, leverage, studentized residuals.

Per-row measures, each O(n) from the residuals and the hat diagonal of the
fit (no n x n matrix):

* leverage ``h_i`` (R ``hatvalues``);
* Cook's distance ``D_i = e_i² h_i / (p s² (1 - h_i)²)`` (R
  ``cooks.distance``; p the rank, s² = RSS / (n - p));
* externally studentized residuals ``t_i = e_i / (s_(i) sqrt(1 - h_i))`` with
  ``s_(i)² = (RSS - e_i² / (1 - h_i)) / (n - p - 1)``, the residual variance
  without row i (R ``rstudent``);
* the Bonferroni outlier test on the largest ``|t_i|`` (``car::outlierTest``).

A row with leverage 1 (within R's ``10 * .Machine$double.eps``, as
``lm.influence``), e.g. the only row of a factor level, is fitted exactly and
its Cook's distance and studentized residual are undefined: R gives NaN;
here they are NaN in the per-row arrays, None in every reported number, and
counted in a note.

References
----------
Cook, R. D. (1977). Detection of influential observation in linear
regression. Technometrics 19, 15-18. Belsley, Kuh & Welsch (1980),
*Regression Diagnostics*, ch. 2. Cook & Weisberg (1982), *Residuals and
Influence in Regression*. Fox, J. (2016), *Applied Regression Analysis*, 3rd
ed., §11.3 (Bonferroni outlier test).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..result import Assumption, Severity, TestResult, clean_float, not_computable
from ..scaling import binary_scaled
from ..thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["InfluenceSummary", "summarize", "run", "influence_result", "outlier_test", "outlier_result",
           "LEVERAGE_ONE_TOLERANCE", "TOP_ROWS", "row_influence"]

INFLUENCE_METHOD = "Cook's distance with the 4/n screening cut-off (stats::cooks.distance)"
OUTLIER_METHOD = (
    "Bonferroni outlier test: largest |externally studentized residual|, t with n - p - 1 df, "
    "p multiplied by n (car::outlierTest)"
)

#: Leverage within this of 1 counts as 1 (R's lm.influence, tol = 10 * eps).
LEVERAGE_ONE_TOLERANCE = 10 * np.finfo(float).eps
#: Rows listed in the report, largest Cook's distance first.
TOP_ROWS = 5

#: Reasons shared with the streaming engine.
NO_COEFFICIENTS_REASON = "the model has no estimated coefficients"
ALL_LEVERAGE_ONE_REASON = "every row has leverage 1, so no Cook's distance is defined"

_REMEDY = (
    "Inspect the flagged rows for data errors; refit without them to see whether the conclusions change "
    "(`smf.ols(formula, data.drop(index=rows)).fit()`), or use a robust fit that downweights them: "
    "`smf.rlm(formula, data, M=sm.robust.norms.HuberT()).fit()`."
)


def json_row_label(value: Any) -> Any:
    """A row label as a JSON-ready value."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, str):
        return value
    if isinstance(value, (float, np.floating)):
        return clean_float(value)
    return str(value)


@dataclass(frozen=True, eq=False)
class InfluenceSummary:
    """Per-row influence measures, their maxima and the two results.

    Attributes
    ----------
    cooks_distance, leverage, studentized_residuals : ndarray, shape (n,)
        Per row, in analysis order; NaN where undefined (leverage-1 rows;
        studentized residuals also when n - p - 1 = 0). Reported numbers
        never carry NaN: see ``to_dict``.
    row_index : pandas.Index
        Labels of the rows, in the same order.
    cooks_threshold : float
        4 / n.
    max_cooks_distance, max_leverage, max_abs_studentized_residual : float or None
    argmax_row : label or None
        Label of the row with the largest Cook's distance.
    argmax_position : int or None
        Its 1-based position in analysis order (R's ``which.max``).
    n_influential : int
        Rows with Cook's distance > 4/n.
    n_leverage_one : int
        Rows with leverage 1, whose influence is undefined.
    results : Mapping[str, TestResult]
        ``"influence"`` and ``"outlier_test"``.
    """

    cooks_distance: np.ndarray
    leverage: np.ndarray
    studentized_residuals: np.ndarray
    row_index: pd.Index
    cooks_threshold: float | None
    max_cooks_distance: float | None
    argmax_row: Any
    argmax_position: int | None
    max_leverage: float | None
    max_abs_studentized_residual: float | None
    n_influential: int | None
    n_leverage_one: int
    reason: str | None = None
    results: Mapping[str, TestResult] = field(default_factory=lambda: MappingProxyType({}))

    def to_frame(self) -> pd.DataFrame:
        """Per-row measures as a DataFrame indexed by row label (NaN where undefined)."""
        return pd.DataFrame(
            {
                "cooks_distance": self.cooks_distance,
                "leverage": self.leverage,
                "studentized_residual": self.studentized_residuals,
            },
            index=self.row_index,
        )

    def top_rows(self, count: int = TOP_ROWS) -> list[dict[str, Any]]:
        """The ``count`` rows with the largest Cook's distance, JSON-ready."""
        defined = np.flatnonzero(np.isfinite(self.cooks_distance))
        if defined.size == 0:
            return []
        order = defined[np.argsort(-self.cooks_distance[defined], kind="stable")][:count]
        return [
            {
                "row": json_row_label(self.row_index[i]),
                "position": int(i) + 1,
                "cooks_distance": clean_float(self.cooks_distance[i]),
                "leverage": clean_float(self.leverage[i]),
                "studentized_residual": clean_float(self.studentized_residuals[i]),
            }
            for i in order
        ]

    def to_dict(self) -> dict[str, Any]:
        """The report schema's ``influence`` object, JSON-ready (None, never NaN)."""
        out: dict[str, Any] = {
            "max_cooks_distance": clean_float(self.max_cooks_distance),
            "n_influential": self.n_influential,
            "max_leverage": clean_float(self.max_leverage),
            "max_abs_studentized_residual": clean_float(self.max_abs_studentized_residual),
            "cooks_threshold": clean_float(self.cooks_threshold),
            "max_cooks_distance_row": json_row_label(self.argmax_row) if self.argmax_row is not None else None,
            "max_cooks_distance_position": self.argmax_position,
            "n_leverage_one": self.n_leverage_one,
            "top_rows": self.top_rows(),
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


def _precondition(fit) -> str | None:
    """Why no influence measure is defined: no coefficients, or the residuals are not a sample of errors."""
    if fit.rank == 0:
        return NO_COEFFICIENTS_REASON
    return fit.exact_fit_reason


def influence_measures(residuals: np.ndarray, leverage: np.ndarray, rank: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cook's distance, externally studentized residuals and the leverage-one mask.

    Parameters
    ----------
    residuals, leverage : ndarray, shape (n,)
    rank : int
        Number of estimated coefficients p.

    Returns
    -------
    cooks, studentized : ndarray, shape (n,)
        NaN where undefined.
    leverage_one : ndarray of bool

    Notes
    -----
    Residuals are divided by a power of two near their largest magnitude
    first (exact; both measures are scale free), so squares stay finite.
    ``RSS - e_i² / (1 - h_i)`` is the residual sum of squares without row i
    and cannot be negative; rounding can push it below zero when row i
    carries nearly all of the RSS, so it is clipped at 0.
    """
    e = binary_scaled(np.asarray(residuals, dtype=float))
    return row_influence(e, np.asarray(leverage, dtype=float), rank, float(e @ e), e.size - rank)


def row_influence(residuals: np.ndarray, leverage: np.ndarray, rank: int, rss: float, df_resid: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`influence_measures` for some rows of a fit, given the fit's RSS and residual df.

    ``cooks_i = e_i² h_i / (p s² (1 - h_i)²)`` and ``t_i = e_i / (s_(i)
    sqrt(1 - h_i))`` with ``s_(i)² = (RSS - e_i²/(1 - h_i)) / (df - 1)``;
    the streaming engine calls it per chunk with the whole fit's RSS.
    """
    e, h = residuals, leverage
    leverage_one = h >= 1.0 - LEVERAGE_ONE_TOLERANCE
    complement = np.where(leverage_one, np.nan, 1.0 - h)
    s2 = rss / df_resid if df_resid > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        cooks = e * e * h / (rank * s2 * complement * complement)
        if df_resid - 1 > 0:
            deleted_rss = np.maximum(rss - e * e / complement, 0.0)
            studentized = e / (np.sqrt(deleted_rss / (df_resid - 1)) * np.sqrt(complement))
        else:
            studentized = np.full(e.size, np.nan)
    cooks[~np.isfinite(cooks)] = np.nan
    studentized[~np.isfinite(studentized)] = np.nan
    return cooks, studentized, leverage_one


def _fmt(value: float) -> str:
    return f"{value:.3g}"


def _row_phrase(label: Any) -> str:
    return f"the row labelled {json_row_label(label)!r}"


def influence_result(summary: InfluenceSummary, n: int, thresholds: Thresholds) -> TestResult:
    """The ``"influence"`` result, from Cook's distance.

    FAIL when the largest Cook's distance exceeds ``cooks_distance_fail``
    (Cook & Weisberg 1982); WARN when the share of rows above 4/n exceeds
    ``influential_share_warn``; NOTE when leverage-1 rows hide their
    influence; OK otherwise. Effect: the largest Cook's distance.
    """
    largest = summary.max_cooks_distance
    share = summary.n_influential / n
    where = _row_phrase(summary.argmax_row)
    counted = f"{summary.n_influential} of {n} rows above 4/n = {_fmt(summary.cooks_threshold)}"
    leverage_note = ""
    if summary.n_leverage_one:
        several = summary.n_leverage_one > 1
        leverage_note = (
            f" {summary.n_leverage_one} row{'s have' if several else ' has'} leverage 1 (fitted exactly, e.g. the "
            f"only row of a category), so {'their' if several else 'its'} influence cannot be measured."
        )
    if largest > thresholds.cooks_distance_fail:
        severity = Severity.FAIL
        message = (
            f"Problem: {where} moves the fit strongly (Cook's distance {_fmt(largest)} > "
            f"{_fmt(thresholds.cooks_distance_fail)}); {counted}." + leverage_note
        )
    elif share > thresholds.influential_share_warn:
        severity = Severity.WARN
        message = (
            f"Warning: many influential rows: {counted} ({share:.0%}, more than "
            f"{thresholds.influential_share_warn:.0%}); the largest Cook's distance is {_fmt(largest)} at {where}."
            + leverage_note
        )
    elif summary.n_leverage_one:
        severity = Severity.NOTE
        message = (
            f"Note: no row dominates the fit (max Cook's distance {_fmt(largest)} at {where}; {counted})."
            + leverage_note
        )
    else:
        severity = Severity.OK
        message = f"OK: no row dominates the fit (max Cook's distance {_fmt(largest)} at {where}; {counted})."
    return TestResult(
        name="influence",
        assumption=Assumption.NO_INFLUENTIAL_POINTS,
        method=INFLUENCE_METHOD,
        statistic=largest,
        p_value=None,
        effect=largest,
        effect_name="max Cook's distance",
        severity=severity,
        message=message,
        remedy=_REMEDY if severity in (Severity.WARN, Severity.FAIL) else None,
        details={
            "cooks_threshold": summary.cooks_threshold,
            "n_influential": summary.n_influential,
            "share_influential": share,
            "row": json_row_label(summary.argmax_row),
            "position": summary.argmax_position,
            "n_leverage_one": summary.n_leverage_one,
        },
    )


def outlier_test(studentized: np.ndarray, row_index: pd.Index, df_resid: int,
                 thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """Bonferroni test of the largest absolute studentized residual (``car::outlierTest``).

    Under the mean-shift outlier model ``t_i`` follows t with n - p - 1 df;
    for the largest ``|t_i|`` the two-sided p-value is multiplied by the
    number m of rows with a defined ``t_i`` and capped at 1 (car prints NA
    above 1). WARN when the Bonferroni p-value is below alpha.
    """
    defined = np.flatnonzero(np.isfinite(studentized))
    if defined.size == 0:
        return outlier_result(None, 0, df_resid, None, None, thresholds)
    i = int(defined[np.argmax(np.abs(studentized[defined]))])
    return outlier_result(float(studentized[i]), int(defined.size), df_resid, row_index[i], i, thresholds)


def outlier_result(t_value: float | None, n_tested: int, df_resid: int, label: Any, position: int | None,
                   thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """The Bonferroni outlier result from the largest |studentized residual|.

    A pure function of the numbers, shared by :func:`outlier_test` and the
    streaming engine (which keeps only the extreme row). ``t_value`` is the
    studentized residual of largest magnitude (None when no row has one),
    ``n_tested`` the number of rows with a defined one (the Bonferroni
    factor m), ``label`` and ``position`` (0-based, analysis order) locate
    its row.
    """
    if t_value is None or df_resid - 1 <= 0:
        reason = (
            "no residual degrees of freedom remain once a row is deleted (n - p - 1 = 0)"
            if df_resid - 1 <= 0 else "no row has a defined studentized residual"
        )
        return not_computable("outlier_test", Assumption.NO_INFLUENTIAL_POINTS, OUTLIER_METHOD, reason)
    df = df_resid - 1
    p_single = float(2.0 * stats.t.sf(abs(t_value), df))
    p_bonferroni = min(1.0, n_tested * p_single)
    where = _row_phrase(label)
    if p_bonferroni < thresholds.alpha:
        severity = Severity.WARN
        message = (
            f"Warning: {where} is an outlier (studentized residual {t_value:.2f}, Bonferroni p = "
            f"{p_bonferroni:.2g})."
        )
        remedy = _REMEDY
    else:
        severity = Severity.OK
        message = (
            f"OK: no outlier; the largest |studentized residual| is {abs(t_value):.2f} at {where} "
            f"(Bonferroni p = {p_bonferroni:.2g})."
        )
        remedy = None
    return TestResult(
        name="outlier_test",
        assumption=Assumption.NO_INFLUENTIAL_POINTS,
        method=OUTLIER_METHOD,
        statistic=t_value,
        p_value=p_bonferroni,
        df=(df,),
        effect=abs(t_value),
        effect_name="max |studentized residual|",
        severity=severity,
        message=message,
        remedy=remedy,
        details={"p_value_unadjusted": p_single, "row": json_row_label(label), "position": position + 1,
                 "n_tested": int(n_tested)},
    )


def summarize(fit, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> InfluenceSummary:
    """Influence measures of a fitted model, with the ``influence`` and ``outlier_test`` results.

    Matches R's ``cooks.distance``, ``hatvalues``, ``rstudent`` and
    ``car::outlierTest`` (see the module docstring). O(n) time and memory
    beyond the fit.
    """
    n = fit.n
    row_index = fit.design.row_index if fit.design.row_index is not None else pd.RangeIndex(n)
    leverage = np.array(fit.leverage, dtype=float)  # a copy: it is frozen below
    reason = _precondition(fit) if n else "no rows"
    if reason is not None:
        empty = np.full(n, np.nan)
        leverage_one = int(np.sum(leverage >= 1.0 - LEVERAGE_ONE_TOLERANCE))
        for array in (empty, leverage):
            array.setflags(write=False)
        summary = InfluenceSummary(
            cooks_distance=empty, leverage=leverage, studentized_residuals=empty, row_index=row_index,
            cooks_threshold=4.0 / n if n else None, max_cooks_distance=None, argmax_row=None, argmax_position=None,
            max_leverage=clean_float(np.max(leverage)) if n else None, max_abs_studentized_residual=None,
            n_influential=None, n_leverage_one=leverage_one, reason=reason,
        )
        results = {
            "influence": not_computable("influence", Assumption.NO_INFLUENTIAL_POINTS, INFLUENCE_METHOD, reason),
            "outlier_test": not_computable("outlier_test", Assumption.NO_INFLUENTIAL_POINTS, OUTLIER_METHOD, reason),
        }
        return _with_results(summary, results)

    cooks, studentized, leverage_one = influence_measures(fit.residuals, leverage, fit.rank)
    # R's lm.influence reports such rows' hat value as exactly 1
    leverage[leverage_one] = 1.0
    for array in (cooks, studentized, leverage):
        array.setflags(write=False)
    defined = np.isfinite(cooks)
    threshold = 4.0 / n
    if defined.any():
        position = int(np.flatnonzero(defined)[np.argmax(cooks[defined])])
        max_cooks, argmax_row, argmax_position = float(cooks[position]), row_index[position], position + 1
    else:
        max_cooks, argmax_row, argmax_position = None, None, None
    studentized_defined = np.isfinite(studentized)
    summary = InfluenceSummary(
        cooks_distance=cooks,
        leverage=leverage,
        studentized_residuals=studentized,
        row_index=row_index,
        cooks_threshold=threshold,
        max_cooks_distance=max_cooks,
        argmax_row=argmax_row,
        argmax_position=argmax_position,
        max_leverage=float(np.max(leverage)),
        max_abs_studentized_residual=(
            float(np.max(np.abs(studentized[studentized_defined]))) if studentized_defined.any() else None
        ),
        n_influential=int(np.sum(cooks[defined] > threshold)),
        n_leverage_one=int(np.sum(leverage_one)),
    )
    if max_cooks is None:
        influence = not_computable("influence", Assumption.NO_INFLUENTIAL_POINTS, INFLUENCE_METHOD,
                                   ALL_LEVERAGE_ONE_REASON)
    else:
        influence = influence_result(summary, n, thresholds)
    results = {
        "influence": influence,
        "outlier_test": outlier_test(studentized, row_index, fit.df_resid, thresholds),
    }
    return _with_results(summary, results)


def _with_results(summary: InfluenceSummary, results: dict[str, TestResult]) -> InfluenceSummary:
    return replace(summary, results=MappingProxyType(results))


def run(fit, thresholds: Thresholds = DEFAULT_THRESHOLDS, **options: Any) -> dict[str, TestResult]:
    """``{"influence": ..., "outlier_test": ...}`` for ``fit``."""
    return dict(summarize(fit, thresholds).results)
