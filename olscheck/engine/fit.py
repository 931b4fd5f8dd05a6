"""From pass 1's triangular factor to the fitted model, as :func:`olscheck.model.fit.fit` fits it.

The triangular factor R of the accumulated columns ``[1, predictors, y]``
is orthogonally equivalent to the data: for any selection or affine
combination T of columns, ``X T = Q (R T)``. So every quantity of the
in-memory fit that depends on the data only through inner products -- the
centred and scaled fitting basis, R's aliasing decision, the QR
coefficients, the residual and model sums of squares, the coefficient
covariance, VIFs, Belsley's condition indices -- is computed from small
matrices ``R T`` of size (p + 2) x p, with the same functions.

With the ones column first, the rows below the first of ``R T`` are the R
factor of the *centred* columns: centring costs nothing and cancels
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg as scipy_linalg

from ..model.design import Term, check_enough_rows
from ..model.fit import FittedSizes
from ..errors import ConstantTargetError, DataError, InsufficientDataError
from ..numerics.qr import independent_columns, square
from ..numerics.lstsq import ALIASING_TOLERANCE
from .accumulate import FitStatistics
from .layout import Layout

__all__ = ["StreamedFit", "solve"]


@dataclass
class StreamedFit(FittedSizes):
    """The fitted model in the form pass 2 and the results need."""

    layout: Layout
    n: int
    n_rows: int
    n_dropped: int
    notes: tuple[str, ...]
    column_names: tuple[str, ...]          # reported design columns
    accumulated: np.ndarray                # reported column -> accumulated column
    terms: tuple[Term, ...]                # indices into reported columns
    has_intercept: bool
    kept: np.ndarray                       # reported columns estimated
    aliased: tuple[str, ...]
    constant_aliased: tuple[str, ...]      # aliased and constant (scale 0 in the fitting basis)
    upper: np.ndarray                      # R of the reported columns and y (raw scale), square
    r_fit: np.ndarray                      # R of the kept fitting basis
    basis_coefficients: np.ndarray         # a: y ≈ B a
    basis_source: np.ndarray               # B[:, i] = shifted[:, basis_source[i]] * basis_multiplier[i]
    basis_multiplier: np.ndarray           #           + basis_offset[i] (the intercept: multiplier 0, offset 1)
    basis_offset: np.ndarray
    column_means: np.ndarray               # of the kept columns (0 without intercept)
    column_scales: np.ndarray              # of the kept columns in the fitting basis
    coefficients: np.ndarray
    factor: np.ndarray                     # T R^-1 (coefficient covariance / sigma² = factor factor')
    rss_pass1: float
    model_ss: float
    y_squares: float
    y_min: float
    target_values: tuple[float, ...] | None  # its distinct values when at most two (a 0/1 outcome)
    y_max_abs: float
    fitted_mean: float
    fitted_rms: float
    reset_rms: float
    residual_shift: float
    #: Only the rows with the largest Cook's distances are kept (memory is bounded by the chunk, not the data).
    keep_rows = False

    @property
    def slopes(self) -> np.ndarray:
        """Positions (within kept) of the non-intercept columns."""
        return np.arange(1, self.rank) if self.has_intercept else np.arange(self.rank)

    @property
    def slope_columns(self) -> slice:
        """:attr:`slopes` as a slice: basis columns taken as a view rather than copied per chunk."""
        return slice(1, self.rank) if self.has_intercept else slice(0, self.rank)

    @property
    def kept_names(self) -> tuple[str, ...]:
        return tuple(self.column_names[j] for j in self.kept)

    @property
    def kept_terms(self) -> tuple[Term, ...]:
        """Terms re-indexed into the kept columns (terms with no kept column left out), as LinearFit.terms."""
        position = {int(j): i for i, j in enumerate(self.kept)}
        out = []
        for term in self.terms:
            columns = tuple(position[c] for c in term.columns if c in position)
            if columns:
                out.append(Term(term.name, columns, term.categorical))
        return tuple(out)

    @property
    def directions(self) -> np.ndarray:
        norms = np.sqrt(np.sum(self.factor * self.factor, axis=1))
        return (self.factor / np.where(norms > 0, norms, 1)[:, None]).astype(np.float64)

    def basis_rows(self, shifted: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The fitting basis B of a chunk's accumulated rows, into ``out`` (m x rank) if given.

        Every basis column is one accumulated column scaled and shifted, so
        B is written column by column: the same numbers as the product with
        the (one entry per column) map matrix, in a fraction of the time.
        """
        m = shifted.shape[0]
        if out is None:
            out = np.empty((m, self.rank), order="F")
        for i, (column, multiplier, offset) in enumerate(
                zip(self.basis_source, self.basis_multiplier, self.basis_offset)):
            if multiplier == 0.0:
                out[:, i] = offset
            else:
                np.multiply(shifted[:, column], multiplier, out=out[:, i])
                out[:, i] += offset
        return out

    def fitted_part(self, basis: np.ndarray) -> np.ndarray:
        """The part of the fitted values that varies by row: B_s a_s with an intercept (B a without)."""
        a = self.basis_coefficients
        if not self.has_intercept:
            return basis @ a
        slopes = self.slope_columns
        return basis[:, slopes] @ a[slopes] if self.rank > 1 else np.zeros(basis.shape[0])

    def residuals(self, shifted: np.ndarray, fitted_part: np.ndarray) -> np.ndarray:
        """e = y - B a, with the large common parts (shift of y, intercept) subtracted first.

        ``fitted_part`` is :meth:`fitted_part` of the chunk's basis rows.
        """
        layout = self.layout
        j = layout.y_column
        e = shifted[:, j] * layout.scale[j]
        if self.has_intercept:
            e += layout.shift[j] - self.basis_coefficients[0]
        else:
            e += layout.shift[j]
        e -= fitted_part
        return e


