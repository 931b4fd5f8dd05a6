"""olscheck.numerics.qr: one QR per auxiliary regression, against independent references."""

import numpy as np
import pytest

from olscheck.numerics.qr import (cholesky_qr2, corrected_normal_equations, independent_columns, project, stack_r,
                                 triangular_factor)

TOLERANCE = 1e-7


def _unit_columns(z):
    return z / np.linalg.norm(z, axis=0)


def _gram_schmidt_on_rows(basis, tolerance):
    """The rule written out on the n-row columns themselves (modified Gram-Schmidt, twice)."""
    kept, orthonormal = [], []
    for j in range(basis.shape[1]):
        w = basis[:, j].copy()
        for _ in range(2):
            for q in orthonormal:
                w -= (q @ w) * q
        if np.linalg.norm(w) > tolerance:
            orthonormal.append(w / np.linalg.norm(w))
            kept.append(j)
    return kept


def test_full_rank_matches_lstsq():
    rng = np.random.default_rng(0)
    basis = _unit_columns(rng.standard_normal((300, 7)))
    v = rng.standard_normal(300)
    kept, coefficients, residuals = project(basis, v, TOLERANCE)
    reference, *_ = np.linalg.lstsq(basis, v, rcond=None)
    assert kept.tolist() == list(range(7))
    np.testing.assert_allclose(coefficients, reference, rtol=1e-12)
    np.testing.assert_allclose(residuals, v - basis @ reference, atol=1e-12)
    # residuals are orthogonal to every column
    assert np.max(np.abs(basis.T @ residuals)) < 1e-12 * np.linalg.norm(v)


def test_aliased_columns_dropped_later_first_as_r_does():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((200, 6))
    z[:, 2] = 3 * z[:, 0] - z[:, 1]            # exact combination: aliased
    z[:, 4] = z[:, 3] + 1e-10 * rng.standard_normal(200)  # within 1e-7 after scaling: aliased
    z[:, 5] = z[:, 3] + 1e-4 * rng.standard_normal(200)   # far from the tolerance: kept
    basis = _unit_columns(z)
    v = rng.standard_normal(200)
    kept, coefficients, residuals = project(basis, v, TOLERANCE)
    assert kept.tolist() == [0, 1, 3, 5] == _gram_schmidt_on_rows(basis, TOLERANCE)
    reference, *_ = np.linalg.lstsq(basis[:, kept], v, rcond=None)
    np.testing.assert_allclose(coefficients, reference, rtol=1e-9)
    np.testing.assert_allclose(residuals, v - basis[:, kept] @ reference, atol=1e-10)


def test_more_columns_than_rows_interpolates():
    rng = np.random.default_rng(2)
    basis = _unit_columns(rng.standard_normal((5, 9)))
    v = rng.standard_normal(5)
    kept, _, residuals = project(basis, v, TOLERANCE)
    assert kept.tolist() == [0, 1, 2, 3, 4]
    assert np.max(np.abs(residuals)) < 1e-12


def test_no_columns_and_zero_column():
    v = np.arange(4.0)
    kept, coefficients, residuals = project(np.zeros((4, 0)), v, TOLERANCE)
    assert kept.size == 0 and coefficients.size == 0
    np.testing.assert_array_equal(residuals, v)
    kept, _, residuals = project(np.zeros((4, 1)), v, TOLERANCE)
    assert kept.size == 0
    np.testing.assert_array_equal(residuals, v)


