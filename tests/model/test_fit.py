"""The fit against NIST StRD certified values and R's lm/summary.lm."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from olscheck.inputs.prepare import prepare
from olscheck.model.fit import EXACT_FIT_REASON, EXACT_FIT_RELATIVE_NORM, exact_fit_reason, fit
from tests.helpers import STRD, fit_reference, needs_reference, needs_strd, reference_cases

NIST_SETS = ["Norris", "Pontius", "NoInt1", "NoInt2", "Filip", "Longley",
             "Wampler1", "Wampler2", "Wampler3", "Wampler4", "Wampler5"]


def log_relative_error(estimate: float, certified: float) -> float:
    """NIST's LRE: digits of agreement, clipped to [0, 15]; absolute error when certified is 0."""
    error = abs(estimate) if certified == 0 else abs(estimate - certified) / abs(certified)
    if error == 0:
        return 15.0
    return max(0.0, min(15.0, -math.log10(error)))


def nist_formula(entry: dict) -> str:
    degree = entry["polynomial_degree"]
    if degree:
        terms = ["x"] + [f"I(x**{k})" for k in range(2, degree + 1)]
    else:
        terms = list(entry["predictors"])
    return "y ~ " + " + ".join(terms) + ("" if entry["intercept"] else " - 1")


@needs_strd
@pytest.mark.parametrize("name", NIST_SETS)
def test_nist_strd_certified_digits(name):
    certified = json.loads((STRD / "certified.json").read_text())[name]
    frame = pd.read_csv(STRD / f"{name}.csv")
    result = fit(prepare(frame, formula=nist_formula(certified)))
    assert result.rank == len(certified["coefficients"])
    coefficient_digits = [log_relative_error(e, c) for e, c in zip(result.coefficients, certified["coefficients"])]
    se_digits = [log_relative_error(e, c) for e, c in zip(result.std_errors, certified["std_errors"])]
    assert min(coefficient_digits) >= 9.0, coefficient_digits
    # the issue asks for 7.5 and aims for 9; the refined fit reaches 13+ here
    assert min(se_digits) >= 9.0, se_digits
    assert log_relative_error(result.sigma, certified["residual_sd"]) >= 9.0
    assert log_relative_error(result.r_squared, certified["r_squared"]) >= 9.0


@needs_strd
def test_filip_powers_use_the_polynomial_basis():
    certified = json.loads((STRD / "certified.json").read_text())["Filip"]
    frame = pd.read_csv(STRD / "Filip.csv")
    design = prepare(frame, formula=nist_formula(certified))
    assert len(design.polynomials) == 1
    assert design.polynomials[0].powers == tuple(range(1, 11))


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_matches_r_lm(case_id):
    expected, result = fit_reference(case_id)
    assert result.n == expected["n_used"]
    assert result.design.n_rows == expected["n_rows"]
    names = {("Intercept" if k == "(Intercept)" else k): k for k in expected["coefficients"]}
    coefficients = result.coefficient_series()
    std_errors = result.std_error_series()
    for position, (ours, theirs) in enumerate(names.items()):
        # factor columns are named differently in R (typeprof vs type[T.prof]); order is the same
        assert coefficients.iloc[position] == pytest.approx(expected["coefficients"][theirs], rel=1e-9, abs=1e-12)
        assert std_errors.iloc[position] == pytest.approx(expected["std_errors"][theirs], rel=1e-9)
    assert result.sigma == pytest.approx(expected["sigma"], rel=1e-10)
    assert result.r_squared == pytest.approx(expected["r_squared"], rel=1e-10)
    assert result.adj_r_squared == pytest.approx(expected["adj_r_squared"], rel=1e-10)
    assert result.f_statistic == pytest.approx(expected["f_statistic"], rel=1e-9)
    assert result.condition_number == pytest.approx(expected["condition_number"], rel=1e-7)


def test_exact_aliasing_drops_later_column_like_r():
    rng = np.random.default_rng(1)
    x1 = rng.normal(size=40)
    x2 = rng.normal(size=40)
    frame = pd.DataFrame({"y": 1 + x1 - x2 + rng.normal(size=40), "x1": x1, "x2": x2, "both": x1 + 2 * x2})
    result = fit(prepare(frame, target="y", predictors=["x1", "x2", "both"]))
    assert result.aliased == ("both",)
    assert result.rank == 3
    reference = np.linalg.lstsq(np.column_stack([np.ones(40), x1, x2]), frame["y"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(result.coefficients, reference, rtol=1e-12)
    assert np.isnan(result.coefficient_series()["both"])


def test_constant_predictor_is_aliased_with_intercept():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"y": rng.normal(size=30), "x": rng.normal(size=30), "c": 5.0})
    result = fit(prepare(frame, target="y"))
    assert result.aliased == ("c",)


