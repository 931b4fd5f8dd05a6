"""Linearity: is the conditional mean of the target linear in the predictors?

Three specification tests, each matching an R function:

=================  ========================================================  ==============================
report name        idea                                                      R
=================  ========================================================  ==============================
``reset``          do powers of the fitted values add explanatory power?    ``lmtest::resettest``
``harvey_collier`` is the mean of the recursive residuals zero?             ``lmtest::harvtest``
``rainbow``        does the central half fit much better than all rows?     ``lmtest::raintest``
=================  ========================================================  ==============================

Harvey-Collier and Rainbow depend on the row order, which is the analysis
(time) order of the fit. Auxiliary regressions and subset refits go through
:func:`olscheck.numerics.lstsq.least_squares`; they regress the model's residuals
instead of the target (``y - e`` lies in the column space of X and of every
row subset of it, so the residuals are the same and the large fitted part
never enters the arithmetic).

References
----------
Ramsey, J. B. (1969). Tests for specification errors in classical linear
least-squares regression analysis. *JRSS B* 31, 350-371.
Harvey, A. C. & Collier, P. (1977). Testing for functional
misspecification in regression analysis. *Journal of Econometrics* 6,
103-119.
Brown, R. L., Durbin, J. & Evans, J. M. (1975). Techniques for testing the
constancy of regression relationships over time. *JRSS B* 37, 149-192.
Utts, J. M. (1982). The rainbow test for lack of fit in regression.
*Communications in Statistics - Theory and Methods* 11, 2801-2815.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Sequence

import numpy as np
from scipy import linalg as scipy_linalg
from scipy.linalg import lapack
from scipy import stats

from ..numerics.lstsq import ALIASING_TOLERANCE, extend, least_squares, least_squares_in_place
from ..model.fit import NO_COEFFICIENTS_REASON, LinearFit
from ..report.result import Assumption, Severity, TestResult, not_computable, p_text
from ..numerics.scaling import binary_scaled
from ..thresholds import DEFAULT_THRESHOLDS, Thresholds
from .subsets import central_rows, subset_regression

__all__ = ["reset_with_powers", "harvey_collier", "rainbow", "quadratic", "recursive_residuals", "reset_method",
           "reset_result", "SPECIFICATION_TESTS", "without_outliers", "probe_without_outliers", "refit_without",
           "nonlinear_probe"]

ASSUMPTION = Assumption.LINEARITY

#: Rows processed per block by :func:`recursive_residuals`, at least the
#: number of coefficients so each block costs O(k²) per row.
RECURSION_BLOCK_ROWS = 64

_REMEDY = (
    "Model the curvature: add polynomial or spline terms for the predictors that bend "
    "(`smf.ols(\"y ~ x + I(x**2)\", data).fit()`, `smf.ols(\"y ~ bs(x, df=4)\", data).fit()`), "
    "interactions, or transform the target or predictors (log, Box-Cox); check the partial "
    "residual plots to see which predictor needs it."
)

#: Shared with the streaming engine.
CONSTANT_FITTED_REASON = "the fitted values are constant (no predictors)"

_METHOD_HC = (
    "Harvey-Collier t test on the recursive residuals in data order, two-sided "
    "(lmtest::harvtest; recursion started at the first rows of full rank)"
)


def _precondition(fit: LinearFit) -> str | None:
    """Why no specification test can run: no coefficients, or the residuals are not a sample of errors."""
    if fit.rank < 1:
        return NO_COEFFICIENTS_REASON
    return fit.exact_fit_reason


def _variance_reduction(rss: float, df: int, rss_extended: float, df_extended: int) -> float:
    """1 - (RSS_ext/df_ext)/(RSS/df): the relative cut of the residual variance estimate (adjusted partial R²)."""
    return 1.0 - (rss_extended / df_extended) / (rss / df)


def _decide(name, method, statistic, p_value, df, effect, effect_name, thresholds: Thresholds,
            findings: tuple[str, str], details: dict | None = None, material: bool | None = None) -> TestResult:
    """Severity from the strength AND the size of the evidence; ``findings`` = (text when OK, text when rejected).

    p >= alpha: OK. FAIL when p < ``specification_strong_p`` and the caller
    says the departure is ``material`` (the added terms cut the residual
    variance estimate by at least ``specification_material_reduction``).
    Every other rejection is a NOTE: alpha > p (with four specification
    tests one such result is common under a linear mean), a strong p with
    an immaterial departure (a trivially small curvature at large n does
    not make OLS inadequate), or a strong p from a test without a size
    (``material`` None: Harvey-Collier, Rainbow), whose size RESET, the
    second-order test and the probe judge. The four tests at
    ``specification_strong_p`` = 0.001 each stay within the linearity
    family's share of alpha (0.004 <= alpha / 5).
    """
    if p_value < thresholds.specification_strong_p and material:
        severity = Severity.FAIL
        message = f"Problem: {findings[1]} ({p_text(p_value)}, {effect_name} {effect:.3g})."
        remedy = _REMEDY
    elif p_value < thresholds.specification_strong_p and material is None:
        severity = Severity.NOTE
        message = (f"Note: {findings[1]} ({p_text(p_value)}); this test has no effect size, so whether the "
                   "departure matters is judged by RESET, the second-order test and the out-of-sample probe.")
        remedy = None
    elif p_value < thresholds.specification_strong_p:
        severity = Severity.NOTE
        message = (f"Note: {findings[1]} ({p_text(p_value)}), but the departure is small: the added terms cut "
                   f"the residual variance by less than {thresholds.specification_material_reduction:.0%}, so a "
                   "linear model loses little.")
        remedy = None
    elif p_value < thresholds.alpha:
        severity = Severity.NOTE
        message = f"Note: weak evidence that {findings[1]} ({p_text(p_value)}); with several specification tests one such result is common under a linear mean."
        remedy = None
    else:
        severity = Severity.OK
        message = f"OK: {findings[0]} ({p_text(p_value)})."
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


# ---------------------------------------------------------------------------
# RESET
# ---------------------------------------------------------------------------
def reset_with_powers(fit: LinearFit, powers: Sequence[int],
                      thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """Ramsey's RESET: do powers of the fitted values improve the fit?

    Add ŷ^p for p in ``powers`` to the model and compare the residual sums
    of squares with an F test::

        F = ((RSS₀ - RSS₁) / df₁) / (RSS₁ / df₂),
        df₁ = rank[X, Z] - rank X,  df₂ = n - rank[X, Z]

    ``lmtest::resettest(fit, power = 2:3, type = "fitted")`` (F form, not
    statsmodels' default chi-square). The powers are taken of the fitted
    values standardised (centred only when the model has an intercept),
    which spans the same space and keeps ŷ³ well conditioned; R scales y the
    same way. The battery's RESET (powers 2 and 3,
    :mod:`olscheck.checks.battery`) accumulates the same regression over the
    rows; this function answers for other powers on an in-memory fit,
    extending the model's ``Q`` by the powers.

    Deviation from R: resettest uses df₁ = number of powers and df₂ = n -
    ncol(X) - df₁ even when a power is a linear combination of the
    regressors (e.g. ŷ² when a single dummy is the only predictor); here
    aliased powers are dropped and counted out of the df, and when every
    power is aliased the test is not computable.

    The effect is the partial R² of the added powers, (RSS₀ - RSS₁)/RSS₀.

    References
    ----------
    Ramsey (1969), JRSS B 31, 350-371.
    """
    name = "reset"
    powers = tuple(int(p) for p in powers)
    method = reset_method(powers)
    if not powers or any(p < 2 for p in powers):
        return not_computable(name, ASSUMPTION, method, "RESET needs powers of 2 or more")
    reason = _precondition(fit)
    if reason:
        return not_computable(name, ASSUMPTION, method, reason)
    # a power of two near max|fitted| first (exact), so the norms below stay
    # finite for fitted values of any magnitude
    unit_fitted = binary_scaled(fit.fitted)
    fitted = unit_fitted - unit_fitted.mean() if fit.has_intercept else unit_fitted
    size = float(np.sqrt(fitted @ fitted))
    if size <= 1e-12 * float(np.linalg.norm(unit_fitted)) or size == 0.0:
        return not_computable(name, ASSUMPTION, method, CONSTANT_FITTED_REASON)
    scaled = fitted / size * math.sqrt(fit.n)
    # integer powers by repeated products, column by column into one array (numpy's ** calls pow for p > 2)
    added = np.empty((fit.n, len(powers)), order="F")
    for column, power in enumerate(powers):
        np.multiply(scaled, scaled, out=added[:, column])
        for _ in range(power - 2):
            added[:, column] *= scaled
    # the model's own Q plus the powers: O(n k) beyond one QR of the added columns
    aux = extend(fit.q, added, fit.residuals, centre=fit.has_intercept)
    # the projection of e on [X, Z] has squared norm RSS₀ - RSS₁ (Pythagoras), without the subtraction
    projection = fit.residuals - aux.residuals
    drop = float(projection @ projection)
    return reset_result(method, powers, drop, aux.rss, fit.rank + aux.kept.size, fit.rank, fit.n, thresholds)


def reset_method(powers: Sequence[int] = (2, 3)) -> str:
    """The ``method`` text of RESET with these powers."""
    powers = tuple(int(p) for p in powers)
    label = ", ".join(str(p) for p in powers)
    return (f"Ramsey RESET F test, powers {label} of the fitted values "
            f"(lmtest::resettest(type = \"fitted\", power = {_r_powers(powers)}))")


def reset_result(method: str, powers: Sequence[int], drop: float, rss_extended: float, extended_rank: int,
                 rank: int, n: int, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """The RESET result from the extended regression's sums of squares.

    ``drop`` is RSS₀ - RSS₁ (the squared norm of the residuals' projection
    on the extended design), ``rss_extended`` RSS₁, ``extended_rank`` and
    ``rank`` the ranks of the extended and the original model. Shared by
    :func:`reset` and the streaming engine.
    """
    name = "reset"
    df1 = extended_rank - rank
    df2 = n - extended_rank
    if df1 < 1:
        return not_computable(name, ASSUMPTION, method,
                              "the powers of the fitted values are linear combinations of the regressors")
    if df2 < 1:
        return not_computable(name, ASSUMPTION, method,
                              f"too few rows: the extended model has {extended_rank} coefficients for {n} rows")
    rss_model = drop + rss_extended
    if rss_extended <= 0.0:
        return not_computable(name, ASSUMPTION, method, "the extended model fits exactly")
    statistic = (drop / df1) / (rss_extended / df2)
    p_value = float(stats.f.sf(statistic, df1, df2))
    details = {"powers": list(powers), "rss_model": rss_model, "rss_extended": rss_extended}
    return _decide(
        name, method, statistic, p_value, (df1, df2), drop / rss_model,
        "partial R² of the added powers of the fitted values", thresholds,
        ("no evidence that powers of the fitted values improve the fit",
         "powers of the fitted values improve the fit: the mean is not linear in the predictors"), details,
        material=_variance_reduction(rss_model, n - rank, rss_extended, df2)
        >= thresholds.specification_material_reduction,
    )


def _r_powers(powers: tuple[int, ...]) -> str:
    if len(powers) == 1:
        return str(powers[0])
    if powers == tuple(range(powers[0], powers[-1] + 1)):
        return f"{powers[0]}:{powers[-1]}"
    return "c(" + ", ".join(str(p) for p in powers) + ")"


# ---------------------------------------------------------------------------
# recursive residuals and Harvey-Collier
# ---------------------------------------------------------------------------
def _first_full_rank_rows(basis: np.ndarray, tolerance: float) -> int | None:
    """Smallest r such that the first r rows of ``basis`` have full column rank.

    ``basis`` has orthonormal columns over all n rows (the fit's Q), so the
    singular values of its leading rows lie in [0, 1] and the smallest one
    measures, on an absolute scale, how much the first r rows know about
    the least-determined direction; the rows have full rank when it exceeds
    ``tolerance``. It grows with r, so a galloping search then bisection
    finds r with O(log r) SVDs of at most 2r rows: O(r k² log r), in the
    usual case (r = k) one k×k SVD.
    """
    n, k = basis.shape

    def full_rank(rows: int) -> bool:
        return bool(np.linalg.svd(basis[:rows], compute_uv=False)[-1] > tolerance)

    if full_rank(k):
        return k
    low, high, step = k, k + 1, 1  # invariant: the first `low` rows are rank deficient
    while high < n and not full_rank(high):
        low, step = high, step * 2
        high = min(n, low + step)
    if not full_rank(high):
        return None
    while high - low > 1:
        middle = (low + high) // 2
        if full_rank(middle):
            high = middle
        else:
            low = middle
    return high


def recursive_residuals(x: np.ndarray, y: np.ndarray, start: int) -> np.ndarray:
    """Standardised one-step-ahead prediction errors of recursive least squares.

    For t = start+1, ..., n (1-based) with b_{t-1} the least-squares fit to
    the first t-1 rows::

        w_t = (y_t - x_t' b_{t-1}) / sqrt(1 + x_t' (X_{t-1}' X_{t-1})⁻¹ x_t)

    (Brown, Durbin & Evans 1975); under the model they are independent
    N(0, σ²). The first ``start`` rows must have full column rank.

    Computed in blocks of B ≥ k rows from the triangular factor R of the
    rows seen so far, without forming or inverting X'X: given R and the
    current fit b, the block's prediction errors e_B = y_B - X_B b have
    covariance σ² (I + U'U) with U = R⁻ᵀ X_B'; the Cholesky factor L of
    that matrix (Cholesky when I + U'U is well conditioned, else a QR of
    [I; U]) turns them into the recursive
    residuals, w_B = L⁻¹ e_B, because the innovations of a Gaussian vector
    in order are exactly the one-step prediction errors of the Kalman
    filter, i.e. of recursive least squares. R is then updated by a QR of
    [R; X_B]. Each block costs O(B²(B + k) + B k²): O(n k²) overall.
    """
    n, k = x.shape
    block = max(RECURSION_BLOCK_ROWS, 2 * k)
    triangle = np.linalg.qr(np.column_stack([x[:start], y[:start]]), mode="r")[:k]
    out = np.empty(n - start)
    if n - start > 8 * block:
        # thousands of small BLAS calls: threads only add synchronisation,
        # and on a busy machine spinning threads made this loop 10x slower
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            _recursion(x, y, triangle, start, block, out)
    else:
        _recursion(x, y, triangle, start, block, out)
    return out


#: The block's innovation covariance I + U'U is factored by Cholesky when
#: trace(U'U) is at most this (its condition number is then at most 1 + 100,
#: so Cholesky loses no more than two digits); otherwise by a QR of [I; U].
CHOLESKY_TRACE_LIMIT = 100.0


def _recursion(x, y, triangle, start, block, out) -> None:
    # LAPACK called directly: this loop runs n / block times, and the scipy
    # wrappers' argument checks cost more than the small factorisations
    n, k = x.shape
    # [R z; X_B y_B], factored in place per block: its first k rows then hold
    # the next block's [R z] (the reflectors below the diagonal are zeroed),
    # so neither R nor the rows are copied out and back
    stacked = np.zeros((k + block, k + 1), order="F")
    stacked[:k] = triangle
    dtrtrs, dpotrf, dgeqrf = lapack.dtrtrs, lapack.dpotrf, lapack.dgeqrf
    below = np.tril(np.ones((k, k + 1), dtype=bool), -1)
    work = max(1, (k + 1) * 64)
    for begin in range(start, n, block):
        end = min(n, begin + block)
        rows_x = x[begin:end]
        size = end - begin
        if size < block:
            stacked = np.vstack([stacked[:k], np.zeros((size, k + 1))]).copy(order="F")
        upper = stacked[:k]
        # U = R⁻ᵀ X_B' and the prediction errors y_B - X_B b = y_B - U'z (b = R⁻¹z): one triangular solve
        u, _ = dtrtrs(upper[:, :k], rows_x.T, trans=1)
        errors = y[begin:end] - u.T @ upper[:, k]
        covariance = u.T @ u
        if np.trace(covariance) <= CHOLESKY_TRACE_LIMIT:
            covariance.flat[:: size + 1] += 1.0
            lower, info = dpotrf(covariance, lower=1, clean=0, overwrite_a=1)
            out[begin - start:end - start] = dtrtrs(lower, errors, lower=1)[0]
        else:
            factor = np.linalg.qr(np.vstack([np.eye(size), u]), mode="r")[:size]
            factor = factor * np.where(np.diag(factor) < 0, -1.0, 1.0)[:, None]
            out[begin - start:end - start] = scipy_linalg.solve_triangular(factor, errors, trans="T",
                                                                           check_finite=False)
        stacked[k:, :k] = rows_x
        stacked[k:, k] = y[begin:end]
        stacked = dgeqrf(stacked, lwork=work, overwrite_a=1)[0]
        stacked[:k][below] = 0.0


def harvey_collier(fit: LinearFit, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """Harvey-Collier test: the recursive residuals should have mean zero.

    With w the m recursive residuals in data order (see
    :func:`recursive_residuals`), mean w̄ and standard deviation s::

        t = sqrt(m) · w̄ / s,   t on m - 1 df, two-sided

    Under a linear mean the recursive residuals are i.i.d. N(0, σ²); a
    curvature along the row order gives them a non-zero mean.
    ``lmtest::harvtest`` starts the recursion after the first k rows, so m =
    n - k and df = n - k - 1; it reports |t|. Here the statistic keeps its
    sign (positive: later rows lie above the extrapolated fit); compare
    magnitudes with R.

    Where R fails: harvtest inverts the first k rows' cross-product
    (``chol2inv(qr.R(qr(X[1:k, ])))``) without a rank check, so when those
    rows are rank deficient (on ``cars`` the first two rows share one
    speed; on ``mtcars`` with cyl as a factor, hp is the same in the three
    6-cylinder cars among the first five rows) it returns NA or stops.
    Here the recursion starts after the first r rows that have full column
    rank (r = k whenever R gives a number, so the results agree); m = n - r
    and df = n - r - 1. strucchange::recresid does something else: it always
    starts at k + 1 and fits rank-deficient leading blocks with aliased
    coefficients set to 0, so its first residuals are not standardised
    prediction errors. ``details["start_rows"]`` is r.

    The effect is the standardised mean w̄ / s.

    References
    ----------
    Harvey & Collier (1977), J. Econometrics 6, 103-119; Brown, Durbin &
    Evans (1975), JRSS B 37, 149-192.
    """
    name = "harvey_collier"
    reason = _precondition(fit)
    if reason:
        return not_computable(name, ASSUMPTION, _METHOD_HC, reason)
    n, k = fit.n, fit.rank
    # Q spans the column space with unit singular values: the recursion is invariant to the basis,
    # and residuals stand in for y because y - e lies in that space
    start = _first_full_rank_rows(fit.q, ALIASING_TOLERANCE)
    if start is None or n - start < 2:
        return not_computable(
            name, ASSUMPTION, _METHOD_HC,
            "too few rows after the first rows of full rank for a mean and a standard deviation of the "
            "recursive residuals",
        )
    w = recursive_residuals(fit.q, fit.residuals, start)
    m = w.size
    mean = float(w.mean())
    sd = float(np.std(w, ddof=1))
    if not sd > 0.0:
        return not_computable(name, ASSUMPTION, _METHOD_HC, "the recursive residuals are all equal")
    statistic = math.sqrt(m) * mean / sd
    df = m - 1
    p_value = float(2.0 * stats.t.sf(abs(statistic), df))
    details = {"start_rows": start, "n_recursive_residuals": m}
    return _decide(
        name, _METHOD_HC, statistic, p_value, (df,), mean / sd,
        "standardised mean of the recursive residuals", thresholds,
        ("no evidence that the recursive residuals drift from zero along the row order",
         "the recursive residuals do not average zero: the mean bends along the row order"), details,
    )


# ---------------------------------------------------------------------------
# Rainbow
# ---------------------------------------------------------------------------
def rainbow(fit: LinearFit, thresholds: Thresholds = DEFAULT_THRESHOLDS, *, fraction: float = 0.5) -> TestResult:
    """Utts' Rainbow test: does the central part of the data fit much better?

    Fit the model to the central ``fraction`` of the rows (in data order:
    floor(fraction·n) rows starting at ceiling(quantile(1:n, 0.5 -
    fraction/2)), as ``lmtest::raintest`` picks them; for n = 21 rows 6-15)
    and compare with the full fit::

        F = ((RSS - RSS_c) / df₁) / (RSS_c / df₂),
        df₁ = (n - k) - (n_c - k_c),  df₂ = n_c - k_c

    with k and k_c the ranks of the full and central fits. When the central
    fit has full rank this is R's df = (n - n_c, n_c - k); when it does not
    (raintest then still uses k), the df above are those of the nested F
    test (the central fit equals the full model plus one dummy per outer
    row) and are used instead. raintest's k is the model matrix's columns,
    aliased ones included; whenever the central fit's rank is below that,
    the method names both ranks and k, and ``details`` holds the ranks and
    raintest's own ``statistic_lmtest`` and ``p_value_lmtest`` (df
    ``(n - n_c, n_c - k)``; None when n_c ≤ k, where raintest stops).

    The effect is F itself: the residual variance the outer rows add
    beyond the central fit, relative to the central residual variance.

    References
    ----------
    Utts (1982), Commun. Statist. Theory Meth. 11, 2801-2815.
    """
    name = "rainbow"
    method = f"Rainbow F test, central {fraction:g} of the rows in data order (lmtest::raintest)"
    if not 0.0 < fraction <= 1.0:
        return not_computable(name, ASSUMPTION, method, f"fraction must lie in (0, 1], not {fraction!r}")
    reason = _precondition(fit)
    if reason:
        return not_computable(name, ASSUMPTION, method, reason)
    n = fit.n
    first, stop = central_rows(n, fraction)
    size = stop - first
    central = subset_regression(fit, first, stop)
    df2 = size - central.rank
    df1 = fit.df_resid - df2
    if df2 < 1:
        return not_computable(
            name, ASSUMPTION, method,
            f"the central subset has {size} rows: too few rows to fit the model's {fit.rank} coefficients "
            "with residual degrees of freedom left",
        )
    if df1 < 1:
        return not_computable(name, ASSUMPTION, method, "the central subset leaves no rows outside it")
    if central.rss <= 0.0:
        return not_computable(name, ASSUMPTION, method, "the central subset is fitted exactly")
    statistic = ((fit.rss - central.rss) / df1) / (central.rss / df2)
    p_value = float(stats.f.sf(statistic, df1, df2))
    details = {"central_first_row": first + 1, "central_last_row": stop, "rss_central": central.rss,
               "rss": fit.rss}
    columns = fit.rank + len(fit.aliased)  # raintest's k = ncol(model.matrix), aliased columns included
    if central.rank < columns:
        # the df differ from raintest's (n - n_c, n_c - k): say so, and keep its numbers beside ours
        lmtest_df1, lmtest_df2 = n - size, size - columns
        lmtest_statistic = lmtest_p = None
        if lmtest_df2 >= 1:
            lmtest_statistic = ((fit.rss - central.rss) / lmtest_df1) / (central.rss / lmtest_df2)
            lmtest_p = float(stats.f.sf(lmtest_statistic, lmtest_df1, lmtest_df2))
        details.update(rank_central=central.rank, rank=fit.rank, columns=columns,
                       statistic_lmtest=lmtest_statistic, p_value_lmtest=lmtest_p)
        lmtest = "its p-value in details" if lmtest_p is not None else "which leaves the central fit no df"
        method = (f"{method}; df from the central and full fits' ranks {central.rank} and {fit.rank} "
                  f"(lmtest uses k = {columns} columns for both, {lmtest})")
    return _decide(
        name, method, statistic, p_value, (df1, df2), statistic,
        "variance ratio (outer rows beyond the central fit / central fit)", thresholds,
        ("no evidence that the central rows fit better than all rows",
         "the central rows fit markedly better than all rows: the mean is not linear"), details,
    )


_METHOD_QUADRATIC = (
    "Second-order specification F test: squares and pairwise products of the centred regressors added to "
    "the model (a RESET on the regressors with their interactions; Ramsey 1969, Wooldridge 2010 §6.2.3)"
)

#: The added second-order terms may use at most this share of the residual degrees of freedom.
QUADRATIC_MAX_SHARE = 0.5


def _two_valued(column: np.ndarray) -> bool:
    """Whether the column takes at most two values; its first rows settle it for almost every continuous column."""
    head = column[:1024]
    if not np.all((head == head.min()) | (head == head.max())):
        return False
    low, high = column.min(), column.max()
    return bool(np.all((column == low) | (column == high)))


def quadratic(fit: LinearFit, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    r"""F test of a second-order (quadratic) expansion of the mean.

    A smooth mean that is not linear is, to second order, a quadratic form
    in the predictors. Adding the squares of the numeric regressors and the
    pairwise products of all (centred) regressors, Z, to the model and
    testing them jointly:

    .. math:: F = \frac{(RSS - RSS_Z)/q}{RSS_Z/(n - k - q)}

    with q the number of added columns not aliased with X. Unlike RESET,
    whose powers of the fitted values carry nothing when the mean has no
    linear part (y = a·b), this detects pure interactions. When the full
    set has more than half of the residual degrees of freedom, only the
    squares are added (and the method says so). When the extended design
    (rows × columns) would exceed ``thresholds.auxiliary_max_cells`` the
    test runs on that many evenly spaced rows (positions floor(i·n/m)),
    both models refitted there, and the method and ``details`` say so: the
    work stays bounded (O(budget · columns)) instead of O(n p⁴). The effect is the partial
    R² of the added terms; FAIL needs the same strong p and material
    share as RESET. No R function computes exactly this set; it is R's
    ``anova(lm(y ~ X), lm(y ~ X + Z))``.
    """
    name = "quadratic"
    reason = _precondition(fit)
    if reason:
        return not_computable(name, ASSUMPTION, _METHOD_QUADRATIC, reason)
    regressors = fit.regressors
    k = regressors.shape[1]
    if k == 0:
        return not_computable(name, ASSUMPTION, _METHOD_QUADRATIC, "the model has no predictors")
    # the square of a two-valued column (a dummy) is affine in it
    binary = np.array([_two_valued(regressors[:, j]) for j in range(k)], dtype=bool)
    square_count = int(np.count_nonzero(~binary))
    product_count = k * (k - 1) // 2
    cells = int(thresholds.auxiliary_max_cells)
    choice = None
    for variant, count in (("squares and pairwise products", square_count + product_count),
                           ("squares only (too few rows for all pairwise products)", square_count)):
        if count == 0:
            continue
        rows = min(fit.n, max(cells // (1 + k + count), 0))
        if count <= QUADRATIC_MAX_SHARE * (rows - fit.rank):
            choice = (variant, count, rows)
            break
    if choice is None:
        return not_computable(
            name, ASSUMPTION, _METHOD_QUADRATIC,
            "too few rows for the second-order terms" if square_count + product_count
            else "no numeric predictor to square and no pair to multiply",
        )
    variant, count, rows = choice
    details: dict = {"terms_added": count, "variant": variant, "rows_used": rows}
    if rows < fit.n:
        # evenly spaced over the row order; the work budget caps rows x columns
        positions = (np.arange(rows, dtype=np.int64) * fit.n) // rows
        regressors, y = regressors[positions], fit.y[positions]
    # each column divided by a power of two near its largest magnitude: exact,
    # the F test is invariant to it, and means and squares of columns near
    # 1.5e308 (or 1e-300) stay finite and normal
    regressors = binary_scaled(regressors, axis=0)
    if rows < fit.n:
        restricted = least_squares(regressors, y, intercept=fit.has_intercept)
        restricted_rss, restricted_rank = restricted.rss, restricted.rank
        variant = (f"{variant}; on {rows} evenly spaced of {fit.n} rows (the full design would exceed "
                   f"auxiliary_max_cells = {cells})")
        details["sampling"] = f"every {fit.n / rows:.4g}th row (positions floor(i·n/rows)), refitted"
    else:
        y, restricted_rss, restricted_rank = fit.y, fit.rss, fit.rank
    # column-major, so that each square and product below reads two contiguous columns
    centred = np.asfortranarray(regressors - regressors.mean(axis=0) if fit.has_intercept else regressors)
    scale = np.max(np.abs(centred), axis=0)
    centred /= np.where(scale > 0, scale, 1.0)
    # [X, squares, products | y] filled in place: the widest array of the battery, made once
    work = np.empty((rows, k + count + 1), order="F")
    work[:, :k] = regressors
    column = k
    for j in np.flatnonzero(~binary):
        np.multiply(centred[:, j], centred[:, j], out=work[:, column])
        column += 1
    if count > square_count:
        for i in range(k):
            for j in range(i + 1, k):
                np.multiply(centred[:, i], centred[:, j], out=work[:, column])
                column += 1
    extended = least_squares_in_place(work, y, intercept=fit.has_intercept)
    df1 = extended.rank - restricted_rank
    df2 = rows - extended.rank
    if df1 < 1 or df2 < 1 or extended.rss <= 0:
        return not_computable(name, ASSUMPTION, _METHOD_QUADRATIC,
                              "the second-order terms are linear combinations of the regressors, or fit exactly")
    drop = max(restricted_rss - extended.rss, 0.0)
    statistic = (drop / df1) / (extended.rss / df2)
    p_value = float(stats.f.sf(statistic, df1, df2))
    share = drop / restricted_rss
    return _decide(
        name, f"{_METHOD_QUADRATIC}; added: {variant}", statistic, p_value, (df1, df2), share,
        "partial R² of the second-order terms", thresholds,
        ("no evidence that squares or products of the predictors improve the fit",
         "squares or products of the predictors improve the fit: the mean is curved or has interactions"),
        details,
        material=_variance_reduction(restricted_rss, rows - restricted_rank, extended.rss, df2)
        >= thresholds.specification_material_reduction,
    )


#: The specification tests whose failure makes the mean non-linear, in report order.
SPECIFICATION_TESTS = ("reset", "harvey_collier", "rainbow", "quadratic")


def without_outliers(result: TestResult, recheck: TestResult | None, rejected: int, computed_on: str,
                     level: float) -> TestResult:
    """A failing specification test, judged again without the rows a robust fit rejects.

    Two gross outliers at high leverage can make the square of the
    displaced predictor "explain" a quarter of the residual variance: the
    curvature is theirs, not the mean's. ``recheck`` is the same test on the
    model refitted without the ``rejected`` rows (:func:`olscheck.checks.influence.robust_comparison`);
    ``computed_on`` says which rows. The failure stands when the test still
    fails there or still rejects at ``level`` (the linearity family's share
    of alpha, ``Thresholds.family_alpha``): a genuine curve, e.g. an
    exponential, keeps its evidence without its most extreme rows, while
    after gross outliers the remaining rows' p-value is uniform, so an
    outlier-made failure survives with probability ``level``. Otherwise it
    becomes a WARN naming the rows: the data need
    a remedy for the outliers (the robust comparison says how much they move
    the slopes), not a non-linear model.
    """
    if result.severity is not Severity.FAIL or recheck is None or recheck.p_value is None:
        return result  # nothing to judge again (a refit that cannot be tested keeps the failure)
    return _judged_without_outliers(
        result, recheck, rejected, computed_on,
        survives=recheck.severity is Severity.FAIL or recheck.p_value < level,
        evidence=("recheck_without_outliers_p_value", recheck.p_value, f"p = {recheck.p_value:.2g}"),
        consequence="the curvature is theirs, not the mean's",
        remedy="The curvature comes from outlying rows, not from the mean: do not add terms for them. ")


def _judged_without_outliers(result: TestResult, recheck: TestResult, rejected: int, computed_on: str, *,
                             survives: bool, evidence: tuple[str, Any, str], consequence: str,
                             remedy: str) -> TestResult:
    """The failing ``result`` kept (``survives``) or turned into a warning about the ``rejected`` rows.

    ``evidence`` is (details key, value, text) of the recheck's number.
    """
    key, value, text = evidence
    details = {**result.details, key: value, "recheck_without_outliers_severity": recheck.severity.value,
               "recheck_rows_dropped": rejected, "recheck_computed_on": computed_on}
    rows = f"{rejected} outlying row{'s' if rejected != 1 else ''}"
    if survives:
        return replace(result, details=details, message=(
            f"{result.message[:-1]}; it survives dropping the {rows} a robust fit rejects ({text} without them)."))
    return replace(
        result, severity=Severity.WARN, details=details,
        remedy=(f"{remedy}Inspect the rows and compare a robust fit "
                "(`smf.rlm(formula, data, M=sm.robust.norms.TukeyBiweight()).fit()`)."),
        message=(f"Warning: {result.message.split(': ', 1)[-1][:-1]}; but only because of {rows}: without the rows a "
                 f"robust fit rejects, {text} ({recheck.severity.value}), so {consequence} (see robust_fit)."),
    )


def refit_without(fit: LinearFit, rejected: np.ndarray) -> LinearFit | None:
    """The model refitted without the rows ``rejected`` (positions in ``fit``); None when it cannot be fitted."""
    from ..model.fit import fit as fit_model

    keep = np.ones(fit.n, dtype=bool)
    keep[rejected] = False
    if int(keep.sum()) <= fit.rank + 1:
        return None  # no residual degrees of freedom would be left to judge anything on
    try:
        return fit_model(fit.design.rows(np.flatnonzero(keep)))
    except Exception:  # a model that cannot be refitted without the rows keeps its failure
        return None


def probe_without_outliers(result: TestResult, recheck: TestResult, rejected: int, computed_on: str) -> TestResult:
    """A failing probe judged again without the rows a robust fit rejects (see :func:`recheck_without_outliers`)."""
    gain = "undefined" if recheck.effect is None else f"{recheck.effect:.0%}"
    return _judged_without_outliers(
        result, recheck, rejected, computed_on, survives=recheck.severity is Severity.FAIL,
        evidence=("recheck_without_outliers_gain", recheck.effect, f"the learner's gain is {gain}"),
        consequence="a non-linear model would fit them, not the mean",
        remedy="The gain comes from outlying rows, not from the mean. ")


_METHOD_PROBE = (
    "Out-of-sample probe: seeded K-fold cross-validation of OLS against non-linear learners "
    "(a penalised additive spline model with pairwise products, HistGradientBoostingRegressor) on identical "
    "folds; gain = relative MSE reduction of the best learner, 95% interval by the Nadeau-Bengio corrected "
    "resampled t"
)

_REMEDY_NONLINEAR = (
    "Use a non-linear model and compare it out of sample, e.g.\n"
    "from sklearn.ensemble import HistGradientBoostingRegressor\n"
    "from sklearn.model_selection import cross_val_score\n"
    "cross_val_score(HistGradientBoostingRegressor(), X, y, cv=5, scoring=\"r2\")\n"
    "or add the missing structure to the linear model (splines, interactions) if you need coefficients."
)


def nonlinear_probe(probe, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """Severity of the out-of-sample evidence from :func:`olscheck.verdict.probe.run_probe`.

    gain = 1 - MSE_best / MSE_OLS averaged over folds, with its 95% interval
    (Nadeau & Bengio 2003 corrected resampled t):

    - gain >= ``probe_gain_material`` and the interval's lower end > 0: FAIL,
      the conditional mean is materially non-linear;
    - lower end > 0 but a smaller gain: NOTE (real but small non-linearity);
    - otherwise OK: a non-linear learner does not beat the linear model.

    References
    ----------
    Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error.
    Machine Learning 52, 239-281.
    """
    name = "nonlinear_probe"
    if probe is None or not probe.computed:
        reason = "the probe was switched off (probe=False)" if probe is None else probe.reason
        return not_computable(name, ASSUMPTION, _METHOD_PROBE, reason)
    gain = probe.gain
    mean = gain.relative_mse_reduction_mean
    low, high = gain.relative_mse_reduction_ci
    ols_r2 = probe.models["ols"].r_squared
    best_r2 = probe.models[probe.best_learner].r_squared
    interval = f"95% CI {low:+.0%} to {high:+.0%}"
    if mean >= thresholds.probe_gain_material and low > 0:
        severity = Severity.FAIL
        message = (
            f"Problem: {probe.best_learner} cuts the out-of-sample error of OLS by {mean:.0%} ({interval}; "
            f"R² {ols_r2:.3f} -> {best_r2:.3f}): the conditional mean is materially non-linear."
        )
        remedy = _REMEDY_NONLINEAR
    elif low > 0:
        severity = Severity.NOTE
        message = (
            f"Note: {probe.best_learner} beats OLS out of sample, but only by {mean:.1%} of the error ({interval}), "
            f"below the {thresholds.probe_gain_material:.0%} that would make a non-linear model worth it."
        )
        remedy = None
    else:
        severity = Severity.OK
        message = (
            f"OK: no non-linear learner beats OLS out of sample materially (best: {probe.best_learner}, "
            f"error {abs(mean):.0%} {'lower' if mean > 0 else 'higher'} than OLS's, {interval})."
        )
        remedy = None
    return TestResult(
        name=name,
        assumption=ASSUMPTION,
        method=_METHOD_PROBE,
        statistic=mean,
        p_value=None,
        effect=mean,
        effect_name="relative MSE reduction of the best non-linear learner",
        severity=severity,
        message=message,
        remedy=remedy,
        details={
            "best_learner": probe.best_learner,
            "gain_ci_low": low,
            "gain_ci_high": high,
            "r_squared_ols": ols_r2,
            "r_squared_best": best_r2,
            "r_squared_gain": gain.r_squared_gain_mean,
            "sampled": probe.sampled,
            "n_used_for_probe": probe.n_used_for_probe,
        },
    )
