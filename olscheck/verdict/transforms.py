"""Can a transform make the linear model adequate?

When the mean looks non-linear on the original scale, a log or Box-Cox
transform of a positive target (or a log of strongly skewed positive
predictors) often straightens it: ``y = exp(Xb) * noise`` is linear in
``log y``. That is a remedy within linear models, not a reason to leave
them. Each candidate is refitted and re-tested with the same
specification tests and the same non-linear probe (same seed, same folds)
on the transformed scale; the first candidate on which neither finds a
material non-linearity is the remedy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .remedies import formula_of, quote
from ..report.result import Severity

__all__ = ["TransformCandidate", "TransformAssessment", "box_cox_lambda", "assess_transforms"]

#: Predictors whose sample skewness exceeds this are tried on the log scale.
SKEWED_PREDICTOR = 1.0


@dataclass(frozen=True)
class TransformCandidate:
    """One transform tried, with what the tests said on its scale."""

    name: str
    description: str
    target: str
    predictors: tuple[str, ...]
    adequate: bool
    evidence: dict[str, Any] = field(default_factory=dict)
    formula: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "target": self.target,
                "predictors": list(self.predictors), "adequate": self.adequate, "formula": self.formula,
                "evidence": self.evidence}


@dataclass(frozen=True)
class TransformAssessment:
    """Every candidate tried, and the one that works (if any)."""

    tried: tuple[TransformCandidate, ...]
    box_cox_lambda: float | None

    @property
    def remedy(self) -> TransformCandidate | None:
        return next((c for c in self.tried if c.adequate), None)

    def to_dict(self) -> dict[str, Any]:
        chosen = self.remedy
        return {"box_cox_lambda": self.box_cox_lambda, "tried": [c.to_dict() for c in self.tried],
                "remedy": None if chosen is None else chosen.name}


def box_cox_lambda(y: np.ndarray, x: np.ndarray, bounds: tuple[float, float] = (-2.0, 2.0)) -> float:
    r"""Maximum-likelihood Box-Cox lambda for the regression of y on x.

    Maximises the profile log-likelihood

    .. math:: \ell(\lambda) = -\tfrac{n}{2}\log(\mathrm{RSS}(\lambda)/n) + (\lambda - 1)\sum\log y_i

    where RSS(λ) is the residual sum of squares of (y^λ - 1)/λ (log y at 0)
    on the design. Matches ``MASS::boxcox`` (Box & Cox, JRSS B 1964).
    """
    from scipy import optimize

    from ..numerics.lstsq import least_squares

    log_y = np.log(y)
    sum_log = float(log_y.sum())
    n = y.size
    # the geometric mean keeps the transformed values near y's scale for all lambda
    centre = float(log_y.mean())

    def negative_log_likelihood(lam: float) -> float:
        scaled = log_y - centre
        transformed = scaled if abs(lam) < 1e-8 else np.expm1(lam * scaled) / lam
        rss = least_squares(x, transformed, intercept=True).rss
        if rss <= 0:
            return math.inf
        # the Jacobian of the rescaled transform differs from the textbook one by a constant
        return 0.5 * n * math.log(rss / n) - (lam - 1.0) * (sum_log - n * centre)

    result = optimize.minimize_scalar(negative_log_likelihood, bounds=bounds, method="bounded",
                                      options={"xatol": 1e-6})
    return float(result.x)


def _skewness(values: np.ndarray) -> float:
    centred = values - values.mean()
    m2 = float(np.mean(centred**2))
    return float(np.mean(centred**3) / m2**1.5) if m2 > 0 else 0.0


def assess_transforms(fit, thresholds, *, probe: bool, probe_options: dict | None = None) -> TransformAssessment:
    """Try log/Box-Cox of the target and log of skewed predictors; see the module docstring."""
    from ..checks import linearity
    from ..checks.battery import results
    from ..model.fit import fit as fit_model

    design = fit.design
    y = design.y * design.response_scale
    candidates: list[tuple[str, str, np.ndarray, dict[int, np.ndarray], str]] = []
    lam = None
    predictors_x = design.x[:, 1:] if design.has_intercept else design.x
    if np.all(y > 0):
        candidates.append(("log_target", f"log({design.target})", np.log(y), {}, f"np.log({quote(design.target)})"))
        if design.has_intercept:
            lam = box_cox_lambda(y, predictors_x)
            rounded = round(lam * 4) / 4  # report a readable power: multiples of 1/4
            if abs(rounded) >= 0.25 and abs(rounded - 1.0) >= 0.25:
                transformed = (y**rounded - 1.0) / rounded
                candidates.append(("box_cox_target", f"Box-Cox({design.target}, λ = {rounded:g})", transformed, {},
                                   f"I(({quote(design.target)}**{rounded:g} - 1) / {rounded:g})"))
    skewed: dict[int, np.ndarray] = {}
    for term in design.terms:
        if term.categorical or len(term.columns) != 1:
            continue
        column = term.columns[0]
        values = design.x[:, column]
        if np.all(values > 0) and _skewness(values) > SKEWED_PREDICTOR:
            skewed[column] = np.log(values)
    if skewed:
        names = ", ".join(design.column_names[c] for c in skewed)
        candidates.append(("log_predictors", f"log of skewed predictors ({names})", y, skewed, design.target))
        if np.all(y > 0):
            candidates.append(("log_target_and_predictors", f"log({design.target}) and log of {names}", np.log(y),
                               skewed, f"np.log({quote(design.target)})"))

    tried = []
    for name, description, new_y, new_columns, target_text in candidates:
        x = design.x.copy()
        column_names = list(design.column_names)
        for column, values in new_columns.items():
            x[:, column] = values
            column_names[column] = f"np.log({column_names[column]})"
        if not np.all(np.isfinite(new_y)):
            continue
        candidate_design = replace(
            design, y=new_y, x=x, column_names=tuple(column_names), response_scale=1.0,
            polynomials=() if new_columns else design.polynomials,
        )
        try:
            candidate_fit = fit_model(candidate_design)
        except Exception:  # a transform that cannot be fitted is simply not a remedy
            continue
        tests = results(candidate_fit, thresholds)  # the battery on the candidate
        evidence = {k: {"p_value": r.p_value, "severity": r.severity.value} for k, r in tests.items()}
        adequate = all(r.severity is not Severity.FAIL for r in tests.values())
        if probe and adequate:
            from .probe import probe_fit

            probe_result = linearity.nonlinear_probe(probe_fit(candidate_fit, **(probe_options or {})), thresholds)
            evidence["nonlinear_probe"] = {"gain": probe_result.effect, "severity": probe_result.severity.value,
                                           "message": probe_result.message}
            adequate = probe_result.severity is not Severity.FAIL
        logged = {design.column_names[c] for c in new_columns}
        formula = formula_of(design, target_expression=None if target_text == design.target else target_text,
                             log_columns=logged)
        tried.append(TransformCandidate(name, description, target_text,
                                        tuple(sorted(logged)), adequate, evidence, formula))
        if adequate:
            break
    return TransformAssessment(tuple(tried), lam)