def test_constant_aliased_columns_are_told_apart_from_columns_duplicating_others():
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(2, 40))
    frame = pd.DataFrame({"y": 1 + x1 - x2 + rng.normal(size=40), "x1": x1, "x2": x2, "c": 5.0, "z": 0.0,
                          "both": x1 + 2 * x2})
    result = fit(prepare(frame, target="y", predictors=["x1", "x2", "c", "z", "both"]))
    assert result.aliased == ("c", "z", "both")
    # c = 5 x Intercept and z = 0 carry nothing; 'both' duplicates x1 and x2
    assert result.constant_aliased == ("c", "z")
    assert fit(prepare(frame, target="y", predictors=["x1", "x2"])).constant_aliased == ()


def test_without_an_intercept_only_a_zero_column_is_constant():
    rng = np.random.default_rng(4)
    x = rng.normal(size=30)
    frame = pd.DataFrame({"y": 2 + x + rng.normal(size=30), "x": x, "c": 5.0, "z": 0.0})
    result = fit(prepare(frame, target="y", intercept=False))
    # R: lm(y ~ 0 + x + c + z) estimates c (it is the intercept here) and gives z NA
    assert result.aliased == ("z",)
    assert result.constant_aliased == ("z",)


def test_a_column_constant_up_to_rounding_is_constant_by_the_fitting_basis_rule():
    rng = np.random.default_rng(5)
    x = rng.normal(size=30)
    # 0.1 + 0.2 and 0.3 differ in the last bit: relative spread 2e-16, far below the basis's 1e-12
    wobbly = np.where(np.arange(30) % 2 == 0, 0.1 + 0.2, 0.3)
    assert np.ptp(wobbly) > 0
    frame = pd.DataFrame({"y": x + rng.normal(size=30), "x": x, "w": wobbly})
    result = fit(prepare(frame, target="y"))
    assert result.aliased == ("w",) and result.constant_aliased == ("w",)


def test_closed_form_simple_regression():
    # slope = Sxy / Sxx, intercept = ybar - slope xbar, se(slope) = sigma / sqrt(Sxx)
    x = np.array([1.0, 2.0, 4.0, 7.0, 11.0])
    y = np.array([2.0, 3.5, 4.0, 9.0, 12.5])
    sxx = np.sum((x - x.mean()) ** 2)
    slope = np.sum((x - x.mean()) * (y - y.mean())) / sxx
    intercept = y.mean() - slope * x.mean()
    residuals = y - intercept - slope * x
    sigma = math.sqrt(residuals @ residuals / 3)
    result = fit(prepare(pd.DataFrame({"y": y, "x": x}), target="y"))
    np.testing.assert_allclose(result.coefficients, [intercept, slope], rtol=1e-14)
    assert result.sigma == pytest.approx(sigma, rel=1e-14)
    assert result.std_errors[1] == pytest.approx(sigma / math.sqrt(sxx), rel=1e-13)
    np.testing.assert_allclose(result.leverage, 1 / 5 + (x - x.mean()) ** 2 / sxx, rtol=1e-13)


@pytest.mark.parametrize("x_factor, z_factor, y_factor", [
    (1e150, 1e-150, 1.0), (1e300, 1e-300, 1.0), (1.0, 1.0, 1e300), (1.0, 1.0, 1e-300), (1e-300, 1.0, 1e-300),
])
def test_huge_and_tiny_magnitudes_fit_by_scaling(x_factor, z_factor, y_factor):
    # OLS is equivariant: scaling x by c divides its slope by c; scaling y scales every coefficient
    rng = np.random.default_rng(3)
    x = rng.normal(size=50)
    z = rng.normal(size=50)
    y = 2.0 + 3.0 * x - z + rng.normal(size=50)
    small = fit(prepare(pd.DataFrame({"y": y, "x": x, "z": z}), target="y"))
    big = fit(prepare(pd.DataFrame({"y": y * y_factor, "x": x * x_factor, "z": z * z_factor}), target="y"))
    factors = np.array([y_factor, y_factor / x_factor, y_factor / z_factor])
    np.testing.assert_allclose(big.coefficients, small.coefficients * factors, rtol=1e-12)
    np.testing.assert_allclose(big.std_errors, small.std_errors * factors, rtol=1e-12)
    np.testing.assert_allclose(big.residuals * big.design.response_scale, small.residuals * y_factor, rtol=1e-9)
    assert big.r_squared == pytest.approx(small.r_squared, rel=1e-13)
    np.testing.assert_allclose(big.coefficient_correlation, small.coefficient_correlation, atol=1e-13)


