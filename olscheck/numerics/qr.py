"""One Householder QR (or, when it is safe, one Gram product) per auxiliary regression, with R's aliasing rule.

Every auxiliary regression in the battery (Breusch-Pagan, White, RESET,
the second-order test, Goldfeld-Quandt's halves, Breusch-Godfrey) needs the
same three things: which columns are aliased, the coefficients of the
others and the residual vector. :func:`project` gets all three from one
blocked LAPACK factorisation of the augmented matrix ``[B | v]``:

* ``B = Q R`` is backward stable whether or not some columns of ``B`` are
  (nearly) dependent, so the distance of column j from the span of the
  earlier kept columns is the same computed on the columns of ``R``, a
  small (m + 1) x m matrix, as on the n-row columns of ``B``; R's
  ``lm.fit`` rule (drop a column whose distance is at most ``tolerance``,
  keep earlier columns first) is applied there, by Gram-Schmidt.
* ``v = Q r_v`` with ``r_v`` the last column of ``R``, so the regression of
  ``v`` on the kept columns is a small least-squares problem in those
  coordinates, and the residual vector is ``Q`` applied to its small
  residual (LAPACK ``dormqr``), never ``v - B b``, which cancels.

The work is one ``dgeqrf`` (2 n m² flops, blocked) and one ``dormqr``
(4 n m), instead of a column-by-column Gram-Schmidt over n rows followed by
a second QR and an explicit Q.

When the columns are well conditioned and far from the aliasing tolerance,
:func:`project_augmented` solves the same problem from one Gram product
instead (:func:`corrected_normal_equations`): on tall matrices a ``dsyrk``
runs five to ten times faster than ``dgeqrf`` here (the whole solve three
times faster on the second-order test's 50,000 x 231 columns), and
refining the solution with the residual returns the digits of the
Householder solve. Its residual is ``v - B b``: with the refined b that
difference has rounding of the order of eps ||v||, the same as the
Householder residual's (tested against it to 1e-11 relative at condition
3e3, down to residuals 1e-3 of v).

References
----------
Golub, G. H. & Van Loan, C. F. (2013). *Matrix Computations*, 4th ed.,
sections 5.2 (Householder QR) and 5.3.5 (rank deficiency).
"""

from __future__ import annotations

import numpy as np
from scipy import linalg as scipy_linalg
from scipy.linalg import blas, lapack

__all__ = ["CACHE_ROWS", "CHOLESKY_QR_CONDITION", "GRAM_CONDITION_BOUND", "cholesky_qr2", "corrected_normal_equations",
           "gram_is_reliable", "independent_columns", "orthonormal_factor", "project", "project_augmented", "square",
           "stack_r", "triangular_factor"]

# LAPACK's blocked routines want a workspace of (columns x block size);
# 64 is above the block size any current LAPACK picks for these shapes
_BLOCK = 64


def _fortran_work(matrix: np.ndarray, overwrite: bool) -> np.ndarray:
    """``matrix`` itself when it may be overwritten and LAPACK can use it as is, else a Fortran-ordered copy."""
    if overwrite and matrix.dtype == np.float64 and matrix.flags.f_contiguous:
        return matrix
    return np.array(matrix, dtype=np.float64, order="F")


