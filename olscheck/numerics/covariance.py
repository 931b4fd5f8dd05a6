"""How much robust covariance estimators change the standard errors.

The effect size behind the heteroskedasticity and autocorrelation
severities: not "is there a violation" (a p-value answers that, and at
n = 10⁶ always yes) but "does it change the inference", measured as the
relative change of each slope's standard error when a sandwich estimator
replaces the classical sigma² (X'X)^-1.

With X = Q R and ``fit.coefficient_directions`` u_j (unit rows of the
factor T R^-1 of the coefficient covariance), g_j = Q u_j and

    se_robust_j / se_classical_j = sqrt(g_j' Omega g_j) / sigma,

where Omega is the estimated error covariance (diagonal for HC3, banded
with Bartlett weights for Newey-West). Cost O(n p²); no n x n matrix.

References
----------
MacKinnon, J. G. & White, H. (1985). Some heteroskedasticity-consistent
covariance matrix estimators with improved finite sample properties.
J. Econometrics 29, 305-325 (HC3; statsmodels ``cov_type="HC3"``,
R ``sandwich::vcovHC(type = "HC3")``).
Newey, W. K. & West, K. D. (1987, 1994). Econometrica 55, 703-708;
Rev. Econ. Stud. 61, 631-653 (Bartlett kernel, lag rule).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .scaling import binary_scaled

__all__ = ["SandwichChanges", "StandardErrorChange", "bartlett_sums", "newey_west_lags",
           "null_sums", "residual_moments", "sandwich_from_meats", "NULL_SUMS"]


@dataclass(frozen=True, slots=True)
class StandardErrorChange:
    """Robust / classical standard-error ratios of the slope coefficients.

    Attributes
    ----------
    ratios : tuple of float
        ``se_robust_j / se_classical_j`` per slope.
    names : tuple of str
    estimator : str
    null_ratios, null_sds : tuple of float, optional
        The ratio each slope would show in expectation, and its standard
        deviation, under constant variance and uncorrelated errors at this n
        (see :func:`null_sums`); None when not computed. HC3 exceeds the
        classical standard error by design at small n (its weights divide by
        (1 - h)²), and all robust estimators are noisy: a change matters
        only beyond both.
    intercept : StandardErrorChange, optional
        The same ratio for the intercept (one name), from the same meats.
        Reported beside the slopes (the coefficient table's robust interval
        of the intercept) but never part of :attr:`largest_change`,
        :attr:`worst` or :meth:`material`: a robust standard error that
        moves only the intercept changes no conclusion about the
        predictors, so no severity reads it.
    """

    ratios: tuple[float, ...]
    names: tuple[str, ...]
    estimator: str
    null_ratios: tuple[float, ...] | None = None
    null_sds: tuple[float, ...] | None = None
    intercept: "StandardErrorChange | None" = None

    @property
    def largest_change(self) -> float:
        """max_j |ratio_j - 1|: 0.25 means some slope's SE moves by 25%."""
        return max((abs(r - 1.0) for r in self.ratios), default=0.0)

    @property
    def worst(self) -> str | None:
        if not self.ratios:
            return None
        return self.names[int(np.argmax([abs(r - 1.0) for r in self.ratios]))]

    @property
    def changes_beyond_null(self) -> tuple[float, ...]:
        """``ratio_j / null_ratio_j - 1``: the change the violation causes, net of the estimator's own bias."""
        if self.null_ratios is None:
            return tuple(r - 1.0 for r in self.ratios)
        return tuple(r / m - 1.0 for r, m in zip(self.ratios, self.null_ratios))

    def material(self, smallest: float, noise: float) -> tuple[float, str] | None:
        """The largest change that is both at least ``smallest`` and ``noise`` null SDs; None when none is.

        A slope's change counts when ``|ratio_j / null_ratio_j - 1| >= max(smallest, noise × null_sd_j /
        null_ratio_j)``: material in size (``Thresholds.se_change_warn``) and outside what constant
        variance and uncorrelated errors give at this n (``Thresholds.se_change_noise``).
        """
        changes = self.changes_beyond_null
        spreads = (tuple(sd / m for sd, m in zip(self.null_sds, self.null_ratios))
                   if self.null_sds is not None else (0.0,) * len(changes))
        counted = [(abs(c), name) for c, name, sd in zip(changes, self.names, spreads)
                   if abs(c) >= max(smallest, noise * sd)]
        return max(counted) if counted else None

    def detail_fields(self, prefix: str, *, estimator: bool = False) -> dict:
        """The report's details for this change, keys prefixed (``hc3``, ``hac``, ``cluster``).

        ``{prefix}_se_change`` (:attr:`largest_change`), ``{prefix}_se_ratios``, optionally
        ``{prefix}_estimator``, and the null ratios and SDs when computed;
        with an :attr:`intercept`, its ratio (and null ratio and SD) under
        ``{prefix}_intercept_se_ratios`` (``..._se_null_ratios``,
        ``..._se_null_sds``), apart from the slopes' keys that severities read.
        """
        out = {f"{prefix}_se_change": self.largest_change, f"{prefix}_se_ratios": dict(zip(self.names, self.ratios))}
        if estimator:
            out[f"{prefix}_estimator"] = self.estimator
        if self.null_ratios is not None:
            out[f"{prefix}_se_null_ratios"] = dict(zip(self.names, self.null_ratios))
            out[f"{prefix}_se_null_sds"] = dict(zip(self.names, self.null_sds))
        if self.intercept is not None:
            own = self.intercept.detail_fields(f"{prefix}_intercept")
            own.pop(f"{prefix}_intercept_se_change")
            out.update(own)
        return out

    def to_dict(self) -> dict:
        out = {"estimator": self.estimator, "ratios": dict(zip(self.names, self.ratios)),
               "largest_change": self.largest_change}
        if self.null_ratios is not None:
            out["null_ratios"] = dict(zip(self.names, self.null_ratios))
            out["null_sds"] = dict(zip(self.names, self.null_sds))
        if self.intercept is not None:
            out["intercept"] = self.intercept.to_dict()
        return out


