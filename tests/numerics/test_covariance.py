"""olscheck.numerics.covariance: the Bartlett-kernel sums and the sandwiches against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from olscheck.numerics.covariance import bartlett_sums


def _lagged_products(scores, window, lags):
    """sum_t s_t² + 2 sum_{l=1}^{window} (1 - l/(lags+1)) sum_t s_t s_{t-l}, term by term."""
    n, columns = scores.shape
    out = np.zeros(columns)
    for j in range(columns):
        out[j] = sum(scores[t, j] ** 2 for t in range(n))
        for lag in range(1, window + 1):
            weight = 1.0 - lag / (lags + 1.0)
            out[j] += 2.0 * weight * sum(scores[t, j] * scores[t - lag, j] for t in range(lag, n))
    return out


@pytest.mark.parametrize(("n", "lags"), [(1, 1), (2, 1), (3, 5), (7, 3), (40, 4), (120, 11)])
def test_bartlett_sums_match_the_lagged_products(n, lags):
    scores = np.random.default_rng(n + lags).normal(size=(n, 2))
    window = min(lags, n - 1)
    np.testing.assert_allclose(bartlett_sums(scores, window, lags), _lagged_products(scores, window, lags),
                               rtol=1e-12, atol=1e-12)


def test_bartlett_sums_across_blocks_of_running_sums():
    # more rows than one block (65536) so windows straddle a block boundary
    rng = np.random.default_rng(3)
    scores = rng.normal(size=(70_001, 2)) + np.linspace(0.0, 1.0, 70_001)[:, None]
    lags = 13
    direct = np.einsum("ij,ij->j", scores, scores)
    for lag in range(1, lags + 1):
        direct += 2.0 * (1.0 - lag / (lags + 1.0)) * np.einsum("ij,ij->j", scores[lag:], scores[:-lag])
    np.testing.assert_allclose(bartlett_sums(scores, lags, lags), direct, rtol=1e-11)


def test_the_batterys_sandwiches_over_several_blocks_match_the_textbook_sandwiches():
    # more rows than one block of the battery: the Bartlett sums must join across block boundaries and
    # HC3 count every row once; every coefficient's ratio, the intercept's included
    from olscheck.checks import battery
    from olscheck.numerics.covariance import newey_west_lags
    from olscheck.thresholds import DEFAULT_THRESHOLDS
    from tests.helpers import fit_arrays

    rng = np.random.default_rng(17)
    n = 70_001
    assert n > battery.BLOCK_ROWS
    lags = newey_west_lags(n)
    x = rng.normal(size=(n, 2))
    errors = rng.normal(size=n) * (1.0 + np.abs(x[:, 0]))
    errors[1:] += 0.5 * errors[:-1]
    y = 1.0 + x @ [2.0, -1.0] + errors
    fit = fit_arrays(y, {"a": x[:, 0], "b": x[:, 1]})
    result = battery.run(fit, DEFAULT_THRESHOLDS)

    design = np.column_stack([np.ones(n), x])
    bread = np.linalg.inv(design.T @ design)
    e = y - design @ (bread @ design.T @ y)
    leverage = np.einsum("ij,jk,ik->i", design, bread, design)
    classical = np.diag(bread) * (e @ e) / (n - 3)
    scores = design * (e / (1.0 - leverage))[:, None]
    hc3 = np.diag(bread @ scores.T @ scores @ bread)
    scores = design * e[:, None]
    meat = scores.T @ scores
    for lag in range(1, lags + 1):
        product = scores[lag:].T @ scores[:-lag]
        meat += (1.0 - lag / (lags + 1.0)) * (product + product.T)
    newey_west = np.diag(bread @ meat @ bread)
    for change, textbook in ((result.hc3, hc3), (result.newey_west, newey_west)):
        ratios = np.sqrt(textbook / classical)
        np.testing.assert_allclose(change.ratios, ratios[1:], rtol=1e-9)
        np.testing.assert_allclose(change.intercept.ratios, ratios[:1], rtol=1e-9)
    assert result.newey_west.estimator == f"Newey-West HAC, Bartlett kernel, {lags} lags"


def test_the_intercepts_ratio_rides_along_but_decides_nothing():
    from olscheck.numerics.covariance import sandwich_from_meats

    sigma2 = 4.0
    # the intercept's HC3 meat is 9 sigma² (ratio 3), the slopes' 1.21 and 0.81 sigma² (ratios 1.1 and 0.9)
    hc3 = np.array([36.0, 4.84, 3.24])
    newey_west = np.array([16.0, 4.0, 4.0])
    changes = sandwich_from_meats(hc3, newey_west, sigma2, ("Intercept", "x", "z"), 3, intercept=0)
    assert changes.hc3.names == ("x", "z")
    np.testing.assert_allclose(changes.hc3.ratios, [1.1, 0.9], rtol=1e-15)
    assert changes.hc3.intercept.names == ("Intercept",) and changes.hc3.intercept.ratios == (3.0,)
    assert changes.newey_west.intercept.ratios == (2.0,)
    # the severities' measures read the slopes only
    assert changes.hc3.largest_change == pytest.approx(0.1) and changes.hc3.worst in ("x", "z")
    assert changes.hc3.material(0.2, 0.0) is None
    details = changes.hc3.detail_fields("hc3")
    assert details["hc3_se_ratios"] == pytest.approx({"x": 1.1, "z": 0.9})
    assert details["hc3_intercept_se_ratios"] == {"Intercept": 3.0}
    assert "hc3_intercept_se_change" not in details
    # without an intercept every name is a slope
    plain = sandwich_from_meats(hc3, newey_west, sigma2, ("a", "x", "z"), 3)
    assert plain.hc3.names == ("a", "x", "z") and plain.hc3.intercept is None
    assert plain.hc3.largest_change == pytest.approx(2.0)
