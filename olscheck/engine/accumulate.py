"""Sufficient statistics over chunks: pass 1 (the fit) and pass 2 (the residual battery).

Both accumulators are *mergeable*: ``a.merge(b)`` is the statistics of the
rows of ``a`` followed by the rows of ``b``. Sums simply add; triangular
factors are stacked and re-triangularised (TSQR: the R factor of
``[X_a; X_b]`` is that of ``[R_a; R_b]``); sums over windows of
consecutive rows (Durbin-Watson differences, lagged products for
Breusch-Godfrey and Newey-West) add the windows that straddle the boundary,
from the last rows of ``a`` and the first rows of ``b`` that each
accumulator keeps. So chunks of a file folded left to right and Dask
partitions reduced in partition order give the same statistics.

Why TSQR rather than X'X: the triangular factor of the stacked rows is
backward stable (the error is that of a Householder QR of all rows), so the
fit keeps the digits of the in-memory QR, and every auxiliary regression of
the battery is the QR of a few columns of one more such factor.

References
----------
Demmel, J., Grigori, L., Hoemmen, M. & Langou, J. (2012). Communication-
optimal parallel and sequential QR and LU factorizations. SIAM J. Sci.
Comput. 34, A206-A239 (TSQR).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..inputs.prepare import merged_target_values, target_values
from ..numerics.covariance import bartlett_sums
from ..numerics.qr import CACHE_ROWS, stack_r, triangular_factor

__all__ = ["triangular_factor", "stack_r", "FitStatistics", "ResidualStatistics", "Sequence", "difference_sums",
           "ranking_key", "largest_positions"]


# --------------------------------------------------------------------------- ranking rows
#: Significant digits to which row measures (Cook's distance, |studentized residual|) are ranked: rows equal
#: to that many digits are tied, and ties go to the earlier row. Duplicated rows have one value that the
#: in-memory blocks and the streamed chunks can round differently in its last bits, which must not decide
#: which row the report names.
RANKING_DIGITS = 10


def ranking_key(values):
    """``values`` (non-negative) rounded to :data:`RANKING_DIGITS` significant digits, for ranking rows."""
    values = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = 10.0 ** (RANKING_DIGITS - 1 - np.floor(np.log10(np.where(values > 0, values, 1.0))))
    return np.where(values > 0, np.round(values * scale) / scale, values)


#: Rows within this relative distance of the count-th largest value are ranked by :func:`ranking_key` (a
#: margin above the rounding of RANKING_DIGITS digits).
_RANKING_MARGIN = 1e-9


def largest_positions(values: np.ndarray, candidates: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` candidates with the largest values (non-negative), largest first, ties to the earlier row.

    As ``candidates[np.argsort(-ranking_key(values[candidates]), kind="stable")[:count]]``
    without sorting (or rounding) every row: only the rows at or near the
    count-th largest value are ranked. Used for the rows the report names
    (the largest Cook's distances), in memory and streamed alike.
    """
    chosen = values[candidates]
    if chosen.size > count:
        threshold = np.partition(chosen, chosen.size - count)[chosen.size - count]
        keep = chosen >= threshold * (1.0 - _RANKING_MARGIN)
        candidates, chosen = candidates[keep], chosen[keep]
    return candidates[np.argsort(-ranking_key(chosen), kind="stable")[:count]]


# --------------------------------------------------------------------------- pass 1
@dataclass
class FitStatistics:
    """Pass 1: triangular factor of the accumulated columns, counts, level occurrences."""

    width: int
    upper: np.ndarray | None = None
    n: int = 0
    n_rows: int = 0
    n_dropped: int = 0
    missing: dict = field(default_factory=dict)
    level_counts: np.ndarray | None = None
    y_min: float = np.inf
    y_max: float = -np.inf
    y_max_abs: float = 0.0
    #: the target's distinct values while there are at most two (a 0/1 outcome), None beyond
    target_values: tuple | None = ()
    partition_counts: list = field(default_factory=list)

    def add(self, chunk) -> None:
        rows = chunk.shifted
        for low in range(0, max(rows.shape[0], 1), CACHE_ROWS):  # an empty chunk still sets the factor's width
            self.upper = stack_r(self.upper, rows[low:low + CACHE_ROWS])
        self.n += rows.shape[0]
        self.n_rows += chunk.n_rows
        self.n_dropped += chunk.incomplete
        for name, count in chunk.missing.items():
            self.missing[name] = self.missing.get(name, 0) + count
        counts = np.count_nonzero(chunk.raw, axis=0)
        self.level_counts = counts if self.level_counts is None else self.level_counts + counts
        if rows.shape[0]:
            y = chunk.raw[:, -1]
            self.y_min = min(self.y_min, float(y.min()))
            self.y_max = max(self.y_max, float(y.max()))
            self.y_max_abs = max(self.y_max_abs, float(np.max(np.abs(y))))
            if self.target_values is not None:  # a continuous target stops this at its first chunk
                self.target_values = merged_target_values(self.target_values, target_values(y))

    def merge(self, other: "FitStatistics") -> "FitStatistics":
        out = FitStatistics(self.width)
        if self.upper is None:
            out.upper = other.upper
        elif other.upper is None:
            out.upper = self.upper
        else:
            out.upper = stack_r(self.upper, other.upper)
        out.n = self.n + other.n
        out.n_rows = self.n_rows + other.n_rows
        out.n_dropped = self.n_dropped + other.n_dropped
        out.missing = {k: self.missing.get(k, 0) + other.missing.get(k, 0) for k in {*self.missing, *other.missing}}
        if self.level_counts is None:
            out.level_counts = other.level_counts
        elif other.level_counts is None:
            out.level_counts = self.level_counts
        else:
            out.level_counts = self.level_counts + other.level_counts
        out.y_min = min(self.y_min, other.y_min)
        out.y_max = max(self.y_max, other.y_max)
        out.y_max_abs = max(self.y_max_abs, other.y_max_abs)
        out.target_values = merged_target_values(self.target_values, other.target_values)
        out.partition_counts = self.partition_counts + other.partition_counts
        return out


