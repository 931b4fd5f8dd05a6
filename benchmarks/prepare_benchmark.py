"""Wall time of preparing a data set (column screening included) against reading it with pandas.

Run from the repository root:

    .venv/bin/python benchmarks/prepare_benchmark.py [--rows 1000000] [--repeats 5]

The file is seeded and written once to a temporary folder: ``--rows`` rows
of five standard-normal numbers (``y``, ``x1`` ... ``x4``) and one text
column ``g`` with five levels. Timed (median and range of ``--repeats``
calls, after one untimed warm-up call):

* ``read``: ``pandas.read_csv(path)``, the floor;
* ``read_table``: :func:`olscheck.inputs.prepare.read_table` (delimiter sniffing and
  the header checks included);
* ``prepare``: :func:`olscheck.inputs.prepare.prepare` on the DataFrame already read
  (screening every column, then the design matrix with the dummies of g);
* ``prepare(path)``: the whole way from the file to the design.

Target (issue 14): ``prepare`` at most about the time of ``read``. The
machine's other load shows in the range: rerun when it is wide.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from olscheck.inputs.prepare import prepare, read_table  # noqa: E402


def write_data(path: Path, rows: int, seed: int = 2024) -> None:
    """Five seeded numbers and a five-level text column, as CSV."""
    rng = np.random.default_rng(seed)
    numbers = rng.standard_normal((rows, 5))
    frame = pd.DataFrame(numbers, columns=["y", "x1", "x2", "x3", "x4"])
    frame["g"] = np.array(["north", "south", "east", "west", "centre"])[rng.integers(0, 5, rows)]
    frame.to_csv(path, index=False, float_format="%.6f")


def timed(function, repeats: int) -> list[float]:
    """Wall times of ``repeats`` calls of ``function()`` after one untimed warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prepare.csv"
        write_data(path, args.rows)
        frame = pd.read_csv(path)
        design = prepare(frame, target="y")
        assert design.column_names == ("Intercept", "x1", "x2", "x3", "x4", "g[T.east]", "g[T.north]",
                                       "g[T.south]", "g[T.west]"), design.column_names
        rows = [
            ("read: pd.read_csv(path)", timed(lambda: pd.read_csv(path), args.repeats)),
            ("read_table(path)", timed(lambda: read_table(path), args.repeats)),
            ("prepare(frame, target='y')", timed(lambda: prepare(frame, target="y"), args.repeats)),
            ("prepare(path, target='y')", timed(lambda: prepare(path, target="y"), args.repeats)),
        ]
    print(f"{args.rows:,} rows x 6 columns (5 numbers, 1 text column with 5 levels); "
          f"median [min-max] of {args.repeats} calls")
    print("| step | seconds | range |")
    print("|---|---:|---|")
    for label, times in rows:
        print(f"| {label} | {statistics.median(times):.3f} | {min(times):.3f}-{max(times):.3f} |")
    read, prepared = statistics.median(rows[0][1]), statistics.median(rows[2][1])
    print(f"\nprepare / read = {prepared / read:.2f} (target: at most about 1)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
