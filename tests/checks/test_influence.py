"""olscheck.checks.influence against R (cooks.distance, hatvalues, rstudent, car::outlierTest) and deletion refits.

Fixtures: fixtures/influence_r.json, made by fixtures/influence_r.R.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from olscheck.checks import influence
from tests.checks import one_test
from olscheck.inputs.prepare import prepare
from olscheck.model.fit import fit as fit_model
from olscheck.report.result import Assumption, Severity
from olscheck.thresholds import Thresholds
from tests.helpers import fit_arrays, fit_reference, needs_reference, reference_cases

R_FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "influence_r.json").read_text())


def rel(got, want):
    return abs(got - want) / abs(want)


def r_array(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def fixture_fit(name):
    case = R_FIXTURE[name]
    frame = pd.DataFrame(case["data"])
    return case, fit_model(prepare(frame, target="y", predictors=[c for c in frame.columns if c != "y"]))


# ---------------------------------------------------------------------------
# R reference cases
# ---------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_maxima_match_reference(case_id):
    expected, fitted = fit_reference(case_id)
    summary = one_test.influence_summary(fitted)
    assert rel(summary.max_cooks_distance, expected["cooks_distance_max"]) < 1e-6
    assert rel(summary.max_leverage, expected["leverage_max"]) < 1e-6
    assert rel(summary.max_abs_studentized_residual, expected["max_abs_studentized_residual"]) < 1e-6
    assert summary.n_influential == expected["n_cooks_over_4_over_n"]
    assert summary.argmax_position == expected["cooks_distance_argmax_row"]
    assert summary.argmax_row == fitted.design.row_index[summary.argmax_position - 1]
    out = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert out["max_cooks_distance"] == summary.max_cooks_distance
    assert out["n_influential"] == expected["n_cooks_over_4_over_n"]
    assert out["cooks_threshold"] == pytest.approx(4 / expected["n_used"])
    assert out["top_rows"][0]["position"] == expected["cooks_distance_argmax_row"]


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_per_row_measures_match_r(case_id):
    _, fitted = fit_reference(case_id)
    want = R_FIXTURE["reference_cases"][case_id]
    summary = one_test.influence_summary(fitted)
    np.testing.assert_allclose(summary.cooks_distance, r_array(want["cooks_distance"]), rtol=1e-9)
    np.testing.assert_allclose(summary.leverage, r_array(want["leverage"]), rtol=1e-9)
    np.testing.assert_allclose(summary.studentized_residuals, r_array(want["rstudent"]), rtol=1e-9)
    frame = summary.to_frame()
    assert list(frame.columns) == ["cooks_distance", "leverage", "studentized_residual"]
    assert frame.index.equals(fitted.design.row_index)


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_outlier_test_matches_car(case_id):
    _, fitted = fit_reference(case_id)
    want = R_FIXTURE["reference_cases"][case_id]["outlier_test"]
    result = one_test.influence_summary(fitted).results["outlier_test"]
    assert rel(result.statistic, want["rstudent"]) < 1e-9
    assert rel(result.details["p_value_unadjusted"], want["p_unadjusted"]) < 1e-9
    assert rel(result.p_value, min(1.0, want["bonferroni_uncapped"])) < 1e-9
    assert result.df == (float(want["df"]),)
    assert result.details["position"] == want["position"]
    assert result.details["n_tested"] == want["n_tested"]
    assert result.effect == abs(result.statistic)
    assert result.assumption is Assumption.NO_INFLUENTIAL_POINTS
    # the outlier test screens (it assumes normal errors): a note at most; robust_fit judges the consequence
    assert result.severity is (Severity.NOTE if want["bonferroni_uncapped"] < 0.05 else Severity.OK)


@needs_reference
def test_order_by_reports_original_labels():
    # ar1_shuffled is analysed in the order of column t; labels are the rows of the file
    _, fitted = fit_reference("ar1_shuffled")
    _, plain = fit_reference("ar1_synthetic")
    shuffled, ordered = one_test.influence_summary(fitted), one_test.influence_summary(plain)
    assert shuffled.argmax_position == ordered.argmax_position
    assert shuffled.max_cooks_distance == pytest.approx(ordered.max_cooks_distance, rel=1e-12)
    assert shuffled.argmax_row == fitted.design.row_index[shuffled.argmax_position - 1]
    assert repr(int(shuffled.argmax_row)) in shuffled.results["influence"].message


# ---------------------------------------------------------------------------
# leverage 1 and n - p - 1 = 0
# ---------------------------------------------------------------------------
def test_leverage_one_row_is_none_and_noted():
    case, fitted = fixture_fit("leverage_one")
    summary = one_test.influence_summary(fitted)
    np.testing.assert_allclose(summary.cooks_distance, r_array(case["cooks_distance"]), rtol=1e-9)
    np.testing.assert_allclose(summary.studentized_residuals, r_array(case["rstudent"]), rtol=1e-9)
    np.testing.assert_allclose(summary.leverage, r_array(case["leverage"]), rtol=1e-9)
    assert summary.leverage[-1] == 1.0  # R reports exactly 1 within 10 eps
    assert np.isnan(summary.cooks_distance[-1]) and np.isnan(summary.studentized_residuals[-1])
    assert summary.n_leverage_one == 1
    assert summary.max_leverage == 1.0
    assert summary.argmax_position == case["cooks_argmax_position"]
    assert summary.n_influential == case["n_cooks_over_4_over_n"]
    out = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert out["n_leverage_one"] == 1
    assert all(row["position"] != 9 for row in out["top_rows"])
    result = summary.results["influence"]
    assert result.severity is Severity.NOTE
    assert "leverage 1" in result.message
    outlier = summary.results["outlier_test"]
    want = case["outlier_test"]
    assert outlier.details["n_tested"] == want["n_tested"] == 8
    assert rel(outlier.statistic, want["rstudent"]) < 1e-9
    assert rel(outlier.p_value, min(1.0, want["bonferroni_uncapped"])) < 1e-9


def test_one_residual_df_has_cooks_but_no_studentized_residuals():
    case, fitted = fixture_fit("one_residual_df")
    assert fitted.df_resid == 1
    summary = one_test.influence_summary(fitted)
    np.testing.assert_allclose(summary.cooks_distance, r_array(case["cooks_distance"]), rtol=1e-9)
    # R returns 0 or NaN here (s_(i) = 0/0): deleting any row leaves an exact fit
    assert np.all(np.isnan(summary.studentized_residuals))
    assert summary.max_abs_studentized_residual is None
    assert summary.n_influential == case["n_cooks_over_4_over_n"]
    outlier = summary.results["outlier_test"]
    assert not outlier.computable and "n - p - 1 = 0" in outlier.reason
    assert summary.results["influence"].severity is Severity.NOTE  # max Cook's D 1.67 > 1: a screen, noted
    json.dumps(summary.to_dict(), allow_nan=False)


def test_exact_fit_is_not_computable():
    x = np.arange(1.0, 11.0)
    summary = one_test.influence_summary(fit_arrays(3.0 * x - 2.0, {"x": x}))
    assert summary.reason and "exactly" in summary.reason
    for result in summary.results.values():
        assert not result.computable and result.severity is Severity.NOTE
    out = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert out["max_cooks_distance"] is None and out["n_influential"] is None
    assert out["max_leverage"] == pytest.approx(np.max(summary.leverage))
    assert out["top_rows"] == []


# ---------------------------------------------------------------------------
# deletion refits: the definitions of Cook's D and rstudent
# ---------------------------------------------------------------------------
def test_matches_brute_force_deletion():
    rng = np.random.default_rng(21)
    n = 25
    x1 = rng.normal(size=n)
    x2 = rng.uniform(size=n)
    x2[3] = 6.0  # a high-leverage row
    y = 1 + x1 - 2 * x2 + rng.standard_t(3, size=n)
    fitted = fit_arrays(y, {"x1": x1, "x2": x2})
    summary = one_test.influence_summary(fitted)
    design = np.column_stack([np.ones(n), x1, x2])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    p = 3
    residuals = y - design @ beta
    s2 = residuals @ residuals / (n - p)
    for i in range(n):
        keep = np.arange(n) != i
        beta_i, *_ = np.linalg.lstsq(design[keep], y[keep], rcond=None)
        change = design @ (beta - beta_i)
        cooks = change @ change / (p * s2)
        rss_i = np.sum((y[keep] - design[keep] @ beta_i) ** 2)
        s_i = math.sqrt(rss_i / (n - p - 1))
        # t_i: prediction error of row i from the fit without it, standardised
        x_i = design[i]
        gram_inverse_i = np.linalg.inv(design[keep].T @ design[keep])
        t_i = (y[i] - x_i @ beta_i) / (s_i * math.sqrt(1 + x_i @ gram_inverse_i @ x_i))
        assert summary.cooks_distance[i] == pytest.approx(cooks, rel=1e-9)
        assert summary.studentized_residuals[i] == pytest.approx(t_i, rel=1e-9)
    t_max = summary.max_abs_studentized_residual
    outlier = summary.results["outlier_test"]
    p_single = 2 * stats.t.sf(t_max, n - p - 1)
    assert outlier.p_value == pytest.approx(min(1.0, n * p_single), rel=1e-12)


# ---------------------------------------------------------------------------
# severity rules
# ---------------------------------------------------------------------------
def test_cooks_distance_above_one_is_noted_and_the_robust_fit_judges_it():
    x = np.array([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 30])
    y = np.array([1.1, 2.0, 2.9, 4.2, 5.1, 5.8, 7.2, 7.9, 9.1, 5.0])  # the far row pulls the line
    summary = one_test.influence_summary(fit_arrays(y, {"x": x}))
    result = summary.results["influence"]
    assert summary.max_cooks_distance > 1
    assert result.severity is Severity.NOTE and result.message.startswith("Note:") and "robust" in result.message
    assert result.effect == summary.max_cooks_distance and result.effect_name == "max Cook's distance"
    assert summary.argmax_position == 10
    assert result.remedy and "rlm" in result.remedy
    # the consequence: without the far row the slope is about 1 (hand fit of the nine rows), with it far less
    robust = summary.results["robust_fit"]
    assert robust.severity is Severity.WARN and robust.message.startswith("Warning:")
    assert robust.details["rejected_rows"] == [9] and summary.robust.rejected.tolist() == [9]
    slope_nine = np.polyfit(x[:9], y[:9], 1)[0]
    slope_all = np.polyfit(x, y, 1)[0]
    assert slope_nine == pytest.approx(1.0, abs=0.05) and slope_all < 0.5
    relaxed = one_test.influence_tests(fit_arrays(y, {"x": x}), Thresholds(cooks_distance_fail=summary.max_cooks_distance * 2))
    assert relaxed["influence"].severity in (Severity.NOTE, Severity.OK)


def test_share_over_four_over_n_is_a_note():
    rng = np.random.default_rng(4)
    x = rng.normal(size=40)
    y = x + rng.normal(size=40)
    fitted = fit_arrays(y, {"x": x})
    summary = one_test.influence_summary(fitted)
    share = summary.n_influential / 40
    assert 0 < share < 1
    below = one_test.influence_tests(fitted, Thresholds(influential_share_warn=share, cooks_distance_fail=10))["influence"]
    assert below.severity is Severity.OK and below.message.startswith("OK:")
    above = one_test.influence_tests(fitted, Thresholds(influential_share_warn=share * 0.99, cooks_distance_fail=10))["influence"]
    assert above.severity is Severity.NOTE and above.message.startswith("Note:")
    assert f"{summary.n_influential} of 40 rows" in above.message
    assert above.details["share_influential"] == pytest.approx(share)


def test_outlier_is_a_note_and_bonferroni_is_capped():
    rng = np.random.default_rng(9)
    x = np.linspace(0, 1, 30)
    y = 2 * x + rng.normal(scale=0.1, size=30)
    y[12] += 2.0
    results = one_test.influence_tests(fit_arrays(y, {"x": x}))
    result = results["outlier_test"]
    assert result.severity is Severity.NOTE and result.details["position"] == 13
    assert result.p_value < 0.05 and "Bonferroni p" in result.message
    # a y-outlier mid-range barely moves the slope, but at 20 error SDs it is gross: it triples the residual SD,
    # and so every confidence interval (residual SD of the other 29 rows about 0.1, with it about 0.37)
    robust = results["robust_fit"]
    assert robust.details["rejected_rows"] == [12] and robust.details["n_gross"] == 1
    assert robust.effect < 2.0 and robust.details["sd_inflation"] > 3.0
    assert robust.severity is Severity.WARN and "widen every OLS confidence interval" in robust.message
    without = np.delete(np.column_stack([x, y]), 12, axis=0)
    clean_sd = np.sqrt(np.sum((without[:, 1] - np.polyval(np.polyfit(without[:, 0], without[:, 1], 1),
                                                           without[:, 0])) ** 2) / 27)
    full_sd = np.sqrt(np.sum((y - np.polyval(np.polyfit(x, y, 1), x)) ** 2) / 28)
    assert robust.details["sd_inflation"] == pytest.approx(full_sd / clean_sd, rel=1e-9)
    # a well-behaved sample: n * p > 1 is reported as 1, as car's NA
    quiet = np.arange(30.0)  # evenly spread: light tails, largest |t| about 1.7
    calm = one_test.influence_tests(fit_arrays(quiet, {}))["outlier_test"]
    raw = 30 * calm.details["p_value_unadjusted"]
    assert raw > 1 and calm.p_value == 1.0 and calm.severity is Severity.OK


def test_robust_parameters_reach_statsmodels_rlm_fixed_point():
    # the same start and fixed scale given to statsmodels' RLM with Tukey's biweight must give the same estimate
    from statsmodels.robust.norms import TukeyBiweight
    from statsmodels.robust.robust_linear_model import RLM

    rng = np.random.default_rng(11)
    n = 300
    x = rng.normal(size=(n, 2))
    y = 1 + x @ [1.0, -2.0] + rng.standard_t(3, size=n)
    y[:6] += 15  # gross y-outliers
    basis = np.linalg.qr(np.column_stack([np.ones(n), x]))[0]
    start, residuals = influence.trimmed_start(basis, y, 0)
    scale = influence.robust_scale(residuals)
    theta, weights, our_scale = influence.robust_parameters(basis, y)
    assert our_scale == scale
    reference = RLM(y, basis, M=TukeyBiweight(c=influence.BISQUARE_TUNING)).fit(
        start_params=start, start_scale=scale, update_scale=False, conv="coefs", tol=1e-13, maxiter=1000)
    np.testing.assert_allclose(theta, reference.params, rtol=1e-7, atol=1e-9 * scale)
    assert set(np.flatnonzero(weights == 0)) >= set(range(6))


def test_robust_shift_is_small_on_clean_heavy_tailed_data_and_large_with_leverage_outliers():
    rng = np.random.default_rng(5)
    n = 400
    x = rng.normal(size=(n, 2))
    clean_y = 1 + x @ [1.0, -1.0] + rng.standard_t(5, size=n)
    clean = one_test.influence_tests(fit_arrays(clean_y, {"a": x[:, 0], "b": x[:, 1]}))["robust_fit"]
    # OLS and the bisquare fit estimate the same slopes: the shift is a fraction of a standard error
    assert clean.effect < 1.0 and clean.severity is not Severity.WARN
    dirty_x = x.copy()
    dirty_y = clean_y.copy()
    planted = rng.choice(n, 12, replace=False)
    dirty_x[planted[:6], 0] = rng.uniform(4, 6, 6)  # high leverage ...
    dirty_y[planted] = 1 + dirty_x[planted] @ [1.0, -1.0] + 12  # ... and 12 error SDs off the line
    summary = one_test.influence_summary(fit_arrays(dirty_y, {"a": dirty_x[:, 0], "b": dirty_x[:, 1]}))
    dirty = summary.results["robust_fit"]
    assert dirty.severity is Severity.WARN and dirty.effect >= 2.0
    assert set(planted.tolist()) <= set(summary.robust.rejected.tolist())


def test_robust_comparison_samples_large_data_with_the_engine_draw():
    rng = np.random.default_rng(0)
    n = 1_000
    x = rng.normal(size=n)
    fitted = fit_arrays(x + rng.normal(size=n), {"x": x})
    result, robust = influence.robust_comparison(fitted, seed=3, max_rows=200)
    expected_rows = np.sort(np.random.default_rng(3).choice(n, size=200, replace=False))
    np.testing.assert_array_equal(robust.rows_used, expected_rows)
    assert result.details["sampled"] and "random sample of 200 of 1000" in result.message


def test_string_row_labels():
    frame = pd.DataFrame(
        {"y": [1.0, 2.1, 2.9, 4.2, 4.8, 6.1, 7.0, 20.0], "x": [1.0, 2, 3, 4, 5, 6, 7, 8]},
        index=[f"car{i}" for i in range(8)],
    )
    summary = one_test.influence_summary(fit_model(prepare(frame, target="y")))
    assert summary.argmax_row == "car7" and summary.argmax_position == 8
    assert "'car7'" in summary.results["influence"].message
    out = json.loads(json.dumps(summary.to_dict(), allow_nan=False))
    assert out["max_cooks_distance_row"] == "car7"
    assert out["top_rows"][0]["row"] == "car7"


def test_large_n_is_linear_in_memory():
    # an n x n hat matrix would need 20 GB here
    rng = np.random.default_rng(0)
    n = 50_000
    x = rng.normal(size=n)
    fitted = fit_arrays(x + rng.normal(size=n), {"x": x})
    summary = one_test.influence_summary(fitted)
    assert summary.cooks_distance.shape == (n,)
    assert summary.n_influential > 0
    assert set(one_test.influence_tests(fitted)) == {"influence", "outlier_test", "robust_fit"}


def test_the_outlier_is_found_among_rows_whose_studentized_residual_is_undefined():
    # rows 0 and 1 are the only rows of their levels (leverage 1: no studentized residual, as R's rstudent gives
    # NaN); the largest |t| among the others is row 20's, by statsmodels' externally studentized residuals
    rng = np.random.default_rng(4)
    n = 40
    x = rng.normal(size=n)
    group = np.array(["solo1", "solo2"] + ["common"] * (n - 2))
    y = 1 + x + rng.normal(scale=0.5, size=n)
    y[20] += 4.0
    frame = pd.DataFrame({"x": x, "g": group, "y": y})
    report = one_test.influence_tests(fit_model(prepare(frame, target="y")))
    import statsmodels.api as sm

    design = np.column_stack([np.ones(n), x, group == "solo1", group == "solo2"]).astype(float)
    import warnings

    with warnings.catch_warnings():  # the two rows of leverage 1 make statsmodels' deletion fits singular
        warnings.simplefilter("ignore")
        influence_measures = sm.OLS(y, design).fit().get_influence()
        t = influence_measures.resid_studentized_external
    defined = np.flatnonzero(influence_measures.hat_matrix_diag < 1 - 1e-9)  # R: rstudent is NaN at leverage 1
    assert defined[0] == 2
    want = int(defined[np.argmax(np.abs(t[defined]))])
    assert want == 20
    assert report["outlier_test"].details["position"] == want + 1
