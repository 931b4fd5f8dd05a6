"""Independence beyond row order: are the errors correlated within groups?

Rows that share a group (a customer, a store, a school, repeated measures of
one subject) often share part of their error. The row-order tests
(:mod:`olscheck.checks.autocorrelation`) cannot see that; with ``groups=``
this module tests it and measures what it does to the inference:

* the **intraclass correlation** of the residuals, the one-way ANOVA
  estimator for unbalanced groups,

      ICC = (MSB - MSW) / (MSB + (n0 - 1) MSW),
      n0 = (N - sum_g n_g² / N) / (G - 1),

  with MSB and MSW the between- and within-group mean squares (Searle,
  Casella & McCulloch, *Variance Components*, 1992, §3.6). It can be
  negative (down to -1/(n0 - 1)); messages show it clipped at 0, the
  details keep the raw value;
* **Honda's one-sided LM test** of no group effect (Honda 1985; Baltagi &
  Li 1990 for unbalanced groups), on the OLS residuals e:

      LM    = n² / (2 sum_g n_g (n_g - 1)) · (sum_g (sum_{i in g} e_i)² / sum_i e_i² - 1)²,
      Honda = sign(...) · sqrt(LM) ~ N(0, 1) under no group effect,

  p = P(Z > Honda): R's ``plm::plmtest(fit, effect = "individual",
  type = "honda")`` on the pooled model;
* the **consequence**: cluster-robust (CR1) standard errors over the
  classical ones, per slope. With g_j = Q u_j the unit slope directions
  (:attr:`olscheck.model.fit.LinearFit.coefficient_directions`),

      ratio_j = sqrt(c · sum_g (sum_{i in g} g_ij e_i)² / sigma²),
      c = G / (G - 1) · (n - 1) / (n - k),

  statsmodels' ``cov_type="cluster"`` and R's ``sandwich::vcovCL(fit,
  cluster = ~g, type = "HC1")``. Under independent errors the ratio's
  square has mean about 1 and variance about
  ``2 sum_g A_g² + (kappa - 3) sum_i g_ij⁴`` (A_g = sum_{i in g} g_ij²,
  kappa the residual kurtosis), so the ratio's SD is about half the
  square root of that (delta method): few or very unequal groups make
  the cluster-robust standard error itself noisy.

Severity (the independence family has two primary tests with groups: the
row order and the groups): WARN when p < ``thresholds.primary_level(2)``
and the cluster-robust change of some slope's standard error is material
(:meth:`olscheck.numerics.covariance.StandardErrorChange.material` with
``se_change_warn`` and ``se_change_noise``); NOTE when p < ``alpha``
otherwise; OK else.

References
----------
Honda, Y. (1985). Testing the error components model with non-normal
disturbances. *Review of Economic Studies* 52, 681-690.
Baltagi, B. H. & Li, Q. (1990). A Lagrange multiplier test for the error
components model with incomplete panels. *Econometric Reviews* 9, 103-107.
Liang, K.-Y. & Zeger, S. L. (1986). Longitudinal data analysis using
generalized linear models. *Biometrika* 73, 13-22 (the cluster sandwich).
Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to
cluster-robust inference. *Journal of Human Resources* 50, 317-372 (CR1).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..numerics.covariance import StandardErrorChange, residual_moments
from ..errors import ConfigurationError
from ..report.result import Assumption, Severity, TestResult, not_computable, p_text_decimals
from ..thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["run", "grouped_errors", "intraclass_correlation", "honda", "cluster_change", "INDEPENDENCE_PRIMARIES",
           "METHOD", "EFFECT_NAME"]

NAME = "grouped_errors"
#: Primary tests of the independence family when groups are given: the row order (Durbin-Watson) and the groups.
INDEPENDENCE_PRIMARIES = 2
EFFECT_NAME = "intraclass correlation of the residuals"
METHOD = (
    "Honda's one-sided LM test of no group effect on the OLS residuals, n/sqrt(2 sum n_g(n_g-1)) "
    "(sum_g (sum e)² / sum e² - 1) ~ N(0, 1) (Honda 1985; Baltagi & Li 1990 for unbalanced groups; "
    "plm::plmtest(fit, effect = \"individual\", type = \"honda\") on the pooled model), with the one-way ANOVA "
    "intraclass correlation of the residuals and cluster-robust CR1 standard errors "
    "(sandwich::vcovCL(fit, cluster = ~group, type = \"HC1\"); statsmodels cov_type=\"cluster\")"
)

#: Rows per block of the O(n k) pass over the slope directions (the n x k matrix exists one block at a time).
_BLOCK_ROWS = 1 << 16


def _codes(groups: Any, n: int) -> tuple[np.ndarray, int, str | None]:
    """Integer codes 0..G-1 of the group labels (in order of appearance), G, and the column's name."""
    name = getattr(groups, "name", None)
    labels = groups.to_numpy() if isinstance(groups, (pd.Series, pd.Index)) else np.asarray(groups, dtype=object)
    if labels.ndim != 1 or labels.shape[0] != n:
        raise ConfigurationError(
            f"groups must hold one label per row used by the fit ({n} rows), not an array of shape {labels.shape}."
        )
    codes, uniques = pd.factorize(labels, sort=False)
    if (codes < 0).any():
        raise ConfigurationError("groups holds missing labels; drop those rows before fitting (olscheck.check does).")
    return codes.astype(np.intp), int(len(uniques)), None if name is None else str(name)


