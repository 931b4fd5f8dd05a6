"""The verdict on data whose truth is known (issue: linear / linear_with_remedies / nonlinear)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.result import Severity


def make(kind: str, n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if kind == "linear":
        x1, x2 = rng.normal(size=(2, n))
        return pd.DataFrame({"y": 1 + 2 * x1 - x2 + rng.normal(size=n), "x1": x1, "x2": x2})
    if kind == "heteroskedastic":  # error SD proportional to a predictor
        x = rng.uniform(1, 10, n)
        z = rng.normal(size=n)
        return pd.DataFrame({"y": 3 + 0.5 * x + z + rng.normal(size=n) * 0.3 * x, "x": x, "z": z})
    if kind == "ar1":  # AR(1) errors, rho 0.7, in row order
        x = rng.normal(size=n)
        shocks = rng.normal(size=n)
        errors = np.zeros(n)
        for t in range(1, n):
            errors[t] = 0.7 * errors[t - 1] + shocks[t]
        return pd.DataFrame({"y": 1 + x + errors, "x": x})
    if kind == "sine":
        x = rng.uniform(-3, 3, n)
        return pd.DataFrame({"y": np.sin(2 * x) + 0.3 * rng.normal(size=n), "x": x})
    if kind == "interaction":  # y = a b: no linear signal at all
        a, b = rng.normal(size=(2, n))
        return pd.DataFrame({"y": a * b + 0.5 * rng.normal(size=n), "a": a, "b": b})
    if kind == "friedman1":  # Friedman (1991) #1
        x = rng.uniform(size=(n, 5))
        y = (10 * np.sin(np.pi * x[:, 0] * x[:, 1]) + 20 * (x[:, 2] - 0.5) ** 2 + 10 * x[:, 3] + 5 * x[:, 4]
             + rng.normal(size=n))
        return pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 6)]).assign(y=y)
    if kind == "exp_linear":  # y = exp(linear) * multiplicative noise
        x1, x2 = rng.uniform(0, 2, size=(2, n))
        return pd.DataFrame({"y": np.exp(0.5 + 0.8 * x1 - 0.6 * x2 + 0.3 * rng.normal(size=n)), "x1": x1, "x2": x2})
    raise ValueError(kind)


EXPECTED = {
    "linear": "linear",
    "heteroskedastic": "linear_with_remedies",
    "ar1": "linear_with_remedies",
    "sine": "nonlinear",
    "interaction": "nonlinear",
    "friedman1": "nonlinear",
    "exp_linear": "linear_with_remedies",
}


@pytest.mark.parametrize("n", [50, 500, 50_000])
@pytest.mark.parametrize("kind", list(EXPECTED))
def test_verdict_on_known_truth(kind, n):
    report = olscheck.check(make(kind, n), target="y", seed=0)
    assert report.verdict.level == EXPECTED[kind], report.verdict.summary
    levels = {f.check: f.severity for f in report.findings}
    if kind == "heteroskedastic":
        assert levels["breusch_pagan"] is Severity.WARN
    if kind == "ar1":
        assert levels["durbin_watson"] is Severity.WARN
    if kind == "exp_linear":
        # the remedy is the log of the target, with code
        assert report.nonlinearity["transforms"]["remedy"] in {"log_target", "box_cox_target"}
        assert any("np.log(y)" in r.code or "**" in r.code for r in report.verdict.remedies)
    if kind == "linear":
        # at n = 50,000 tiny p-values must not turn into violations
        assert all(f.severity in (Severity.OK, Severity.NOTE) for f in report.findings)


def test_large_n_linear_heteroskedasticity_is_judged_by_consequence():
    # detectable (p tiny at n = 50,000) but harmless heteroskedasticity is a note, and the verdict linear
    rng = np.random.default_rng(3)
    n = 50_000
    x, w = rng.normal(size=(2, n))
    frame = pd.DataFrame({"y": 1 + x + w + rng.normal(size=n) * np.exp(0.1 * w), "x": x, "w": w})
    report = olscheck.check(frame, target="y", probe=False)
    assert report.tests["breusch_pagan"].p_value < 1e-6
    assert report.tests["breusch_pagan"].severity is Severity.NOTE
    assert report.verdict.level == "linear"


def test_same_seed_same_verdict_and_numbers():
    frame = make("friedman1", 400)
    first = olscheck.check(frame, target="y", seed=7).to_dict()
    second = olscheck.check(frame, target="y", seed=7).to_dict()
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_remedies_have_runnable_code_with_user_columns():
    report = olscheck.check(make("heteroskedastic", 500), target="y", probe=False)
    codes = [r.code for r in report.verdict.remedies]
    assert any('cov_type="HC3"' in c and "'y ~ x + z'" in c for c in codes)
    namespace = {"df": make("heteroskedastic", 500)}
    for code in codes:
        exec(compile(code, "<remedy>", "exec"), namespace)  # noqa: S102 - the remedy must run as written


def test_nonlinear_remedy_runs_on_user_columns():
    frame = make("interaction", 300)
    report = olscheck.check(frame, target="y", probe=False)
    assert report.verdict.level == "nonlinear"
    code = next(r.code for r in report.verdict.remedies if r.assumption == "linearity")
    assert "HistGradientBoostingRegressor" in code and "['a', 'b']" in code
    exec(compile(code.replace("cv=5", "cv=2"), "<remedy>", "exec"), {"df": frame})  # noqa: S102
