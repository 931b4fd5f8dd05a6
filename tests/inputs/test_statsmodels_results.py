"""``olscheck.check`` on a fitted statsmodels OLS model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

import olscheck
from olscheck.errors import DataError
from olscheck.inputs.statsmodels_results import design_from_results, is_statsmodels_results


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(31)
    n = 150
    x = rng.uniform(0, 10, n)
    g = rng.choice(["a", "b", "c"], n)
    y = 1 + 0.5 * x + (g == "b") * 2.0 - (g == "c") * 1.0 + rng.normal(0, 0.5 + 0.1 * x, n)
    frame = pd.DataFrame({"y": y, "x": x, "g": g, "t": rng.permutation(n)})
    frame.loc[[5, 40], "x"] = np.nan
    frame.loc[77, "g"] = None
    return frame


def comparable(report) -> dict:
    """Everything but the sentences about where the data came from (and the screening of a frame's columns,
    which a fitted statsmodels model has already done)."""
    document = report.to_dict()
    document["data"] = {k: v for k, v in document["data"].items()
                        if k not in ("notes", "order_note", "formula", "columns")}
    document["verdict"] = {**document["verdict"],
                           "findings": [f for f in document["verdict"]["findings"] if f["check"] != "data"]}
    return document


@pytest.mark.parametrize("formula", ["y ~ x + C(g)", "y ~ x + I(x ** 2) + g", "y ~ x * C(g)", "y ~ 0 + x + C(g)"])
def test_formula_results_equal_the_formula_path(frame, formula):
    results = smf.ols(formula, frame).fit()
    from_results = olscheck.check(results, probe=False)
    from_data = olscheck.check(frame, formula=formula, probe=False)
    assert comparable(from_results) == comparable(from_data)
    # the report says which model it checked
    assert from_results.data.formula == formula == from_data.data.formula
    np.testing.assert_allclose(from_results.model.coefficients.to_numpy(), results.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(from_results.model.std_errors.to_numpy(), results.bse.to_numpy(), rtol=1e-10)


def test_categorical_term_is_one_multi_column_term(frame):
    design = design_from_results(smf.ols("y ~ x + C(g)", frame).fit())
    terms = {term.name: term for term in design.terms}
    assert terms["C(g)"].categorical and len(terms["C(g)"].columns) == 2
    assert not terms["x"].categorical and len(terms["x"].columns) == 1
    assert design.has_intercept and design.column_names[0] == "Intercept"
    assert design.categorical == ("C(g)",) and set(design.predictors) == {"g", "x"}
    # statsmodels dropped the three incomplete rows; they are counted
    assert (design.n_rows, design.n_dropped, design.n_used) == (150, 3, 147)
    assert 5 not in design.row_index and 77 not in design.row_index


def test_array_results_with_constant_last(frame):
    complete = frame.dropna()
    exog = sm.add_constant(complete[["x"]], prepend=False)
    results = sm.OLS(complete["y"], exog).fit()
    design = design_from_results(results)
    assert design.has_intercept and design.column_names == ("const", "x")
    report = olscheck.check(results, probe=False)
    np.testing.assert_allclose(report.model.coefficients[["const", "x"]].to_numpy(),
                               results.params[["const", "x"]].to_numpy(), rtol=1e-10)
    reference = olscheck.check(complete, target="y", predictors=["x"], probe=False)
    assert report.tests["breusch_pagan"].statistic == pytest.approx(reference.tests["breusch_pagan"].statistic, rel=1e-12)


def test_array_results_with_missing_drop_count_rows(frame):
    results = sm.OLS(frame["y"], sm.add_constant(frame[["x"]]), missing="drop").fit()
    design = design_from_results(results)
    assert (design.n_rows, design.n_dropped) == (150, 2)


def test_robust_covariance_is_noted(frame):
    results = smf.ols("y ~ x", frame).fit(cov_type="HC3")
    design = design_from_results(results)
    assert any("cov_type='HC3'" in note for note in design.notes)


def test_order_by_a_column_of_the_formula_data(frame):
    results = smf.ols("y ~ x + C(g)", frame).fit()
    ordered = olscheck.check(results, order_by="t", probe=False)
    reference = olscheck.check(frame, formula="y ~ x + C(g)", order_by="t", probe=False)
    assert ordered.tests["durbin_watson"].statistic == pytest.approx(reference.tests["durbin_watson"].statistic, rel=1e-12)
    assert ordered.data.order_by == "t"


def test_not_ols_is_refused(frame):
    complete = frame.dropna()
    weighted = sm.WLS(complete["y"], sm.add_constant(complete["x"]), weights=1 / (1 + complete["x"])).fit()
    with pytest.raises(DataError, match="WLS"):
        olscheck.check(weighted, probe=False)
    glm = sm.GLM(complete["y"], sm.add_constant(complete["x"])).fit()
    with pytest.raises(DataError, match="GLM"):
        olscheck.check(glm, probe=False)


@pytest.mark.parametrize("options, fragment", [
    ({"target": "z"}, "disagrees"),
    ({"predictors": ["x"]}, "cannot be given"),
    ({"formula": "y ~ x"}, "disagrees"),
    ({"intercept": False}, "intercept=False"),
    ({"order_by": "nope"}, "not in the data"),
])
def test_contradicting_arguments_are_refused(frame, options, fragment):
    results = smf.ols("y ~ x + C(g)", frame).fit()
    with pytest.raises(DataError, match=fragment):
        olscheck.check(results, probe=False, **options)


def test_detection():
    assert not is_statsmodels_results(pd.DataFrame({"y": [1.0]}))
    assert not is_statsmodels_results("data.csv")
    model = sm.OLS([1.0, 2.0, 4.0], sm.add_constant([0.0, 1.0, 2.0]))
    assert not is_statsmodels_results(model)  # the unfitted model
    assert is_statsmodels_results(model.fit())
    assert is_statsmodels_results(model.fit()._results)  # unwrapped results too
