"""The cost of the OLS battery against the floor of reading the data and forming X'X once.

Run from the repository root:

    .venv/bin/python benchmarks/battery_benchmark.py                  # 1e5 x 20, 3 repeats
    .venv/bin/python benchmarks/battery_benchmark.py --sizes 1e5x20,1e6x20,1e6x50
    .venv/bin/python benchmarks/battery_benchmark.py --sizes 5e6x20 --skip naive,full --repeats 1 --warm floor,stream

For each n x p a seeded Parquet file is generated (under --workdir, reused
when present): p predictors with collinearity (each column mixes the
previous one in, so VIFs of 2-5 and one pair near 20) and heteroskedastic
noise whose SD grows with |x1|. Then, each as a whole process (``python
this_file --run STEP``, wall time and peak RSS from ``os.wait4``):

(a) ``floor``   read the Parquet file and form X'X once (numpy);
(b) ``naive``   the usual statsmodels recipe: OLS fit, a VIF loop
                (``variance_inflation_factor`` per column), het_breuschpagan,
                durbin_watson, jarque_bera, linear_reset;
(c) ``battery`` ``olscheck.check(frame, probe=False)`` on the read frame
                (the in-memory battery, no probe, no plots);
(s) ``stream``  ``olscheck.engine.check_streaming(path)``: the same battery
                streamed from the file in chunks (bounded memory);
(d) ``full``    ``olscheck check FILE --json --html --markdown`` (probe,
                plots and reports).

Peak RSS is the child's own VmHWM (ru_maxrss from wait4 would include the
parent's memory at fork). (a), (c) and (s) are also timed warm, each in a
process of its own (imports done, one untimed warm-up run), to separate the
engine from start-up. The median over
--repeats runs is printed, with the ratios c/a, s/a and b/c. ``--breakdown``
adds, per size, the warm time of each stage of (c): reading the frame into
the design, the fit, and each family of tests. ``--interleaved`` adds, per
size, the warm steps run alternately in *one* process, round by round
(floor, battery, stream, floor, battery, ...): the ratio of each round is
taken between runs a few seconds apart, so a machine whose speed drifts
(this one's floor moved between 0.2 and 0.5 s within an hour) moves both
sides of it; the median of the rounds' ratios is printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEPS = ("floor", "naive", "battery", "stream", "full")


# --------------------------------------------------------------------------- data
def generate(path: Path, rows: int, columns: int, seed: int = 2024, block: int = 200_000) -> None:
    """Write a seeded Parquet file block by block (memory bounded by the block)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    slopes = rng.uniform(-1.0, 1.0, columns)
    names = [f"x{j + 1}" for j in range(columns)]
    writer = None
    try:
        for start in range(0, rows, block):
            m = min(block, rows - start)
            x = rng.standard_normal((m, columns))
            for j in range(1, columns):  # collinearity: each column leans on the previous one
                x[:, j] += (0.9 if j == 1 else 0.5) * x[:, j - 1]
            noise = rng.standard_normal(m) * (1.0 + 0.5 * np.abs(x[:, 0]))  # heteroskedastic
            y = 2.0 + x @ slopes + noise
            table = pa.table({"y": y, **{name: x[:, j] for j, name in enumerate(names)}})
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table, row_group_size=min(block, 100_000))
    finally:
        if writer is not None:
            writer.close()


# --------------------------------------------------------------------------- the steps
def step_floor(path: str):
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(path)
    x = np.column_stack([np.ones(len(frame)), frame.drop(columns="y").to_numpy()])
    return x.T @ x


def step_naive(path: str):
    import pandas as pd
    import statsmodels.api as sm
    from statsmodels.stats.diagnostic import het_breuschpagan, linear_reset
    from statsmodels.stats.outliers_influence import variance_inflation_factor
    from statsmodels.stats.stattools import durbin_watson, jarque_bera

    frame = pd.read_parquet(path)
    x = sm.add_constant(frame.drop(columns="y"))
    model = sm.OLS(frame["y"], x).fit()
    vifs = [variance_inflation_factor(x.values, i) for i in range(1, x.shape[1])]
    return (vifs, het_breuschpagan(model.resid, model.model.exog), durbin_watson(model.resid),
            jarque_bera(model.resid), linear_reset(model, power=3, use_f=True))


def step_battery(path: str):
    import pandas as pd

    import olscheck

    return olscheck.check(pd.read_parquet(path), target="y", probe=False)


def step_stream(path: str):
    from olscheck.engine import check_streaming

    return check_streaming(path, target="y")


def run_step(name: str, path: str) -> None:
    if name == "full":
        with tempfile.TemporaryDirectory() as out:
            from olscheck.cli import main

            code = main(["check", path, "--target", "y", "--quiet", "--json", os.path.join(out, "r.json"),
                         "--html", os.path.join(out, "r.html"), "--markdown", os.path.join(out, "r.md")])
            if code not in (0, 1):
                raise SystemExit(code)
        return
    {"floor": step_floor, "naive": step_naive, "battery": step_battery, "stream": step_stream}[name](path)


