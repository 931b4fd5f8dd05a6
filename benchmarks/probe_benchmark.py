"""Wall time of the non-linear probe on 20,000 rows x 20 predictors.

Run from the repository root:

    .venv/bin/python benchmarks/probe_benchmark.py [--rows 20000] [--columns 20] [--repeats 3]

The data is seeded: 20 standard-normal predictors, a linear part in all of
them plus a sine of x1 and an x2·x3 interaction (non-linear, so both learners
have something to find), and unit-variance noise. The table gives the
median (and range) of the wall time of ``run_probe`` over the repeats, for
both learners together and each alone, and the out-of-sample R² of each
model. The machine's other load shows in the range: rerun when it is wide.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from olscheck.probe import run_probe  # noqa: E402


def make_data(rows: int, columns: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """Seeded predictors and a target with a linear part, a sine and an interaction."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, columns))
    slopes = rng.uniform(-1.0, 1.0, columns)
    y = x @ slopes + 1.5 * np.sin(2.0 * x[:, 0]) + x[:, 1] * x[:, 2] + rng.standard_normal(rows)
    return x, y


def timed(function, repeats: int) -> tuple[list[float], object]:
    """Wall times of ``repeats`` calls of ``function()``, and the last result."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20000)
    parser.add_argument("--columns", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)

    x, y = make_data(args.rows, args.columns)
    rows = []
    for label, learners in (("ols + gradient_boosting + mlp", ("gradient_boosting", "mlp")),
                            ("ols + gradient_boosting", ("gradient_boosting",)),
                            ("ols + mlp", ("mlp",))):
        times, result = timed(lambda: run_probe(x, y, folds=args.folds, seed=0, learners=learners), args.repeats)
        r2 = ", ".join(f"{name} {scores.r_squared:.3f}" for name, scores in result.models.items())
        gain = result.gain
        low, high = gain.r_squared_gain_ci
        spread = f"{statistics.median(times):.2f} ({min(times):.2f}-{max(times):.2f})"
        rows.append((label, spread, r2, f"{gain.r_squared_gain_mean:+.3f} [{low:+.3f}, {high:+.3f}]"))

    print(f"run_probe on {args.rows} x {args.columns}, {args.folds} folds, median wall time of {args.repeats} runs "
          f"({os.cpu_count()} cores)")
    header = ("models", "wall s median (min-max)", "out-of-sample R²", "R² gain of best learner [95% CI]")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) if i == 1 else cell.ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
