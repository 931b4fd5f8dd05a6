"""The design: what the model is fitted to, independent of where it came from.

:mod:`olscheck.inputs.prepare` turns DataFrames, files and formulas into a
:class:`Design`; :mod:`olscheck.model.fit` fits it. Nothing here reads files or
knows about pandas beyond the row labels.
"""

from __future__ import annotations

import math
import re

from dataclasses import dataclass, field
from functools import cached_property
from math import comb

import numpy as np
import pandas as pd

from ..errors import InsufficientDataError
from ..numerics.scaling import binary_exponent

__all__ = ["Term", "PolynomialGroup", "Design", "BasisMap", "working_scale", "check_enough_rows", "POWER_TERM",
           "NUMPY_POWER_TERM"]


@dataclass(frozen=True, eq=False)
class Term:
    """A model term: one predictor, which may span several design columns.

    Attributes
    ----------
    name : str
        Term name as patsy/R print it: ``"x"``, ``"g"``, ``"I(x ** 2)"``.
    columns : tuple of int
        Positions of the term's columns in ``Design.column_names``.
    categorical : bool
        True for a treatment-coded factor.
    """

    name: str
    columns: tuple[int, ...]
    categorical: bool = False


@dataclass(frozen=True, eq=False)
class PolynomialGroup:
    """Columns that are integer powers of one numeric variable.

    Knowing that ``x``, ``x**2`` ... ``x**d`` are powers of ``x`` lets the fit
    use the well-conditioned basis ``t**k`` with ``t = (x - centre) / half_range``
    computed from ``x`` itself, instead of the rounded float64 powers, and map
    the coefficients back exactly. Without it NIST's Filip (degree 10) loses
    half its digits before any solver starts.
    """

    base_name: str
    base: np.ndarray
    powers: tuple[int, ...]
    columns: tuple[int, ...]

    @property
    def centre(self) -> float:
        return float((self.base.max() + self.base.min()) / 2.0)

    @property
    def half_range(self) -> float:
        half = float((self.base.max() - self.base.min()) / 2.0)
        return half if half > 0 else 1.0


