"""run_probe: out-of-sample OLS against non-linear learners, on data whose truth is known.

Independent references: numpy.linalg.lstsq on scikit-learn's KFold folds (the
OLS scores), scipy's t quantile with the Nadeau-Bengio variance written out
(the intervals and standard errors), the generating process (linear / sine /
interaction), scipy's BSpline (the spline basis) and a dense solve of the
penalised normal equations (the additive spline's closed form).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from olscheck.errors import ConfigurationError, DataError
from olscheck.verdict.probe import (
    BEND_MATERIAL,
    DEFAULT_LEARNERS,
    LEARNERS,
    AdditiveSpline,
    ProbeResult,
    corrected_resampled_t_interval,
    corrected_standard_error,
    probe_fit,
    run_probe,
)
from tests.helpers import fit_arrays


def make_data(kind: str, n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    noise = rng.normal(size=n)
    if kind == "linear":
        y = 1.0 + x @ np.array([1.0, -0.5, 0.3]) + noise
    elif kind == "sine":
        y = 2.0 * np.sin(2.0 * x[:, 0]) + 0.3 * noise
    elif kind == "interaction":  # pure interaction: no main effects for OLS to find
        y = x[:, 0] * x[:, 1] + 0.5 * noise
    else:
        raise ValueError(kind)
    return x, y


@pytest.fixture(scope="module")
def linear_result() -> ProbeResult:
    x, y = make_data("linear", 500)
    return run_probe(x, y, seed=0)


def test_linear_truth_shows_no_gain(linear_result):
    result = linear_result
    assert result.computed and result.reason is None
    gain = result.gain
    low, high = gain.r_squared_gain_ci
    assert low <= gain.r_squared_gain_mean <= high
    # no evidence of non-linearity: the interval reaches zero (or just below it) and the mean is small
    assert low < 0.0 and high > -0.02, (low, high)
    assert abs(gain.r_squared_gain_mean) < 0.05
    assert gain.r_squared_gain_mean < 0.01
    # every learner is at best level with OLS
    for name, learner_gain in result.gains.items():
        assert learner_gain.r_squared_gain_mean < 0.01, name
    # OLS's out-of-sample R² is near the population value var(xb) / var(y) = 1.34 / 2.34
    assert result.models["ols"].r_squared == pytest.approx(1.34 / 2.34, abs=0.08)


@pytest.mark.parametrize("kind", ["sine", "interaction"])
def test_non_linear_truth_shows_a_large_gain(kind):
    x, y = make_data(kind, 500)
    result = run_probe(x, y, seed=0)
    gain = result.gain
    low, high = gain.r_squared_gain_ci
    assert gain.r_squared_gain_mean > 0.4
    assert low > 0.2, (low, high)
    low_mse, _ = gain.relative_mse_reduction_ci
    assert gain.relative_mse_reduction_mean > 0.4 and low_mse > 0.2
    # OLS cannot see a sine in x1 or a product with no main effects
    assert result.models["ols"].r_squared < 0.3
    assert result.models[result.best_learner].r_squared > 0.6
    assert result.best_learner == max(result.gains, key=lambda name: result.gains[name].r_squared_gain_mean)


def test_same_seed_gives_identical_numbers():
    x, y = make_data("interaction", 300)
    first = run_probe(x, y, seed=3).to_dict()
    second = run_probe(x, y, seed=3).to_dict()
    assert first == second
    other = run_probe(x, y, seed=4, learners=("gradient_boosting",)).to_dict()
    assert other["models"]["ols"]["mse_per_fold"] != first["models"]["ols"]["mse_per_fold"]


def _lstsq_fold_mse(x, y, folds, seed):
    """OLS by numpy.linalg.lstsq on scikit-learn's shuffled KFold folds."""
    from sklearn.model_selection import KFold

    mse, r2 = [], []
    for train, test in KFold(n_splits=folds, shuffle=True, random_state=seed).split(x):
        design_train = np.column_stack([np.ones(train.size), x[train]])
        coefficients, *_ = np.linalg.lstsq(design_train, y[train], rcond=None)
        prediction = np.column_stack([np.ones(test.size), x[test]]) @ coefficients
        error = y[test] - prediction
        mse.append(np.mean(error**2))
        r2.append(1 - np.sum(error**2) / np.sum((y[test] - y[test].mean()) ** 2))
    return np.array(mse), np.array(r2)


