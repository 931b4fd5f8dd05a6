"""Tests for olscheck.checks.autocorrelation (Durbin-Watson, Breusch-Godfrey).

Reference values: the R cases in ../shared/reference (lmtest::dwtest, lmtest::bgtest), and
tests/checks/fixtures/autocorrelation_r.json made by autocorrelation_r.R beside it (dwtest with exact =
TRUE / FALSE, bgtest orders 1-3 in both forms, lmtest's Fortran pan on fixed eigenvalues, and Imhof's
integral computed with R's integrate()). Closed forms: DW's d for a hand-made residual vector, the
eigenvalues 4 sin²(pi j / 2n) of the intercept-only model, the distribution of a sum of exponentials.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from olscheck.checks import autocorrelation as ac
from tests.checks import one_test
from olscheck.errors import ConfigurationError
from olscheck.report.result import Assumption, Severity
from olscheck.thresholds import DEFAULT_THRESHOLDS, Thresholds
from tests.helpers import fit_arrays, fit_reference, needs_reference, reference_cases

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "autocorrelation_r.json").read_text())
R_CASES = FIXTURE["cases"]


def _fit_fixture(name: str):
    case = R_CASES[name]
    return case, fit_arrays(case["y"], case["x"], intercept=case["intercept"])


def _ar1_fit(n: int, phi: float, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    errors = np.zeros(n)
    for t in range(n):
        errors[t] = (phi * errors[t - 1] if t else 0.0) + rng.normal()
    return fit_arrays(1.0 + x + errors, {"x": x})


# ---------------------------------------------------------------------------
# the 12 R reference cases (parity tolerances)
# ---------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_durbin_watson_matches_dwtest(case_id):
    expected, fit = fit_reference(case_id)
    want = expected["durbin_watson"]
    result = one_test.durbin_watson(fit)
    assert result.name == "durbin_watson" and result.assumption is Assumption.INDEPENDENCE
    assert result.statistic == pytest.approx(want["statistic"], rel=1e-7)
    assert result.p_value == pytest.approx(want["p_value_greater"], abs=1e-4)
    assert result.details["p_value_two_sided"] == pytest.approx(want["p_value_two_sided"], abs=2e-4)
    assert result.effect == pytest.approx(1 - want["statistic"] / 2, rel=1e-7)
    assert result.effect_name == "rho (1 - d/2)"
    assert result.details["rho"] == result.effect
    # dwtest's default: exact below 100 rows, normal approximation from 100 on
    if fit.n < 100:
        assert result.details["distribution"] in (ac.EXACT_DISTRIBUTION, ac.IMHOF_DISTRIBUTION)
    else:
        assert result.details["distribution"] == ac.NORMAL_DISTRIBUTION
        assert "normal approximation" in result.method


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
@pytest.mark.parametrize("order", [1, 2])
def test_breusch_godfrey_matches_bgtest(case_id, order):
    expected, fit = fit_reference(case_id)
    want = expected[f"breusch_godfrey_{order}"]
    result = one_test.breusch_godfrey(fit, order=order)
    assert result.statistic == pytest.approx(want["statistic"], rel=1e-6)
    assert result.p_value == pytest.approx(want["p_value"], rel=1e-5)
    assert result.df == (float(want["df"]),)
    assert result.effect == pytest.approx(want["statistic"] / fit.n, rel=1e-6)  # LM = n R²
    assert result.effect_name == "auxiliary R²"


@needs_reference
def test_order_by_gives_the_time_ordered_values():
    shuffled_expected, shuffled = fit_reference("ar1_shuffled")
    _, ordered = fit_reference("ar1_synthetic")
    assert shuffled_expected["order_by"] == "t"
    for check in (one_test.durbin_watson, one_test.breusch_godfrey):
        a, b = check(shuffled), check(ordered)
        assert a.statistic == pytest.approx(b.statistic, rel=1e-12)
        assert a.p_value == pytest.approx(b.p_value, rel=1e-9)
    # the rows in file order are not the time order: d differs
    _, file_order = fit_reference("ar1_shuffled")
    assert one_test.durbin_watson(file_order).severity is Severity.WARN


# ---------------------------------------------------------------------------
# R fixture: dwtest exact = TRUE / FALSE, bgtest both forms
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(R_CASES))
def test_durbin_watson_exact_matches_dwtest_or_imhof(name):
    case, fit = _fit_fixture(name)
    result = one_test.durbin_watson(fit, exact=True)
    assert result.statistic == pytest.approx(case["statistic"], rel=1e-7)
    imhof = case["imhof_greater"]
    r_exact = case["exact_greater"]
    if not case["dwtest_exact_fell_back"] and abs(r_exact - imhof) <= ac.PAN_AGREEMENT:
        # dwtest's Pan value is accurate: olscheck reports it
        assert result.details["distribution"] == ac.EXACT_DISTRIBUTION
        assert result.p_value == pytest.approx(r_exact, abs=1e-6)
        assert result.details["p_value_two_sided"] == pytest.approx(case["exact_two_sided"], abs=2e-6)
    else:
        # dwtest's value is inaccurate (or its normal fallback): the exact probability, checked
        # against Imhof's integral as R's integrate() evaluates it on R's eigenvalues
        assert result.details["distribution"] == ac.IMHOF_DISTRIBUTION
        assert result.p_value == pytest.approx(imhof, abs=1e-8)
        assert result.details["p_value_two_sided"] == pytest.approx(2 * min(imhof, 1 - imhof), abs=2e-8)
        assert "p_value_pan" in result.details
    # whatever dwtest did, the exact probability is within the parity tolerance of the truth
    assert result.p_value == pytest.approx(imhof, abs=1e-4)


def test_exact_path_at_100_rows_and_more():
    """dwtest(exact = TRUE) at n >= 100: ar1_synthetic (n = 120) where its Pan value is right;
    airquality (n = 111) where it returns a wrong value inside [0, 1]; n = 150, 200 where it falls back
    to the normal approximation."""
    case, fit = _fit_fixture("ar1_synthetic")
    assert fit.n == 120 and not case["dwtest_exact_fell_back"]
    result = one_test.durbin_watson(fit, exact=True)
    assert result.details["distribution"] == ac.EXACT_DISTRIBUTION
    assert result.p_value == pytest.approx(case["exact_greater"], rel=1e-6)
    # ... and the default there is the normal approximation, as dwtest
    assert one_test.durbin_watson(fit).p_value == pytest.approx(case["approx_greater"], rel=1e-9)

    case, fit = _fit_fixture("airquality")
    assert fit.n == 111 and not case["dwtest_exact_fell_back"]
    assert abs(case["exact_greater"] - case["imhof_greater"]) > 0.01  # R's Pan value is off
    result = one_test.durbin_watson(fit, exact=True)
    assert result.p_value == pytest.approx(case["imhof_greater"], abs=1e-8)
    assert result.details["p_value_pan"] is not None

    for name in ("n150_slope", "n200_slope"):
        case, fit = _fit_fixture(name)
        assert case["dwtest_exact_fell_back"] and case["exact_greater"] == case["approx_greater"]
        result = one_test.durbin_watson(fit, exact=True)
        assert result.details["distribution"] == ac.IMHOF_DISTRIBUTION
        assert result.details["p_value_pan"] is None
        assert result.p_value == pytest.approx(case["imhof_greater"], abs=1e-8)
        assert "breaks down" in result.details["distribution_note"]


def test_default_path_where_pans_series_is_inaccurate_below_100_rows():
    case, fit = _fit_fixture("pan_inaccurate")
    assert fit.n < 100
    result = one_test.durbin_watson(fit)
    assert result.details["distribution"] == ac.IMHOF_DISTRIBUTION
    assert result.p_value == pytest.approx(case["imhof_greater"], abs=1e-8)
    # dwtest's own (inaccurate) value is kept for comparison
    assert result.details["p_value_pan"] == pytest.approx(case["default_greater"], abs=1e-7)
    # Pan's series with many more quadrature points converges to Imhof's value: the 15-term one is off
    eigenvalues = ac.durbin_watson_eigenvalues(fit.q)
    assert ac.pan_probability(result.statistic, eigenvalues, iterations=400) == pytest.approx(
        case["imhof_greater"], abs=1e-7)


@pytest.mark.parametrize("name", sorted(n for n, c in R_CASES.items() if c["n"] >= 5))
def test_durbin_watson_normal_approximation_matches_dwtest(name):
    case, fit = _fit_fixture(name)
    result = one_test.durbin_watson(fit, exact=False)
    assert result.details["distribution"] == ac.NORMAL_DISTRIBUTION
    assert result.p_value == pytest.approx(case["approx_greater"], rel=1e-9, abs=1e-15)
    assert result.details["p_value_two_sided"] == pytest.approx(case["approx_two_sided"], rel=1e-9, abs=1e-15)


def test_normal_approximation_below_five_rows_uses_the_exact_distribution():
    case, fit = _fit_fixture("n4_slope")
    assert "approx_greater" not in case  # dwtest gives up (p = 1) below 5 rows
    result = one_test.durbin_watson(fit, exact=False)
    assert result.details["distribution"] == ac.EXACT_DISTRIBUTION
    assert result.p_value == pytest.approx(case["exact_greater"], abs=1e-10)
    assert "at least 5 observations" in result.method


def test_exact_max_n_falls_back_to_the_normal_approximation_and_says_so():
    case, fit = _fit_fixture("n60_four")
    result = one_test.durbin_watson(fit, exact=True, exact_max_n=50)
    assert result.details["distribution"] == ac.NORMAL_DISTRIBUTION
    assert result.p_value == pytest.approx(case["approx_greater"], rel=1e-9)
    assert "exact_max_n = 50" in result.method
    assert "exact_max_n = 50" in result.details["distribution_note"]
    # within the limit the exact distribution is used
    assert one_test.durbin_watson(fit, exact=True, exact_max_n=60).details["distribution"] == ac.EXACT_DISTRIBUTION


@pytest.mark.parametrize("name", sorted(R_CASES))
def test_breusch_godfrey_both_forms_match_bgtest(name):
    case, fit = _fit_fixture(name)
    assert case["breusch_godfrey"], name
    for order, want in case["breusch_godfrey"].items():
        result = one_test.breusch_godfrey(fit, order=int(order))
        assert result.statistic == pytest.approx(want["statistic"], rel=1e-6)
        assert result.p_value == pytest.approx(want["p_value"], rel=1e-5)
        assert result.df == (float(order),)
        assert result.details["f_statistic"] == pytest.approx(want["f_statistic"], rel=1e-6)
        assert result.details["f_p_value"] == pytest.approx(want["f_p_value"], rel=1e-5)
        assert result.details["f_df1"] == int(order)
        assert result.details["f_df2"] == want["df2"] == fit.n - fit.rank - int(order)


# ---------------------------------------------------------------------------
# the pieces: Pan, Imhof, eigenvalues, moments
# ---------------------------------------------------------------------------
def test_pan_matches_lmtests_fortran():
    assert len(FIXTURE["pan"]) == 44
    for case in FIXTURE["pan"]:
        eigenvalues = np.array(case["eigenvalues"], dtype=float)
        assert case["decreasing"] == pytest.approx(case["increasing"], abs=1e-12)
        got = ac.pan_probability(case["d"], eigenvalues)
        assert got == pytest.approx(case["decreasing"], abs=1e-13), case
        # the order of the eigenvalues does not matter
        assert ac.pan_probability(case["d"], eigenvalues[::-1]) == pytest.approx(got, abs=1e-15)


def test_imhof_matches_the_closed_form_for_paired_eigenvalues():
    """With each eigenvalue twice, sum (lambda_i - d) z² = sum 2 c_i E_i with E_i ~ Exp(1), and
    P(sum c_i E_i > 0) = sum over c_i > 0 of prod_{j != i} c_i / (c_i - c_j)."""
    distinct = np.array([0.5, 1.2, 2.0, 3.1, 3.7])
    for d in (0.7, 1.5, 2.5, 3.5):
        c = distinct - d
        upper = sum(np.prod([c[i] / (c[i] - c[j]) for j in range(c.size) if j != i])
                    for i in range(c.size) if c[i] > 0)
        lower, imhof_upper = ac.imhof_probability(d, np.repeat(distinct, 2))
        assert imhof_upper == pytest.approx(upper, abs=1e-12)
        assert lower == pytest.approx(1 - upper, abs=1e-12)


def test_imhof_agrees_with_pan_where_pan_is_accurate():
    for case in FIXTURE["pan"]:
        if 0.0 < case["decreasing"] < 1.0:
            lower, upper = ac.imhof_probability(case["d"], np.array(case["eigenvalues"], dtype=float))
            # 15 nodes leave a truncation error of up to ~1e-3 for so few eigenvalues
            assert lower == pytest.approx(case["decreasing"], abs=2e-3)
            assert lower + upper == pytest.approx(1.0, abs=1e-14)


def test_eigenvalues_of_the_intercept_only_model_are_known():
    n = 12
    fit = fit_arrays(np.random.default_rng(3).normal(size=n), {}, intercept=True)
    got = ac.durbin_watson_eigenvalues(fit.q)
    want = 4 * np.sin(np.pi * np.arange(1, n) / (2 * n)) ** 2
    np.testing.assert_allclose(got, np.sort(want), atol=1e-13)


@pytest.mark.parametrize("n", [4, 5, 25, 400])
@pytest.mark.parametrize("intercept", [True, False])
def test_eigenvalues_and_moments_match_the_definition(intercept, n):
    # the moments expand A and A² into lag sums with boundary rows: small n exercises every boundary term
    rng = np.random.default_rng(11)
    columns = {"x1": rng.normal(size=n), "x2": np.arange(n) ** 1.5}
    fit = fit_arrays(rng.normal(size=n), columns, intercept=intercept)
    x = fit.x
    a = 2 * np.eye(n) - np.eye(n, k=1) - np.eye(n, k=-1)
    a[0, 0] = a[-1, -1] = 1
    m = np.eye(n) - x @ np.linalg.solve(x.T @ x, x.T)
    brute = np.sort(np.linalg.eigvals(m @ a).real)[-(n - fit.rank):]
    got = ac.durbin_watson_eigenvalues(fit.q)
    assert got.size == n - fit.rank
    np.testing.assert_allclose(got, brute, atol=1e-11)
    # E d = mean of the eigenvalues; Var d = 2 sum (lambda - mean)² / (nu (nu + 2))
    mean, variance = ac.durbin_watson_moments(fit.q)
    nu = n - fit.rank
    assert mean == pytest.approx(got.mean(), rel=1e-12)
    assert variance == pytest.approx(2 * np.sum((got - got.mean()) ** 2) / (nu * (nu + 2)), rel=1e-10)


# ---------------------------------------------------------------------------
# closed forms, severity, not computable, options
# ---------------------------------------------------------------------------
def test_statistic_and_rho_for_a_hand_computed_residual_vector():
    # e is orthogonal to 1 and x, so it is the residual vector of y = 1 + 2x + e
    x = np.array([1.0, 2, 3, 4, 5])
    e = np.array([1.0, -2, 0, 2, -1])
    fit = fit_arrays(1 + 2 * x + e, {"x": x})
    np.testing.assert_allclose(fit.residuals, e, atol=1e-13)
    result = one_test.durbin_watson(fit)
    # d = (9 + 4 + 4 + 9) / (1 + 4 + 0 + 4 + 1) = 2.6, rho = 1 - 2.6/2 = -0.3
    assert result.statistic == pytest.approx(2.6, rel=1e-14)
    assert result.effect == pytest.approx(-0.3, rel=1e-13)
    assert result.details["rho"] == pytest.approx(-0.3, rel=1e-13)
    # negative autocorrelation is not evidence for H1: rho > 0
    assert result.p_value > 0.5 and result.severity is Severity.OK
    assert result.details["p_value_two_sided"] == pytest.approx(2 * (1 - result.p_value), rel=1e-12)


def test_severity_follows_rho_bands_and_significance():
    fit = _ar1_fit(80, 0.6)
    result = one_test.durbin_watson(fit)
    assert result.p_value < 0.05 and result.effect >= 0.3
    assert result.severity is Severity.WARN and result.message.startswith("Warning:")
    assert "HAC" in result.remedy and "cov_type" in result.remedy

    # rho bands alone (the HAC consequence switched off by an unreachable cut-off)
    mild = DEFAULT_THRESHOLDS.with_overrides({"autocorrelation_rho_warn": 0.95, "se_change_warn": 100.0})
    result = one_test.durbin_watson(fit, mild)
    assert result.severity is Severity.NOTE and result.message.startswith("Note:")

    # ... and the consequence alone: Newey-West SEs move enough to warn (beyond 0% and beyond 0 null SDs)
    by_consequence = DEFAULT_THRESHOLDS.with_overrides({"autocorrelation_rho_warn": 0.95, "se_change_warn": 0.0,
                                                        "se_change_noise": 0.0})
    assert one_test.durbin_watson(fit, by_consequence).severity is Severity.WARN
    # with the default noise gate, a change inside two null SDs of the Newey-West ratio at n = 80 does not count
    change = one_test.durbin_watson(fit).details
    assert set(change["hac_se_null_sds"]) == set(change["hac_se_ratios"])

    negligible = Thresholds(autocorrelation_rho_note=0.9, autocorrelation_rho_warn=0.95, se_change_warn=100.0)
    result = one_test.durbin_watson(fit, negligible)
    assert result.severity is Severity.OK and "negligible" in result.message and result.remedy is None

    strict_alpha = Thresholds(alpha=1e-30)
    assert one_test.durbin_watson(fit, strict_alpha).severity is Severity.OK

    # Breusch-Godfrey is the family's supporting test: a note, never a warning
    bg = one_test.breusch_godfrey(fit)
    assert bg.severity is Severity.NOTE and bg.message.startswith("Note:") and "Durbin-Watson" in bg.message
    assert bg.details["multiple_correlation"] == pytest.approx(math.sqrt(bg.effect))
    assert one_test.breusch_godfrey(fit, negligible).severity is Severity.OK

    independent = _ar1_fit(80, 0.0, seed=5)
    for result in one_test.independence_tests(independent).values():
        assert result.p_value >= 0.05
        assert result.severity is Severity.OK and result.message.startswith("OK:") and result.remedy is None


def test_not_computable_paths():
    too_few = fit_arrays([1.0, 3.0, 2.0], {"x": [1.0, 2.0, 4.0]})  # n = 3 = rank + 1
    result = one_test.durbin_watson(too_few)
    assert not result.computable and result.statistic is None and result.p_value is None
    assert result.severity is Severity.NOTE and "n = 3" in result.reason
    result = one_test.breusch_godfrey(too_few)
    assert not result.computable and "n - k - order" in result.reason

    # n - rank - order = 5 - 2 - 3 = 0
    small = fit_arrays([1.0, 3.0, 2.0, 5.0, 4.0], {"x": [1.0, 2.0, 4.0, 3.0, 6.0]})
    assert one_test.breusch_godfrey(small, order=2).computable
    result = one_test.breusch_godfrey(small, order=3)
    assert not result.computable and "order 3" in result.reason

    exact = fit_arrays([3.0, 5.0, 7.0, 9.0, 11.0, 13.0], {"x": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]})
    for result in one_test.independence_tests(exact).values():
        assert not result.computable and "exactly" in result.reason
        json.dumps(result.to_dict(), allow_nan=False)


def test_options_and_invalid_options():
    case, fit = _fit_fixture("n30_trend")
    results = one_test.independence_tests(fit, durbin_watson_exact=False, breusch_godfrey_order=2)
    assert set(results) == {"durbin_watson", "breusch_godfrey"}
    assert results["durbin_watson"].p_value == pytest.approx(case["approx_greater"], rel=1e-9)
    assert results["breusch_godfrey"].statistic == pytest.approx(case["breusch_godfrey"]["2"]["statistic"], rel=1e-6)
    assert results["breusch_godfrey"].df == (2.0,)
    for order in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError):
            one_test.breusch_godfrey(fit, order=order)
    with pytest.raises(ConfigurationError):
        one_test.durbin_watson(fit, exact_max_n=-1)


def test_results_are_json_ready():
    _, fit = _fit_fixture("n150_slope")
    for result in (*one_test.independence_tests(fit).values(), one_test.durbin_watson(fit, exact=True)):
        out = result.to_dict()
        json.dumps(out, allow_nan=False)
        assert out["computable"] and "p_value_two_sided" in out or result.name == "breusch_godfrey"


def test_newey_west_ratios_match_statsmodels():
    import statsmodels.api as sm

    from olscheck.numerics.covariance import newey_west_lags

    fit = _ar1_fit(150, 0.6)
    result = one_test.durbin_watson(fit)
    reference = sm.OLS(fit.y, fit.x).fit()
    hac = reference.get_robustcov_results(cov_type="HAC", maxlags=newey_west_lags(fit.n), use_correction=False)
    expected = (hac.bse / reference.bse)[1:]
    np.testing.assert_allclose(list(result.details["hac_se_ratios"].values()), expected, rtol=1e-10)
    assert result.details["hac_se_change"] == pytest.approx(np.max(np.abs(expected - 1)), rel=1e-10)


@pytest.mark.parametrize("rows", [1, 2, 3, 4, 50])
def test_difference_sums_match_the_differences_written_out(rows):
    from olscheck.engine.accumulate import difference_sums

    q = np.random.default_rng(rows).normal(size=(rows, 3)) + np.arange(rows)[:, None] * 0.1
    first = np.diff(q, axis=0)
    second = 2 * q[1:-1] - q[:-2] - q[2:]
    outer, interior = difference_sums(q)
    np.testing.assert_allclose(outer, first.T @ first, rtol=1e-12, atol=1e-12)
    assert interior == pytest.approx(float(np.sum(second * second)), rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------------------
# the remedy's Newey-West lag count
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n, lags", [(60, 3), (250, 4), (1000, 6)])  # floor(4 (n/100)^(2/9)) worked by hand
def test_durbin_watson_remedy_gives_the_verdicts_newey_west_lag_count(n, lags):
    import pandas as pd

    import olscheck

    rng = np.random.default_rng(n)
    x = rng.normal(size=n)
    errors = np.zeros(n)
    for t in range(n):
        errors[t] = (0.7 * errors[t - 1] if t else 0.0) + rng.normal()
    report = olscheck.check(pd.DataFrame({"y": 1.0 + x + errors, "x": x}), target="y", probe=False, progress=False)
    dw = report.tests["durbin_watson"]
    assert dw.severity is Severity.WARN
    assert f'cov_kwds={{"maxlags": {lags}}})' in dw.remedy and f"n = {n}" in dw.remedy
    # the verdict's runnable remedy says the same count
    codes = [remedy.code for remedy in report.verdict.remedies if remedy.assumption == "independence"]
    assert codes and all(f'cov_kwds={{"maxlags": {lags}}})' in code for code in codes)
    # Breusch-Godfrey shares the remedy text
    assert report.tests["breusch_godfrey"].remedy in (None, dw.remedy)


def test_remedy_text_without_n_writes_the_rule():
    text = ac.remedy_text(None)
    assert '"maxlags": L})' in text and "L = floor(4 (n/100)^(2/9))" in text