#: Rows per block of :func:`bartlett_sums`: its running sums restart at
#: every block, so their rounding grows with the block, not with n.
_BLOCK_ROWS = 1 << 16


#: What :func:`null_sums` returns, row by row.
NULL_SUMS = ("sum a/(1-h)", "sum a/(1-h)^2", "sum a^2/(1-h)^4", "sum a^2", "sum a h")


def null_sums(g: np.ndarray, leverage: np.ndarray, residuals: np.ndarray | None = None) -> np.ndarray:
    r"""Per slope direction, the sums over rows that give the null distribution of the robust/classical ratios.

    With a_t = g_tj² (the g_j = Q u_j have unit norm, so sum_t a_t = 1) and
    h_t the leverage, returns the rows of :data:`NULL_SUMS` (shape (5, k));
    with the rows' ``residuals`` e_t a sixth row, HC3's meat sum_t a_t ω_t
    with ω_t = (e_t / (1 - h_t))², from the same pass (both read a_t and
    1/(1 - h_t): one product of the block with four weight columns instead
    of four passes); sums over chunks add up, so the streaming engine calls
    it per chunk. Rows fitted exactly (h_t = 1) carry no residual
    information and are left out (ω_t = 0 and no null term).

    Under constant variance sigma² and uncorrelated errors with kurtosis
    kappa (E e⁴ / sigma⁴), E e_t² = sigma² (1 - h_t), so the *variance*
    ratio r = meat / sigma² has

    * HC3: mean M = sum a_t/(1-h_t); with c_t = a_t/(1-h_t)², variance
      (kappa - 1) (sum c_t² - (sum c_t)²/n) (a weighted sum of the e_t²,
      less the part the variance estimate shares);
    * Newey-West (Bartlett weights w_l, L lags): mean 1 - sum a_t h_t; the
      lag-0 part as HC0, (kappa - 1)(sum a_t² - 1/n), plus
      4 sum_l w_l² sum_t a_t a_{t-l} for the cross-products of different
      rows, bounded by Cauchy-Schwarz with sum_t a_t a_{t-l} <= sum a_t²
      (tight for a smooth, time-series design, where autocorrelation
      moves standard errors; conservative otherwise).

    The standard error ratio sqrt(r) then has mean about sqrt(M) and SD
    about sd(r) / (2 sqrt(M)) (the delta method).

    References
    ----------
    Andrews, D. W. K. (1991). Heteroskedasticity and autocorrelation
    consistent covariance matrix estimation. *Econometrica* 59, 817-858
    (the variance of kernel estimates: 4 L / (3 n) for the Bartlett kernel).
    Kauermann, G. & Carroll, R. J. (2001). A note on the efficiency of
    sandwich covariance matrix estimation. *JASA* 96, 1387-1396.
    """
    one_minus_h = 1.0 - leverage
    usable = one_minus_h > 1e-10
    inverse = np.zeros_like(one_minus_h)
    inverse[usable] = 1.0 / one_minus_h[usable]
    a = g * g
    # the weights as columns of one block: the sums linear in a_t are one product with it
    with_hc3 = residuals is not None
    weights = np.empty((g.shape[0], 4 if with_hc3 else 3), order="F")
    weights[:, 0] = inverse
    np.multiply(inverse, inverse, out=weights[:, 1])
    weights[:, 2] = leverage
    if with_hc3:
        np.multiply(residuals, residuals, out=weights[:, 3])
        weights[:, 3] *= weights[:, 1]  # HC3's ω = e² / (1 - h)²
    linear = weights.T @ a  # sum a/(1-h), sum a/(1-h)^2, sum a h (and HC3's meat)
    np.multiply(weights[:, 1], weights[:, 1], out=weights[:, 0])  # 1/(1-h)^4
    weights[:, 1] = 1.0
    a *= a
    quadratic = weights[:, :2].T @ a  # sum a^2/(1-h)^4, sum a^2 (a product, not a column-wise reduction)
    out = np.empty((6 if with_hc3 else 5, g.shape[1]))
    out[0], out[1], out[4] = linear[0], linear[1], linear[2]
    out[2], out[3] = quadratic[0], quadratic[1]
    if with_hc3:
        out[5] = linear[3]
    return out


