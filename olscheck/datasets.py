"""Small bundled data sets with a known truth, generated from fixed seeds.

``olscheck.datasets.load(name)`` returns a new DataFrame each call. The CSV
copies in the repository's ``datasets/`` folder are written by
``python -m olscheck.datasets datasets/`` and a test checks they equal what
the generators produce, so the two cannot drift apart.

Every set is synthetic (made by this module, public domain / MIT like the
rest of olscheck); the README in ``datasets/`` tells each one's truth.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["load", "names", "describe", "target_of", "write_all"]


def _linear(seed: int = 20261126) -> pd.DataFrame:
    """Sales on advertising spend: linear mean, independent normal errors."""
    rng = np.random.default_rng(seed)
    n = 200
    tv = rng.uniform(5, 300, n)
    radio = rng.uniform(0, 50, n)
    region = rng.choice(["north", "south", "west"], n, p=[0.4, 0.35, 0.25])
    region_effect = pd.Series(region).map({"north": 0.0, "south": 1.5, "west": -1.0}).to_numpy()
    sales = 3.0 + 0.045 * tv + 0.19 * radio + region_effect + rng.normal(0, 1.2, n)
    return pd.DataFrame({"sales": sales.round(3), "tv": tv.round(2), "radio": radio.round(2), "region": region})


def _heteroskedastic(seed: int = 20261127) -> pd.DataFrame:
    """Household spending on income: linear mean, error SD proportional to income."""
    rng = np.random.default_rng(seed)
    n = 300
    income = rng.uniform(10, 150, n)
    household_size = rng.integers(1, 6, n)
    spending = 5.0 + 0.6 * income + 2.0 * household_size + rng.normal(0, 0.12 * income)
    return pd.DataFrame({"spending": spending.round(3), "income": income.round(2), "household_size": household_size})


def _autocorrelated(seed: int = 20261128) -> pd.DataFrame:
    """Daily energy demand on temperature: linear mean, AR(1) errors (rho = 0.7) in day order.

    Rows are stored shuffled, with the day number in ``day``: the
    autocorrelation only shows with ``order_by="day"``.
    """
    rng = np.random.default_rng(seed)
    n = 240
    day = np.arange(1, n + 1)
    temperature = 15 + 10 * np.sin(2 * np.pi * day / 365) + rng.normal(0, 3, n)
    innovations = rng.normal(0, 2.0, n)
    errors = np.empty(n)
    errors[0] = innovations[0] / np.sqrt(1 - 0.7**2)
    for t in range(1, n):
        errors[t] = 0.7 * errors[t - 1] + innovations[t]
    demand = 120 - 2.5 * temperature + errors
    frame = pd.DataFrame({"demand": demand.round(3), "temperature": temperature.round(2), "day": day})
    return frame.iloc[rng.permutation(n)].reset_index(drop=True)


def _nonlinear(seed: int = 20261129) -> pd.DataFrame:
    """Yield on dose and temperature: a saturating dose response and an interaction."""
    rng = np.random.default_rng(seed)
    n = 400
    dose = rng.uniform(0, 10, n)
    temperature = rng.uniform(10, 30, n)
    yield_ = 50 * (1 - np.exp(-0.6 * dose)) + 8 * np.sin(temperature / 3) + 0.15 * dose * (temperature - 20) + rng.normal(0, 2, n)
    return pd.DataFrame({"yield": yield_.round(3), "dose": dose.round(3), "temperature": temperature.round(2)})


_GENERATORS: dict[str, tuple[Callable[[], pd.DataFrame], str, str, dict]] = {
    "advertising": (_linear, "sales", "linear mean, iid normal errors: expect `linear`", {}),
    "spending": (_heteroskedastic, "spending", "linear mean, error SD proportional to income: expect `linear_with_remedies`", {}),
    "energy": (_autocorrelated, "demand", "linear mean, AR(1) errors in day order (use order_by='day'): expect `linear_with_remedies`", {"order_by": "day"}),
    "crop_yield": (_nonlinear, "yield", "saturating dose response and an interaction: expect `nonlinear`", {}),
}


def names() -> list[str]:
    """Names of the bundled data sets."""
    return list(_GENERATORS)


def load(name: str) -> pd.DataFrame:
    """A bundled data set as a new DataFrame.

    Raises ``KeyError`` (an :class:`~olscheck.errors.DataError`) naming the
    available sets when ``name`` is unknown.
    """
    from .errors import ColumnNotFoundError

    if name not in _GENERATORS:
        raise ColumnNotFoundError(f"no bundled data set {name!r}; available: {', '.join(_GENERATORS)}.")
    return _GENERATORS[name][0]()


def target_of(name: str) -> str:
    """The target column of a bundled data set."""
    return _GENERATORS[name][1]


def check_options(name: str) -> dict:
    """Options that a check of this set should use (e.g. its order_by)."""
    return dict(_GENERATORS[name][3])


def describe(name: str) -> str:
    """One line on how the set was made and what olscheck should find."""
    return _GENERATORS[name][2]


def write_all(directory: str | Path) -> list[Path]:
    """Write every bundled set as ``NAME.csv`` into ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in _GENERATORS:
        path = directory / f"{name}.csv"
        load(name).to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    return written


if __name__ == "__main__":  # python -m olscheck.datasets datasets/
    for written_path in write_all(sys.argv[1] if len(sys.argv) > 1 else "datasets"):
        print(written_path)
