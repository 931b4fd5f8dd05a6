"""olscheck.checks.heteroskedasticity against lmtest::bptest, lmtest::gqtest and car::ncvTest.

Reference values: ../shared/reference (R values for 12 real cases) and
fixtures/heteroskedasticity_r.json, made by fixtures/heteroskedasticity_r.R
(full White test, two-sided Goldfeld-Quandt p-values and synthetic cases:
odd n, no intercept, a saturated White regression, a rank-deficient half).
Tolerances are those of ../shared/reference/parity.py: 1e-6 relative on
statistics, 1e-5 relative (1e-9 absolute) on p-values.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from olscheck.checks.heteroskedasticity import (METHOD_GQ, WHITE_MAX_TERMS, VarianceConsequence,
                                               goldfeld_quandt_result)
from tests.checks import one_test
from tests.checks.one_test import breusch_pagan, breusch_pagan_original, goldfeld_quandt, ncv_fitted, white
from olscheck.inputs.prepare import prepare
from olscheck.model.fit import fit as fit_model
from olscheck.report.result import Assumption, Severity
from olscheck.thresholds import DEFAULT_THRESHOLDS, Thresholds
from tests.helpers import fit_arrays, fit_reference, needs_reference, reference_cases

R_FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "heteroskedasticity_r.json").read_text())
SYNTHETIC = R_FIXTURE["synthetic"]

STATISTIC_RTOL = 1e-6
P_RTOL, P_ATOL = 1e-5, 1e-9


def assert_matches(result, want, *, df_keys=("df",)):
    """statistic, p-value and df of a TestResult against an R value (parity tolerances)."""
    assert result.computable, result.reason
    assert result.statistic == pytest.approx(want["statistic"], rel=STATISTIC_RTOL)
    assert math.isclose(result.p_value, want["p_value"], rel_tol=P_RTOL, abs_tol=P_ATOL), (result.p_value, want["p_value"])
    assert result.df == tuple(float(want[k]) for k in df_keys)


def synthetic_fit(case: dict):
    frame = pd.DataFrame(case["data"])
    factors = case.get("factors") or []
    if isinstance(factors, str):
        factors = [factors]
    predictors = case["predictors"] if isinstance(case["predictors"], list) else [case["predictors"]]
    return fit_model(prepare(frame, target="y", predictors=predictors, categorical=factors,
                             intercept=case["intercept"]))


# ---------------------------------------------------------------------------
# the 12 R reference cases
# ---------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_breusch_pagan_koenker_matches_bptest(case_id):
    expected, fit = fit_reference(case_id)
    result = breusch_pagan(fit)
    assert_matches(result, expected["breusch_pagan_koenker"])
    # effect: the auxiliary R², n·R² = BP
    assert result.effect == pytest.approx(result.statistic / fit.n, rel=1e-12)


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_breusch_pagan_original_matches_bptest_unstudentized(case_id):
    expected, fit = fit_reference(case_id)
    assert_matches(breusch_pagan_original(fit), expected["breusch_pagan_original"])


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_ncv_fitted_matches_car_ncvtest(case_id):
    expected, fit = fit_reference(case_id)
    assert_matches(ncv_fitted(fit), expected["ncv_test_fitted"])


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_goldfeld_quandt_matches_gqtest(case_id):
    expected, fit = fit_reference(case_id)
    result = goldfeld_quandt(fit)
    want = expected["goldfeld_quandt"]
    if "p_value_lmtest" in result.details:
        # a rank-deficient half (warpbreaks without an intercept): olscheck's df are n - rank (see
        # test_goldfeld_quandt_df_of_a_rank_deficient_half_is_n_minus_rank); lmtest's own numbers, df n - ncol(X),
        # are computed beside them and must equal R's
        assert result.details["statistic_lmtest"] == pytest.approx(want["statistic"], rel=STATISTIC_RTOL)
        assert math.isclose(result.details["p_value_lmtest"], want["p_value"], rel_tol=P_RTOL, abs_tol=P_ATOL)
        assert result.df == (want["df1"] + result.details["columns"] - result.details["rank_second"],
                             want["df2"] + result.details["columns"] - result.details["rank_first"])
        return
    assert_matches(result, want, df_keys=("df1", "df2"))
    two_sided = R_FIXTURE["reference_cases"][case_id]["goldfeld_quandt"]["p_value_two_sided"]
    assert math.isclose(result.details["p_value_two_sided"], two_sided, rel_tol=P_RTOL, abs_tol=P_ATOL)
    assert result.effect == result.statistic
    # gqtest's split: floor(n/2) rows first, the rest (one more for odd n) second
    assert result.details["n_first"] == fit.n // 2
    assert result.details["n_second"] == fit.n - fit.n // 2


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_white_special_form_matches_bptest_on_fitted(case_id):
    expected, fit = fit_reference(case_id)
    result = white(fit)
    want = expected["white_special"]
    assert result.details["special_statistic"] == pytest.approx(want["statistic"], rel=STATISTIC_RTOL)
    assert math.isclose(result.details["special_p_value"], want["p_value"], rel_tol=P_RTOL, abs_tol=P_ATOL)
    assert result.details["special_df"] == want["df"]


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_white_full_or_fallback_matches_r(case_id):
    expected, fit = fit_reference(case_id)
    result = white(fit)
    full = R_FIXTURE["reference_cases"][case_id]["white_full"]
    if result.details["form"] == "full":
        assert_matches(result, full)
        assert result.details["fallback_reason"] is None
        assert "full form" in result.method
    else:
        # only longley (16 rows, 6 regressors: 27 White terms) needs the special form
        assert case_id == "longley"
        assert result.details["form"] == "special (fitted, fitted^2)"
        assert "27" in result.details["fallback_reason"]
        assert "special form" in result.method and "too many terms" in result.method
        assert_matches(result, expected["white_special"])


@needs_reference
def test_white_skips_squares_of_dummies_and_products_within_a_factor():
    # mtcars: wt, hp, cyl6, cyl8 -> 4 linear, wt², hp², 5 products (cyl6·cyl8 = 0 skipped): 11 terms
    _, fit = fit_reference("mtcars_factor")
    result = white(fit)
    assert result.details["n_terms"] == 11
    assert result.df == (R_FIXTURE["reference_cases"]["mtcars_factor"]["white_full"]["aux_rank"] - 1,)


# ---------------------------------------------------------------------------
# synthetic R fixtures: odd n, no intercept, saturated White, rank-deficient half
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case_id", ["gq_odd", "nointercept", "white_saturated"])
def test_synthetic_cases_match_r(case_id):
    case = SYNTHETIC[case_id]
    fit = synthetic_fit(case)
    assert_matches(breusch_pagan(fit), case["breusch_pagan"])
    assert_matches(breusch_pagan_original(fit), case["breusch_pagan_original"])
    assert_matches(ncv_fitted(fit), case["ncv_fitted"])
    gq = goldfeld_quandt(fit)
    assert_matches(gq, case["goldfeld_quandt"], df_keys=("df1", "df2"))
    assert math.isclose(gq.details["p_value_two_sided"], case["goldfeld_quandt"]["p_value_two_sided"],
                        rel_tol=P_RTOL, abs_tol=P_ATOL)
    w = white(fit)
    assert w.details["special_statistic"] == pytest.approx(case["white_special"]["statistic"], rel=STATISTIC_RTOL)
    if case_id == "white_saturated":
        assert_matches(w, case["white_special"])
    else:
        assert_matches(w, case["white_full"])


def test_goldfeld_quandt_odd_n_puts_the_extra_row_in_the_later_half():
    fit = synthetic_fit(SYNTHETIC["gq_odd"])
    result = goldfeld_quandt(fit)
    assert fit.n == 41
    assert (result.details["n_first"], result.details["n_second"]) == (20, 21)
    assert result.df == (21 - 3, 20 - 3)
    # variance grows along the rows in this data; Goldfeld-Quandt is supporting evidence (the family's
    # decision rests on the studentized Breusch-Pagan test), so at most a note
    assert result.severity is Severity.NOTE
    assert result.message.startswith("Note: ") and "supporting" in result.message
    assert "(p < 0.001)" in result.message
    assert result.details["primary"] is False
    assert "cov_type=\"HC3\"" in result.remedy


def test_no_intercept_model_keeps_bptest_conventions():
    # bptest: the auxiliary regression has no intercept either and df = rank - 1 = 1
    fit = synthetic_fit(SYNTHETIC["nointercept"])
    assert not fit.has_intercept
    assert breusch_pagan(fit).df == (1.0,)
    # White's auxiliary regression always has an intercept: 2 + 3 terms
    assert white(fit).df == (5.0,)


def test_white_falls_back_when_terms_exceed_share_of_n():
    fit = synthetic_fit(SYNTHETIC["white_saturated"])
    result = white(fit)  # 9 terms > 0.5 * 10
    assert result.details["form"] == "special (fitted, fitted^2)"
    assert "white_max_terms_share" in result.details["fallback_reason"]
    assert result.details["n_terms"] >= 6


def test_white_falls_back_when_the_full_regression_is_saturated():
    fit = synthetic_fit(SYNTHETIC["white_saturated"])
    assert SYNTHETIC["white_saturated"]["white_full"]["aux_rank"] == fit.n  # R: the full regression is saturated
    result = white(fit, Thresholds(white_max_terms_share=1.0))  # 9 terms <= 10 rows, but no residual df
    assert result.details["form"] == "special (fitted, fitted^2)"
    assert "no residual degree of freedom" in result.details["fallback_reason"]
    assert_matches(result, SYNTHETIC["white_saturated"]["white_special"])


def test_white_falls_back_beyond_the_computational_cap():
    rng = np.random.default_rng(5)
    n, p = 1500, 24  # 24 + 300 = 324 terms > WHITE_MAX_TERMS, though far below 0.5 * n
    x = rng.normal(size=(n, p))
    fit = fit_arrays(x.sum(axis=1) + rng.normal(size=n), {f"x{j}": x[:, j] for j in range(p)})
    result = white(fit)
    assert result.details["form"] == "special (fitted, fitted^2)"
    assert str(WHITE_MAX_TERMS) in result.details["fallback_reason"]
    assert result.statistic == result.details["special_statistic"]


def test_goldfeld_quandt_uses_each_halfs_rank():
    # Deliberate deviation: gqtest divides the first half's RSS by n1 - ncol(X) although level "b" is
    # absent there (rank 2, not 3); olscheck uses n1 - rank, computed here in R from lm.fit's rank.
    case = SYNTHETIC["gq_rank_deficient"]
    fit = synthetic_fit(case)
    result = goldfeld_quandt(fit)
    assert_matches(result, case["rank_aware"], df_keys=("df1", "df2"))
    assert result.df[1] == case["gqtest"]["df2"] + 1
    assert result.df[0] == case["gqtest"]["df1"]


def test_goldfeld_quandt_method_names_the_halves_ranks_where_they_differ_from_k():
    # level "b" absent from the first half: ranks 2 (R's lm.fit) and 3 against gqtest's k = ncol(X) = 3
    case = SYNTHETIC["gq_rank_deficient"]
    result = goldfeld_quandt(synthetic_fit(case))
    ranks = case["rank_aware"]["rank_first"], case["rank_aware"]["rank_second"]
    assert ranks == (2, 3)
    assert result.method == (f"{METHOD_GQ}; df from the halves' ranks 2 and 3 (lmtest uses k = 3 columns for both, "
                             "its p-value in details)")
    # gqtest's own numbers, from R, stay in details
    assert result.details["statistic_lmtest"] == pytest.approx(case["gqtest"]["statistic"], rel=STATISTIC_RTOL)
    assert math.isclose(result.details["p_value_lmtest"], case["gqtest"]["p_value"], rel_tol=P_RTOL, abs_tol=P_ATOL)
    assert (result.details["rank_first"], result.details["rank_second"], result.details["columns"]) == (2, 3, 3)


def test_goldfeld_quandt_method_is_lmtests_when_both_halves_have_full_rank():
    rng = np.random.default_rng(5)
    x = rng.normal(size=40)
    fit = fit_arrays(1 + x + rng.normal(size=40), {"x": x, "x2": x**2})
    result = goldfeld_quandt(fit)
    assert result.method == METHOD_GQ
    assert not {"p_value_lmtest", "statistic_lmtest", "rank_first"} & set(result.details)


def test_goldfeld_quandt_without_lmtest_df_says_so():
    # halves of 4 rows, ranks 2 and 3 of k = 4 columns: olscheck's df (1, 2) exist, lmtest's n_i - k = 0 do not
    consequence = VarianceConsequence(hc3=None, error_sd_spread=None)
    result = goldfeld_quandt_result(2.0, 3.0, 4, 4, 2, 3, 3, consequence, columns=4)
    assert result.df == (1, 2)
    assert result.statistic == pytest.approx((3.0 / 1) / (2.0 / 2))
    assert result.method == (f"{METHOD_GQ}; df from the halves' ranks 2 and 3 (lmtest uses k = 4 columns for both, "
                             "which leaves a half no degrees of freedom)")
    assert result.details["p_value_lmtest"] is None and result.details["statistic_lmtest"] is None


# ---------------------------------------------------------------------------
# closed forms
# ---------------------------------------------------------------------------
def test_koenker_statistic_is_n_r_squared_of_squared_residuals():
    rng = np.random.default_rng(3)
    n = 80
    x1, x2 = rng.uniform(1, 4, n), rng.normal(size=n)
    y = 1 + x1 + x2 + rng.normal(scale=x1, size=n)
    fit = fit_arrays(y, {"x1": x1, "x2": x2})
    e2 = fit.residuals**2
    design = np.column_stack([np.ones(n), x1, x2])
    fitted = design @ np.linalg.lstsq(design, e2, rcond=None)[0]
    r2 = 1 - np.sum((e2 - fitted) ** 2) / np.sum((e2 - e2.mean()) ** 2)
    assert breusch_pagan(fit).statistic == pytest.approx(n * r2, rel=1e-10)
    # original form: ESS/2 of e²/σ̂², σ̂² = RSS/n
    sigma2 = e2.mean()
    assert breusch_pagan_original(fit).statistic == pytest.approx(
        0.5 * np.sum((fitted - e2.mean()) ** 2) / sigma2**2, rel=1e-10)


# ---------------------------------------------------------------------------
# severity, messages, thresholds
# ---------------------------------------------------------------------------
def test_severity_follows_alpha():
    fit = synthetic_fit(SYNTHETIC["gq_odd"])
    result = breusch_pagan(fit)  # R: p = 0.115
    assert result.severity is Severity.OK
    assert result.message.startswith("OK: ") and "(p = 0.115)" in result.message
    assert result.remedy is None
    # p = 0.115 < alpha = 0.2, but a warning needs the family-wise level alpha / 5 families = 0.04
    stricter = breusch_pagan(fit, Thresholds(alpha=0.2))
    assert stricter.severity is Severity.NOTE
    assert stricter.details["family_level"] == pytest.approx(0.2 / 5)
    assert stricter.message.startswith("Note: weak evidence") and "0.04" in stricter.message
    # ... which alpha = 0.9 lifts to 0.18 > 0.115: a warning when the consequence is material too
    lenient = breusch_pagan(fit, Thresholds(alpha=0.9, se_change_warn=0.0, se_change_noise=0.0))
    assert lenient.severity is Severity.WARN and lenient.message.startswith("Warning: ")
    assert stricter.effect_name.startswith("auxiliary R²")


def test_run_returns_every_test_by_report_name():
    fit = synthetic_fit(SYNTHETIC["gq_odd"])
    results = one_test.heteroskedasticity_tests(fit, DEFAULT_THRESHOLDS)
    assert list(results) == ["breusch_pagan", "breusch_pagan_original", "white", "goldfeld_quandt", "ncv_fitted"]
    for name, result in results.items():
        assert result.name == name
        assert result.assumption is Assumption.HOMOSKEDASTICITY
        assert result.computable
        assert result.effect is not None and result.effect_name
        assert "lmtest::" in result.method or "car::" in result.method
        json.dumps(result.to_dict(), allow_nan=False)


# ---------------------------------------------------------------------------
# not computable
# ---------------------------------------------------------------------------
def _assert_not_computable(result, fragment):
    assert not result.computable
    assert result.statistic is None and result.p_value is None
    assert result.severity is Severity.NOTE
    assert fragment in result.reason
    json.dumps(result.to_dict(), allow_nan=False)


def test_exact_fit_is_not_computable():
    x = np.arange(12.0)
    fit = fit_arrays(3.0 + 0.5 * x, {"x": x})
    for result in one_test.heteroskedasticity_tests(fit).values():
        _assert_not_computable(result, "fits the data exactly")


def test_intercept_only_model():
    rng = np.random.default_rng(8)
    fit = fit_arrays(rng.normal(size=20), {})
    results = one_test.heteroskedasticity_tests(fit)
    _assert_not_computable(results["breusch_pagan"], "at least two")
    _assert_not_computable(results["breusch_pagan_original"], "at least two")
    _assert_not_computable(results["white"], "no regressor")
    _assert_not_computable(results["ncv_fitted"], "fitted values are constant")
    assert results["goldfeld_quandt"].computable  # two variances about two means: still defined


def test_no_intercept_single_regressor_breusch_pagan_not_computable():
    # bptest stops: the auxiliary regression would have one column
    rng = np.random.default_rng(9)
    x = rng.uniform(1, 3, 15)
    fit = fit_arrays(2 * x + rng.normal(size=15), {"x": x}, intercept=False)
    _assert_not_computable(breusch_pagan(fit), "at least two")
    assert ncv_fitted(fit).computable


def test_goldfeld_quandt_too_few_rows_per_half():
    rng = np.random.default_rng(10)
    x1, x2 = rng.normal(size=5), rng.normal(size=5)
    fit = fit_arrays(x1 + x2 + rng.normal(size=5), {"x1": x1, "x2": x2})  # halves of 2 and 3 rows, 3 coefficients
    _assert_not_computable(goldfeld_quandt(fit), "more rows than coefficients")


def test_constant_squared_residuals_not_computable():
    # residuals ±1 exactly: e² carries no variation to explain
    x = np.array([0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0])
    y = 2 * x + np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
    fit = fit_arrays(y, {"x": x})
    _assert_not_computable(breusch_pagan(fit), "squared residuals are all equal")


def test_white_stops_counting_terms_early_for_many_regressors():
    rng = np.random.default_rng(6)
    n, p = 200, 60  # 60 + 1830 candidate terms; counting stops past 0.5 * n = 100
    x = rng.normal(size=(n, p))
    fit = fit_arrays(x[:, 0] + rng.normal(size=n), {f"x{j}": x[:, j] for j in range(p)})
    result = white(fit)
    assert result.details["form"] == "special (fitted, fitted^2)"
    assert result.details["n_terms_exact"] is False
    assert "at least" in result.details["fallback_reason"]
    assert result.details["n_terms"] > 100


# ---------------------------------------------------------------------------
# severity from consequence: HC3 standard-error change (verdict issue)
# ---------------------------------------------------------------------------
def test_hc3_ratios_match_statsmodels_and_drive_severity():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    n = 20000
    x = rng.normal(size=n)
    w = rng.normal(size=n)
    mild = 1 + x + w + rng.normal(size=n) * np.exp(0.15 * w)
    fit = fit_arrays(mild, {"x": x, "w": w})
    result = breusch_pagan(fit)
    reference = sm.OLS(fit.y, fit.x).fit()
    expected = (reference.HC3_se / reference.bse)[1:]
    np.testing.assert_allclose(list(result.details["hc3_se_ratios"].values()), expected, rtol=1e-10)
    # detectable (p tiny at n = 20000) but standard errors move by only ~4%: a note, not a warning
    assert result.p_value < 1e-10
    assert result.details["hc3_se_change"] < DEFAULT_THRESHOLDS.se_change_warn
    assert result.severity is Severity.NOTE
    strong = 1 + x + w + rng.normal(size=n) * np.exp(0.6 * w)
    assert breusch_pagan(fit_arrays(strong, {"x": x, "w": w})).severity is Severity.WARN


def test_white_over_the_work_budget_uses_the_special_form():
    rng = np.random.default_rng(12)
    n = 2000
    x = rng.standard_normal((n, 4))
    y = 1 + x.sum(axis=1) + rng.standard_normal(n) * (1 + np.abs(x[:, 0]))
    fit = fit_arrays(y, {f"x{j}": x[:, j] for j in range(4)})
    # the full form has 4 + 10 = 14 terms: 2000 x 15 cells is over a budget of 20,000
    result = one_test.white(fit, Thresholds(auxiliary_max_cells=20_000))
    assert result.details["form"].startswith("special")
    assert "auxiliary_max_cells" in result.details["fallback_reason"]
    # Koenker n·R² of e² on fitted and fitted², by numpy
    e2 = fit.residuals ** 2
    design = np.column_stack([np.ones(n), fit.fitted, fit.fitted ** 2])
    resid = e2 - design @ np.linalg.lstsq(design, e2, rcond=None)[0]
    r_squared = 1 - resid @ resid / np.sum((e2 - e2.mean()) ** 2)
    assert result.statistic == pytest.approx(n * r_squared, rel=1e-9)
    assert result.df == (2,)
    assert one_test.white(fit).details["form"] == "full"


def test_goldfeld_quandt_df_of_a_rank_deficient_half_is_n_minus_rank():
    # warpbreaks' layout without an intercept: every tension level coded, wool B only in the later half, so
    # each half has rank 3 of 4 columns. Under constant variance RSS_half / sigma² is chi-square on
    # n_half - rank_half = 24 (the trace of the half's residual maker), not lmtest's n_half - ncol(X) = 23.
    rng = np.random.default_rng(42)
    tension = np.tile(np.repeat(["L", "M", "H"], 9), 2)
    wool = np.repeat(["A", "B"], 27)
    frame = pd.DataFrame({"tension": tension, "wool": wool})
    design = np.column_stack([(tension == level).astype(float) for level in ("H", "L", "M")] +
                             [(wool == "B").astype(float)])
    first_half = design[:27]
    residual_maker = np.eye(27) - first_half @ np.linalg.pinv(first_half)
    assert np.trace(residual_maker) == pytest.approx(24.0)
    draws = 1500
    rss_first = np.empty(draws)
    p_values = np.empty(draws)
    for i in range(draws):
        y = 20 + rng.normal(size=54)
        fit = fit_model(prepare(frame.assign(y=y), target="y", categorical=["tension", "wool"], intercept=False))
        result = goldfeld_quandt(fit)
        rss_first[i] = result.details["rss_first"]
        p_values[i] = result.p_value
    # E[RSS/sigma²] = df: 24 is within sampling error (sd of the mean sqrt(48/1500) = 0.18), 23 is not
    assert rss_first.mean() == pytest.approx(24.0, abs=0.55)
    assert abs(rss_first.mean() - 23.0) > 0.45
    # and the rank-based p-values are uniform: the share below 0.5 is 1/2 within 4 binomial SDs
    assert abs(np.mean(p_values < 0.5) - 0.5) < 4 * np.sqrt(0.25 / draws)
    assert result.details["rank_first"] == 3 and result.details["columns"] == 4
    assert result.method.endswith("; df from the halves' ranks 3 and 3 (lmtest uses k = 4 columns for both, "
                                  "its p-value in details)")
