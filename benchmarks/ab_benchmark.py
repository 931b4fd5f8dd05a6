"""The in-memory check of this checkout against an earlier commit, processes alternating.

Run from the repository root:

    .venv/bin/python benchmarks/ab_benchmark.py --base 51bca7f                     # 1e6 x 20, 3 rounds
    .venv/bin/python benchmarks/ab_benchmark.py --base HEAD~3 --sizes 5e6x20 --rounds 2 --repeats 2

This machine's speed drifts by 20-30% within an hour, more than most
changes move the check, so two versions are compared in one sitting: the
base commit is checked out in a temporary git worktree, and each round runs
one process of the base and one of this checkout, one after the other
(each version imported through ``PYTHONPATH`` from its own tree). A process
reads the seeded Parquet file of ``battery_benchmark.py`` (reused from
``--workdir``), runs ``olscheck.check(frame, target="y", probe=False)`` once
untimed, then ``--repeats`` times timed, and reports the median wall time
and the median CPU time of all its threads. Printed: each round's figures
and the median over rounds of each version.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))


def child(data: str, repeats: int) -> None:
    """Time the warm in-memory check in this process (olscheck imported from PYTHONPATH)."""
    import pandas as pd

    import olscheck

    frame = pd.read_parquet(data)
    olscheck.check(frame, target="y", probe=False, progress=False)
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        olscheck.check(frame, target="y", probe=False, progress=False)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print(f"AB {olscheck.__file__} {statistics.median(wall):.4f} {statistics.median(cpu):.4f}")


def measure(tree: Path, data: Path, repeats: int) -> tuple[float, float]:
    environment = {**os.environ, "PYTHONPATH": str(tree)}
    process = subprocess.run([sys.executable, __file__, "--child", str(data), "--repeats", str(repeats)],
                             capture_output=True, text=True, env=environment, cwd=tree)
    if process.returncode != 0:
        raise RuntimeError(f"the check failed in {tree}: {process.stderr[-2000:]}")
    line = [row for row in process.stdout.splitlines() if row.startswith("AB ")][-1].split()
    if not Path(line[1]).resolve().is_relative_to(tree.resolve()):
        raise RuntimeError(f"olscheck was imported from {line[1]}, not from {tree}")
    return float(line[2]), float(line[3])


@contextmanager
def checkout_of(revision: str):
    """A temporary git worktree of ``revision`` (its path), removed on leaving."""
    with tempfile.TemporaryDirectory(prefix="olscheck-ab-") as scratch:
        tree = Path(scratch) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), revision],
                       check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="the commit to compare against (any git revision)")
    parser.add_argument("--sizes", default="1e6x20", help="comma-separated n x p, e.g. 1e6x20,5e6x20")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of one base and one current process")
    parser.add_argument("--repeats", type=int, default=4, help="timed checks per process (median reported)")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "olscheck-benchmark"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.repeats)
        return 0
    if not args.base:
        parser.error("--base is required")
    from battery_benchmark import data_file, parse_size

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    with checkout_of(args.base) as base_tree:
        for size in args.sizes.split(","):
            n, p = parse_size(size)
            data = data_file(workdir, n, p)
            print(f"\n{n:.0e} x {p}: base {args.base} against this checkout, {args.rounds} rounds, "
                  f"median of {args.repeats} warm checks per process")
            print("| round | base wall s | base CPU s | this wall s | this CPU s |")
            print("|---|---:|---:|---:|---:|")
            base_runs, these = [], []
            for round_number in range(1, args.rounds + 1):
                base_runs.append(measure(base_tree, data, args.repeats))
                these.append(measure(ROOT, data, args.repeats))
                print(f"| {round_number} | {base_runs[-1][0]:.3f} | {base_runs[-1][1]:.3f} | {these[-1][0]:.3f} | "
                      f"{these[-1][1]:.3f} |", flush=True)
            base_wall = statistics.median(r[0] for r in base_runs)
            this_wall = statistics.median(r[0] for r in these)
            print(f"| median | {base_wall:.3f} | {statistics.median(r[1] for r in base_runs):.3f} | "
                  f"{this_wall:.3f} | {statistics.median(r[1] for r in these):.3f} |")
            print(f"this / base (wall): {this_wall / base_wall:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
