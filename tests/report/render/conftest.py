"""Reports shared by the rendering tests (built once per session: the probe takes a moment)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.report.render.plots import render_plots
from tests.helpers import linear_frame

#: A column name that is also an HTML script: it must reach every report as text.
HOSTILE = "<script>alert(1)</script>"
#: Markdown and matplotlib mathtext syntax in a column name.
MARKUP = "$a*b*|c|_d_$"


def hostile_frame(n: int = 160, seed: int = 4) -> pd.DataFrame:
    """Curved mean, variance growing with x, a categorical with an HTML level, missing values."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 4, n)
    z = rng.normal(size=n)
    group = rng.choice(["#plain", "<b>bold</b>"], n)
    y = 1 + x**2 + 0.5 * z + (group == "#plain") * 0.8 + rng.normal(0, 0.2 + 0.3 * x, n)
    frame = pd.DataFrame({"target y": y, HOSTILE: x, MARKUP: z, "group": group})
    frame.loc[[3, 17], HOSTILE] = np.nan
    return frame


@pytest.fixture(scope="session")
def report():
    """A report with the probe run: non-linear, heteroskedastic, hostile names."""
    return olscheck.check(hostile_frame(), target="target y", seed=0)


@pytest.fixture(scope="session")
def plots(report):
    return render_plots(report)


@pytest.fixture(scope="session")
def linear_report():
    """A clean linear data set without the probe (fast)."""
    return olscheck.check(linear_frame(), target="y", probe=False)
