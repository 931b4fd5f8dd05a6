"""The cost of drawing a report's diagnostic plots (issue 13: fast where users wait).

Run from the repository root:

    .venv/bin/python benchmarks/plots_benchmark.py                    # 10,000 x 10, 3 processes, 5 warm repeats
    .venv/bin/python benchmarks/plots_benchmark.py --rows 100000 --columns 20 --processes 1
    .venv/bin/python benchmarks/plots_benchmark.py --out /tmp/plots   # also write the PNGs to look at

Each process (``python this_file --run``, a fresh interpreter so nothing of
matplotlib is imported yet) generates a seeded frame like
``battery_benchmark.py``'s ``generate`` (``--rows`` x ``--columns``
predictors, each column leaning on the previous one, noise SD growing with
|x1|), runs ``olscheck.check(frame, target="y")`` (probe included, as
``olscheck check`` runs it), then times:

cold    the first ``render_plots(report)`` of the process: importing
        matplotlib and Pillow, every figure drawn and encoded;
warm    the median of ``--repeats`` further renderings, each of a fresh copy
        of the report (``dataclasses.replace``), so the per-report cache of
        rendered plots is not what is timed;
cached  ``render_plots`` of the first report again (the cache's answer).

It also reports the number of plots and the total bytes of their PNGs (a
report's size limit counts these). The parent prints the median over
``--processes`` processes and the bytes of each plot.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def generate(rows: int, columns: int, seed: int = 2024):
    """A seeded frame: collinear predictors ``x1..xp``, heteroskedastic noise, response ``y``."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    slopes = rng.uniform(-1.0, 1.0, columns)
    x = rng.standard_normal((rows, columns))
    for j in range(1, columns):  # collinearity: each column leans on the previous one
        x[:, j] += (0.9 if j == 1 else 0.5) * x[:, j - 1]
    noise = rng.standard_normal(rows) * (1.0 + 0.5 * np.abs(x[:, 0]))  # heteroskedastic
    frame = pd.DataFrame({"y": 2.0 + x @ slopes + noise})
    for j in range(columns):
        frame[f"x{j + 1}"] = x[:, j]
    return frame


def measure(rows: int, columns: int, repeats: int, out: str | None) -> dict:
    """Cold, warm and cached seconds of ``render_plots`` in this process, with the plots' bytes."""
    import dataclasses

    import olscheck

    report = olscheck.check(generate(rows, columns), target="y")
    matplotlib_before = "matplotlib" in sys.modules  # the battery and the probe should not need it

    from olscheck.report.render import render_plots

    start = time.perf_counter()
    plots = render_plots(report)
    cold = time.perf_counter() - start
    warm = []
    for _ in range(repeats):
        copy = dataclasses.replace(report)  # a new report object: rendered again, not taken from a cache
        start = time.perf_counter()
        render_plots(copy)
        warm.append(time.perf_counter() - start)
    start = time.perf_counter()
    render_plots(report)
    cached = time.perf_counter() - start
    if out:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        for plot in plots:
            (folder / f"{plot.key}.png").write_bytes(plot.png)
    return {
        "cold": cold,
        "warm": statistics.median(warm) if warm else float("nan"),
        "cached": cached,
        "plots": len(plots),
        "bytes": {plot.key: len(plot.png) for plot in plots},
        "matplotlib_imported_by_check": matplotlib_before,
        "pyplot_imported": "matplotlib.pyplot" in sys.modules,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--processes", type=int, default=3, help="fresh processes for the cold time (median)")
    parser.add_argument("--repeats", type=int, default=5, help="warm renderings per process (median)")
    parser.add_argument("--out", help="folder to write the first process's PNGs to")
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)  # one measuring child
    args = parser.parse_args(argv)
    if args.run:
        print("RESULT " + json.dumps(measure(args.rows, args.columns, args.repeats, args.out)))
        return

    results = []
    for index in range(args.processes):
        command = [sys.executable, __file__, "--run", "--rows", str(args.rows), "--columns", str(args.columns),
                   "--repeats", str(args.repeats)]
        if args.out and index == 0:
            command += ["--out", args.out]
        process = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        if process.returncode != 0:
            raise SystemExit(f"the measuring process failed ({process.returncode}):\n{process.stderr[-3000:]}")
        line = [line for line in process.stdout.splitlines() if line.startswith("RESULT ")][-1]
        results.append(json.loads(line[len("RESULT "):]))

    first = results[0]
    print(f"render_plots, {args.rows:,} x {args.columns}: {first['plots']} plots, "
          f"median of {len(results)} process(es)")
    for name in ("cold", "warm", "cached"):
        values = [result[name] for result in results]
        print(f"  {name:<6} {statistics.median(values):7.3f} s   (each: {', '.join(f'{v:.3f}' for v in values)})")
    print(f"  total PNG bytes {sum(first['bytes'].values()):,}")
    for key, size in first["bytes"].items():
        print(f"    {key:<24} {size:>8,}")
    print(f"  matplotlib imported by check: {first['matplotlib_imported_by_check']}; "
          f"matplotlib.pyplot imported: {first['pyplot_imported']}")


if __name__ == "__main__":
    main()
