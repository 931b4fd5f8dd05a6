"""run_probe: out-of-sample OLS against non-linear learners, on data whose truth is known.

Independent references: numpy.linalg.lstsq on scikit-learn's KFold folds (the
OLS scores), scipy's t quantile with the Nadeau-Bengio variance written out
(the intervals), and the generating process (linear / sine / interaction).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from olscheck.errors import ConfigurationError, DataError
from olscheck.probe import ProbeResult, corrected_resampled_t_interval, probe_fit, run_probe
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
    result = run_probe(x, y, folds=folds, seed=11, learners=("gradient_boosting",))
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
    result = run_probe(x, y, max_rows=200, seed=9, learners=("gradient_boosting",))
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
    assert list(document["models"]) == ["ols", "gradient_boosting", "mlp"]
    for scores in document["models"].values():
        assert len(scores["r_squared_per_fold"]) == 5 and len(scores["mse_per_fold"]) == 5
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
