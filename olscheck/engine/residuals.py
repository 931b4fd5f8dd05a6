"""Pass 2: residual statistics of one chunk, given the fit of pass 1.

Per chunk of rows (B the fitting basis of the kept columns, a its
coefficients, R_f its triangular factor):

* residuals e = y - B a, rows of the orthonormal basis Q = B R_f⁻¹ and
  leverages h = ||q_t||²;
* power sums of e (Jarque-Bera), extremes of e², e;
* the triangular factor of the *auxiliary columns*
  ``[1, B_slopes, f, f², g², g³, e, d, |e|]`` (f the standardised fitted
  values, g the fitted values scaled as RESET scales them, d = e² - σ̂²),
  one per half of the rows (Goldfeld-Quandt): every auxiliary regression
  of the battery (Breusch-Pagan, White's special form, Cook-Weisberg,
  RESET, Goldfeld-Quandt, the Glejser error-SD regression) is the QR of a
  few of its columns;
* sandwich scores s = (Q u_j) e for the slope directions u_j: HC3 sums and
  Newey-West lagged products;
* windows of consecutive rows (:class:`~olscheck.engine.accumulate.Sequence`);
* Cook's distance and studentized residuals per row, of which only counts,
  extremes and the largest rows are kept;
* the rows of a systematic sample, whole.

Cost O(n k²) per pass, memory O(chunk · k).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg as scipy_linalg

from ..checks.influence import LEVERAGE_ONE_TOLERANCE
from .accumulate import TOP_KEPT, ResidualStatistics, Sequence, stack_r
from .fit import StreamedFit

__all__ = ["AUX", "new_statistics", "chunk_statistics"]


class AUX:
    """Positions of the auxiliary columns, given the number of slopes s."""

    def __init__(self, slopes: int):
        self.one = 0
        self.slopes = list(range(1, slopes + 1))
        self.fitted = slopes + 1
        self.fitted2 = slopes + 2
        self.reset2 = slopes + 3
        self.reset3 = slopes + 4
        self.e = slopes + 5
        self.d = slopes + 6
        self.abs = slopes + 7
        self.width = slopes + 8


def new_statistics(fit: StreamedFit, order: int, nw_lags: int) -> ResidualStatistics:
    slopes = fit.slopes.size
    return ResidualStatistics(AUX(slopes).width, Sequence(order, nw_lags, fit.rank, slopes))


def chunk_statistics(fit: StreamedFit, chunk, start: int, order: int, nw_lags: int, split: int,
                     sample_positions) -> ResidualStatistics:
    """Statistics of one chunk whose first complete row has 0-based position ``start``."""
    out = new_statistics(fit, order, nw_lags)
    shifted = chunk.shifted
    m = shifted.shape[0]
    if m == 0:
        return out
    n, k = fit.n, fit.rank
    basis = fit.basis_rows(shifted)
    e = fit.residuals(shifted, basis)
    q = scipy_linalg.solve_triangular(fit.r_fit, basis.T, trans="T", check_finite=False).T if k else np.zeros((m, 0))
    h = np.einsum("ij,ij->i", q, q)
    slopes = fit.slopes
    directions = fit.directions[slopes] if slopes.size else np.zeros((0, k))
    g = q @ directions.T
    scores = g * e[:, None]

    out.n = m
    centred = e - fit.residual_shift
    squared = centred * centred
    out.power_sums = np.array([m, centred.sum(), squared.sum(), (squared * centred).sum(), (squared * squared).sum()])
    e2 = e * e
    out.e_squared_min = float(e2.min())
    out.e_squared_max = float(e2.max())
    out.e_abs_max = float(np.sqrt(out.e_squared_max))
    out.q_e = q.T @ e

    # auxiliary columns
    a = fit.basis_coefficients
    if fit.has_intercept:
        fitted_part = basis[:, slopes] @ a[slopes] if slopes.size else np.zeros(m)
        standardised = fitted_part / fit.fitted_rms
        reset = standardised
    else:
        fitted_part = basis @ a
        standardised = (fitted_part - fit.fitted_mean) / fit.fitted_rms
        reset = fitted_part / fit.reset_rms
    sigma2 = fit.rss_pass1 / n
    auxiliary = np.empty((m, AUX(slopes.size).width))
    auxiliary[:, 0] = 1.0
    auxiliary[:, 1:slopes.size + 1] = basis[:, slopes]
    column = slopes.size + 1
    auxiliary[:, column] = standardised
    auxiliary[:, column + 1] = standardised * standardised
    auxiliary[:, column + 2] = reset * reset
    auxiliary[:, column + 3] = reset * reset * reset
    auxiliary[:, column + 4] = e
    auxiliary[:, column + 5] = e2 - sigma2
    auxiliary[:, column + 6] = np.abs(e)
    cut = min(max(split - start, 0), m)
    out.halves = [stack_r(None, auxiliary[:cut]) if cut else None,
                  stack_r(None, auxiliary[cut:]) if cut < m else None]

    # sandwich sums: HC3 and the lag-0 Newey-West term
    one_minus_h = 1.0 - h
    usable = one_minus_h > 1e-10
    weights = np.zeros(m)
    weights[usable] = (e[usable] / one_minus_h[usable]) ** 2
    out.hc3 = (g * g).T @ weights
    out.nw_lag0 = np.einsum("ij,ij->j", scores, scores)
    out.sequence.add_rows(e, q, scores)

    # influence: Cook's distance and externally studentized residuals (olscheck.checks.influence)
    df_resid = n - k
    rss = fit.rss_pass1
    s2 = rss / df_resid if df_resid > 0 else np.nan
    leverage_one = h >= 1.0 - LEVERAGE_ONE_TOLERANCE
    complement = np.where(leverage_one, np.nan, one_minus_h)
    with np.errstate(divide="ignore", invalid="ignore"):
        cooks = e2 * h / (k * s2 * complement * complement)
        if df_resid - 1 > 0:
            deleted = np.maximum(rss - e2 / complement, 0.0)
            studentized = e / (np.sqrt(deleted / (df_resid - 1)) * np.sqrt(complement))
        else:
            studentized = np.full(m, np.nan)
    cooks[~np.isfinite(cooks)] = np.nan
    studentized[~np.isfinite(studentized)] = np.nan
    leverage = np.where(leverage_one, 1.0, h)
    out.max_leverage = float(leverage.max())
    out.n_leverage_one = int(leverage_one.sum())
    defined = np.flatnonzero(np.isfinite(cooks))
    out.n_influential = int(np.sum(cooks[defined] > 4.0 / n))
    if defined.size:
        count = min(TOP_KEPT, defined.size)
        best = defined[np.argsort(-cooks[defined], kind="stable")[:count]]
        out.top = [(float(cooks[i]), start + int(i), chunk.labels[i], float(leverage[i]), _float(studentized[i]))
                   for i in best]
    studentized_defined = np.flatnonzero(np.isfinite(studentized))
    out.n_studentized = int(studentized_defined.size)
    if studentized_defined.size:
        i = int(studentized_defined[np.argmax(np.abs(studentized[studentized_defined]))])
        out.worst_studentized = (abs(float(studentized[i])), float(studentized[i]), start + i, chunk.labels[i])

    # the sample kept whole (positions are global, in row order)
    chosen = sample_positions(start, start + m)
    if chosen.size:
        local = chosen - start
        out.sample = [{
            "positions": chosen,
            "labels": chunk.labels[local],
            "raw": chunk.raw[local],
            "basis": basis[local][:, slopes],
            "residuals": e[local],
            "leverage": leverage[local],
        }]
    return out


def _float(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
