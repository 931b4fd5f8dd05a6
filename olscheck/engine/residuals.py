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
* sandwich scores s = (Q u_j) e for every coefficient's direction u_j
  (the intercept's too, for its robust interval; severities read the
  slopes only): HC3 sums and the Newey-West meat (Bartlett-weighted lagged
  products, in the sequence);
* windows of consecutive rows (:class:`~olscheck.engine.accumulate.Sequence`);
* Cook's distance and studentized residuals per row, of which only counts,
  extremes and the largest rows are kept;
* the rows of the seeded random sample, whole.

Cost O(n k²) per pass, memory O(chunk · k).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import blas

from ..numerics.covariance import null_sums
from ..numerics.qr import CACHE_ROWS
from .accumulate import TOP_KEPT, ResidualStatistics, Sequence, largest_positions, stack_r
from .fit import StreamedFit

__all__ = ["AUX", "RowBlock", "new_statistics", "chunk_statistics", "row_statistics", "row_influence",
           "LEVERAGE_ONE_TOLERANCE"]

#: Leverage within this of 1 counts as 1 (R's lm.influence, tol = 10 * eps).
LEVERAGE_ONE_TOLERANCE = 10 * np.finfo(float).eps


def row_influence(residuals: np.ndarray, leverage: np.ndarray, rank: int, rss: float, df_resid: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cook's distance, externally studentized residuals and the leverage-one mask of some rows of a fit.

    Given the whole fit's RSS and residual df: every row's measures are
    those of R's ``cooks.distance`` and ``rstudent`` on the whole fit.

    ``cooks_i = e_i² h_i / (p s² (1 - h_i)²)`` and ``t_i = e_i / (s_(i)
    sqrt(1 - h_i))`` with ``s_(i)² = (RSS - e_i²/(1 - h_i)) / (df - 1)``;
    the streaming engine calls it per chunk with the whole fit's RSS.
    """
    e, h = residuals, leverage
    leverage_one = h >= 1.0 - LEVERAGE_ONE_TOLERANCE
    complement = np.where(leverage_one, np.nan, 1.0 - h)
    s2 = rss / df_resid if df_resid > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        cooks = e * e * h / (rank * s2 * complement * complement)
        if df_resid - 1 > 0:
            deleted_rss = np.maximum(rss - e * e / complement, 0.0)
            studentized = e / (np.sqrt(deleted_rss / (df_resid - 1)) * np.sqrt(complement))
        else:
            studentized = np.full(e.size, np.nan)
    cooks[~np.isfinite(cooks)] = np.nan
    studentized[~np.isfinite(studentized)] = np.nan
    return cooks, studentized, leverage_one


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
    return ResidualStatistics(AUX(fit.slopes.size).width, Sequence(order, nw_lags, fit.rank, fit.rank))


def chunk_statistics(fit: StreamedFit, chunk, start: int, order: int, nw_lags: int, split: int,
                     sample_positions) -> ResidualStatistics:
    """Statistics of one chunk whose first complete row has 0-based position ``start``."""
    m = chunk.shifted.shape[0]
    if m == 0:
        return new_statistics(fit, order, nw_lags)
    statistics = None
    for low in range(0, m, CACHE_ROWS):
        high = min(m, low + CACHE_ROWS)
        piece = _piece_statistics(fit, chunk, low, high, start, order, nw_lags, split, sample_positions)
        statistics = piece if statistics is None else statistics.merge(piece)
    return statistics


def _piece_statistics(fit: StreamedFit, chunk, low: int, high: int, start: int, order: int, nw_lags: int,
                      split: int, sample_positions) -> ResidualStatistics:
    """Statistics of the chunk's rows ``low`` to ``high - 1`` (the first at 0-based position ``start + low``)."""
    shifted = chunk.shifted[low:high]
    m = shifted.shape[0]
    k = fit.rank
    columns = AUX(fit.slopes.size)
    # The auxiliary block [1, B_s, ...] is Fortran-ordered and holds the fitting basis B itself (with an
    # intercept B = [1, B_s] is its first columns, without one B = B_s follows the ones column): B is
    # written once, and LAPACK factors the block in place at the end, after the last use of B.
    auxiliary = np.empty((m, columns.width), order="F")
    auxiliary[:, columns.one] = 1.0
    first = 0 if fit.has_intercept else 1
    basis = fit.basis_rows(shifted, out=auxiliary[:, first:first + k])
    fitted_part = fit.fitted_part(basis)
    e = fit.residuals(shifted, fitted_part)
    # q = B R⁻¹, the rows of the orthonormal basis: one right-sided triangular solve (level-3 BLAS)
    q = blas.dtrsm(1.0, fit.r_fit, basis, side=1, lower=0) if k else np.zeros((m, 0))
    rows = RowBlock(auxiliary, e, q, fitted_part, chunk.labels[low:high],
                    None if chunk.raw is None else chunk.raw[low:high])
    return row_statistics(fit, rows, start + low, order, nw_lags, split, sample_positions)


class RowBlock:
    """Consecutive rows of a fitted model, as the residual statistics read them.

    ``auxiliary`` is the m x ``AUX(s).width`` block (Fortran order) whose
    ones column and slope-basis columns are filled (the rest is written by
    :func:`row_statistics`); ``residuals`` e, ``q`` the rows of the
    orthonormal basis of the column space, ``fitted_part`` the part of the
    fitted values that varies by row (:meth:`FittedModel.fitted_part`),
    ``labels`` the rows' labels and ``raw`` their accumulated columns (kept
    for the rows of the sample; None when the caller keeps the rows itself).
    """

    __slots__ = ("auxiliary", "residuals", "q", "fitted_part", "labels", "raw")

    def __init__(self, auxiliary, residuals, q, fitted_part, labels, raw=None):
        self.auxiliary = auxiliary
        self.residuals = residuals
        self.q = q
        self.fitted_part = fitted_part
        self.labels = labels
        self.raw = raw


def row_statistics(fit, rows: RowBlock, start: int, order: int, nw_lags: int, split: int,
                   sample_positions) -> ResidualStatistics:
    """Everything the battery reads from a block of consecutive rows, given their residuals and Q rows.

    The one place every residual statistic is computed: the streamed chunks
    (:func:`chunk_statistics`) and the in-memory fit
    (:func:`olscheck.checks.battery.statistics`) both come here. ``fit`` is a
    :class:`~olscheck.engine.fit.StreamedFit` or the in-memory
    :class:`~olscheck.checks.battery.InMemoryModel` (the fitted-model
    interface both provide: ``n``, ``rank``, ``slopes``, ``has_intercept``,
    ``directions``, ``rss_pass1``, ``fitted_rms``, ``fitted_mean``,
    ``reset_rms``, ``residual_shift``, and ``keep_rows``: whether every
    row's influence measures are kept, not only the largest).
    """
    out = new_statistics(fit, order, nw_lags)
    e = rows.residuals
    m = e.size
    if m == 0:
        return out
    n, k = fit.n, fit.rank
    slopes = fit.slopes
    columns = AUX(slopes.size)
    auxiliary, q, fitted_part = rows.auxiliary, rows.q, rows.fitted_part
    h = np.einsum("ij,ij->i", q, q)
    g = q @ fit.directions.T  # every coefficient's direction, the intercept's included
    scores = g * e[:, None]

    out.n = m
    centred = e - fit.residual_shift if fit.residual_shift else e
    squared = centred * centred
    out.power_sums = np.array([m, centred.sum(), squared.sum(), squared @ centred, squared @ squared])
    e2 = squared if centred is e else e * e
    out.e_squared_min = float(e2.min())
    out.e_squared_max = float(e2.max())
    out.e_abs_max = float(np.sqrt(out.e_squared_max))
    out.q_e = q.T @ e

    # the other auxiliary columns
    if fit.has_intercept:
        standardised = fitted_part / fit.fitted_rms
        reset = standardised
    else:
        standardised = (fitted_part - fit.fitted_mean) / fit.fitted_rms
        reset = fitted_part / fit.reset_rms
    sigma2 = fit.rss_pass1 / n
    auxiliary[:, columns.fitted] = standardised
    np.multiply(standardised, standardised, out=auxiliary[:, columns.fitted2])
    if reset is standardised:
        auxiliary[:, columns.reset2] = auxiliary[:, columns.fitted2]
    else:
        np.multiply(reset, reset, out=auxiliary[:, columns.reset2])
    np.multiply(auxiliary[:, columns.reset2], reset, out=auxiliary[:, columns.reset3])
    auxiliary[:, columns.e] = e
    np.subtract(e2, sigma2, out=auxiliary[:, columns.d])
    np.abs(e, out=auxiliary[:, columns.abs])

    # sandwich sums: HC3 here, Newey-West in the sequence
    sums = null_sums(g, h, residuals=e)
    out.hc3, out.null_sums = sums[5], sums[:5]
    out.sequence.add_rows(e, q, scores)

    # influence: Cook's distance and externally studentized residuals, with the whole fit's RSS
    cooks, studentized, leverage_one = row_influence(e, h, k, fit.rss_pass1, n - k)
    leverage = np.where(leverage_one, 1.0, h)
    if fit.keep_rows:
        # in memory the report lists every row's measures (and the plots draw them): keep them
        out.rows = [(cooks, studentized, leverage)]
    out.max_leverage = float(leverage.max())
    out.n_leverage_one = int(leverage_one.sum())
    defined = np.flatnonzero(np.isfinite(cooks))
    out.n_influential = int(np.sum(cooks[defined] > 4.0 / n))
    labels = rows.labels
    if defined.size:
        count = min(TOP_KEPT, defined.size)
        best = largest_positions(cooks, defined, count)
        out.top = [(float(cooks[i]), start + int(i), labels[i], float(leverage[i]), _float(studentized[i]))
                   for i in best]
    studentized_defined = np.flatnonzero(np.isfinite(studentized))
    out.n_studentized = int(studentized_defined.size)
    if studentized_defined.size:
        i = int(largest_positions(np.abs(studentized), studentized_defined, 1)[0])
        out.worst_studentized = (abs(float(studentized[i])), float(studentized[i]), start + i, labels[i])

    # the sample kept whole (positions are global, in row order)
    chosen = sample_positions(start, start + m)
    if chosen.size:
        local = chosen - start
        out.sample = [{
            "positions": chosen,
            "labels": labels[local],
            "raw": None if rows.raw is None else rows.raw[local],
            # the slope columns of B follow the ones column with and without an intercept (a copy: the
            # block is factored in place below)
            "basis": auxiliary[local, 1:1 + slopes.size],
            "residuals": e[local],
            "leverage": leverage[local],
        }]

    # the auxiliary block's triangular factor, per half of the rows (Goldfeld-Quandt); B is gone after this
    cut = min(max(split - start, 0), m)
    if cut in (0, m):
        factor = stack_r(None, auxiliary, overwrite=True)
        out.halves = [factor, None] if cut else [None, factor]
    else:
        out.halves = [stack_r(None, auxiliary[:cut]), stack_r(None, auxiliary[cut:])]
    return out


def _float(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