@dataclass(frozen=True, eq=False)
class Design:
    """Response and design matrix, with the bookkeeping a report needs.

    Attributes
    ----------
    y : ndarray, shape (n,)
    x : ndarray, shape (n, p)
        Design matrix in reported columns; column 0 is the intercept when
        ``has_intercept``.
    column_names : tuple of str
        statsmodels/patsy names: ``"Intercept"``, ``"x"``, ``"g[T.b]"``.
    terms : tuple of Term
        Predictor terms, intercept excluded.
    has_intercept : bool
    target : str
    predictors, categorical : tuple of str
        Source columns used as predictors, and those treated as categorical.
    n_rows : int
        Rows in the input before dropping incomplete ones.
    n_dropped : int
        Rows dropped because a used column was missing.
    order_by : str or None
        Column that defines the order for autocorrelation tests; None means
        row order (or a DatetimeIndex, see ``order_note``).
    order_note : str
        One sentence saying which order the order-dependent tests used.
    row_index : pandas.Index
        Labels of the rows used, in analysis order.
    response_scale : float
        ``y`` is the target divided by this power of two (1 unless the
        target's magnitude is extreme, ~1e±150 and beyond), so squares of
        residuals stay finite. Every diagnostic is invariant to it; reported
        residuals, fitted values and sigma are multiplied back.
    polynomials : tuple of PolynomialGroup
    notes : tuple of str
        Facts about the data worth a line in the report (dropped rows...).
    groups : pandas.Series or None
        With ``groups=``: the group of each row used, in analysis order
        (indexed like ``row_index``, named after the groups column); the
        grouped-errors test reads it. None otherwise.
    columns : tuple of ColumnDecision
        What was done with every input column and why (the report's Columns
        table; :mod:`olscheck.inputs.screening`). Empty when the design did not
        come from screened columns (a formula, a statsmodels model).
    """

    y: np.ndarray
    x: np.ndarray
    column_names: tuple[str, ...]
    terms: tuple[Term, ...]
    has_intercept: bool
    target: str
    predictors: tuple[str, ...]
    categorical: tuple[str, ...]
    n_rows: int
    n_dropped: int
    order_by: str | None = None
    order_note: str = "Order-dependent tests use the rows in the order given."
    row_index: pd.Index | None = None
    polynomials: tuple[PolynomialGroup, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)
    response_scale: float = 1.0
    groups: pd.Series | None = None
    columns: tuple = ()

    @classmethod
    def for_target(cls, y: np.ndarray, **fields) -> "Design":
        """A Design for the target values ``y``, stored divided by :func:`working_scale` (``response_scale``)."""
        scale = working_scale(y)
        return cls(y=y / scale, response_scale=scale, **fields)

    @property
    def n_used(self) -> int:
        return int(self.y.shape[0])

    def rows(self, positions: np.ndarray) -> "Design":
        """The design restricted to the rows at ``positions`` (0-based, in the order given).

        Every per-row array follows: ``y``, ``x``, the row labels, the groups
        and the polynomial groups' base variable; counts describe the rows
        kept (``n_rows`` is their number, none dropped). Used for the seeded
        sample of the whole-sequence tests and for refits without rows.
        """
        from dataclasses import replace

        positions = np.asarray(positions)
        polynomials = tuple(replace(group, base=group.base[positions]) for group in self.polynomials)
        return replace(
            self, y=self.y[positions], x=self.x[positions],
            row_index=None if self.row_index is None else self.row_index[positions],
            groups=None if self.groups is None else self.groups.iloc[positions],
            polynomials=polynomials, n_rows=int(positions.size), n_dropped=0)

    @cached_property
    def column_exponents(self) -> np.ndarray:
        """One power of two per column of ``x`` near its largest magnitude (:func:`olscheck.numerics.scaling.binary_exponent`)."""
        exponents = binary_exponent(self.x, axis=0)
        exponents.setflags(write=False)
        return exponents

    def fitting_basis(self, dtype=np.float64) -> tuple[np.ndarray, np.ndarray]:
        """A well-conditioned basis of the design's column space.

        Returns ``(basis, to_reported)`` with ``design.x @ to_reported == basis``
        in exact arithmetic, so coefficients ``a`` on the basis are
        ``b = to_reported @ a`` on the reported columns. The basis has the
        intercept column unchanged, every other column centred (when there is
        an intercept) and scaled to unit norm; polynomial groups are replaced
        by powers of the rescaled base variable. ``dtype`` may be
        ``np.longdouble`` for the residuals of iterative refinement.
        """
        n, p = self.x.shape
        # column-major: every step below works on one column at a time, and
        # LAPACK factors the result without another copy
        raw = np.array(self.x, dtype=dtype, order="F")
        # Power-of-two column scaling is exact and keeps squares of 1e±300
        # magnitudes finite; it is folded into to_reported like any other map.
        exponents = self.column_exponents.copy()
        if self.has_intercept and p:
            exponents[0] = 0  # the intercept column must stay a column of ones
        binary_scale = np.ldexp(1.0, exponents).astype(dtype)
        raw /= binary_scale
        # to_power_basis maps coefficients on the raw columns with polynomial
        # columns replaced by t**k back to the reported (x**k) columns.
        to_reported = np.diag(1 / binary_scale)
        for group in self.polynomials:
            # Without an intercept the span of {t**k} equals that of {x**k}
            # only when t is x rescaled, not shifted.
            centre = dtype(group.centre) if self.has_intercept else dtype(0)
            half = dtype(group.half_range if self.has_intercept else max(float(np.max(np.abs(group.base))), 1e-300))
            t = (group.base.astype(dtype) - centre) / half
            power_column = dict(zip(group.powers, group.columns))
            for power, column in power_column.items():
                raw[:, column] = t ** power
                # these columns are rebuilt from the base variable, so the
                # binary scale does not apply to them
                to_reported[column, column] = 1
            # sum_j beta_j t^j = sum_i x^i sum_{j>=i} beta_j C(j,i) (-centre)^(j-i) / half^j
            block = np.zeros((p, p), dtype=dtype)
            np.fill_diagonal(block, 1)
            for power, column in power_column.items():
                block[column, column] = 0
                for lower in range(power + 1):
                    weight = dtype(comb(power, lower)) * (-centre) ** (power - lower) / half ** power
                    if lower == 0:
                        if not self.has_intercept:
                            continue
                        block[0, column] += weight
                    elif lower in power_column:
                        block[power_column[lower], column] += weight
            to_reported = to_reported @ block
        # centre and scale, one contiguous column of the Fortran-ordered copy at a time, in place
        intercept_column = 0 if self.has_intercept else None
        shift = np.zeros(p, dtype=dtype)
        scale = np.ones(p, dtype=dtype)
        for j in range(p):
            if j != intercept_column:
                shift[j], scale[j] = _centre_and_scale(raw[:, j], self.has_intercept)
        return raw, to_reported @ _centring(shift, scale, intercept_column, dtype)

    def constant_columns(self, columns) -> tuple[int, ...]:
        """Those of ``columns`` (positions in ``x``) that the fitting basis makes a zero column.

        A column constant up to rounding (with an intercept: centred, it is a
        multiple of the intercept column) or zero (without one), by the rule
        :meth:`fitting_basis` applies: its norm after centring at most 1e-12
        of its norm before (:func:`_centre_and_scale`), on the column divided
        by its power of two. One pass over each column asked for; the fit
        asks only for its aliased columns.
        """
        exponents = self.column_exponents
        constant = []
        for j in columns:
            column = self.x[:, j] / np.ldexp(1.0, exponents[j])
            if _centre_and_scale(column, self.has_intercept)[1] == 0:
                constant.append(int(j))
        return tuple(constant)

    def basis_map(self) -> "BasisMap":
        """How :meth:`fitting_basis` makes each column, without making the n x p basis.

        For a design without polynomial groups (their columns are rebuilt
        from the base variable, so :meth:`fitting_basis` makes them whole):
        the binary scale, shift and scale of every column, computed on the
        whole column exactly as :meth:`fitting_basis` computes them, so
        :meth:`BasisMap.rows` gives the same numbers for any block of rows.
        One temporary column at a time.
        """
        if self.polynomials:
            raise ValueError("a design with polynomial groups has no column-wise basis map; use fitting_basis")
        n, p = self.x.shape
        exponents = self.column_exponents.copy()
        if self.has_intercept and p:
            exponents[0] = 0
        binary_scale = np.ldexp(1.0, exponents)
        intercept_column = 0 if self.has_intercept else None
        shift = np.zeros(p)
        scale = np.ones(p)
        column = np.empty(n)  # one temporary column, reused: a fresh one per column costs its page faults
        for j in range(p):
            if j != intercept_column:
                np.divide(self.x[:, j], binary_scale[j], out=column)
                shift[j], scale[j] = _centre_and_scale(column, self.has_intercept)
        to_reported = np.diag(1 / binary_scale) @ _centring(shift, scale, intercept_column, np.float64)
        return BasisMap(binary_scale, shift, scale, to_reported, intercept_column)


