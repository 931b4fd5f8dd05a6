"""Collinearity: variance inflation factors and Belsley condition indices.

Two views of the same problem, an ill-conditioned design:

* **VIF / GVIF** (Fox & Monette 1992), exactly as ``car::vif``: for a term
  with columns S, ``GVIF = det(R_SS) det(R_-S-S) / det(R)`` where R is the
  correlation matrix of the coefficient estimates without the intercept.
  For a one-column term this is the classical ``VIF = 1 / (1 - R_j²)``.
* **Condition indices and variance-decomposition proportions** (Belsley,
  Kuh & Welsch 1980): which coefficients share the variance of a
  near-dependency among the columns of X.

References
----------
Fox, J. & Monette, G. (1992). Generalized collinearity diagnostics. JASA
87, 178-183. Belsley, D. A., Kuh, E. & Welsch, R. E. (1980). *Regression
Diagnostics*, ch. 3. Wiley.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy import linalg as scipy_linalg

from ..report.result import Assumption, Severity, TestResult, clean_float, not_computable
from ..numerics.scaling import binary_scaled
from ..thresholds import DEFAULT_THRESHOLDS, Thresholds

__all__ = ["TermInflation", "CollinearitySummary", "summarize", "correlation_factor", "generalized_vifs",
           "generalized_vifs_from_factor", "inflation_rows"]

VIF_METHOD = (
    "Variance inflation factors; generalized VIF with GVIF^(1/(2 df)) for multi-column terms "
    "(Fox & Monette 1992; car::vif)"
)
CONDITION_METHOD = (
    "Belsley condition indices and variance-decomposition proportions, columns of X scaled to unit length, "
    "not centred, intercept included (Belsley, Kuh & Welsch 1980)"
)

_REMEDY = (
    "Collinearity inflates standard errors but does not bias the fit or its predictions. If the affected "
    "coefficients matter, drop or combine redundant predictors (their sum, or a principal component), centre "
    "predictors before forming powers or products, or shrink with ridge regression: "
    "`smf.ols(formula, data).fit_regularized(method='elastic_net', alpha=1.0, L1_wt=0.0)`."
)


@dataclass(frozen=True, slots=True)
class TermInflation:
    """Variance inflation of one model term (one row of ``car::vif``).

    Attributes
    ----------
    term : str
    df : int
        Number of design columns of the term (a factor with k levels has k-1).
    gvif : float or None
        Generalized VIF; None when VIFs are not defined for the model.
    gvif_adj : float or None
        ``GVIF^(1/(2 df))``, comparable across terms with the square root of
        a VIF.
    vif : float or None
        Equal to ``gvif`` for a one-column term; None for multi-column terms.
    tolerance : float or None
        ``1 / VIF`` (one-column terms only).
    """

    term: str
    df: int
    gvif: float | None
    gvif_adj: float | None
    vif: float | None
    tolerance: float | None

    @property
    def inflation(self) -> float | None:
        """The number judged against the VIF bands: VIF, or ``gvif_adj²`` (= GVIF^(1/df))."""
        if self.gvif_adj is None:
            return None
        return self.vif if self.df == 1 else self.gvif_adj**2

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "vif": clean_float(self.vif),
            "gvif": clean_float(self.gvif),
            "df": int(self.df),
            "gvif_adj": clean_float(self.gvif_adj),
            "tolerance": clean_float(self.tolerance),
        }


@dataclass(frozen=True, eq=False)
class CollinearitySummary:
    """VIF/GVIF per term, condition number, Belsley diagnostics and their verdicts.

    Attributes
    ----------
    terms : tuple of TermInflation
    vif_reason : str or None
        Why VIFs were not computed (fewer than two terms, no intercept).
    condition_number : float or None
        Largest over smallest singular value of the design as fitted (R's
        ``kappa(model.matrix(fit), exact = TRUE)``), from the fit.
    condition_indices : tuple of float
        ``mu_max / mu_k`` for the singular values ``mu_1 >= ... >= mu_p`` of
        X with unit-length columns, in that order (so ascending).
    variance_proportions : Mapping[str, tuple of float]
        For each coefficient, the share of its variance on each dimension
        (same order as ``condition_indices``); each tuple sums to 1.
    results : Mapping[str, TestResult]
        ``"vif"`` and ``"condition_index"``.
    """

    terms: tuple[TermInflation, ...]
    vif_reason: str | None
    condition_number: float | None
    condition_indices: tuple[float, ...]
    variance_proportions: Mapping[str, tuple[float, ...]]
    results: Mapping[str, TestResult] = field(default_factory=lambda: MappingProxyType({}))

    def to_dict(self) -> dict[str, Any]:
        """The report schema's ``collinearity`` object, JSON-ready."""
        out: dict[str, Any] = {
            "vif": [row.to_dict() for row in self.terms],
            "condition_number": clean_float(self.condition_number),
            "condition_indices": [clean_float(v) for v in self.condition_indices],
            "variance_proportions": {
                name: [clean_float(v) for v in shares] for name, shares in self.variance_proportions.items()
            },
        }
        if self.vif_reason is not None:
            out["vif_reason"] = self.vif_reason
        return out


