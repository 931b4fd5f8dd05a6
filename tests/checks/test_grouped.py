"""Grouped errors: the intraclass correlation, Honda's test and cluster-robust standard errors.

References used here, R being unavailable in the tests: closed forms worked
out by hand (exact fractions) on a tiny data set, statsmodels'
``cov_type="cluster"`` for the CR1 standard errors, and simulations for
the size of Honda's test and for the null spread of the cluster/classical
ratio.
"""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from olscheck.checks import grouped
from olscheck.inputs.prepare import prepare
from olscheck.errors import ConfigurationError
from olscheck.model.fit import fit as fit_model
from olscheck.report.result import Assumption, Severity
from olscheck.thresholds import DEFAULT_THRESHOLDS


def fitted(frame: pd.DataFrame, **options):
    design = prepare(frame, **options)
    return fit_model(design), design.groups


def clustered_frame(n: int, n_groups: int, icc: float, seed: int, *, group_level_x: float = 0.5) -> pd.DataFrame:
    """y = 1 + x1 - x2 + u_g + e: random group intercepts with the given share of the error variance."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    x1 = rng.normal(size=n) + group_level_x * rng.normal(size=n_groups)[g]
    x2 = rng.normal(size=n)
    error = math.sqrt(icc) * rng.normal(size=n_groups)[g] + math.sqrt(1 - icc) * rng.normal(size=n)
    return pd.DataFrame({"y": 1 + x1 - x2 + error, "x1": x1, "x2": x2, "store": [f"s{k:02d}" for k in g]})


# ---------------------------------------------------------------------------
# closed forms, by hand
# ---------------------------------------------------------------------------
TINY = pd.DataFrame({
    "y": [1.0, 2.0, 3.0, 4.0, 6.0, 5.0, 7.0, 9.0, 11.0],
    "g": ["a", "a", "a", "b", "b", "c", "c", "c", "c"],
})


def test_honda_and_icc_by_hand_on_an_intercept_only_model():
    # residuals e = y - 16/3; group sums a: -10, b: -2/3, c: 32/3; sum e² = 342 - 9 (16/3)² = 86
    y = [Fraction(int(v)) for v in TINY["y"]]
    mean = sum(y) / 9
    e = [v - mean for v in y]
    members = {"a": [0, 1, 2], "b": [3, 4], "c": [5, 6, 7, 8]}
    sums = {k: sum(e[i] for i in rows) for k, rows in members.items()}
    assert sums == {"a": Fraction(-10), "b": Fraction(-2, 3), "c": Fraction(32, 3)}
    total = sum(v * v for v in e)
    assert total == 86
    ratio = sum(s * s for s in sums.values()) / total - 1  # (100 + 4/9 + 1024/9) / 86 - 1 = 577/387
    assert ratio == Fraction(577, 387)
    pairs = 3 * 2 + 2 * 1 + 4 * 3  # sum n_g (n_g - 1) = 20
    want_honda = 9 / math.sqrt(2 * pairs) * float(ratio)
    # one-way ANOVA: MSB = sum n_g (mean_g - mean)² / (G - 1), MSW = within SS / (N - G)
    sizes = {k: len(rows) for k, rows in members.items()}
    msb = sum(sizes[k] * (sums[k] / sizes[k]) ** 2 for k in members) / 2
    msw = sum((e[i] - sums[k] / sizes[k]) ** 2 for k, rows in members.items() for i in rows) / 6
    n0 = (9 - Fraction(9 + 4 + 16, 9)) / 2
    want_icc = float((msb - msw) / (msb + (n0 - 1) * msw))

    fit, groups = fitted(TINY, target="y", predictors=[], groups="g")
    result = grouped.run(fit, groups, DEFAULT_THRESHOLDS)["grouped_errors"]
    assert result.name == "grouped_errors" and result.assumption is Assumption.INDEPENDENCE
    assert result.statistic == pytest.approx(want_honda, rel=1e-12)
    assert result.p_value == pytest.approx(0.5 * math.erfc(want_honda / math.sqrt(2)), rel=1e-10)
    assert result.details["lm_statistic"] == pytest.approx(want_honda**2, rel=1e-12)
    assert result.details["icc"] == pytest.approx(want_icc, rel=1e-12)
    assert result.details["icc_n0"] == pytest.approx(float(n0), rel=1e-12)
    assert result.effect == pytest.approx(max(want_icc, 0.0), rel=1e-12)
    assert result.effect_name == "intraclass correlation of the residuals"
    assert (result.details["n_groups"], result.details["group_size_min"], result.details["group_size_max"]) == (3, 2, 4)
    assert result.details["group_size_mean"] == pytest.approx(3.0)
    # no slopes: no standard-error consequence to report
    assert "cluster_se_ratios" not in result.details


def test_balanced_groups_give_breusch_pagan_lm():
    # balanced N groups of T: LM = N T / (2 (T - 1)) (sum_g (sum e)² / sum e² - 1)² (Breusch & Pagan 1980)
    rng = np.random.default_rng(4)
    n_groups, size = 12, 5
    frame = pd.DataFrame({"y": rng.normal(size=n_groups * size), "x": rng.normal(size=n_groups * size),
                          "id": np.repeat(np.arange(n_groups), size)})
    fit, groups = fitted(frame, target="y", predictors=["x"], groups="id")
    e = fit.residuals
    sums = np.array([e[frame["id"].to_numpy() == k].sum() for k in range(n_groups)])
    want = n_groups * size / (2 * (size - 1)) * (sums @ sums / (e @ e) - 1) ** 2
    result = grouped.grouped_errors(fit, groups)
    assert result.details["lm_statistic"] == pytest.approx(want, rel=1e-12)
    assert math.copysign(1.0, result.statistic) == math.copysign(1.0, sums @ sums / (e @ e) - 1)


def test_icc_of_a_pure_group_effect_is_one_and_of_alternating_signs_is_its_lower_bound():
    codes = np.repeat(np.arange(4), 3)
    effect = np.repeat([1.0, -2.0, 0.5, 0.5], 3)
    icc, n0 = grouped.intraclass_correlation(effect, codes, 4)
    assert n0 == pytest.approx(3.0) and icc == pytest.approx(1.0)
    # equal group means, all variation within: MSB = 0, ICC = -1 / (n0 - 1)
    within = np.tile([1.0, -1.0, 0.0], 4)
    icc, n0 = grouped.intraclass_correlation(within, codes, 4)
    assert icc == pytest.approx(-1.0 / (n0 - 1.0))


# ---------------------------------------------------------------------------
# cluster-robust standard errors: statsmodels as the reference
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("case", ["unbalanced", "categorical", "no_intercept", "ordered"])
def test_cluster_standard_errors_match_statsmodels(case):
    import statsmodels.formula.api as smf

    frame = clustered_frame(300, 17, 0.3, seed=11)
    frame["k"] = np.random.default_rng(2).choice(["p", "q", "r"], size=len(frame))
    frame["t"] = np.random.default_rng(3).permutation(len(frame))
    options = {"target": "y", "predictors": ["x1", "x2"], "groups": "store"}
    formula = "y ~ x1 + x2"
    if case == "categorical":
        options["predictors"] = ["x1", "x2", "k"]
        formula = "y ~ x1 + x2 + k"
    elif case == "no_intercept":
        options["predictors"], options["intercept"] = ["x1", "k"], False
        formula = "y ~ x1 + k - 1"
    elif case == "ordered":
        options["order_by"] = "t"
    fit, groups = fitted(frame, **options)
    result = grouped.grouped_errors(fit, groups)
    model = smf.ols(formula, frame)
    cluster = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(frame["store"])[0]})
    classical = model.fit()
    want = (cluster.bse / classical.bse).drop("Intercept", errors="ignore")
    got = pd.Series(result.details["cluster_se_ratios"])
    assert set(got.index) == set(want.index)
    np.testing.assert_allclose(got[want.index].to_numpy(), want.to_numpy(), rtol=1e-8)
    factor = 17 / 16 * (300 - 1) / (300 - fit.rank)
    assert result.details["cluster_correction"] == pytest.approx(factor, rel=1e-14)


def test_group_labels_follow_the_rows_through_order_by_and_dropping():
    frame = clustered_frame(400, 25, 0.3, seed=5)
    frame["t"] = np.random.default_rng(6).permutation(len(frame))
    holes = frame.copy()
    holes.loc[[3, 50, 77], "store"] = None
    holes.loc[[10, 11], "x1"] = np.nan
    plain = grouped.grouped_errors(*fitted(holes, target="y", predictors=["x1", "x2"], groups="store"))
    ordered = grouped.grouped_errors(*fitted(holes, target="y", predictors=["x1", "x2"], groups="store",
                                             order_by="t"))
    complete = frame.drop(index=[3, 50, 77, 10, 11])
    reference = grouped.grouped_errors(*fitted(complete, target="y", predictors=["x1", "x2"], groups="store"))
    # every quantity is invariant to the row order, provided the labels move with their rows
    for result in (plain, ordered):
        assert result.statistic == pytest.approx(reference.statistic, rel=1e-10)
        assert result.details["icc"] == pytest.approx(reference.details["icc"], rel=1e-10)
        for name, ratio in reference.details["cluster_se_ratios"].items():
            assert result.details["cluster_se_ratios"][name] == pytest.approx(ratio, rel=1e-10)
    # the formula path builds the same groups
    formula = grouped.grouped_errors(*fitted(holes, formula="y ~ x1 + x2", groups="store", order_by="t"))
    assert formula.statistic == pytest.approx(reference.statistic, rel=1e-10)


# ---------------------------------------------------------------------------
# behaviour under the null and under a group effect
# ---------------------------------------------------------------------------
def test_honda_has_its_size_on_iid_errors():
    # 400 data sets of iid errors, unbalanced groups: the 5% test rejects 5% ± binomial noise
    rng = np.random.default_rng(20240601)
    n, n_groups, sets = 240, 30, 400
    rejections = 0
    for _ in range(sets):
        codes = rng.integers(0, n_groups, n)
        x = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n_groups)[codes]])
        y = x @ np.array([1.0, 0.5, -0.5]) + rng.standard_t(6, size=n)
        residuals = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
        _, p_value = grouped.honda(residuals, pd.factorize(codes)[0], len(np.unique(codes)))
        rejections += p_value < 0.05
    rate = rejections / sets
    noise = math.sqrt(0.05 * 0.95 / sets)
    assert abs(rate - 0.05) < 3 * noise, rate


def test_cluster_ratio_null_mean_and_sd_match_a_simulation():
    # fixed design, new iid errors: the spread of the cluster/classical ratio is what null_sds predicts
    frame = clustered_frame(300, 20, 0.0, seed=8, group_level_x=1.0)
    fit, groups = fitted(frame, target="y", predictors=["x1", "x2"], groups="store")
    rng = np.random.default_rng(9)
    ratios, predicted = [], []
    for _ in range(300):
        errors = rng.normal(size=fit.n)
        residuals = errors - fit.q @ (fit.q.T @ errors)
        simulated = dataclasses.replace(fit, residuals=residuals, rss=float(residuals @ residuals))
        result = grouped.grouped_errors(simulated, groups)
        ratios.append(result.details["cluster_se_ratios"]["x1"])
        predicted.append(result.details["cluster_se_null_sds"]["x1"])
        assert result.details["cluster_se_null_ratios"]["x1"] == 1.0
    assert np.mean(ratios) == pytest.approx(1.0, abs=0.05)
    assert np.std(ratios) == pytest.approx(np.mean(predicted), rel=0.2)


def test_icc_of_0_3_with_50_groups_warns_at_2000_rows():
    fit, groups = fitted(clustered_frame(2000, 50, 0.3, seed=1), target="y", groups="store")
    result = grouped.grouped_errors(fit, groups)
    assert result.severity is Severity.WARN
    assert result.p_value < DEFAULT_THRESHOLDS.primary_level(2)
    assert 0.2 < result.effect < 0.45
    assert result.message.startswith("Warning:")
    assert "'store'" in result.message and "intraclass correlation" in result.message and "x1" in result.message
    assert "p < 0.001" in result.message
    change = result.details["cluster_se_change"]
    assert change > 0.3  # x1 varies between stores: its standard error is far too small
    assert result.remedy is not None
    assert 'cov_type="cluster"' in result.remedy and "data['store']" in result.remedy
    assert "smf.mixedlm('y ~ x1 + x2', data, groups=data['store'])" in result.remedy
    assert "plm::plmtest" in result.method and "vcovCL" in result.method and "HC1" in result.method


def test_iid_data_is_ok():
    fit, groups = fitted(clustered_frame(2000, 50, 0.0, seed=2), target="y", groups="store")
    result = grouped.grouped_errors(fit, groups)
    assert result.p_value > 0.05
    assert result.severity is Severity.OK
    assert result.message.startswith("OK:") and result.remedy is None


def test_a_significant_but_immaterial_group_effect_is_a_note():
    # a tiny ICC at large n is significant, but a predictor varying within groups keeps its standard error
    frame = clustered_frame(20_000, 200, 0.02, seed=3, group_level_x=0.0)
    fit, groups = fitted(frame, target="y", groups="store")
    result = grouped.grouped_errors(fit, groups)
    assert result.p_value < DEFAULT_THRESHOLDS.primary_level(2)
    assert result.details["cluster_se_change"] < DEFAULT_THRESHOLDS.se_change_warn
    assert result.severity is Severity.NOTE
    assert result.message.startswith("Note:") and "short of a warning" in result.message
    # the same data judged with a tiny se_change_warn and no noise allowance warns
    strict = DEFAULT_THRESHOLDS.with_overrides({"se_change_warn": 0.0, "se_change_noise": 0.0})
    assert grouped.grouped_errors(fit, groups, strict).severity is Severity.WARN


def test_remedy_code_runs_with_statsmodels():
    from olscheck.verdict import remedies

    frame = clustered_frame(200, 10, 0.3, seed=12)
    frame.loc[4, "x2"] = np.nan  # the code drops the incomplete rows before grouping
    frame = frame.rename(columns={"x2": "price.eur"})
    design = prepare(frame, target="y", groups="store")
    remedy = remedies.grouped(design, "store")
    assert remedy.assumption == "independence"
    namespace = {"df": frame}
    exec(remedy.code, namespace)  # noqa: S102 - our own generated code
    clustered = namespace["clustered"]
    assert clustered.cov_type == "cluster"
    assert namespace["mixed"].converged


# ---------------------------------------------------------------------------
# edge cases
# ---------------------------------------------------------------------------
def test_not_computable_on_an_exact_fit_and_labels_must_match_the_rows():
    x = np.arange(12.0)
    frame = pd.DataFrame({"y": 2 + 3 * x, "x": x, "g": np.repeat(["a", "b", "c"], 4)})
    fit, groups = fitted(frame, target="y", groups="g")
    result = grouped.grouped_errors(fit, groups)
    assert not result.computable and result.severity is Severity.NOTE
    with pytest.raises(ConfigurationError, match="one label per row"):
        grouped.grouped_errors(fit, groups.to_numpy()[:-1])


def test_plain_arrays_of_labels_work_and_name_the_groups_generically():
    fit, groups = fitted(clustered_frame(200, 10, 0.3, seed=13), target="y", groups="store")
    from_series = grouped.grouped_errors(fit, groups)
    from_array = grouped.grouped_errors(fit, groups.to_numpy())
    assert from_array.statistic == from_series.statistic
    assert from_array.details["groups"] == "group" and from_series.details["groups"] == "store"