@pytest.mark.parametrize("folds", [5, 3])
def test_ols_fold_scores_match_a_hand_computed_lstsq_fit(folds):
    x, y = make_data("sine", 400, seed=5)
    result = run_probe(x, y, folds=folds, seed=11, learners=("gradient_boosting",), repeats=1)
    mse, r2 = _lstsq_fold_mse(x, y, folds, seed=11)
    np.testing.assert_allclose(result.models["ols"].mse_per_fold, mse, rtol=1e-10)
    np.testing.assert_allclose(result.models["ols"].r_squared_per_fold, r2, rtol=1e-10)
    assert result.fold_sizes == tuple(len(t) for t in np.array_split(np.arange(400), folds))
    # pooled scores are the fold scores put together
    sizes = np.array(result.fold_sizes)
    assert result.models["ols"].mse == pytest.approx(np.sum(mse * sizes) / 400, rel=1e-12)


def test_gain_interval_is_nadeau_bengio_by_hand(linear_result):
    result = linear_result
    for name, gain in result.gains.items():
        ols = np.array(result.models["ols"].r_squared_per_fold)
        learner = np.array(result.models[name].r_squared_per_fold)
        d = learner - ols
        np.testing.assert_allclose(gain.r_squared_gain_per_fold, d, rtol=1e-9, atol=1e-12)
        k = d.size
        half = stats.t.ppf(0.975, k - 1) * np.sqrt((1 / k + (100 / 400)) * np.var(d, ddof=1))
        np.testing.assert_allclose(gain.r_squared_gain_ci, (d.mean() - half, d.mean() + half), rtol=1e-9)
        ratio = 1 - np.array(result.models[name].mse_per_fold) / np.array(result.models["ols"].mse_per_fold)
        np.testing.assert_allclose(gain.relative_mse_reduction_per_fold, ratio, rtol=1e-9, atol=1e-12)
        assert gain.relative_mse_reduction_mean == pytest.approx(ratio.mean(), rel=1e-9)


def test_corrected_interval_is_wider_than_the_naive_one():
    d = np.array([0.01, 0.03, -0.02, 0.04, 0.0])
    low, high = corrected_resampled_t_interval(d, 0.25)
    naive_half = stats.t.ppf(0.975, 4) * d.std(ddof=1) / np.sqrt(5)
    # (1/5 + 1/4) / (1/5) = 2.25: the interval is 1.5 times as wide
    assert (high - low) / 2 == pytest.approx(1.5 * naive_half, rel=1e-12)
    # an undefined fold difference makes the interval undefined (JSON null), never a number
    assert all(np.isnan(corrected_resampled_t_interval(np.array([0.1, np.nan, 0.2]), 0.25)))


def test_sampling_above_max_rows():
    x, y = make_data("linear", 600, seed=2)
    result = run_probe(x, y, max_rows=200, seed=9, learners=("gradient_boosting",), repeats=1)
    assert result.sampled is True
    assert result.n_rows == 600 and result.n_used_for_probe == 200
    assert sum(result.fold_sizes) == 200
    assert "sample of 200 rows" in result.method
    # the documented sample: numpy's default_rng(seed).choice without replacement, in row order
    rows = np.sort(np.random.default_rng(9).choice(600, size=200, replace=False))
    mse, _ = _lstsq_fold_mse(x[rows], y[rows], 5, seed=9)
    np.testing.assert_allclose(result.models["ols"].mse_per_fold, mse, rtol=1e-10)
    document = result.to_dict()
    assert document["sampled"] is True and document["n_used_for_probe"] == 200
    unsampled = run_probe(x[:150], y[:150], max_rows=200, learners=("gradient_boosting",))
    assert unsampled.sampled is False and unsampled.n_used_for_probe == 150


@pytest.mark.parametrize(
    "n, folds, fragment",
    [(20, 5, "20 rows are too few"), (29, 2, "at least 30"), (45, 10, "at least 50")],
)
def test_too_few_rows_is_not_computed(n, folds, fragment):
    x, y = make_data("linear", n)
    result = run_probe(x, y, folds=folds)
    assert result.computed is False
    assert fragment in result.reason
    assert result.gain is None and not result.models
    document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert document["computed"] is False and document["gain"] is None
    assert "not run" in document["summary"]


def test_no_predictors_or_constant_target_is_not_computed():
    rng = np.random.default_rng(0)
    no_columns = run_probe(np.empty((100, 0)), rng.normal(size=100))
    assert not no_columns.computed and "no predictor" in no_columns.reason
    constant = run_probe(rng.normal(size=(100, 2)), np.full(100, 3.0))
    assert not constant.computed and "constant" in constant.reason
    # a target with a single non-zero value is constant within four of the five test folds
    spike = np.zeros(100)
    spike[17] = 1.0
    within = run_probe(rng.normal(size=(100, 2)), spike)
    assert not within.computed and "within a test fold" in within.reason


