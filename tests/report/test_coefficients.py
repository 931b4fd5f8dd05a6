"""The coefficient table against statsmodels: classical intervals, HC3, Newey-West HAC and cluster-robust errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

import olscheck
from olscheck.report.coefficients import coefficient_table
from tests.helpers import linear_frame

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "shared" / "contract" / "report.schema.json"
TIGHT = 1e-8


def heteroskedastic_frame(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    g = rng.choice(["a", "b", "c"], n)
    # the SD grows exponentially with x1: largest where x1's leverage is, so x1's HC3 error moves most
    y = 1 + 2 * x1 - x2 + (g == "b") * 0.5 + rng.normal(0, 0.3 * np.exp(1.2 * x1), n)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "g": g})


def autocorrelated_frame(n: int = 240, seed: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    x = np.sin(t / 15) + rng.normal(0, 0.3, n)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = 0.8 * e[i - 1] + rng.normal()
    frame = pd.DataFrame({"t": t, "x": x, "w": rng.normal(size=n), "y": 3 + 1.5 * x + e})
    return frame.sample(frac=1.0, random_state=1)  # shuffled: order_by="t" must restore the time order


def grouped_frame(groups: int = 30, size: int = 12, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), size)
    # the predictor varies mostly between groups, the error has a strong group effect: clustering matters
    x = np.repeat(rng.normal(size=groups), size) + 0.3 * rng.normal(size=g.size)
    y = 1 + 0.5 * x + np.repeat(rng.normal(0, 2, groups), size) + rng.normal(size=g.size)
    return pd.DataFrame({"y": y, "x": x, "z": rng.normal(size=g.size), "store": [f"s{i}" for i in g]})


def by_term(table) -> dict[str, object]:
    return {row.term: row for row in table.rows}


def assert_close(ours, reference, what: str) -> None:
    assert ours is not None, what
    assert math.isclose(ours, reference, rel_tol=TIGHT, abs_tol=1e-12), (what, ours, reference)


def assert_classical(table, fit) -> None:
    rows = by_term(table)
    intervals = fit.conf_int(0.05)
    for term in fit.params.index:
        row = rows[term]
        assert_close(row.estimate, fit.params[term], f"{term} estimate")
        assert_close(row.std_error, fit.bse[term], f"{term} classical SE")
        assert_close(row.lower, intervals.loc[term, 0], f"{term} classical lower")
        assert_close(row.upper, intervals.loc[term, 1], f"{term} classical upper")


def assert_robust(table, reference, remedy_fit, terms) -> None:
    """Robust SEs against ``get_robustcov_results``; intervals against the remedy's ``fit(cov_type=...)``."""
    rows = by_term(table)
    names = list(remedy_fit.params.index)
    intervals = remedy_fit.conf_int(0.05)
    for term in terms:
        row = rows[term]
        assert_close(row.robust_std_error, reference.bse[names.index(term)], f"{term} robust SE")
        assert_close(row.robust_lower, intervals.loc[term, 0], f"{term} robust lower")
        assert_close(row.robust_upper, intervals.loc[term, 1], f"{term} robust upper")
        assert_close(row.se_ratio, reference.bse[names.index(term)] / remedy_fit.model.fit().bse[term], f"{term} ratio")


def test_hc3_when_the_variance_is_not_constant():
    frame = heteroskedastic_frame()
    report = olscheck.check(frame, target="y", probe=False)
    assert report.tests["breusch_pagan"].severity.value in ("warn", "fail")
    table = report.coefficient_table()
    assert table.robust == "HC3" and table.source == "breusch_pagan"
    formula = "y ~ x1 + x2 + g"  # patsy orders the factor first; rows are compared by term name
    fit = smf.ols(formula, frame).fit()
    assert sorted(fit.params.index) == sorted(row.term for row in table.rows)
    assert_classical(table, fit)
    reference = fit.get_robustcov_results("HC3")
    # every coefficient, the intercept included (its direction is summed in the same pass as the slopes')
    assert_robust(table, reference, smf.ols(formula, frame).fit(cov_type="HC3"), list(fit.params.index))
    # x1 drives the variance: its HC3 error moves far beyond the noise, and the table says so
    assert by_term(table)["x1"].material and "x1" in table.material_terms


