"""assess_transforms: a log-linear truth is straightened by log(y), and re-probed with the probe's defaults."""

from __future__ import annotations

import numpy as np

import olscheck.verdict.probe as probe
from olscheck.report.result import Severity
from olscheck.thresholds import DEFAULT_THRESHOLDS
from olscheck.verdict.transforms import assess_transforms
from tests.helpers import fit_arrays


def test_log_target_remedy_is_probed_with_the_default_learners(monkeypatch):
    rng = np.random.default_rng(4)
    n = 600
    x1, x2 = rng.uniform(0, 3, n), rng.normal(size=n)
    y = np.exp(1.0 + 0.9 * x1 + 0.3 * x2 + 0.2 * rng.normal(size=n))
    fitted = fit_arrays(y, {"x1": x1, "x2": x2})

    probed = []
    original = probe.run_probe

    def recording(*args, **kwargs):
        result = original(*args, **kwargs)
        probed.append(result)
        return result

    monkeypatch.setattr(probe, "run_probe", recording)
    # on the original scale the mean is exponential: the probe sees it
    assert probe.probe_fit(fitted, seed=0).gain.relative_mse_reduction_mean > 0.10
    assessment = assess_transforms(fitted, DEFAULT_THRESHOLDS, probe=True, probe_options={"seed": 0})
    assert assessment.remedy is not None and assessment.remedy.name == "log_target"
    evidence = assessment.remedy.evidence["nonlinear_probe"]
    assert evidence["severity"] != Severity.FAIL.value
    # the candidate was probed with the same seed and the default learners, on log(y)
    candidate = probed[-1]
    assert candidate.seed == 0
    assert tuple(candidate.models) == ("ols", *probe.DEFAULT_LEARNERS)
    assert candidate.gain.relative_mse_reduction_mean < 0.10