def _centre_and_scale(column: np.ndarray, has_intercept: bool) -> tuple[float, float]:
    """Centre (with an intercept) and scale ``column`` to unit norm in place; return ``(shift, scale)``.

    A column whose centred norm is below 1e-12 of its magnitude (constant
    up to rounding) gets scale 0 and becomes a zero column, which the fit
    never keeps.
    """
    magnitude = _euclidean(column)
    shift = column.dtype.type(0)
    if has_intercept:
        shift = column.mean()
        column -= shift
    norm = _euclidean(column)
    if norm > 1e-12 * magnitude and norm > 0:
        column /= norm
        return shift, norm
    column[:] = 0
    return shift, column.dtype.type(0)


def _euclidean(column: np.ndarray):
    # BLAS's dot for float64; numpy's sum keeps long double's extra digits
    return math.sqrt(column @ column) if column.dtype == np.float64 else np.sqrt(np.sum(column * column))


def _centring(shift: np.ndarray, scale: np.ndarray, intercept_column: int | None, dtype) -> np.ndarray:
    """The map from coefficients on the centred, scaled columns back to the columns before (zero for scale 0)."""
    p = shift.size
    centring = np.eye(p, dtype=dtype)
    for j in range(p):
        if j == intercept_column:
            continue
        if scale[j] > 0:
            centring[j, j] = 1 / scale[j]
            if intercept_column is not None:
                centring[intercept_column, j] = -shift[j] / scale[j]
        else:
            centring[j, j] = 0
    return centring


