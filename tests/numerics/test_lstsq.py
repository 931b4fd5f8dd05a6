"""olscheck.numerics.lstsq.least_squares against numpy's lstsq, at ordinary and extreme magnitudes."""

from __future__ import annotations

import numpy as np
import pytest

from olscheck.numerics.lstsq import RowSegments, centred_scaled_basis, extend, least_squares


def _data(n: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 3))
    v = 0.5 + z @ np.array([1.0, -2.0, 0.25]) + rng.normal(size=n)
    return z, v


def _lstsq(z, v, intercept=True):
    design = np.column_stack([np.ones(len(v)), z]) if intercept else z
    coefficients = np.linalg.lstsq(design, v, rcond=None)[0]
    residuals = v - design @ coefficients
    return coefficients, residuals


@pytest.mark.parametrize("intercept", [True, False])
def test_matches_numpy_lstsq(intercept):
    z, v = _data()
    result = least_squares(z, v, intercept=intercept)
    coefficients, residuals = _lstsq(z, v, intercept)
    np.testing.assert_allclose(result.coefficients, coefficients, rtol=1e-12)
    np.testing.assert_allclose(result.residuals, residuals, rtol=1e-10, atol=1e-13)
    assert result.rss == pytest.approx(residuals @ residuals, rel=1e-12)
    assert result.rank == 3 + intercept
    assert list(result.kept) == [0, 1, 2]


@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e200, 1e-200, 1e160, 2.0**-1060])
@pytest.mark.parametrize("intercept", [True, False])
def test_extreme_column_magnitudes_give_the_unscaled_fit(factor, intercept):
    # |x| > ~1e154 made the sum of squares overflow, |x| < ~1e-154 underflow:
    # the column was then treated as constant and dropped
    z, v = _data()
    scaled = z.copy()
    scaled[:, 1] *= factor
    # the reference uses the values actually stored (a subnormal column keeps
    # only ~14 bits of each value; dividing by a power of two is exact)
    z = scaled.copy()
    z[:, 1] /= factor
    coefficients, residuals = _lstsq(z, v, intercept)
    result = least_squares(scaled, v, intercept=intercept)
    assert list(result.kept) == [0, 1, 2]
    assert result.rss == pytest.approx(residuals @ residuals, rel=1e-11)
    np.testing.assert_allclose(result.residuals, residuals, rtol=1e-9, atol=1e-12)
    expected = coefficients.copy()
    with np.errstate(over="ignore"):
        expected[1 + intercept] /= factor  # inf for the subnormal column, as for the result
    np.testing.assert_allclose(result.coefficients, expected, rtol=1e-12)


def test_columns_near_the_largest_float_are_kept():
    z, v = _data()
    scaled = z.copy()
    scaled[:, 0] = z[:, 0] / np.max(np.abs(z[:, 0])) * 1.5e308
    result = least_squares(scaled, v)
    coefficients, residuals = _lstsq(z, v)
    assert result.rank == 4
    assert result.rss == pytest.approx(residuals @ residuals, rel=1e-11)
    assert np.isfinite(result.coefficients).all()
    factor = 1.5e308 / np.max(np.abs(z[:, 0]))
    assert result.coefficients[1] * factor == pytest.approx(coefficients[1], rel=1e-12)


def test_a_constant_column_at_extreme_magnitude_is_still_constant():
    z, v = _data()
    for value in (3e300, 3e-300):
        with_constant = np.column_stack([z, np.full(len(v), value)])
        result = least_squares(with_constant, v)
        assert list(result.kept) == [0, 1, 2]


def test_aliased_column_at_extreme_magnitude_is_dropped_as_in_r():
    z, v = _data()
    combined = np.column_stack([z * [1e300, 1.0, 1.0], 1e-300 * (z[:, 0] + z[:, 1])])
    result = least_squares(combined, v)
    assert list(result.kept) == [0, 1, 2]