def difference_sums(q: np.ndarray) -> tuple[np.ndarray, float]:
    """``(sum_t Δq_t Δq_t', sum_t ||2 q_t - q_{t-1} - q_{t+1}||²)`` over the windows inside the rows of ``q``.

    Δq_t = q_t - q_{t-1} for t = 1 .. m-1; second differences for t = 1 ..
    m-2. The first is one symmetric product of the differences D (m-1 x k);
    the second needs no m x k temporary beyond D, since
    ``2 q_t - q_{t-1} - q_{t+1} = Δq_t - Δq_{t+1}``::

        sum ||Δq_t - Δq_{t+1}||² = 2 ||D||² - ||Δq_1||² - ||Δq_{m-1}||² - 2 sum_t Δq_t·Δq_{t+1}

    with ``||D||²`` the trace of the first. Differencing first keeps the
    sums at the size of the differences (no cancellation of Q'Q against its
    lag-one product) and costs a third of the products of forming both.
    The Durbin-Watson moments subtract these from the traces 2(n - 1) and
    2(3n - 4); the streaming engine sums them per chunk.
    """
    q = np.asarray(q, dtype=float)
    m, k = q.shape
    if m < 2:
        return np.zeros((k, k)), 0.0
    differences = q[1:] - q[:-1]
    outer = differences.T @ differences
    if m < 3:
        return outer, 0.0
    second = (2.0 * float(np.trace(outer))
              - float(differences[0] @ differences[0]) - float(differences[-1] @ differences[-1])
              - 2.0 * float(np.einsum("ij,ij->", differences[:-1], differences[1:])))
    return outer, second


# --------------------------------------------------------------------------- ordered sequences
@dataclass
class Sequence:
    """Sums over windows of consecutive rows, mergeable in row order.

    Per row t: the residual e_t, the row q_t of the orthonormal basis Q and
    the sandwich scores s_t = g_t e_t. Sums kept:

    * ``dw``: sum (e_t - e_{t-1})²
    * ``dq``: sum (q_t - q_{t-1})(q_t - q_{t-1})' = Q'AQ (Durbin-Watson moments)
    * ``aq``: sum ||2 q_t - q_{t-1} - q_{t+1}||² over interior rows (both
      :func:`difference_sums`)
    * ``lag_e[l-1]``: sum e_t e_{t-l}, l = 1..max(order, 1)
    * ``lag_qe[l-1]``: sum q_t e_{t-l}, l = 1..order
    * ``newey_west``: the Newey-West meat, sum over |l| <= nw_lags of
      w_l sum s_t * s_{t-l} (elementwise), with the Bartlett weights
      w_l = 1 - |l| / (nw_lags + 1) (:func:`olscheck.numerics.covariance.bartlett_sums`)

    ``head``/``tail`` keep the first/last ``memory`` rows, enough to add the
    windows that straddle a boundary when two sequences are joined.
    """

    order: int
    nw_lags: int
    k: int
    directions: int  # sandwich score columns: one per coefficient direction
    count: int = 0
    sums: dict | None = None
    head: tuple | None = None
    tail: tuple | None = None

    @property
    def memory(self) -> int:
        return max(2, self.order, self.nw_lags)

    def _zero(self) -> dict:
        return {
            "dw": 0.0,
            "dq": np.zeros((self.k, self.k)),
            "aq": 0.0,
            "lag_e": np.zeros(max(self.order, 1)),
            "lag_qe": np.zeros((self.order, self.k)),
            "newey_west": np.zeros(self.directions),
        }

    def _window_sums(self, e: np.ndarray, q: np.ndarray, s: np.ndarray) -> dict:
        out = self._zero()
        n = e.size
        if n >= 2:
            difference = np.diff(e)
            out["dw"] = float(difference @ difference)
            out["dq"], out["aq"] = difference_sums(q)
        for lag in range(1, min(len(out["lag_e"]), n - 1) + 1):
            out["lag_e"][lag - 1] = float(e[lag:] @ e[:-lag])
        for lag in range(1, min(self.order, n - 1) + 1):
            out["lag_qe"][lag - 1] = e[:-lag] @ q[lag:]
        if n >= 1 and self.directions:
            # the lag-0 products lie inside one side of any junction, so they cancel in merge as they should
            out["newey_west"] = bartlett_sums(s, min(self.nw_lags, n - 1), self.nw_lags)
        return out

    def add_rows(self, e: np.ndarray, q: np.ndarray, s: np.ndarray) -> None:
        piece = Sequence(self.order, self.nw_lags, self.k, self.directions)
        piece.count = e.size
        piece.sums = self._window_sums(e, q, s)
        m = self.memory
        piece.head = (e[:m].copy(), q[:m].copy(), s[:m].copy())
        piece.tail = (e[-m:].copy(), q[-m:].copy(), s[-m:].copy())
        merged = self.merge(piece)
        self.count, self.sums, self.head, self.tail = merged.count, merged.sums, merged.head, merged.tail

    def merge(self, other: "Sequence") -> "Sequence":
        if self.count == 0:
            return other
        if other.count == 0:
            return self
        out = Sequence(self.order, self.nw_lags, self.k, self.directions)
        out.count = self.count + other.count
        junction = tuple(np.concatenate([a, b]) for a, b in zip(self.tail, other.head))
        whole = self._window_sums(*junction)
        left = self._window_sums(*self.tail)
        right = self._window_sums(*other.head)
        # windows inside the junction minus those inside either side = the windows straddling the boundary
        out.sums = {key: self.sums[key] + other.sums[key] + whole[key] - left[key] - right[key] for key in whole}
        m = self.memory
        out.head = self.head if self.count >= m else tuple(
            np.concatenate([a, b])[:m] for a, b in zip(self.head, other.head))
        out.tail = other.tail if other.count >= m else tuple(
            np.concatenate([a, b])[-m:] for a, b in zip(self.tail, other.tail))
        return out