# --------------------------------------------------------------------------- measuring
def whole_process(name: str, path: str) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of ``python this_file --run name --data path``."""
    start = time.perf_counter()
    # the child reports its own VmHWM: ru_maxrss of a child also counts the parent's RSS at fork time
    process = subprocess.run([sys.executable, __file__, "--run", name, "--data", path], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"step {name} failed with exit code {process.returncode}: {process.stderr[-2000:]}")
    peak = [line for line in process.stdout.splitlines() if line.startswith("PEAK_KIB ")]
    return wall, int(peak[-1].split()[1]) / 1024.0 if peak else float("nan")


def peak_kib() -> int:
    """High-water mark of this process's resident memory (Linux VmHWM), in KiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def warm_process(name: str, path: str, repeats: int) -> float:
    """Median warm seconds of ``name`` measured in a process of its own (``--run-warm``).

    Each step gets a fresh interpreter, so what an earlier step left in the
    allocator or the page tables (a 5e6-row run frees gigabytes) does not
    change its time.
    """
    process = subprocess.run([sys.executable, __file__, "--run", name, "--data", path, "--warm-repeats",
                              str(repeats)], capture_output=True, text=True)
    if process.returncode != 0:
        raise RuntimeError(f"warm step {name} failed with exit code {process.returncode}: {process.stderr[-2000:]}")
    return float([line for line in process.stdout.splitlines() if line.startswith("WARM_SECONDS ")][-1].split()[1])


