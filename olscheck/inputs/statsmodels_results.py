"""Diagnose a model the user already fitted with statsmodels.

``olscheck.check(smf.ols("y ~ x + C(g)", df).fit())`` works like
``olscheck.check(df, formula="y ~ x + C(g)")``: the
:class:`~olscheck.model.design.Design` is built from the arrays statsmodels
fitted (``model.endog``, ``model.exog``, ``model.exog_names``), so the
diagnostics describe exactly that model, rows and columns included. When the
model came from a formula, its term structure (patsy ``DesignInfo`` or
formulaic ``ModelSpec``) says which columns belong together, so a
categorical term is one multi-column term as with the formula path.

statsmodels has already dropped incomplete rows; their count comes from
``model.data.missing_row_idx``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..model.design import NUMPY_POWER_TERM, POWER_TERM, check_enough_rows
from ..model.design import Design, PolynomialGroup, Term
from ..errors import ConstantTargetError, DataError, InsufficientDataError, NonFiniteValueError

__all__ = ["is_statsmodels_results", "design_from_results"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def is_statsmodels_results(obj: Any) -> bool:
    """True for a fitted statsmodels results object (wrapped or not).

    Decided from the class's module and the ``model.endog``/``model.exog``
    attributes, without importing statsmodels.
    """
    module = type(obj).__module__ or ""
    if not module.startswith("statsmodels."):
        return False
    model = getattr(obj, "model", None)
    return model is not None and hasattr(model, "endog") and hasattr(model, "exog")


def design_from_results(
    results: Any,
    *,
    target: str | None = None,
    predictors: Any = None,
    categorical: Any = None,
    formula: str | None = None,
    intercept: bool = True,
    order_by: str | None = None,
) -> Design:
    """The :class:`Design` of a fitted statsmodels OLS model.

    Parameters
    ----------
    results : statsmodels results
        From ``sm.OLS(y, X).fit()`` or ``smf.ols(formula, data).fit()``
        (any ``cov_type``: olscheck reports classical standard errors and
        judges whether robust ones are needed).
    target, predictors, categorical, formula, intercept
        The arguments :func:`olscheck.check` was called with; the model
        already fixes them, so giving a different value is an error.
    order_by : str, optional
        A column of the formula's data giving the time order; otherwise the
        rows keep the order statsmodels fitted them in.

    Raises
    ------
    DataError
        For a model that is not OLS (WLS, GLS, GLM ...), an argument that
        contradicts the model, or an ``order_by`` that cannot be applied.
    """
    model = results.model
    _require_ols(model)
    data = getattr(model, "data", None)
    spec = _model_spec(data)
    frame = getattr(data, "frame", None) if data is not None else None
    if not isinstance(frame, pd.DataFrame):
        frame = None

    # copies: the Design must not share memory with the user's model
    y = np.array(model.endog, dtype=float).reshape(-1)
    x = np.array(model.exog, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    names = [str(n) for n in (model.exog_names or [f"x{j + 1}" for j in range(x.shape[1])])]
    target_name = str(model.endog_names) if getattr(model, "endog_names", None) is not None else "y"
    _check_arguments(results, target_name, target, predictors, categorical, formula, intercept)

    row_labels = getattr(data, "row_labels", None) if data is not None else None
    row_index = pd.Index(row_labels) if row_labels is not None else pd.RangeIndex(y.size)
    if not np.isfinite(y).all():
        raise NonFiniteValueError(
            f"the model's target {target_name!r} holds missing or infinite values; refit with missing='drop'."
        )
    bad = ~np.isfinite(x).all(axis=0)
    if bad.any():
        raise NonFiniteValueError(
            f"the model's column(s) {', '.join(repr(names[j]) for j in np.flatnonzero(bad))} hold missing or "
            "infinite values; refit with missing='drop'."
        )

    notes = _source_notes(results)
    # statsmodels finds the constant column wherever it is; the Design wants it first
    const_index = getattr(data, "const_idx", None) if data is not None else None
    has_intercept = False
    if const_index is not None and y.size:
        column = x[:, int(const_index)]
        has_intercept = bool(column[0] != 0 and np.all(column == column[0]))
    order = list(range(x.shape[1]))
    if has_intercept:
        const_index = int(const_index)
        order = [const_index] + [j for j in order if j != const_index]
        x = x[:, order]
        if x[0, 0] != 1.0:
            # a constant column of c spans what ones span; its coefficient is reported per unit of ones
            notes.append(f"The constant column {names[const_index]!r} holds {x[0, 0]:g}, not 1; "
                         "olscheck reports it as an intercept (a column of ones).")
            x[:, 0] = 1.0
        names = [names[j] for j in order]
    position = {old: new for new, old in enumerate(order)}

    if spec is not None:
        terms, term_categorical, term_predictors, powers = _formula_terms(spec, names, position, frame)
    else:
        start = 1 if has_intercept else 0
        terms = [Term(name, (j,), False) for j, name in enumerate(names) if j >= start]
        term_categorical, term_predictors, powers = [], [t.name for t in terms], {}
        if getattr(model, "k_constant", 0) and not has_intercept:
            notes.append("statsmodels sees an implicit constant (e.g. a full set of dummies); olscheck treats the "
                          "model as one without an intercept, as R's lm(y ~ 0 + ...) does.")

    polynomials = []
    for base_name, by_power in powers.items():
        if len(by_power) >= 2 and 1 in by_power:
            polynomials.append(PolynomialGroup(base_name, x[:, by_power[1]].copy(), tuple(by_power), tuple(by_power.values())))

    missing = getattr(data, "missing_row_idx", None) if data is not None else None
    n_dropped = int(len(missing)) if missing is not None else 0
    n_rows = int(y.size + n_dropped)
    if n_dropped:
        notes.insert(0, f"statsmodels dropped {n_dropped} of {n_rows} rows with missing values before fitting.")

    order_name = None
    order_note = "Order-dependent tests use the rows in the order the statsmodels model was fitted on."
    if order_by is not None:
        permutation, order_note, order_notes = _time_order(order_by, frame, row_index)
        y, x, row_index = y[permutation], x[permutation], row_index[permutation]
        polynomials = [PolynomialGroup(g.base_name, g.base[permutation], g.powers, g.columns) for g in polynomials]
        order_name = str(order_by)
        notes.extend(order_notes)

    if y.size == 0:
        raise InsufficientDataError("the statsmodels model has no rows.")
    check_enough_rows(x.shape[0], x.shape[1], terms)
    if float(np.ptp(y)) == 0.0:
        raise ConstantTargetError(f"target {target_name!r} is constant ({y[0]:g}) over the {y.size} rows used.")
    return Design.for_target(
        y,
        x=x,
        column_names=tuple(names),
        terms=tuple(terms),
        has_intercept=bool(has_intercept),
        target=target_name,
        predictors=tuple(term_predictors),
        categorical=tuple(term_categorical),
        n_rows=n_rows,
        n_dropped=n_dropped,
        order_by=order_name,
        order_note=order_note,
        row_index=row_index,
        polynomials=tuple(polynomials),
        notes=tuple(notes),
    )


# ----------------------------------------------------------------------------- checks
def _require_ols(model) -> None:
    try:
        from statsmodels.regression.linear_model import OLS
    except ImportError:  # pragma: no cover - the object came from statsmodels
        OLS = None
    if OLS is not None and isinstance(model, OLS):
        return
    kind = type(model).__name__
    raise DataError(
        f"olscheck diagnoses ordinary least squares fits; this is a statsmodels {kind} model. "
        "Pass the data instead (olscheck.check(df, formula=...)) to check the OLS fit of the same model."
    )


def _check_arguments(results, target_name, target, predictors, categorical, formula, intercept) -> None:
    given = [name for name, value in (("predictors", predictors), ("categorical", categorical)) if value]
    if given:
        raise DataError(
            f"{' and '.join(given)} cannot be given with a fitted statsmodels model: the model already fixes its columns."
        )
    if target is not None and str(target) != target_name:
        raise DataError(f"target={target!r} disagrees with the fitted model's target {target_name!r}.")
    model_formula = getattr(results.model, "formula", None)
    if formula is not None and (model_formula is None or " ".join(str(formula).split()) != " ".join(str(model_formula).split())):
        raise DataError(
            f"formula={formula!r} disagrees with the fitted model"
            + (f" ({model_formula!r})." if model_formula else " (fitted without a formula).")
        )
    if intercept is False:
        raise DataError("intercept=False cannot be given with a fitted statsmodels model; refit it without a constant.")


def _source_notes(results) -> list[str]:
    """Facts about the fitted model worth a line in the report (each becomes a data note)."""
    cov_type = getattr(results, "cov_type", "nonrobust")
    if cov_type and cov_type != "nonrobust":
        return [f"The statsmodels results use cov_type={cov_type!r}; olscheck's tables show classical standard "
                "errors, and its checks say whether robust ones are needed."]
    return []


# ----------------------------------------------------------------------------- formula terms
def _model_spec(data):
    """The formula's term structure: patsy DesignInfo or formulaic ModelSpec, or None."""
    if data is None:
        return None
    for attribute in ("model_spec", "design_info"):  # statsmodels >= 0.15, then older releases
        spec = getattr(data, attribute, None)
        if spec is not None:
            return spec
    exog = getattr(data, "orig_exog", None)
    return getattr(exog, "design_info", None)