@pytest.mark.parametrize("factor", [2.0**700, 1e300, 1e-300])
def test_basis_does_not_depend_on_the_units(factor):
    z, _ = _data()
    basis, shift, scale = centred_scaled_basis(z, centre=True)
    scaled_basis, scaled_shift, scaled_scale = centred_scaled_basis(z * factor, centre=True)
    np.testing.assert_allclose(scaled_basis, basis, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(scaled_shift, shift * factor, rtol=1e-13)
    np.testing.assert_allclose(scaled_scale, scale * factor, rtol=1e-13)
    # unit-norm, centred columns
    np.testing.assert_allclose(np.linalg.norm(scaled_basis, axis=0), 1.0, rtol=1e-14)
    np.testing.assert_allclose(scaled_basis.mean(axis=0), 0.0, atol=1e-15)


# ---------------------------------------------------------------------------
# extend: added columns on a fitted model's Q
# ---------------------------------------------------------------------------
def _model_q(x, intercept):
    design = np.column_stack([np.ones(len(x)), x]) if intercept else x
    return np.linalg.qr(design)[0]


@pytest.mark.parametrize("intercept", [True, False])
def test_extend_matches_numpy_lstsq_on_the_whole_design(intercept):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 2))
    z = np.column_stack([x[:, 0] ** 2, np.exp(x[:, 1])])
    v = rng.normal(size=40)
    result = extend(_model_q(x, intercept), z, v, centre=intercept)
    _, residuals = _lstsq(np.column_stack([x, z]), v, intercept)
    np.testing.assert_allclose(result.residuals, residuals, rtol=1e-10, atol=1e-13)
    assert result.rss == pytest.approx(residuals @ residuals, rel=1e-12)
    assert list(result.kept) == [0, 1]


def test_extend_drops_added_columns_aliased_with_the_model_or_each_other():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(50, 2))
    v = rng.normal(size=50)
    square = x[:, 0] ** 2
    # in the model's span; a constant; new; a combination of the new one and the model
    z = np.column_stack([2 * x[:, 0] - x[:, 1] + 3, np.full(50, 7.0), square, 0.5 * square + x[:, 1]])
    result = extend(_model_q(x, True), z, v, centre=True)
    assert list(result.kept) == [2]
    # the same aliasing as least_squares([x, z]) (R's lm keeps the earlier column)
    whole = least_squares(np.column_stack([x, z]), v)
    assert list(whole.kept) == [0, 1, 4]
    assert result.rss == pytest.approx(whole.rss, rel=1e-12)


def test_extend_with_every_added_column_aliased_returns_the_model_residuals():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 2))
    v = rng.normal(size=30)
    q = _model_q(x, True)
    result = extend(q, x[:, :1] * 3.0, v, centre=True)
    assert result.kept.size == 0
    np.testing.assert_allclose(result.residuals, v - q @ (q.T @ v), atol=1e-13)


# ---------------------------------------------------------------------------
# RowSegments: subset regressions from stacked piece factors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("intercept", [True, False])
def test_row_segments_union_of_pieces_is_least_squares_on_those_rows(intercept):
    z, v = _data(n=90, seed=4)
    segments = RowSegments(z, v, [10, 40, 70], intercept)
    assert segments.cuts == [0, 10, 40, 70, 90]
    for first, stop in [(0, 90), (10, 70), (40, 90), (0, 10)]:
        got = segments.least_squares(first, stop)
        expected = least_squares(z[first:stop], v[first:stop], intercept=intercept)
        assert got.rank == expected.rank
        assert got.rss == pytest.approx(expected.rss, rel=1e-11)


def test_row_segments_refuse_rows_that_are_not_a_union_of_pieces():
    z, v = _data(n=30, seed=5)
    segments = RowSegments(z, v, [15], True)
    assert not segments.covers(5, 15)
    with pytest.raises(ValueError, match="not a union"):
        segments.least_squares(5, 15)


def test_row_segments_pool_centred_moments_and_fall_back_on_householder_near_aliasing():
    rng = np.random.default_rng(8)
    n = 400
    z = rng.normal(size=(n, 3)) + np.array([1e6, 0.0, -3e4])  # means far from the spread
    v = z @ np.array([1.0, -2.0, 0.25]) + rng.normal(size=n)
    segments = RowSegments(z, v, [100, 200, 300], True)
    # well conditioned: the union comes from the pooled moments (no Householder factor made) ...
    assert segments._gram_factor(range(0, 3)) is not None
    for first, stop in [(0, 300), (100, 400), (0, 400)]:
        got = segments.least_squares(first, stop)
        expected = least_squares(z[first:stop], v[first:stop])
        assert got.rank == expected.rank == 4
        assert got.rss == pytest.approx(expected.rss, rel=1e-10)
    assert not segments._factors
    # ... a column within 100 x the aliasing tolerance of the others: Householder decides, as least_squares
    near = z.copy()
    near[:, 2] = near[:, 0] * 0.5 + 1e-8 * rng.normal(size=n)
    segments = RowSegments(near, v, [200], True)
    assert segments._gram_factor(range(0, 2)) is None
    got = segments.least_squares(0, 400)
    expected = least_squares(near, v)
    assert got.rank == expected.rank and got.kept.tolist() == expected.kept.tolist()
    assert got.rss == pytest.approx(expected.rss, rel=1e-9)
