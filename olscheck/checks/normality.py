"""Normality of the errors: Jarque-Bera, Shapiro-Wilk and D'Agostino-Pearson.

All three test the OLS residuals. Their p-values shrink with n for any
departure, while the harm of non-normal errors to t and F tests fades with
n (central limit theorem), so severity also looks at the size of the
departure -- residual skewness and excess kurtosis -- and at the residual
degrees of freedom.

Effect size (the same for the three tests): of the residual skewness g1 and
excess kurtosis g2 = b2 - 3 (moments with divisor n), the one that is larger
relative to its cut-off (``Thresholds.skewness_warn``,
``Thresholds.excess_kurtosis_warn``); ``effect_name`` says which. Severity:

* p >= alpha: OK;
* p < alpha and df_resid > ``large_sample_n``: NOTE (inference on the
  coefficients is reliable; prediction intervals are not);
* p < alpha and |g1| > skewness_warn or |g2| > excess_kurtosis_warn: WARN;
* p < alpha with a smaller departure: NOTE.

References
----------
Jarque, C. M. & Bera, A. K. (1987). A test for normality of observations and
regression residuals. Int. Stat. Rev. 55, 163-172. Shapiro, S. S. & Wilk,
M. B. (1965). Biometrika 52, 591-611; Royston, P. (1995). Algorithm AS R94.
Appl. Stat. 44, 547-551. D'Agostino, R. B. & Pearson, E. S. (1973).
Biometrika 60, 613-622; D'Agostino, Belanger & D'Agostino (1990). Am. Stat.
44, 316-321.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import stats

from ..numerics.covariance import residual_moments
from ..report.result import Assumption, Severity, TestResult, not_computable, p_text_decimals
from ..numerics.scaling import binary_scaled
from ..thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["residual_moments", "octile_skewness", "shapiro_wilk", "omnibus", "normality_result",
           "jarque_bera_result"]

JARQUE_BERA_METHOD = "Jarque-Bera on the OLS residuals, chi-square with 2 df (tseries::jarque.bera.test)"
SHAPIRO_WILK_METHOD = "Shapiro-Wilk W on the OLS residuals, Royston's AS R94 (stats::shapiro.test)"
OMNIBUS_METHOD = (
    "D'Agostino-Pearson omnibus K² = Z(skewness)² + Z(kurtosis)² on the OLS residuals, chi-square with 2 df "
    "(scipy.stats.normaltest)"
)

#: Shapiro-Wilk's p-value approximation (Royston 1995) covers 3 <= n <= 5000,
#: the range R's shapiro.test accepts.
SHAPIRO_WILK_MIN_N, SHAPIRO_WILK_MAX_N = 3, 5000
#: D'Agostino's skewness transformation needs n >= 8 (D'Agostino 1970).
OMNIBUS_MIN_N = 8

_REMEDY = (
    "Look at a Q-Q plot of the residuals and at the largest residuals (outliers, a missing predictor, a "
    "skewed target). A log or Box-Cox transform of a positive skewed target often helps: "
    "`smf.ols('np.log(y) ~ x1 + x2', data).fit()`; for heavy tails a robust fit: `smf.rlm(formula, data).fit()`; "
    "or bootstrap the confidence intervals."
)


def _effect(skewness: float, kurtosis: float, thresholds: Thresholds) -> tuple[float, str, bool]:
    """(effect, effect_name, large): the moment furthest beyond its cut-off, relatively."""
    excess = kurtosis - 3.0

    def ratio(value: float, cut: float) -> float:
        if cut > 0:
            return abs(value) / cut
        return math.inf if value != 0 else 0.0

    skew_ratio = ratio(skewness, thresholds.skewness_warn)
    kurtosis_ratio = ratio(excess, thresholds.excess_kurtosis_warn)
    large = abs(skewness) > thresholds.skewness_warn or abs(excess) > thresholds.excess_kurtosis_warn
    if skew_ratio >= kurtosis_ratio:
        return skewness, "residual skewness", large
    return excess, "residual excess kurtosis", large


#: The normality family's primary test: Jarque-Bera (any n, from the moments the streaming engine also
#: accumulates). Shapiro-Wilk and the omnibus test are supporting evidence.
PRIMARY_TEST = "jarque_bera"


def octile_skewness(residuals: np.ndarray) -> float:
    """Hinkley's (1975) octile skewness of the residuals: (Q(7/8) + Q(1/8) - 2 Q(1/2)) / (Q(7/8) - Q(1/8)).

    A skewness measure from the bulk of the distribution, so a few extreme
    values of symmetric heavy-tailed errors barely move it (the moment
    skewness g1 is dominated by them). 0 for every symmetric law.
    """
    low, middle, high = np.quantile(np.asarray(residuals, dtype=float), [0.125, 0.5, 0.875])
    spread = high - low
    return float((high + low - 2.0 * middle) / spread) if spread > 0 else 0.0


def normality_result(name: str, method: str, statistic: float, p_value: float, df: tuple[float, ...] | None,
                     skewness: float, kurtosis: float, df_resid: int, thresholds: Thresholds,
                     details: dict[str, Any] | None = None, robust_skewness: float | None = None) -> TestResult:
    """The judged result of a normality test, from its statistic and the residual moments.

    A pure function of the numbers (no fit), shared by the in-memory tests
    and the streaming engine, so both give the same severity and wording.
    ``skewness`` and ``kurtosis`` are g1 and b2 of :func:`residual_moments`,
    ``robust_skewness`` the :func:`octile_skewness` (None: unknown).

    Severity: what non-normal errors do to OLS is mostly harmless. Symmetric
    heavy tails leave OLS unbiased and its t and F tests valid (Box 1953's
    robustness of validity; Lumley et al. 2002) and cost efficiency only;
    with many residual degrees of freedom the central limit theorem covers
    skewness too. What does mislead is strong *skewness* with few residual
    degrees of freedom. So:

    - WARN: the primary test (Jarque-Bera) has p < ``primary_level(1)``,
      residual df <= ``large_sample_n``, |g1| > ``skewness_warn`` and
      |octile skewness| > ``robust_skewness_warn`` (skewness of the bulk,
      not of a few tail values);
    - NOTE: p < ``alpha`` otherwise (heavy tails, a large sample, a
      supporting test);
    - OK: p >= ``alpha``.
    """
    effect, effect_name, _ = _effect(skewness, kurtosis, thresholds)
    shape = f"skewness {skewness:.2f}, excess kurtosis {kurtosis - 3.0:.2f}"
    pv = p_text_decimals(p_value)
    skewed = (abs(skewness) > thresholds.skewness_warn and robust_skewness is not None
              and abs(robust_skewness) > thresholds.robust_skewness_warn)
    if p_value >= thresholds.alpha:
        severity = Severity.OK
        message = f"OK: residuals are consistent with normal errors ({pv})."
    elif name == PRIMARY_TEST and p_value < thresholds.primary_level(1) and df_resid <= thresholds.large_sample_n \
            and skewed:
        severity = Severity.WARN
        message = (f"Warning: residuals are clearly skewed ({shape}, octile skewness {robust_skewness:.2f}; {pv}); "
                   f"with {df_resid} residual degrees of freedom t intervals of the coefficients can be off.")
    elif df_resid > thresholds.large_sample_n:
        severity = Severity.NOTE
        message = (
            f"Note: residuals are not normal ({shape}; {pv}), but with {df_resid} residual degrees of freedom "
            "t and F tests on the coefficients remain reliable; prediction intervals assume normal errors."
        )
    elif not skewed:
        severity = Severity.NOTE
        message = (f"Note: residuals are not normal ({shape}; {pv}) but not clearly skewed: heavy or light tails "
                   "leave OLS unbiased and its tests about right; normal-theory prediction intervals are off in "
                   "the tails, and a robust fit would be more efficient.")
    else:
        severity = Severity.NOTE
        message = (f"Note: residuals are skewed ({shape}; {pv}); supporting evidence: the normality decision rests "
                   f"on Jarque-Bera at the family-wise level {thresholds.primary_level(1):.3g}.")
    out_details = {"skewness": skewness, "kurtosis": kurtosis, "excess_kurtosis": kurtosis - 3.0}
    if robust_skewness is not None:
        out_details["octile_skewness"] = robust_skewness
    return TestResult(
        name=name,
        assumption=Assumption.NORMALITY,
        method=method,
        statistic=statistic,
        p_value=p_value,
        df=df,
        effect=effect,
        effect_name=effect_name,
        severity=severity,
        message=message,
        remedy=_REMEDY if severity is not Severity.OK else None,
        details={**out_details, **(details or {})},
    )


def jarque_bera_result(skewness: float, kurtosis: float, n: int, df_resid: int,
                       thresholds: Thresholds = DEFAULT_THRESHOLDS, robust_skewness: float | None = None) -> TestResult:
    """The Jarque-Bera result from the residual moments (g1, b2 with divisor n) and n.

    ``JB = n g1² / 6 + n (b2 - 3)² / 24``, chi-square with 2 df; shared by
    :func:`jarque_bera` and the streaming engine (which accumulates the
    moments).
    """
    statistic = n * skewness**2 / 6.0 + n * (kurtosis - 3.0) ** 2 / 24.0
    p_value = float(stats.chi2.sf(statistic, 2))
    return normality_result("jarque_bera", JARQUE_BERA_METHOD, statistic, p_value, (2,), skewness, kurtosis,
                            df_resid, thresholds, robust_skewness=robust_skewness)


def _judged(name: str, method: str, statistic: float, p_value: float, df: tuple[float, ...] | None,
            fit, thresholds: Thresholds, details: dict[str, Any]) -> TestResult:
    skewness, kurtosis = residual_moments(fit.residuals)
    return normality_result(name, method, statistic, p_value, df, skewness, kurtosis, fit.df_resid, thresholds,
                            details, robust_skewness=octile_skewness(fit.residuals))


def shapiro_wilk_rows_reason(n: int) -> str:
    """Why Shapiro-Wilk is not computed on ``n`` rows (outside 3..5000)."""
    return (f"Shapiro-Wilk's p-value approximation covers {SHAPIRO_WILK_MIN_N} to {SHAPIRO_WILK_MAX_N} observations; "
            f"this model has {n} (see jarque_bera and omnibus)")


def shapiro_wilk(fit, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """Shapiro-Wilk test of the residuals, R's ``shapiro.test``.

    W with Royston's (1995) coefficients and p-value approximation (AS R94);
    ``scipy.stats.shapiro`` implements the same algorithm as R's C code.
    Defined for 3 <= n <= 5000; outside, not computable.
    """
    n = fit.n
    if not SHAPIRO_WILK_MIN_N <= n <= SHAPIRO_WILK_MAX_N:
        return not_computable("shapiro_wilk", Assumption.NORMALITY, SHAPIRO_WILK_METHOD, shapiro_wilk_rows_reason(n))
    reason = fit.exact_fit_reason
    if reason is not None:
        return not_computable("shapiro_wilk", Assumption.NORMALITY, SHAPIRO_WILK_METHOD, reason)
    residuals = np.asarray(fit.residuals, dtype=float)
    # W is scale invariant; a power-of-two scale keeps tiny residuals away from
    # the underflow R guards against by dividing by the range
    result = stats.shapiro(binary_scaled(residuals))
    return _judged("shapiro_wilk", SHAPIRO_WILK_METHOD, float(result.statistic), float(result.pvalue), None,
                   fit, thresholds, {})


def omnibus(fit, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """D'Agostino-Pearson omnibus test of the residuals.

    ``K² = Z1(g1)² + Z2(b2)²`` with Z1 D'Agostino's (1970) normalising
    transformation of the skewness and Z2 Anscombe & Glynn's (1983) of the
    kurtosis (moments with divisor n), chi-square with 2 df under normality
    (``scipy.stats.normaltest``). Needs n >= 8.
    """
    n = fit.n
    if n < OMNIBUS_MIN_N:
        return not_computable(
            "omnibus", Assumption.NORMALITY, OMNIBUS_METHOD,
            f"D'Agostino's skewness transformation needs at least {OMNIBUS_MIN_N} observations; this model has {n}",
        )
    reason = fit.exact_fit_reason
    if reason is not None:
        return not_computable("omnibus", Assumption.NORMALITY, OMNIBUS_METHOD, reason)
    residuals = np.asarray(fit.residuals, dtype=float)
    scaled = binary_scaled(residuals)
    with warnings.catch_warnings():
        # scipy warns that the kurtosis test is approximate below n = 20;
        # the statistic is still the defined one and the report says so
        warnings.simplefilter("ignore", UserWarning)
        z_skewness = float(stats.skewtest(scaled).statistic)
        z_kurtosis = float(stats.kurtosistest(scaled).statistic)
    statistic = z_skewness**2 + z_kurtosis**2
    p_value = float(stats.chi2.sf(statistic, 2))
    details = {"z_skewness": z_skewness, "z_kurtosis": z_kurtosis}
    if n < 20:
        details["approximate"] = "the kurtosis z-score is a rough approximation below 20 observations"
    return _judged("omnibus", OMNIBUS_METHOD, statistic, p_value, (2,), fit, thresholds, details)


