"""Out-of-sample probe: does a non-linear learner beat the linear model?

The assumption tests ask whether the residuals of OLS look the way OLS needs.
The probe asks the question a practitioner cares about directly: on rows the
models have not seen, does a non-linear model predict the target better than
the collapsed linear model (OLS)? If a flexible learner cannot beat OLS out
of sample, a linear-activation network -- that is, OLS -- is all the data
supports; if it beats OLS by a clear margin, the conditional mean is not
linear in the predictors and a non-linear network is worth its cost.

Three models are fitted on identical, seeded K folds:

* ``ols``: least squares with an intercept, closed form
  (:func:`olscheck.linalg.least_squares`);
* ``gradient_boosting``: scikit-learn's ``HistGradientBoostingRegressor``;
* ``mlp``: a ReLU ``MLPRegressor`` (inputs and target standardised inside
  each training fold) with early stopping.

scikit-learn is imported only when :func:`run_probe` runs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .errors import ConfigurationError, DataError
from .linalg import least_squares
from .result import clean_float

__all__ = [
    "LEARNERS",
    "MIN_ROWS",
    "MIN_ROWS_PER_FOLD",
    "CONFIDENCE",
    "ModelScores",
    "Gain",
    "ProbeResult",
    "run_probe",
    "probe_fit",
]

#: The non-linear learners the probe knows, with what each one is.
LEARNERS: Mapping[str, str] = MappingProxyType({
    "gradient_boosting": (
        "HistGradientBoostingRegressor(max_iter=200, learning_rate=0.1, max_leaf_nodes=31, "
        "min_samples_leaf=20, early_stopping=True, validation_fraction=0.1, n_iter_no_change=10)"
    ),
    "mlp": (
        "StandardScaler + MLPRegressor(hidden_layer_sizes=(64, 32), activation='relu', solver='adam', "
        "batch_size=256, max_iter=200, early_stopping=True, validation_fraction=0.1, n_iter_no_change=10), "
        "target standardised in the training fold"
    ),
})

OLS_DESCRIPTION = "ordinary least squares with an intercept, closed form (olscheck.linalg.least_squares)"

#: Fewer rows than this and fold-wise R² values are too noisy to compare.
MIN_ROWS = 30
#: Every test fold needs at least this many rows (so n >= 5 * folds).
MIN_ROWS_PER_FOLD = 5
#: Level of the confidence intervals of the gain.
CONFIDENCE = 0.95


@dataclass(frozen=True, eq=False)
class ModelScores:
    """Out-of-sample accuracy of one model on the probe's folds.

    Attributes
    ----------
    name : str
        ``"ols"``, ``"gradient_boosting"`` or ``"mlp"``.
    description : str
        The estimator and its settings.
    r_squared : float
        Pooled out-of-sample R²: ``1 - sum of squared prediction errors over
        all folds / sum of squares of y about its mean``.
    mse : float
        Pooled mean squared prediction error (every row predicted once, by
        the model that did not see it).
    r_squared_per_fold, mse_per_fold : tuple of float
        Per test fold; R² is ``1 - SSE_k / SST_k`` with ``SST_k`` about the
        test fold's own mean (scikit-learn's ``r2_score``).
    """

    name: str
    description: str
    r_squared: float
    mse: float
    r_squared_per_fold: tuple[float, ...]
    mse_per_fold: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "r_squared": clean_float(self.r_squared),
            "mse": clean_float(self.mse),
            "r_squared_per_fold": [clean_float(v) for v in self.r_squared_per_fold],
            "mse_per_fold": [clean_float(v) for v in self.mse_per_fold],
        }


@dataclass(frozen=True, eq=False)
class Gain:
    """Paired out-of-sample gain of one non-linear learner over OLS.

    Attributes
    ----------
    learner : str
    r_squared_gain_per_fold : tuple of float
        ``R²_learner,k - R²_ols,k`` for each fold k.
    r_squared_gain_mean : float
    r_squared_gain_ci : tuple of float
        Corrected resampled-t confidence interval of the mean (see
        :func:`run_probe`, Notes).
    relative_mse_reduction_per_fold : tuple of float
        ``1 - MSE_learner,k / MSE_ols,k``: the share of OLS's squared error
        the learner removes (negative when it does worse).
    relative_mse_reduction_mean : float
    relative_mse_reduction_ci : tuple of float
    """

    learner: str
    r_squared_gain_per_fold: tuple[float, ...]
    r_squared_gain_mean: float
    r_squared_gain_ci: tuple[float, float]
    relative_mse_reduction_per_fold: tuple[float, ...]
    relative_mse_reduction_mean: float
    relative_mse_reduction_ci: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "learner": self.learner,
            "r_squared_gain_per_fold": [clean_float(v) for v in self.r_squared_gain_per_fold],
            "r_squared_gain_mean": clean_float(self.r_squared_gain_mean),
            "r_squared_gain_ci": [clean_float(v) for v in self.r_squared_gain_ci],
            "relative_mse_reduction_per_fold": [clean_float(v) for v in self.relative_mse_reduction_per_fold],
            "relative_mse_reduction_mean": clean_float(self.relative_mse_reduction_mean),
            "relative_mse_reduction_ci": [clean_float(v) for v in self.relative_mse_reduction_ci],
        }


@dataclass(frozen=True, eq=False)
class ProbeResult:
    """What :func:`run_probe` found.

    Attributes
    ----------
    computed : bool
        False when the probe could not run on this data; ``reason`` says why
        and the scores are empty.
    reason : str or None
    n_rows : int
        Rows given.
    n_used_for_probe : int
        Rows the probe used (``max_rows`` when it sampled).
    sampled : bool
        True when ``n_rows > max_rows`` and a seeded random subset was used.
    folds, seed : int
    column_names : tuple of str
    fold_sizes : tuple of int
        Rows in each test fold.
    models : Mapping[str, ModelScores]
        ``"ols"`` first, then each learner.
    gains : Mapping[str, Gain]
        Each learner's paired gain over OLS.
    best_learner : str or None
        The learner with the highest mean per-fold R².
    method : str
        The procedure in one paragraph, for the report.
    """

    __test__ = False

    computed: bool
    reason: str | None
    n_rows: int
    n_used_for_probe: int
    sampled: bool
    folds: int
    seed: int
    column_names: tuple[str, ...] = ()
    fold_sizes: tuple[int, ...] = ()
    models: Mapping[str, ModelScores] = field(default_factory=lambda: MappingProxyType({}))
    gains: Mapping[str, Gain] = field(default_factory=lambda: MappingProxyType({}))
    best_learner: str | None = None
    method: str = ""

    @property
    def gain(self) -> Gain | None:
        """The best learner's gain over OLS (None when not computed)."""
        return self.gains.get(self.best_learner) if self.best_learner else None

    @property
    def summary(self) -> str:
        """One neutral sentence on the best learner against OLS."""
        if not self.computed:
            return f"The non-linear probe was not run: {self.reason}"
        gain = self.gain
        low, high = gain.r_squared_gain_ci
        ols = self.models["ols"].r_squared
        best = self.models[self.best_learner].r_squared
        return (
            f"Out of sample, OLS explains R² = {ols:.3f} and the best non-linear learner "
            f"({self.best_learner}) R² = {best:.3f}; paired gain in R² {gain.r_squared_gain_mean:+.3f} "
            f"({CONFIDENCE:.0%} CI {low:+.3f} to {high:+.3f}) over {self.folds} folds."
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (no NaN; tuples become lists)."""
        gain = self.gain
        return {
            "computed": self.computed,
            "reason": self.reason,
            "n_rows": self.n_rows,
            "n_used_for_probe": self.n_used_for_probe,
            "sampled": self.sampled,
            "folds": self.folds,
            "seed": self.seed,
            "column_names": list(self.column_names),
            "fold_sizes": list(self.fold_sizes),
            "models": {name: scores.to_dict() for name, scores in self.models.items()},
            "best_learner": self.best_learner,
            "gain": None if gain is None else gain.to_dict(),
            "gains": {name: g.to_dict() for name, g in self.gains.items()},
            "confidence": CONFIDENCE,
            "method": self.method,
            "summary": self.summary,
        }


def run_probe(
    x: Any,
    y: Any,
    *,
    column_names: Sequence[str] | None = None,
    folds: int = 5,
    seed: int = 0,
    max_rows: int = 20000,
    learners: Sequence[str] = ("gradient_boosting", "mlp"),
) -> ProbeResult:
    r"""Compare OLS with non-linear learners out of sample, on identical folds.

    Parameters
    ----------
    x : array-like, shape (n, p)
        The model's design matrix without the intercept column (numeric and
        dummy columns). A DataFrame's column names are used.
    y : array-like, shape (n,)
        The target.
    column_names : sequence of str, optional
        Names of the columns of ``x`` (recorded in the result).
    folds : int
        Number of cross-validation folds K (at least 2).
    seed : int
        Seeds the row sample, the fold assignment and both learners: the same
        seed gives identical numbers.
    max_rows : int
        Above this many rows a seeded random subset of ``max_rows`` rows is
        used (``numpy.random.default_rng(seed).choice(n, max_rows,
        replace=False)``, kept in row order), and the result says so.
    learners : sequence of str
        Any of ``"gradient_boosting"``, ``"mlp"``.

    Returns
    -------
    ProbeResult
        ``computed=False`` with a reason when the data is too small
        (``n < max(30, 5 K)``), has no predictor column, or the target is
        constant (overall or within a test fold).

    Raises
    ------
    ConfigurationError
        ``folds``, ``max_rows``, ``learners`` or ``column_names`` are invalid.
    DataError
        ``x`` and ``y`` do not match in length, or hold non-finite values.

    Notes
    -----
    Rows are shuffled with the seed and split into K folds (scikit-learn's
    ``KFold(shuffle=True, random_state=seed)``); every model is trained on
    the same K-1 folds and scored on the held-out fold. The pooled
    out-of-sample

    .. math:: R^2_{oos} = 1 - \frac{\sum_i (y_i - \hat y_{-k(i)}(x_i))^2}{\sum_i (y_i - \bar y)^2}

    uses each row's prediction by the model that did not see it.

    The evidence is the *paired* per-fold difference
    :math:`d_k = R^2_{nl,k} - R^2_{ols,k}` (and likewise
    :math:`1 - MSE_{nl,k}/MSE_{ols,k}`): pairing removes the fold-to-fold
    variation both models share. Its confidence interval is

    .. math:: \bar d \pm t_{K-1,\,0.975}\,\sqrt{\Big(\frac1K + \frac{n_{test}}{n_{train}}\Big) s_d^2}

    -- the corrected resampled t of Nadeau & Bengio (2003), not the naive
    :math:`\sqrt{s_d^2/K}`. The K training sets overlap (any two share a
    fraction (K-2)/(K-1) of their rows), so the :math:`d_k` are positively
    correlated and :math:`s_d^2/K` understates the variance of
    :math:`\bar d`; the naive interval is too narrow and rejects "no gain"
    far too often (Dietterich 1998; Bouckaert & Frank 2004). The correction
    replaces the naive variance :math:`s_d^2/K` by
    :math:`(1/K + n_{test}/n_{train})\,s_d^2`, i.e. multiplies it by
    :math:`1 + K n_{test}/n_{train}` = 1 + K/(K-1) for equal folds (2.25 for
    K = 5, a 1.5 times wider interval). It is a heuristic -- it assumes the
    correlation of the :math:`d_k` is about :math:`n_{test}/n` -- but the one
    with acceptable type-I error in Nadeau & Bengio's and Bouckaert &
    Frank's simulations; with only K - 1 degrees of freedom the interval is
    wide, which errs towards "no evidence of non-linearity".

    The best learner is the one with the highest mean per-fold R²; choosing
    it on the same folds favours it slightly, so a small positive gain is
    not evidence of non-linearity -- look at the interval's lower end.

    The MLP standardises inputs and target with statistics of the training
    fold only (a ``Pipeline`` inside a ``TransformedTargetRegressor``), so
    nothing leaks from the test fold. Both learners stop early on 10% of the
    training fold (10 rounds without improvement), which keeps 20,000 x 20
    to under ten seconds on two cores (``benchmarks/probe_benchmark.py``) and
    stops small data from being over-fitted. The probe fits K models of each
    kind; the cost grows about linearly in the rows (capped by ``max_rows``)
    and the columns.

    References
    ----------
    Nadeau, C. & Bengio, Y. (2003). Inference for the generalization error.
    *Machine Learning* 52, 239-281.
    Bouckaert, R. R. & Frank, E. (2004). Evaluating the replicability of
    significance tests for comparing learning algorithms. *PAKDD*, 3-12.
    Dietterich, T. G. (1998). Approximate statistical tests for comparing
    supervised classification learning algorithms. *Neural Computation* 10,
    1895-1923.
    """
    folds = _check_int("folds", folds, minimum=2)
    seed = _check_int("seed", seed, minimum=0, maximum=2**32 - 1)
    minimum_rows = max(MIN_ROWS, MIN_ROWS_PER_FOLD * folds)
    max_rows = _check_int("max_rows", max_rows, minimum=minimum_rows)
    learner_names = _check_learners(learners)

    names_from_frame = list(map(str, x.columns)) if hasattr(x, "columns") else None
    try:
        design = np.asarray(x, dtype=float)
        target = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError) as error:
        raise DataError(
            f"the probe needs numeric x and y (encode categories as dummy columns first): {error}"
        ) from None
    if design.ndim == 1:
        design = design[:, None]
    if design.ndim != 2:
        raise DataError(f"x must be a 2-D design matrix (rows x columns); got shape {design.shape}.")
    if design.shape[0] != target.shape[0]:
        raise DataError(f"x has {design.shape[0]} rows but y has {target.shape[0]}; they must match.")
    if not (np.all(np.isfinite(design)) and np.all(np.isfinite(target))):
        raise DataError("x and y must be finite: drop or impute missing and infinite values before the probe.")
    names = column_names if column_names is not None else names_from_frame
    names = tuple(str(n) for n in names) if names is not None else tuple(f"x{j + 1}" for j in range(design.shape[1]))
    if len(names) != design.shape[1]:
        raise ConfigurationError(f"column_names has {len(names)} names but x has {design.shape[1]} columns.")

    n_rows = int(target.shape[0])
    rows = np.arange(n_rows)
    sampled = n_rows > max_rows
    if sampled:
        rows = np.sort(np.random.default_rng(seed).choice(n_rows, size=max_rows, replace=False))
        design, target = design[rows], target[rows]
    n = int(target.shape[0])
    method = _method_text(folds, seed, learner_names, sampled, n_rows, max_rows)

    def not_computed(reason: str) -> ProbeResult:
        return ProbeResult(computed=False, reason=reason, n_rows=n_rows, n_used_for_probe=n, sampled=sampled,
                           folds=folds, seed=seed, column_names=names, method=method)

    if n < minimum_rows:
        return not_computed(
            f"{n} rows are too few for {folds}-fold cross-validation; the probe needs at least {minimum_rows} "
            f"(30, and {MIN_ROWS_PER_FOLD} per fold)."
        )
    if design.shape[1] == 0:
        return not_computed("the model has no predictor columns, so there is nothing a non-linear learner could use.")
    if np.ptp(target) == 0:
        return not_computed("the target is constant, so out-of-sample R² is undefined.")

    from sklearn.model_selection import KFold
    from threadpoolctl import threadpool_limits

    splits = list(KFold(n_splits=folds, shuffle=True, random_state=seed).split(design))
    fold_sizes = tuple(int(test.size) for _, test in splits)
    fold_tss = np.array([_centred_sum_of_squares(target[test]) for _, test in splits])
    if np.any(fold_tss <= 0):
        return not_computed("the target is constant within a test fold, so that fold's R² is undefined.")

    model_names = ["ols", *learner_names]
    predictions = {name: np.empty(n) for name in model_names}
    for train, test in splits:
        predictions["ols"][test] = _ols_predict(design[train], target[train], design[test])
        for name in learner_names:
            estimator = _make_learner(name, seed)
            # One thread for BLAS and OpenMP. Threads gain little here (the MLP's 256-row mini-batch
            # products not at all, the boosting about 25% on an idle 2-core machine), but when the
            # cores are busy, spinning OpenMP/BLAS workers made the same probe 4-30 times slower
            # (3 s against 13-92 s for 500 rows, measured). A fixed thread count also fixes the
            # order of floating-point sums, so the numbers do not depend on the core count.
            with warnings.catch_warnings(), threadpool_limits(limits=1):
                # hitting max_iter is expected on large data; the score says how good the fit is
                warnings.simplefilter("ignore")
                estimator.fit(design[train], target[train])
                predictions[name][test] = estimator.predict(design[test])

    total_ss = _centred_sum_of_squares(target)
    models: dict[str, ModelScores] = {}
    sse_per_fold: dict[str, np.ndarray] = {}
    for name in model_names:
        squared_error = (target - predictions[name]) ** 2
        sse = np.array([squared_error[test].sum() for _, test in splits])
        sse_per_fold[name] = sse
        models[name] = ModelScores(
            name=name,
            description=OLS_DESCRIPTION if name == "ols" else LEARNERS[name],
            r_squared=float(1.0 - squared_error.sum() / total_ss),
            mse=float(squared_error.mean()),
            r_squared_per_fold=tuple(float(v) for v in 1.0 - sse / fold_tss),
            mse_per_fold=tuple(float(v) for v in sse / np.array(fold_sizes)),
        )

    test_sizes = np.array(fold_sizes, dtype=float)
    # ratio of the average test to the average training set size, 1/(K-1) for equal folds
    size_ratio = float(test_sizes.mean() / (n - test_sizes).mean())
    gains: dict[str, Gain] = {}
    for name in learner_names:
        r2_difference = (sse_per_fold["ols"] - sse_per_fold[name]) / fold_tss
        with np.errstate(divide="ignore", invalid="ignore"):
            mse_reduction = 1.0 - sse_per_fold[name] / sse_per_fold["ols"]
        # where OLS predicted a fold exactly the relative reduction is undefined (NaN -> null)
        mse_reduction = np.where(np.isfinite(mse_reduction), mse_reduction, np.nan)
        gains[name] = Gain(
            learner=name,
            r_squared_gain_per_fold=tuple(float(v) for v in r2_difference),
            r_squared_gain_mean=float(r2_difference.mean()),
            r_squared_gain_ci=corrected_resampled_t_interval(r2_difference, size_ratio),
            relative_mse_reduction_per_fold=tuple(float(v) for v in mse_reduction),
            relative_mse_reduction_mean=float(mse_reduction.mean()),
            relative_mse_reduction_ci=corrected_resampled_t_interval(mse_reduction, size_ratio),
        )
    best = max(learner_names, key=lambda name: (float(np.mean(models[name].r_squared_per_fold)),
                                                -learner_names.index(name)))
    return ProbeResult(
        computed=True, reason=None, n_rows=n_rows, n_used_for_probe=n, sampled=sampled, folds=folds, seed=seed,
        column_names=names, fold_sizes=fold_sizes, models=MappingProxyType(models),
        gains=MappingProxyType(gains), best_learner=best, method=method,
    )


def probe_fit(fit: Any, **options: Any) -> ProbeResult:
    """:func:`run_probe` on a :class:`~olscheck.model.LinearFit`'s own design and target.

    The intercept column is left out (the probe's OLS adds its own) and the
    target is put back in its own units, so MSEs read in the target's units.
    """
    x = fit.x[:, 1:] if fit.has_intercept else fit.x
    names = fit.column_names[1:] if fit.has_intercept else fit.column_names
    y = np.asarray(fit.y, dtype=float) * float(fit.design.response_scale)
    return run_probe(x, y, column_names=names, **options)


def corrected_resampled_t_interval(differences: np.ndarray, test_train_ratio: float,
                                   confidence: float = CONFIDENCE) -> tuple[float, float]:
    r"""Nadeau & Bengio's corrected resampled-t interval for a mean of K paired fold differences.

    .. math:: \bar d \pm t_{K-1,\,(1+c)/2} \sqrt{\Big(\frac1K + \frac{n_{test}}{n_{train}}\Big) s_d^2}

    with :math:`s_d^2` the sample variance (divisor K-1) of the differences.
    Returns ``(nan, nan)`` when a difference is undefined (the caller turns
    NaN into JSON null).
    """
    from scipy import stats

    differences = np.asarray(differences, dtype=float)
    k = differences.size
    if k < 2 or not np.all(np.isfinite(differences)):
        return (math.nan, math.nan)
    mean = float(differences.mean())
    variance = float(differences.var(ddof=1))
    half_width = float(stats.t.ppf(0.5 + confidence / 2, k - 1)) * math.sqrt((1.0 / k + test_train_ratio) * variance)
    return (mean - half_width, mean + half_width)


# ---------------------------------------------------------------------------
def _ols_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray) -> np.ndarray:
    solution = least_squares(x_train, y_train, intercept=True)
    # aliased columns of the training fold get no coefficient, as in R's predict.lm with NA terms
    return solution.coefficients[0] + x_test[:, solution.kept] @ solution.coefficients[1:]


def _make_learner(name: str, seed: int):
    if name == "gradient_boosting":
        from sklearn.ensemble import HistGradientBoostingRegressor

        return HistGradientBoostingRegressor(max_iter=200, learning_rate=0.1, max_leaf_nodes=31, min_samples_leaf=20,
                                             early_stopping=True, validation_fraction=0.1,
                                             n_iter_no_change=10, random_state=seed)
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    network = MLPRegressor(hidden_layer_sizes=(64, 32), activation="relu", solver="adam", batch_size=256,
                           learning_rate_init=1e-3, max_iter=200, early_stopping=True, validation_fraction=0.1,
                           n_iter_no_change=10, random_state=seed)
    # an unscaled target (thousands of dollars, say) makes adam's fixed step size far too small
    return TransformedTargetRegressor(regressor=make_pipeline(StandardScaler(), network), transformer=StandardScaler())


def _centred_sum_of_squares(values: np.ndarray) -> float:
    centred = values - values.mean()
    return float(centred @ centred)


def _check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigurationError(f"{name} must be {bound}; got {value}.")
    return int(value)


def _check_learners(learners: Sequence[str]) -> list[str]:
    if isinstance(learners, str):
        learners = [learners]
    names = list(dict.fromkeys(learners))
    unknown = [n for n in names if n not in LEARNERS]
    if unknown or not names:
        raise ConfigurationError(
            f"learners must name at least one of {', '.join(LEARNERS)}; got {list(learners)!r}."
        )
    return names


def _method_text(folds: int, seed: int, learners: list[str], sampled: bool, n_rows: int, max_rows: int) -> str:
    text = (
        f"{folds}-fold cross-validation (rows shuffled with seed {seed}); OLS and "
        f"{' and '.join(learners)} trained on identical folds and scored on the held-out fold. "
        f"Gain = per-fold paired difference against OLS, with a {CONFIDENCE:.0%} corrected resampled-t "
        "interval (Nadeau & Bengio 2003)."
    )
    if sampled:
        text += f" The data has {n_rows} rows; a seeded random sample of {max_rows} rows was used."
    return text
