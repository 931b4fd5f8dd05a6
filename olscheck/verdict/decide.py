"""Findings -> ``linear`` / ``linear_with_remedies`` / ``nonlinear``.

The verdict reads severities the checks already decided (each from effect
sizes and :class:`~olscheck.thresholds.Thresholds`); it compares no
statistic with a cut-off itself. The rule:

1. The mean is *materially non-linear* when the out-of-sample probe fails
   (a non-linear learner cuts the error by a material share, with its
   interval above zero) or a specification test fails outright
   (strong evidence, p < 0.001, that added powers or second-order terms cut
   the residual variance materially).
2. If so, transforms are tried (log/Box-Cox of a positive target, log of
   skewed positive predictors). If one makes the linear model adequate
   (no failing specification test and no failing probe on that scale) the
   verdict is ``linear_with_remedies`` with the transform as the remedy;
   otherwise ``nonlinear``.
3. Otherwise, ``linear_with_remedies`` when any finding warns or fails
   (inference needs remedies), else ``linear``.

False alarms are controlled family-wise (see :mod:`olscheck.thresholds`):
each tested assumption family decides from its primary tests at
``alpha / 5`` (Bonferroni within the family too); the other tests add
notes. A specification test that fails only because of rows a robust fit
rejects is a warning about those rows, not evidence of a non-linear mean
(:func:`olscheck.pipeline.recheck_without_outliers`).

Power: when the mean is called linear, the verdict says how large a
non-linearity the probe could have seen (:func:`probe_power`); a ``linear``
verdict at low power says so instead of "suits this data as it is".

A p-value alone never decides: at n = 10⁶ every test rejects for
deviations nobody cares about, so each check weighs its p-value with the
size of the consequence (standard-error changes under HC3/HAC, |rho|,
skewness against n, VIF bands, Cook's distance, probe gain).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import remedies as remedy_code
from .remedies import FormulaParts
from ..report.report import Finding, Verdict
from ..report.result import Assumption, Severity, TestResult
from ..thresholds import Thresholds

__all__ = ["ModelFacts", "two_values", "data_findings", "decide", "probe_power", "LINEAR", "LINEAR_WITH_REMEDIES",
           "NONLINEAR"]

LINEAR = "linear"
LINEAR_WITH_REMEDIES = "linear_with_remedies"
NONLINEAR = "nonlinear"

_SPECIFICATION_TESTS = ("reset", "harvey_collier", "rainbow", "quadratic")


def probe_power(probe: Mapping[str, Any] | None, thresholds: Thresholds) -> dict[str, Any]:
    r"""The smallest non-linearity the probe would have detected, from its interval.

    The probe calls the mean non-linear when the best learner's mean
    relative MSE reduction g is at least ``probe_gain_material`` and its
    interval's lower end is above zero. With the largest of the learners'
    standard errors se (half-width / t_{df, 0.975}, Nadeau & Bengio; the
    largest because on linear data the spline model shrinks to OLS and its
    gains hardly vary, which says nothing of their noise when there is a
    curve to find) and df = K R - 1, a true
    gain g is detected with probability ``probe_power`` (0.8) when

    .. math:: g \ge \max(m,\ t_{df,\,0.975}\,\mathrm{se}) + t_{df,\,0.8}\,\mathrm{se}

    (m the material gain; the usual minimum-detectable-effect formula,
    Cohen 1988, with the t quantiles of the probe's own interval). Power is
    *low* when that smallest detectable gain exceeds
    ``detectable_gain_warn``: a non-linearity removing that much of OLS's
    error could have gone unseen.

    ``probe`` is :meth:`olscheck.verdict.probe.ProbeResult.to_dict`'s mapping (None
    when the probe did not run). Returns a JSON-ready dict (the report's
    ``verdict.power``).
    """
    from scipy import stats

    if not probe or not probe.get("computed"):
        reason = "the probe was switched off (probe=False)" if not probe else probe.get("reason")
        return {"computed": False, "reason": reason, "low": None,
                "statement": ("The out-of-sample probe did not run, so olscheck cannot say how large a "
                              f"non-linearity these rows could have shown ({reason}).")}
    gains = [g for g in (probe.get("gains") or {}).values() if g] or [probe.get("gain") or {}]
    intervals = [tuple(g.get("relative_mse_reduction_ci") or (None, None))[:2] for g in gains]
    intervals = [(low, high) for low, high in intervals if low is not None and high is not None]
    folds = int(probe.get("folds") or 0)
    if not intervals or folds < 2:
        return {"computed": False, "reason": "the probe's interval is undefined", "low": None,
                "statement": "The probe's interval is undefined, so its power cannot be stated."}
    # K R - 1 with repeated folds (Bouckaert & Frank), K - 1 otherwise
    df = int((gains[0] or {}).get("df") or folds * int(probe.get("repeats") or 1) - 1)
    confidence = float(probe.get("confidence", 0.95))
    critical = float(stats.t.ppf(0.5 + confidence / 2, df))
    # the widest learner's standard error: on linear data the spline model shrinks to OLS and its per-fold
    # gains barely vary, which says nothing of how they would vary if there were a curve to find
    standard_error = max((high - low) / (2.0 * critical) for low, high in intervals)
    detectable = max(thresholds.probe_gain_material, critical * standard_error) \
        + float(stats.t.ppf(thresholds.probe_power, df)) * standard_error
    is_low = detectable > thresholds.detectable_gain_warn
    rows = probe.get("n_used_for_probe")
    if detectable < 1.0:
        statement = (f"With these {rows} rows the probe detects a non-linearity ({thresholds.probe_power:.0%} power) "
                     f"only if it cuts OLS's out-of-sample error by at least {detectable:.0%}; a smaller one would "
                     "go unseen.")
    else:
        statement = (f"With these {rows} rows the probe's interval is so wide that it would miss even a "
                     "non-linearity removing all of OLS's error more often than not.")
    return {"computed": True, "detectable_gain": detectable, "power": thresholds.probe_power,
            "standard_error": standard_error, "folds": folds, "rows": rows, "low": bool(is_low),
            "threshold": thresholds.detectable_gain_warn, "statement": statement}


@dataclass(frozen=True)
class ModelFacts:
    """What the verdict reads about the fitted model beyond the test results.

    The in-memory path builds it from a LinearFit (:meth:`of_fit`), the
    streaming engine from its accumulated fit, so the verdict never needs
    the rows.

    Attributes
    ----------
    formula : FormulaParts
        The model's formula and row order, for the remedies' code.
    aliased : tuple of str
        Columns dropped as linear combinations of earlier ones.
    constant : tuple of str
        Those of ``aliased`` that are constant over the rows used (a
        multiple of the intercept, or zero): they carry nothing to estimate.
    binary_target : tuple of two floats, optional
        The target's two values when it takes only two (a 0/1 outcome: OLS
        is then the linear probability model); None otherwise.
    notes : tuple of str
        Notes on the data (dropped rows, order).
    n : int
        Rows used (the Newey-West lag rule of the autocorrelation remedy).
    positive_target : bool
        Every target value is positive (the normality remedy then offers a log).
    """

    formula: FormulaParts
    aliased: tuple[str, ...]
    notes: tuple[str, ...]
    n: int
    positive_target: bool
    constant: tuple[str, ...] = ()
    binary_target: tuple[float, float] | None = None

    @classmethod
    def of_fit(cls, fit) -> "ModelFacts":
        from ..inputs.prepare import target_values

        design = fit.design
        return cls(formula=FormulaParts.of(design), aliased=tuple(fit.aliased), notes=tuple(design.notes),
                   n=int(fit.n), positive_target=bool((design.y > 0).all()), constant=fit.constant_aliased,
                   binary_target=two_values(target_values(design.y), design.response_scale))


def two_values(values: tuple[float, ...] | None, response_scale: float) -> tuple[float, float] | None:
    """:attr:`ModelFacts.binary_target` from the target's values in working units (``target_values``), else None.

    Both paths keep the target divided by a power of two when it is extreme;
    the values are put back on its own scale (exactly).
    """
    if values is None or len(values) != 2:
        return None
    return values[0] * response_scale, values[1] * response_scale


def data_findings(model: ModelFacts) -> list[Finding]:
    """Findings about the data and the design: aliased columns, dropped rows, order."""
    findings: list[Finding] = []
    if model.aliased:
        # a constant column changes nothing in the fit (R's lm gives it NA and the other estimates are those of
        # the model without it): a note; a column duplicating other predictors leaves their coefficients
        # unidentified as separate effects: a warning with a remedy
        constant = [a for a in model.aliased if a in model.constant]
        duplicates = [a for a in model.aliased if a not in model.constant]
        constant_text = (f"column(s) {', '.join(map(repr, constant))} are "
                         + ("constant over the rows used: beside the intercept they carry nothing to estimate"
                            if model.formula.has_intercept else "zero in every row used: they carry nothing to estimate")
                         ) if constant else ""
        if duplicates:
            message = (f"Warning: column(s) {', '.join(map(repr, duplicates))} are exact (or numerically exact) "
                       "linear combinations of earlier columns; the model was fitted without them, as R's lm does "
                       "(their coefficients are NA)." + (f" Also {constant_text}; left out likewise." if constant else ""))
        else:
            message = (f"Note: {constant_text}; the model was fitted without them, as R's lm does (their "
                       "coefficients are NA; every other estimate is that of the model without them).")
        findings.append(
            Finding(
                check="aliasing",
                assumption=Assumption.NO_COLLINEARITY,
                severity=Severity.WARN if duplicates else Severity.NOTE,
                message=message,
                effect=float(len(model.aliased)),
                effect_name="aliased columns",
                remedy="Drop the aliased column(s) or combine them with the columns they duplicate."
                if duplicates else None,
            )
        )
    if model.binary_target is not None:
        findings.append(binary_target_finding(model))
    for note in model.notes:
        findings.append(Finding(check="data", assumption=Assumption.DATA, severity=Severity.NOTE, message=f"Note: {note}"))
    return findings


def binary_target_finding(model: ModelFacts) -> Finding:
    """The warning on a target with two values: OLS on it is the linear probability model.

    Its error variance is p(1 - p) at a mean p, so it changes with the
    mean by construction (a Breusch-Pagan test that does not see it lacks
    power where p stays near 1/2), its errors take two values, and a linear
    mean leaves [0, 1] for extreme enough predictors. The linear
    probability model estimates average effects well with
    heteroskedasticity-robust standard errors (Angrist & Pischke 2009,
    ch. 3.4); probabilities are logistic regression's (R's ``glm(...,
    family = binomial)``). A warning on the homoskedasticity assumption,
    whose remedies are those standard errors and the logistic model.
    """
    low, high = model.binary_target
    values = f"{low:g} and {high:g}"
    return Finding(
        check="binary_target",
        assumption=Assumption.HOMOSKEDASTICITY,
        severity=Severity.WARN,
        message=(f"Warning: the target takes only the values {values}: OLS on it is the linear probability model. "
                 "Its error variance p(1 - p) changes with the mean p by construction (whatever Breusch-Pagan "
                 "finds), and a linear mean can leave the range of a probability."),
        effect=None,
        effect_name=None,
        remedy=("For probabilities, logistic regression; for average effects, this linear model with "
                "heteroskedasticity-robust (HC3) standard errors."),
    )


def materially_nonlinear(tests: Mapping[str, TestResult]) -> list[str]:
    """Names of the linearity checks that fail outright."""
    names = [*_SPECIFICATION_TESTS, "nonlinear_probe"]
    return [n for n in names if n in tests and tests[n].severity is Severity.FAIL]


def decide(
    tests: Mapping[str, TestResult],
    extra_findings: list[Finding],
    nonlinearity: Mapping[str, Any],
    thresholds: Thresholds,
    *,
    model: ModelFacts | None = None,
    transforms=None,
) -> Verdict:
    """Combine the findings into the verdict (see the module docstring)."""
    power = probe_power(nonlinearity.get("probe") if nonlinearity else None, thresholds)
    findings = list(extra_findings) + [Finding.from_result(r) for r in tests.values()]
    findings.sort(key=lambda f: -f.severity.rank)
    failing_linearity = materially_nonlinear(tests)
    transform = transforms.remedy if transforms is not None else None
    inference = [f for f in findings
                 if f.severity in (Severity.WARN, Severity.FAIL) and f.check not in failing_linearity]
    suggested = _remedies(tests, findings, model, transform, failing_linearity) if model is not None else []

    if failing_linearity and transform is None:
        level = NONLINEAR
        summary = _nonlinear_summary(tests, failing_linearity, transforms)
    elif failing_linearity:
        level = LINEAR_WITH_REMEDIES
        summary = (
            f"On the original scale the mean is not linear ({_evidence(tests, failing_linearity)}), but on the "
            f"scale of {transform.description} it is: no specification test fails and "
            + ("a non-linear learner no longer beats the linear model. " if "nonlinear_probe" in transform.evidence
               else "the probe was not run. ")
            + f"Fit {transform.formula!r}."
            + _inference_tail(inference)
        )
    elif inference:
        level = LINEAR_WITH_REMEDIES
        summary = "The mean is linear" + _linear_evidence(tests) + ", but inference needs remedies: " + "; ".join(
            _short(f) for f in _unique_checks(inference)[:4]) + "." + _power_caveat(power)
    elif power.get("low") is False:
        level = LINEAR
        summary = "The mean is linear" + _linear_evidence(tests) + (
            " and no assumption check warns: ordinary least squares suits this data as it is, so any "
            "linear-activation network trained on it reduces to this fit. " + power["statement"]
        )
    elif power.get("low") is None:
        level = LINEAR
        summary = "No assumption check warns and no specification test finds a non-linear mean" + (
            ", so OLS is the model these rows support. " + power["statement"])
    else:
        level = LINEAR
        summary = "No assumption check warns and no test finds a non-linear mean" + _linear_evidence(tests) + (
            ", so OLS is the model these rows support; but their power is low. " + power["statement"]
            + " Treat 'linear' as 'no evidence against linear', and check again with more rows."
        )
    return Verdict(level=level, summary=summary, findings=tuple(findings), remedies=tuple(suggested),
                   power=power)


# ---------------------------------------------------------------------------- wording
def _unique_checks(findings: list[Finding]) -> list[Finding]:
    seen: dict[Assumption, Finding] = {}
    for finding in findings:
        seen.setdefault(finding.assumption, finding)
    return list(seen.values())


def _short(finding: Finding) -> str:
    text = finding.message.split(": ", 1)[-1]
    return f"{finding.assumption.value.replace('_', ' ')} ({finding.check}: {text.rstrip('.')})"


def _evidence(tests: Mapping[str, TestResult], names: list[str]) -> str:
    parts = []
    for name in names:
        result = tests[name]
        if name == "nonlinear_probe":
            parts.append(f"a non-linear learner cuts the out-of-sample error by {result.effect:.0%}")
        else:
            parts.append(f"{name} p = {result.p_value:.2g}")
    return "; ".join(parts)


def _linear_evidence(tests: Mapping[str, TestResult]) -> str:
    probe = tests.get("nonlinear_probe")
    if probe is not None and probe.computable:
        change = -probe.effect
        direction = "higher" if change >= 0 else "lower"
        return (f" (no specification test fails, and the best non-linear learner's out-of-sample error is "
                f"{abs(change):.0%} {direction} than OLS's)")
    return " (no specification test fails; the out-of-sample probe was not run)"


def _nonlinear_summary(tests, failing, transforms) -> str:
    text = f"The conditional mean is materially non-linear: {_evidence(tests, failing)}."
    if transforms is not None and transforms.tried:
        text += " No transform fixes it (tried: " + ", ".join(c.description for c in transforms.tried) + ")."
    elif transforms is not None:
        text += " No transform applies (the target is not positive and no predictor is skewed and positive)."
    return text + " Use a non-linear model (gradient boosting or a ReLU network), or add the missing curvature and interactions to the linear model."


def _power_caveat(power: Mapping[str, Any]) -> str:
    if power.get("low") is not True:
        return ""
    return " Power against a non-linear mean is low: " + power["statement"]


def _inference_tail(inference: list[Finding]) -> str:
    if not inference:
        return ""
    return " Inference also needs: " + "; ".join(_short(f) for f in _unique_checks(inference)[:3]) + "."


# ---------------------------------------------------------------------------- remedies
def _remedies(tests, findings, model: ModelFacts, transform, failing_linearity) -> list:
    from ..numerics.covariance import newey_west_lags

    design = model.formula
    troubled = {f.assumption for f in findings if f.severity in (Severity.WARN, Severity.FAIL)}
    out = []
    if failing_linearity:
        out.append(remedy_code.transform(design, transform) if transform is not None else remedy_code.nonlinear(design))
    if model.binary_target is not None:
        out.append(remedy_code.binary(design, model.binary_target[1]))
    if any(f.assumption is Assumption.HOMOSKEDASTICITY and f.check != "binary_target"
           and f.severity in (Severity.WARN, Severity.FAIL) for f in findings):
        worst = None
        bp = tests.get("breusch_pagan")
        if bp is not None and bp.details.get("hc3_se_ratios"):
            ratios = bp.details["hc3_se_ratios"]
            worst = max(ratios, key=lambda k: abs(ratios[k] - 1))
        out.append(remedy_code.heteroskedasticity(design, worst))
    warned = {name for name, result in tests.items() if result.severity in (Severity.WARN, Severity.FAIL)}
    if warned & {"durbin_watson", "breusch_godfrey"}:
        out.append(remedy_code.autocorrelation(design, newey_west_lags(model.n)))
    if "grouped_errors" in warned:
        out.append(remedy_code.grouped(design, str(tests["grouped_errors"].details["groups"])))
    if Assumption.NORMALITY in troubled:
        out.append(remedy_code.normality(design, model.positive_target))
    if Assumption.NO_COLLINEARITY in troubled:
        names = []
        vif = tests.get("vif")
        if vif is not None and vif.severity in (Severity.WARN, Severity.FAIL) and vif.details.get("worst_term"):
            names.append(str(vif.details["worst_term"]))
        index = tests.get("condition_index")
        if index is not None and index.severity in (Severity.WARN, Severity.FAIL):
            names.extend(str(n) for n in index.details.get("involved", []) if n != "Intercept" and str(n) not in names)
        names.extend(repr(a) for a in model.aliased)
        out.append(remedy_code.collinearity(design, names))
    rejected_curvature = any(name in tests and tests[name].severity is Severity.WARN
                             and "recheck_rows_dropped" in tests[name].details
                             for name in (*_SPECIFICATION_TESTS, "nonlinear_probe"))
    if Assumption.NO_INFLUENTIAL_POINTS in troubled or rejected_curvature:
        robust = tests.get("robust_fit")
        rows = [f"row {label}" for label in (robust.details.get("rejected_rows") or [])[:5]] \
            if robust is not None and robust.computable else []
        out.append(remedy_code.influence(design, rows))
    return out
