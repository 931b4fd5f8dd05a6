"""The battery on an in-memory fit: the same statistics, the same code, as the streamed passes.

Every statistic that can be accumulated over rows (Breusch-Pagan in both
forms, White's special form, Goldfeld-Quandt, Cook-Weisberg, the
Durbin-Watson normal approximation, Breusch-Godfrey, Jarque-Bera, RESET,
the HC3 and Newey-West standard-error changes, the influence counts) is
computed once, by :func:`olscheck.engine.residuals.row_statistics` over
blocks of consecutive rows, and turned into results by
:func:`olscheck.checks.accumulated.battery`. The streaming engine feeds both
from chunks of a file; this module feeds them from the rows of an
in-memory :class:`~olscheck.model.fit.LinearFit`, whose residuals are
already computed (nothing is refitted) and whose orthonormal basis ``Q`` is
read a block of rows at a time (:meth:`~olscheck.model.fit.LinearFit.q_rows`:
a view of Q, or rows made from the design rows when a large fit did not
form Q).

The tests that read the whole residual sequence (Harvey-Collier, Rainbow,
the quadratic expansion, Shapiro-Wilk, the omnibus test, the exact
Durbin-Watson p-value, White's full form) run on every row up to
:data:`EXACT_ROWS` rows and, beyond, on the seeded random sample of
``EXACT_ROWS`` rows kept in row order that the streaming engine keeps:
the two paths give the same report.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..engine.accumulate import ResidualStatistics
from ..engine.parallel import alongside, available_cores, in_order
from ..engine.residuals import AUX, RowBlock, new_statistics, row_statistics
from ..model.fit import LinearFit
from ..numerics.qr import CACHE_ROWS
from ..thresholds import Thresholds

if TYPE_CHECKING:
    from ..report.result import TestResult

__all__ = ["EXACT_ROWS", "BLOCK_ROWS", "InMemoryModel", "kept_positions", "residual_statistics", "run", "results",
           "result", "influence_summary"]

#: Up to this many rows the tests that read the whole residual sequence use
#: every row; beyond, a seeded random sample of this many rows in row order
#: (in memory and streamed alike). At 50,000 these tests and the robust
#: comparison took a third of a 10⁶ x 20 check; at 20,000 the verdict
#: benchmark's 134 checks at n = 100,000 reached the same verdicts (a few
#: supporting tests moved between ok and note), and a test on 20,000 rows
#: still detects any departure large enough to matter (benchmarks/README.md).
EXACT_ROWS = 20_000

#: Rows per block of the residual statistics: the auxiliary block of a
#: block is BLOCK_ROWS x (slopes + 8) floats, small enough to stay in cache
#: (:data:`olscheck.numerics.qr.CACHE_ROWS`, measured there).
BLOCK_ROWS = CACHE_ROWS


class InMemoryModel:
    """An in-memory :class:`~olscheck.model.fit.LinearFit` seen through the fitted-model interface of the battery.

    The interface (also provided by :class:`olscheck.engine.fit.StreamedFit`):
    sizes (``n``, ``rank``, ``df_resid``, ``slopes``, ``has_intercept``),
    the unit coefficient directions, the residual sum of squares
    (``rss_pass1``), the scales that standardise the fitted values for the
    auxiliary regressions (``fitted_rms``, ``fitted_mean``, ``reset_rms``),
    the residuals' mean without an intercept (``residual_shift``), the model
    and raw sums of squares, and the names of the kept and aliased columns.
    """

    #: Every row's influence measures are kept (the report and the plots list them).
    keep_rows = True

    def __init__(self, fit: LinearFit):
        self.linear = fit
        self.n = fit.n
        self.rank = fit.rank
        self.df_resid = fit.df_resid
        self.has_intercept = fit.has_intercept
        self.slopes = np.arange(1, self.rank) if self.has_intercept else np.arange(self.rank)
        self.directions = fit.coefficient_directions
        self.rss_pass1 = float(fit.rss)
        self.model_ss = float(fit.tss - fit.rss)
        y = np.asarray(fit.y, dtype=float)
        self.y_squares = float(y @ y)
        self.kept_names = fit.column_names
        self.row_index = fit.design.row_index if fit.design.row_index is not None else pd.RangeIndex(fit.n)
        self.aliased = fit.aliased
        n = max(self.n, 1)
        fitted = fit.fitted
        if self.has_intercept:
            # the fitted values about their mean: the slope part B_s a_s of the streamed fit
            self.fitted_centre = float(np.mean(fitted)) if fitted.size else 0.0
            self.fitted_mean = 0.0
            self.fitted_rms = math.sqrt(self.model_ss / n) or 1.0
            self.reset_rms = self.fitted_rms
            self.residual_shift = 0.0
        else:
            self.fitted_centre = 0.0
            mean = float(np.mean(fitted)) if fitted.size else 0.0
            mean_square = float(fitted @ fitted) / n
            self.fitted_mean = mean
            self.fitted_rms = math.sqrt(max(mean_square - mean * mean, 0.0)) or 1.0
            self.reset_rms = math.sqrt(mean_square) or 1.0
            self.residual_shift = float(np.mean(fit.residuals)) if fit.residuals.size else 0.0


def kept_positions(n: int, exact_rows: int, seed: int) -> np.ndarray | None:
    """The rows the whole-sequence tests read: None for every row (n <= exact_rows), else a seeded sample.

    A simple random sample of ``exact_rows`` positions, sorted into row
    order, drawn with ``numpy.random.default_rng(seed)``: the sample a
    reservoir over a stream would give, and the same in memory and streamed.
    """
    if n <= exact_rows:
        return None
    return np.sort(np.random.default_rng(seed).choice(n, size=max(int(exact_rows), 0), replace=False))


def positions_between(kept: np.ndarray | None):
    """``(low, high) -> positions`` of the kept rows in ``[low, high)`` (every row when ``kept`` is None)."""
    def between(low: int, high: int) -> np.ndarray:
        if kept is None:
            return np.arange(low, high)
        return kept[np.searchsorted(kept, low):np.searchsorted(kept, high)]

    return between


def residual_statistics(model: InMemoryModel, order: int, nw_lags: int, split: int, sample_positions,
                        block_rows: int = BLOCK_ROWS, workers: int | None = None) -> ResidualStatistics:
    """The battery's residual statistics of an in-memory fit, block by block in row order.

    The auxiliary regressions need a basis of the slope columns: the columns
    of ``Q`` after the first are one (the fitting basis puts the intercept
    first, so ``Q``'s first column is constant and the others span the
    centred slopes; without an intercept every column of ``Q`` is a slope).
    An orthonormal basis is as well conditioned as a basis can be, whatever
    the design (polynomial groups included).
    """
    fit = model.linear
    n = model.n
    statistics = new_statistics(model, order, nw_lags)
    slopes = model.slopes.size
    first_slope = 1 if model.has_intercept else 0
    width = AUX(slopes).width
    residuals = fit.residuals
    fitted = fit.fitted
    labels = model.row_index

    def block(start: int) -> ResidualStatistics:
        stop = min(n, start + block_rows)
        auxiliary = np.empty((stop - start, width), order="F")
        auxiliary[:, 0] = 1.0
        q = fit.q_rows(slice(start, stop))  # a view of Q, or made from the basis rows when the fit did not form Q
        auxiliary[:, 1:1 + slopes] = q[:, first_slope:first_slope + slopes]
        fitted_part = fitted[start:stop] - model.fitted_centre
        rows = RowBlock(auxiliary, residuals[start:stop], q[:, :model.rank], fitted_part, labels[start:stop])
        return row_statistics(model, rows, start, order, nw_lags, split, sample_positions)

    # blocks on the cores' threads (the heavy work releases the GIL), merged in row order
    for piece in in_order(block, range(0, n, block_rows), workers or available_cores()):
        statistics = statistics.merge(piece)
    return statistics


def run(fit: LinearFit, thresholds: Thresholds, *, durbin_watson_exact: bool | None = None,
        breusch_godfrey_order: int = 1, seed: int = 0, exact_rows: int = EXACT_ROWS,
        durbin_watson_exact_max_n: int = 3000):
    """Every accumulated test of the battery on an in-memory fit (:class:`olscheck.checks.accumulated.Battery`).

    Parameters
    ----------
    fit : LinearFit
    thresholds : Thresholds
    durbin_watson_exact : bool or None
        As :func:`olscheck.check`.
    breusch_godfrey_order : int
    durbin_watson_exact_max_n : int
        Largest n for the exact Durbin-Watson distribution when it is
        asked for (:func:`olscheck.checks.autocorrelation.durbin_watson`).
    seed : int
        Seed of the sample of rows the whole-sequence tests read beyond
        ``exact_rows`` rows.
    exact_rows : int

    Returns
    -------
    olscheck.checks.accumulated.Battery
        Its ``tests`` hold the heteroskedasticity, autocorrelation,
        normality, linearity, collinearity and influence results; its
        ``influence`` summary holds every row's measures. The robust
        comparison is separate (:func:`olscheck.checks.influence.robust_on_rows`).
    """
    from ..numerics.covariance import newey_west_lags
    from .accumulated import battery

    from ..options import integer_argument

    # the check's own validators (olscheck.options), for callers that come here directly
    breusch_godfrey_order = integer_argument("breusch_godfrey_order", breusch_godfrey_order, 1)
    durbin_watson_exact_max_n = integer_argument("exact_max_n", durbin_watson_exact_max_n, 0)
    model = InMemoryModel(fit)
    n = model.n
    kept = kept_positions(n, exact_rows, seed)
    # the rows kept whole and the tests that read every one of their residuals need nothing the passes over
    # the rows compute: on a thread beside them (their values do not depend on the overlap)
    rows_kept_whole = alongside(_rows_kept_whole, fit, kept, seed, thresholds)
    statistics = residual_statistics(model, int(breusch_godfrey_order), newey_west_lags(n), n // 2,
                                     positions_between(kept))
    sample_rows = None
    if statistics.sample:
        pieces = statistics.sample
        sample_rows = {key: np.concatenate([np.asarray(piece[key]) for piece in pieces])
                       for key in ("positions", "basis", "residuals", "leverage")}
    sample_fit, sample_note = rows_kept_whole.result()
    from ..verdict.decide import ModelFacts
    from .collinearity import summarize

    return battery(model, statistics, thresholds, facts=ModelFacts.of_fit(fit),
                   collinearity=summarize(fit, thresholds), sample_fit=sample_fit,
                   sample_complete=kept is None, sample_note=sample_note, sample_rows=sample_rows,
                   durbin_watson_exact=durbin_watson_exact, order=int(breusch_godfrey_order),
                   durbin_watson_exact_max_n=int(durbin_watson_exact_max_n),
                   sample=None if kept is None else (kept, sample_fit, sample_note))


def _rows_kept_whole(fit: LinearFit, kept: np.ndarray | None, seed: int, thresholds: Thresholds):
    """``(rows_fit, note)``: the fit of the rows the whole-sequence tests read, with those tests computed on it.

    Every row (the fit itself, note None) up to ``exact_rows``, else the
    seeded sample ``kept``, refitted (None when the sample cannot be fitted:
    the tests then say so). The tests' results are kept on that fit
    (:func:`olscheck.checks.accumulated.whole_sequence_results`), where the
    battery reads them.
    """
    from ..model.fit import fit as fit_model
    from .accumulated import whole_sequence_results

    if kept is None:
        rows_fit, note = fit, None
    else:
        try:
            rows_fit = fit_model(fit.design.rows(kept))
        except Exception:  # a sample can be degenerate (e.g. a constant target in it); then the tests say so
            rows_fit = None
        note = f"computed on a random sample of {kept.size} of {fit.n} rows (seed {seed}), in row order, refitted"
    if rows_fit is not None:
        whole_sequence_results(rows_fit, thresholds, fit.n)
    return rows_fit, note


def results(fit: LinearFit, thresholds: Thresholds, **options) -> dict:
    """``run(fit, thresholds, **options).tests``, computed once per fit and settings.

    :func:`result` reads one of them (``result(fit, "breusch_pagan")``):
    every accumulated statistic has one implementation, this battery's.
    """
    key = ("battery", thresholds, tuple(sorted(options.items())))
    return fit.computed_once(key, lambda: dict(run(fit, thresholds, **options).tests))


def result(fit: LinearFit, name: str, thresholds: Thresholds | None = None, **options) -> "TestResult":
    """The battery's result ``name`` (``"breusch_pagan"``, ``"durbin_watson"``, ...) on an in-memory fit.

    ``options`` are :func:`run`'s (``durbin_watson_exact``,
    ``breusch_godfrey_order``, ``durbin_watson_exact_max_n``, ``seed``).
    """
    from ..thresholds import DEFAULT_THRESHOLDS

    return results(fit, thresholds or DEFAULT_THRESHOLDS, **options)[name]


def influence_summary(fit: LinearFit, thresholds: Thresholds | None = None, *, seed: int = 0):
    """Influence measures of every row, with the ``influence``, ``outlier_test`` and ``robust_fit`` results.

    Matches R's ``cooks.distance``, ``hatvalues``, ``rstudent`` and
    ``car::outlierTest`` (:mod:`olscheck.checks.influence`); the robust
    comparison is :func:`olscheck.checks.influence.robust_on_rows`.
    """
    from dataclasses import replace
    from types import MappingProxyType

    from ..thresholds import DEFAULT_THRESHOLDS
    from .influence import robust_on_rows

    thresholds = thresholds or DEFAULT_THRESHOLDS
    summary = run(fit, thresholds, seed=seed).influence
    robust_result, robust = robust_on_rows(fit, None, thresholds, seed)
    return replace(summary, results=MappingProxyType({**summary.results, "robust_fit": robust_result}),
                   robust=robust)
