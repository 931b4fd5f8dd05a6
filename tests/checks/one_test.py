"""The battery's results one test at a time, as the tests against R read them.

Every accumulated statistic has one implementation, the battery
(:mod:`olscheck.checks.battery`); these adapters name one of its results
so that a test reads ``breusch_pagan(fit)`` as R's ``bptest(fit)`` reads.
"""

from __future__ import annotations

from olscheck.checks import battery, collinearity, linearity
from olscheck.thresholds import DEFAULT_THRESHOLDS

HETEROSKEDASTICITY = ("breusch_pagan", "breusch_pagan_original", "white", "goldfeld_quandt", "ncv_fitted")
INDEPENDENCE = ("durbin_watson", "breusch_godfrey")
NORMALITY = ("jarque_bera", "shapiro_wilk", "omnibus")


def _one(name):
    def test(fit, thresholds=DEFAULT_THRESHOLDS):
        return battery.result(fit, name, thresholds)
    test.__name__ = name
    return test


breusch_pagan = _one("breusch_pagan")
breusch_pagan_original = _one("breusch_pagan_original")
white = _one("white")
goldfeld_quandt = _one("goldfeld_quandt")
ncv_fitted = _one("ncv_fitted")
jarque_bera = _one("jarque_bera")


def durbin_watson(fit, thresholds=DEFAULT_THRESHOLDS, *, exact=None, exact_max_n=3000):
    return battery.result(fit, "durbin_watson", thresholds, durbin_watson_exact=exact,
                          durbin_watson_exact_max_n=exact_max_n)


def breusch_godfrey(fit, thresholds=DEFAULT_THRESHOLDS, *, order=1):
    return battery.result(fit, "breusch_godfrey", thresholds, breusch_godfrey_order=order)


def reset(fit, thresholds=DEFAULT_THRESHOLDS, *, powers=(2, 3)):
    """The battery's RESET for powers 2 and 3, ``linearity.reset_with_powers`` for others."""
    if tuple(int(p) for p in powers) == (2, 3):
        return battery.result(fit, "reset", thresholds)
    return linearity.reset_with_powers(fit, powers, thresholds)


def family(fit, names, thresholds=DEFAULT_THRESHOLDS, **options):
    tests = battery.results(fit, thresholds, **options)
    return {name: tests[name] for name in names}


def heteroskedasticity_tests(fit, thresholds=DEFAULT_THRESHOLDS):
    return family(fit, HETEROSKEDASTICITY, thresholds)


def independence_tests(fit, thresholds=DEFAULT_THRESHOLDS, *, durbin_watson_exact=None, breusch_godfrey_order=1):
    return family(fit, INDEPENDENCE, thresholds, durbin_watson_exact=durbin_watson_exact,
                  breusch_godfrey_order=breusch_godfrey_order)


def normality_tests(fit, thresholds=DEFAULT_THRESHOLDS):
    return family(fit, NORMALITY, thresholds)


def linearity_tests(fit, thresholds=DEFAULT_THRESHOLDS):
    return family(fit, linearity.SPECIFICATION_TESTS, thresholds)


def influence_summary(fit, thresholds=DEFAULT_THRESHOLDS, *, seed=0):
    return battery.influence_summary(fit, thresholds, seed=seed)


def influence_tests(fit, thresholds=DEFAULT_THRESHOLDS):
    return dict(battery.influence_summary(fit, thresholds).results)


def collinearity_tests(fit, thresholds=DEFAULT_THRESHOLDS):
    return dict(collinearity.summarize(fit, thresholds).results)