# ---------------------------------------------------------------------------
# numerical pieces
# ---------------------------------------------------------------------------
def _binary_rescaled(x: np.ndarray) -> np.ndarray:
    """Columns divided by a power of two near their largest magnitude (exact; keeps squares finite)."""
    if x.size == 0:
        return x.astype(float)
    return binary_scaled(x, axis=0)


def _log_abs_det_gram(columns: np.ndarray) -> float:
    """log det(A'A) from the triangular factor of A's QR, without forming A'A."""
    if columns.shape[1] == 0:
        return 0.0
    r = np.linalg.qr(columns, mode="r")
    diagonal = np.abs(np.diag(r))
    if np.any(diagonal == 0):
        return -math.inf
    return float(2.0 * np.sum(np.log(diagonal)))


def generalized_vifs(x: np.ndarray, term_columns: list[tuple[int, ...]]) -> list[float]:
    """GVIF of each term of a model with an intercept, from the design.

    Parameters
    ----------
    x : ndarray, shape (n, m)
        The predictor columns (intercept excluded).
    term_columns : list of tuple of int
        Positions in ``x`` of each term's columns.

    Notes
    -----
    ``car::vif`` uses R = cov2cor(vcov) without the intercept. With an
    intercept, that covariance block is ``sigma² (Xc'Xc)^-1`` (Xc the centred
    predictors), so R is the correlation matrix C of the predictors inverted
    and rescaled to unit diagonal. Since ``det(C^-1_SS) = det(C_-S-S)/det(C)``
    and diagonal rescaling cancels,

        GVIF_S = det(R_SS) det(R_-S-S) / det(R) = det(C_SS) det((C^-1)_SS).

    With Z the centred predictors scaled to unit length and ``Z = Q U`` its
    QR factorisation, ``C = U'U`` and ``C^-1 = W W'`` with ``W = U^-1``, so
    both determinants are Gram determinants of small matrices (``U[:, S]``
    and ``W[S, :]'``), taken as log-determinants from their own QR factors.
    C is never formed, so a near-singular design (VIF ~ 1e12) keeps about
    ten correct digits instead of the four a determinant of C would.
    Cost O(n m² + m³).
    """
    z = _binary_rescaled(np.asarray(x, dtype=float))
    z = z - z.mean(axis=0)
    z /= np.sqrt(np.einsum("ij,ij->j", z, z))
    upper = scipy_linalg.qr(z, mode="r", overwrite_a=True, check_finite=False)[0]
    return generalized_vifs_from_factor(upper[: min(upper.shape)], term_columns)


