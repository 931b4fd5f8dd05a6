"""olscheck.pipeline: the one assembly of both paths."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.checks.battery import EXACT_ROWS
from olscheck.report.report import Severity


@pytest.fixture(scope="module")
def leverage_outliers(tmp_path_factory):
    """A linear mean (known by construction) with 120 gross outliers at high leverage spread over 30,000 rows.

    The outliers alone bend the fit: RESET and the second-order test fail on every row. A robust fit finds
    those of them among the 20,000 rows it reads; without them the tests pass.
    """
    rng = np.random.default_rng(11)
    n = 30_000
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 1 + x1 + x2 + rng.normal(size=n)
    bad = rng.choice(n, 120, replace=False)
    x1[bad] = rng.uniform(5, 7, size=bad.size)
    y[bad] = 1 + x1[bad] + 40 + rng.normal(size=bad.size)
    frame = pd.DataFrame({"y": y, "x1": x1, "x2": x2})
    path = tmp_path_factory.mktemp("outliers") / "data.parquet"
    frame.to_parquet(path)
    return frame, path


def test_beyond_the_exact_rows_outliers_are_judged_on_the_rows_they_were_found_in(leverage_outliers):
    """In memory as streamed: the failing tests are refitted on the sample without the rejected rows.

    Refitting every row but the rejected ones (what the in-memory path did) leaves the outliers outside the
    sample in: the failures stood and the verdict was ``nonlinear`` for a linear mean. The streamed path
    (its own passes) is the reference for the rechecked numbers.
    """
    frame, path = leverage_outliers
    assert len(frame) > EXACT_ROWS
    in_memory = olscheck.check(frame, target="y", probe=False)
    streamed = olscheck.check(path, target="y", probe=False, streaming=True)
    assert in_memory.tests["robust_fit"].details["n_rejected"] == streamed.tests["robust_fit"].details["n_rejected"]
    for name in ("reset", "quadratic"):
        memory_result, streamed_result = in_memory.tests[name], streamed.tests[name]
        assert memory_result.p_value < 1e-6  # fails on every row...
        assert memory_result.severity is Severity.WARN  # ...but only through the outlying rows
        assert "random sample of 20000 of 30000 rows" in memory_result.details["recheck_computed_on"]
        assert memory_result.details["recheck_without_outliers_p_value"] == pytest.approx(
            streamed_result.details["recheck_without_outliers_p_value"], rel=1e-9, abs=1e-12)
    assert in_memory.verdict.level == streamed.verdict.level != "nonlinear"


_TWO_CHECKS = """
import sys
import numpy as np, pandas as pd
import olscheck
from olscheck.engine import parallel
forked = []
original = parallel._Child.result
parallel._Child.result = lambda self: forked.append(True) or original(self)
rng = np.random.default_rng(0)
x = rng.normal(size=(300, 2))
frame = pd.DataFrame({"y": x @ [1.0, 2.0] + rng.normal(size=300), "a": x[:, 0], "b": x[:, 1]})
seen = []
for _ in range(3):
    before = len(forked)
    report = olscheck.check(frame, target="y")
    seen.append(len(forked) > before and report.nonlinearity["probe"]["computed"])
print(seen, "sklearn" in sys.modules)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child process is forked on Linux only")
def test_only_the_first_probe_of_a_process_runs_in_a_child():
    """A process that checks again imports scikit-learn once and probes in turn, not in a new child each time."""
    from olscheck.engine.parallel import available_cores

    completed = subprocess.run([sys.executable, "-c", _TWO_CHECKS], capture_output=True, text=True, check=True,
                               timeout=600)
    first_forked = available_cores() >= 2  # a fork needs a second core to gain anything
    assert completed.stdout.split() == [f"[{first_forked},", "False,", "False]", "True"]