def _factor(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Householder QR in LAPACK's compact form (reflectors below the diagonal, tau)."""
    columns = matrix.shape[1]
    qr, tau, _, info = lapack.dgeqrf(matrix, lwork=max(1, columns * _BLOCK), overwrite_a=1)
    if info != 0:  # only an illegal argument can make dgeqrf fail
        raise RuntimeError(f"LAPACK dgeqrf failed (info={info})")
    return qr, tau


def orthonormal_factor(matrix: np.ndarray, overwrite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Thin QR ``matrix = Q R`` with Q explicit (n x m, orthonormal columns), for n >= m.

    LAPACK ``dgeqrf`` then ``dorgqr`` on a Fortran-ordered copy, or in place
    when ``overwrite`` and ``matrix`` is a Fortran-ordered float array: about
    half the time of ``numpy.linalg.qr``, which copies to and from C order.
    """
    n, m = matrix.shape
    if m == 0 or n < m:
        return np.linalg.qr(matrix)
    qr, tau = _factor(_fortran_work(matrix, overwrite))
    upper = np.triu(qr[:m, :m])
    q, _, info = lapack.dorgqr(qr, tau, lwork=max(1, m * _BLOCK), overwrite_a=1)
    if info != 0:
        raise RuntimeError(f"LAPACK dorgqr failed (info={info})")
    return q, upper


#: Rows of a tall matrix worked on together: the passes over a block of
#: rows are bound by memory, and blocks of 25,000 rows (a few MB of columns)
#: stay in cache where 50,000 do not. Used by the in-memory fit of a large
#: design (:func:`olscheck.model.fit.fit`, factored block by block), by
#: pass 1 of the streaming engine, which factors a chunk in pieces of this
#: size (the 50,000 x 22 QR of a chunk: 7.6 ms whole, 6.3-6.7 ms in two
#: pieces), and by pass 2 and the in-memory battery, which compute their
#: statistics so (:func:`olscheck.engine.residuals.chunk_statistics`,
#: :data:`olscheck.checks.battery.BLOCK_ROWS`: 0.44-0.47 s at 1e6 x 20 in
#: blocks of 25,000 rows, 0.55-0.62 s in blocks of 50,000).
CACHE_ROWS = 25_000

#: Largest condition number (columns scaled to unit norm) for which
#: :func:`cholesky_qr2` is used: its Gram matrix then has condition at most
#: 1e8, far inside CholeskyQR2's range (about eps^-1/2 ≈ 7e7 for the basis,
#: Yamamoto et al. 2015), so Q is orthonormal and X = QR to rounding.
CHOLESKY_QR_CONDITION = 1e4


def cholesky_qr2(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Thin QR by CholeskyQR2 for a well-conditioned tall matrix, or None.

    ``X'X = R1'R1`` (Cholesky), ``Q1 = X R1^-1``; once more on Q1:
    ``Q1'Q1 = R2'R2``, ``Q = Q1 R2^-1``, ``R = R2 R1``. The passes over the
    rows are two Gram products and two triangular solves, all level-3
    BLAS, about half the time of a Householder QR with explicit Q on tall
    narrow matrices. The second round removes the loss of orthogonality of
    the first (about cond² eps), leaving Q orthonormal and ``X - QR`` at
    rounding level when cond ≤ :data:`CHOLESKY_QR_CONDITION`.

    Returns None, leaving ``matrix`` untouched, when the Cholesky factor
    fails or the condition number (columns scaled to unit norm, to which
    Cholesky is indifferent) exceeds that bound: the caller then uses
    Householder (:func:`orthonormal_factor`). Otherwise ``matrix`` (a
    Fortran-ordered float64 array) is overwritten by Q.

    References
    ----------
    Yamamoto, Y., Nakatsukasa, Y., Yanagisawa, Y. & Fukaya, T. (2015).
    Roundoff error analysis of the CholeskyQR2 algorithm. ETNA 44, 306-326.
    """
    n, m = matrix.shape
    if m == 0 or n < 2 * m or matrix.dtype != np.float64 or not matrix.flags.f_contiguous:
        return None
    gram = matrix.T @ matrix
    first, info = lapack.dpotrf(gram, lower=0, clean=1)
    if info != 0:
        return None
    norms = np.sqrt(np.einsum("ij,ij->j", first, first))
    if not np.all(norms > 0):
        return None
    if not np.linalg.cond(first / norms) <= CHOLESKY_QR_CONDITION:
        return None
    q = blas.dtrsm(1.0, first, matrix, side=1, lower=0, overwrite_b=1)
    second, info = lapack.dpotrf(q.T @ q, lower=0, clean=1)
    if info != 0:  # cannot happen within the bound; kept as a guard
        raise RuntimeError(f"LAPACK dpotrf failed on the second CholeskyQR round (info={info})")
    q = blas.dtrsm(1.0, second, q, side=1, lower=0, overwrite_b=1)
    return q, second @ first


def _apply_q(qr: np.ndarray, tau: np.ndarray, vector: np.ndarray) -> np.ndarray:
    """``Q @ vector`` for the Q of :func:`_factor` (``vector`` has n rows)."""
    reflectors = tau.size
    result, _, info = lapack.dormqr("L", "N", qr[:, :reflectors], tau, vector[:, None],
                                    lwork=max(1, _BLOCK), overwrite_c=1)
    if info != 0:
        raise RuntimeError(f"LAPACK dormqr failed (info={info})")
    return result[:, 0]


def independent_columns(triangle: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of columns farther than ``tolerance`` from the span of the earlier kept ones.

    ``triangle`` holds the columns in any orthonormal coordinates (the R of
    a QR, or the columns themselves); distances are invariant to them.
    Gram-Schmidt with one re-orthogonalisation ("twice is enough", Giraud
    et al., Numer. Math. 2005) keeps the kept basis orthonormal to rounding.
    """
    rows, columns = triangle.shape
    orthonormal = np.empty((rows, min(rows, columns)))
    kept: list[int] = []
    for j in range(columns):
        if len(kept) == rows:
            break
        w = np.array(triangle[:, j], dtype=float)
        current = orthonormal[:, : len(kept)]
        for _ in range(2):
            w -= current @ (current.T @ w)
        norm = float(np.sqrt(w @ w))
        if norm > tolerance:
            orthonormal[:, len(kept)] = w / norm
            kept.append(j)
    return np.asarray(kept, dtype=int)


def project(basis: np.ndarray, v: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least squares of ``v`` on the columns of ``basis``, dropping aliased columns.

    Parameters
    ----------
    basis : ndarray, shape (n, m)
        Columns of unit (or comparable) Euclidean norm, e.g. centred and
        scaled regressors; the tolerance is absolute on that scale.
    v : ndarray, shape (n,)
    tolerance : float
        A column is aliased when its distance from the span of the earlier
        kept columns is at most this (R's ``lm.fit`` ``tol``, 1e-7).

    Returns
    -------
    kept : ndarray of int
        Indices of the columns used, in order.
    coefficients : ndarray
        Least-squares coefficients of the kept columns.
    residuals : ndarray, shape (n,)
        ``v`` minus its projection on the kept columns.
    """
    n, m = basis.shape
    v = np.asarray(v, dtype=float)
    if m == 0 or n == 0:
        return np.zeros(0, dtype=int), np.zeros(0), v.copy()
    augmented = np.empty((n, m + 1), order="F")
    augmented[:, :m] = basis
    augmented[:, m] = v
    return project_augmented(augmented, v, tolerance)


#: :func:`corrected_normal_equations` is used only when the smallest singular
#: value of the columns exceeds the aliasing tolerance this many times: every
#: column is then kept by the Householder rule too (|R_jj| >= σ_min), with a
#: margin far beyond the Gram matrix's rounding (about cond² eps relative).
GRAM_ALIASING_MARGIN = 100.0

#: :func:`corrected_normal_equations` is used only when this bound on the
#: condition number of the columns scaled to unit norm,
#: ``||R||_F ||R^-1||_F >= cond``, holds: cond² eps is then at most 2e-6,
#: so the refinement contracts quickly. The bound costs one triangular
#: inverse (m³/3), where the singular values would cost ten times the
#: Cholesky factor itself on wide designs.
GRAM_CONDITION_BOUND = 1e5

#: Refinement steps of :func:`corrected_normal_equations` at most: each
#: contracts the error by about cond² eps <= 2e-6, so three take the
#: normal-equations solution to the rounding floor of the residual, that
#: of a Householder solve (it stops earlier once a correction is at
#: rounding level).
_REFINEMENT_STEPS = 3


def gram_is_reliable(upper: np.ndarray, tolerance: float) -> bool:
    """Whether columns whose Gram matrix is ``upper'upper`` (Cholesky) may be solved from that Gram matrix.

    True when a bound on the condition number of the columns scaled to unit
    norm is at most :data:`GRAM_CONDITION_BOUND` and a lower bound on the
    smallest singular value exceeds :data:`GRAM_ALIASING_MARGIN` times
    ``tolerance``, so that the Householder rule would keep every column.
    Both bounds come from one triangular inverse: ``1/||R^-1||_F <= σ_min``
    and ``cond <= ||R D^-1||_F ||D R^-1||_F = sqrt(m) ||D R^-1||_F`` with D
    the column norms.
    """
    m = upper.shape[1]
    inverse, info = lapack.dtrtri(upper, lower=0)
    if info != 0 or not np.all(np.isfinite(inverse)):
        return False
    norms = np.sqrt(np.einsum("ij,ij->j", upper, upper))
    if not 1.0 / np.linalg.norm(inverse) > GRAM_ALIASING_MARGIN * tolerance:
        return False
    return bool(np.sqrt(m) * np.linalg.norm(norms[:, None] * inverse) <= GRAM_CONDITION_BOUND)


def corrected_normal_equations(augmented: np.ndarray, v: np.ndarray, tolerance: float
                               ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    r"""Least squares of ``v`` on ``basis`` from its Gram matrix, refined with the residual; or None.

    ``augmented`` is ``[basis | v]`` (n x (m + 1), Fortran-ordered, not
    modified). One ``dsyrk`` gives ``[B v]'[B v]``; ``B'B = R'R``
    (Cholesky); then the corrected semi-normal equations (Björck 1987):

    .. math:: b_0 = R^{-1} R^{-T} B'v, \quad
              b_{i+1} = b_i + R^{-1} R^{-T} B'(v - B b_i)

    until a correction is at rounding level (at most three steps), and
    the residual ``v - B b``. Each step contracts the error by about
    cond² eps, so within :data:`GRAM_CONDITION_BOUND` (columns scaled to
    unit norm) the solution has the forward error of a Householder solve,
    at the cost of one Gram product and a few matrix-vector products.

    Returns None (the caller then uses Householder QR) when the matrix is
    not tall (n < 2m), the Cholesky factor fails, a bound on the condition
    number exceeds :data:`GRAM_CONDITION_BOUND`, a lower bound on the
    smallest singular value is within :data:`GRAM_ALIASING_MARGIN` times
    ``tolerance`` (a column may then be aliased, which only the
    Householder rule decides) or a value is not finite. Otherwise every
    column is kept, as the Householder rule would keep them.

    References
    ----------
    Björck, Å. (1987). Stability analysis of the method of seminormal
    equations for linear least squares problems. Linear Algebra Appl. 88,
    31-48.
    """
    n, m = augmented.shape[0], augmented.shape[1] - 1
    if m == 0 or n < 2 * m or augmented.dtype != np.float64 or not augmented.flags.f_contiguous:
        return None
    gram = blas.dsyrk(1.0, augmented, trans=1)  # upper triangle of [B v]'[B v]
    if not np.all(np.isfinite(gram)):
        return None
    upper, info = lapack.dpotrf(gram[:m, :m], lower=0, clean=1)
    if info != 0:
        return None
    if not gram_is_reliable(upper, tolerance):
        return None
    basis = augmented[:, :m]
    v = np.asarray(v, dtype=float)

    def solve(right_hand_side: np.ndarray) -> np.ndarray:
        return lapack.dpotrs(upper, right_hand_side, lower=0)[0]

    coefficients = solve(gram[:m, m])
    # the coefficients' scale: |b| itself, or about |v| / σ_max when b is near zero
    scale = np.linalg.norm(coefficients) + np.sqrt(max(gram[m, m], 0.0)) / np.linalg.norm(upper)
    for _ in range(_REFINEMENT_STEPS):
        correction = solve(basis.T @ (v - basis @ coefficients))
        coefficients = coefficients + correction
        if np.linalg.norm(correction) <= 16 * np.finfo(float).eps * scale:
            break
    residuals = v - basis @ coefficients
    if not np.all(np.isfinite(coefficients)):
        return None
    return np.arange(m), coefficients, residuals


def project_augmented(augmented: np.ndarray, v: np.ndarray, tolerance: float
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`project` given ``[basis | v]`` as one Fortran-ordered array, which may be overwritten.

    Well-conditioned columns are solved by :func:`corrected_normal_equations`
    (``augmented`` left as it is), the others by Householder QR in place.
    """
    n, m = augmented.shape[0], augmented.shape[1] - 1
    if m == 0 or n == 0:
        return np.zeros(0, dtype=int), np.zeros(0), np.array(v, dtype=float)
    solved = corrected_normal_equations(augmented, v, tolerance)
    if solved is not None:
        return solved
    qr, tau = _factor(augmented)
    size = min(n, m + 1)
    triangle = np.triu(qr[:size, :])
    diagonal = np.abs(np.diag(triangle[:, :m]))
    # |R_jj| is column j's distance from the span of ALL earlier columns; when
    # none is near the tolerance every column is kept and Gram-Schmidt would
    # agree (the margin covers rounding in R_jj)
    if m <= n and diagonal.size == m and diagonal.min() > 2.0 * tolerance:
        kept = np.arange(m)
    else:
        kept = independent_columns(triangle[:, :m], tolerance)
    if kept.size == 0:
        return kept, np.zeros(0), np.array(v, dtype=float)
    coordinates = triangle[:, m]
    if kept.size == m and m < size:
        # every column kept and R square upper-triangular: the textbook solve
        coefficients = scipy_linalg.solve_triangular(triangle[:m, :m], coordinates[:m])
        small_residual = np.zeros(size)
        small_residual[m:] = coordinates[m:]
    else:
        q_small, r_small = np.linalg.qr(triangle[:, kept])
        projected = q_small.T @ coordinates
        coefficients = scipy_linalg.solve_triangular(r_small, projected)
        small_residual = coordinates - q_small @ projected
    full = np.zeros(n)
    full[:size] = small_residual
    residuals = _apply_q(qr, tau, full)
    return kept, coefficients, residuals


def triangular_factor(rows: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """R of the Householder QR of ``rows`` (``min(m, n)`` x ``n``), as ``np.linalg.qr(rows, mode="r")``.

    LAPACK's ``dgeqrf`` with its default (unblocked) workspace: for narrow
    blocks (tens of columns, 1e5 rows: the streaming engine's chunks, the
    row segments of :mod:`olscheck.numerics.lstsq`) that is about
    three times faster than ``np.linalg.qr``, which asks for the blocked
    workspace and works on a transposed copy. The factor is the same
    Householder factor. With ``overwrite`` a Fortran-ordered float64
    ``rows`` is factored in place (its contents are lost); otherwise, or
    for any other layout, a Fortran-ordered copy is factored.
    """
    m, n = rows.shape
    if m == 0 or n == 0:
        return np.zeros((min(m, n), n))
    factored, _, _, info = lapack.dgeqrf(_fortran_work(rows, overwrite), overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"dgeqrf failed (info={info})")
    return np.triu(factored[:min(m, n)])


def square(upper: np.ndarray | None, width: int) -> np.ndarray:
    """A triangular factor with ``width`` columns as ``width`` x ``width``: zero rows added, or rows beyond dropped.

    A factor of fewer rows than columns (a QR of few rows) or none yet
    (None: zeros) becomes square, so it can be sliced by column position.
    """
    if upper is None:
        return np.zeros((width, width))
    if upper.shape[0] >= width:
        return upper[:width]
    return np.vstack([upper, np.zeros((width - upper.shape[0], width))])


def stack_r(upper: np.ndarray | None, rows: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """Triangular factor of ``[upper; rows]`` (R of the rows seen so far, then these rows).

    The new rows are factored on their own and their small factor is
    stacked under ``upper`` (R of ``[upper; rows]`` is that of
    ``[upper; R_rows]``): the large block is never copied into a stack.
    ``overwrite`` lets :func:`triangular_factor` factor ``rows`` in place.
    """
    if rows.shape[0] == 0:
        return upper if upper is not None else np.zeros((0, rows.shape[1]))
    factor = triangular_factor(rows, overwrite)
    if upper is None or upper.shape[0] == 0:
        return factor
    return triangular_factor(np.vstack([upper, factor]))