def test_coefficient_beyond_float_range_is_a_clear_error():
    from olscheck.errors import DataError

    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"y": rng.normal(size=20) * 1e300, "x": rng.normal(size=20) * 1e-300})
    with pytest.raises(DataError, match="'x'"):
        fit(prepare(frame, target="y"))


# ---------------------------------------------------------------------------
# exact fits: the one definition every check family and the streaming engine use
# ---------------------------------------------------------------------------
@needs_strd
@pytest.mark.parametrize("name", NIST_SETS)
def test_exact_fit_iff_nist_certifies_zero_residual_sd(name):
    # Wampler1/2 are exact polynomials (certified residual SD 0); the others, Longley and the
    # no-intercept NoInt1/2 among them, have real residuals however large the target's mean
    certified = json.loads((STRD / "certified.json").read_text())[name]
    result = fit(prepare(pd.read_csv(STRD / f"{name}.csv"), formula=nist_formula(certified)))
    if certified["residual_sd"] == 0:
        assert result.exact_fit_reason == EXACT_FIT_REASON
    else:
        assert result.exact_fit_reason is None


@pytest.mark.parametrize("intercept, slope", [(2.0, 3.0), (1e6, 1e-3), (-1e6, 1e-3)])
def test_exact_fit_with_any_mean_is_exact(intercept, slope):
    # the residuals are rounding noise relative to y, mean included (~1e-10 per row at 1e6),
    # although they are 1e-9 of the spread of 1e6 + 1e-3 x
    x = np.arange(50.0)
    result = fit(prepare(pd.DataFrame({"y": intercept + slope * x, "x": x}), target="y"))
    assert result.exact_fit_reason == EXACT_FIT_REASON


@pytest.mark.parametrize("intercept, slope", [(2.0, 3.0), (1e6, 1e-3)])
def test_noise_of_1e_6_relative_is_not_an_exact_fit(intercept, slope):
    x = np.arange(50.0)
    signal = intercept + slope * x
    noise = 1e-6 * np.sqrt(np.mean(signal**2)) * np.random.default_rng(3).normal(size=x.size)
    result = fit(prepare(pd.DataFrame({"y": signal + noise, "x": x}), target="y"))
    assert result.exact_fit_reason is None


def test_exact_fit_reason_pure_function():
    # the boundary is ||e|| = 1e-12 ||y|| (uncentred), and no residual df is an exact fit by construction
    assert exact_fit_reason(rss=(0.99e-12) ** 2 * 4.0, y_squares=4.0, n=10, rank=2) == EXACT_FIT_REASON
    assert exact_fit_reason(rss=(1.01e-12) ** 2 * 4.0, y_squares=4.0, n=10, rank=2) is None
    assert exact_fit_reason(rss=0.0, y_squares=0.0, n=10, rank=2) == EXACT_FIT_REASON
    assert exact_fit_reason(rss=1.0, y_squares=4.0, n=3, rank=3) == (
        "the model has no residual degrees of freedom (n = 3, 3 coefficients)")
    assert EXACT_FIT_RELATIVE_NORM == 1e-12


# --------------------------------------------------------------------------- large designs, factored block by block
def _large_frame(rows: int = 130_000, seed: int = 3) -> pd.DataFrame:
    """More rows than REFINEMENT_ALWAYS_ROWS, offset means and mixed scales: the block-by-block fit's case."""
    rng = np.random.default_rng(seed)
    x1 = 1e4 + rng.normal(size=rows)            # a large mean against its spread (centring matters)
    x2 = 1e-3 * rng.normal(size=rows) + 0.3 * (x1 - 1e4) * 1e-3
    x3 = rng.integers(0, 5, rows).astype(float)
    y = 7.0 + 0.5 * x1 - 300.0 * x2 + 0.2 * x3 + rng.normal(size=rows)
    return pd.DataFrame({"y": y, "x1": x1, "x2": x2, "x3": x3})


def _reference_least_squares(x: np.ndarray, y: np.ndarray):
    """Coefficients, residuals and leverages from numpy's SVD-based lstsq and QR: an independent computation."""
    coefficients = np.linalg.lstsq(x, y, rcond=None)[0]
    q = np.linalg.qr(x - np.r_[0.0, x[:, 1:].mean(axis=0)] if np.all(x[:, 0] == 1) else x)[0]
    return coefficients, y - x @ coefficients, np.einsum("ij,ij->i", q, q)


