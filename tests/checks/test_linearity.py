"""olscheck.checks.linearity against lmtest::resettest, lmtest::harvtest and lmtest::raintest.

Reference values: ../shared/reference (R values for 12 real cases) and
fixtures/linearity_r.json, made by fixtures/linearity_r.R (Harvey-Collier
from recursive residuals by QR refits in R, starting after the first rows of
full rank; raintest with other fractions; RESET with powers 2:4; synthetic
cases). Tolerances are those of ../shared/reference/parity.py.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from olscheck.checks import linearity
from tests.checks import one_test
from olscheck.checks.linearity import harvey_collier, rainbow, recursive_residuals
from olscheck.pipeline import recheck_without_outliers
from tests.checks.one_test import reset
from olscheck.inputs.prepare import prepare
from olscheck.model.fit import fit as fit_model
from olscheck.report.result import Assumption, Severity
from olscheck.thresholds import DEFAULT_THRESHOLDS, Thresholds
from tests.helpers import fit_arrays, fit_reference, needs_reference, reference_cases

R_FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "linearity_r.json").read_text())
SYNTHETIC = R_FIXTURE["synthetic"]

STATISTIC_RTOL = 1e-6
P_RTOL, P_ATOL = 1e-5, 1e-9


def assert_matches(result, want, *, df_keys=("df1", "df2"), rtol=STATISTIC_RTOL, p_rtol=P_RTOL, magnitude=False):
    assert result.computable, result.reason
    statistic = abs(result.statistic) if magnitude else result.statistic
    assert statistic == pytest.approx(want["statistic"], rel=rtol)
    assert math.isclose(result.p_value, want["p_value"], rel_tol=p_rtol, abs_tol=P_ATOL), (result.p_value, want["p_value"])
    assert result.df == tuple(float(want[k]) for k in df_keys)


def synthetic_fit(case: dict):
    frame = pd.DataFrame(case["data"])
    predictors = case["predictors"] if isinstance(case["predictors"], list) else [case["predictors"]]
    return fit_model(prepare(frame, target="y", predictors=predictors))


# ---------------------------------------------------------------------------
# RESET
# ---------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_reset_matches_resettest(case_id):
    expected, fit = fit_reference(case_id)
    result = reset(fit)
    assert_matches(result, expected["reset_fitted_2_3"])
    assert_matches(reset(fit, powers=(2,)), expected["reset_fitted_2"])
    wide, want = reset(fit, powers=(2, 3, 4)), R_FIXTURE["reference_cases"][case_id]["reset_2_4"]
    if wide.df[0] < 3:
        # a power is aliased (warpbreaks without an intercept: six distinct fitted values, so y^4 lies in the
        # span of the others): olscheck drops it from df1 and df2, resettest counts it (the documented deviation);
        # the residual sums are the same, so (RSS0 - RSS1) / RSS1 = F df1 / df2 must agree
        assert wide.statistic * wide.df[0] / wide.df[1] == pytest.approx(
            want["statistic"] * want["df1"] / want["df2"], rel=STATISTIC_RTOL)
        assert (wide.df[0], wide.df[1]) == (want["df1"] - 1, want["df2"] + 1)
    else:
        assert_matches(wide, want)
    # effect: partial R² of the powers, and F = (R²/df1) / ((1 - R²)/df2)
    r2 = result.effect
    df1, df2 = result.df
    assert result.statistic == pytest.approx((r2 / df1) / ((1 - r2) / df2), rel=1e-10)


def test_reset_on_curved_data_fails_when_overwhelming_and_material():
    case = SYNTHETIC["curved"]
    fit = synthetic_fit(case)
    result = reset(fit)
    assert_matches(result, case["reset_2_3"])
    assert_matches(reset(fit, powers=[2]), case["reset_2"])
    # p ~ 1e-15 and the powers explain 72% of the residual variation
    assert result.p_value < 1e-6 and result.effect > 0.05
    assert result.severity is Severity.FAIL
    assert result.message.startswith("Problem: ") and "(p < 0.001" in result.message
    # the same evidence with a higher materiality bar is a note: strong but immaterial (a linear model
    # loses little), so it cannot make the verdict anything but linear
    immaterial = reset(fit, Thresholds(specification_material_reduction=0.9))
    assert immaterial.severity is Severity.NOTE and "the departure is small" in immaterial.message
    assert "I(x**2)" in result.remedy
    assert "power = 2:3" in result.method


def test_reset_with_aliased_powers_is_not_computable():
    # Deliberate deviation: with one 0/1 predictor ŷ² and ŷ³ are affine in it; resettest still reports
    # F = 0 on (2, n - 4) df, olscheck drops the aliased powers and finds nothing left to test.
    case = SYNTHETIC["reset_dummy"]
    assert case["resettest"]["statistic"] == 0 and case["resettest"]["df1"] == 2
    result = reset(synthetic_fit(case))
    assert not result.computable
    assert "linear combinations of the regressors" in result.reason


# ---------------------------------------------------------------------------
# recursive residuals and Harvey-Collier
# ---------------------------------------------------------------------------
def _refit_recursive_residuals(x, y, start):
    """Brute force: one least-squares refit per row (the definition)."""
    out = []
    for t in range(start, len(y)):
        head = x[:t]
        b = np.linalg.lstsq(head, y[:t], rcond=None)[0]
        f = 1.0 + x[t] @ np.linalg.solve(head.T @ head, x[t])
        out.append((y[t] - x[t] @ b) / math.sqrt(f))
    return np.array(out)


@pytest.mark.parametrize("start", [3, 5, 70])
def test_recursive_residuals_match_refits_across_blocks(start):
    rng = np.random.default_rng(start)
    n = 200  # several blocks of 64 rows
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.uniform(size=n)])
    y = x @ np.array([1.0, 2.0, -1.0]) + rng.normal(size=n)
    w = recursive_residuals(x, y, start)
    np.testing.assert_allclose(w, _refit_recursive_residuals(x, y, start), rtol=1e-10, atol=1e-12)
    # Brown-Durbin-Evans identity: the squared recursive residuals add up to RSS_n - RSS_start
    rss = lambda rows: float(np.sum((y[:rows] - x[:rows] @ np.linalg.lstsq(x[:rows], y[:rows], rcond=None)[0]) ** 2))
    assert float(w @ w) == pytest.approx(rss(n) - rss(start), rel=1e-10)


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_harvey_collier_matches_harvtest_and_r_refits(case_id):
    expected, fit = fit_reference(case_id)
    result = harvey_collier(fit)
    refit = R_FIXTURE["reference_cases"][case_id]["harvey_collier_refit"]
    # R's recursive residuals by QR refits, started after the same rows: signed, to ~1e-9
    assert result.details["start_rows"] == refit["start_rows"]
    assert_matches(result, refit, df_keys=("df",), rtol=1e-9)
    harvtest = expected.get("harvey_collier")
    if harvtest and harvtest.get("statistic") is not None:
        # harvtest reports |t|; its rank-one updates lose up to ~1e-5 on longley: parity's tolerances
        assert refit["start_rows"] == fit.rank
        assert_matches(result, harvtest, df_keys=("df",), rtol=1e-5, p_rtol=1e-4, magnitude=True)


@needs_reference
@pytest.mark.parametrize("case_id", ["cars", "mtcars_factor", "prestige"])
def test_harvey_collier_where_r_fails_starts_after_the_first_full_rank_rows(case_id):
    # harvtest gives NA (cars, mtcars_factor) or stops (prestige) when its first k rows are singular
    expected, fit = fit_reference(case_id)
    assert expected.get("harvey_collier") is None or expected["harvey_collier"]["statistic"] is None
    result = harvey_collier(fit)
    assert result.computable
    start = {"cars": 3, "mtcars_factor": 6, "prestige": 31}[case_id]
    assert result.details["start_rows"] == start > fit.rank
    assert result.df == (fit.n - start - 1,)
    assert result.details["n_recursive_residuals"] == fit.n - start


def _exact_harvey_collier(x, y, start):
    """|t| from recursive residuals in exact rational arithmetic (square roots at the end, in float)."""
    n, k = x.shape
    rows = [[Fraction(float(v)) for v in row] for row in x]
    target = [Fraction(float(v)) for v in y]

    def solve(a, b):
        m = [r[:] + [v] for r, v in zip(a, b)]
        for i in range(k):
            pivot = next(r for r in range(i, k) if m[r][i] != 0)
            m[i], m[pivot] = m[pivot], m[i]
            for r in range(k):
                if r != i and m[r][i] != 0:
                    factor = m[r][i] / m[i][i]
                    m[r] = [p - factor * q for p, q in zip(m[r], m[i])]
        return [m[i][k] / m[i][i] for i in range(k)]

    cross = [[sum(rows[s][i] * rows[s][j] for s in range(start)) for j in range(k)] for i in range(k)]
    moment = [sum(rows[s][i] * target[s] for s in range(start)) for i in range(k)]
    w = []
    for t in range(start, n):
        b = solve(cross, moment)
        u = solve(cross, rows[t])
        f = 1 + sum(p * q for p, q in zip(rows[t], u))
        error = target[t] - sum(p * q for p, q in zip(rows[t], b))
        w.append(float(error) / math.sqrt(float(f)))
        for i in range(k):
            moment[i] += rows[t][i] * target[t]
            for j in range(k):
                cross[i][j] += rows[t][i] * rows[t][j]
    w = np.array(w)
    return math.sqrt(w.size) * w.mean() / w.std(ddof=1)


@needs_reference
def test_harvey_collier_longley_is_exact():
    # harvtest's value (0.6429769) is off by 7e-6 relative; exact arithmetic agrees with olscheck to 1e-12
    _, fit = fit_reference("longley")
    x = fit.design.x[:, fit.kept]
    exact = _exact_harvey_collier(x, fit.y, fit.rank)
    assert harvey_collier(fit).statistic == pytest.approx(exact, rel=1e-11)


def test_harvey_collier_on_synthetic_curve_matches_harvtest():
    case = SYNTHETIC["curved"]
    result = harvey_collier(synthetic_fit(case))
    assert_matches(result, case["harvey_collier"], df_keys=("df",), rtol=1e-6, magnitude=True)
    assert result.effect == pytest.approx(result.statistic / math.sqrt(result.details["n_recursive_residuals"]))


# ---------------------------------------------------------------------------
# Rainbow
# ---------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_rainbow_matches_raintest(case_id):
    expected, fit = fit_reference(case_id)
    assert_matches(rainbow(fit), expected["rainbow"])
    for fraction in (0.3, 0.75):
        want = R_FIXTURE["reference_cases"][case_id][f"rainbow_fraction_{fraction}"]
        result = rainbow(fit, fraction=fraction)
        if "error" in want:  # longley, fraction 0.3: 4 central rows for 7 coefficients
            assert want["error"] == "not enough observations in subset"
            assert not result.computable and "too few rows" in result.reason
        elif want["central_rank"] == fit.rank:
            assert_matches(result, want)
        else:
            # Deliberate deviation (mtcars_factor, prestige at 0.3: a factor level is absent from the
            # central rows): raintest keeps df2 = n_c - ncol(X); olscheck uses the central fit's rank,
            # the nested F test's df, computed in R from lm.fit's rank
            assert_matches(result, want["rank_aware"])
            assert result.df[1] == want["df2"] + (fit.rank - want["central_rank"])


def test_rainbow_on_synthetic_curve_matches_raintest():
    case = SYNTHETIC["curved"]
    assert_matches(rainbow(synthetic_fit(case)), case["rainbow"])


def test_rainbow_subset_too_small_is_not_computable():
    case = SYNTHETIC["rainbow_too_small"]
    assert case["raintest_error"] == "not enough observations in subset"
    result = rainbow(synthetic_fit(case))
    assert not result.computable and result.severity is Severity.NOTE
    assert "2 rows" in result.reason and "3 coefficients" in result.reason


def test_rainbow_subset_without_residual_df_is_not_computable():
    # R returns F = NaN on (3, 0) df here
    case = SYNTHETIC["rainbow_zero_df"]
    assert case["raintest"]["statistic"] == "NaN" and case["raintest"]["df2"] == 0
    result = rainbow(synthetic_fit(case))
    assert not result.computable
    json.dumps(result.to_dict(), allow_nan=False)


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_rainbow_method_names_the_ranks_where_the_df_differ_from_raintest(case_id):
    _, fit = fit_reference(case_id)
    columns = fit.rank + len(fit.aliased)  # raintest's k = ncol(model.matrix)
    for fraction in (0.3, 0.75):
        want = R_FIXTURE["reference_cases"][case_id][f"rainbow_fraction_{fraction}"]
        if "error" in want:
            continue
        result = rainbow(fit, fraction=fraction)
        base = f"Rainbow F test, central {fraction} of the rows in data order (lmtest::raintest)"
        if want["central_rank"] < columns:  # mtcars_factor, prestige, warpbreaks_nointercept at 0.3
            assert result.method == (f"{base}; df from the central and full fits' ranks {want['central_rank']} and "
                                     f"{fit.rank} (lmtest uses k = {columns} columns for both, its p-value in details)")
            # raintest's own numbers (R), kept beside olscheck's
            assert result.details["statistic_lmtest"] == pytest.approx(want["statistic"], rel=STATISTIC_RTOL)
            assert math.isclose(result.details["p_value_lmtest"], want["p_value"], rel_tol=P_RTOL, abs_tol=P_ATOL)
            assert result.details["rank_central"] == want["central_rank"]
        else:
            assert result.method == base
            assert "p_value_lmtest" not in result.details


def test_rainbow_method_and_lmtest_p_value_on_a_hand_built_rank_deficient_centre():
    # level "b" only in the outer rows: the central rows 11-30 of 40 (raintest's choice) have rank 2 of k = 3
    rng = np.random.default_rng(8)
    n = 40
    x = rng.normal(size=n)
    g = np.array(["b"] * 5 + ["a"] * 30 + ["b"] * 5)
    y = 1 + x + (g == "b") + rng.normal(size=n)
    fit = fit_model(prepare(pd.DataFrame({"y": y, "x": x, "g": g}), target="y", predictors=["x", "g"]))
    result = rainbow(fit)
    assert (result.details["central_first_row"], result.details["central_last_row"]) == (11, 30)
    assert result.method == ("Rainbow F test, central 0.5 of the rows in data order (lmtest::raintest); df from the "
                             "central and full fits' ranks 2 and 3 (lmtest uses k = 3 columns for both, its p-value "
                             "in details)")
    # raintest by hand: F = ((RSS - RSS_c) / (n - n_c)) / (RSS_c / (n_c - k)) with k = 3 columns
    design = np.column_stack([np.ones(n), x, (g == "b").astype(float)])
    rss = np.sum((y - design @ np.linalg.lstsq(design, y, rcond=None)[0]) ** 2)
    centre = slice(10, 30)
    fitted_c = design[centre] @ np.linalg.lstsq(design[centre], y[centre], rcond=None)[0]
    rss_c = np.sum((y[centre] - fitted_c) ** 2)
    f_lmtest = ((rss - rss_c) / 20) / (rss_c / 17)
    assert result.details["statistic_lmtest"] == pytest.approx(f_lmtest, rel=1e-9)
    assert result.details["p_value_lmtest"] == pytest.approx(stats_f_sf(f_lmtest, 20, 17), rel=1e-9)
    # olscheck's own df: (n - 3) - (20 - 2) = 19 and 20 - 2 = 18
    assert result.df == (19.0, 18.0)


def stats_f_sf(value: float, df1: int, df2: int) -> float:
    from scipy import stats

    return float(stats.f.sf(value, df1, df2))


def test_rainbow_rejects_a_bad_fraction():
    rng = np.random.default_rng(2)
    x = rng.normal(size=30)
    fit = fit_arrays(x + rng.normal(size=30), {"x": x})
    assert not rainbow(fit, fraction=0.0).computable
    assert not rainbow(fit, fraction=1.0).computable  # no rows outside the subset


# ---------------------------------------------------------------------------
# run, severity, not computable
# ---------------------------------------------------------------------------
def test_run_returns_every_test_by_report_name():
    fit = synthetic_fit(SYNTHETIC["curved"])
    results = one_test.linearity_tests(fit, DEFAULT_THRESHOLDS)
    assert list(results) == ["reset", "harvey_collier", "rainbow", "quadratic"]
    for name, result in results.items():
        assert result.name == name
        assert result.assumption is Assumption.LINEARITY
        assert result.computable and result.effect is not None and result.effect_name
        assert "lmtest::" in result.method or name == "quadratic"
        json.dumps(result.to_dict(), allow_nan=False)
    # harvtest p = 0.19: OK at 0.05; at alpha 0.25 weak evidence (a note), strong only below 0.001
    assert results["harvey_collier"].severity is Severity.OK
    assert results["harvey_collier"].message.startswith("OK: ")
    assert harvey_collier(fit, Thresholds(alpha=0.25)).severity is Severity.NOTE
    # strong evidence from a test without an effect size is a note: RESET, the second-order test and the
    # probe judge how much the departure matters
    strong = harvey_collier(fit, Thresholds(alpha=0.25, specification_strong_p=0.2))
    assert strong.severity is Severity.NOTE and "no effect size" in strong.message


def test_exact_fit_is_not_computable():
    x = np.arange(15.0)
    fit = fit_arrays(1.0 - 2.0 * x, {"x": x})
    for result in one_test.linearity_tests(fit).values():
        assert not result.computable
        assert "fits the data exactly" in result.reason
        assert result.statistic is None and result.p_value is None


def test_intercept_only_reset_not_computable():
    rng = np.random.default_rng(4)
    fit = fit_arrays(rng.normal(size=12), {})
    result = reset(fit)
    assert not result.computable and "constant" in result.reason


def test_harvey_collier_needs_two_recursive_residuals():
    rng = np.random.default_rng(7)
    x1, x2 = rng.normal(size=4), rng.normal(size=4)
    fit = fit_arrays(x1 + rng.normal(size=4), {"x1": x1, "x2": x2})  # n - k = 1
    result = harvey_collier(fit)
    assert not result.computable and "too few rows" in result.reason


def test_reset_needs_rows_for_the_extended_model():
    rng = np.random.default_rng(11)
    x1, x2 = rng.normal(size=5), rng.normal(size=5)
    fit = fit_arrays(x1 + x2 + rng.normal(size=5), {"x1": x1, "x2": x2})  # 3 + 2 coefficients, 5 rows
    result = reset(fit)
    assert not result.computable and "too few rows" in result.reason


# --------------------------------------------------------------------------- work budget
def _f_test_by_lstsq(x, y, added):
    """anova(lm(y ~ X), lm(y ~ X + Z)) written out with numpy's lstsq."""
    ones = np.ones((len(y), 1))
    restricted = np.column_stack([ones, x])
    extended = np.column_stack([ones, x, added])
    rss = [float(np.sum((y - m @ np.linalg.lstsq(m, y, rcond=None)[0]) ** 2)) for m in (restricted, extended)]
    df1 = extended.shape[1] - restricted.shape[1]
    df2 = len(y) - extended.shape[1]
    return ((rss[0] - rss[1]) / df1) / (rss[1] / df2), df1, df2


