"""The one assembly of a report: battery results -> probe, rechecks, transforms -> verdict -> Report.

Both ways of computing the battery end here: in memory
(:func:`olscheck.check`) and streamed (:func:`olscheck.engine.check_streaming`)
each fit the model, start the probe of *the rows kept whole* (every row in
memory, else those the streaming engine kept) with :func:`start_probe` (in a
child process beside the battery where it can), run the accumulated battery
(:func:`olscheck.checks.accumulated.battery`) and call
:func:`model_summary_from` for the coefficient table, then :func:`assemble`:
the plots drawn before the verdict when asked, :func:`conclude`, the Report.
So the probe, the outlier rechecks, the transforms, the non-linearity
evidence, the verdict and the report are decided by one piece of code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["Conclusion", "conclude", "start_probe", "assemble", "recheck_without_outliers", "model_summary",
           "model_summary_from", "NONLINEARITY_EVIDENCE"]

#: The tests whose p-values and effects make up the report's ``nonlinearity.evidence``.
NONLINEARITY_EVIDENCE = ("reset", "harvey_collier", "rainbow", "quadratic", "nonlinear_probe")


@dataclass(frozen=True)
class Conclusion:
    """What :func:`conclude` adds to the battery: the final tests, the non-linearity section and the verdict."""

    tests: dict
    nonlinearity: dict
    verdict: Any
    transforms: Any


def start_probe(rows_fit, options):
    """The probe of ``rows_fit``, started beside what the caller computes next; a context manager.

    It needs only the fit and is mostly Python (it holds the GIL), so a
    forked child process runs it where that is safe
    (:func:`olscheck.engine.parallel.in_child_process`; in turn otherwise,
    when :func:`conclude` asks for it). When the caller draws the plots
    meanwhile (``options.plots``), the child's folds take one core and leave
    it the other. Yields None when there is no probe to start (:func:`conclude`
    then runs it, or there is none).

    Only the first probe of a process goes to a child: the child imports
    scikit-learn (0.3-0.5 s) and this process does not, so a process that
    checks data set after data set (a script, the verdict benchmark's
    workers) would import it again for every check; from the second probe
    on it runs in turn, here, with the learners imported once. The run that
    gains (a CLI call, a pipeline step, a notebook's first check where no
    other thread runs) checks once.
    """
    global _PROBE_STARTED_BEFORE
    from contextlib import nullcontext
    from functools import partial

    if not options.probe or rows_fit is None or _PROBE_STARTED_BEFORE:
        return nullcontext(None)  # nothing to start: conclude runs the probe, if any
    from .engine.parallel import in_child_process
    from .verdict.probe import probe_fit

    _PROBE_STARTED_BEFORE = True
    seed = int(options.seed)
    return in_child_process(probe_fit, rows_fit, seed=seed, workers=1 if options.plots else None,
                            in_turn=partial(probe_fit, rows_fit, seed=seed))


#: Whether this process has started a probe (:func:`start_probe` forks for the first one only).
_PROBE_STARTED_BEFORE = False


def assemble(parts: Mapping[str, Any], tests: Mapping[str, Any], *, rows_fit, rows_note: str | None, robust,
             facts, options, try_transforms: bool, probe_started=None, sample=None) -> Any:
    """The Report of both paths: the plots before the verdict when asked, :func:`conclude`, the Report.

    ``parts`` are the Report's fields the battery decided (data, model,
    collinearity, influence, options, version, fit, rows_fit). With
    ``options.plots`` every plot but the probe's is drawn first, from a
    draft of the report without its verdict (those plots read only what the
    battery computed), while a probe started by :func:`start_probe` runs;
    the probe's plot is added to them once the verdict is in, and all are
    kept with the report (:func:`olscheck.report.render.plots.render_plots`).
    ``sample`` is :func:`conclude`'s.
    """
    from types import MappingProxyType

    from .report.report import Report

    drawn = None
    if options.plots and parts.get("fit") is not None:
        from .report.render.plots import plots_before_verdict

        options.step("drawing the plots")
        draft = Report(tests=MappingProxyType(dict(tests)), nonlinearity=MappingProxyType({}), verdict=None, **parts)
        drawn = plots_before_verdict(draft, int(options.seed))
    conclusion = conclude(tests, rows_fit=rows_fit, rows_note=rows_note, robust=robust, model=parts["model"],
                          facts=facts, settings=options.thresholds, seed=int(options.seed), probe=options.probe,
                          try_transforms=try_transforms, step=options.step, probe_started=probe_started,
                          sample=sample)
    report = Report(tests=MappingProxyType(conclusion.tests), nonlinearity=MappingProxyType(conclusion.nonlinearity),
                    verdict=conclusion.verdict, **parts)
    if drawn is not None:
        from .report.render.plots import render_plots

        render_plots(report, int(options.seed), before_verdict=drawn)
    return report


def conclude(tests: Mapping[str, Any], *, rows_fit, rows_note: str | None, robust, model, facts, settings: Thresholds,
             seed: int, probe: bool, try_transforms: bool, step: Callable[[str], None],
             no_rows_reason: str = "no rows were kept whole to fit the learners on",
             probe_started=None, sample=None) -> Conclusion:
    """The probe, the rechecks without the robust fit's rejected rows, the transforms and the verdict.

    Parameters
    ----------
    tests : mapping
        The battery's results (influence and any grouped test included).
    rows_fit : LinearFit or None
        The model fitted to the rows kept whole: every row in memory, the
        streaming engine's rows (all up to ``exact_rows``, else its seeded
        sample, refitted); None when no rows could be fitted.
    rows_note : str or None
        How those rows were chosen when they are not every row (the
        ``computed_on`` note), else None.
    robust : olscheck.checks.influence.RobustFit or None
        The robust comparison's outcome; its rejected rows (positions in
        ``rows_fit``) are the ones the specification tests and the probe are
        judged again without (:func:`recheck_without_outliers`).
    model : ModelSummary
        For the collapsed equation.
    facts : olscheck.verdict.decide.ModelFacts
    settings, seed, probe
        As :func:`olscheck.check`.
    try_transforms : bool
        Try transforms of the target and predictors when the mean fails
        (:func:`olscheck.verdict.transforms.assess_transforms`, on ``rows_fit``).
    step : callable
        Progress callback.
    probe_started : object with ``result()``, optional
        The probe of ``rows_fit`` with ``seed``, already started by the
        caller (:func:`olscheck.engine.parallel.in_child_process`, beside the
        battery); its result is used instead of running the probe here.
    sample : (positions, fit, note), optional
        In memory beyond ``EXACT_ROWS`` rows: the seeded sample the
        whole-sequence tests read (positions in ``rows_fit``), refitted. The
        robust comparison and the probe draw the same rows, so the rows the
        robust fit rejects are rows of it, and the rechecks refit *it*
        without them, as the streamed path does: judged on the rows where
        the outliers were found. Refitting every row but those would leave
        every outlier outside the sample in, and cost a second battery over
        every row.
    """
    from .checks import linearity
    from .verdict.decide import data_findings, decide, materially_nonlinear

    out = dict(tests)
    probe_result = None
    probe_reason = "probe=False"
    if probe and rows_fit is not None:
        from .verdict.probe import probe_fit

        step("running the out-of-sample non-linear probe" + ("" if rows_note is None else " on the rows kept whole"))
        probe_result = probe_fit(rows_fit, seed=int(seed)) if probe_started is None else probe_started.result()
    elif probe:
        probe_reason = no_rows_reason
    out["nonlinear_probe"] = linearity.nonlinear_probe(probe_result, settings)
    if robust is not None and rows_fit is not None:
        # a specification test (or the probe) failing only through the rows a robust fit rejects is about them
        recheck_fit, rejected, computed_on = rows_fit, robust.rejected, rows_note or "every other row"
        if sample is not None:
            positions, sample_fit, sample_note = sample
            where = np.searchsorted(positions, rejected)
            drawn = where < positions.size
            if sample_fit is not None and drawn.all() and np.array_equal(positions[where[drawn]], rejected):
                recheck_fit, rejected, computed_on = sample_fit, where, sample_note
        out.update(recheck_without_outliers(out, recheck_fit, rejected, settings, computed_on=computed_on,
                                            probe_options={"seed": int(seed)}))
    transforms = None
    if try_transforms and rows_fit is not None and materially_nonlinear(out):
        from .verdict.transforms import assess_transforms

        step("trying transforms of the target and predictors")
        transforms = assess_transforms(rows_fit, settings, probe=bool(probe), probe_options={"seed": int(seed)})
    equation = model.equation()
    nonlinearity = {
        "evidence": {name: {"p_value": out[name].p_value, "effect": out[name].effect,
                            "severity": out[name].severity.value}
                     for name in NONLINEARITY_EVIDENCE if name in out},
        "probe": probe_result.to_dict() if probe_result is not None else {"computed": False, "reason": probe_reason},
        "transforms": None if transforms is None else transforms.to_dict(),
        "collapsed_equation": equation,
        "collapse_statement": ("Any linear-activation network, of any depth, trained to its optimum on this data is "
                               f"{equation}"),
    }
    verdict = decide(out, data_findings(facts), nonlinearity, settings, model=facts, transforms=transforms)
    return Conclusion(tests=out, nonlinearity=nonlinearity, verdict=verdict, transforms=transforms)


def model_summary_from(*, coefficients: pd.Series, std_errors: pd.Series, df_resid: int, residuals: pd.Series,
                       fitted: pd.Series, leverage: pd.Series, sigma: float | None, r_squared: float | None,
                       adj_r_squared: float | None, f_statistic: float | None, f_df: tuple[int, int], rank: int,
                       aliased: tuple[str, ...], intercept: bool, target: str):
    """The :class:`~olscheck.report.report.ModelSummary`: t values, two-sided p-values and the F p-value added.

    ``t = b / se`` and ``p = 2 P(T > |t|)`` on ``df_resid`` degrees of
    freedom, the F test's upper tail on ``f_df``: R's ``summary.lm``.
    """
    from scipy import stats

    from .report.report import ModelSummary

    with np.errstate(divide="ignore", invalid="ignore"):
        t_values = coefficients / std_errors
    if df_resid > 0:
        p_values = pd.Series(2 * stats.t.sf(np.abs(t_values.to_numpy()), df_resid), index=t_values.index)
    else:
        p_values = pd.Series(np.nan, index=t_values.index)
    df_model, df_denominator = f_df
    return ModelSummary(
        coefficients=coefficients, std_errors=std_errors, t_values=t_values.rename("t_value"),
        p_values=p_values.rename("p_value"), residuals=residuals, fitted=fitted, leverage=leverage, sigma=sigma,
        r_squared=r_squared, adj_r_squared=adj_r_squared, f_statistic=f_statistic,
        f_df=(int(df_model), int(df_denominator)),
        f_p_value=float(stats.f.sf(f_statistic, df_model, df_denominator)) if f_statistic is not None else None,
        df_resid=int(df_resid), rank=int(rank), aliased=tuple(aliased), intercept=bool(intercept), target=target,
    )


def model_summary(fitted):
    """The :class:`~olscheck.report.report.ModelSummary` of an in-memory :class:`~olscheck.model.fit.LinearFit`."""
    index = fitted.design.row_index if fitted.design.row_index is not None else pd.RangeIndex(fitted.n)
    scale = fitted.design.response_scale
    return model_summary_from(
        coefficients=fitted.coefficient_series(), std_errors=fitted.std_error_series(), df_resid=fitted.df_resid,
        residuals=pd.Series(fitted.residuals * scale, index=index, name="residual"),
        fitted=pd.Series(fitted.fitted * scale, index=index, name="fitted"),
        leverage=pd.Series(fitted.leverage, index=index, name="leverage"),
        sigma=None if fitted.sigma is None else fitted.sigma * scale, r_squared=fitted.r_squared,
        adj_r_squared=fitted.adj_r_squared, f_statistic=fitted.f_statistic, f_df=fitted.f_df, rank=fitted.rank,
        aliased=fitted.aliased, intercept=fitted.has_intercept, target=fitted.design.target,
    )


def recheck_without_outliers(tests: dict, fit, rejected: np.ndarray, thresholds: Thresholds = DEFAULT_THRESHOLDS,
                             computed_on: str = "every other row",
                             probe_options: dict | None = None) -> dict:
    """Every failing specification test of ``tests`` (and the probe, when it fails) judged again without ``rejected``.

    ``fit`` is the model the rows ``rejected`` (positions in it) belong to;
    returns the updated results (the others unchanged). Nothing is refitted
    when nothing fails or no row is rejected. A failing probe
    (``"nonlinear_probe"``) is run again on the refitted rows with
    ``probe_options`` (its seed): squared errors let a few gross outliers
    decide which learner wins a fold, so the failure stands only when the
    probe still fails without them.
    """
    from .checks.battery import results
    from .checks.linearity import (SPECIFICATION_TESTS, nonlinear_probe, probe_without_outliers, refit_without,
                                   without_outliers)
    from .report.report import Severity

    failing = [name for name in SPECIFICATION_TESTS if name in tests and tests[name].severity is Severity.FAIL]
    probe_failing = "nonlinear_probe" in tests and tests["nonlinear_probe"].severity is Severity.FAIL
    if not (failing or probe_failing) or rejected.size == 0:
        return dict(tests)
    refit = refit_without(fit, rejected)
    if refit is None:
        return dict(tests)
    rechecked = results(refit, thresholds)  # the battery on the refitted rows
    out = dict(tests)
    for name in failing:
        out[name] = without_outliers(tests[name], rechecked[name], int(rejected.size), computed_on,
                                     thresholds.family_alpha)
    if probe_failing:
        from .verdict.probe import probe_fit

        recheck = nonlinear_probe(probe_fit(refit, **(probe_options or {})), thresholds)
        out["nonlinear_probe"] = probe_without_outliers(tests["nonlinear_probe"], recheck, int(rejected.size),
                                                        computed_on)
    return out