def test_hac_with_the_batterys_lags_when_errors_are_autocorrelated():
    frame = autocorrelated_frame()
    report = olscheck.check(frame, target="y", predictors=["x", "w"], order_by="t", probe=False)
    assert report.tests["durbin_watson"].severity.value in ("warn", "fail")
    table = report.coefficient_table()
    assert table.robust == "HAC" and table.source == "durbin_watson"
    n = len(frame)
    lags = int(math.floor(4 * (n / 100) ** (2 / 9)))  # Newey & West (1994), written out here
    assert f"{lags} lags" in table.estimator
    ordered = frame.sort_values("t")
    fit = smf.ols("y ~ x + w", ordered).fit()
    assert_classical(table, fit)
    # olscheck's Newey-West: Bartlett weights 1 - l/(L+1), no small-sample factor (statsmodels' use_correction=False)
    reference = fit.get_robustcov_results("HAC", maxlags=lags, use_correction=False)
    remedy = smf.ols("y ~ x + w", ordered).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    assert_robust(table, reference, remedy, ["Intercept", "x", "w"])
    assert by_term(table)["x"].material


@pytest.mark.parametrize("groups, size", [(30, 12), (1000, 120)])
def test_cluster_robust_with_groups(groups, size):
    # 120,000 rows: the fit is solved block by block without Q, and the cluster sums make Q's rows block by block
    from olscheck.model.fit import REFINEMENT_ALWAYS_ROWS

    frame = grouped_frame(groups, size)
    report = olscheck.check(frame, target="y", predictors=["x", "z"], groups="store", probe=False)
    assert (report.fit.orthonormal is None) == (len(frame) > REFINEMENT_ALWAYS_ROWS)
    assert report.tests["grouped_errors"].severity.value in ("warn", "fail")
    table = report.coefficient_table()
    assert table.robust == "cluster" and table.source == "grouped_errors" and "store" in table.reason
    fit = smf.ols("y ~ x + z", frame).fit()
    assert_classical(table, fit)
    groups = pd.factorize(frame["store"])[0]
    reference = fit.get_robustcov_results("cluster", groups=groups)  # CR1: G/(G-1) (n-1)/(n-k)
    remedy = smf.ols("y ~ x + z", frame).fit(cov_type="cluster", cov_kwds={"groups": groups})
    assert_robust(table, reference, remedy, ["Intercept", "x", "z"])


def test_no_robust_columns_without_a_remedy_for_them(linear_frame_report):
    report = linear_frame_report
    assert report.verdict.level == "linear"
    table = report.coefficient_table()
    assert table.robust is None and table.reason is None
    assert all(row.robust_std_error is None and not row.material for row in table.rows)
    frame = linear_frame()
    assert_classical(table, smf.ols("y ~ x1 + x2", frame).fit())


def test_interval_level_and_aliased_terms():
    rng = np.random.default_rng(1)
    x = rng.normal(size=80)
    frame = pd.DataFrame({"y": 1 + x + rng.normal(size=80), "x": x, "x_copy": 2 * x})
    report = olscheck.check(frame, target="y", probe=False)
    table = coefficient_table(report, level=0.9)
    fit = smf.ols("y ~ x", frame).fit()
    rows = by_term(table)
    assert_close(rows["x"].lower, fit.conf_int(0.10).loc["x", 0], "90% lower")
    aliased = rows["x_copy"]
    assert aliased.estimate is None and aliased.lower is None and aliased.robust_std_error is None


def test_streamed_and_in_memory_tables_agree():
    from olscheck.engine import check_streaming

    frame = heteroskedastic_frame().drop(columns="g")
    memory = olscheck.check(frame, target="y", probe=False).coefficient_table()
    streamed = check_streaming(frame, target="y", chunk_rows=64).coefficient_table()
    assert memory.robust == streamed.robust == "HC3"
    for ours, theirs in zip(memory.rows, streamed.rows):
        assert ours.term == theirs.term and ours.material == theirs.material
        assert ours.robust_std_error is not None  # the intercept's too
        for name in ("std_error", "lower", "robust_std_error", "robust_upper"):
            a, b = getattr(ours, name), getattr(theirs, name)
            assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9), (ours.term, name, a, b)


def test_json_key_validates_and_matches_the_table():
    jsonschema = pytest.importorskip("jsonschema")
    report = olscheck.check(heteroskedastic_frame(), target="y", probe=False)
    document = json.loads(report.to_json())
    entry = document["coefficient_table"]
    assert entry["robust"] == "HC3"
    table = report.coefficient_table()
    assert [row["term"] for row in entry["rows"]] == [row.term for row in table.rows]
    for row, ours in zip(entry["rows"], table.rows):
        assert row["robust_std_error"] == ours.robust_std_error and row["material"] == ours.material
    if not SCHEMA_PATH.is_file():
        pytest.skip("../shared/contract/report.schema.json is not beside this checkout")
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))


@pytest.fixture(scope="module")
def linear_frame_report():
    return olscheck.check(linear_frame(), target="y", probe=False)
