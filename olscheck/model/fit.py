"""The collapsed linear model: an accurate least-squares fit.

A network whose activations are all the identity is one affine map, so
fitting it to its optimum is ordinary least squares. :func:`fit` solves
that problem as accurately as float64 data allows:

1. a well-conditioned basis of the design's column space (intercept kept,
   other columns centred and scaled to unit norm, polynomial groups replaced
   by powers of the rescaled base variable) -- see
   :meth:`olscheck.model.design.Design.fitting_basis`;
2. aliased columns found the way R's ``lm`` finds them (a column within
   1e-7 of the span of the earlier ones is dropped, later columns first);
3. QR of the basis (CholeskyQR2 when its condition number is at most 1e4,
   Householder otherwise) and the triangular solve; beyond
   :data:`REFINEMENT_ALWAYS_ROWS` rows a design without polynomial groups
   is first factored block by block (TSQR, :data:`~olscheck.numerics.qr.CACHE_ROWS`
   rows at a time, the basis made per block and never whole) and, when
   its basis is well conditioned, solved from that factor without forming
   Q: the rows of Q are made from the basis rows when a check asks for
   them (:meth:`LinearFit.q_rows`);
4. iterative refinement of the augmented system
   ``[I X; X' 0] [r; b] = [y; 0]`` with residuals in extended precision
   (Björck 1967), which recovers the digits the intercept and a poorly
   scaled basis lose;
5. coefficients mapped back to the reported columns in extended precision.

References
----------
Björck, Å. (1967). Iterative refinement of linear least squares solutions I.
BIT 7, 257-278. Golub & Van Loan, *Matrix Computations*, 4th ed., §5.3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property, partial

import numpy as np
import pandas as pd
from scipy import linalg as scipy_linalg
from scipy.linalg import blas

from .design import BasisMap, Design, Term
from ..errors import DataError
from ..numerics.qr import (CACHE_ROWS, cholesky_qr2, independent_columns, orthonormal_factor, square, stack_r,
                           triangular_factor)
from ..numerics.lstsq import ALIASING_TOLERANCE
from ..numerics.scaling import binary_exponent, binary_scaled

__all__ = ["LinearFit", "fit", "span_factor", "exact_fit_reason", "EXACT_FIT_RELATIVE_NORM", "EXACT_FIT_REASON",
           "NO_COEFFICIENTS_REASON"]

#: Refinement steps; each gains about -log10(cond * eps) digits, and the
#: loop stops early once a step changes nothing at float64 precision.
REFINEMENT_STEPS = 4
#: Extended-precision refinement always runs up to this many rows. Beyond,
#: it runs only when the condition number of the (centred, unit-norm) basis
#: exceeds :data:`REFINEMENT_CONDITION` or the design has polynomial groups:
#: the QR alone (Householder, or CholeskyQR2, whose Q is orthonormal and
#: X - QR at rounding level in that range) is then accurate to about
#: cond · eps ≈ 1e-13 relative (Golub & Van Loan, Thm 5.3.1; Yamamoto et
#: al. 2015), beyond anything a report shows,
#: and the refinement's n x p long-double passes, the slowest part of a fit
#: at 10⁶ rows (about 2 s), are skipped.
REFINEMENT_ALWAYS_ROWS = 100_000
REFINEMENT_CONDITION = 1e3

#: A fit is exact when ||e|| <= EXACT_FIT_RELATIVE_NORM * ||y||, with ||y||
#: the *uncentred* norm of the target. Why this scale: storing y_i in float64
#: already perturbs it by up to eps/2 * |y_i|, so the residuals of a model
#: that is exact in real arithmetic are rounding noise of size ~eps * ||y||
#: -- relative to y itself, mean included, not to its spread. A centred
#: scale (the total sum of squares) would fail exactly where it matters:
#: for y = 1e6 + 1e-3 x the rounding noise (~1e-10 per row) is 1e-9 of the
#: spread but 1e-16 of ||y||, and a constant target has zero spread; for a
#: model without intercept (NIST NoInt1/2) the uncentred norm is the total
#: sum of squares R uses anyway. Why 1e-12 (about 4500 eps): the computed
#: residuals also carry the fit's own error, about cond · eps · ||y|| (the
#: streaming engine's sums and the unrefined QR beyond 10⁵ rows included),
#: so below ~1e-12 they are dominated by arithmetic, not data, and no
#: residual test means anything; a target whose noise is 1e-12 of its
#: magnitude has no more than about 12 bits of it left in float64. Real
#: noise, even 1e-9 relative, stays far above. The norm (not max|e| against
#: max|y|) is used because it is what both paths have exactly (RSS and the
#: sum of y²) and it does not hinge on a single row.
EXACT_FIT_RELATIVE_NORM = 1e-12
#: The one not-computable reason every family gives for an exact fit.
EXACT_FIT_REASON = "the model fits the data exactly (the residuals are zero up to rounding)"
#: The not-computable reason of the tests that need at least one coefficient.
NO_COEFFICIENTS_REASON = "the model has no coefficients"


def exact_fit_reason(rss: float, y_squares: float, n: int, rank: int) -> str | None:
    """Why the residuals of a fit carry no information about the errors, or None when they do.

    ``rss`` is the residual sum of squares and ``y_squares`` the uncentred
    sum of squares of the target, in the same units (any common scale).
    A model with no residual degree of freedom fits exactly by
    construction; otherwise the fit is exact when
    ``sqrt(rss) <= EXACT_FIT_RELATIVE_NORM * sqrt(y_squares)`` (see
    :data:`EXACT_FIT_RELATIVE_NORM`). A pure function of the numbers, so
    the in-memory checks (:attr:`LinearFit.exact_fit_reason`) and the
    streaming engine (with its accumulated sums) decide alike.
    """
    if n - rank < 1:
        return f"the model has no residual degrees of freedom (n = {n}, {rank} coefficients)"
    if math.sqrt(rss) <= EXACT_FIT_RELATIVE_NORM * math.sqrt(y_squares):
        return EXACT_FIT_REASON
    return None


class FittedSizes:
    """``rank`` and ``df_resid`` of a fitted model from its kept columns and rows.

    Shared by the in-memory :class:`LinearFit` and the streaming engine's
    :class:`~olscheck.engine.fit.StreamedFit` (both have ``kept`` and ``n``).
    """

    @property
    def rank(self) -> int:
        """Number of estimated coefficients (columns not aliased)."""
        return int(self.kept.size)

    @property
    def df_resid(self) -> int:
        """Residual degrees of freedom, n - rank."""
        return self.n - self.rank


@dataclass(frozen=True, eq=False)
class LinearFit(FittedSizes):
    """A fitted linear model and everything the diagnostics read from it.

    Attributes
    ----------
    design : Design
    kept : ndarray of int
        Positions (in ``design.column_names``) of the estimable columns.
    aliased : tuple of str
        Names of columns dropped as linear combinations of earlier ones
        (R reports their coefficients as NA).
    coefficients : ndarray, shape (rank,)
        Estimates for the kept columns, in the target's units.
    covariance : ndarray, shape (rank, rank)
        sigma² (X'X)^-1 for the kept columns, from the QR factor, in the
        target's units.
    std_errors : ndarray, shape (rank,)
        Square roots of the covariance diagonal, computed without squaring
        so they stay finite for extreme magnitudes.
    coefficient_correlation : ndarray, shape (rank, rank)
        The covariance scaled to a correlation matrix (R's cov2cor(vcov)),
        the input of VIF/GVIF; always finite.
    coefficient_directions : ndarray, shape (rank, rank)
        Unit-length rows u_j with b_j - beta_j = c_j u_j' Q' eps for a
        positive c_j: coefficient j's estimation error is the projection of
        the errors on ``q @ u_j``. Sandwich (HC, HAC) standard errors relative
        to the classical ones need only these: ratio_j² = Σ_t (q u_j)_t² ω_t / sigma².
    fitted, residuals : ndarray, shape (n,)
        In working units: the target divided by ``design.response_scale``
        (1 except for extreme magnitudes). ``y``, ``rss``, ``tss`` and
        ``sigma`` use the same units; every diagnostic is invariant to them.
    orthonormal : ndarray, shape (n, rank), or None
        Orthonormal basis of the column space (thin Q of the QR), or None
        when the fit was solved block by block without it (then
        ``row_basis`` makes its rows; :attr:`q` and :meth:`q_rows` read
        either).
    row_basis : RowBasis or None
        The fitting basis and its triangular factor, to make rows of Q on
        demand (None when ``orthonormal`` is stored).
    leverage : ndarray, shape (n,)
        Diagonal of the hat matrix, the squared row norms of ``q``.
    rss, tss : float
        Residual and total sum of squares (total about the mean when the
        model has an intercept, about zero otherwise, as R's summary.lm).
    shared : dict
        Work that several checks read from this fit, computed by the first
        that needs it (the sandwich standard-error changes, the row
        segments of Goldfeld-Quandt and Rainbow, the variance consequence);
        keyed by what it holds. Not part of the fit's value.
    """

    design: Design
    kept: np.ndarray
    aliased: tuple[str, ...]
    coefficients: np.ndarray
    covariance: np.ndarray
    std_errors: np.ndarray
    coefficient_correlation: np.ndarray
    coefficient_directions: np.ndarray
    fitted: np.ndarray
    residuals: np.ndarray
    orthonormal: np.ndarray | None
    leverage: np.ndarray
    rss: float
    tss: float
    row_basis: "RowBasis | None" = None
    shared: dict = field(default_factory=dict, init=False, repr=False)

    # ---- sizes -----------------------------------------------------------
    @property
    def n(self) -> int:
        return self.design.n_used

    @property
    def has_intercept(self) -> bool:
        return self.design.has_intercept

    @property
    def y(self) -> np.ndarray:
        return self.design.y

    @cached_property
    def constant_aliased(self) -> tuple[str, ...]:
        """The aliased columns that are constant over the rows used (a multiple of the intercept, or zero).

        They carry nothing to estimate: the fit is the same with them or
        without them. Decided by the fitting basis's rule
        (:meth:`Design.constant_columns`), as the streaming engine decides it
        (:attr:`olscheck.engine.fit.StreamedFit.constant_aliased`).
        """
        if not self.aliased:
            return ()
        kept = set(self.kept.tolist())
        aliased = [j for j in range(len(self.design.column_names)) if j not in kept]
        return tuple(self.design.column_names[j] for j in self.design.constant_columns(aliased))

    @cached_property
    def x(self) -> np.ndarray:
        """Design matrix of the kept columns, shape (n, rank) (the design itself when nothing is aliased)."""
        if self.kept.size == self.design.x.shape[1]:
            return self.design.x
        return self.design.x[:, self.kept]

    @cached_property
    def q(self) -> np.ndarray:
        """Orthonormal basis of the column space, shape (n, rank) (thin Q of the QR).

        Made whole here, block by block, when the fit was solved without it
        (:attr:`row_basis`); the battery's passes read it a block at a time
        with :meth:`q_rows` instead.
        """
        if self.orthonormal is not None:
            return self.orthonormal
        q = np.empty((self.n, self.rank), order="F")
        for low in range(0, self.n, CACHE_ROWS):
            high = min(self.n, low + CACHE_ROWS)
            self.row_basis.q_rows(slice(low, high), out=q[low:high])
        return q

    def q_rows(self, rows) -> np.ndarray:
        """Rows ``rows`` (a slice or positions) of :attr:`q`, without making all of Q when the fit did not."""
        if self.orthonormal is not None or "q" in self.__dict__:
            return self.q[rows]
        return self.row_basis.q_rows(rows)

    @cached_property
    def design_factor(self) -> tuple[np.ndarray, np.ndarray]:
        """``(F, e)``: ``F = Q'(X / 2**e)``, e one power of two per column of :attr:`x`.

        F has the Gram matrix, singular values and right singular vectors
        of X with its columns so divided (see :func:`span_factor`), so the
        collinearity diagnostics work on this rank x rank matrix instead
        of the n rows.
        """
        exponent = self.design.column_exponents[self.kept]
        if self.row_basis is not None:
            return self.row_basis.span_factor(), exponent
        return span_factor(self.q, self.x, exponent), exponent

    @cached_property
    def condition_number(self) -> float | None:
        """Ratio of the largest to the smallest singular value of :attr:`x` (R: ``kappa(X, exact = TRUE)``)."""
        if not self.rank:
            return None
        factor, exponent = self.design_factor
        # back to X's own column scales, up to one common power of two (kappa is invariant to it)
        with np.errstate(under="ignore"):
            return matrix_condition_number(np.ldexp(factor, exponent - exponent.max()))

    @property
    def regressors(self) -> np.ndarray:
        """The kept columns without the intercept (auxiliary regressions add their own)."""
        return self.x[:, 1:] if self.has_intercept else self.x

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the kept columns."""
        return tuple(self.design.column_names[j] for j in self.kept)

    @cached_property
    def terms(self) -> tuple[Term, ...]:
        """Predictor terms with ``columns`` re-indexed into the kept columns.

        A term all of whose columns are aliased is left out.
        """
        position = {int(j): i for i, j in enumerate(self.kept)}
        out = []
        for term in self.design.terms:
            columns = tuple(position[j] for j in term.columns if j in position)
            if columns:
                out.append(Term(term.name, columns, term.categorical))
        return tuple(out)

    # ---- summary statistics (R's summary.lm) ------------------------------
    @property
    def sigma(self) -> float | None:
        return float(np.sqrt(self.rss / self.df_resid)) if self.df_resid > 0 else None

    @property
    def r_squared(self) -> float | None:
        if self.tss <= 0:
            return None
        model_ss = self.tss - self.rss
        return float(model_ss / self.tss)

    @property
    def adj_r_squared(self) -> float | None:
        r2 = self.r_squared
        if r2 is None or self.df_resid <= 0:
            return None
        df_int = 1 if self.has_intercept else 0
        return float(1.0 - (1.0 - r2) * (self.n - df_int) / self.df_resid)

    @property
    def f_df(self) -> tuple[int, int]:
        return (self.rank - (1 if self.has_intercept else 0), self.df_resid)

    @property
    def f_statistic(self) -> float | None:
        df_model, df_resid = self.f_df
        if df_model <= 0 or df_resid <= 0 or self.rss <= 0:
            return None
        return float(((self.tss - self.rss) / df_model) / (self.rss / df_resid))

    def computed_once(self, key: str, compute):
        """``shared[key]``, made by ``compute()`` the first time a check asks for it."""
        if key not in self.shared:
            self.shared[key] = compute()
        return self.shared[key]

    @cached_property
    def exact_fit_reason(self) -> str | None:
        """Why the residuals are not a sample of errors (no residual df, or an exact fit), or None.

        The one definition every check family uses; see :func:`exact_fit_reason`.
        """
        y = np.asarray(self.y, dtype=float)
        return exact_fit_reason(self.rss, float(y @ y), self.n, self.rank)

    # ---- pandas views ----------------------------------------------------
    def coefficient_series(self) -> pd.Series:
        """Coefficients by column name; aliased columns are NaN (R's NA)."""
        values = np.full(len(self.design.column_names), np.nan)
        values[self.kept] = self.coefficients
        return pd.Series(values, index=list(self.design.column_names), name="coefficient")

    def std_error_series(self) -> pd.Series:
        values = np.full(len(self.design.column_names), np.nan)
        values[self.kept] = self.std_errors
        return pd.Series(values, index=list(self.design.column_names), name="std_error")


def fit(design: Design) -> LinearFit:
    """Fit ordinary least squares to ``design`` as accurately as the data allow.

    Matches R's ``lm`` (coefficients, aliasing) and ``summary.lm`` (sigma,
    R², F); see the module docstring for the algorithm.
    """
    n, p = design.x.shape
    solution = None
    if n > REFINEMENT_ALWAYS_ROWS and p and not design.polynomials:
        solution = _blocked_solution(design)
    if solution is None:
        solution = _whole_solution(design)
    return _linear_fit(design, solution)


@dataclass(frozen=True, eq=False)
class _Solution:
    """What a solver hands :func:`_linear_fit`: the kept columns, the factor and the fitted values."""

    kept: np.ndarray
    r: np.ndarray | None                     # triangular factor of the kept basis (None without coefficients)
    coefficients: np.ndarray                 # on the basis, extended precision
    to_reported: np.ndarray                  # extended precision
    fitted: np.ndarray
    residuals: np.ndarray
    rss: float
    leverage: np.ndarray
    orthonormal: np.ndarray | None
    row_basis: "RowBasis | None" = None


def _whole_solution(design: Design) -> _Solution:
    """QR of the whole basis (CholeskyQR2 or Householder) with Q formed, refined when it matters."""
    y = design.y
    n, p = design.x.shape
    basis, to_reported = design.fitting_basis(np.float64)

    # one QR of the whole basis decides the aliasing (on R, where distances are
    # those of the n-row columns) and, when nothing is aliased, is the solution's QR
    if n and p:
        # factored in place (the basis is rebuilt in the rare aliased case):
        # CholeskyQR2 when the basis is well conditioned, else Householder
        factors = cholesky_qr2(basis)
        q, r = factors if factors is not None else orthonormal_factor(basis, overwrite=True)
        kept = _kept_columns(r)
    else:
        kept = np.zeros(0, dtype=int)
    rank = kept.size
    if not rank:
        return _Solution(kept, None, np.zeros(0, dtype=np.longdouble), to_reported.astype(np.longdouble),
                         np.zeros(n), y.copy(), float(y @ y), np.zeros(n), np.zeros((n, 0)))
    if rank < p:
        basis, _ = design.fitting_basis(np.float64)
        q, r = orthonormal_factor(basis[:, kept], overwrite=True)
    del basis
    if n <= REFINEMENT_ALWAYS_ROWS or design.polynomials or not _unit_condition(r) <= REFINEMENT_CONDITION:
        basis_extended, to_reported_extended = design.fitting_basis(np.longdouble)
        coef, residual = _refined_solution(q, r, basis_extended[:, kept], y)
        del basis_extended
        fitted = (y.astype(np.longdouble) - residual).astype(np.float64)
        residuals = residual.astype(np.float64)
        rss = float(np.sum(residual * residual))
    else:
        # a well-conditioned basis: the QR's own accuracy, eps·cond(R)
        # relative, is already beyond what refinement would add to the
        # statistics, and the n x p extended-precision copy is skipped
        to_reported_extended = to_reported.astype(np.longdouble)
        projection = q.T @ y
        coef = scipy_linalg.solve_triangular(r, projection).astype(np.longdouble)
        fitted = q @ projection
        residuals = y - fitted
        rss = float(residuals @ residuals)
    leverage = np.einsum("ij,ij->i", q, q)
    return _Solution(kept, r, coef, to_reported_extended, fitted, residuals, rss, leverage, q)


def _blocked_solution(design: Design) -> _Solution | None:
    """The fit of a large design from its triangular factor, Q never formed; None when the whole QR is needed.

    The triangular factor of ``[B, y]`` (B the fitting basis, made
    :data:`~olscheck.numerics.qr.CACHE_ROWS` rows at a time by
    :meth:`Design.basis_map`, identical to :meth:`Design.fitting_basis`'s)
    is accumulated by TSQR, backward stable as a Householder QR of all
    rows (Demmel et al. 2012). Aliasing is decided on it as on the whole
    QR's R (the distances of columns are the same), and the kept columns'
    factor is the QR of its kept columns. One more pass over the blocks
    makes the fitted values ``B a`` and the leverages ``||B R^-1||²`` per
    row. None (the caller factors the whole basis, with refinement) when
    the kept basis's condition number exceeds :data:`REFINEMENT_CONDITION`
    or nothing is kept.

    Both passes work on the blocks on every core
    (:func:`olscheck.engine.parallel.in_order`; LAPACK and the products
    release the GIL, each thread's BLAS on one thread): each block is
    factored on its own and the blocks' factors are stacked in row order,
    so the numbers are the same on any number of cores.
    """
    from ..engine.parallel import available_cores, in_order

    y = design.y
    n, p = design.x.shape
    basis_map = design.basis_map()
    blocks = [(low, min(n, low + CACHE_ROWS)) for low in range(0, n, CACHE_ROWS)]
    workers = available_cores()
    upper = None
    for factor in in_order(partial(_block_factor, basis_map, design.x, y), blocks, workers):
        upper = stack_r(upper, factor)
    upper = square(upper, p + 1)
    kept = _kept_columns(upper[:, :p])
    k = kept.size
    if not k:
        return None
    factor = upper[:, [*kept, p]]
    if k < p:
        factor = square(np.linalg.qr(factor, mode="r"), k + 1)
    # rows of R signed so that its diagonal is positive, as the whole fit's CholeskyQR2 gives it (Q's columns
    # follow, so Q R and every direction Q u_j are unchanged)
    signs = np.where(np.diag(factor[:k, :k]) < 0, -1.0, 1.0)
    r, projection = factor[:k, :k] * signs[:, None], factor[:k, k] * signs
    if not _unit_condition(r) <= REFINEMENT_CONDITION:
        return None
    coefficients = scipy_linalg.solve_triangular(r, projection)
    row_basis = RowBasis(design.x, kept, basis_map, r)
    fitted = np.empty(n)
    leverage = np.empty(n)
    for _ in in_order(partial(_fitted_and_leverage, row_basis, projection, fitted, leverage), blocks, workers):
        pass  # each block writes its own rows
    residuals = y - fitted
    return _Solution(kept, r, coefficients.astype(np.longdouble), basis_map.to_reported.astype(np.longdouble),
                     fitted, residuals, float(residuals @ residuals), leverage, None, row_basis)


def _block_factor(basis_map: BasisMap, x: np.ndarray, y: np.ndarray, rows: tuple[int, int]) -> np.ndarray:
    """R of ``[B, y]`` over the rows ``low`` to ``high - 1`` (one block of at most CACHE_ROWS rows)."""
    low, high = rows
    block = np.empty((high - low, x.shape[1] + 1), order="F")
    # a zero-scale (constant) column is never kept; here it is a column of zeros, as in fitting_basis
    _basis_block(basis_map, x, low, high, block[:, :-1])
    block[:, -1] = y[low:high]
    return triangular_factor(block, overwrite=True)


def _fitted_and_leverage(row_basis: "RowBasis", projection: np.ndarray, fitted: np.ndarray, leverage: np.ndarray,
                         rows: tuple[int, int]) -> None:
    """The fitted values (Q Q'y, as the whole fit's) and leverages ``||Q_i||²`` of the rows ``low`` to ``high - 1``."""
    low, high = rows
    q = row_basis.q_rows(slice(low, high))
    np.matmul(q, projection, out=fitted[low:high])
    np.einsum("ij,ij->i", q, q, out=leverage[low:high])


def _basis_block(basis_map: BasisMap, x: np.ndarray, low: int, high: int, out: np.ndarray) -> None:
    """Every basis column of rows ``low`` to ``high - 1`` into ``out``, zero for the constant columns."""
    usable = np.flatnonzero(basis_map.scale > 0)
    if usable.size == out.shape[1]:
        basis_map.rows(x, slice(low, high), usable, out=out)
        return
    out[:] = 0.0
    out[:, usable] = basis_map.rows(x, slice(low, high), usable)


def _kept_columns(r: np.ndarray) -> np.ndarray:
    """R's aliasing rule on a triangular factor; an all-zero column (constant after centring) is never kept."""
    kept = independent_columns(r, ALIASING_TOLERANCE)
    return kept[np.linalg.norm(r[:, kept], axis=0) > 0] if kept.size else kept


def _unit_condition(r: np.ndarray) -> float:
    """Condition number of the basis with unit-norm columns (the intercept column has norm sqrt(n))."""
    return float(np.linalg.cond(r / np.maximum(np.linalg.norm(r, axis=0), np.finfo(float).tiny)))


@dataclass(frozen=True, eq=False)
class RowBasis:
    """Rows of the fitting basis B of the kept columns and of Q = B R⁻¹, made when asked for.

    ``x`` is the design matrix, ``kept`` the kept columns, ``basis_map``
    how each basis column is made from its design column
    (:meth:`Design.basis_map`) and ``r`` the triangular factor of the kept
    basis.
    """

    x: np.ndarray
    kept: np.ndarray
    basis_map: BasisMap
    r: np.ndarray

    def basis_rows(self, rows, out: np.ndarray | None = None) -> np.ndarray:
        """The kept basis columns of ``rows`` (a slice or positions), Fortran-ordered."""
        return self.basis_map.rows(self.x, rows, self.kept, out=out)

    def q_rows(self, rows, out: np.ndarray | None = None) -> np.ndarray:
        """Rows of Q: the basis rows times R⁻¹ (one triangular solve, level-3 BLAS)."""
        basis = self.basis_rows(rows, out=out)
        if not basis.shape[0]:
            return basis
        q = blas.dtrsm(1.0, self.r, basis, side=1, lower=0, overwrite_b=1)
        if out is not None and q is not out:
            out[...] = q
            return out
        return q

    def span_factor(self) -> np.ndarray:
        """``Q'(X / 2**e)`` for the kept columns from R alone: :func:`span_factor` without the rows.

        ``X / 2**e = B C⁻¹`` with C the centring map (basis column j is the
        design column divided by its power of two, less its mean ``m_j``,
        over its norm ``s_j``), so ``Q'(X / 2**e) = R C⁻¹``: column j is
        ``s_j R_j + m_j R_0`` (R_0 the intercept's column), no product over
        the rows.
        """
        shift = self.basis_map.shift[self.kept]
        scale = self.basis_map.scale[self.kept]
        intercept = self.basis_map.intercept_column
        factor = self.r * scale
        if intercept is not None:
            position = int(np.flatnonzero(self.kept == intercept)[0])
            factor[:, position] = self.r[:, position]
            others = np.arange(self.kept.size) != position
            factor[:, others] += np.outer(self.r[:, position], shift[others])
        return factor


def _linear_fit(design: Design, solution: _Solution) -> LinearFit:
    """The :class:`LinearFit` of a solution: coefficients on the reported columns, their covariance, R² parts."""
    n, p = design.x.shape
    kept = solution.kept
    rank = kept.size
    aliased = tuple(design.column_names[j] for j in range(p) if j not in set(kept.tolist()))
    fitted, residuals, rss = solution.fitted, solution.residuals, solution.rss
    if rank:
        r = solution.r
        # reported coefficients b = T a; the map T only touches kept columns
        # once aliased columns (zero rows/cols) are removed
        transform = solution.to_reported[np.ix_(kept, kept)]
        # coefficients on the target's own scale (y was divided by response_scale)
        exact = (transform @ solution.coefficients) * np.longdouble(design.response_scale)
        with np.errstate(over="ignore", under="ignore"):
            coefficients = exact.astype(np.float64)
        # beyond float64's range either way: too large (inf) or so small that
        # a non-zero coefficient would print as 0 (subnormal values are kept:
        # a target of 1e-310 has coefficients of that size)
        outside = ~np.isfinite(coefficients) | ((exact != 0) & (coefficients == 0))
        if np.any(outside):
            culprit = design.column_names[int(kept[np.flatnonzero(outside)[0]])]
            raise DataError(
                f"the coefficient of {culprit!r} is beyond the range of float64 (the column and the target differ "
                "by more than 1e308 in scale); rescale that column (e.g. express it in other units)."
            )
        df_resid = n - rank
        sigma2 = rss / df_resid if df_resid > 0 else np.nan
        r_inverse = scipy_linalg.solve_triangular(r, np.eye(rank))
        # cov(b) = sigma² T R^-1 R^-T T'; extended precision for the product,
        # whose entries cancel heavily for polynomial groups
        factor = transform @ r_inverse.astype(np.longdouble)
        row_norms = np.sqrt(np.sum(factor * factor, axis=1))
        scale_sigma = np.sqrt(np.longdouble(sigma2)) * np.longdouble(design.response_scale)
        std_errors = (row_norms * scale_sigma).astype(np.float64)
        unit_rows = factor / np.where(row_norms > 0, row_norms, 1)[:, None]
        correlation = (unit_rows @ unit_rows.T).astype(np.float64)
        coefficient_directions = unit_rows.astype(np.float64)
        with np.errstate(over="ignore"):
            # entries beyond float64's range (coefficients of 1e-300-scaled
            # columns) become inf here; std_errors and correlation stay exact
            covariance = (factor @ factor.T * scale_sigma**2).astype(np.float64)
    else:
        coefficients = np.zeros(0)
        covariance = np.zeros((0, 0))
        std_errors = np.zeros(0)
        correlation = np.zeros((0, 0))
        coefficient_directions = np.zeros((0, 0))

    if design.has_intercept:
        # R's summary.lm: mss from fitted values, r2 = mss / (mss + rss)
        fitted_centred = fitted.astype(np.longdouble) - fitted.astype(np.longdouble).mean()
        model_ss = float(np.sum(fitted_centred * fitted_centred))
        tss = model_ss + rss
    else:
        model_ss = float(np.sum(fitted.astype(np.longdouble) ** 2))
        tss = model_ss + rss

    return LinearFit(
        design=design,
        kept=kept,
        aliased=aliased,
        coefficients=coefficients,
        covariance=covariance,
        std_errors=std_errors,
        coefficient_correlation=correlation,
        coefficient_directions=coefficient_directions,
        fitted=fitted,
        residuals=residuals,
        orthonormal=solution.orthonormal,
        leverage=solution.leverage,
        rss=rss,
        tss=tss,
        row_basis=solution.row_basis,
    )


def _refined_solution(q: np.ndarray, r: np.ndarray, basis_extended: np.ndarray, y: np.ndarray):
    """Solve min ||y - A a|| with Björck's refinement in extended precision.

    ``q, r`` are the float64 QR factors of A; ``basis_extended`` is A in
    extended precision. Returns ``(a, residual)`` in extended precision.
    """
    y_extended = y.astype(np.longdouble)
    a = scipy_linalg.solve_triangular(r, q.T @ y).astype(np.longdouble)
    residual = y_extended - basis_extended @ a
    for _ in range(REFINEMENT_STEPS):
        # defects of the augmented system r + A a = y, A' r = 0
        f = y_extended - residual - basis_extended @ a
        g = -(basis_extended.T @ residual)
        f64 = f.astype(np.float64)
        h = scipy_linalg.solve_triangular(r, g.astype(np.float64), trans="T")
        qtf = q.T @ f64
        delta_a = scipy_linalg.solve_triangular(r, qtf - h)
        delta_r = f64 - q @ (qtf - h)
        a_new = a + delta_a.astype(np.longdouble)
        residual = residual + delta_r.astype(np.longdouble)
        converged = np.all(np.abs(delta_a) <= 1e-17 * np.maximum(np.abs(a.astype(np.float64)), 1e-300))
        a = a_new
        if converged:
            break
    return a, residual


def span_factor(q: np.ndarray, x: np.ndarray, exponent: np.ndarray) -> np.ndarray:
    """``Q' (X / 2**e)``: a small factor with the Gram matrix, singular values and right singular vectors of X.

    Parameters
    ----------
    q : ndarray, shape (n, k)
        Orthonormal columns whose span contains the columns of ``x`` (the
        fit's Q and the kept design columns).
    x : ndarray, shape (n, m)
    exponent : ndarray of int, shape (m,)
        One power of two per column (:func:`olscheck.numerics.scaling.binary_exponent`
        with ``axis=0``).

    Notes
    -----
    X = Q (Q'X) when X lies in span(Q), so ``X'X = F'F`` for ``F = Q'X``
    and the k x m F replaces X in every quantity of its Gram matrix (the
    condition number, Belsley's diagnostics, variance inflation): one
    matrix product, O(n k m), instead of another QR or SVD of n rows. The
    power of two (``olscheck.numerics.scaling``) is exact and keeps columns near
    1e±300 finite; it is applied to the small product when that cannot
    over- or underflow, so X is not copied.
    """
    if np.all(np.abs(exponent) < 900):
        return np.ldexp(q.T @ x, -exponent)
    return q.T @ np.ldexp(x, -exponent)


def matrix_condition_number(x: np.ndarray) -> float | None:
    """Ratio of the largest to the smallest singular value (R: kappa(exact=TRUE))."""
    if x.size == 0:
        return None
    # kappa is invariant to one common factor; a power of two keeps 1e±300
    # finite (the copy is skipped for ordinary magnitudes)
    if not -330 < binary_exponent(x) < 330:
        x = binary_scaled(x)
    singular = np.linalg.svd(x, compute_uv=False)
    if singular[-1] <= 0:
        return None
    return float(singular[0] / singular[-1])
