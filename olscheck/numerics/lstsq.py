"""Small numerically careful least-squares helpers shared by the checks and the engine.

Every auxiliary regression follows one rule set, that of
:func:`least_squares`: columns are centred and scaled, columns that are
(nearly) linear combinations of earlier ones are dropped the way R's ``lm``
drops aliased terms (decided by a Householder QR), and no X'X is ever
inverted. A Gram matrix is formed only for columns that
:func:`olscheck.numerics.qr.gram_is_reliable` clears (well conditioned, no
column near the aliasing tolerance), and then solved by Cholesky with the
residual's correction (:func:`olscheck.numerics.qr.corrected_normal_equations`)
or pooled from centred moments (:class:`RowSegments`). Three variants apply
the rules where the work can be shared:

* :func:`extend` adds a few columns to a fitted model through its
  orthonormal Q (Breusch-Godfrey's lags, RESET's powers);
* :func:`least_squares_from_factor` works from the triangular factor of
  ``[1, Z, v]`` (the streaming engine's accumulated factors);
* :class:`RowSegments` factors row ranges once for regressions on their
  unions (Goldfeld-Quandt's halves and Rainbow's central rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import blas, lapack

from .qr import gram_is_reliable, project, project_augmented, triangular_factor
from .scaling import binary_exponent, divided_by_power_of_two

__all__ = ["ALIASING_TOLERANCE", "Extension", "FactoredLeastSquares", "LeastSquares", "extend", "least_squares",
           "least_squares_from_factor", "least_squares_in_place", "centred_scaled_basis", "RowSegments"]

#: Relative size of a column's component orthogonal to the earlier columns
#: below which it counts as aliased. 1e-7 is R's ``lm.fit`` default ``tol``.
ALIASING_TOLERANCE = 1e-7


@dataclass(frozen=True, eq=False)
class LeastSquares:
    """Result of :func:`least_squares`.

    Attributes
    ----------
    coefficients : ndarray
        Coefficients of the kept columns of ``Z`` (original scale); the
        intercept, when added, comes first.
    kept : ndarray of int
        Indices of the columns of ``Z`` that were not aliased.
    fitted, residuals : ndarray
    rss : float
        Residual sum of squares.
    tss : float
        Total sum of squares of ``v``: about its mean when an intercept is in
        the model, about zero otherwise.
    rank : int
        Number of estimated coefficients, the intercept included.
    """

    coefficients: np.ndarray
    kept: np.ndarray
    fitted: np.ndarray
    residuals: np.ndarray
    rss: float
    tss: float
    rank: int

    @property
    def r_squared(self) -> float:
        """1 - RSS/TSS (centred when an intercept was fitted)."""
        return 1.0 - self.rss / self.tss if self.tss > 0 else 0.0


def centred_scaled_basis(z: np.ndarray, centre: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre (optionally) and scale each column of ``z`` to unit Euclidean norm.

    Returns ``(basis, shift, scale)`` with ``basis = (z - shift) / scale``;
    a column that is zero after centring gets scale 0 and a zero column.
    ``scale`` overflows to inf for a column whose norm exceeds the largest
    float (values near 1.8e308); :func:`least_squares` does not use it.
    """
    basis, shift, norm, exponent = _binary_centred_scaled_basis(z, centre)
    return basis, np.ldexp(shift, exponent), np.ldexp(norm, exponent)


def _binary_centred_scaled_basis(z: np.ndarray, centre: bool, out: np.ndarray | None = None):
    """:func:`centred_scaled_basis` with its scale split into a power of two and a norm.

    Returns ``(basis, shift, norm, exponent)`` with ``basis = (z / 2**exponent
    - shift) / norm``. Dividing each column by a power of two near its largest
    absolute value first is exact, and keeps the sums of squares finite and
    normal for columns of any magnitude (1e-300 ... 1.8e308), as
    :meth:`olscheck.model.design.Design.fitting_basis` does for the model itself.
    ``out``, an (n, m) array, receives the basis (e.g. the first columns of
    a Fortran-ordered work array that LAPACK then factors in place).
    """
    z = np.asarray(z, dtype=float)
    n, m = z.shape
    # max |z| from the column maxima and minima: no n x m temporary
    exponent = binary_exponent(z, axis=0) if n else np.zeros(m, dtype=int)
    # the one n x m copy; everything after works in place (auxiliary designs
    # are up to auxiliary_max_cells large, so each copy counts)
    basis = divided_by_power_of_two(z, exponent, out=out)
    # relative to the column's own magnitude, so a column equal to its mean
    # up to rounding counts as constant
    magnitude = np.sqrt(np.einsum("ij,ij->j", basis, basis))
    shift = basis.mean(axis=0) if centre and n else np.zeros(m)
    basis -= shift
    norm = np.sqrt(np.einsum("ij,ij->j", basis, basis))
    constant = norm <= 1e-12 * np.maximum(magnitude, np.finfo(float).tiny)
    norm = np.where(constant, 0.0, norm)
    basis /= np.where(constant, 1.0, norm)
    basis[:, constant] = 0.0
    return basis, shift, norm, exponent


