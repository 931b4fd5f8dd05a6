"""Wall time of the non-linear probe: the two targets, each learner, one worker against all cores.

Run from the repository root:

    .venv/bin/python benchmarks/probe_benchmark.py [--repeats 5] [--with-mlp]

Targets (warm process: imports and one untimed call done first; median of
``--repeats`` calls):

* 10,000 rows x 10 predictors through ``run_probe``: at most 1.0 s;
* 1,000,000 rows x 20 predictors through ``run_probe`` (which fits on its
  seeded sample of ``max_rows`` = 20,000 rows): at most 3.0 s.

The data is seeded: standard-normal predictors, a linear part in all of
them plus a sine of x1 and an x2·x3 interaction (non-linear, so every
learner has something to find), and unit-variance noise. For each shape the
table gives the median (and range) of the wall time of ``run_probe`` with
the default learners, with each learner alone (OLS is always fitted too),
and with the default learners on one worker thread; ``--with-mlp`` adds the
optional MLP and the former default pair (gradient boosting + MLP). The
machine's other load shows in the range: rerun when it is wide.
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

from olscheck.verdict.probe import DEFAULT_LEARNERS, run_probe  # noqa: E402

#: (rows, columns, target seconds) of the two targets.
TARGETS = ((10_000, 10, 1.0), (1_000_000, 20, 3.0))


def make_data(rows: int, columns: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """Seeded predictors and a target with a linear part, a sine and an interaction."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((rows, columns))
    slopes = rng.uniform(-1.0, 1.0, columns)
    y = x @ slopes + 1.5 * np.sin(2.0 * x[:, 0]) + x[:, 1] * x[:, 2] + rng.standard_normal(rows)
    return x, y


def timed(function, repeats: int) -> tuple[list[float], object]:
    """Wall times of ``repeats`` calls of ``function()`` after one untimed warm-up call, and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--with-mlp", action="store_true", help="also time the optional MLP (slow)")
    args = parser.parse_args(argv)

    runs = [(" + ".join(DEFAULT_LEARNERS), DEFAULT_LEARNERS, None),
            (" + ".join(DEFAULT_LEARNERS) + ", 1 worker", DEFAULT_LEARNERS, 1),
            ("additive_spline alone", ("additive_spline",), None),
            ("gradient_boosting alone", ("gradient_boosting",), None)]
    if args.with_mlp:
        runs += [("mlp alone", ("mlp",), None),
                 ("gradient_boosting + mlp (former default)", ("gradient_boosting", "mlp"), None)]
    header = ("data", "learners", "wall s median (min-max)", "target", "out-of-sample R²",
              "best learner's R² gain [95% CI]")
    rows = []
    for n_rows, columns, target in TARGETS:
        x, y = make_data(n_rows, columns)
        for label, learners, workers in runs:
            times, result = timed(
                lambda: run_probe(x, y, folds=args.folds, seed=0, learners=learners, workers=workers), args.repeats)
            median = statistics.median(times)
            r2 = ", ".join(f"{name} {scores.r_squared:.3f}" for name, scores in result.models.items())
            gain = result.gain
            low, high = gain.r_squared_gain_ci
            verdict = (f"<= {target:.1f} s: {'met' if median <= target else 'MISSED'}"
                       if learners == DEFAULT_LEARNERS and workers is None else "")
            rows.append((f"{n_rows:,} x {columns}", label, f"{median:.2f} ({min(times):.2f}-{max(times):.2f})",
                         verdict, r2, f"{gain.r_squared_gain_mean:+.3f} [{low:+.3f}, {high:+.3f}]"))
            print("  ".join(rows[-1]), file=sys.stderr, flush=True)

    print(f"run_probe, {args.folds} folds, warm, median wall time of {args.repeats} runs "
          f"({len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()} cores); "
          "1,000,000 rows are sampled to max_rows = 20,000")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) if i == 2 else cell.ljust(width)
                        for i, (cell, width) in enumerate(zip(row, widths))).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
