"""olscheck.checks.normality against tseries::jarque.bera.test, shapiro.test and the closed form of K².

Fixtures: fixtures/normality_r.json, made by fixtures/normality_r.R.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from olscheck.checks import normality
from tests.checks import one_test
from olscheck.report.result import Assumption, Severity
from olscheck.thresholds import Thresholds
from tests.helpers import fit_arrays, fit_reference, needs_reference, reference_cases

R_FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "normality_r.json").read_text())


def rel(got, want):
    return abs(got - want) / abs(want)


def close_p(got, want, rtol=1e-5, atol=1e-9):
    # R's jarque.bera.test computes 1 - pchisq, exact to 1e-16 absolute only
    return math.isclose(got, want, rel_tol=rtol, abs_tol=atol)


def sample_fit(name):
    case = R_FIXTURE[name]
    n = case["n"]
    if case.get("golden"):
        y = ((np.arange(1, n + 1) * 0.6180339887498949) % 1.0) ** 2
    else:
        y = np.array(case["y"], dtype=float)
    columns = {} if case["model"] == "intercept" else {"x": np.arange(1, n + 1, dtype=float)}
    return case, fit_arrays(y, columns)


def omnibus_by_hand(residuals):
    """D'Agostino-Pearson K², written out from D'Agostino (1970) and Anscombe & Glynn (1983).

    Moments with divisor n; see D'Agostino, Belanger & D'Agostino (1990),
    The American Statistician 44, 316-321, eqs. for Z(sqrt b1) and Z(b2).
    """
    e = np.asarray(residuals, dtype=float)
    n = e.size
    c = e - e.mean()
    m2, m3, m4 = (np.mean(c**k) for k in (2, 3, 4))
    sqrt_b1 = m3 / m2**1.5
    b2 = m4 / m2**2
    # skewness (D'Agostino 1970)
    y = sqrt_b1 * math.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
    beta2 = 3.0 * (n * n + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2.0) * (n + 5) * (n + 7) * (n + 9))
    w2 = -1.0 + math.sqrt(2.0 * (beta2 - 1.0))
    delta = 1.0 / math.sqrt(0.5 * math.log(w2))
    alpha = math.sqrt(2.0 / (w2 - 1.0))
    z1 = delta * math.asinh(y / alpha)
    # kurtosis (Anscombe & Glynn 1983)
    mean_b2 = 3.0 * (n - 1) / (n + 1)
    var_b2 = 24.0 * n * (n - 2) * (n - 3) / ((n + 1.0) ** 2 * (n + 3) * (n + 5))
    x = (b2 - mean_b2) / math.sqrt(var_b2)
    root_beta1 = 6.0 * (n * n - 5 * n + 2) / ((n + 7.0) * (n + 9)) * math.sqrt(
        6.0 * (n + 3) * (n + 5) / (n * (n - 2.0) * (n - 3))
    )
    a = 6.0 + 8.0 / root_beta1 * (2.0 / root_beta1 + math.sqrt(1.0 + 4.0 / root_beta1**2))
    denominator = 1.0 + x * math.sqrt(2.0 / (a - 4.0))
    cube = math.copysign(abs((1.0 - 2.0 / a) / denominator) ** (1.0 / 3.0), denominator)
    z2 = (1.0 - 2.0 / (9.0 * a) - cube) / math.sqrt(2.0 / (9.0 * a))
    k2 = z1 * z1 + z2 * z2
    return k2, math.exp(-k2 / 2.0), z1, z2


# ---------------------------------------------------------------------------
# R reference cases
# ---------------------------------------------------------------------------
@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_jarque_bera_matches_tseries(case_id):
    expected, fitted = fit_reference(case_id)
    result = one_test.jarque_bera(fitted)
    want = expected["jarque_bera"]
    assert rel(result.statistic, want["statistic"]) < 1e-6
    assert close_p(result.p_value, want["p_value"])
    assert result.df == (2.0,)
    assert rel(result.details["skewness"], expected["residual_skewness"]) < 1e-6
    assert rel(result.details["kurtosis"], expected["residual_kurtosis"]) < 1e-6
    assert result.details["excess_kurtosis"] == pytest.approx(expected["residual_kurtosis"] - 3.0, rel=1e-6, abs=1e-12)
    assert result.assumption is Assumption.NORMALITY
    out = result.to_dict()
    assert out["df"] == 2 and "skewness" in out and "kurtosis" in out


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_shapiro_wilk_matches_r(case_id):
    expected, fitted = fit_reference(case_id)
    result = normality.shapiro_wilk(fitted)
    want = expected["shapiro_wilk"]
    # parity asks for 1e-4 on W and 1e-2 on p; scipy's AS R94 agrees far closer
    assert rel(result.statistic, want["statistic"]) < 1e-6
    assert rel(result.p_value, want["p_value"]) < 1e-5
    assert result.df is None


@needs_reference
@pytest.mark.parametrize("case_id", reference_cases())
def test_omnibus_matches_closed_form(case_id):
    _, fitted = fit_reference(case_id)
    k2, p, z1, z2 = omnibus_by_hand(fitted.residuals)
    result = normality.omnibus(fitted)
    assert rel(result.statistic, k2) < 1e-10
    assert rel(result.p_value, p) < 1e-10
    assert result.details["z_skewness"] == pytest.approx(z1, rel=1e-10)
    assert result.details["z_kurtosis"] == pytest.approx(z2, rel=1e-10)


@needs_reference
@pytest.mark.parametrize(
    "case_id, severity",
    [
        # p < 0.001 and skewness 1.36 > 1, but the bulk is only mildly skewed (octile skewness 0.25 < 0.3):
        # a few large residuals make the moment skewness, as heavy tails do
        ("airquality", Severity.NOTE),
        ("cars", Severity.NOTE),              # p = 0.017, skewness 0.89, excess kurtosis 0.89: mild
        ("lifecyclesavings", Severity.OK),    # p = 0.78
    ],
)
def test_jarque_bera_severity_on_reference_cases(case_id, severity):
    expected, fitted = fit_reference(case_id)
    result = one_test.jarque_bera(fitted)
    assert result.severity is severity
    assert result.message.split(":")[0] == {"ok": "OK", "note": "Note", "warn": "Warning"}[severity.value]
    assert (result.remedy is None) == (severity is Severity.OK)
    if case_id == "airquality":
        # skewness 1.36 / 1 beats excess kurtosis 3.30 / 3
        assert result.effect_name == "residual skewness"
        assert result.effect == pytest.approx(expected["residual_skewness"], rel=1e-6)
        assert "p < 0.001" in result.message


# ---------------------------------------------------------------------------
# R samples: small n (Shapiro-Wilk at n = 3), the 5000 limit
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(R_FIXTURE))
def test_samples_match_r(name):
    case, fitted = sample_fit(name)
    jb = one_test.jarque_bera(fitted)
    assert rel(jb.statistic, case["jarque_bera"]["statistic"]) < 1e-6
    assert close_p(jb.p_value, case["jarque_bera"]["p_value"])
    assert math.isclose(jb.details["skewness"], case["skewness"], rel_tol=1e-6, abs_tol=1e-12)
    assert rel(jb.details["kurtosis"], case["kurtosis"]) < 1e-6
    sw = normality.shapiro_wilk(fitted)
    if "shapiro_wilk" in case:
        assert rel(sw.statistic, case["shapiro_wilk"]["statistic"]) < 1e-6
        assert rel(sw.p_value, case["shapiro_wilk"]["p_value"]) < 1e-5
    else:
        assert case["n"] > 5000
        assert not sw.computable and sw.statistic is None and sw.p_value is None
        assert "5000" in sw.reason and sw.severity is Severity.NOTE


def test_shapiro_wilk_at_n_3_closed_form():
    # n = 3: W = 3 (x_(3) - x_(1))² / (8 S²) ... and p = (6/pi) (asin(sqrt W) - asin(sqrt 3/4))
    case, fitted = sample_fit("n3_a")
    result = normality.shapiro_wilk(fitted)
    x = np.sort(np.array(case["y"]))
    a = math.sqrt(0.5)
    w = (a * (x[2] - x[0])) ** 2 / np.sum((x - x.mean()) ** 2)
    assert result.statistic == pytest.approx(w, rel=1e-12)
    p = 6.0 / math.pi * (math.asin(math.sqrt(w)) - math.asin(math.sqrt(0.75)))
    assert result.p_value == pytest.approx(p, rel=1e-6)


@pytest.mark.parametrize("name", [k for k, v in R_FIXTURE.items() if v["n"] >= 8])
def test_omnibus_on_samples_matches_closed_form(name):
    _, fitted = sample_fit(name)
    k2, p, _, _ = omnibus_by_hand(fitted.residuals)
    result = normality.omnibus(fitted)
    assert rel(result.statistic, k2) < 1e-10
    assert math.isclose(result.p_value, p, rel_tol=1e-10, abs_tol=1e-300)
    assert ("approximate" in result.details) == (fitted.n < 20)


@pytest.mark.parametrize("name", [k for k, v in R_FIXTURE.items() if v["n"] < 8])
def test_omnibus_not_computable_below_8(name):
    _, fitted = sample_fit(name)
    result = normality.omnibus(fitted)
    assert not result.computable and result.statistic is None
    assert "8" in result.reason
    assert result.message.startswith("Note:")


# ---------------------------------------------------------------------------
# severity rules
# ---------------------------------------------------------------------------
def test_large_sample_downgrades_to_note():
    case, fitted = sample_fit("n200")  # exponential errors, df_resid 199, skewness ~ 2
    assert fitted.df_resid == 199
    strict = one_test.normality_tests(fitted, Thresholds(large_sample_n=500))
    # exponential errors: skewed in the bulk too (octile skewness about 0.42), so the primary test warns
    assert strict["jarque_bera"].details["octile_skewness"] > 0.3
    assert strict["jarque_bera"].severity is Severity.WARN
    assert strict["jarque_bera"].message.startswith("Warning:") and strict["jarque_bera"].remedy
    for name in ("shapiro_wilk", "omnibus"):  # supporting tests: a note at most
        assert strict[name].severity is Severity.NOTE, name
        assert "supporting" in strict[name].message and strict[name].remedy
    lenient = one_test.normality_tests(fitted, Thresholds(large_sample_n=150))
    for name in ("jarque_bera", "shapiro_wilk", "omnibus"):
        assert lenient[name].severity is Severity.NOTE
        assert "199 residual degrees of freedom" in lenient[name].message


def test_small_effect_is_a_note_and_thresholds_decide():
    case, fitted = sample_fit("n20")  # lognormal, p < 0.05 for JB and SW
    jb = one_test.jarque_bera(fitted)
    assert jb.p_value < 0.05
    skewness, excess = jb.details["skewness"], jb.details["excess_kurtosis"]
    # a warning needs p below the family-wise level alpha / 5: alpha = 0.25 puts it at 0.05
    level = {"alpha": 0.25, "robust_skewness_warn": 0.0}
    big = Thresholds(skewness_warn=abs(skewness) * 1.01, excess_kurtosis_warn=abs(excess) * 1.01, **level)
    assert one_test.jarque_bera(fitted, big).severity is Severity.NOTE
    small = Thresholds(skewness_warn=abs(skewness) * 0.99, excess_kurtosis_warn=abs(excess) * 10, **level)
    result = one_test.jarque_bera(fitted, small)
    assert result.severity is Severity.WARN
    assert result.effect_name == "residual skewness" and result.effect == pytest.approx(skewness)
    # the bulk's skewness gates it too
    octile = result.details["octile_skewness"]
    gated = Thresholds(skewness_warn=abs(skewness) * 0.99, excess_kurtosis_warn=abs(excess) * 10, alpha=0.25,
                       robust_skewness_warn=abs(octile) * 1.01)
    assert one_test.jarque_bera(fitted, gated).severity is Severity.NOTE
    # and the default level: p >= 0.01 cannot warn
    if jb.p_value >= 0.01:
        assert one_test.jarque_bera(fitted, Thresholds(skewness_warn=abs(skewness) * 0.99,
                                                        robust_skewness_warn=0.0)).severity is Severity.NOTE
    # alpha decides the test
    assert one_test.jarque_bera(fitted, Thresholds(alpha=jb.p_value * 0.5)).severity is Severity.OK


def test_heavy_tails_report_excess_kurtosis():
    # symmetric, heavy-tailed residuals: kurtosis is the larger departure
    y = np.array([-9.0, -1.2, -0.8, -0.5, -0.3, -0.1, 0.0, 0.1, 0.3, 0.5, 0.8, 1.2, 9.0] * 3)
    result = one_test.jarque_bera(fit_arrays(y, {}))
    assert result.effect_name == "residual excess kurtosis"
    assert result.effect == pytest.approx(result.details["kurtosis"] - 3.0)
    assert abs(result.details["skewness"]) < 1e-12


def test_shapiro_wilk_not_computable_below_3():
    fitted = fit_arrays([1.0, 2.0], {})
    result = normality.shapiro_wilk(fitted)
    assert not result.computable and "3 to 5000" in result.reason


def test_exact_fit_is_not_computable():
    x = np.arange(1.0, 13.0)
    fitted = fit_arrays(2.0 * x + 1.0, {"x": x})
    for result in one_test.normality_tests(fitted).values():
        assert not result.computable, result.name
        assert "exactly" in result.reason
        json.dumps(result.to_dict(), allow_nan=False)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_scale_invariance_at_extreme_magnitudes(scale):
    _, base = sample_fit("n50_trend")
    y = base.y * scale
    scaled = fit_arrays(y, {"x": np.arange(1, 51, dtype=float)})
    for name, result in one_test.normality_tests(scaled).items():
        want = one_test.normality_tests(base)[name]
        assert rel(result.statistic, want.statistic) < 1e-9, name
        assert rel(result.p_value, want.p_value) < 1e-8, name


def test_run_keys_and_json():
    _, fitted = sample_fit("n12")
    results = one_test.normality_tests(fitted)
    assert list(results) == ["jarque_bera", "shapiro_wilk", "omnibus"]
    for name, result in results.items():
        assert result.name == name
        assert result.effect is not None and result.effect_name
        json.dumps(result.to_dict(), allow_nan=False)


def test_octile_skewness_by_hand_and_for_known_laws():
    values = np.array([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 100])
    low, middle, high = np.quantile(values, [0.125, 0.5, 0.875])
    assert normality.octile_skewness(values) == pytest.approx((high + low - 2 * middle) / (high - low))
    symmetric = np.array([-3.0, -1, -0.5, 0, 0.5, 1, 3])
    assert normality.octile_skewness(symmetric) == 0.0
    # exponential: (ln 8 + ln(8/7) - 2 ln 2) / (ln 8 - ln(8/7)) = 0.4248
    draws = np.random.default_rng(1).exponential(size=1_000_000)
    exact = (np.log(8) + np.log(8 / 7) - 2 * np.log(2)) / (np.log(8) - np.log(8 / 7))
    assert normality.octile_skewness(draws) == pytest.approx(exact, abs=0.005)


def test_heavy_symmetric_tails_are_a_note_and_skewed_errors_warn_at_small_n():
    rng = np.random.default_rng(8)
    n = 80
    x = rng.normal(size=n)
    warned = {"t3": 0, "exponential": 0}
    for _ in range(40):
        for law in warned:
            noise = rng.standard_t(3, size=n) if law == "t3" else rng.exponential(size=n)
            result = one_test.jarque_bera(fit_arrays(1 + x + noise, {"x": x}))
            warned[law] += result.severity is Severity.WARN
    # symmetric heavy tails: OLS stays valid, so (almost) never a warning; skewed errors mostly warn
    assert warned["t3"] <= 2
    assert warned["exponential"] >= 24