def least_squares(z: np.ndarray, v: np.ndarray, *, intercept: bool = True,
                  tolerance: float = ALIASING_TOLERANCE) -> LeastSquares:
    """Least squares of ``v`` on the columns of ``z`` (plus an intercept).

    Parameters
    ----------
    z : ndarray, shape (n, m)
        Regressors, without the intercept column.
    v : ndarray, shape (n,)
        Response.
    intercept : bool
        Add an intercept (the columns are then centred before the QR).
    tolerance : float
        Aliasing tolerance, as R's ``lm.fit(tol=1e-7)``.

    Notes
    -----
    Centring and scaling make the QR's error depend on the correlation of
    the regressors, not on their units. Aliased columns are found by an
    unpivoted Householder QR of the scaled columns: ``|R_jj|`` is then the
    distance of column j from the span of the earlier columns, which is
    R's rule for keeping earlier columns and dropping later ones.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n, m = z.shape
    work = np.empty((n, m + 1), order="F")
    work[:, :m] = z
    return least_squares_in_place(work, v, intercept=intercept, tolerance=tolerance)


def least_squares_in_place(work: np.ndarray, v: np.ndarray, *, intercept: bool = True,
                           tolerance: float = ALIASING_TOLERANCE) -> LeastSquares:
    """:func:`least_squares` with the regressors in the first m columns of ``work``, an (n, m + 1) Fortran array.

    ``work`` is overwritten (centred, scaled and factored in place), so a
    caller that builds a wide auxiliary design (the second-order test's
    squares and products) fills it once and no copy is made.
    """
    n, m = work.shape[0], work.shape[1] - 1
    v = np.asarray(v, dtype=float)
    v_shift = v.mean() if intercept else 0.0
    v_centred = v - v_shift
    tss = float(v_centred @ v_centred)
    # [basis | v] in one Fortran-ordered array that LAPACK factors in place:
    # one Householder QR gives the aliasing, the coefficients and the
    # residuals (olscheck.numerics.qr)
    basis, shift, norm, exponent = _binary_centred_scaled_basis(work[:, :m], centre=intercept, out=work[:, :m])
    candidate = np.flatnonzero(norm > 0)
    if candidate.size == m:
        work[:, m] = v_centred
        kept, scaled_coef, residual_centred = project_augmented(work, v_centred, tolerance)
    else:
        kept, scaled_coef, residual_centred = project(basis[:, candidate], v_centred, tolerance)
    del work, basis
    kept = candidate[kept]
    residuals = residual_centred
    if kept.size:
        # coefficient on the column divided by its power of two; the intercept
        # is formed from these so that no product of a huge shift and a tiny
        # slope over- or underflows
        binary_slope = scaled_coef / norm[kept]
        # a slope on a column of subnormal values can be beyond the float
        # range (inf); fitted values, residuals and RSS do not use it
        with np.errstate(over="ignore"):
            slope = np.ldexp(binary_slope, -exponent[kept])
    else:
        binary_slope = slope = np.zeros(0)
    if intercept:
        coefficients = np.concatenate([[v_shift - shift[kept] @ binary_slope], slope])
    else:
        coefficients = slope
    return LeastSquares(
        coefficients=coefficients,
        kept=kept,
        fitted=v - residuals,
        residuals=residuals,
        rss=float(residuals @ residuals),
        tss=tss,
        rank=int(kept.size + (1 if intercept else 0)),
    )


@dataclass(frozen=True, eq=False)
class Extension:
    """Result of :func:`extend`: ``v`` regressed on a fitted model's columns and more.

    Attributes
    ----------
    kept : ndarray of int
        Indices of the added columns that were not aliased.
    residuals : ndarray
        ``v`` minus its projection on the model's span and the kept columns.
    """

    kept: np.ndarray
    residuals: np.ndarray

    @property
    def rss(self) -> float:
        """Residual sum of squares."""
        return float(self.residuals @ self.residuals)


#: Kahan's criterion: a column that keeps more than this share of its norm
#: through one projection is orthogonal to Q to rounding already; otherwise
#: it is projected once more (Parlett 1980, §6-9; Giraud et al. 2005).
_REPROJECT_BELOW = 1.0 / np.sqrt(2.0)


def _project_out(q: np.ndarray, columns: np.ndarray) -> None:
    """``columns -= Q (Q' columns)`` in place, a second time when Kahan's criterion asks for it."""
    if q.shape[1] == 0:
        return
    before = np.sqrt(np.einsum("ij,ij->j", columns, columns))
    columns -= q @ (q.T @ columns)
    after = np.sqrt(np.einsum("ij,ij->j", columns, columns))
    if np.any(after <= _REPROJECT_BELOW * before):
        columns -= q @ (q.T @ columns)


def extend(q: np.ndarray, z: np.ndarray, v: np.ndarray, *, centre: bool,
           tolerance: float = ALIASING_TOLERANCE) -> Extension:
    """Least squares of ``v`` on a fitted model's columns plus the columns ``z``.

    The model enters through ``Q``, an orthonormal basis of its column space
    (``LinearFit.q``), so an auxiliary regression that adds a few columns to
    the model (Breusch-Godfrey's lags, RESET's powers) costs O(n k m) for
    the projections and O(n m²) for one QR of the added columns, not a new
    O(n (k + m)²) QR of the whole design.

    Parameters
    ----------
    q : ndarray, shape (n, k)
        Orthonormal columns; with ``centre`` their span contains the
        constant (the model has an intercept).
    z : ndarray, shape (n, m)
        Added columns.
    v : ndarray, shape (n,)
        Response.
    centre : bool
        Measure aliasing on the centred columns, as :func:`least_squares`
        does with an intercept.
    tolerance : float
        R's ``lm.fit`` ``tol``: an added column is aliased when its distance
        from the span of the model and the earlier kept columns is at most
        this, on the scale of the column centred (with ``centre``) and
        divided to unit norm -- :func:`least_squares`'s rule for
        ``least_squares([X, z], v)``, whose X columns come first.

    Notes
    -----
    With ``W = (I - QQ') Z_scaled``, orthogonal to the model by projecting
    (twice where one projection cancelled much of a column), the extended
    column space is ``span(Q) ⊕ span(W)``, so the residual of v is the
    residual of ``(I - QQ')v`` on W, from one Householder QR of
    ``[W | (I - QQ')v]`` (:func:`olscheck.numerics.qr.project_augmented`),
    where ``|R_jj|`` is column j's distance from the model and the earlier
    added columns.
    """
    z = np.asarray(z, dtype=float)
    if z.ndim == 1:
        z = z[:, None]
    n, m = z.shape
    v = np.asarray(v, dtype=float)
    q = np.asarray(q, dtype=float)
    work = np.empty((n, m + 1), order="F")
    _, _, norm, _ = _binary_centred_scaled_basis(z, centre=centre, out=work[:, :m])
    work[:, m] = v
    _project_out(q, work)
    candidate = np.flatnonzero(norm > 0)
    if candidate.size < m:
        work = np.asfortranarray(work[:, np.append(candidate, m)])
    v_orthogonal = work[:, -1].copy()
    kept, _, residuals = project_augmented(work, v_orthogonal, tolerance)
    return Extension(kept=candidate[kept], residuals=residuals)


@dataclass(frozen=True)
class FactoredLeastSquares:
    """What :func:`olscheck.numerics.lstsq.least_squares` returns that the checks read."""

    rank: int
    rss: float
    explained: float      # squared norm of the fitted values' part explained by the regressors
    total: float          # squared norm of v about its mean (with intercept) or about 0
    kept: np.ndarray
    coefficients: np.ndarray  # on the centred (with intercept) and unit-scaled kept columns
    means: np.ndarray
    scales: np.ndarray
    v_mean: float

    def fitted(self, rows: np.ndarray) -> np.ndarray:
        """Fitted values at regressor rows (same columns as the regression)."""
        basis = (rows - self.means) / np.where(self.scales > 0, self.scales, 1.0)
        return self.v_mean + basis[:, self.kept] @ self.coefficients


def least_squares_from_factor(upper: np.ndarray, regressors: list[int], response: np.ndarray,
                              intercept: bool) -> FactoredLeastSquares:
    """``least_squares(Z, v, intercept)`` from the triangular factor of ``[1, ..., Z, ..., v]``.

    ``upper`` is the R factor of auxiliary columns with the ones column
    first; ``regressors`` are positions of Z's columns in it and
    ``response`` is v as a column of the factor (``upper @ c`` for the
    combination c). The same centring, scaling, constant-column and
    aliasing rules as :func:`olscheck.numerics.lstsq.least_squares` are applied to
    the small matrix (aliasing and solve by
    :func:`olscheck.numerics.qr.project`), so the kept set, rank and sums
    of squares are those of the in-memory regression.
    """
    columns = np.column_stack([upper[:, [0, *regressors]], response])
    factor = np.linalg.qr(columns, mode="r")
    m = len(regressors)
    sqrt_n = factor[0, 0]
    if intercept:
        means = factor[0, 1:m + 1] / sqrt_n
        centred = np.vstack([np.zeros((1, m + 1)), factor[1:, 1:]])
        v_mean = float(factor[0, m + 1] / sqrt_n)
    else:
        means = np.zeros(m)
        centred = factor[:, 1:]
        v_mean = 0.0
    magnitude = np.sqrt(np.sum(factor[:, 1:m + 1] ** 2, axis=0))
    scale = np.sqrt(np.sum(centred[:, :m] ** 2, axis=0))
    constant = scale <= 1e-12 * np.maximum(magnitude, np.finfo(float).tiny)
    scale = np.where(constant, 0.0, scale)
    candidate = np.flatnonzero(~constant)
    v = centred[:, m]
    kept, coefficients, residuals = project(centred[:, candidate] / scale[candidate], v, ALIASING_TOLERANCE)
    kept = candidate[kept]
    explained_part = v - residuals
    return FactoredLeastSquares(rank=int(kept.size + (1 if intercept else 0)), rss=float(residuals @ residuals),
                                explained=float(explained_part @ explained_part), total=float(v @ v), kept=kept,
                                coefficients=coefficients, means=means, scales=scale, v_mean=v_mean)


class RowSegments:
    """Least squares of ``v`` on ``Z`` over row ranges that share boundaries, from one pass over the rows.

    Goldfeld-Quandt's two halves and Rainbow's central rows are
    regressions of the residuals on the regressors over row subsets whose
    boundaries are known in advance. The rows between consecutive ``cuts``
    are summarised once each, and a subset that is a union of consecutive
    pieces gets its regression from their summaries by
    :func:`least_squares_from_factor`, with :func:`least_squares`'
    centring, scaling and aliasing rules. So the three subset fits cost one
    pass over n rows instead of three over n/2, and no n/2-row copy exists
    at once.

    With an intercept each piece keeps its row count, column means and
    centred Gram matrix of ``[Z, v]`` (one ``dsyrk`` of the centred rows);
    a union pools them without cancellation (Chan, Golub & LeVeque 1983:
    ``C = sum C_p + sum n_p (m_p - m)(m_p - m)'``), and its factor is
    ``[[sqrt(N), sqrt(N) m'], [0, S]]`` with ``S'S = C`` (Cholesky of the
    unit-scaled C). That is used when the union's centred regressors pass
    :func:`olscheck.numerics.qr.gram_is_reliable` (every non-constant
    column is then kept by the Householder rule too); otherwise, and
    without an intercept, the pieces are factored by Householder QR
    (TSQR: the R of ``[A; B]`` is that of ``[R_A; R_B]``) on demand.

    Parameters
    ----------
    z : ndarray, shape (n, m)
    v : ndarray, shape (n,)
    cuts : sequence of int
        Row boundaries (0 and n included or not; they are added).
    intercept : bool
    exponent : ndarray of int, optional
        ``binary_exponent(z, axis=0)`` when the caller has it already.

    References
    ----------
    Chan, T. F., Golub, G. H. & LeVeque, R. J. (1983). Algorithms for
    computing the sample variance: analysis and recommendations. Amer.
    Statist. 37, 242-247.
    """

    def __init__(self, z: np.ndarray, v: np.ndarray, cuts, intercept: bool, exponent: np.ndarray | None = None):
        z = np.asarray(z, dtype=float)
        if z.ndim == 1:
            z = z[:, None]
        n, m = z.shape
        self.intercept, self.width = bool(intercept), m
        self.cuts = sorted({0, n, *(int(c) for c in cuts if 0 <= int(c) <= n)})
        self._z, self._v = z, np.asarray(v, dtype=float)
        # one exact power of two per column over all rows, as least_squares would pick for the whole column
        if exponent is None:
            exponent = binary_exponent(z, axis=0) if n else np.zeros(m, dtype=int)
        self._exponent = np.asarray(exponent, dtype=int)
        self._factors: dict[int, np.ndarray] = {}
        self._moments = ([self._piece_moments(first, stop) for first, stop in zip(self.cuts[:-1], self.cuts[1:])]
                         if self.intercept else None)

    def _block(self, first: int, stop: int) -> np.ndarray:
        """``[1, Z / 2**e, v]`` of rows [first, stop), column-major."""
        m = self.width
        block = np.empty((stop - first, m + 2), order="F")
        block[:, 0] = 1.0
        divided_by_power_of_two(self._z[first:stop], self._exponent, out=block[:, 1:m + 1])
        block[:, m + 1] = self._v[first:stop]
        return block

    def _piece_moments(self, first: int, stop: int) -> tuple[int, np.ndarray, np.ndarray]:
        """Row count, means and centred Gram matrix of ``[Z / 2**e, v]`` over rows [first, stop)."""
        block = self._block(first, stop)[:, 1:]
        count = stop - first
        means = block.mean(axis=0) if count else np.zeros(block.shape[1])
        block -= means
        gram = blas.dsyrk(1.0, block, trans=1) if count else np.zeros((block.shape[1],) * 2)
        gram = np.triu(gram) + np.triu(gram, 1).T
        return count, means, gram

    def _piece_factor(self, index: int) -> np.ndarray:
        if index not in self._factors:
            first, stop = self.cuts[index], self.cuts[index + 1]
            self._factors[index] = triangular_factor(self._block(first, stop), overwrite=True)
        return self._factors[index]

    def _gram_factor(self, pieces: range) -> np.ndarray | None:
        """A factor F of ``[1, Z, v]`` over the union of ``pieces`` (F'F its Gram matrix) from their moments, or None."""
        m = self.width
        moments = [self._moments[i] for i in pieces]
        total = sum(count for count, _, _ in moments)
        if total == 0:
            return None
        means = sum(count * mean for count, mean, _ in moments) / total
        centred = sum(gram + count * np.outer(mean - means, mean - means) for count, mean, gram in moments)
        scale = np.sqrt(np.maximum(np.diag(centred), 0.0))
        magnitude = np.sqrt(np.diag(centred) + total * means * means)
        # least_squares_from_factor's constant-column rule, on the same quantities
        constant = scale <= 1e-12 * np.maximum(magnitude, np.finfo(float).tiny)
        active = np.flatnonzero(~constant[:m])
        if constant[m] or active.size == 0:
            return None
        used = np.append(active, m)
        unit = centred[np.ix_(used, used)] / np.outer(scale[used], scale[used])
        upper, info = lapack.dpotrf(unit, lower=0, clean=1)
        if info != 0 or not gram_is_reliable(upper[:active.size, :active.size], ALIASING_TOLERANCE):
            return None
        factor = np.zeros((used.size + 1, m + 2))
        factor[0, 0] = np.sqrt(total)
        factor[0, 1:] = np.sqrt(total) * means
        factor[1:, 1 + used] = upper * scale[used]
        return factor

    def covers(self, first: int, stop: int) -> bool:
        """Whether rows [first, stop) are a union of pieces."""
        return first in self.cuts and stop in self.cuts and first < stop

    def least_squares(self, first: int, stop: int) -> FactoredLeastSquares:
        """The regression over rows [first, stop) (which :meth:`covers` must accept)."""
        if not self.covers(first, stop):
            raise ValueError(f"rows [{first}, {stop}) are not a union of the segments cut at {self.cuts}")
        pieces = range(self.cuts.index(first), self.cuts.index(stop))
        m = self.width
        upper = self._gram_factor(pieces) if self.intercept else None
        if upper is None:
            factors = [self._piece_factor(i) for i in pieces]
            upper = factors[0] if len(factors) == 1 else triangular_factor(np.vstack(factors))
        return least_squares_from_factor(upper, list(range(1, m + 1)), upper[:, m + 1], self.intercept)