def test_to_dict_is_json_ready_and_has_the_render_fields(linear_result):
    document = json.loads(json.dumps(linear_result.to_dict(), allow_nan=False))
    assert list(document["models"]) == ["ols", "additive_spline", "gradient_boosting"]
    # 500 rows: the 5 folds are repeated 3 times (REPEATED_MAX_ROWS)
    assert document["folds"] == 5 and document["repeats"] == 3
    for scores in document["models"].values():
        assert len(scores["r_squared_per_fold"]) == 15 and len(scores["mse_per_fold"]) == 15
        assert set(scores) >= {"r_squared", "mse", "description"}
    assert document["gain"]["learner"] == document["best_learner"]
    assert len(document["gain"]["r_squared_gain_ci"]) == 2
    assert document["column_names"] == ["x1", "x2", "x3"]
    assert document["n_used_for_probe"] == 500 and document["sampled"] is False
    assert "Nadeau & Bengio" in document["method"]


def test_dataframe_names_and_probe_fit():
    import pandas as pd

    x, y = make_data("interaction", 200, seed=4)
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    result = run_probe(frame, y, learners=("gradient_boosting",))
    assert result.column_names == ("a", "b", "c")
    fitted = fit_arrays(y, {"a": x[:, 0], "b": x[:, 1], "c": x[:, 2]})
    from_fit = probe_fit(fitted, learners=("gradient_boosting",))
    assert from_fit.to_dict() == result.to_dict()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"folds": 1}, "folds must be at least 2"),
        ({"folds": 2.5}, "folds must be a whole number"),
        ({"max_rows": 10}, "max_rows must be at least 30"),
        ({"learners": ("svm",)}, "learners must name"),
        ({"learners": ()}, "learners must name"),
        ({"seed": -1}, "seed must be between"),
        ({"workers": 0}, "workers must be at least 1"),
        ({"column_names": ["a"]}, "column_names has 1 names"),
    ],
)
def test_bad_options_raise(options, message):
    x, y = make_data("linear", 60)
    with pytest.raises(ConfigurationError, match=message):
        run_probe(x, y, **options)


def test_bad_data_raises():
    x, y = make_data("linear", 60)
    with pytest.raises(DataError, match="60 rows but y has 59"):
        run_probe(x, y[:-1])
    with pytest.raises(DataError, match="numeric"):
        run_probe(np.array([["a", "b"]] * 60), y)
    x[3, 1] = np.nan
    with pytest.raises(DataError, match="finite"):
        run_probe(x, y)


# --- the additive spline -------------------------------------------------------------------------------------


def test_spline_basis_matches_scipy():
    from scipy.interpolate import BSpline

    from olscheck.verdict.probe import _cubic_bspline_basis, _knot_vector

    values = np.random.default_rng(3).gamma(2.0, size=700)  # skewed: unequal knot spacing
    knots = _knot_vector(np.sort(values), 6)
    assert knots.size == 6 + 8
    reference = BSpline.design_matrix(values, knots, 3).toarray()
    np.testing.assert_allclose(_cubic_bspline_basis(values, knots), reference, atol=1e-14)


def test_additive_spline_recovers_a_smooth_function():
    rng = np.random.default_rng(7)
    n = 3000
    x = np.column_stack([rng.uniform(0, 3, n), rng.normal(size=n), rng.integers(0, 2, n)])
    truth = np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] - 0.8 * x[:, 2]
    model = AdditiveSpline().fit(x, truth + 0.3 * rng.normal(size=n))
    grid = np.column_stack([np.linspace(0.1, 2.9, 60), np.full(60, 0.5), np.ones(60)])
    expected = np.sin(2 * grid[:, 0]) + 0.25 - 0.8
    # the noise SD is 0.3: on 3000 rows the fitted curve is within about a quarter of it everywhere
    assert np.max(np.abs(model.predict(grid) - expected)) < 0.08
    assert np.sqrt(np.mean((model.predict(grid) - expected) ** 2)) < 0.04
    assert 0 < model.smoothing_parameter_ < np.inf
    assert model.spline_columns_ == (0, 1)  # the 0/1 column enters only linearly
    # the non-linear part of x1 is sin(2 x1) minus its line; x2 and the dummy have none
    bends = model.bends(x)
    line = np.polyfit(x[:, 0], np.sin(2 * x[:, 0]), 1)
    nonlinear = np.sin(2 * x[:, 0]) - np.polyval(line, x[:, 0])
    assert bends[0] == pytest.approx(np.mean(nonlinear**2), rel=0.05)
    assert bends[1] < 0.01 * bends[0] and bends[2] == 0.0


