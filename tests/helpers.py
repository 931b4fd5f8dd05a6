"""Shared test helpers: the R reference cases and a quick way to fit them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
REFERENCE = SHARED / "reference"
STRD = SHARED / "strd"

needs_reference = pytest.mark.skipif(
    not (REFERENCE / "expected").is_dir(),
    reason="../shared/reference (R reference values) is not beside this checkout",
)
needs_strd = pytest.mark.skipif(
    not (STRD / "certified.json").is_file(),
    reason="../shared/strd (NIST StRD certified values) is not beside this checkout",
)


def reference_cases() -> list[str]:
    """Ids of the R reference cases in ../shared/reference (empty when absent)."""
    directory = REFERENCE / "expected"
    return sorted(p.stem for p in directory.glob("*.json")) if directory.is_dir() else []


def load_reference(case_id: str) -> tuple[dict, pd.DataFrame]:
    expected = json.loads((REFERENCE / "expected" / f"{case_id}.json").read_text())
    frame = pd.read_csv(REFERENCE / "data" / f"{case_id}.csv")
    return expected, frame


def fit_reference(case_id: str):
    """(expected, LinearFit) for an R reference case, fitted the way R fitted it."""
    from olscheck.inputs.prepare import prepare
    from olscheck.model.fit import fit

    expected, frame = load_reference(case_id)
    design = prepare(
        frame,
        target=expected["response"],
        predictors=expected["predictors"],
        categorical=expected.get("factors") or [],
        intercept=expected.get("intercept", True) is not False,
        order_by=expected.get("order_by"),
    )
    return expected, fit(design)


def fit_arrays(y, columns: dict, intercept: bool = True):
    """LinearFit of y on numeric columns given as {name: array}."""
    from olscheck.inputs.prepare import prepare
    from olscheck.model.fit import fit

    frame = pd.DataFrame({"y": np.asarray(y, dtype=float), **{k: np.asarray(v) for k, v in columns.items()}})
    return fit(prepare(frame, target="y", predictors=list(columns), intercept=intercept))


def linear_frame() -> pd.DataFrame:
    """120 rows whose mean is linear in x1 and x2 with normal errors: the clean case of the report tests."""
    rng = np.random.default_rng(8)
    n = 120
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    return pd.DataFrame({"y": 2 + x1 - 0.5 * x2 + rng.normal(0, 1, n), "x1": x1, "x2": x2})


def bounded(examples: int):
    """Hypothesis settings for CI: ``examples`` runs (OLSCHECK_HYPOTHESIS_EXAMPLES overrides), derandomized
    unless OLSCHECK_HYPOTHESIS_RANDOM=1, no deadline and no example database."""
    from hypothesis import HealthCheck, settings

    return settings(
        max_examples=int(os.environ.get("OLSCHECK_HYPOTHESIS_EXAMPLES", examples)),
        deadline=None,
        derandomize=os.environ.get("OLSCHECK_HYPOTHESIS_RANDOM") != "1",
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