#: A later chunk's target may exceed the first chunk's largest value (which set the working scale) by at
#: most this power of two: beyond 2**200 fourth powers of residuals would overflow.
LATER_TARGET_RANGE = 150


def solve(layout: Layout, statistics: FitStatistics) -> StreamedFit:
    """The fit from pass 1's statistics (aliasing, coefficients, covariance factor)."""
    n = statistics.n
    if n == 0 or statistics.n_dropped == statistics.n_rows:
        raise InsufficientDataError("no rows are left after dropping rows with missing values.")
    if not statistics.y_max > statistics.y_min:
        raise ConstantTargetError(
            f"target {layout.target!r} is constant ({statistics.y_min * layout.response_scale:g}) over the {n} rows "
            "used; there is nothing to explain."
        )
    if statistics.y_max_abs > 2.0**LATER_TARGET_RANGE:
        # the working scale came from the first chunk; fourth powers of residuals must stay finite
        raise DataError(
            f"target {layout.target!r} reaches {statistics.y_max_abs * layout.response_scale:g}, more than "
            f"2**{LATER_TARGET_RANGE} times the largest value of the first rows read, which set the streamed "
            "engine's working scale; no real measurement spans that range. Check those rows (a unit error?), or "
            "use streaming=False."
        )
    notes: list[str] = []
    if statistics.n_dropped:
        # largest first, ties in column order (as the in-memory note)
        counts = sorted(((statistics.missing.get(name, 0), name) for name in layout.columns
                         if statistics.missing.get(name, 0) > 0), key=lambda item: -item[0])
        detail = ", ".join(f"{name} {int(c)}" for c, name in counts)
        notes.append(
            f"Dropped {statistics.n_dropped} of {statistics.n_rows} rows with missing values (missing per column: {detail})."
        )

    # reported columns: intercept, then each predictor's column(s), levels present in complete rows only
    names, accumulated, terms, factor_notes = layout.reported_columns(statistics.level_counts)
    notes.extend(factor_notes)
    p = len(names)
    check_enough_rows(n, p, terms)

    # R of [reported columns, y] on the raw scale: raw_j = scale_j * shifted_j + shift_j * 1
    width = layout.width
    upper_all = square(statistics.upper, width)
    selection = [*accumulated, layout.y_column]
    transform = np.zeros((width, p + 1))
    for position, column in enumerate(selection):
        transform[column, position] = layout.scale[column]
        transform[0, position] += layout.shift[column]
    upper = np.linalg.qr(upper_all @ transform, mode="r")
    upper = square(upper, p + 1)

    # the fitting basis of olscheck.model.design.Design.fitting_basis: intercept kept, others centred (with an
    # intercept) and scaled to unit norm; a column constant up to rounding becomes a zero column
    intercept = layout.intercept
    means = np.zeros(p)
    scales = np.ones(p)
    small = np.zeros((p + 1, p))
    for j in range(p):
        column = upper[:, j]
        if intercept and j == 0:
            small[:, 0] = column
            continue
        magnitude = float(np.sqrt(column @ column))
        if intercept:
            means[j] = upper[0, j] / upper[0, 0]
            centred = np.concatenate([[0.0], column[1:]])
        else:
            centred = column
        norm = float(np.sqrt(centred @ centred))
        if norm > 1e-12 * magnitude and norm > 0:
            scales[j] = norm
            small[:, j] = centred / norm
        else:
            scales[j] = 0.0
    kept = independent_columns(small, ALIASING_TOLERANCE)
    kept = kept[np.linalg.norm(small[:, kept], axis=0) > 0] if kept.size else kept
    kept_set = set(kept.tolist())
    dropped = [j for j in range(p) if j not in kept_set]
    aliased = tuple(names[j] for j in dropped)
    # scale 0: constant up to rounding (zero without an intercept), the rule of Design.constant_columns
    constant_aliased = tuple(names[j] for j in dropped if scales[j] == 0.0)
    k = kept.size

    solved = np.linalg.qr(np.column_stack([small[:, kept], upper[:, p]]), mode="r")
    solved = square(solved, k + 1)
    r_fit = solved[:k, :k]
    z = solved[:k, k]
    rss = float(solved[k, k] ** 2)
    a = scipy_linalg.solve_triangular(r_fit, z) if k else np.zeros(0)
    model_ss = float(z[1:] @ z[1:]) if intercept else float(z @ z)

    # coefficients on the reported columns, b = T a, in extended precision as model.fit
    kept_means = means[kept]
    kept_scales = scales[kept]
    to_reported = np.eye(k, dtype=np.longdouble)
    for i, j in enumerate(kept):
        if intercept and j == 0:
            continue
        to_reported[i, i] = np.longdouble(1.0) / np.longdouble(kept_scales[i])
        if intercept:
            to_reported[0, i] = -np.longdouble(kept_means[i]) / np.longdouble(kept_scales[i])
    coefficients = (to_reported @ a.astype(np.longdouble)).astype(np.float64)
    r_inverse = scipy_linalg.solve_triangular(r_fit, np.eye(k)) if k else np.zeros((0, 0))
    factor = to_reported @ r_inverse.astype(np.longdouble)

    # B = (raw - mean) / scale with raw = scale_acc * shifted + shift_acc, as one affine map of the chunk
    basis_source = np.zeros(k, dtype=int)
    basis_multiplier = np.zeros(k)
    basis_offset = np.zeros(k)
    for i, j in enumerate(kept):
        column = accumulated[j]
        if intercept and j == 0:
            basis_offset[i] = 1.0
            continue
        basis_source[i] = column
        basis_multiplier[i] = layout.scale[column] / kept_scales[i]
        basis_offset[i] = (layout.shift[column] - kept_means[i]) / kept_scales[i]

    # the fitted values' mean and size, to standardise them in pass 2
    if intercept:
        fitted_mean = 0.0  # the fitted values' slope part B_s a_s has mean 0
        fitted_rms = np.sqrt(model_ss / n)
        reset_rms = fitted_rms
    else:
        # without an intercept the mean of B a needs the column sums, 1'x_j from the ones column's factor
        raw_columns = upper_all @ transform
        ones = upper_all[:, 0]
        basis_sums = np.array([float(ones @ raw_columns[:, j]) for j in kept]) / kept_scales
        fitted_mean = float(basis_sums @ a) / n
        fitted_rms = np.sqrt(max(model_ss / n - fitted_mean**2, 0.0))
        reset_rms = np.sqrt(model_ss / n)
        residual_shift = (float(ones @ raw_columns[:, p]) - float(basis_sums @ a)) / n
    if intercept:
        residual_shift = 0.0
    return StreamedFit(
        layout=layout, n=n, n_rows=statistics.n_rows, n_dropped=statistics.n_dropped, notes=tuple(notes),
        column_names=tuple(names), accumulated=np.asarray(accumulated), terms=tuple(terms), has_intercept=intercept,
        kept=kept, aliased=aliased, constant_aliased=constant_aliased, upper=upper, r_fit=r_fit, basis_coefficients=a, basis_source=basis_source,
        basis_multiplier=basis_multiplier, basis_offset=basis_offset, column_means=kept_means, column_scales=kept_scales, coefficients=coefficients,
        factor=factor, rss_pass1=rss, model_ss=model_ss, y_squares=float(upper[:, p] @ upper[:, p]),
        y_min=statistics.y_min, target_values=statistics.target_values, y_max_abs=statistics.y_max_abs, fitted_mean=fitted_mean,
        fitted_rms=float(fitted_rms) if fitted_rms else 1.0, reset_rms=float(reset_rms) or 1.0, residual_shift=residual_shift,
    )