def test_additive_spline_solution_is_the_dense_penalised_solve():
    rng = np.random.default_rng(11)
    n = 400
    x = np.column_stack([rng.normal(size=n), rng.uniform(-1, 1, n), rng.integers(0, 2, n)])
    y = np.exp(x[:, 0] / 2) + x[:, 1] * x[:, 2] + 0.5 * rng.normal(size=n)
    model = AdditiveSpline().fit(x, y)
    assert np.isfinite(model.smoothing_parameter_) and np.isfinite(model.interaction_weight_)
    design, penalty = model.design_matrix(x), model.penalty_
    unit = 2.0 ** model._y_exponent  # the fit divides the target by a power of two (exact)
    centred = y / unit - np.mean(y / unit)
    lam = model.smoothing_parameter_
    direct = np.linalg.solve(design.T @ design + lam * penalty, design.T @ centred)
    np.testing.assert_allclose(model.coefficients_, direct, rtol=1e-7, atol=1e-9 * np.abs(direct).max())
    # the chosen (lambda, omega) minimises GCV: neighbours on the lambda grid score no better
    def gcv(lam_value):
        beta = np.linalg.solve(design.T @ design + lam_value * penalty, design.T @ centred)
        hat_trace = np.trace(np.linalg.solve(design.T @ design + lam_value * penalty, design.T @ design))
        rss = np.sum((centred - design @ beta) ** 2)
        return n * rss / (n - 1 - hat_trace) ** 2
    assert gcv(lam) <= min(gcv(lam * 10**0.1), gcv(lam / 10**0.1)) + 1e-12
    # predictions on the training rows are the mean plus the design times the coefficients
    np.testing.assert_allclose(model.predict(x), y.mean() + unit * (design @ direct), rtol=1e-9, atol=1e-9)


def test_additive_spline_with_an_aliased_column_solves_the_penalised_equations():
    """A duplicated column makes A'A singular: the eigendecomposition path, and still the penalised optimum."""
    rng = np.random.default_rng(12)
    n = 300
    x1 = rng.uniform(-2, 2, n)
    x = np.column_stack([x1, rng.normal(size=n), x1])
    y = np.tanh(2 * x1) + 0.3 * rng.normal(size=n)
    model = AdditiveSpline().fit(x, y)
    design, penalty, lam = model.design_matrix(x), model.penalty_, model.smoothing_parameter_
    assert np.linalg.matrix_rank(design) < design.shape[1]
    unit = 2.0 ** model._y_exponent
    centred = y / unit - np.mean(y / unit)
    beta = model.coefficients_
    # the copy's columns (its line, its spline, its products) are aliased and get no coefficient, as in lm
    kept = np.flatnonzero(beta != 0)
    assert 0 < kept.size < beta.size and np.linalg.matrix_rank(design[:, kept]) == kept.size
    # on the others, the dense solve of the penalised normal equations
    kept_design, kept_penalty = design[:, kept], penalty[np.ix_(kept, kept)]
    direct = np.linalg.solve(kept_design.T @ kept_design + lam * kept_penalty, kept_design.T @ centred)
    np.testing.assert_allclose(beta[kept], direct, rtol=1e-7, atol=1e-9 * np.abs(direct).max())
    # which is the model without the copy
    single = AdditiveSpline().fit(x[:, :2], y)
    np.testing.assert_allclose(model.predict(x), single.predict(x[:, :2]), rtol=1e-8, atol=1e-10)


