"""An analyst-sized check from the shell against the bare statsmodels recipe, whole processes.

Run from the repository root:

    .venv/bin/python benchmarks/cli_benchmark.py                      # 10,000 x 10, 5 runs each
    .venv/bin/python benchmarks/cli_benchmark.py --rows 10000 --columns 10 --repeats 7

A seeded CSV of ``rows`` x ``columns`` (the generator of
``battery_benchmark.py``: collinear predictors, noise SD growing with |x1|)
is written under ``--workdir``. Then, alternating, each as a fresh process
(wall time, median of ``--repeats``):

(r) ``recipe``    python: read the CSV with pandas, ``statsmodels`` OLS, a
                  ``variance_inflation_factor`` loop, ``het_breuschpagan``,
                  ``durbin_watson``, ``jarque_bera``, ``linear_reset``; no report;
(o) ``olscheck``  ``python -m olscheck check FILE --target y --html OUT``: the
                  battery, the probe, the plots and the HTML report.

(b) ``base``      with ``--base REV``: the same olscheck command from a git
                  worktree of REV (imported through ``PYTHONPATH``), to compare
                  code with code on a machine whose speed drifts.

Printed: the medians and o/r (issue 13 asks at most 1.5), and o/b with
``--base``. Runs alternate so that a change in the machine's load hits all alike. Both run with Python's
bytecode cache on, as an installed package runs (``PYTHONDONTWRITEBYTECODE``
is dropped from the environment: with it set, as on this machine, every
process compiled olscheck's 19,000 lines again while statsmodels' installed
bytecode was read); the untimed first run of each writes the cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

RECIPE = """
import sys
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.diagnostic import het_breuschpagan, linear_reset
from statsmodels.stats.outliers_influence import variance_inflation_factor
from statsmodels.stats.stattools import durbin_watson, jarque_bera

frame = pd.read_csv(sys.argv[1])
x = sm.add_constant(frame.drop(columns="y"))
model = sm.OLS(frame["y"], x).fit()
vifs = [variance_inflation_factor(x.values, i) for i in range(1, x.shape[1])]
print(vifs, het_breuschpagan(model.resid, model.model.exog), durbin_watson(model.resid),
      jarque_bera(model.resid), linear_reset(model, power=3, use_f=True))
"""


def timed(command: list[str], tree: Path | None = None) -> float:
    start = time.perf_counter()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    if tree is not None:
        environment["PYTHONPATH"] = str(tree)  # and run from it: "-m" puts the working directory first
    process = subprocess.run(command, capture_output=True, text=True, cwd=tree or ROOT, env=environment)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 1):  # olscheck exits 1 when the verdict is not linear
        raise RuntimeError(f"{command[:4]} failed ({process.returncode}): {process.stderr[-2000:]}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "olscheck-benchmark"))
    parser.add_argument("--base", help="also run olscheck as of this git revision (a temporary worktree)")
    args = parser.parse_args(argv)

    import pandas as pd

    from ab_benchmark import checkout_of
    from battery_benchmark import generate, machine

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    csv = workdir / f"cli_{args.rows}x{args.columns}.csv"
    if not csv.exists():
        parquet = workdir / f"cli_{args.rows}x{args.columns}.parquet"
        generate(parquet, args.rows, args.columns)
        pd.read_parquet(parquet).to_csv(csv, index=False)
    with tempfile.TemporaryDirectory() as out, ExitStack() as stack:
        ours = [sys.executable, "-m", "olscheck", "check", str(csv), "--target", "y", "--html",
                str(Path(out) / "report.html"), "--quiet"]
        commands: dict[str, tuple[list[str], Path | None]] = {
            "recipe": ([sys.executable, "-c", RECIPE, str(csv)], None), "olscheck": (ours, None)}
        if args.base:
            commands[f"olscheck at {args.base}"] = (ours, stack.enter_context(checkout_of(args.base)))
        for command, tree in commands.values():  # warm the file cache and the bytecode once, untimed
            timed(command, tree)
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.repeats):
            for name, (command, tree) in commands.items():
                times[name].append(timed(command, tree))
    medians = {name: statistics.median(values) for name, values in times.items()}
    print(f"machine: {machine()}")
    print(f"{args.rows:,} x {args.columns} CSV, median of {args.repeats} whole processes each")
    print("| command | median s | runs |")
    print("|---|---:|---|")
    for name, values in times.items():
        print(f"| {name} | {medians[name]:.2f} | {', '.join(f'{v:.2f}' for v in values)} |")
    print(f"\nolscheck / recipe: {medians['olscheck'] / medians['recipe']:.2f} (issue 13: at most 1.5)")
    if args.base:
        base = medians[f"olscheck at {args.base}"]
        print(f"olscheck at {args.base} / recipe: {base / medians['recipe']:.2f}; "
              f"this / {args.base}: {medians['olscheck'] / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
