"""Streamed statistics -> the battery's TestResults, with the checks' own severity code.

Each statistic is the in-memory check's statistic computed from the
accumulated sums (see :mod:`olscheck.engine.residuals`); severities,
messages and remedies come from the check modules' pure result builders
(``normality.jarque_bera_result``, ``autocorrelation.durbin_watson_result``
/ ``breusch_godfrey_result``, ``heteroskedasticity.goldfeld_quandt_result``
/ ``chi_square_result`` (given the streamed HC3 change and error-SD
spread as a ``VarianceConsequence``), ``linearity.reset_result``,
``collinearity.vif_result`` / ``condition_index_result``,
``influence.influence_result`` / ``outlier_result``), which the in-memory
checks call too, so every sentence is written in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import autocorrelation, heteroskedasticity, influence, linearity, normality
from . import collinearity as collinearity_module
from ..numerics.covariance import StandardErrorChange, newey_west_lags, sandwich_from_meats
from ..numerics.lstsq import least_squares_from_factor
from ..numerics.qr import square
from ..model.fit import exact_fit_reason
from ..report.result import Assumption, TestResult, clean_float, not_computable
from ..engine.accumulate import ResidualStatistics
from ..engine.fit import StreamedFit
from ..verdict.decide import ModelFacts
from ..engine.residuals import AUX

__all__ = ["Battery", "battery", "WHOLE_SEQUENCE_TESTS", "whole_sequence_results"]

#: The tests that read every residual of the rows kept whole (all rows up to
#: ``exact_rows``, else the seeded sample, refitted), by result name. They
#: need only that fit, so :func:`whole_sequence_results` can compute them
#: before the accumulated statistics are ready (the in-memory battery does,
#: on a thread beside the passes over the rows).
WHOLE_SEQUENCE_TESTS = {
    "shapiro_wilk": normality.shapiro_wilk,
    "omnibus": normality.omnibus,
    "harvey_collier": linearity.harvey_collier,
    "rainbow": linearity.rainbow,
    "quadratic": linearity.quadratic,
}


# --------------------------------------------------------------------------- the battery
@dataclass(frozen=True)
class Battery:
    tests: dict
    collinearity: Any
    influence: Any
    rss: float
    facts: ModelFacts
    hc3: StandardErrorChange | None
    newey_west: StandardErrorChange | None
    #: In memory beyond ``exact_rows``: the seeded sample of rows the whole-sequence tests read (positions in
    #: the fit, in row order), its refit (None when it could not be fitted) and the note that says so.
    sample: tuple[np.ndarray, Any, str] | None = None


def battery(fit: StreamedFit, acc: ResidualStatistics, settings, *, facts: ModelFacts,
            collinearity: collinearity_module.CollinearitySummary,
            sample_fit, sample_complete: bool, sample_note: str | None, sample_rows: dict | None,
            durbin_watson_exact: bool | None, order: int, durbin_watson_exact_max_n: int = 3000,
            sample: tuple[np.ndarray, Any, str] | None = None) -> Battery:
    """Every result of ``olscheck.check``'s battery from the streamed statistics.

    ``sample`` is carried to :attr:`Battery.sample` (the in-memory battery's
    sample beyond ``exact_rows``; the streamed report states its sample itself).
    """
    n, k = fit.n, fit.rank
    df_resid = fit.df_resid
    sums = acc.power_sums
    shift = fit.residual_shift
    rss = float(sums[2] + 2.0 * shift * sums[1] + n * shift * shift)
    sigma2 = rss / df_resid if df_resid > 0 else math.nan
    aux_upper = _stack_halves(acc)
    columns = AUX(fit.slopes.size)
    slope_names = tuple(fit.kept_names[j] for j in fit.slopes)

    # sandwich standard-error changes (olscheck.numerics.covariance): the meats hold every coefficient's
    # direction; the slopes decide severities, the intercept's ratio rides along for the coefficient table
    if df_resid >= 1 and rss > 0 and slope_names:
        # the Newey-West meat was summed with the Bartlett weights of these lags (the same n)
        changes = sandwich_from_meats(acc.hc3, acc.sequence.sums["newey_west"], sigma2, tuple(fit.kept_names),
                                      newey_west_lags(n), null=(acc.null_sums, n, moments(fit, acc)[1]),
                                      intercept=0 if fit.has_intercept else None)
        hc3, newey_west = changes.hc3, changes.newey_west
    else:
        hc3 = newey_west = None

    # error-SD spread: Glejser regression of |e| on the regressors, quantiles over the sample rows
    spread = None
    if df_resid >= 1 and rss > 0 and fit.slopes.size and sample_rows is not None:
        glejser = least_squares_from_factor(aux_upper, columns.slopes, aux_upper[:, columns.abs], fit.has_intercept)
        fitted_sd = glejser.fitted(sample_rows["basis"])
        mean_abs = float(aux_upper[0, columns.abs] / aux_upper[0, 0])
        low, high = np.quantile(np.maximum(fitted_sd, 0.1 * mean_abs), [0.1, 0.9])
        spread = float(high / low)
    consequence = heteroskedasticity.VarianceConsequence(hc3, spread)

    tests: dict[str, TestResult] = {}
    tests.update(_heteroskedasticity(fit, acc, consequence, aux_upper, columns, rss, settings, sample_fit,
                                     sample_complete, sample_note))
    tests.update(_autocorrelation(fit, acc, rss, settings, newey_west, sample_fit, sample_complete,
                                  durbin_watson_exact, order, durbin_watson_exact_max_n))
    tests.update(_normality(fit, acc, rss, settings, sample_fit, sample_complete, sample_note))
    tests.update(_linearity(fit, acc, aux_upper, columns, rss, settings, sample_fit, sample_complete, sample_note))
    tests.update(collinearity.results)
    influence_summary = _influence(fit, acc, rss, settings)
    tests.update(influence_summary.results)
    return Battery(tests, collinearity, influence_summary, rss, facts, hc3, newey_west, sample)


def _stack_halves(acc: ResidualStatistics) -> np.ndarray:
    first, second = acc.halves
    if first is None:
        upper = second
    elif second is None:
        upper = first
    else:
        upper = np.linalg.qr(np.vstack([first, second]), mode="r")
    return square(upper, acc.auxiliary_width)


def _sampled(result: TestResult, note: str | None) -> TestResult:
    """Mark a whole-sequence test computed on the sample rather than on every row."""
    if note is None or not result.computable:
        return result
    return replace(result, method=f"{result.method}; {note}",
                   details={**dict(result.details), "computed_on": note})


# --------------------------------------------------------------------------- heteroskedasticity
def _exact_fit_reason(fit: StreamedFit, rss: float) -> str | None:
    """olscheck.model.fit.exact_fit_reason from the streamed sums (the one definition both paths use)."""
    return exact_fit_reason(rss, fit.y_squares, fit.n, fit.rank)


def _het_reason(fit: StreamedFit, acc: ResidualStatistics, rss: float, squares: bool = True) -> str | None:
    reason = _exact_fit_reason(fit, rss)
    if reason is None and squares:
        reason = heteroskedasticity.equal_squares_reason(acc.e_squared_min, acc.e_squared_max)
    return reason


def _heteroskedasticity(fit, acc, consequence, aux_upper, columns, rss, settings, sample_fit, sample_complete,
                        sample_note) -> dict[str, TestResult]:
    """The homoskedasticity tests from the accumulated auxiliary factor.

    ``breusch_pagan``
        Koenker's studentized Breusch-Pagan test on the model's regressors.

        With e the residuals, σ̂² = RSS/n and w = e² - σ̂², regress w on the
        model matrix X (the intercept included when the model has one)::

            BP = n · Σ ŵ² / Σ w²        (= n·R² of e² on X when X has an intercept)

        compared with χ² on rank(aux) - 1 degrees of freedom. Matches
        ``lmtest::bptest(fit)``, including its conventions for a model without
        intercept: the auxiliary regression then has no intercept either, the
        statistic uses the uncentred explained sum of squares and df is still
        rank - 1.

        The effect is the auxiliary R² (BP / n): the share of the variation of
        e² the regressors explain.

        References
        ----------
        Koenker (1981), J. Econometrics 17, 107-112; Breusch & Pagan (1979).

    ``breusch_pagan_original``
        Breusch & Pagan's (1979) original test, which assumes normal errors.

        Regress f = e²/σ̂² - 1 (σ̂² = RSS/n) on the model matrix X::

            BP = ESS / 2 = Σ f̂² / 2

        compared with χ² on rank(aux) - 1 degrees of freedom
        (``lmtest::bptest(fit, studentize = FALSE)``). Under non-normal errors
        its size is wrong (Koenker 1981); :func:`breusch_pagan` is the default.

        The effect is the auxiliary R², the same as for :func:`breusch_pagan`.

    ``white``
        White's test: e² on the regressors, their squares and cross-products.

        Koenker's n·R² form of the auxiliary regression (with intercept) of e² on
        the model's non-intercept columns x_j, their squares x_j² and products
        x_j x_l (j < l); χ² on rank(aux) - 1 df. This is
        ``lmtest::bptest(fit, ~ x1 + ... + I(x1^2) + ... + x1:x2 + ...)``.
        Squares of dummy columns (equal to the dummy) and products of dummies of
        one factor (zero) are skipped; other exact redundancies are dropped as
        aliased, the way ``lm`` does.

        When that regression has more than ``thresholds.white_max_terms_share``
        · n terms (or more than :data:`WHITE_MAX_TERMS`), when its n x (terms + 1)
        design would exceed ``thresholds.auxiliary_max_cells`` (judged on the
        upper bound p + p(p + 1)/2 terms, so nothing O(n p²) is built), or when
        it leaves no residual degree of freedom, the test falls back to the special White test of
        Wooldridge (2013, §8.3): e² on fitted and fitted², 2 df, which is
        ``bptest(fit, ~ fitted + I(fitted^2))``. ``details["form"]`` says which
        form was used and ``details["fallback_reason"]`` why. The special form's
        statistic and p-value are always in ``details`` (``special_statistic``,
        ``special_p_value``, ``special_df``).

        The effect is the auxiliary R² of the form used.

        References
        ----------
        White (1980), Econometrica 48, 817-838; Koenker (1981).

    ``goldfeld_quandt``
        Goldfeld-Quandt test: residual variance of the later half over the earlier half.

        With rows in data (time) order, ``lmtest::gqtest``'s defaults (point =
        0.5, fraction = 0) put the first floor(n/2) rows in segment 1 and the
        rest in segment 2 (for odd n the later segment has the extra row; R
        computes point1 = floor(n/2), point2 = ceiling(n/2 + 0.01)). Each
        segment is fitted separately::

            GQ = (RSS₂ / df₁) / (RSS₁ / df₂),  df₁ = n₂ - k₂, df₂ = n₁ - k₁

        compared with F(df₁, df₂), upper tail (alternative: variance increases).
        The df pair is reported in R's order (df1 = numerator).

        Deviation from R: k_i is the rank of segment i's fit. gqtest uses
        ncol(X) for both, which differs only when a segment is rank deficient
        (e.g. a factor level absent from one half) or the model has aliased
        columns; then RSS_i/σ² is χ² on n_i - rank_i, which is what is used.

        The effect is the variance ratio itself (1 = equal variances).

        References
        ----------
        Goldfeld & Quandt (1965), JASA 60, 539-547.

    ``ncv_fitted``
        Cook & Weisberg's score test of variance depending on the fitted values.

        With U = e²/σ̂² (σ̂² = RSS/n), regress U on the fitted values (with
        intercept)::

            S = ESS / 2,   χ² on 1 df

        This is ``car::ncvTest(fit)`` (what easystats' check_heteroscedasticity
        runs); it equals the original Breusch-Pagan statistic with the fitted
        values as the only variance regressor.

        The effect is the auxiliary R² of e² on the fitted values.

        References
        ----------
        Cook & Weisberg (1983), Biometrika 70, 1-10.
    """
    het = heteroskedasticity
    n = fit.n
    out: dict[str, TestResult] = {}
    reason = _het_reason(fit, acc, rss)
    sigma2_ml = rss / n
    # w = e² - mean(e²) as a column of the factor: d - mean(d)·1
    d_mean = aux_upper[0, columns.d] / aux_upper[0, 0]
    w_column = aux_upper[:, columns.d] - d_mean * aux_upper[:, columns.one]

    def variance(regressors, intercept):
        aux = least_squares_from_factor(aux_upper, regressors, w_column if not intercept else aux_upper[:, columns.d],
                                        intercept)
        return aux, aux.explained, aux.total

    # Breusch-Pagan, both forms
    bp_reason = het.breusch_pagan_rank_reason(fit.rank) or reason
    if bp_reason:
        out["breusch_pagan"] = not_computable("breusch_pagan", het.ASSUMPTION, het.METHOD_BP, bp_reason)
        out["breusch_pagan_original"] = not_computable("breusch_pagan_original", het.ASSUMPTION,
                                                       het.METHOD_BP_ORIGINAL, bp_reason)
    else:
        aux, explained, total = variance(columns.slopes, fit.has_intercept)
        r_squared = explained / total
        out["breusch_pagan"] = het.chi_square_result(
            "breusch_pagan", het.METHOD_BP, n * explained / total, aux.rank - 1, r_squared,
            het.REGRESSORS_EFFECT, settings, het.REGRESSORS_FINDING, consequence)
        out["breusch_pagan_original"] = het.chi_square_result(
            "breusch_pagan_original", het.METHOD_BP_ORIGINAL, 0.5 * explained / sigma2_ml**2, aux.rank - 1,
            r_squared, het.REGRESSORS_EFFECT, settings, het.REGRESSORS_FINDING, consequence)

    constant_fitted = fit.model_ss <= 0 or not fit.slopes.size
    # special White form: e² on fitted and fitted²
    special = None
    if reason is None and not constant_fitted:
        aux, explained, total = variance([columns.fitted, columns.fitted2], True)
        if aux.rank - 1 >= 1:
            statistic = n * explained / total
            special = (statistic, float(stats.chi2.sf(statistic, aux.rank - 1)), aux.rank - 1, explained / total)
    # White: the full form needs squares and products of every regressor (O(n p⁴) streamed); it is computed
    # when every row is in memory, as the in-memory path does; otherwise the special form
    if sample_complete and sample_fit is not None:
        out["white"] = het.white_full(sample_fit, settings, special, consequence, reason)
    else:
        white_reason = reason
        if white_reason is None and fit.rank - (1 if fit.has_intercept else 0) < 1:
            white_reason = het.NO_REGRESSOR_REASON
        method = (f"{het.METHOD_WHITE_SPECIAL}; the special form is used beyond exact_rows rows "
                  "(the full form needs every square and cross-product of the regressors on every row)")
        if white_reason:
            out["white"] = not_computable("white", het.ASSUMPTION, method, white_reason)
        elif special is None:
            out["white"] = not_computable("white", het.ASSUMPTION, method, het.SPECIAL_FORM_REASON)
        else:
            statistic, p_value, df, r_squared = special
            details = {"form": "special (fitted, fitted^2)",
                       "fallback_reason": "the full White regression is computed only up to exact_rows rows",
                       "special_statistic": statistic, "special_p_value": p_value, "special_df": df}
            out["white"] = het.chi_square_result(
                "white", method, statistic, df, r_squared, het.WHITE_SPECIAL_EFFECT, settings,
                het.FITTED_FINDING, consequence, details)

    # Goldfeld-Quandt: the two halves' own regressions of e on the regressors
    gq_reason = _het_reason(fit, acc, rss, squares=False)
    if gq_reason is None and fit.rank < 1:
        gq_reason = het.NO_COEFFICIENTS_REASON
    if gq_reason:
        out["goldfeld_quandt"] = not_computable("goldfeld_quandt", het.ASSUMPTION, het.METHOD_GQ, gq_reason)
    else:
        split = n // 2
        halves = [square(h, acc.auxiliary_width) for h in acc.halves]
        first = least_squares_from_factor(halves[0], columns.slopes, halves[0][:, columns.e], fit.has_intercept)
        second = least_squares_from_factor(halves[1], columns.slopes, halves[1][:, columns.e], fit.has_intercept)
        out["goldfeld_quandt"] = het.goldfeld_quandt_result(first.rss, second.rss, split, n - split, first.rank,
                                                            second.rank, fit.rank, consequence, settings,
                                                            columns=fit.rank + len(fit.aliased))

    # Cook-Weisberg on the fitted values
    if reason:
        out["ncv_fitted"] = not_computable("ncv_fitted", het.ASSUMPTION, het.METHOD_NCV, reason)
    elif constant_fitted:
        out["ncv_fitted"] = not_computable("ncv_fitted", het.ASSUMPTION, het.METHOD_NCV, het.CONSTANT_FITTED_REASON)
    else:
        aux, explained, total = variance([columns.fitted], True)
        if aux.rank < 2:
            out["ncv_fitted"] = not_computable("ncv_fitted", het.ASSUMPTION, het.METHOD_NCV,
                                               het.CONSTANT_FITTED_REASON)
        else:
            out["ncv_fitted"] = het.chi_square_result(
                "ncv_fitted", het.METHOD_NCV, 0.5 * explained / sigma2_ml**2, 1, explained / total,
                het.NCV_EFFECT, settings, het.FITTED_FINDING, consequence)
    order = ["breusch_pagan", "breusch_pagan_original", "white", "goldfeld_quandt", "ncv_fitted"]
    return {name: out[name] for name in order}


# --------------------------------------------------------------------------- autocorrelation
def _autocorrelation(fit, acc, rss, settings, newey_west, sample_fit, sample_complete, exact,
                     order, exact_max_n) -> dict[str, TestResult]:
    """The independence tests from the accumulated sequence sums.

    ``durbin_watson``
        Durbin-Watson test for lag-1 autocorrelation of the errors, ``lmtest::dwtest``.

        ``d = sum_{t>=2} (e_t - e_{t-1})² / sum_t e_t²`` on the residuals in row
        order; ``rho = 1 - d/2`` estimates their lag-1 autocorrelation.

        The p-value is for H1: rho > 0, ``P(D <= d)`` under H0 of independent
        normal errors (``dwtest(alternative = "greater")``):

        * exact: d's null distribution is that of ``sum lambda_i z_i² / sum z_i²``
          with ``lambda_i`` the nonzero eigenvalues of ``M A``
          (:func:`durbin_watson_eigenvalues`), evaluated by Pan's algorithm
          with 15 terms (:func:`pan_probability`) as lmtest's Fortran ``pan``,
          checked against Imhof's integral (:func:`exact_probability`);
        * normal approximation: ``Phi((d - E d) / sd(d))`` with the exact null
          moments of d (:func:`durbin_watson_moments`).

        ``details["p_value_two_sided"]`` is ``2 min(p, 1 - p)``, dwtest's
        two-sided p-value; ``details["distribution"]`` names the distribution
        used: ``"exact (Pan)"``, ``"exact (Imhof)"`` or ``"normal approximation,
        exact moments"``.

        Parameters
        ----------
        fit : LinearFit
        thresholds : Thresholds
        exact : bool or None
            None: exact below 100 rows, as dwtest. True: exact up to
            ``exact_max_n`` rows (beyond, the normal approximation, and
            ``details["distribution_note"]`` says why). False: the normal
            approximation (below 5 rows, where dwtest gives up with p = 1, the
            exact distribution instead).
        exact_max_n : int
            Largest n for the exact distribution when ``exact=True``: its
            eigenvalues take O(n³) time and O(n²) memory (about 10 s at 3000
            rows on two cores).

        Notes
        -----
        Deviation from dwtest, on purpose: its 15-term Pan series is not always
        accurate. Where it is more than ``PAN_AGREEMENT`` (1e-4) from the exact
        probability -- occasionally below 100 rows, where it has been seen off
        by 0.26, and almost always with ``exact=TRUE`` beyond about 110 rows,
        where dwtest then either reports the inaccurate value or falls back to
        the normal approximation -- the p-value here is the exact one from
        Imhof's integral, ``details["distribution"]`` is ``"exact (Imhof)"`` and
        ``details["p_value_pan"]`` holds dwtest's value (None when outside
        [0, 1]). Everywhere else the p-value is dwtest's to rounding.

        k is the rank of the fit (dwtest uses the number of columns of X, which
        differs only for an aliased design, where dwtest itself fails).

    ``breusch_godfrey``
        Breusch-Godfrey LM test for autocorrelation up to lag ``order``, ``lmtest::bgtest``.

        Auxiliary regression of the residuals e on the model's regressors and
        ``e_{t-1}, ..., e_{t-order}`` (lags before the first row set to 0, as
        ``bgtest(fill = 0)``), with fitted values f and residuals u::

            LM = n sum f² / sum e²        ~ chi-square(order)
            F  = ((sum e² - sum u²) / order) / (sum u² / (n - k - order))
                                          ~ F(order, n - k - order)

        ``sum f² / sum e²`` is the auxiliary R² (centred and uncentred agree
        when the model has an intercept, as the residuals then have mean 0;
        bgtest uses the uncentred one, as here). The chi-square form is the
        result (``bgtest(type = "Chisq")``, the default); the F form
        (``type = "F"``) is in ``details``.

        Notes
        -----
        Computed by the battery (:mod:`olscheck.checks.battery`) from sums over
        the rows: the lagged products ``L'e``, ``Q'L`` and ``L'L`` give the
        auxiliary regression through a Schur complement of size ``order``,
        O(n k · order), in memory and streamed alike.
    """
    ac = autocorrelation
    n, k = fit.n, fit.rank
    out: dict[str, TestResult] = {}
    sums = acc.sequence.sums
    head_e, head_q, _ = acc.sequence.head
    tail_e, tail_q, _ = acc.sequence.tail

    # Durbin-Watson: d from the sums, the null moments from Q'AQ = (DQ)'(DQ) and ||AQ||² (O(n k²) over the rows)
    if (reason := ac.durbin_watson_rows_reason(n, k)) is not None:
        out["durbin_watson"] = not_computable("durbin_watson", Assumption.INDEPENDENCE, ac.DW_METHOD, reason)
    elif (reason := _exact_fit_reason(fit, rss)) is not None:
        out["durbin_watson"] = not_computable("durbin_watson", Assumption.INDEPENDENCE, ac.DW_METHOD, reason)
    else:
        def null_moments():
            end_terms = float(np.sum((head_q[0] - head_q[1]) ** 2) + np.sum((tail_q[-1] - tail_q[-2]) ** 2))
            return ac.durbin_watson_null_moments(n, k, sums["dq"], sums["aq"] + end_terms)

        out["durbin_watson"] = ac.durbin_watson_decided(
            sums["dw"] / rss, n, null_moments, settings, exact=exact, exact_max_n=exact_max_n,
            rows_fit=sample_fit if sample_complete else None, hac=newey_west)

    # Breusch-Godfrey
    method = ac.bg_method(order)
    if (reason := ac.breusch_godfrey_rows_reason(n, k, order)) is not None:
        out["breusch_godfrey"] = not_computable("breusch_godfrey", Assumption.INDEPENDENCE, method, reason)
    elif (reason := _exact_fit_reason(fit, rss)) is not None:
        out["breusch_godfrey"] = not_computable("breusch_godfrey", Assumption.INDEPENDENCE, method, reason)
    else:
        lag_e = sums["lag_e"]
        q_lag = sums["lag_qe"].T  # k x order: Q'L
        lagged_e = lag_e[:order]  # L'e
        lag_gram = np.empty((order, order))
        memory = tail_e.size
        for i in range(order):
            for j in range(i + 1):
                lag_i, lag_j = i + 1, j + 1  # lag_i >= lag_j
                h = lag_i - lag_j
                gamma = rss if h == 0 else lag_e[h - 1]
                # remove the pairs e_s e_{s+h} with s > n - 1 - lag_i (lagged values past the end)
                first = memory - lag_i
                correction = float(tail_e[first:memory - h] @ tail_e[first + h:memory]) if h else float(
                    tail_e[first:] @ tail_e[first:])
                lag_gram[i, j] = lag_gram[j, i] = gamma - correction
        q_e = acc.q_e
        schur = lag_gram - q_lag.T @ q_lag
        right = lagged_e - q_lag.T @ q_e
        explained = float(q_e @ q_e + right @ np.linalg.solve(schur, right))
        # the auxiliary residual sum of squares by Pythagoras (e is orthogonal to the regressors)
        out["breusch_godfrey"] = ac.breusch_godfrey_result(explained, rss, rss - explained, n, k, order, settings,
                                                           newey_west)
    return out


# --------------------------------------------------------------------------- normality
def moments(fit: StreamedFit, acc: ResidualStatistics) -> tuple[float, float]:
    """Skewness g1 and kurtosis b2 (divisor n) from the power sums of e - shift."""
    count, s1, s2, s3, s4 = acc.power_sums
    delta = s1 / count
    m2 = s2 / count - delta**2
    m3 = s3 / count - 3 * delta * s2 / count + 2 * delta**3
    m4 = s4 / count - 4 * delta * s3 / count + 6 * delta**2 * s2 / count - 3 * delta**4
    return float(m3 / m2**1.5), float(m4 / (m2 * m2))


def _normality(fit, acc, rss, settings, sample_fit, sample_complete, sample_note) -> dict[str, TestResult]:
    """Jarque-Bera from the power sums; Shapiro-Wilk and the omnibus test on the rows kept whole.

    ``jarque_bera``
        Jarque-Bera test of the residuals, ``tseries::jarque.bera.test``.

        ``JB = n g1² / 6 + n (b2 - 3)² / 24``, chi-square with 2 df under
        normality, with g1 and b2 from :func:`residual_moments`.

        The p-value is the upper tail ``exp(-JB / 2)`` computed directly; R's
        ``1 - pchisq`` agrees to 1e-16 absolute and rounds to 0 below that.
        Computed by the battery from the residuals' power sums
        (:mod:`olscheck.checks.battery`), in memory and streamed alike.
    """
    n = fit.n
    out: dict[str, TestResult] = {}
    reason = _exact_fit_reason(fit, rss)
    if reason:
        out["jarque_bera"] = not_computable("jarque_bera", Assumption.NORMALITY, normality.JARQUE_BERA_METHOD, reason)
    else:
        skewness, kurtosis = moments(fit, acc)
        # the octile skewness reads the residuals: those of the rows kept whole (all of them up to
        # exact_rows; beyond, residual df exceed large_sample_n and the skewness gate cannot warn)
        robust = normality.octile_skewness(sample_fit.residuals) if sample_fit is not None else None
        out["jarque_bera"] = normality.jarque_bera_result(skewness, kurtosis, n, fit.df_resid, settings, robust)
    # Shapiro-Wilk and the omnibus test read every residual: on the rows kept whole
    if not normality.SHAPIRO_WILK_MIN_N <= n <= normality.SHAPIRO_WILK_MAX_N:
        out["shapiro_wilk"] = not_computable("shapiro_wilk", Assumption.NORMALITY, normality.SHAPIRO_WILK_METHOD,
                                             normality.shapiro_wilk_rows_reason(n))
    else:
        out["shapiro_wilk"] = _whole("shapiro_wilk", Assumption.NORMALITY,
                                     normality.SHAPIRO_WILK_METHOD, sample_fit, settings, sample_note)
    out["omnibus"] = _whole("omnibus", Assumption.NORMALITY, normality.OMNIBUS_METHOD, sample_fit, settings,
                            sample_note)
    return out


def _whole(name, assumption, method, sample_fit, settings, sample_note) -> TestResult:
    if sample_fit is None:
        return not_computable(name, assumption, method,
                              "needs the whole residual sequence, and no sample of the streamed rows could be fitted")
    return _sampled(_whole_result(name, sample_fit, settings), sample_note)


def _whole_result(name: str, sample_fit, settings) -> TestResult:
    """``WHOLE_SEQUENCE_TESTS[name](sample_fit, settings)``, computed once per fit and settings."""
    return sample_fit.computed_once(("whole-sequence test", name, settings),
                                    lambda: WHOLE_SEQUENCE_TESTS[name](sample_fit, settings))


def whole_sequence_results(sample_fit, settings, n: int) -> None:
    """Compute the results of :data:`WHOLE_SEQUENCE_TESTS` that :func:`battery` will read, and keep them on the fit.

    ``n`` is the number of rows of the whole model (Shapiro-Wilk runs only
    when it is within the test's range). :func:`battery` then finds them
    computed; the values are those it would compute itself.
    """
    for name in WHOLE_SEQUENCE_TESTS:
        if name != "shapiro_wilk" or normality.SHAPIRO_WILK_MIN_N <= n <= normality.SHAPIRO_WILK_MAX_N:
            _whole_result(name, sample_fit, settings)


# --------------------------------------------------------------------------- linearity
def _linearity(fit, acc, aux_upper, columns, rss, settings, sample_fit, sample_complete,
               sample_note) -> dict[str, TestResult]:
    out: dict[str, TestResult] = {}
    n = fit.n
    powers = (2, 3)
    method = linearity.reset_method(powers)
    reason = linearity.NO_COEFFICIENTS_REASON if fit.rank < 1 else _exact_fit_reason(fit, rss)
    if reason is None and (fit.model_ss <= 0 or (fit.has_intercept and not fit.slopes.size)):
        reason = linearity.CONSTANT_FITTED_REASON
    if reason:
        out["reset"] = not_computable("reset", linearity.ASSUMPTION, method, reason)
    else:
        aux = least_squares_from_factor(aux_upper, [*columns.slopes, columns.reset2, columns.reset3],
                                        aux_upper[:, columns.e], fit.has_intercept)
        # least_squares' fitted values include the mean of e (0 up to rounding with an intercept)
        drop = aux.explained + (n * aux.v_mean**2 if fit.has_intercept else 0.0)
        out["reset"] = linearity.reset_result(method, powers, drop, aux.rss, aux.rank, fit.rank, n, settings)
    # recursive residuals, the central subset and the second-order expansion read every row
    for name in ("harvey_collier", "rainbow"):
        out[name] = _whole(name, linearity.ASSUMPTION, name.replace("_", "-"), sample_fit, settings, sample_note)
    # the second-order expansion caps its own work (thresholds.auxiliary_max_cells), as in memory
    out["quadratic"] = _whole("quadratic", linearity.ASSUMPTION, "quadratic", sample_fit, settings, sample_note)
    return out


# --------------------------------------------------------------------------- collinearity
# --------------------------------------------------------------------------- influence
@dataclass(frozen=True, eq=False)
class StreamedInfluence(influence.InfluenceSummary):
    """InfluenceSummary whose per-row arrays hold only the rows with the largest Cook's distances.

    ``positions`` are those rows' 0-based positions among the rows used;
    counts and maxima are over every row.
    """

    positions: tuple = ()

    def top_rows(self, count: int = influence.TOP_ROWS) -> list[dict[str, Any]]:
        out = []
        for i in range(min(count, len(self.positions))):
            out.append({
                "row": influence.json_row_label(self.row_index[i]),
                "position": int(self.positions[i]) + 1,
                "cooks_distance": clean_float(self.cooks_distance[i]),
                "leverage": clean_float(self.leverage[i]),
                "studentized_residual": clean_float(self.studentized_residuals[i]),
            })
        return out


def _influence(fit, acc: ResidualStatistics, rss: float, settings) -> influence.InfluenceSummary:
    """The influence summary and its two results from the accumulated counts and extremes.

    With ``fit.keep_rows`` (in memory) the summary holds every row's
    measures; otherwise (streamed) the rows with the largest Cook's
    distances (:class:`StreamedInfluence`). Counts, maxima and the results
    are the same either way.
    """
    n = fit.n
    if fit.rank == 0:
        reason = influence.NO_COEFFICIENTS_REASON
    else:
        reason = _exact_fit_reason(fit, rss)
    top = acc.top
    if fit.keep_rows:
        cooks, studentized, leverage = (np.concatenate([block[i] for block in acc.rows]) if acc.rows
                                        else np.zeros(0) for i in range(3))
        if reason is not None:
            cooks, studentized = np.full(n, np.nan), np.full(n, np.nan)
        kind, labels, extra = influence.InfluenceSummary, fit.row_index, {}
    else:
        labels = pd.Index([row[2] for row in top]) if top else pd.RangeIndex(0)
        cooks = np.array([row[0] for row in top], dtype=float)
        leverage = np.array([row[3] for row in top], dtype=float)
        studentized = np.array([np.nan if row[4] is None else row[4] for row in top], dtype=float)
        kind, extra = StreamedInfluence, {"positions": tuple(row[1] for row in top)}
        if reason is not None:
            cooks, studentized, leverage, labels, extra = (np.full(0, np.nan), np.full(0, np.nan), np.zeros(0),
                                                           pd.RangeIndex(0), {})
    for array in (cooks, leverage, studentized):
        array.setflags(write=False)
    if reason is not None:
        summary = kind(
            cooks_distance=cooks, leverage=leverage, studentized_residuals=studentized, row_index=labels,
            cooks_threshold=4.0 / n, max_cooks_distance=None, argmax_row=None, argmax_position=None,
            max_leverage=clean_float(acc.max_leverage), max_abs_studentized_residual=None, n_influential=None,
            n_leverage_one=acc.n_leverage_one, reason=reason, **extra)
        results = {
            "influence": not_computable("influence", Assumption.NO_INFLUENTIAL_POINTS, influence.INFLUENCE_METHOD,
                                        reason),
            "outlier_test": not_computable("outlier_test", Assumption.NO_INFLUENTIAL_POINTS,
                                           influence.OUTLIER_METHOD, reason),
        }
        return replace(summary, results=MappingProxyType(results))
    worst = acc.worst_studentized
    summary = kind(
        cooks_distance=cooks, leverage=leverage, studentized_residuals=studentized, row_index=labels,
        cooks_threshold=4.0 / n,
        max_cooks_distance=float(top[0][0]) if top else None,
        argmax_row=top[0][2] if top else None,
        argmax_position=top[0][1] + 1 if top else None,
        max_leverage=float(acc.max_leverage),
        max_abs_studentized_residual=worst[0] if worst else None,
        n_influential=acc.n_influential,
        n_leverage_one=acc.n_leverage_one,
        **extra,
    )
    if not top:
        influence_test = not_computable("influence", Assumption.NO_INFLUENTIAL_POINTS, influence.INFLUENCE_METHOD,
                                        influence.ALL_LEVERAGE_ONE_REASON)
    else:
        influence_test = influence.influence_result(summary, n, settings)
    results = {"influence": influence_test, "outlier_test": _outlier_test(worst, acc.n_studentized, fit.df_resid,
                                                                          settings)}
    return replace(summary, results=MappingProxyType(results))


def _outlier_test(worst, count: int, df_resid: int, settings) -> TestResult:
    """influence.outlier_test from the largest |t| and the number of rows with a defined t."""
    if worst is None:
        return influence.outlier_result(None, 0, df_resid, None, None, settings)
    _, t_value, position, label = worst
    return influence.outlier_result(t_value, count, df_resid, label, position, settings)