# --------------------------------------------------------------------------- pass 2
#: Rows kept with the largest Cook's distances.
TOP_KEPT = 10


@dataclass
class ResidualStatistics:
    """Pass 2: everything the battery needs from the residuals, mergeable in row order."""

    auxiliary_width: int
    sequence: Sequence
    n: int = 0
    power_sums: np.ndarray = field(default_factory=lambda: np.zeros(5))
    e_squared_min: float = np.inf
    e_squared_max: float = 0.0
    e_abs_max: float = 0.0
    q_e: np.ndarray | None = None
    halves: list = field(default_factory=lambda: [None, None])
    hc3: np.ndarray | None = None
    null_sums: np.ndarray | None = None  # covariance.null_sums: the robust/classical ratios' null spread
    # influence
    max_leverage: float = -np.inf
    n_leverage_one: int = 0
    n_influential: int = 0
    n_studentized: int = 0
    top: list = field(default_factory=list)  # (cooks, position, label, leverage, studentized)
    worst_studentized: tuple | None = None  # (|t|, t, position, label)
    rows: list = field(default_factory=list)  # per block (cooks, studentized, leverage) when the fit keeps rows
    # the sample of rows kept whole
    sample: list = field(default_factory=list)

    def merge(self, other: "ResidualStatistics") -> "ResidualStatistics":
        out = ResidualStatistics(self.auxiliary_width, self.sequence.merge(other.sequence))
        out.n = self.n + other.n
        out.power_sums = self.power_sums + other.power_sums
        out.e_squared_min = min(self.e_squared_min, other.e_squared_min)
        out.e_squared_max = max(self.e_squared_max, other.e_squared_max)
        out.e_abs_max = max(self.e_abs_max, other.e_abs_max)
        out.q_e = _add(self.q_e, other.q_e)
        out.halves = [_stack(a, b) for a, b in zip(self.halves, other.halves)]
        out.hc3 = _add(self.hc3, other.hc3)
        out.null_sums = _add(self.null_sums, other.null_sums)
        out.max_leverage = max(self.max_leverage, other.max_leverage)
        out.n_leverage_one = self.n_leverage_one + other.n_leverage_one
        out.n_influential = self.n_influential + other.n_influential
        out.n_studentized = self.n_studentized + other.n_studentized
        out.top = sorted(self.top + other.top, key=lambda row: (-float(ranking_key(row[0])), row[1]))[:TOP_KEPT]
        candidates = [w for w in (self.worst_studentized, other.worst_studentized) if w is not None]
        # ties go to the earlier row, as numpy's argmax
        out.worst_studentized = min(candidates, key=lambda w: (-float(ranking_key(w[0])), w[2])) if candidates else None
        out.sample = self.sample + other.sample
        out.rows = self.rows + other.rows
        return out


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _stack(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return stack_r(a, b)
