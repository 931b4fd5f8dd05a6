"""The verdict benchmark's generators (benchmarks/verdict_cases.py) against closed forms and direct computation.

A benchmark is only as honest as its truths: each kind must really be what
its expected verdict says. These tests check the generators, not olscheck.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import verdict_cases  # noqa: E402
from verdict_cases import (  # noqa: E402
    CLEAN_KINDS, EXPECTED, KINDS, LINEAR, LINEAR_WITH_REMEDIES, NONLINEAR, make, nonlinear_share,
    standard_error_ratios, variance_inflation_factors,
)

LONG = 200_000  # long enough for population quantities to two decimals, short enough for a fast test


@pytest.mark.parametrize("kind", list(KINDS))
def test_same_seed_same_case_other_seed_other_case(kind):
    first, again, other = make(kind, 120, 7), make(kind, 120, 7), make(kind, 120, 8)
    assert first.data.equals(again.data)
    assert first.check_arguments == again.check_arguments
    assert not first.data.equals(other.data)


def test_kinds_and_n_enter_the_seed():
    assert not np.allclose(make("clean_normal", 100, 0).data["x1"], make("clean_t5", 100, 0).data["x1"])
    assert not np.allclose(make("clean_normal", 100, 0).data["x1"][:60], make("clean_normal", 60, 0).data["x1"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_case_fields(kind):
    case = make(kind, 200, 0)
    assert case.kind == kind and case.n == 200 and len(case.data) == 200
    assert case.expected == EXPECTED[kind] in (LINEAR, LINEAR_WITH_REMEDIES, NONLINEAR)
    assert case.target == "y" and case.target in case.data
    predictors = case.check_arguments["predictors"]
    assert 2 <= len(predictors) <= 4 and case.target not in predictors
    assert set(predictors) <= set(case.data.columns)
    assert case.description and "\n" not in case.description
    assert np.isfinite(case.data.to_numpy(dtype=float)).all()


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind"):
        make("nope", 60, 0)


def test_clean_errors_have_unit_variance_and_their_tails():
    # excess kurtosis: 0 (normal), 6 (t5), 3 (Laplace)
    for kind, kurtosis, tolerance in (("clean_normal", 0.0, 0.1), ("clean_t5", 6.0, 2.5), ("clean_laplace", 3.0, 0.3)):
        errors = make(kind, LONG, 0).truth["errors"]
        assert errors.var() == pytest.approx(1.0, abs=0.02)
        standardised = (errors - errors.mean()) / errors.std()
        assert np.mean(standardised ** 4) - 3 == pytest.approx(kurtosis, abs=tolerance)
    assert set(CLEAN_KINDS) == {"clean_normal", "clean_t5", "clean_laplace"}


def test_clean_linear_kinds_recover_their_coefficients():
    case = make("clean_normal", LONG, 1)
    design, names = verdict_cases.design_matrix(case)
    estimate, *_ = np.linalg.lstsq(design, case.data["y"].to_numpy(), rcond=None)
    assert estimate == pytest.approx([case.truth["coefficients"][name] for name in names], abs=0.01)


def test_heteroskedastic_standard_error_ratios_match_the_closed_form():
    # variance exp(g x1), x1 ~ N(0, 1), other predictors independent with mean 0 and variance 1:
    # the x1 slope's sandwich/classical variance ratio is 1 + g^2, the others' 1
    mild = standard_error_ratios(make("mild_heteroskedastic", LONG, 0))
    assert mild["x1"] == pytest.approx(np.sqrt(1 + 0.2 ** 2), abs=0.005)
    assert all(abs(ratio - 1) < 0.03 for ratio in mild.values())
    strong = standard_error_ratios(make("strong_heteroskedastic", LONG, 0))
    assert strong["x1"] == pytest.approx(np.sqrt(2.0), abs=0.05)
    assert max(strong.values()) >= 1.3


def test_ar1_errors_and_predictor_autocorrelation():
    case = make("ar1_errors", LONG, 0)
    errors, x1 = case.truth["errors"], case.data["x1"].to_numpy()

    def lag1(series):
        centred = series - series.mean()
        return float(centred[1:] @ centred[:-1] / (centred @ centred))

    assert lag1(errors) == pytest.approx(0.6, abs=0.01)
    assert lag1(x1) == pytest.approx(0.8, abs=0.01)
    assert errors.var() == pytest.approx(1.0, abs=0.03)
    # HAC/classical SE ratio of the x1 slope: sqrt((1 + 0.48) / (1 - 0.48))
    assert standard_error_ratios(case, "ar1")["x1"] == pytest.approx(np.sqrt(1.48 / 0.52), abs=0.05)


def test_grouped_errors_structure():
    case = make("grouped_errors", LONG, 0)
    group = case.truth["group"]
    sizes = np.bincount(group)
    assert sizes.min() >= 18 and sizes.max() <= 42  # 20-40 rows, rescaled to add up to n
    assert len(sizes) == round(LONG / 30)
    assert "g" in case.data and "g" not in case.check_arguments["predictors"]
    assert np.array_equal(case.data["g"].to_numpy(), group)
    # intraclass correlation of the errors: between-group variance of the group intercepts / total
    errors = case.truth["errors"]
    group_means = np.bincount(group, weights=errors) / sizes
    within = np.sum((errors - group_means[group]) ** 2) / (len(errors) - len(sizes))
    between = np.var(group_means, ddof=1) - within * np.mean(1 / sizes)
    assert between / (between + within) == pytest.approx(0.3, abs=0.04)
    assert standard_error_ratios(case, "groups")["x1"] > 2.0
    # rows are shuffled: neighbours share a group no more often than chance
    assert np.mean(group[1:] == group[:-1]) < 0.01
    has_groups = "groups" in inspect.signature(__import__("olscheck").check).parameters
    assert ("groups" in case.check_arguments) == has_groups
    assert len(np.unique(make("grouped_errors", 60, 0).data["g"])) == 2


def test_collinear_variance_inflation():
    assert variance_inflation_factors(make("collinear", LONG, 0))["x1"] == pytest.approx(40.0, rel=0.05)
    small_sample = [min(variance_inflation_factors(make("collinear", 60, seed)).get(name) for name in ("x1", "x2"))
                    for seed in range(50)]
    assert min(small_sample) >= 20  # the brief: VIF >= 20 in every sample, not only on average


@pytest.mark.parametrize("n", [60, 400, 5000, 100_000])
def test_gross_outliers_share_and_placement(n):
    for seed in range(5):
        case = make("gross_outliers", n, seed)
        rows, leverage = case.truth["outlier_rows"], case.truth["leverage_rows"]
        assert 0.01 <= len(rows) / n <= 0.05
        assert len(leverage) in (len(rows) // 2, (len(rows) + 1) // 2) and set(leverage) <= set(rows)
        x1 = case.data["x1"].to_numpy()
        assert np.all((np.abs(x1[leverage]) >= 4) & (np.abs(x1[leverage]) <= 6))
        displacement = case.data["y"].to_numpy()[rows] - case.truth["mean"][rows]
        assert np.all((np.abs(displacement) >= 8) & (np.abs(displacement) <= 15))
        others = np.setdiff1d(np.arange(n), rows)
        assert np.all(np.abs(case.truth["errors"][others]) < 8)  # normal errors beyond 8 SD: p ~ 1e-15
    shares = [make("gross_outliers", 5000, seed).truth["outlier_share"] for seed in range(20)]
    assert max(shares) - min(shares) > 0.01  # drawn per seed
    single = [make("gross_outliers", 60, seed).truth for seed in range(40)]
    single = [len(truth["leverage_rows"]) for truth in single if len(truth["outlier_rows"]) == 1]
    assert 0 in single and 1 in single  # a lone outlier is sometimes at high leverage


def test_multiplicative_is_linear_on_the_log_scale():
    case = make("multiplicative", LONG, 0)
    y = case.data["y"].to_numpy()
    assert (y > 0).all()
    design, names = verdict_cases.design_matrix(case)
    estimate, *_ = np.linalg.lstsq(design, np.log(y), rcond=None)
    assert estimate == pytest.approx([case.truth["coefficients"][name] for name in names], abs=0.01)
    residual_sd = np.std(np.log(y) - design @ estimate)
    assert residual_sd == pytest.approx(0.5, abs=0.01)
    # and materially non-linear on the raw scale, so the transform matters
    assert nonlinear_share(case, case.truth["raw_mean"], case.truth["raw_error_sd"]) > 0.2


def test_nonlinear_shares():
    closed_forms = {
        "sine": 0.5 * (1 - np.exp(-8)) - 4 * np.exp(-4),  # Var sin(2x) - Cov(sin 2x, x)^2
        "interaction_only": 0.65 ** 2,
        "threshold": 2.2 ** 2 * (0.25 - 1 / (2 * np.pi)),  # step^2 (1/4 - phi(0)^2)
        "tiny_curvature": 2 * 0.05 ** 2,
    }
    for kind in ("threshold", "sine", "saturation", "interaction_only", "group_slopes", "tiny_curvature"):
        share = nonlinear_share(make(kind, LONG, 0))
        if kind in closed_forms:
            variance = closed_forms[kind]
            assert share == pytest.approx(variance / (1 + variance), abs=0.01)
        if EXPECTED[kind] == NONLINEAR:
            assert share >= 0.2
        else:
            assert share < 0.01


def test_group_slopes_is_categorical():
    case = make("group_slopes", 300, 0)
    assert case.check_arguments["categorical"] == ["g"]
    assert set(case.check_arguments["predictors"]) >= {"g", "x1"}
    assert sorted(np.unique(case.data["g"])) == [0, 1, 2]