def warm(name: str, path: str, repeats: int) -> float:
    run_step(name, path)  # imports and caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_step(name, path)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def breakdown(path: str, repeats: int) -> list[tuple[str, float]]:
    """Warm seconds of each stage of the in-memory battery (median of ``repeats``): where (c)'s time goes."""
    import pandas as pd

    from olscheck.checks import battery, influence
    from olscheck.inputs.prepare import prepare
    from olscheck.engine.parallel import one_blas_thread
    from olscheck.model.fit import fit
    from olscheck.numerics.covariance import newey_west_lags
    from olscheck.thresholds import DEFAULT_THRESHOLDS

    frame = pd.read_parquet(path)
    stages = {}

    def timed(name, function):
        start = time.perf_counter()
        result = function()
        stages.setdefault(name, []).append(time.perf_counter() - start)
        return result

    for _ in range(repeats + 1):  # the first run warms caches and is dropped
        with one_blas_thread():  # as olscheck.check runs them
            design = timed("read frame into the design", lambda: prepare(frame, "y", None))
            fitted = timed("fit (QR, refinement, leverage)", lambda: fit(design))
            model = battery.InMemoryModel(fitted)
            n = model.n
            kept = battery.kept_positions(n, battery.EXACT_ROWS, 0)
            timed("residual statistics (every accumulated test)", lambda: battery.residual_statistics(
                model, 1, newey_west_lags(n), n // 2, battery.positions_between(kept)))
            timed("the whole battery (statistics + whole-sequence tests on the rows kept)",
                  lambda: battery.run(fitted, DEFAULT_THRESHOLDS))
            timed("robust comparison", lambda: influence.robust_on_rows(fitted, None, DEFAULT_THRESHOLDS, 0))
    return [(name, statistics.median(times[1:])) for name, times in stages.items()]


def interleaved(path: str, steps: list[str], rounds: int) -> dict[str, list[float]]:
    """Warm seconds of ``steps`` run alternately in this process, ``rounds`` times (after one untimed round)."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_number in range(rounds + 1):
        for name in steps:
            start = time.perf_counter()
            run_step(name, path)
            if round_number:
                times[name].append(time.perf_counter() - start)
    return times


def data_file(workdir: Path, rows: int, columns: int) -> Path:
    """The seeded Parquet file of ``rows`` x ``columns`` under ``workdir``, generated when it is not there yet."""
    path = workdir / f"bench_{rows}x{columns}.parquet"
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        generate(path, rows, columns)
    return path


def parse_size(text: str) -> tuple[int, int]:
    rows, columns = text.lower().split("x")
    return int(float(rows)), int(columns)


def machine() -> str:
    import platform

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5x20", help="comma-separated n x p, e.g. 1e5x20,1e6x20,5e6x50")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--skip", default="", help=f"comma-separated steps to skip, of {','.join(STEPS)}")
    parser.add_argument("--warm", default="floor,naive,battery,stream",
                        help="steps also timed warm, each in a process of its own (default floor,naive,battery,stream; "
                             "naive warm is the recipe's compute-only time)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time each stage of the in-memory battery in a warm process")
    parser.add_argument("--interleaved", action="store_true",
                        help="also run the warm steps alternately in one process and print each round's ratios")
    parser.add_argument("--workdir", default=str(Path(tempfile.gettempdir()) / "olscheck-benchmark"))
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--warm-repeats", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--interleave-steps", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.interleave_steps:
        steps = args.interleave_steps.split(",")
        for name, seconds in interleaved(args.data, steps, args.repeats).items():
            print(f"INTERLEAVED {name} {' '.join(f'{s:.4f}' for s in seconds)}")
        return 0
    if args.run and args.warm_repeats:
        print(f"WARM_SECONDS {warm(args.run, args.data, args.warm_repeats)}")
        return 0
    if args.run:
        run_step(args.run, args.data)
        print(f"PEAK_KIB {peak_kib()}")
        return 0

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    warm_steps = {s.strip() for s in args.warm.split(",") if s.strip()}
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    header = (f"{'n x p':>12} {'step':>8} {'wall s':>9} {'peak MiB':>9} {'warm s':>8}")
    rows = []
    for size in args.sizes.split(","):
        n, p = parse_size(size)
        path = data_file(workdir, n, p)
        results = {}
        for name in STEPS:
            if name in skip:
                continue
            runs = [whole_process(name, str(path)) for _ in range(args.repeats)]
            wall = statistics.median(r[0] for r in runs)
            peak = statistics.median(r[1] for r in runs)
            warm_time = warm_process(name, str(path), args.repeats) if name in warm_steps else None
            results[name] = (wall, peak, warm_time)
            line = (f"{n:>9.0e}x{p:<2} {name:>8} {wall:9.2f} {peak:9.0f} "
                    f"{'' if warm_time is None else f'{warm_time:8.2f}'}")
            print(line, flush=True)
        rows.append((n, p, results))
        if args.breakdown:
            stages = breakdown(str(path), args.repeats)
            total = sum(seconds for _, seconds in stages)
            print(f"\nwhere the in-memory battery's warm time goes at {n:.0e} x {p} (total {total:.2f} s):")
            print("| stage | warm s | share |")
            print("|---|---:|---:|")
            for name, seconds in stages:
                print(f"| {name} | {seconds:.3f} | {100 * seconds / total:.0f}% |")
            print(flush=True)
        if args.interleaved:
            steps = [name for name in ("floor", "battery", "stream") if name in warm_steps and name not in skip]
            process = subprocess.run([sys.executable, __file__, "--data", str(path), "--repeats", str(args.repeats),
                                      "--interleave-steps", ",".join(steps)], capture_output=True, text=True)
            if process.returncode != 0:
                raise RuntimeError(f"interleaved run failed: {process.stderr[-2000:]}")
            times = {line.split()[1]: [float(v) for v in line.split()[2:]]
                     for line in process.stdout.splitlines() if line.startswith("INTERLEAVED ")}
            print(f"\n{', '.join(steps)} alternated in one warm process at {n:.0e} x {p}, {args.repeats} rounds:")
            print("| step | seconds per round | median | median ratio to the floor of its round |")
            print("|---|---|---:|---:|")
            for name, seconds in times.items():
                ratios = ([s / f for s, f in zip(seconds, times["floor"])] if "floor" in times and name != "floor"
                          else [])
                print(f"| {name} | {', '.join(f'{s:.2f}' for s in seconds)} | {statistics.median(seconds):.2f} | "
                      f"{f'{statistics.median(ratios):.2f}' if ratios else ''} |")
            print(flush=True)

    print()
    print(f"machine: {machine()}")
    print("| n x p | step | wall s (process) | peak RSS MiB | warm s (in process) |")
    print("|---|---|---:|---:|---:|")
    for n, p, results in rows:
        for name, (wall, peak, warm_time) in results.items():
            print(f"| {n:.0e} x {p} | {name} | {wall:.2f} | {peak:.0f} | {'' if warm_time is None else f'{warm_time:.2f}'} |")
    print()
    print("| n x p | c/a process | c/a warm | s/a process | s/a warm | b/c process | b/c warm | b/s warm "
          "| peak c / peak a | peak s / peak a |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, p, results in rows:
        def ratio(top, bottom, index):
            if top not in results or bottom not in results or results[bottom][index] in (None, 0):
                return ""
            value = results[top][index]
            return "" if value is None else f"{value / results[bottom][index]:.2f}"
        print(f"| {n:.0e} x {p} | {ratio('battery', 'floor', 0)} | {ratio('battery', 'floor', 2)} | "
              f"{ratio('stream', 'floor', 0)} | {ratio('stream', 'floor', 2)} | {ratio('naive', 'battery', 0)} | "
              f"{ratio('naive', 'battery', 2)} | {ratio('naive', 'stream', 2)} | "
              f"{ratio('battery', 'floor', 1)} | {ratio('stream', 'floor', 1)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