def intraclass_correlation(residuals: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[float, float]:
    """The one-way ANOVA intraclass correlation of ``residuals`` by group, and the n0 it uses.

    ``(MSB - MSW) / (MSB + (n0 - 1) MSW)`` with ``n0 = (N - sum n_g² / N) / (G - 1)``;
    NaN when both mean squares are zero.
    """
    e = np.asarray(residuals, dtype=float)
    n = e.size
    sizes = np.bincount(codes, minlength=n_groups).astype(float)
    means = np.bincount(codes, weights=e, minlength=n_groups) / sizes
    grand = float(e.mean())
    between = float(sizes @ (means - grand) ** 2) / (n_groups - 1)
    within_deviations = e - means[codes]
    within = float(within_deviations @ within_deviations) / (n - n_groups) if n > n_groups else 0.0
    n0 = (n - float(sizes @ sizes) / n) / (n_groups - 1)
    denominator = between + (n0 - 1.0) * within
    icc = (between - within) / denominator if denominator > 0 else math.nan
    return float(icc), float(n0)


def honda(residuals: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[float, float]:
    """Honda's statistic (standard normal under no group effect) and its one-sided p-value P(Z > Honda).

    ``n / sqrt(2 sum_g n_g (n_g - 1)) · (sum_g (sum_{i in g} e_i)² / sum e_i² - 1)``; NaN without a group
    of two rows or with zero residuals.
    """
    e = np.asarray(residuals, dtype=float)
    n = e.size
    sizes = np.bincount(codes, minlength=n_groups).astype(float)
    pairs = float(sizes @ (sizes - 1.0))
    total = float(e @ e)
    if pairs <= 0 or total <= 0:
        return math.nan, math.nan
    sums = np.bincount(codes, weights=e, minlength=n_groups)
    statistic = n / math.sqrt(2.0 * pairs) * (float(sums @ sums) / total - 1.0)
    return float(statistic), float(stats.norm.sf(statistic))


def cluster_change(fit, codes: np.ndarray, n_groups: int) -> StandardErrorChange | None:
    """CR1 cluster-robust over classical standard errors per slope, with their null means and SDs.

    None without slopes, residual degrees of freedom or a non-zero residual sum of squares. The null
    ratio is 1 (the CR1 factor is the usual small-sample correction of the sandwich's bias) and the null
    SD ``sqrt(2 sum_g A_g² + (kappa - 3) sum_i g_ij⁴) / 2``, A_g = sum_{i in g} g_ij² (module docstring).
    The intercept's ratio, from the same pass, is attached as the change's ``intercept`` (the coefficient
    table's robust interval; no severity reads it).
    """
    if fit.df_resid < 1 or fit.rss <= 0:
        return None
    names = tuple(fit.column_names)
    first_slope = 1 if fit.has_intercept else 0
    if len(names) <= first_slope:
        return None
    directions = fit.coefficient_directions
    k = len(names)
    e = fit.residuals
    score_sums = np.zeros((n_groups, k))
    weight_sums = np.zeros((n_groups, k))  # A_g per coefficient
    fourth = np.zeros(k)
    for first in range(0, fit.n, _BLOCK_ROWS):
        stop = min(first + _BLOCK_ROWS, fit.n)
        g = fit.q_rows(slice(first, stop)) @ directions.T
        block_codes = codes[first:stop]
        squares = g * g
        fourth += np.einsum("ij,ij->j", squares, squares)
        scores = g * e[first:stop, None]
        for j in range(k):
            score_sums[:, j] += np.bincount(block_codes, weights=scores[:, j], minlength=n_groups)
            weight_sums[:, j] += np.bincount(block_codes, weights=squares[:, j], minlength=n_groups)
    meat = np.einsum("gj,gj->j", score_sums, score_sums)
    factor = n_groups / (n_groups - 1.0) * (fit.n - 1.0) / (fit.n - fit.rank)
    sigma2 = fit.rss / fit.df_resid
    ratios = [float(r) for r in np.sqrt(factor * meat / sigma2)]
    kurtosis = residual_moments(e)[1]
    variance = 2.0 * np.einsum("gj,gj->j", weight_sums, weight_sums) + (kurtosis - 3.0) * fourth
    null_sds = [float(s) for s in np.sqrt(np.clip(variance, 0.0, None)) / 2.0]
    estimator = f"cluster-robust CR1, {n_groups} groups"
    intercept = None
    if fit.has_intercept:
        intercept = StandardErrorChange((ratios[0],), (names[0],), estimator, (1.0,), (null_sds[0],))
    slopes = slice(first_slope, k)
    return StandardErrorChange(tuple(ratios[slopes]), names[slopes], estimator, (1.0,) * (k - first_slope),
                               tuple(null_sds[slopes]), intercept)


def _severity(p_value: float, change: StandardErrorChange | None, thresholds: Thresholds) -> Severity:
    material = change is not None and change.material(thresholds.se_change_warn, thresholds.se_change_noise) is not None
    if p_value < thresholds.primary_level(INDEPENDENCE_PRIMARIES) and material:
        return Severity.WARN
    if p_value < thresholds.alpha:
        return Severity.NOTE
    return Severity.OK


def _change_text(change: StandardErrorChange | None) -> str:
    """"the cluster-robust standard error of x is 1.85 times the classical one" (the slope that moves most)."""
    if change is None or change.worst is None:
        return ""
    ratio = change.ratios[change.names.index(change.worst)]
    return f"the cluster-robust standard error of {change.worst} is {ratio:.2f} times the classical one"


def _remedy(fit, group: str) -> str:
    from ..verdict import remedies

    cluster, mixed = remedies.grouped_code(fit.design, group)
    columns = list(dict.fromkeys([fit.design.target, *fit.design.predictors, group]))
    return (
        f"Use standard errors robust to correlation within groups of {group!r} (cluster-robust, CR1): with "
        f"`data = df.dropna(subset={columns!r})`, `{cluster}`; or model the group effect with a random "
        f"intercept per group: `{mixed}`."
    )


def grouped_errors(fit, groups: Any, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """The grouped-errors result: ICC, Honda's test and the cluster-robust consequence (module docstring).

    ``groups`` holds one label per row of the fit, in the fit's row order (a pandas Series named after
    its column, as :attr:`olscheck.model.design.Design.groups`, or any array of labels).
    """
    codes, n_groups, name = _codes(groups, fit.n)
    group = name or "group"
    if n_groups < 2:
        return not_computable(NAME, Assumption.INDEPENDENCE, METHOD, f"the rows used fall in a single group of {group!r}")
    if n_groups == fit.n:
        return not_computable(NAME, Assumption.INDEPENDENCE, METHOD,
                              f"every row used is a group of its own in {group!r}, so no two rows share a group")
    reason = fit.exact_fit_reason
    if reason is not None:
        return not_computable(NAME, Assumption.INDEPENDENCE, METHOD, reason)
    e = fit.residuals
    statistic, p_value = honda(e, codes, n_groups)
    if not math.isfinite(statistic):
        return not_computable(NAME, Assumption.INDEPENDENCE, METHOD, "the residuals are all zero")
    icc, n0 = intraclass_correlation(e, codes, n_groups)
    shown_icc = max(icc, 0.0) if math.isfinite(icc) else icc
    change = cluster_change(fit, codes, n_groups)
    severity = _severity(p_value, change, thresholds)
    sizes = np.bincount(codes, minlength=n_groups)
    pv = p_text_decimals(p_value)
    consequence = _change_text(change)
    where = f"within groups of {group!r} ({n_groups} groups)"
    if severity is Severity.WARN:
        message = (f"Warning: residuals are correlated {where}: intraclass correlation {shown_icc:.2f}, {pv}; "
                   f"{consequence}, so classical standard errors and p-values are off.")
    elif severity is Severity.NOTE:
        message = (f"Note: residuals show some correlation {where}: intraclass correlation {shown_icc:.2f}, {pv}; "
                   + (f"{consequence}, " if consequence else "")
                   + f"short of a warning (that needs p < {thresholds.primary_level(INDEPENDENCE_PRIMARIES):.3g}, "
                   "the family-wise level, and a material change of a cluster-robust standard error).")
    else:
        message = (f"OK: no evidence of correlation {where} (intraclass correlation {shown_icc:.2f}, {pv}"
                   + (f"; {consequence}" if consequence else "") + ").")
    details: dict[str, Any] = {
        "groups": group,
        "icc": icc,
        "icc_n0": n0,
        "lm_statistic": statistic * statistic,
        "n_groups": n_groups,
        "group_size_mean": float(sizes.mean()),
        "group_size_min": int(sizes.min()),
        "group_size_max": int(sizes.max()),
    }
    if change is not None:
        details.update(change.detail_fields("cluster", estimator=True))
        details["cluster_correction"] = n_groups / (n_groups - 1.0) * (fit.n - 1.0) / (fit.n - fit.rank)
    return TestResult(
        name=NAME,
        assumption=Assumption.INDEPENDENCE,
        method=METHOD,
        statistic=statistic,
        p_value=p_value,
        effect=shown_icc,
        effect_name=EFFECT_NAME,
        severity=severity,
        message=message,
        remedy=_remedy(fit, group) if severity is not Severity.OK else None,
        details=details,
    )


def run(fit, groups: Any, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> dict[str, TestResult]:
    """``{"grouped_errors": ...}`` for ``fit`` and the group of each of its rows (:func:`grouped_errors`)."""
    return {NAME: grouped_errors(fit, groups, thresholds)}