def test_quadratic_squares_only_columns_with_more_than_two_values():
    # the square of a two-valued column is affine in it: not added. A column two-valued in its first
    # thousand rows but not beyond is squared all the same.
    rng = np.random.default_rng(12)
    n = 3000
    x = rng.standard_normal(n)
    dummy = (rng.random(n) < 0.4).astype(float)
    late = np.where(np.arange(n) < 2000, rng.integers(0, 2, n), 2).astype(float)
    y = 1 + x + dummy + 0.2 * late + 0.1 * x * x + rng.standard_normal(n)
    fit = fit_arrays(y, {"x": x, "dummy": dummy, "late": late})
    result = linearity.quadratic(fit)
    added = np.column_stack([x ** 2, late ** 2, x * dummy, x * late, dummy * late])
    statistic, df1, df2 = _f_test_by_lstsq(np.column_stack([x, dummy, late]), y, added)
    assert result.details["terms_added"] == 5
    assert result.df == (df1, df2)
    assert result.statistic == pytest.approx(statistic, rel=1e-9)


def test_quadratic_over_the_work_budget_runs_on_evenly_spaced_rows():
    rng = np.random.default_rng(11)
    n = 3000
    x = rng.standard_normal((n, 3))
    y = 1 + x @ [1.0, -0.5, 0.2] + 0.3 * x[:, 0] * x[:, 1] + rng.standard_normal(n)
    fit = fit_arrays(y, {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    columns = 1 + 3 + 3 + 3
    budget = Thresholds(auxiliary_max_cells=columns * 1000)
    result = linearity.quadratic(fit, budget)
    rows = 1000
    positions = (np.arange(rows) * n) // rows
    xs, ys = x[positions], y[positions]
    added = np.column_stack([xs ** 2, xs[:, 0] * xs[:, 1], xs[:, 0] * xs[:, 2], xs[:, 1] * xs[:, 2]])
    statistic, df1, df2 = _f_test_by_lstsq(xs, ys, added)
    assert result.details["rows_used"] == rows
    assert "evenly spaced" in result.method
    assert result.df == (df1, df2)
    assert result.statistic == pytest.approx(statistic, rel=1e-9)
    # with the default budget the same data uses every row
    full = linearity.quadratic(fit)
    assert full.details["rows_used"] == n
    everything = np.column_stack([x ** 2, x[:, 0] * x[:, 1], x[:, 0] * x[:, 2], x[:, 1] * x[:, 2]])
    assert full.statistic == pytest.approx(_f_test_by_lstsq(x, y, everything)[0], rel=1e-9)


def test_failure_made_by_outliers_is_a_warning_about_them_and_a_real_curve_survives():
    from olscheck.checks import influence

    failures = discounted = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = 400
        x = rng.normal(size=n)
        y = 1 + x + rng.normal(size=n)
        planted = rng.choice(n, 8, replace=False)
        x[planted[:4]] = rng.uniform(4, 6, 4)
        y[planted] = 1 + x[planted] + 12  # gross outliers, half at high leverage
        fit = fit_arrays(y, {"x": x})
        tests = one_test.linearity_tests(fit)
        failing = [name for name in linearity.SPECIFICATION_TESTS if tests[name].severity is Severity.FAIL]
        if not failing:
            continue
        failures += 1
        summary = one_test.influence_summary(fit)
        assert set(planted.tolist()) <= set(summary.robust.rejected.tolist())
        rechecked = recheck_without_outliers(tests, fit, summary.robust.rejected)
        keep = np.setdiff1d(np.arange(n), summary.robust.rejected)
        for name in failing:
            # the recheck is the test on the other rows, refitted: compare with a direct fit without them
            direct = {"reset": reset, "quadratic": linearity.quadratic}.get(name)
            if direct is not None:
                without = direct(fit_arrays(y[keep], {"x": x[keep]}))
                assert rechecked[name].details["recheck_without_outliers_p_value"] == pytest.approx(without.p_value)
        if all(rechecked[name].severity is Severity.WARN and "outlying rows" in rechecked[name].message
               for name in failing):
            discounted += 1
    # the displaced rows make the mean look curved in most data sets; without them the clean rows' p-value is
    # uniform, so the failure survives only when it falls below the family level (0.01) by chance
    assert failures >= 15
    assert discounted >= failures - 2
    # a genuine curve keeps its failure without its most extreme rows
    rng = np.random.default_rng(0)
    x = rng.normal(size=200).clip(-3, 3)
    curved = fit_arrays(np.exp(0.8 * x) + 0.3 * rng.normal(size=200), {"x": x})
    curved_tests = one_test.linearity_tests(curved)
    curved_summary = one_test.influence_summary(curved)
    rechecked = recheck_without_outliers(curved_tests, curved, curved_summary.robust.rejected)
    assert any(rechecked[name].severity is Severity.FAIL for name in linearity.SPECIFICATION_TESTS)