@dataclass(frozen=True, eq=False)
class BasisMap:
    """The fitting basis column by column (:meth:`Design.basis_map`).

    ``B_j = (x_j / binary_scale_j - shift_j) / scale_j``, the shift 0 without
    an intercept.

    The intercept column (``intercept_column``) stays a column of ones.
    ``to_reported`` is :meth:`Design.fitting_basis`'s map of coefficients.
    """

    binary_scale: np.ndarray
    shift: np.ndarray
    scale: np.ndarray
    to_reported: np.ndarray
    intercept_column: int | None

    def rows(self, x: np.ndarray, rows, columns: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The basis columns ``columns`` (positions in the design) of the design rows ``x[rows]``.

        ``rows`` is a slice or an array of positions; ``out`` (m x len(columns),
        any layout) receives them. The operations are :meth:`Design.fitting_basis`'s,
        in its order, so every entry is the same number.
        """
        block = x[rows]
        if out is None:
            out = np.empty((block.shape[0], len(columns)), order="F")
        for i, j in enumerate(columns):
            column = out[:, i]
            if j == self.intercept_column:
                column[:] = 1.0
                continue
            np.divide(block[:, j], self.binary_scale[j], out=column)
            if self.intercept_column is not None:
                column -= self.shift[j]
            column /= self.scale[j]
        return out


def working_scale(y: np.ndarray) -> float:
    """A power of two to divide an extreme-magnitude target by (1 for ordinary data).

    Squared residuals of a target near 1e300 overflow float64; dividing by a
    power of two is exact and every diagnostic is scale invariant. The
    diagnostics form fourth powers of residuals (kurtosis, the variance of
    squared residuals in Breusch-Pagan), so the target is kept within 2**±100
    (~1e±30): a single 1e82 in a column already overflowed sigma⁴.
    """
    largest = float(np.max(np.abs(y))) if y.size else 0.0
    if largest == 0.0 or 2.0**-100 < largest < 2.0**100:
        return 1.0
    return float(np.ldexp(1.0, binary_exponent(y)))


# --------------------------------------------------------------------------- order


#: Formula term names that are an integer power of one variable: ``I(x ** 2)`` and ``np.power(x, 2)``.
POWER_TERM = re.compile(r"^I\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\*\*\s*(\d+)\s*\)$")
NUMPY_POWER_TERM = re.compile(r"^np\.power\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*(\d+)\s*\)$")


def check_enough_rows(n_rows: int, n_parameters: int, terms=()) -> None:
    """Raise :class:`InsufficientDataError` unless there are at least parameters + 1 usable rows.

    One message for every way in (columns, a formula, a statsmodels model,
    the streaming engine): the counts, and the categorical term that takes
    the most columns when one does.
    """
    if n_rows >= n_parameters + 1:
        return
    widest = max((t for t in terms if t.categorical), key=lambda t: len(t.columns), default=None)
    culprit = (
        f" Categorical {widest.name!r} alone takes {len(widest.columns)} columns (one per level, less the "
        "reference level when there is an intercept)."
        if widest is not None and len(widest.columns) > 1 else ""
    )
    raise InsufficientDataError(
        f"{n_rows} usable row(s) for {n_parameters} parameter(s); olscheck needs at least parameters + 1 rows "
        f"(and many more for the diagnostics to mean anything).{culprit} Use fewer predictors or more rows."
    )