@pytest.mark.parametrize("intercept", [True, False])
def test_large_design_is_solved_block_by_block_as_lstsq_solves_it(intercept):
    from olscheck.model.fit import REFINEMENT_ALWAYS_ROWS

    frame = _large_frame()
    assert len(frame) > REFINEMENT_ALWAYS_ROWS
    fitted = fit(prepare(frame, "y", intercept=intercept))
    assert fitted.orthonormal is None and fitted.row_basis is not None  # Q was not formed
    x = fitted.x
    coefficients, residuals, leverage = _reference_least_squares(x, frame["y"].to_numpy())
    np.testing.assert_allclose(fitted.coefficients, coefficients, rtol=1e-9)
    np.testing.assert_allclose(fitted.residuals, residuals, rtol=0, atol=1e-9 * np.abs(residuals).max())
    np.testing.assert_allclose(fitted.leverage, leverage, rtol=1e-9)
    np.testing.assert_allclose(fitted.rss, residuals @ residuals, rtol=1e-11)
    # Q made from the basis rows: orthonormal, spanning X, its rows' norms the leverages
    q = fitted.q
    np.testing.assert_allclose(q.T @ q, np.eye(fitted.rank), atol=1e-12)
    projection = q @ (q.T @ x)
    assert np.all(np.abs(projection - x).max(axis=0) <= 1e-9 * np.abs(x).max(axis=0))
    rows = np.array([0, 17, 99_999, len(frame) - 1])
    np.testing.assert_allclose(fitted.q_rows(rows), q[rows], rtol=0, atol=1e-15)
    np.testing.assert_allclose(fitted.q_rows(slice(100, 200)), q[100:200], rtol=0, atol=1e-15)
    # the collinearity factor from R alone has X's Gram matrix (columns divided by their powers of two)
    factor, exponent = fitted.design_factor
    scaled = np.ldexp(x, -exponent)
    np.testing.assert_allclose(factor.T @ factor, scaled.T @ scaled, rtol=1e-11)
    singular = np.linalg.svd(x, compute_uv=False)
    assert math.isclose(fitted.condition_number, singular[0] / singular[-1], rel_tol=1e-9)



def test_large_design_gives_the_same_numbers_on_two_cores_and_on_one(monkeypatch):
    from olscheck.engine import parallel

    design = prepare(_large_frame(), "y")  # 6 blocks
    monkeypatch.setattr(parallel, "available_cores", lambda: 2)
    two_cores = fit(design)
    monkeypatch.setattr(parallel, "available_cores", lambda: 1)
    one_core = fit(design)
    for name in ("coefficients", "residuals", "leverage"):
        np.testing.assert_array_equal(getattr(two_cores, name), getattr(one_core, name))
    assert two_cores.rss == one_core.rss


def test_large_design_drops_aliased_columns_as_r_does_block_by_block():
    frame = _large_frame()
    frame["constant"] = 2.5
    frame["x1_plus_x3"] = frame["x1"] + frame["x3"]
    fitted = fit(prepare(frame, "y"))
    assert fitted.orthonormal is None
    assert fitted.aliased == ("constant", "x1_plus_x3")  # later columns go, as lm drops them
    coefficients, residuals, leverage = _reference_least_squares(fitted.x, frame["y"].to_numpy())
    np.testing.assert_allclose(fitted.coefficients, coefficients, rtol=1e-9)
    np.testing.assert_allclose(fitted.leverage, leverage, rtol=1e-9)


def test_large_ill_conditioned_design_is_refined_on_the_whole_basis():
    from olscheck.model.fit import REFINEMENT_CONDITION

    frame = _large_frame()
    frame["x4"] = frame["x3"] + 1e-4 * np.random.default_rng(5).normal(size=len(frame))  # near-duplicate of x3
    fitted = fit(prepare(frame, "y"))
    assert fitted.orthonormal is not None  # past REFINEMENT_CONDITION: Q formed and the solution refined
    basis, _ = fitted.design.fitting_basis()
    singular = np.linalg.svd(basis / np.linalg.norm(basis, axis=0), compute_uv=False)
    assert singular[0] / singular[-1] > REFINEMENT_CONDITION
    coefficients = np.linalg.lstsq(fitted.x, frame["y"].to_numpy(), rcond=None)[0]
    np.testing.assert_allclose(fitted.coefficients, coefficients, rtol=1e-7)
