"""Homoskedasticity: does the error variance change with the regressors, the fitted values or over time?

Five tests, each matching an R function:

============================  ==============================================  ===============================
report name                   what is regressed / compared                    R
============================  ==============================================  ===============================
``breusch_pagan``             e² on the model's regressors, Koenker n·R²      ``lmtest::bptest(fit)``
``breusch_pagan_original``    e²/σ̂² on the regressors, ESS/2                  ``bptest(fit, studentize=FALSE)``
``white``                     e² on regressors, squares, cross-products       ``bptest(fit, ~ full White set)``
``goldfeld_quandt``           residual variance, second half / first half     ``lmtest::gqtest(fit)``
``ncv_fitted``                e²/σ̂² on the fitted values, ESS/2               ``car::ncvTest(fit)``
============================  ==============================================  ===============================

Every auxiliary regression goes through :func:`olscheck.numerics.lstsq.least_squares`.
Subset refits (Goldfeld-Quandt) regress the model's residuals rather than the
target on the subset's regressors: ``y - e`` lies in the column space of every
row subset of X, so the subset residuals are the same, and the large fitted
part never enters the arithmetic.

References
----------
Breusch, T. S. & Pagan, A. R. (1979). A simple test for heteroscedasticity
and random coefficient variation. *Econometrica* 47, 1287-1294.
Koenker, R. (1981). A note on studentizing a test for heteroscedasticity.
*Journal of Econometrics* 17, 107-112.
White, H. (1980). A heteroskedasticity-consistent covariance matrix
estimator and a direct test for heteroskedasticity. *Econometrica* 48,
817-838.
Wooldridge, J. M. (2013). *Introductory Econometrics*, 5th ed., §8.3 (the
special White test on fitted values).
Goldfeld, S. M. & Quandt, R. E. (1965). Some tests for homoscedasticity.
*JASA* 60, 539-547.
Cook, R. D. & Weisberg, S. (1983). Diagnostics for heteroscedasticity in
regression. *Biometrika* 70, 1-10.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ..numerics.covariance import StandardErrorChange
from ..numerics.lstsq import LeastSquares, least_squares
from ..model.fit import NO_COEFFICIENTS_REASON, LinearFit  # noqa: F401 (the battery reads het.NO_COEFFICIENTS_REASON)
from ..report.result import Assumption, Severity, TestResult, not_computable, p_text
from ..numerics.scaling import binary_scaled
from ..thresholds import DEFAULT_THRESHOLDS, Thresholds


ASSUMPTION = Assumption.HOMOSKEDASTICITY

#: Largest number of terms the full White regression is built with,
#: whatever n. The auxiliary QR costs O(n m²) for m terms; beyond a few
#: hundred terms the special (fitted, fitted²) form answers the same
#: question in O(n). A computational cap, not a statistical cut-off.
WHITE_MAX_TERMS = 300

_REMEDY = (
    "Use heteroskedasticity-robust standard errors: "
    "`smf.ols(formula, data).fit(cov_type=\"HC3\")`; or model the variance "
    "(weighted least squares, `smf.wls(formula, data, weights=1 / variance).fit()`, "
    "or a log or Box-Cox transformation of the target)."
)

METHOD_BP = "Breusch-Pagan, Koenker studentized n·R², regressors of the model (lmtest::bptest)"
METHOD_BP_ORIGINAL = "Breusch-Pagan 1979, ESS/2 of e²/σ̂² on the regressors of the model (lmtest::bptest, studentize = FALSE)"
_METHOD_WHITE_FULL = (
    "White, full form: e² on the regressors, their squares and cross-products, Koenker n·R² "
    "(lmtest::bptest with that variance formula)"
)
METHOD_WHITE_SPECIAL = (
    "White, special form: e² on fitted and fitted² (Wooldridge), Koenker n·R² "
    "(lmtest::bptest(fit, ~ fitted + I(fitted^2)))"
)
_METHOD_WHITE_FALLBACK = (
    "White, special form: e² on fitted and fitted² (Wooldridge), used because the full form has too many "
    "terms for n; Koenker n·R² (lmtest::bptest(fit, ~ fitted + I(fitted^2)))"
)
METHOD_GQ = "Goldfeld-Quandt F, second half over first half in data order, alternative 'greater' (lmtest::gqtest)"
#: Reasons shared with the streaming engine.
NO_REGRESSOR_REASON = "the model has no regressor besides the intercept"
CONSTANT_FITTED_REASON = "the fitted values are constant"
SPECIAL_FORM_REASON = "the special form needs non-constant fitted values"
WHITE_SPECIAL_EFFECT = "auxiliary R² (e² on fitted, fitted²)"
FITTED_FINDING = "the error variance changes with the fitted values"
REGRESSORS_EFFECT = "auxiliary R² (e² on the regressors)"
REGRESSORS_FINDING = "the error variance changes with the regressors"
NCV_EFFECT = "auxiliary R² (e² on the fitted values)"

METHOD_NCV = "Cook-Weisberg score test on the fitted values, ESS/2 of e²/σ̂² on fitted, 1 df (car::ncvTest)"


# ---------------------------------------------------------------------------
# shared pieces
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class _VarianceRegression:
    """Least squares of w = e² - σ̂² (σ̂² = RSS/n) on some regressors.

    ``explained`` is the (centred, when an intercept is fitted) explained sum
    of squares, ``total`` is sum(w²), ``rank`` the auxiliary rank.
    """

    explained: float
    total: float
    rank: int
    sigma2_ml: float
    n: int

    @property
    def r_squared(self) -> float:
        return self.explained / self.total

    @property
    def koenker(self) -> float:
        """n·ESS/sum(w²): Koenker's studentized statistic, R's bptest default."""
        return self.n * self.explained / self.total

    @property
    def half_explained(self) -> float:
        """ESS/2 of e²/σ̂² - 1, the Breusch-Pagan (1979) and Cook-Weisberg statistic."""
        return 0.5 * self.explained / self.sigma2_ml**2


def _variance_regression(fit: LinearFit, z: np.ndarray, intercept: bool) -> _VarianceRegression:
    """e² (centred) on the columns ``z`` (White's full form), plus an intercept when ``intercept``."""
    squared = fit.residuals * fit.residuals
    sigma2_ml = float(squared.mean())
    w = squared - sigma2_ml
    aux: LeastSquares = least_squares(z, w, intercept=intercept)
    fitted, rank = aux.fitted, aux.rank
    # explained part computed directly, not as TSS - RSS, so a tiny R² keeps its digits
    shift = float(w.mean()) if intercept else 0.0
    explained_part = fitted - shift
    return _VarianceRegression(
        explained=float(explained_part @ explained_part),
        total=float(w @ w),
        rank=rank,
        sigma2_ml=sigma2_ml,
        n=fit.n,
    )


def equal_squares_reason(smallest_square: float, largest_square: float) -> str | None:
    """Why no regression can explain the squared residuals (they are all equal), or None."""
    if largest_square - smallest_square <= 1e-12 * largest_square:
        return "the squared residuals are all equal, so their variation cannot be explained"
    return None


@dataclass(frozen=True)
class VarianceConsequence:
    """What a changing error variance does to inference: the consequence half of the severity rule.

    Attributes
    ----------
    hc3 : StandardErrorChange or None
        HC3 over classical standard errors of the slopes
        (:func:`olscheck.numerics.covariance.sandwich_from_meats`); None when undefined.
    error_sd_spread : float or None
        Ratio of the fitted error SD at its 90th and 10th percentile (a
        Glejser regression of |e| on the regressors); None when undefined.

    The battery (:func:`olscheck.checks.accumulated.battery`) builds it from its
    accumulated sums, in memory and streamed alike, and passes it to
    :func:`chi_square_result` / :func:`decide` / :func:`goldfeld_quandt_result`.
    """

    hc3: StandardErrorChange | None
    error_sd_spread: float | None


def chi_square_result(name: str, method: str, statistic: float, df: int, effect: float, effect_name: str,
                      thresholds: Thresholds, finding: str, consequence: VarianceConsequence,
                      details: dict | None = None) -> TestResult:
    """:func:`decide` for a chi-square statistic on ``df`` degrees of freedom (upper tail)."""
    p_value = float(stats.chi2.sf(statistic, df))
    return decide(name, method, statistic, p_value, (df,), effect, effect_name, thresholds, finding, consequence,
                  details)


#: The family's primary test: only it can make homoskedasticity a warning. Koenker's studentized
#: Breusch-Pagan keeps its size under non-normal errors (Koenker 1981). The others are supporting evidence:
#: Breusch-Pagan 1979 and the Cook-Weisberg score test assume normal errors and over-reject under heavy
#: tails; White's full form regresses e² on squares and products of the predictors, whose heavy tails
#: (x² of a normal x has kurtosis 15) meet those of e² and made it reject at p < 0.001 on clean linear
#: data with Laplace or t(5) errors in 3% of data sets of 400 rows (benchmarks/verdict_benchmark.py); and
#: Goldfeld-Quandt asks about the row order only.
PRIMARY_TESTS = ("breusch_pagan",)

_ASSUMES_NORMAL = "a supporting test that assumes normal errors (its size is wrong under heavy tails, Koenker 1981)"
#: Why each supporting test cannot warn, as its note says.
_SUPPORTING_BECAUSE = {
    "breusch_pagan_original": _ASSUMES_NORMAL,
    "ncv_fitted": _ASSUMES_NORMAL,
    "white": "a supporting test (its squares and products of the predictors make it over-reject under heavy-tailed "
             "errors)",
}

def decide(name, method, statistic, p_value, df, effect, effect_name, thresholds: Thresholds, finding: str,
           consequence: VarianceConsequence, details: dict | None = None) -> TestResult:
    """Severity from significance at the family-wise level AND consequence.

    A p-value says whether the variance changes; at large n it always does.
    What matters for inference is how far the standard errors move: the
    largest change of a slope's HC3 standard error against the classical
    one, net of HC3's own expectation under constant variance, counting
    only when it is at least ``thresholds.se_change_warn`` and
    ``thresholds.se_change_noise`` null standard deviations
    (:meth:`olscheck.numerics.covariance.StandardErrorChange.material`).

    - WARN: the primary test (:data:`PRIMARY_TESTS`) with
      p < ``thresholds.primary_level(1)`` and a material change (or an error
      SD spread >= ``variance_spread_warn``, or no change computable);
    - NOTE: p < ``alpha`` otherwise (a supporting test, a primary one above
      the family-wise level, or an immaterial change);
    - OK: p >= ``alpha``.

    A pure function of the numbers and ``consequence``.
    """
    change = consequence.hc3
    spread = consequence.error_sd_spread
    details = dict(details or {})
    primary = name in PRIMARY_TESTS
    level = thresholds.primary_level(len(PRIMARY_TESTS))
    details["primary"] = primary
    details["family_level"] = level
    material = None
    if change is not None:
        details.update(change.detail_fields("hc3"))
        material = change.material(thresholds.se_change_warn, thresholds.se_change_noise)
    if spread is not None:
        details["error_sd_spread"] = spread
    spread_wide = spread is not None and spread >= thresholds.variance_spread_warn
    if primary and p_value < level and (material is not None or spread_wide or change is None):
        severity = Severity.WARN
        consequences = []
        if material is not None:
            consequences.append(
                f"HC3 standard errors differ from the classical ones by {material[0]:.0%} beyond what constant "
                f"variance gives at this n ({material[1]})")
        if spread is not None:
            consequences.append(f"the error SD varies {spread:.1f}-fold between the 10th and 90th percentile")
        consequence_text = "; " + "; ".join(consequences) if consequences else ""
        message = f"Warning: {finding} ({p_text(p_value)}){consequence_text}."
        remedy = _REMEDY
    elif p_value < thresholds.alpha:
        severity = Severity.NOTE
        if not primary:
            why = _SUPPORTING_BECAUSE.get(name, "a supporting test")
            message = (f"Note: {finding} ({p_text(p_value)}); {why}: the homoskedasticity decision rests on "
                       "the studentized Breusch-Pagan test.")
        elif p_value >= level:
            message = (f"Note: weak evidence that {finding} ({p_text(p_value)}), not below the family-wise level "
                       f"{level:.3g} that keeps the whole verdict's false-alarm rate at {thresholds.alpha:g}.")
        else:
            largest = max((abs(c) for c in change.changes_beyond_null), default=0.0)
            message = (
                f"Note: {finding} ({p_text(p_value)}), but HC3 standard errors move by at most {largest:.0%} beyond "
                f"what constant variance gives at this n (within {thresholds.se_change_warn:.0%} or the noise) and "
                f"the error SD varies only {spread or 1:.1f}-fold, so inference is hardly affected."
            )
        remedy = _REMEDY
    else:
        severity = Severity.OK
        message = f"OK: no evidence that {finding} ({p_text(p_value)})."
        remedy = None
    return TestResult(
        name=name,
        assumption=ASSUMPTION,
        method=method,
        statistic=statistic,
        p_value=p_value,
        df=df,
        effect=effect,
        effect_name=effect_name,
        severity=severity,
        message=message,
        remedy=remedy,
        details=details or {},
    )


def breusch_pagan_rank_reason(rank: int) -> str | None:
    """Why Breusch-Pagan cannot run on a model of this rank, or None."""
    if rank < 2:
        # bptest stops: "the auxiliary variance regression requires at least an intercept and a regressor"
        return ("the auxiliary regression on the model's columns needs at least two of them "
                f"(R's bptest: an intercept and a regressor); this model has {rank}")
    return None


# ---------------------------------------------------------------------------
# White
# ---------------------------------------------------------------------------
#: Up to this many regressors the White terms are always counted exactly (≤ 1275 products).
_WHITE_EXACT_COUNT_COLUMNS = 50


def _white_terms(z: np.ndarray, limit: int) -> tuple[np.ndarray | None, int, bool]:
    """Regressors, their squares and cross-products, for White's auxiliary regression.

    Returns ``(columns, count, exact)``; ``columns`` is None when there are
    more than ``limit`` terms. ``count`` is the number of terms; with more
    than :data:`_WHITE_EXACT_COUNT_COLUMNS` regressors counting stops once
    it passes ``limit`` (``exact`` is then False), so the cost stays
    O(n · limit) rather than O(n p²). Terms that are exactly redundant are left out before
    counting: the square of a column with two values (a dummy) is affine in
    it, and the product of two columns that is constant (dummies of one
    factor, whose product is 0) carries nothing beyond the intercept.
    Anything else redundant is left to least_squares' aliasing.
    """
    # max > min rather than ptp > 0: ptp overflows for columns spanning ±1e308
    varying = z.max(axis=0) > z.min(axis=0) if z.size else np.zeros(z.shape[1], dtype=bool)
    z = z[:, varying]
    n, p = z.shape
    # Dividing each column by a power of two near its largest value is exact
    # and keeps squares and products finite and normal at any magnitude
    # (|x| > 1e154 would overflow, |x| < 1e-154 underflow to 0); the terms
    # span the same space.
    if n and p:
        z = binary_scaled(z, axis=0)
    two_valued = np.array([np.unique(z[:, j]).size <= 2 for j in range(p)], dtype=bool)
    first: list[int] = []
    second: list[int] = []
    count = p
    for j in range(p):
        if count > limit and p > _WHITE_EXACT_COUNT_COLUMNS:
            return None, count, False
        products = z[:, j:] * z[:, j:j + 1]
        useful = np.ptp(products, axis=0) > 0
        if two_valued[j]:
            useful[0] = False
        partners = j + np.flatnonzero(useful)
        first.extend([j] * partners.size)
        second.extend(partners.tolist())
        count += partners.size
    if count > limit:
        return None, count, True
    # products of centred columns span the same space (with the intercept) and are far better conditioned
    centred = z - z.mean(axis=0)
    centred = centred / np.sqrt(np.einsum("ij,ij->j", centred, centred))
    products = centred[:, first] * centred[:, second]
    return np.column_stack([centred, products]), count, True


def white_full(fit: LinearFit, thresholds: Thresholds, special: tuple[float, float, int, float] | None,
               consequence: VarianceConsequence, reason: str | None) -> TestResult:
    """:func:`white` on the rows of an in-memory fit, given what the battery accumulated.

    ``special`` is ``(statistic, p_value, df, R²)`` of the special form
    (from the accumulated auxiliary factor; None when the fitted values are
    constant), ``consequence`` the family's :class:`VarianceConsequence`
    and ``reason`` the battery's reason the variance tests cannot run (or
    None). The full auxiliary regression reads every row of ``fit``.
    """
    name = "white"
    if reason is None and fit.rank - (1 if fit.has_intercept else 0) < 1:
        reason = NO_REGRESSOR_REASON
    if reason:
        return not_computable(name, ASSUMPTION, _METHOD_WHITE_FULL, reason)

    details: dict = {
        "special_statistic": special[0] if special else None,
        "special_p_value": special[1] if special else None,
        "special_df": special[2] if special else None,
    }
    n = fit.n
    share_limit = int(np.floor(thresholds.white_max_terms_share * n))
    budget_limit = max(0, int(thresholds.auxiliary_max_cells) // max(n, 1) - 1)
    limit = min(share_limit, WHITE_MAX_TERMS)
    regressor_count = fit.rank - (1 if fit.has_intercept else 0)
    upper = regressor_count + regressor_count * (regressor_count + 1) // 2
    fallback_reason = None
    if upper > budget_limit and budget_limit < limit:
        # decided on the upper bound so that no n x p² term is built at large n
        count, exact = upper, False
        fallback_reason = (
            f"the full White regression would have up to {upper} terms; {n} rows × {upper + 1} columns exceed "
            f"the work budget auxiliary_max_cells = {int(thresholds.auxiliary_max_cells)}"
        )
    else:
        columns, count, exact = _white_terms(fit.regressors, limit)
        if columns is None:
            terms = f"{count} terms" if exact else f"at least {count} terms"
            if count > share_limit:
                fallback_reason = (
                    f"the full White regression has {terms}, more than "
                    f"white_max_terms_share × n = {thresholds.white_max_terms_share:g} × {n}"
                )
            else:
                fallback_reason = f"the full White regression has {terms}, more than the cap of {WHITE_MAX_TERMS}"
        else:
            aux = _variance_regression(fit, columns, intercept=True)
            if n - aux.rank < 1:
                fallback_reason = (
                    f"the full White regression has {aux.rank} coefficients for {n} rows "
                    "and no residual degree of freedom"
                )
            elif aux.rank - 1 < 1:
                fallback_reason = "the full White regression has no usable term"
    finding = "the error variance changes with the regressors or their squares and products"

    if fallback_reason is None:
        details = {"form": "full", "fallback_reason": None, "n_terms": count, "n_terms_exact": True, **details}
        return chi_square_result(
            name, _METHOD_WHITE_FULL, aux.koenker, aux.rank - 1, aux.r_squared,
            "auxiliary R² (e² on regressors, squares, cross-products)", thresholds, finding, consequence,
            details,
        )
    if special is None:
        return not_computable(
            name, ASSUMPTION, METHOD_WHITE_SPECIAL,
            f"{fallback_reason}, and {SPECIAL_FORM_REASON}",
        )
    details = {"form": "special (fitted, fitted^2)", "fallback_reason": fallback_reason, "n_terms": count,
               "n_terms_exact": exact, **details}
    statistic, _, df, r_squared = special
    return chi_square_result(name, _METHOD_WHITE_FALLBACK, statistic, df, r_squared, WHITE_SPECIAL_EFFECT,
                             thresholds, FITTED_FINDING, consequence, details)


# ---------------------------------------------------------------------------
# Goldfeld-Quandt
# ---------------------------------------------------------------------------
def goldfeld_quandt_result(rss_first: float, rss_second: float, n_first: int, n_second: int,
                           rank_first: int, rank_second: int, rank: int, consequence: VarianceConsequence,
                           thresholds: Thresholds = DEFAULT_THRESHOLDS, columns: int | None = None) -> TestResult:
    """The Goldfeld-Quandt result from the two halves' residual sums of squares and ranks.

    ``rank`` is the model's rank (for the message), ``columns`` the model
    matrix's columns (aliased ones included, lmtest's ``k``; default
    ``rank``); ``consequence`` drives the severity with the p-value (see
    :func:`decide`). Shared by :func:`goldfeld_quandt` and the streaming
    engine. When a half's rank is below ``columns`` the method says so,
    naming both halves' ranks and k, and ``details`` holds the ranks and
    lmtest's statistic and p-value (``statistic_lmtest``,
    ``p_value_lmtest``: df n_i - k, None when a half has no more than k rows).
    """
    name = "goldfeld_quandt"
    df_first = n_first - rank_first
    df_second = n_second - rank_second
    if df_first < 1 or df_second < 1:
        return not_computable(
            name, ASSUMPTION, METHOD_GQ,
            f"each half needs more rows than coefficients (halves of {n_first} and {n_second} rows, "
            f"{rank} coefficients)",
        )
    if rss_first <= 0.0:
        return not_computable(name, ASSUMPTION, METHOD_GQ, "the first half is fitted exactly (zero residual sum of squares)")
    statistic = (rss_second / df_second) / (rss_first / df_first)
    p_value = float(stats.f.sf(statistic, df_second, df_first))
    details = {
        "rss_first": rss_first,
        "rss_second": rss_second,
        "n_first": n_first,
        "n_second": n_second,
        "p_value_two_sided": float(2 * min(stats.f.sf(statistic, df_second, df_first),
                                           stats.f.cdf(statistic, df_second, df_first))),
    }
    columns = rank if columns is None else int(columns)
    method = METHOD_GQ
    if min(rank_first, rank_second) < columns:
        # lmtest's df n_i - ncol(X) overstate a rank-deficient half's parameters: RSS_i / sigma² is
        # chi-square on n_i - rank_i (tests/checks/test_heteroskedasticity.py shows it by simulation)
        lmtest_first, lmtest_second = n_first - columns, n_second - columns
        lmtest_statistic = lmtest_p = None
        if min(lmtest_first, lmtest_second) >= 1:
            lmtest_statistic = (rss_second / lmtest_second) / (rss_first / lmtest_first)
            lmtest_p = float(stats.f.sf(lmtest_statistic, lmtest_second, lmtest_first))
        details.update(rank_first=rank_first, rank_second=rank_second, columns=columns,
                       statistic_lmtest=lmtest_statistic, p_value_lmtest=lmtest_p)
        lmtest = ("its p-value in details" if lmtest_p is not None
                  else "which leaves a half no degrees of freedom")
        method = (f"{METHOD_GQ}; df from the halves' ranks {rank_first} and {rank_second} "
                  f"(lmtest uses k = {columns} columns for both, {lmtest})")
    return decide(
        name, method, statistic, p_value, (df_second, df_first), statistic,
        "variance ratio (second half / first half)", thresholds,
        "the error variance is larger in the later half of the rows", consequence, details,
    )


# ---------------------------------------------------------------------------
# Cook-Weisberg (car::ncvTest)
# ---------------------------------------------------------------------------
