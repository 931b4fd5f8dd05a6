"""olscheck.checks.subsets: row-subset regressions against least_squares on the rows themselves."""

from __future__ import annotations

import numpy as np
import pytest

from olscheck.checks.subsets import central_rows, subset_regression
from olscheck.numerics.lstsq import least_squares
from tests.helpers import fit_arrays


def test_rainbow_central_rows_follow_raintest():
    # from = ceiling(quantile(1:n, 0.25)) (type 7), to = from + floor(n/2) - 1, 1-based
    assert central_rows(21, 0.5) == (5, 15)  # rows 6..15
    assert central_rows(32, 0.5) == (8, 24)  # 1 + 31/4 = 8.75 -> row 9, 16 rows
    assert central_rows(16, 0.3) == (6, 10)  # 1 + 15*0.35 = 6.25 -> row 7, 4 rows
    assert central_rows(10, 1.0) == (0, 10)


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("rows", [(0, 50), (50, 101), (25, 75), (0, 101), (10, 20)])
def test_subset_regression_is_least_squares_on_those_rows(intercept, rows):
    rng = np.random.default_rng(8)
    n = 101
    columns = {"a": rng.normal(size=n), "b": 1e6 + rng.normal(size=n), "c": rng.exponential(size=n)}
    fit = fit_arrays(rng.normal(size=n) + columns["a"], columns, intercept=intercept)
    first, stop = rows
    got = subset_regression(fit, first, stop)
    expected = least_squares(fit.regressors[first:stop], fit.residuals[first:stop], intercept=intercept)
    assert got.rank == expected.rank
    assert got.rss == pytest.approx(expected.rss, rel=1e-9)


def test_subset_regression_drops_a_dummy_absent_from_the_subset():
    # a level present only in the second half: the first half's fit loses that column, as R's lm would
    rng = np.random.default_rng(9)
    n = 60
    dummy = (np.arange(n) >= 40).astype(float)
    fit = fit_arrays(rng.normal(size=n), {"x": rng.normal(size=n), "late": dummy})
    first = subset_regression(fit, 0, n // 2)
    expected = least_squares(fit.regressors[: n // 2], fit.residuals[: n // 2])
    assert first.rank == expected.rank == 2
    assert first.rss == pytest.approx(expected.rss, rel=1e-10)