@pytest.mark.parametrize("seed", range(5))
def test_triangle_decision_equals_row_decision(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((80, 12))
    for j in rng.choice(np.arange(2, 12), size=4, replace=False):
        mix = rng.standard_normal(j)
        z[:, j] = z[:, :j] @ mix + rng.choice([0.0, 1e-9, 1e-3]) * rng.standard_normal(80)
    basis = _unit_columns(z)
    triangle = np.linalg.qr(basis, mode="r")
    assert independent_columns(triangle, TOLERANCE).tolist() == _gram_schmidt_on_rows(basis, TOLERANCE)


# ---------------------------------------------------------------------------
# CholeskyQR2
# ---------------------------------------------------------------------------
def test_cholesky_qr2_agrees_with_householder_up_to_signs():
    rng = np.random.default_rng(21)
    x = rng.normal(size=(500, 6))
    x[:, 1:] += 0.8 * x[:, :-1]
    expected_q, expected_r = np.linalg.qr(x)
    q, r = cholesky_qr2(np.array(x, order="F"))
    signs = np.sign(np.diag(expected_r))
    np.testing.assert_allclose(r, expected_r * signs[:, None], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(q, expected_q * signs, atol=1e-12)
    np.testing.assert_allclose(q.T @ q, np.eye(6), atol=1e-14)


def test_cholesky_qr2_declines_an_ill_conditioned_matrix_and_leaves_it_untouched():
    t = np.linspace(0.0, 1.0, 200)
    x = np.asfortranarray(np.column_stack([t**k for k in range(9)]))  # condition ~2e6 with unit columns
    assert np.linalg.cond(x / np.linalg.norm(x, axis=0)) > 1e5
    before = x.copy()
    assert cholesky_qr2(x) is None
    np.testing.assert_array_equal(x, before)
    exactly_dependent = np.asfortranarray(np.column_stack([t, 2 * t, t**2]))
    assert cholesky_qr2(exactly_dependent) is None


@pytest.mark.parametrize("shape", [(1, 4), (3, 4), (50, 4), (1000, 28)])
def test_triangular_factor_is_that_of_numpy(shape):
    rows = np.random.default_rng(shape[0]).standard_normal(shape)
    mine, numpy = triangular_factor(rows), np.linalg.qr(rows, mode="r")
    assert mine.shape == numpy.shape
    # unique up to the signs of the rows
    signs = np.sign(np.diag(mine)) * np.sign(np.diag(numpy))
    np.testing.assert_allclose(mine * signs[:, None], numpy, rtol=1e-10, atol=1e-12)
    fortran = np.asfortranarray(rows)
    np.testing.assert_array_equal(triangular_factor(fortran.copy(order="F"), overwrite=True),
                                  triangular_factor(fortran))
    stacked = stack_r(stack_r(None, rows[: shape[0] // 2]), rows[shape[0] // 2:])
    np.testing.assert_allclose(stacked.T @ stacked, rows.T @ rows, rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------------------
# Corrected semi-normal equations (the Gram fast path of project_augmented)
# ---------------------------------------------------------------------------
def _with_condition(rng, n, m, condition):
    """Unit columns whose singular values run from 1 to 1/condition before scaling."""
    left, _ = np.linalg.qr(rng.standard_normal((n, m)))
    right, _ = np.linalg.qr(rng.standard_normal((m, m)))
    return _unit_columns((left * np.logspace(0, -np.log10(condition), m)) @ right.T)


@pytest.mark.parametrize("condition, noise", [(3.0, 1.0), (3e3, 1e-3), (3e3, 10.0)])
def test_corrected_normal_equations_match_the_householder_solution(condition, noise):
    rng = np.random.default_rng(31)
    basis = _with_condition(rng, 2000, 40, condition)
    v = basis @ rng.standard_normal(40) + noise * rng.standard_normal(2000)
    augmented = np.asfortranarray(np.column_stack([basis, v]))
    before = augmented.copy()
    solved = corrected_normal_equations(augmented, v, TOLERANCE)
    assert solved is not None
    kept, coefficients, residuals = solved
    np.testing.assert_array_equal(augmented, before)  # the Gram path leaves its input alone
    q, r = np.linalg.qr(basis)
    reference = np.linalg.solve(r, q.T @ v)
    reference_residuals = v - q @ (q.T @ v)
    assert kept.tolist() == list(range(40))
    # the normal equations alone lose cond² eps ~ 2e-9 relative in the coefficients, about 1e-6 of
    # the residual when it is small (noise 1e-3); the refinement brings both back to rounding level
    np.testing.assert_allclose(coefficients, reference, rtol=1e-10 * condition, atol=1e-12)
    assert np.linalg.norm(residuals - reference_residuals) <= 1e-11 * np.linalg.norm(reference_residuals)
    through_project = project(basis, v, TOLERANCE)
    np.testing.assert_array_equal(through_project[2], residuals)


def test_corrected_normal_equations_decline_what_only_householder_decides():
    rng = np.random.default_rng(32)
    v = rng.standard_normal(1000)

    def declines(basis):
        augmented = np.asfortranarray(np.column_stack([basis, v]))
        return corrected_normal_equations(augmented, v, TOLERANCE) is None

    assert not declines(_with_condition(rng, 1000, 10, 10.0))
    assert declines(_with_condition(rng, 1000, 10, 1e7))              # beyond GRAM_CONDITION_BOUND
    near = _unit_columns(rng.standard_normal((1000, 3)))
    near = np.column_stack([near, _unit_columns(near[:, :1] + 1e-7 * rng.standard_normal((1000, 1)))])
    assert declines(near)  # a column about 3e-6 from the others: within 100 x the aliasing tolerance
    assert declines(_unit_columns(rng.standard_normal((1000, 600))))  # not tall enough (n < 2m)
    # and project then falls back on Householder, which keeps or drops as R does
    kept, _, residuals = project(near, v, TOLERANCE)
    assert kept.tolist() == [0, 1, 2, 3] == _gram_schmidt_on_rows(near, TOLERANCE)
    reference, *_ = np.linalg.lstsq(near, v, rcond=None)
    np.testing.assert_allclose(residuals, v - near @ reference, atol=1e-10)
