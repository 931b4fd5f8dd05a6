"""``check_streaming``: the battery in two passes over a file or a Dask DataFrame."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from ..version import __version__
from ..errors import ConfigurationError, DataError
from ..checks.battery import EXACT_ROWS, kept_positions, positions_between
from ..options import Options
from ..thresholds import Thresholds
from .accumulate import FitStatistics
from .fit import StreamedFit, solve
from .layout import SCREEN_ROWS, Layout, build_layout
from .parallel import MAX_WORKERS, alongside, available_cores, in_order, one_blas_thread
from .residuals import chunk_statistics, new_statistics
from .sources import first_chunk, is_dask, iterate_chunks, source_columns, with_read_options

__all__ = ["check_streaming", "CHUNK_ROWS", "EXACT_ROWS", "MAX_WORKERS"]

#: Rows per chunk by default: with two workers, 50,000 rows ran as fast as
#: 100,000 at 20 predictors and faster at 50 (less of each chunk's work
#: falls out of the cache), and the chunks in flight then take about the
#: memory one worker's 100,000 rows did (benchmarks/README.md).
CHUNK_ROWS = 50_000


# EXACT_ROWS (imported from olscheck.checks.battery): up to this many rows the tests that read the whole
# residual sequence use every row; beyond, a seeded random sample of this many rows in row order, in memory
# and streamed alike.


def check_streaming(
    source: Any,
    target: str | None = None,
    predictors: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    intercept: bool = True,
    order_by: str | None = None,
    alpha: float = 0.05,
    chunk_rows: int | None = None,
    workers: int | None = None,
    thresholds: Thresholds | Mapping[str, Any] | None = None,
    exact_rows: int = EXACT_ROWS,
    seed: int = 0,
    durbin_watson_exact: bool | None = None,
    breusch_godfrey_order: int = 1,
    progress=None,
    probe: bool = False,
    groups: str | None = None,
    exclude: Sequence[str] | None = None,
    read: Any = None,
):
    """Fit the linear model and run the battery in two passes over chunks of rows.

    Memory is bounded by ``chunk_rows`` (and ``exact_rows`` rows kept whole),
    not by the size of the data; the numbers are those of
    :func:`olscheck.check` on the same data in a DataFrame (to about 1e-12
    relative on ordinary data; the tests require 1e-9).

    Parameters
    ----------
    source : path or DataFrame or dask DataFrame
        A Parquet file (read by pyarrow batch by batch, only the used
        columns), a CSV/TSV file (pandas ``chunksize``), a pandas DataFrame
        (sliced into chunks), or a dask DataFrame (statistics computed
        partition by partition where the data lives, combined in partition
        order).
    target, predictors, categorical, intercept, alpha, thresholds, seed,
    durbin_watson_exact, breusch_godfrey_order
        As :func:`olscheck.check`.
    order_by : None
        Only the row order is supported when streaming (sorting needs every
        row); sort the file first. Passing a column raises.
    groups : None
        The grouped-errors test (``olscheck.check(..., groups=...)``) runs in
        memory only; passing a column raises.
    chunk_rows : int, optional
        Rows per chunk (default :data:`CHUNK_ROWS`).
    workers : int, optional
        Threads that work on chunks of a file at once, each with one BLAS
        thread (default: the cores available to the process, at most
        :data:`MAX_WORKERS`). Memory grows with ``workers + 1`` chunks in
        flight; the result does not depend on it (chunks are merged in row
        order). A Dask source runs its partitions on Dask's own workers.
    exact_rows : int
        Tests that need the whole residual sequence use every row when the
        data has at most this many rows, else a simple random sample of
        this many rows drawn with ``seed`` and kept in row order (the
        sample a reservoir over the stream would give; the plots use these
        rows too); their ``details["computed_on"]`` says so.

    Returns
    -------
    Report
        ``report.model.residuals``/``fitted``/``leverage`` hold the rows kept
        whole (all rows up to ``exact_rows``); ``report.influence`` keeps the
        rows with the largest Cook's distances, with counts and maxima over
        all rows. Transforms are not tried.
    probe : bool
        Run the out-of-sample non-linear probe (:func:`olscheck.verdict.probe.probe_fit`)
        on the rows kept whole: every row up to ``exact_rows`` (then it is the
        in-memory probe exactly), else the random sample, refitted.
        :func:`olscheck.check` passes its own ``probe`` (default True).

    Notes
    -----
    Passes: (0) the categorical columns only, for their levels (Parquet and
    CSV read just those columns; Dask computes ``unique`` per column); (1) a
    TSQR of ``[1, predictors, y]`` (all indicator columns of each factor);
    (2) residuals and every statistic of the battery
    (:mod:`olscheck.engine.residuals`). Column kinds are decided from the
    first chunk as :func:`olscheck.inputs.prepare.prepare` decides them for the whole
    column; the shifts of pass 1 are the first chunk's means.
    """
    options = Options.of(alpha=alpha, thresholds=thresholds, intercept=intercept, probe=probe, seed=seed,
                         durbin_watson_exact=durbin_watson_exact, breusch_godfrey_order=breusch_godfrey_order,
                         chunk_rows=chunk_rows, workers=workers, exact_rows=exact_rows, progress=progress)
    return streamed_report(source, target, predictors, categorical=categorical, order_by=order_by, groups=groups,
                           options=options, exclude=exclude, read=read)


def streamed_report(source: Any, target: str | None, predictors: Sequence[str] | None, *,
                    categorical: Sequence[str] | None, order_by: str | None, groups: str | None, options: Options,
                    exclude: Sequence[str] | None = None, read: Any = None):
    """:func:`check_streaming` with its options validated (:class:`olscheck.options.Options`)."""
    step, settings, seed = options.step, options.thresholds, options.seed
    if order_by is not None:
        raise ConfigurationError(
            "order_by is not supported when streaming: the order-dependent tests use the row order of the file. "
            "Sort the data by that column first (or pass a DataFrame to olscheck.check)."
        )
    if groups is not None:
        raise ConfigurationError(
            f"groups={groups!r} is not supported when streaming: the grouped-errors test needs every row's group "
            "at once. Use streaming=False (or leave streaming at its default, which reads the data into memory "
            "when groups is given)."
        )
    chunk_rows = options.chunk_rows if options.chunk_rows is not None else CHUNK_ROWS
    workers = options.workers if options.workers is not None else available_cores()
    exact_rows = options.exact_rows if options.exact_rows is not None else EXACT_ROWS
    order = options.breusch_godfrey_order
    intercept = options.intercept
    durbin_watson_exact = options.durbin_watson_exact

    source = with_read_options(source, read)
    target_name, predictor_names, declared = _resolve_columns(source, target, predictors, categorical)
    used = [target_name, *predictor_names]
    dask_source = is_dask(source)

    step("reading the levels of the categorical columns")
    first = _first(source, source_columns(source), max(chunk_rows, SCREEN_ROWS))
    layout = build_layout(first, target_name, predictor_names, declared, bool(intercept),
                          lambda columns, dtypes: _level_chunks(source, columns, chunk_rows, dtypes),
                          explicit=predictors is not None, exclude=exclude, read=read)
    used = [layout.target, *layout.predictors]  # the passes read only the columns the screening kept

    step("pass 1: accumulating the fit")
    chunk_counts: list[int] = []  # complete rows per chunk: where each chunk of pass 2 starts
    if dask_source:
        statistics = _dask_pass1(source, used, layout, chunk_rows)
    else:
        def fit_statistics(chunk) -> FitStatistics:
            piece = FitStatistics(layout.width)
            piece.add(layout.rows(chunk))
            return piece

        with one_blas_thread():
            statistics = FitStatistics(layout.width)
            for piece in in_order(fit_statistics, iterate_chunks(source, used, chunk_rows, layout.csv_dtypes),
                                   workers):
                chunk_counts.append(piece.n)
                statistics = statistics.merge(piece)
    fit = solve(layout, statistics)

    n = fit.n
    from ..numerics.covariance import newey_west_lags

    nw_lags = newey_west_lags(n)
    split = n // 2
    complete = n <= exact_rows
    # the rows kept whole: all of them, or a seeded simple random sample of
    # exact_rows positions in row order. n is known after pass 1, so the
    # sample is drawn outright; it has the distribution a reservoir sample
    # over the stream would have, and chunking cannot change it.
    sample_positions = positions_between(kept_positions(n, exact_rows, seed))

    step("pass 2: residual statistics")
    if dask_source:
        accumulated = _dask_pass2(source, used, layout, fit, chunk_rows, statistics.partition_counts, order, nw_lags,
                                  split, sample_positions)
    else:
        starts = np.concatenate([[0], np.cumsum(chunk_counts, dtype=np.int64)]).tolist()

        def residual_statistics(item):
            index, chunk = item
            rows = layout.rows(chunk)
            if index >= len(chunk_counts) or rows.raw.shape[0] != chunk_counts[index]:
                raise _changed_between_passes(source)
            return chunk_statistics(fit, rows, starts[index], order, nw_lags, split, sample_positions)

        with one_blas_thread():
            accumulated = new_statistics(fit, order, nw_lags)
            chunks = enumerate(iterate_chunks(source, used, chunk_rows, layout.csv_dtypes))
            merged = 0
            for piece in in_order(residual_statistics, chunks, workers):
                accumulated = accumulated.merge(piece)
                merged += 1
            if merged != len(chunk_counts):
                raise _changed_between_passes(source)

    step("running the assumption tests")
    with one_blas_thread():
        return _report(fit, accumulated, settings, complete=complete, seed=seed,
                       durbin_watson_exact=durbin_watson_exact, order=order, intercept=intercept,
                       chunk_rows=int(chunk_rows), exact_rows=int(exact_rows), options=options)


def _changed_between_passes(source) -> DataError:
    name = f"'{source}'" if isinstance(source, (str, os.PathLike)) else "the data"
    return DataError(f"{name} changed between the two passes over it (pass 2 read other rows than pass 1); run "
                     "the check again once nothing is writing to it.")


# --------------------------------------------------------------------------- columns and sources
def _resolve_columns(source, target, predictors, categorical):
    from ..inputs.prepare import column_key

    names = source_columns(source)
    frame = pd.DataFrame(columns=names)
    if target is None:
        raise DataError("name the target column (target='y'); formulas are not supported when streaming.")
    target_key = str(column_key(frame, target, "target"))
    if predictors is None:
        predictor_keys = [c for c in names if c != target_key]
    else:
        if isinstance(predictors, str):
            predictors = [predictors]
        predictor_keys = [str(column_key(frame, p, "predictor")) for p in predictors]
        if target_key in predictor_keys:
            raise DataError(f"the target {target_key!r} is also listed as a predictor; remove it from predictors.")
        repeated = sorted({p for p in predictor_keys if predictor_keys.count(p) > 1})
        if repeated:
            raise DataError(f"predictor(s) {', '.join(map(repr, repeated))} are listed more than once.")
    if isinstance(categorical, str):
        categorical = [categorical]
    declared = [str(column_key(frame, c, "categorical")) for c in (categorical or [])]
    for key in declared:
        if key not in predictor_keys:
            raise DataError(f"categorical column {key!r} is not among the predictors; add it to predictors.")
    return target_key, predictor_keys, declared


def _first(source, used, chunk_rows) -> pd.DataFrame:
    if is_dask(source):
        parts, rows = [], 0
        for index in range(source.npartitions):  # partitions until chunk_rows rows (the screening reads them)
            part = source.get_partition(index)[used].compute()
            parts.append(part)
            rows += len(part)
            if rows >= chunk_rows:
                break
        return pd.concat(parts).iloc[:chunk_rows] if rows else source._meta[used]
    return first_chunk(source, used, chunk_rows)


def _level_chunks(source, columns, chunk_rows, dtypes=None):
    if is_dask(source):
        for name in columns:
            values = source[name].dropna().unique().compute()
            yield pd.DataFrame({name: pd.Series(np.asarray(values), dtype=object)})
        return
    yield from iterate_chunks(source, columns, chunk_rows, dtypes)


# --------------------------------------------------------------------------- dask
def _partition_pass1(frame: pd.DataFrame, layout: Layout, chunk_rows: int) -> FitStatistics:
    statistics = FitStatistics(layout.width)
    for start in range(0, len(frame), chunk_rows):
        statistics.add(layout.rows(frame.iloc[start:start + chunk_rows]))
    statistics.partition_counts = [statistics.n]
    return statistics


def _dask_pass1(source, used, layout, chunk_rows) -> FitStatistics:
    import dask

    parts = source[used].to_delayed()
    pieces = dask.compute(*[dask.delayed(_partition_pass1)(part, layout, chunk_rows) for part in parts])
    total = pieces[0]
    for piece in pieces[1:]:
        total = total.merge(piece)
    return total


def _partition_pass2(frame, layout, fit, chunk_rows, start, order, nw_lags, split, sample_positions):
    total = new_statistics(fit, order, nw_lags)
    position = start
    for begin in range(0, len(frame), chunk_rows):
        rows = layout.rows(frame.iloc[begin:begin + chunk_rows])
        total = total.merge(chunk_statistics(fit, rows, position, order, nw_lags, split, sample_positions))
        position += rows.raw.shape[0]
    return total


def _dask_pass2(source, used, layout, fit, chunk_rows, counts, order, nw_lags, split, sample_positions):
    import dask

    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(int)
    parts = source[used].to_delayed()
    pieces = dask.compute(*[
        dask.delayed(_partition_pass2)(part, layout, fit, chunk_rows, int(start), order, nw_lags, split,
                                       sample_positions)
        for part, start in zip(parts, starts)
    ])
    total = pieces[0]
    for piece in pieces[1:]:
        total = total.merge(piece)
    return total


# --------------------------------------------------------------------------- the report
def _sample_design(fit: StreamedFit, sample_rows: dict, categorical: tuple[str, ...]):
    from ..model.design import Design

    raw = sample_rows["raw"]
    layout = fit.layout
    return Design(
        # in working units, as the in-memory design keeps its target (the sample's fit reports on its own scale)
        y=raw[:, layout.y_column].copy(),
        response_scale=layout.response_scale,
        x=raw[:, fit.accumulated].copy(),
        column_names=fit.column_names,
        terms=fit.terms,
        has_intercept=fit.has_intercept,
        target=layout.target,
        predictors=layout.predictors,
        categorical=categorical,
        n_rows=fit.n_rows,
        n_dropped=fit.n_dropped,
        order_note="Order-dependent tests use the rows in the order given (no order_by).",
        row_index=pd.Index(sample_rows["labels"]),
        notes=fit.notes,
    )


def _report(fit: StreamedFit, accumulated, settings, *, complete, seed, durbin_watson_exact, order,
            intercept, chunk_rows, exact_rows, options: Options):
    from ..checks import influence
    from ..checks.accumulated import battery
    from ..checks.collinearity import summary_from_factor
    from ..model.fit import fit as fit_model
    from ..model.fit import matrix_condition_number
    from ..pipeline import assemble, start_probe
    from ..report.report import DataSummary
    from ..verdict.decide import ModelFacts, two_values
    from ..verdict.remedies import FormulaParts

    layout = fit.layout
    categorical = tuple(n for n in layout.predictors if layout.kinds[n] == "categorical")
    sample_rows = None
    if accumulated.sample:
        pieces = accumulated.sample
        sample_rows = {key: np.concatenate([np.asarray(p[key]) for p in pieces]) for key in
                       ("positions", "raw", "basis", "residuals", "leverage")}
        sample_rows["labels"] = pd.Index(np.concatenate([np.asarray(p["labels"]) for p in pieces]))
    sample_fit = None
    sample_note = None
    if sample_rows is not None and sample_rows["raw"].shape[0] > fit.rank + 1:
        try:
            sample_fit = fit_model(_sample_design(fit, sample_rows, categorical))
        except Exception:  # a sample can be degenerate (e.g. a constant target in it); then the tests say so
            sample_fit = None
        if not complete:
            sample_note = (f"computed on a random sample of {sample_rows['raw'].shape[0]} of {fit.n} rows "
                           f"(seed {seed}), in row order, refitted")
    kept_upper = fit.upper[:, fit.kept]  # orthogonally equivalent to the kept design columns
    collinearity = summary_from_factor(kept_upper, fit.kept_terms, fit.kept_names, fit.has_intercept,
                                       matrix_condition_number(kept_upper) if fit.rank else None, settings)
    formula = FormulaParts(target=layout.target, predictors=tuple(layout.predictors), categorical=categorical,
                           terms=tuple(fit.terms), has_intercept=fit.has_intercept, order_by=None)
    facts = ModelFacts(formula=formula, aliased=tuple(fit.aliased), notes=tuple(fit.notes), n=int(fit.n),
                       positive_target=bool(fit.y_min > 0), constant=fit.constant_aliased,
                       binary_target=two_values(fit.target_values, layout.response_scale))
    notes = list(fit.notes)
    if not complete:
        notes.append(
            f"Streamed {fit.n} rows: tests that read the whole residual sequence and the plotted residuals use a "
            f"seeded random sample of {0 if sample_rows is None else sample_rows['raw'].shape[0]} rows, in row "
            "order."
        )
    summary = DataSummary(
        target=layout.target, predictors=layout.predictors, categorical=categorical, n_rows=fit.n_rows,
        n_used=fit.n, n_dropped=fit.n_dropped, order_by=None,
        order_note="Order-dependent tests use the rows in the order given (no order_by).",
        notes=tuple(notes), formula=None, columns=layout.column_decisions,
    )
    report_options = options.report_options(engine="streaming", chunk_rows=chunk_rows, exact_rows=exact_rows)
    # the probe of the rows kept whole runs beside the battery's whole-sequence tests and the plots
    with start_probe(sample_fit, options) as probe_started:
        # the robust comparison reads only the rows' fit: it runs beside the battery's whole-sequence tests
        robust_comparison = alongside(influence.robust_on_rows, sample_fit, sample_note, settings, int(seed))
        result = battery(fit, accumulated, settings, facts=facts, collinearity=collinearity, sample_fit=sample_fit,
                         sample_complete=complete, sample_note=sample_note, sample_rows=sample_rows,
                         durbin_watson_exact=durbin_watson_exact, order=order)
        tests = result.tests
        tests["robust_fit"], robust = robust_comparison.result()
        model = _model_summary(fit, result.rss, sample_rows, intercept)
        parts = dict(data=summary, model=model, collinearity=result.collinearity,
                     influence=replace(result.influence, robust=robust), options=MappingProxyType(report_options),
                     version=__version__, fit=fit, rows_fit=sample_fit)
        return assemble(parts, tests, rows_fit=sample_fit, rows_note=sample_note, robust=robust, facts=result.facts,
                        options=options, try_transforms=False, probe_started=probe_started)


def _model_summary(fit: StreamedFit, rss: float, sample_rows: dict | None, intercept: bool):
    """The model summary: coefficients and standard errors of the whole fit, residuals of the rows kept whole."""
    from ..pipeline import model_summary_from

    layout = fit.layout
    # the engine works on the target divided by a power of two (1 for ordinary data): the summary is on its scale
    scale = layout.response_scale
    df_resid = fit.df_resid
    sigma2 = rss / df_resid if df_resid > 0 else math.nan
    row_norms = np.sqrt(np.sum(fit.factor * fit.factor, axis=1))
    std_errors = (row_norms * np.sqrt(np.longdouble(sigma2)) * np.longdouble(scale)).astype(np.float64) \
        if df_resid > 0 else np.full(fit.rank, np.nan)
    names = list(fit.column_names)
    coefficients = np.full(len(names), np.nan)
    coefficients[fit.kept] = (np.asarray(fit.coefficients, dtype=np.longdouble) * np.longdouble(scale)).astype(
        np.float64)
    errors = np.full(len(names), np.nan)
    errors[fit.kept] = std_errors
    tss = fit.model_ss + rss
    r_squared = float(fit.model_ss / tss) if tss > 0 else None
    adj = None
    if r_squared is not None and df_resid > 0:
        adj = float(1.0 - (1.0 - r_squared) * (fit.n - (1 if intercept else 0)) / df_resid)
    df_model = fit.rank - (1 if intercept else 0)
    f_statistic = (float((fit.model_ss / df_model) / (rss / df_resid))
                   if df_model > 0 and df_resid > 0 and rss > 0 else None)
    if sample_rows is not None:
        index = sample_rows["labels"]
        residuals = sample_rows["residuals"] * scale
        fitted_values = sample_rows["raw"][:, layout.y_column] * scale - residuals
        leverage = sample_rows["leverage"]
    else:
        index, residuals, fitted_values, leverage = pd.RangeIndex(0), np.zeros(0), np.zeros(0), np.zeros(0)
    return model_summary_from(
        coefficients=pd.Series(coefficients, index=names, name="coefficient"),
        std_errors=pd.Series(errors, index=names, name="std_error"), df_resid=df_resid,
        residuals=pd.Series(residuals, index=index, name="residual"),
        fitted=pd.Series(fitted_values, index=index, name="fitted"),
        leverage=pd.Series(leverage, index=index, name="leverage"),
        sigma=math.sqrt(sigma2) * scale if df_resid > 0 else None, r_squared=r_squared, adj_r_squared=adj,
        f_statistic=f_statistic, f_df=(df_model, df_resid), rank=fit.rank, aliased=fit.aliased,
        intercept=fit.has_intercept, target=layout.target,
    )
