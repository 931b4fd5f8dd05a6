"""The one place where cut-offs live.

Every severity olscheck reports is decided by the check that computes the
statistic, from a :class:`Thresholds` object. Printers and templates never
compare numbers with cut-offs. Each field names its source.

False alarms are controlled family-wise. Five assumption families are
*tested* (their evidence is a p-value, so chance alone can raise them):
linearity, homoskedasticity, independence, normality and influence
(:data:`TESTED_FAMILIES`). Each family makes one decision from its
*primary* tests, each judged at :meth:`Thresholds.primary_level`
``= alpha / (5 × primaries in the family)`` (Bonferroni across and within
families), so under a clean linear model the verdict raises a false alarm
with probability at most about ``alpha`` whatever n. The family's other
tests are supporting evidence: they can add a note, never a warning.
Collinearity is a property of the design, not a test, and needs no level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Any, Mapping

from .errors import ConfigurationError

__all__ = ["Thresholds", "DEFAULT_THRESHOLDS", "TESTED_FAMILIES", "resolve_thresholds"]

#: The assumption families whose decision rests on a p-value; ``alpha`` is
#: shared between them (Bonferroni), so the verdict's false-alarm rate on a
#: clean linear model is at most about ``alpha``.
TESTED_FAMILIES = ("linearity", "homoskedasticity", "independence", "normality", "influence")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Cut-offs that turn statistics into severities.

    Attributes
    ----------
    alpha : float
        The false-alarm rate of the whole verdict on a clean linear model
        (conventional 0.05). Reported p-values are compared with it for
        notes; a warning needs the family-wise level
        :meth:`primary_level` (Bonferroni: Dunn, JASA 1961).
    vif_warn, vif_fail : float
        Variance inflation factor bands: 5 (James et al., *An Introduction
        to Statistical Learning*, 2013, §3.3.3) and 10 (Kutner et al.,
        *Applied Linear Statistical Models*, 5th ed., §10.5). For a
        multi-column term the comparable quantity GVIF^(1/(2 df)) is judged
        against the square roots of these (Fox & Monette, JASA 1992).
    condition_index_warn, condition_index_fail : float
        Belsley condition indices: 30 signals moderate to strong dependence,
        100 serious (Belsley, Kuh & Welsch, *Regression Diagnostics*, 1980,
        ch. 3).
    variance_proportion : float
        A near-dependency involves a coefficient when its variance-
        decomposition proportion on a high-index dimension is at least 0.5
        (Belsley, Kuh & Welsch 1980).
    cooks_distance_fail : float
        Cook's distance above 1 marks a point that moves the fit by more
        than the 50% confidence region (Cook & Weisberg, *Residuals and
        Influence in Regression*, 1982).
    cooks_distance_rule : str
        The screening cut-off 4/n for counting influential points (Bollen &
        Jackman 1990); recorded, not tunable, so reports stay comparable.
    influential_share_warn : float
        Share of rows with Cook's D > 4/n above which influence is worth a
        note. About 5% of rows exceed 4/n in well-behaved data, so twice
        that is unusual. Cook's distance and the outlier test screen rows;
        whether those rows change the conclusions is ``robust_shift_warn``'s.
    robust_shift_warn : float
        Influence on the conclusions: the largest shift of a coefficient
        between OLS and a robust (Tukey bisquare M-) fit, in OLS standard
        errors, at or above which outlying rows drive the OLS estimates and
        influence is a warning. Under a clean linear model the shift is
        about 0.2 (normal errors, the bisquare's 95% efficiency) to 0.5
        (t(5) errors) standard errors, so 2 is far outside chance, while a
        few gross high-leverage outliers move OLS by many standard errors
        (the shift is a Hausman-type contrast: Hausman, Econometrica 1978;
        DFBETAS are judged in the same unit, Belsley, Kuh & Welsch 1980).
    outlier_inflation_warn : float
        Influence on the precision: the OLS residual SD with the gross rows
        (beyond twice the robust fit's bisquare cut-off, about 9.4 robust
        SDs) over the residual SD without them, at or above
        which those rows widen every confidence interval materially and
        influence is a warning even when they pull no slope (outliers of
        both signs cancel in the estimates but not in the variance). 1.25:
        intervals a quarter wider than the clean rows support. Clean
        heavy-tailed errors rarely have a gross row at all (Laplace: 7e-5 of
        its rows); 1% of rows displaced by 8 error SDs give 1.28, 3.5% by
        11.5 SDs 2.4.
    autocorrelation_rho_note, autocorrelation_rho_warn : float
        |rho| (rho = 1 - d/2) bands: 0.1 is a small and 0.3 a medium
        correlation (Cohen, *Statistical Power Analysis*, 1988).
    skewness_warn, excess_kurtosis_warn : float
        Residual skewness |g1| > 1 and excess kurtosis |g2| > 3 mark clearly
        non-normal errors (Bulmer 1979; Kline, *Principles and Practice of
        SEM*, 2011, ch. 4 uses 3 and 10 for kurtosis).
    robust_skewness_warn : float
        Octile skewness (Hinkley 1975: (Q(7/8) + Q(1/8) - 2 median) /
        (Q(7/8) - Q(1/8)) of the residuals) above which skewness is
        confirmed by the bulk of the residuals, not by a few tail values:
        0 for any symmetric error law, 0.42 for exponential errors. The
        moment skewness of heavy-tailed symmetric errors exceeds 1 in 14% of
        data sets of 60 rows (t(5), simulated); the octile skewness exceeds
        0.3 in 2.5%, and both together with a significant Jarque-Bera in
        under 1.5% (t(3), Laplace, t(5)), while exponential or log-normal(1)
        errors pass all three in 62-73% at 60 rows and 93-98% at 200.
    large_sample_n : int
        Above this many residual degrees of freedom the central limit theorem
        makes moderate non-normality harmless for inference on coefficients
        (Lumley et al., Annu. Rev. Public Health 2002, use a few hundred).
    se_change_warn : float
        Relative change of a slope's standard error when a robust covariance
        (HC3 for heteroskedasticity, Newey-West HAC for autocorrelation)
        replaces the classical one. A significant test whose violation moves
        no standard error by 10% or more is a note, not a warning: the
        classical inference is still about right (King & Roberts, Political
        Analysis 2015, use the classical-vs-robust gap as the diagnostic;
        10% is the change at which a 95% interval's coverage visibly moves).
        The change is measured against its own expectation under constant
        variance and uncorrelated errors (HC3 is larger than the classical
        standard error by design at small n), and counts only when it also
        exceeds ``se_change_noise`` times its null standard deviation at
        this n (an asymptotic formula, :func:`olscheck.numerics.covariance.null_spread`):
        below a few thousand rows a 10% change is inside the noise.
    se_change_noise : float
        How many null standard deviations a standard-error change must
        exceed to count (2: about the 97.7th percentile of a normal
        sampling distribution).
    specification_strong_p : float
        A specification test (RESET, Harvey-Collier, Rainbow) that rejects
        with alpha <= p < 0.001 is a note; below 0.001 (Fisher's "strong
        evidence"; Benjamin et al., Nature Human Behaviour 2018, argue 0.005
        for new claims) a warning. Three such tests at alpha each would flag
        a truly linear mean about 14% of the time.
    specification_material_reduction : float
        A specification test that adds terms (RESET, the second-order test)
        shows a *material* departure when the added terms cut the residual
        variance estimate by at least 5%: 1 - (RSS_ext/df_ext)/(RSS/df) >= 0.05
        (the adjusted partial R², which is near 0 under a linear mean at any
        n). Strong evidence (p < specification_strong_p) of a material
        departure is a failure of linearity; strong evidence of an immaterial
        one is a note (a trivially small curvature at large n does not make
        a linear model inadequate).
    probe_gain_material : float
        The non-linear probe shows a materially non-linear mean when the best
        non-linear learner cuts out-of-sample MSE by at least 10% relative to
        OLS and the lower end of its 95% interval (Nadeau & Bengio corrected
        resampled t) is above zero. Below 10% a linear model loses little.
    probe_power : float
        The power at which the probe's detectable gain is stated: the
        smallest error reduction a non-linear learner would show with
        probability ``probe_power`` (0.8, Cohen 1988) given the probe's
        standard error at this n.
    detectable_gain_warn : float
        When a ``linear`` mean rests on a probe that could only have seen a
        non-linearity removing more than this share of OLS's error (0.2,
        twice the material gain), the verdict says that power was low.
    variance_spread_warn : float
        Spread of the error SD across the data: the ratio of the fitted error
        SD (regression of |e| on the regressors, Glejser 1969) at its 90th
        and 10th percentile. A significant test with a ratio of 2 or more (variances
        differing 4-fold, Hartley's F_max rule of thumb; e.g. Howell,
        *Statistical Methods for Psychology*, §11.9) is a warning even when the
        slopes' standard errors barely move: prediction intervals are then
        wrong by a factor of 2 at one end, and weighting gains much efficiency.
    white_max_terms_share : float
        The full White test is used only while its auxiliary regression has
        fewer terms than this share of the rows; otherwise the special
        (fitted, fitted²) form is used.
    auxiliary_max_cells : int
        A work budget, not a cut-off: the largest auxiliary design (rows ×
        columns) the second-order tests build in memory. 12.5 million cells
        is 100 MB of float64 and about a second of QR for ~250 columns.
        Above it, White's full form falls back to its special form on every
        row, and the second-order (quadratic) test runs on evenly spaced
        rows, as many as the budget allows (the method and details say how
        many). Without the budget both are O(n p⁴): at 10⁶ rows and 20
        predictors, 231 columns and several GB.
    """

    alpha: float = 0.05
    vif_warn: float = 5.0
    vif_fail: float = 10.0
    condition_index_warn: float = 30.0
    condition_index_fail: float = 100.0
    variance_proportion: float = 0.5
    cooks_distance_fail: float = 1.0
    influential_share_warn: float = 0.10
    robust_shift_warn: float = 2.0
    outlier_inflation_warn: float = 1.25
    autocorrelation_rho_note: float = 0.1
    autocorrelation_rho_warn: float = 0.3
    skewness_warn: float = 1.0
    robust_skewness_warn: float = 0.3
    excess_kurtosis_warn: float = 3.0
    large_sample_n: int = 200
    se_change_warn: float = 0.10
    se_change_noise: float = 2.0
    specification_strong_p: float = 0.001
    specification_material_reduction: float = 0.05
    probe_gain_material: float = 0.10
    probe_power: float = 0.8
    detectable_gain_warn: float = 0.20
    variance_spread_warn: float = 2.0
    white_max_terms_share: float = 0.5
    auxiliary_max_cells: int = 12_500_000

    def __post_init__(self) -> None:
        # types and finiteness first, so that a string or NaN names its field
        # instead of failing a comparison below
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or value < 0:
                raise ConfigurationError(
                    f"threshold {item.name}={value!r} must be a finite non-negative number."
                )
        if not 0.0 < self.alpha < 1.0:
            raise ConfigurationError(f"threshold alpha={self.alpha!r} must lie strictly between 0 and 1.")
        if self.vif_warn > self.vif_fail:
            raise ConfigurationError("threshold vif_warn must not exceed vif_fail.")
        if self.condition_index_warn > self.condition_index_fail:
            raise ConfigurationError("threshold condition_index_warn must not exceed condition_index_fail.")
        if not 0.0 < self.probe_power < 1.0:
            raise ConfigurationError(f"threshold probe_power={self.probe_power!r} must lie strictly between 0 and 1.")

    @property
    def family_alpha(self) -> float:
        """``alpha`` shared by the :data:`TESTED_FAMILIES` (Bonferroni): 0.01 by default."""
        return self.alpha / len(TESTED_FAMILIES)

    def primary_level(self, primaries: int = 1) -> float:
        """The level a family's primary test is judged at: ``alpha / (families × primaries)``.

        A warning of a tested family needs a primary test with p below this
        level (Bonferroni within the family too), so the families together
        raise a false alarm on a clean linear model with probability at most
        ``alpha`` (Dunn, JASA 1961; tests of different families are close to
        independent under the null, so the bound is nearly attained).
        """
        return self.family_alpha / max(int(primaries), 1)

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Thresholds":
        """A copy with some fields replaced; unknown names raise ConfigurationError."""
        known = {item.name for item in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown threshold(s) {', '.join(unknown)}; known names are {', '.join(sorted(known))}."
            )
        return replace(self, **dict(overrides))

    def to_dict(self) -> dict[str, Any]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


