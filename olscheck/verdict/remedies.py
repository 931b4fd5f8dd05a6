"""Runnable remedies written with the user's own column names.

Each function returns a :class:`Remedy` whose ``code`` runs as it stands
once ``df`` holds the user's data (statsmodels' formula API, or
scikit-learn for non-linear models).
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FormulaParts", "Remedy", "formula_of", "quote"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Remedy:
    """A suggested fix: which assumption, what to do, and the code."""

    assumption: str
    title: str
    code: str

    def to_dict(self) -> dict[str, str]:
        return {"assumption": self.assumption, "title": self.title, "code": self.code}


@dataclass(frozen=True)
class FormulaParts:
    """What the remedies' code is written from: the model's formula and row order.

    Built from a :class:`olscheck.model.design.Design` (:meth:`of`) or directly
    by the streaming engine, which has no Design of all rows.
    """

    target: str
    predictors: tuple[str, ...]
    categorical: tuple[str, ...]
    terms: tuple[Any, ...]  # olscheck.model.design.Term: name, columns, categorical
    has_intercept: bool
    order_by: str | None = None

    @classmethod
    def of(cls, design) -> "FormulaParts":
        return cls(target=design.target, predictors=tuple(design.predictors), categorical=tuple(design.categorical),
                   terms=tuple(design.terms), has_intercept=bool(design.has_intercept), order_by=design.order_by)


def quote(name: str) -> str:
    """A column name as a patsy formula term (``Q("stack.loss")`` when it is not an identifier)."""
    if _IDENTIFIER.match(name) and not keyword.iskeyword(name):
        return name
    return "Q(" + repr(name) + ")"


def formula_of(design, target_expression: str | None = None, log_columns: set[str] | frozenset = frozenset()) -> str:
    """The model as a statsmodels formula string (``design``: a Design or :class:`FormulaParts`)."""
    terms = []
    for term in design.terms:
        if not term.columns:
            continue
        if term.name in design.predictors:  # a data column, not a formula expression
            text = quote(term.name)
            if term.categorical:
                text = f"C({text})"
            elif term.name in log_columns:
                text = f"np.log({text})"
        else:
            text = term.name
        terms.append(text)
    lhs = target_expression or quote(design.target)
    rhs = " + ".join(terms) if terms else "1"
    if not design.has_intercept:
        rhs += " - 1"
    return f"{lhs} ~ {rhs}"


def _header(formula: str) -> str:
    return (
        "import numpy as np\n"
        "import statsmodels.api as sm\n"
        "import statsmodels.formula.api as smf\n"
        f"formula = {formula!r}\n"
    )


def heteroskedasticity(design, worst: str | None) -> Remedy:
    formula = formula_of(design)
    code = _header(formula) + (
        "# 1. keep OLS estimates, use heteroskedasticity-consistent standard errors\n"
        "robust = smf.ols(formula, data=df).fit(cov_type=\"HC3\")\n"
        "print(robust.summary())\n"
        "# 2. or weight by an estimated variance function (feasible WLS)\n"
        "ols = smf.ols(formula, data=df).fit()\n"
        "variance = np.exp(sm.OLS(np.log(ols.resid**2), sm.add_constant(ols.fittedvalues)).fit().fittedvalues)\n"
        "wls = smf.wls(formula, data=df.loc[ols.resid.index], weights=1 / variance).fit()\n"
    )
    title = "Heteroskedasticity-consistent (HC3) standard errors, or weighted least squares"
    if worst:
        title += f" (the standard error of {worst} moves most)"
    return Remedy("homoskedasticity", title, code)


def binary(design, second: float) -> Remedy:
    """Logistic regression for a two-valued target (the probability of its second value), or HC3 errors."""
    formula = formula_of(design)
    target = design.target
    code = _header(formula) + (
        f"data = df.assign(**{{{target!r}: (df[{target!r}] == {second!r}).astype(float)}})  # 0/1 (also for True/False)\n"
        f"# 1. the probability that {target} is {second:g}, by logistic regression (R: glm(..., family = binomial))\n"
        "logistic = smf.logit(formula, data=data).fit()\n"
        "print(logistic.summary())\n"
        "# 2. or the linear probability model for average effects, with heteroskedasticity-robust errors\n"
        "linear_probability = smf.ols(formula, data=data).fit(cov_type=\"HC3\")\n"
    )
    return Remedy("homoskedasticity", "A two-valued target: logistic regression, or the linear probability model "
                  "with HC3 standard errors", code)


def autocorrelation(design, lags: int) -> Remedy:
    formula = formula_of(design)
    order = f".sort_values({design.order_by!r})" if design.order_by else ""
    code = _header(formula) + (
        f"data = df{order}  # rows in time order\n"
        f"# 1. Newey-West (HAC) standard errors; {lags} lags = floor(4 (n/100)^(2/9)) (Newey & West 1994)\n"
        f"hac = smf.ols(formula, data=data).fit(cov_type=\"HAC\", cov_kwds={{\"maxlags\": {lags}}})\n"
        "# 2. or model AR(1) errors by feasible GLS\n"
        "glsar = sm.GLSAR.from_formula(formula, data=data, rho=1).iterative_fit(maxiter=10)\n"
    )
    return Remedy("independence", "Autocorrelation-robust (HAC) standard errors, or GLSAR for AR(1) errors", code)


def grouped_code(design, group: str) -> tuple[str, str]:
    """The two statsmodels calls for errors correlated within groups: cluster-robust OLS and a mixed model.

    Written with the model's formula and the ``group`` column, on ``data``
    (the rows with every used column and a group, see :func:`grouped`).
    """
    formula = formula_of(design)
    cluster = (f"smf.ols({formula!r}, data=data).fit(cov_type=\"cluster\", "
               f"cov_kwds={{\"groups\": data[{group!r}]}})")
    mixed = f"smf.mixedlm({formula!r}, data, groups=data[{group!r}]).fit()"
    return cluster, mixed


def grouped(design, group: str) -> Remedy:
    """Cluster-robust standard errors by ``group`` (CR1), or a random intercept per group (mixed model)."""
    formula = formula_of(design)
    columns = list(dict.fromkeys([design.target, *design.predictors, group]))
    code = _header(formula) + (
        f"# the rows the model uses, each with its group ({group!r})\n"
        f"data = df.dropna(subset=[c for c in {columns!r} if c in df.columns])\n"
        "# 1. keep the OLS estimates, use standard errors robust to correlation within groups\n"
        "#    (CR1, as R's sandwich::vcovCL(fit, cluster = ~group, type = \"HC1\"))\n"
        f"clustered = smf.ols(formula, data=data).fit(cov_type=\"cluster\", cov_kwds={{\"groups\": data[{group!r}]}})\n"
        "print(clustered.summary())\n"
        "# 2. or model the group effect: a random intercept per group (linear mixed model)\n"
        f"mixed = smf.mixedlm(formula, data, groups=data[{group!r}]).fit()\n"
        "print(mixed.summary())\n"
    )
    return Remedy("independence", f"Cluster-robust standard errors by {group!r}, or a mixed model with a random "
                  "intercept per group", code)


def normality(design, positive_target: bool) -> Remedy:
    formula = formula_of(design)
    lines = _header(formula)
    if positive_target:
        log_formula = formula_of(design, target_expression=f"np.log({quote(design.target)})")
        lines += f"# a skewed positive target is often normal on the log scale\nlog_fit = smf.ols({log_formula!r}, data=df).fit()\n"
    lines += (
        "# or keep the model and bootstrap the coefficients' intervals\n"
        "rng = np.random.default_rng(0)\n"
        "boot = [smf.ols(formula, data=df.sample(len(df), replace=True, random_state=rng)).fit().params for _ in range(999)]\n"
        "intervals = np.percentile(np.array(boot), [2.5, 97.5], axis=0)\n"
    )
    return Remedy("normality", "Transform the target, or bootstrap the intervals", lines)


def collinearity(design, terms: list[str]) -> Remedy:
    named = ", ".join(terms) if terms else "the terms with the largest VIF"
    formula = formula_of(design)
    code = _header(formula) + (
        f"# drop one of {named}, or combine them (e.g. their sum or first principal component);\n"
        "# or keep all and shrink with ridge regression on standardised columns:\n"
        "from sklearn.linear_model import RidgeCV\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "import patsy\n"
        "y, X = patsy.dmatrices(formula, df, return_type=\"dataframe\")\n"
        "ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 25))).fit(X.drop(columns=\"Intercept\", errors=\"ignore\"), y.iloc[:, 0])\n"
    )
    return Remedy("no_collinearity", f"Drop or combine collinear terms ({named}), or use ridge regression", code)


def influence(design, rows: list[str]) -> Remedy:
    formula = formula_of(design)
    shown = ", ".join(rows[:5])
    code = _header(formula) + (
        f"# look at the most influential rows first: {shown}\n"
        "# then fit a robust regression that down-weights them (Huber M-estimator)\n"
        "robust = smf.rlm(formula, data=df, M=sm.robust.norms.HuberT()).fit()\n"
        "print(robust.summary())\n"
    )
    return Remedy("no_influential_points", "Check the influential rows; robust (Huber) regression", code)


def transform(design, candidate) -> Remedy:
    code = (
        "import numpy as np\n"
        "import statsmodels.formula.api as smf\n"
        f"fit = smf.ols({candidate.formula!r}, data=df).fit()\n"
        "# predictions on the original scale need a retransformation (e.g. Duan's smearing for log)\n"
    )
    return Remedy("linearity", f"Model {candidate.description}: the mean is linear on that scale", code)


def nonlinear(design) -> Remedy:
    names = [p for p in design.predictors]
    categorical = [p for p in design.categorical if p in names]
    columns = "[" + ", ".join(repr(p) for p in names) + "]"
    code = (
        "from sklearn.ensemble import HistGradientBoostingRegressor\n"
        "from sklearn.model_selection import cross_val_score\n"
        "from sklearn.neural_network import MLPRegressor\n"
        "from sklearn.pipeline import make_pipeline\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "import pandas as pd\n"
        f"data = df.dropna(subset={[design.target, *names]!r})\n"
        f"X = pd.get_dummies(data[{columns}], columns={categorical!r}, drop_first=True, dtype=float)\n"
        f"y = data[{design.target!r}]\n"
        "boosting = HistGradientBoostingRegressor(random_state=0)\n"
        "network = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64, 32), activation=\"relu\",\n"
        "                                                       early_stopping=True, max_iter=500, random_state=0))\n"
        "for model in (boosting, network):\n"
        "    print(type(model).__name__, cross_val_score(model, X, y, cv=5, scoring=\"r2\").mean())\n"
    )
    return Remedy("linearity", "Use a non-linear model (gradient boosting or a ReLU network)", code)