def _null_spreads(sums: np.ndarray, n: int, kurtosis: float, lags: int) -> tuple[tuple, tuple, tuple, tuple]:
    """HC3 and Newey-West null ratio means and SDs (of the standard-error ratio) from :func:`null_sums`."""
    excess = max(float(kurtosis) - 1.0, 0.0)
    hc3_mean = sums[0]
    # sum c² - (sum c)²/n cancels to rounding when the c_t are nearly equal (a balanced design): below a
    # relative 1e-10 it is zero, so that summing in chunks or in memory gives the same answer
    centred = sums[2] - sums[1] ** 2 / n
    hc3_variance = excess * np.where(centred > 1e-10 * sums[2], centred, 0.0)
    weights_squared = sum((1.0 - lag / (lags + 1.0)) ** 2 for lag in range(1, min(lags, n - 1) + 1))
    nw_mean = np.maximum(1.0 - sums[4], 1e-12)
    lag_zero = sums[3] - 1.0 / n
    nw_variance = excess * np.where(lag_zero > 1e-10 * sums[3], lag_zero, 0.0) + 4.0 * weights_squared * sums[3]

    def ratio_spread(mean, variance):
        root = np.sqrt(mean)
        return tuple(float(v) for v in root), tuple(float(v) for v in np.sqrt(variance) / (2.0 * root))

    return (*ratio_spread(hc3_mean, hc3_variance), *ratio_spread(nw_mean, nw_variance))


def newey_west_lags(n: int) -> int:
    """floor(4 (n/100)^(2/9)), Newey & West (1994)'s rule, as statsmodels' examples and R's bwNeweyWest default."""
    return max(1, int(math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))))


def bartlett_sums(scores: np.ndarray, window: int, lags: int) -> np.ndarray:
    r"""Per column, ``sum_t s_t² + 2 sum_{l=1}^{window} w_l sum_t s_t s_{t-l}`` with Bartlett weights.

    ``w_l = 1 - l / (lags + 1)``, the Newey-West kernel with bandwidth
    ``lags`` (``window`` is the number of lags used, ``min(lags, n - 1)``).

    Notes
    -----
    The Bartlett kernel is a moving sum convolved with itself:
    ``w_l (L + 1) = #{(i, i') in [0, L]²: i - i' = l}`` with L = lags, so

    .. math:: \sum_{|l| \le L} w_l \sum_t s_t s_{t-l} = \frac{1}{L + 1} \sum_t \Big(\sum_{i=0}^{L} s_{t-i}\Big)^2

    over t = 0 .. n - 1 + L with s zero outside the rows: O(n) per column
    from running sums instead of O(n L) lagged products, and a sum of
    squares, so the result is never negative (Newey & West's point). The
    running sums restart every :data:`_BLOCK_ROWS` rows, so their
    rounding is bounded by the block, not by n. ``window < lags`` (fewer
    rows than lags) keeps only the lags that exist, as the direct sum does,
    through the general formula.
    """
    scores = np.asarray(scores, dtype=float)
    n, columns = scores.shape
    return _bartlett_blocks(lambda first, stop: scores[first:stop], n, columns, window, lags)