DEFAULT_THRESHOLDS = Thresholds()


def resolve_thresholds(thresholds, alpha) -> Thresholds:
    """One :class:`Thresholds` from ``check``'s ``thresholds`` and ``alpha`` arguments (the engine's too).

    ``thresholds`` is None (the defaults), a :class:`Thresholds`, or a mapping
    overriding fields of the defaults (unknown names are listed by
    :meth:`Thresholds.with_overrides`); ``alpha`` overrides the significance
    level. Raises :class:`~olscheck.errors.ConfigurationError` naming a
    field whose value is not a finite number.
    """
    import numpy as np

    if thresholds is None:
        settings = DEFAULT_THRESHOLDS
    elif isinstance(thresholds, Thresholds):
        settings = thresholds
    elif isinstance(thresholds, Mapping):
        known = DEFAULT_THRESHOLDS.to_dict()
        for name, value in thresholds.items():
            if name not in known:
                continue  # with_overrides lists the known names
            # checked here so that a string or NaN names its field instead of failing a comparison
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
                    or not np.isfinite(value):
                raise ConfigurationError(f"threshold {name}={value!r} must be a finite number.")
        settings = DEFAULT_THRESHOLDS.with_overrides(thresholds)
    else:
        raise ConfigurationError(f"thresholds must be a Thresholds object or a mapping, not {type(thresholds).__name__}.")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.integer, np.floating)):
        raise ConfigurationError(f"alpha must be a number between 0 and 1, not {alpha!r}.")
    if alpha != settings.alpha:
        settings = settings.with_overrides({"alpha": float(alpha)})
    return settings