def _formula_terms(spec, names, position, frame):
    """Terms (with columns re-indexed after moving the constant first), categorical terms,
    source variables and polynomial powers of a formula model."""
    if hasattr(spec, "term_name_slices") and hasattr(spec, "factor_infos"):  # patsy
        entries = []
        for term in spec.terms:
            span = spec.term_name_slices[term.name()]
            factors = list(term.factors)
            categorical = any(spec.factor_infos[f].type == "categorical" for f in factors)
            entries.append((term.name(), span, [f.code for f in factors], categorical))
    else:  # formulaic
        state = getattr(spec, "encoder_state", {}) or {}
        entries = []
        for term, span in spec.term_slices.items():
            factors = list(getattr(term, "factors", []))
            codes = [str(f) for f in factors]
            categorical = any(_formulaic_categorical(state.get(code)) for code in codes)
            entries.append((str(term), span, codes, categorical))
    columns_in_frame = {str(c) for c in frame.columns} if frame is not None else set()
    terms, categorical_terms, variables = [], [], []
    powers: dict[str, dict[int, int]] = {}
    for name, span, codes, categorical in entries:
        columns = tuple(sorted(position[j] for j in range(span.start, span.stop)))
        if not codes or name in ("Intercept", "1"):
            continue
        terms.append(Term(name, columns, categorical))
        if categorical:
            categorical_terms.append(name)
        for code in codes:
            for variable in _variables(code, columns_in_frame):
                if variable not in variables:
                    variables.append(variable)
        if len(codes) == 1 and len(columns) == 1 and not categorical:
            match = POWER_TERM.match(codes[0]) or NUMPY_POWER_TERM.match(codes[0])
            if match and (not columns_in_frame or match.group(1) in columns_in_frame):
                powers.setdefault(match.group(1), {})[int(match.group(2))] = columns[0]
            elif _NAME.fullmatch(codes[0]):
                powers.setdefault(codes[0], {})[1] = columns[0]
    return terms, categorical_terms, variables, powers