def _bartlett_blocks(rows, n: int, columns: int, window: int, lags: int) -> np.ndarray:
    """:func:`bartlett_sums` of the scores ``rows(first, stop)`` (rows first..stop-1), asked for a block at a time."""
    if window < lags:
        # fewer rows than the bandwidth: the lagged products directly (at most n lags)
        scores = rows(0, n)
        meat = np.einsum("ij,ij->j", scores, scores)
        for lag in range(1, window + 1):
            meat += 2.0 * (1.0 - lag / (lags + 1.0)) * np.einsum("ij,ij->j", scores[lag:], scores[:-lag])
        return meat
    width = lags + 1
    total = np.zeros(columns)
    # rows t = 0 .. n - 1 + L of the moving sums, a block at a time; each
    # block's running sums start `width` rows earlier (zero before row 0 and
    # after row n - 1), so row t's window is running[t + width] - running[t]
    for start in range(0, n + lags, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n + lags)
        segment = np.zeros((stop - start + width, columns))
        low, high = max(start - width, 0), min(stop, n)
        segment[low - (start - width): high - (start - width)] = rows(low, high)
        running = np.cumsum(segment, axis=0, out=segment)
        window_sums = running[width:] - running[:-width]
        total += np.einsum("ij,ij->j", window_sums, window_sums)
    return total / width


@dataclass(frozen=True, slots=True)
class SandwichChanges:
    """HC3 and Newey-West over classical standard errors of one fit; each None when undefined."""

    hc3: StandardErrorChange | None
    newey_west: StandardErrorChange | None


def sandwich_from_meats(hc3_meat: np.ndarray, newey_west_meat: np.ndarray, sigma2: float, names: tuple[str, ...],
                        lags: int, null: tuple[np.ndarray, int, float] | None = None,
                        intercept: int | None = None) -> SandwichChanges:
    """The ratios ``sqrt(meat_j / sigma²)`` of both estimators, from their meats along the coefficient directions.

    The battery sums the meats over blocks of rows
    (:func:`olscheck.engine.residuals.row_statistics`), in memory and streamed. ``null`` is ``(null_sums, n,
    residual kurtosis)``, from which each ratio's expectation and SD under
    constant variance and uncorrelated errors are computed (:func:`null_sums`).
    ``intercept`` is the position of the intercept among ``names`` (None
    without one): its ratio goes to :attr:`StandardErrorChange.intercept`,
    the others are the slopes'.
    """
    count = len(names)
    hc3_null = nw_null = ((None,) * count, (None,) * count)
    if null is not None:
        sums, n, kurtosis = null
        hc3_mean, hc3_sd, nw_mean, nw_sd = _null_spreads(sums, n, kurtosis, lags)
        hc3_null, nw_null = (hc3_mean, hc3_sd), (nw_mean, nw_sd)
    hc3_ratios = tuple(float(r) for r in np.sqrt(hc3_meat / sigma2))
    newey_west_ratios = tuple(float(r) for r in np.sqrt(np.clip(newey_west_meat, 0.0, None) / sigma2))

    def change(ratios, estimator, null_pair):
        def pick(values, positions):
            return tuple(values[j] for j in positions)

        slopes = [j for j in range(count) if j != intercept]
        nulls = (None, None) if null is None else (pick(null_pair[0], slopes), pick(null_pair[1], slopes))
        own = None
        if intercept is not None:
            own_nulls = (None, None) if null is None else ((null_pair[0][intercept],), (null_pair[1][intercept],))
            own = StandardErrorChange((ratios[intercept],), (names[intercept],), estimator, *own_nulls)
        return StandardErrorChange(pick(ratios, slopes), pick(names, slopes), estimator, *nulls, own)

    return SandwichChanges(change(hc3_ratios, "HC3", hc3_null),
                           change(newey_west_ratios, f"Newey-West HAC, Bartlett kernel, {lags} lags", nw_null))


def residual_moments(residuals: np.ndarray) -> tuple[float, float]:
    """Skewness g1 = m3 / m2^(3/2) and kurtosis b2 = m4 / m2² (not excess) of the residuals.

    Central moments with divisor n, ``m_k = sum (e_i - mean(e))^k / n``, as
    ``tseries::jarque.bera.test`` computes them; b2 is also the kappa of
    :func:`null_sums`. The residuals are first divided by a power of two
    near their largest magnitude (exact, and the ratios are invariant) so
    fourth powers neither overflow nor underflow.
    """
    values = binary_scaled(residuals)
    centred = values - values.mean()
    squared = centred * centred
    m2 = float(np.mean(squared))
    m3 = float(np.mean(squared * centred))
    m4 = float(np.mean(squared * squared))
    return m3 / m2**1.5, m4 / (m2 * m2)