def test_additive_spline_on_a_linear_truth_is_nearly_ols():
    edfs, worst = [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        x = rng.normal(size=(2000, 2))
        y = 1.0 + x @ np.array([2.0, -1.0]) + rng.normal(size=2000)
        model = AdditiveSpline().fit(x, y)
        ols_coefficients, *_ = np.linalg.lstsq(np.column_stack([np.ones(2000), x]), y, rcond=None)
        new = np.clip(rng.normal(size=(200, 2)), -2, 2)
        edfs.append(model.effective_degrees_of_freedom_)
        worst.append(np.max(np.abs(model.predict(new) - ols_coefficients[0] - new @ ols_coefficients[1:])))
    # GCV usually smooths (nearly) all the way to the 3 parameters of OLS, and never strays far (noise SD 1)
    assert np.median(edfs) < 4.0 and min(edfs) == pytest.approx(3.0)
    assert max(worst) < 0.3


def test_additive_spline_sees_a_group_specific_slope():
    """A slope that differs between groups is an interaction: the products see it, an additive fit cannot."""
    rng = np.random.default_rng(2)
    n = 400
    group = rng.integers(0, 3, n)
    x1 = rng.normal(size=n)
    x = np.column_stack([x1, group == 1, group == 2]).astype(float)
    y = np.array([-1.0, 0.0, 1.0])[group] * x1 + 0.5 * rng.normal(size=n)
    result = run_probe(x, y, learners=("additive_spline",))
    gain = result.gains["additive_spline"]
    assert gain.relative_mse_reduction_mean > 0.5 and gain.relative_mse_reduction_ci[0] > 0.3
    additive = AdditiveSpline(interactions=False).fit(x, y)
    interacting = AdditiveSpline().fit(x, y)
    truth = np.array([-1.0, 0.0, 1.0])[group] * x1
    assert np.mean((interacting.predict(x) - truth) ** 2) < 0.05 < np.mean((additive.predict(x) - truth) ** 2)


def test_defaults_and_the_optional_mlp():
    assert DEFAULT_LEARNERS == ("additive_spline", "gradient_boosting")
    assert set(LEARNERS) == {"additive_spline", "gradient_boosting", "mlp"}
    assert "optional" in LEARNERS["mlp"]
    x, y = make_data("sine", 200, seed=3)
    result = run_probe(x, y, learners=("mlp", "additive_spline"))
    assert list(result.models) == ["ols", "mlp", "additive_spline"]
    assert result.best_learner == "additive_spline"


def test_gradient_boosting_stops_early():
    from olscheck.verdict.probe import _make_learner

    x, y = make_data("linear", 4000, seed=8)
    booster = _make_learner("gradient_boosting", seed=0).fit(x, y / np.std(y))
    # trees approximate a line by ever smaller steps; the relative tolerance ends that before max_iter
    assert booster.n_iter_ < 0.75 * booster.max_iter
    # on pure noise, after the 10 rounds of patience and hardly more
    noise = np.random.default_rng(8).normal(size=4000)
    assert _make_learner("gradient_boosting", seed=0).fit(x, noise).n_iter_ <= 20


# --- workers, scaling, the standard error, the bends ----------------------------------------------------------


def test_results_do_not_depend_on_the_number_of_workers():
    x, y = make_data("interaction", 600, seed=6)
    one = run_probe(x, y, seed=2, workers=1).to_dict()
    two = run_probe(x, y, seed=2, workers=2).to_dict()
    three = run_probe(x, y, seed=2, workers=3).to_dict()
    assert one == two == three
    assert one["bends"] and set(one["models"]) == {"ols", "additive_spline", "gradient_boosting"}


def _decision(result) -> str:
    gain = result.gain
    if gain.relative_mse_reduction_mean >= 0.10 and gain.relative_mse_reduction_ci[0] > 0:
        return "fail"
    return "note" if gain.relative_mse_reduction_ci[0] > 0 else "ok"


@pytest.mark.parametrize("kind", ["linear", "sine"])
def test_huge_magnitudes_give_the_same_decision(kind):
    import warnings

    x, y = make_data(kind, 400, seed=4)
    reference = run_probe(x, y, seed=1)
    wide = x.copy()
    wide[:, 1] *= 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning, no scikit-learn complaint
        scaled_predictor = run_probe(wide, y, seed=1)
        scaled_target = run_probe(x, y * 1e300, seed=1)
        tiny_target = run_probe(x * 1e-300, y * 1e-300, seed=1)
    for result in (scaled_predictor, scaled_target, tiny_target):
        assert result.computed and _decision(result) == _decision(reference)
        document = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert document["gain"]["relative_mse_reduction_ci"][0] is not None
    # the relative reduction is scale-free; the spline and OLS agree to rounding. Boosting's bins are exact, but
    # y * 1e300 is not a power-of-two multiple of y, and early stopping compares validation losses against a
    # tolerance, so the last bits can stop it a round earlier or later: agreement to 1e-3, the decision exactly
    for name, tolerance in (("additive_spline", 1e-6), ("gradient_boosting", 1e-3)):
        assert scaled_target.gains[name].relative_mse_reduction_mean == pytest.approx(
            reference.gains[name].relative_mse_reduction_mean, rel=tolerance, abs=1e-9)
    # a squared error of 1e300-sized values is beyond floating point: null in JSON, not an error
    assert scaled_target.to_dict()["models"]["ols"]["mse"] is None
    assert scaled_predictor.gains["additive_spline"].relative_mse_reduction_mean == pytest.approx(
        reference.gains["additive_spline"].relative_mse_reduction_mean, abs=1e-6)


def test_standard_error_and_df_are_the_corrected_formula_by_hand(linear_result):
    result = linear_result
    sizes = np.array(result.fold_sizes, dtype=float)
    ratio = sizes.mean() / (result.n_used_for_probe - sizes).mean()
    assert ratio == pytest.approx(0.25)
    for name, gain in result.gains.items():
        d = 1 - np.array(result.models[name].mse_per_fold) / np.array(result.models["ols"].mse_per_fold)
        k = d.size
        by_hand = np.sqrt((1 / k + ratio) * np.sum((d - d.mean()) ** 2) / (k - 1))
        assert gain.relative_mse_reduction_se == pytest.approx(by_hand, rel=1e-9)
        # Bouckaert & Frank's corrected repeated k-fold t: K R differences, K R - 1 df
        assert gain.df == k - 1 == 5 * 3 - 1
        low, high = gain.relative_mse_reduction_ci
        assert (high - low) / 2 == pytest.approx(stats.t.ppf(0.975, k - 1) * by_hand, rel=1e-9)
        document = gain.to_dict()
        assert document["relative_mse_reduction_se"] == pytest.approx(by_hand, rel=1e-9) and document["df"] == k - 1
    assert np.isnan(corrected_standard_error(np.array([0.1, np.nan]), 0.25))


def test_bends_name_the_predictor_that_bends():
    x, y = make_data("sine", 500)
    result = run_probe(x, y, seed=0)
    bends = result.bends
    assert set(bends) == {"x1", "x2", "x3"}
    # 2 sin(2 x1) with noise SD 0.3: the bend is most of OLS's error
    assert bends["x1"] > 0.5 and max(bends["x2"], bends["x3"]) < BEND_MATERIAL
    assert result.strongest_bend[0] == "x1"
    assert "strongest bend is in x1" in result.summary
    assert result.to_dict()["bends"]["x1"] == pytest.approx(bends["x1"])
    linear = run_probe(*make_data("linear", 500), seed=0)
    assert linear.strongest_bend is None and "bend" not in linear.summary
    assert max(linear.bends.values()) < 0.02
    # without the additive spline there is nothing to say about bends
    assert run_probe(x, y, learners=("gradient_boosting",)).to_dict()["bends"] == {}


def test_an_interrupted_probe_returns_without_waiting_for_the_other_lane():
    # Ctrl-C arrives as KeyboardInterrupt in one task; the caller must get it at once, not after the other
    # lane's remaining fits (which are not started once the stop is set)
    import threading
    import time

    from olscheck.verdict import probe as probe_module

    started = []
    release = threading.Event()

    def slow(name):
        def run():
            started.append(name)
            release.wait(5)
            return name
        return run

    def interrupted():
        time.sleep(0.05)
        raise KeyboardInterrupt

    tasks = {("gradient_boosting", 0): interrupted, ("additive_spline", 0): slow("a"),
             ("additive_spline", 1): slow("b"), ("additive_spline", 2): slow("c")}
    begin = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        probe_module._run_tasks(tasks, workers=2)
    assert time.perf_counter() - begin < 1.0  # not the 5 s the running fit would take
    release.set()
    time.sleep(0.2)
    assert started == ["a"]  # the lane finished the fit it was in and started no other


def test_repeated_folds_are_k_fold_splits_with_successive_seeds():
    # each repeat r is KFold(shuffle=True, random_state=seed + r); OLS's per-fold MSEs by hand on those splits
    x, y = make_data("linear", 300)
    result = run_probe(x, y, folds=4, seed=5, learners=("gradient_boosting",), repeats=3)
    assert result.repeats == 3 and len(result.fold_sizes) == 12
    by_hand = np.concatenate([_lstsq_fold_mse(x, y, 4, seed=5 + r)[0] for r in range(3)])
    np.testing.assert_allclose(result.models["ols"].mse_per_fold, by_hand, rtol=1e-10)
    assert result.gain.df == 11
    # small data repeats by default, large data does not
    assert run_probe(x[:100], y[:100], learners=("gradient_boosting",)).repeats == 3