def _formulaic_categorical(state) -> bool:
    kind = state[0] if isinstance(state, tuple) and state else None
    return getattr(kind, "value", str(kind)).lower() == "categorical" if kind is not None else False


def _variables(code: str, columns: set[str]) -> list[str]:
    """Data columns a factor's code refers to (the code itself without the data)."""
    if not columns:
        return [code]
    found = [token for token in _NAME.findall(code) if token in columns]
    found += [q for q in re.findall(r"Q\(\s*['\"](.+?)['\"]\s*\)", code) if q in columns]
    return list(dict.fromkeys(found)) or [code]


# ----------------------------------------------------------------------------- order
def _time_order(order_by: str, frame, row_index: pd.Index):
    if frame is None:
        raise DataError(
            "order_by needs the data the model was fitted on; it is available for formula models "
            "(smf.ols(formula, df)). Otherwise sort the rows before fitting."
        )
    if order_by not in frame.columns:
        raise DataError(f"order_by column {order_by!r} is not in the data the model was fitted on.")
    values = frame[order_by].reindex(row_index)
    if values.isna().any():
        raise DataError(
            f"order_by column {order_by!r} is missing in {int(values.isna().sum())} of the rows the model used; "
            "refit without them, or fill them."
        )
    try:
        permutation = np.argsort(values.to_numpy(), kind="stable")
    except TypeError:
        raise DataError(f"order_by column {order_by!r} mixes values that cannot be compared.") from None
    notes = []
    ties = int(values.duplicated().sum())
    if ties:
        notes.append(f"order_by column {order_by!r} has {ties} tied value(s); tied rows keep their order in the data.")
    return permutation, f"Order-dependent tests use the rows sorted by {order_by!r}.", notes