def generalized_vifs_from_factor(upper: np.ndarray, term_columns: list[tuple[int, ...]]) -> list[float]:
    """:func:`generalized_vifs` given U, any matrix with ``U'U = C``, the predictors' correlation matrix.

    U is the R of the centred, unit-length predictors (as in
    :func:`generalized_vifs`), or, from the fit, the trailing block of the
    R of ``[1, X]`` with its columns scaled to unit length
    (:func:`correlation_factor`): the Householder step on the intercept column
    centres the others. Cost O(m³).
    """
    upper = np.asarray(upper, dtype=float)
    if not np.all(np.abs(np.diag(upper)) > 0):
        # exactly dependent columns (the fit drops aliased ones, so only a
        # design built by hand gets here): infinite inflation
        return [math.inf] * len(term_columns)
    inverse = scipy_linalg.solve_triangular(upper, np.eye(upper.shape[0]))
    out = []
    for columns in term_columns:
        index = list(columns)
        log_gvif = _log_abs_det_gram(upper[:, index]) + _log_abs_det_gram(inverse[index, :].T)
        with np.errstate(over="ignore"):
            out.append(float(np.exp(log_gvif)))
    return out


def belsley_diagnostics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Condition indices and variance-decomposition proportions.

    Parameters
    ----------
    x : ndarray, shape (n, p)
        The design as fitted (intercept column included, not centred).

    Returns
    -------
    condition_indices : ndarray, shape (p,)
        ``eta_k = mu_1 / mu_k`` for the singular values ``mu_1 >= ... >= mu_p``
        of X with columns scaled to unit Euclidean length.
    proportions : ndarray, shape (p, p)
        ``pi[j, k] = (v_jk / mu_k)² / sum_l (v_jl / mu_l)²``: the share of
        var(b_j) associated with dimension k (Belsley, Kuh & Welsch 1980,
        §3.2), V the right singular vectors.
    """
    scaled = _binary_rescaled(np.asarray(x, dtype=float))
    scaled /= np.sqrt(np.einsum("ij,ij->j", scaled, scaled))
    # X = Q R, so X and the small R share singular values and right singular
    # vectors: the SVD of R never builds the n x p left factor
    triangle = scipy_linalg.qr(scaled, mode="r", overwrite_a=True, check_finite=False)[0]
    _, singular, vt = np.linalg.svd(triangle[: min(triangle.shape)], full_matrices=False)
    with np.errstate(divide="ignore"):
        indices = singular[0] / singular
    # (v_jk mu_min / mu_k)² lies in [0, 1], so nothing overflows however
    # small mu_min is; the common factor mu_min² cancels in the proportions
    weighted = (vt.T * (singular[-1] / singular)) ** 2
    proportions = weighted / weighted.sum(axis=1, keepdims=True)
    return indices, pooled_over_ties(singular, proportions)


def pooled_over_ties(singular: np.ndarray, proportions: np.ndarray, tolerance: float = 1e-10) -> np.ndarray:
    """Proportions with every group of tied singular values sharing its total equally.

    When singular values are equal (orthogonal columns of equal norm, e.g.
    every level of a factor coded without an intercept) the singular
    vectors of that group are any rotation of each other, so the
    per-dimension proportions are not defined, only their sum over the
    group is. Each tied dimension then gets the group's mean: the one
    choice that does not depend on which SVD routine (R's, LAPACK's, the
    streaming engine's) picked the basis. Ties within a relative
    ``tolerance``.
    """
    out = proportions.copy()
    start = 0
    while start < singular.size:
        stop = start + 1
        while stop < singular.size and abs(singular[stop] - singular[start]) <= tolerance * singular[0]:
            stop += 1
        if stop - start > 1:
            out[:, start:stop] = proportions[:, start:stop].mean(axis=1, keepdims=True)
        start = stop
    return out


# ---------------------------------------------------------------------------
# the check
# ---------------------------------------------------------------------------
def _fmt(value: float) -> str:
    if 100 <= abs(value) < 1e6:
        return f"{value:.0f}"
    return f"{value:.3g}"


def vif_reason(n_terms: int, has_intercept: bool) -> str | None:
    """Why variance inflation cannot be computed for this model, or None (as car::vif)."""
    if n_terms < 2:
        return (f"the model has {n_terms} predictor term{'s' if n_terms != 1 else ''}; variance inflation "
                "needs at least two (car::vif refuses fewer than 2 terms)")
    if not has_intercept:
        return ("the model has no intercept, so VIFs measure collinearity with the origin rather than between "
                "predictors and are not sensible (car::vif warns the same)")
    return None


def correlation_factor(factor: np.ndarray, predictor_columns: list[int]) -> np.ndarray:
    """U with U'U the correlation matrix of the predictor columns, from any F with ``F'F = [1, X]'[1, X]``.

    F's column 0 is the intercept (VIFs need one): the fit's small factor
    ``Q'[1, X]``, or the streaming engine's R of the accumulated columns.
    The Householder step on the intercept column of F centres the others,
    so the trailing block of the QR of ``F[:, [0, predictors]]``, scaled
    to unit columns, is U. O(m³).
    """
    upper = scipy_linalg.qr(factor[:, [0] + list(predictor_columns)], mode="r", check_finite=False)[0]
    upper = upper[:min(upper.shape)][1:, 1:]  # scipy pads R with zero rows when F has more rows than columns
    return upper / np.sqrt(np.einsum("ij,ij->j", upper, upper))


def inflation_rows(terms, gvifs) -> tuple[TermInflation, ...]:
    """One row per term from its GVIF: GVIF^(1/(2 df)), and VIF and tolerance for one-column terms."""
    rows = []
    for term, gvif in zip(terms, gvifs):
        df = len(term.columns)
        gvif_value = clean_float(gvif)
        adjusted = None if gvif_value is None else gvif_value ** (1.0 / (2 * df))
        vif = gvif_value if df == 1 else None
        tolerance = None if vif is None or vif == 0 else 1.0 / vif
        rows.append(TermInflation(term.name, df, gvif_value, adjusted, vif, tolerance))
    return tuple(rows)


def vif_result(rows: tuple[TermInflation, ...], reason: str | None,
               thresholds: Thresholds = DEFAULT_THRESHOLDS) -> TestResult:
    """The ``"vif"`` result: severity from the largest VIF (or GVIF^(1/df)).

    A one-column term's VIF, and a multi-column term's ``gvif_adj²``, are
    judged against ``vif_warn`` and ``vif_fail`` (equivalently ``gvif_adj``
    against their square roots, Fox & Monette 1992); a value above the band
    counts.
    """
    if reason is not None:
        return not_computable("vif", Assumption.NO_COLLINEARITY, VIF_METHOD, reason)
    inflations = [(row.inflation, row) for row in rows if row.inflation is not None]
    if not inflations:
        return not_computable("vif", Assumption.NO_COLLINEARITY, VIF_METHOD, "no term has a finite VIF")
    # the first term in the model's order among those equal to the largest up to rounding: with two predictors
    # both VIFs are 1 / (1 - r²), and which one rounds higher must not decide the name (nor differ by path)
    largest = max(value for value, _ in inflations)
    worst_value, worst_row = next(item for item in inflations if item[0] >= largest * (1.0 - 1e-9))

    def label(row: TermInflation) -> str:
        if row.df == 1:
            return f"{row.term} (VIF {_fmt(row.inflation)})"
        return f"{row.term} (GVIF^(1/(2 df)) {_fmt(row.gvif_adj)}, df {row.df})"

    if worst_value > thresholds.vif_fail:
        severity, cut, opening = Severity.FAIL, thresholds.vif_fail, "Problem: strong collinearity"
    elif worst_value > thresholds.vif_warn:
        severity, cut, opening = Severity.WARN, thresholds.vif_warn, "Warning: collinearity"
    else:
        severity, cut, opening = Severity.OK, None, None
    if cut is not None:
        flagged = sorted((item for item in inflations if item[0] > cut), key=lambda item: -item[0])
        names = ", ".join(label(row) for _, row in flagged)
        multi_column = any(row.df > 1 for _, row in flagged)
        message = (
            f"{opening} inflates the variance of {names}, above the VIF band {_fmt(cut)}"
            + (f" (GVIF^(1/(2 df)) above {_fmt(math.sqrt(cut))} for multi-column terms)." if multi_column else ".")
        )
    else:
        message = (
            f"OK: no collinearity of concern; largest is {label(worst_row)}, within VIF {_fmt(thresholds.vif_warn)}."
        )
    return TestResult(
        name="vif",
        assumption=Assumption.NO_COLLINEARITY,
        method=VIF_METHOD,
        statistic=worst_value,
        p_value=None,
        effect=worst_value,
        effect_name="max VIF (GVIF^(1/df) for multi-column terms)",
        severity=severity,
        message=message,
        remedy=_REMEDY if severity is not Severity.OK else None,
        details={"worst_term": worst_row.term, "vif_warn": thresholds.vif_warn, "vif_fail": thresholds.vif_fail},
    )


def condition_index_result(names: tuple[str, ...], indices: np.ndarray, proportions: np.ndarray,
                           thresholds: Thresholds = DEFAULT_THRESHOLDS, intercept: str | None = None) -> TestResult:
    """The ``"condition_index"`` result (Belsley, Kuh & Welsch 1980, §3.3).

    A dimension signals a harmful near-dependency when its condition index
    exceeds ``condition_index_warn`` (``_fail``) and at least two coefficients
    have a variance proportion >= ``variance_proportion`` on it. The effect
    is the largest condition index. ``intercept`` names the constant column,
    if any, so a dependency between it and one predictor can be explained.
    """
    if indices.size == 0:
        return not_computable("condition_index", Assumption.NO_COLLINEARITY, CONDITION_METHOD,
                              "the model has no estimated coefficients")
    largest = float(np.max(indices))
    severity, flagged_dimension = Severity.OK, None
    for k in np.argsort(-indices):
        involved = np.flatnonzero(proportions[:, k] >= thresholds.variance_proportion)
        if involved.size < 2:
            continue
        if intercept is not None and involved.size == 2 and intercept in {names[j] for j in involved}:
            # Intercept plus one predictor is "inessential" ill-conditioning
            # (Marquardt 1980; Snee & Marquardt 1984): it inflates only the
            # intercept's variance, which centring removes, not the slopes'.
            if indices[k] > thresholds.condition_index_warn and severity is Severity.OK:
                severity, flagged_dimension = Severity.NOTE, int(k)
            continue
        if indices[k] > thresholds.condition_index_fail:
            level = Severity.FAIL
        elif indices[k] > thresholds.condition_index_warn:
            level = Severity.WARN
        else:
            continue
        if level.rank > severity.rank:
            severity, flagged_dimension = level, int(k)
    if flagged_dimension is not None:
        k = flagged_dimension
        involved = np.flatnonzero(proportions[:, k] >= thresholds.variance_proportion)
        ranked = involved[np.argsort(-proportions[involved, k])]
        shares = ", ".join(f"{names[j]} ({proportions[j, k]:.2f})" for j in ranked)
        opening = {Severity.FAIL: "Problem: a strong", Severity.WARN: "Warning: a"}.get(severity, "Note: a")
        involved_names = [names[j] for j in involved]
        message = (
            f"{opening} near-dependency among the columns (condition index {_fmt(indices[k])}) carries most of the "
            f"variance of {shares}."
        )
        if intercept is not None and intercept in involved_names and len(involved_names) == 2:
            # Belsley keeps the constant in the diagnosis; say what that means
            other = next(name for name in involved_names if name != intercept)
            message += (
                f" It ties {other} to the constant ({other} varies little around its mean); centring {other} "
                "removes it and changes only the intercept."
            )
    elif largest > thresholds.condition_index_warn:
        severity = Severity.NOTE
        message = (
            f"Note: the largest condition index is {_fmt(largest)}, but no two coefficients take "
            f"{thresholds.variance_proportion:g} or more of their variance from that dimension, so it does not "
            "degrade the estimates."
        )
        involved_names = []
    else:
        message = f"OK: largest condition index {_fmt(largest)}, within {_fmt(thresholds.condition_index_warn)}."
        involved_names = []
    return TestResult(
        name="condition_index",
        assumption=Assumption.NO_COLLINEARITY,
        method=CONDITION_METHOD,
        statistic=largest,
        p_value=None,
        effect=largest,
        effect_name="max condition index",
        severity=severity,
        message=message,
        remedy=_REMEDY if severity in (Severity.WARN, Severity.FAIL) else None,
        details={
            "involved": involved_names,
            "dimension_condition_index": None if flagged_dimension is None else float(indices[flagged_dimension]),
        },
    )


def summarize(fit, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> CollinearitySummary:
    """VIF/GVIF, condition number and Belsley diagnostics of a fitted in-memory model.

    Parameters
    ----------
    fit : olscheck.model.fit.LinearFit
    thresholds : Thresholds

    Returns
    -------
    CollinearitySummary
        With ``results["vif"]`` and ``results["condition_index"]``.
    """
    # X and Q'X share singular values and right singular vectors (Q has a column per kept column: the fit's rank
    # is at most n)
    factor = fit.design_factor[0]
    return summary_from_factor(factor, fit.terms, fit.column_names, fit.has_intercept, fit.condition_number,
                               thresholds)


def summary_from_factor(factor: np.ndarray, terms, names: tuple[str, ...], has_intercept: bool,
                        condition_number: float | None,
                        thresholds: Thresholds = DEFAULT_THRESHOLDS) -> CollinearitySummary:
    """The collinearity summary from any F with ``F'F = X'X`` for the kept columns X (intercept first).

    ``F`` is the in-memory fit's small factor ``Q'X`` or the streaming
    engine's triangular factor of the kept columns: both have X's Gram
    matrix, singular values and right singular vectors, so VIF/GVIF
    (:func:`generalized_vifs_from_factor`, car::vif) and Belsley's
    condition indices and variance proportions
    (:func:`belsley_diagnostics`) are computed from a rank x rank matrix
    instead of the rows. ``terms`` index the kept columns.
    """
    reason = vif_reason(len(terms), has_intercept)
    if reason is not None:
        rows = tuple(TermInflation(t.name, len(t.columns), None, None, None, None) for t in terms)
    else:
        predictor_columns = [c for t in terms for c in t.columns]
        position = {c: i for i, c in enumerate(predictor_columns)}
        gvifs = generalized_vifs_from_factor(correlation_factor(factor, predictor_columns),
                                             [tuple(position[c] for c in t.columns) for t in terms])
        rows = inflation_rows(terms, gvifs)
    if len(names):
        indices, proportions = belsley_diagnostics(factor)
    else:
        indices, proportions = np.zeros(0), np.zeros((0, 0))
    results = {
        "vif": vif_result(rows, reason, thresholds),
        "condition_index": condition_index_result(
            names, indices, proportions, thresholds, intercept=names[0] if has_intercept and names else None
        ),
    }
    return CollinearitySummary(
        terms=rows,
        vif_reason=reason,
        condition_number=condition_number,
        condition_indices=tuple(float(v) for v in indices),
        variance_proportions=MappingProxyType(
            {name: tuple(float(v) for v in proportions[j]) for j, name in enumerate(names)}
        ),
        results=MappingProxyType(results),
    )


