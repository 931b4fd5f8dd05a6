"""How often is the verdict right? Seeded data sets with known answers.

Run from the repository root:

    .venv/bin/python benchmarks/verdict_benchmark.py --quick                 # smoke run, about a minute
    .venv/bin/python benchmarks/verdict_benchmark.py --out /tmp/verdicts     # the full default grid
    .venv/bin/python benchmarks/verdict_benchmark.py --kinds clean_normal,sine --n 400,5000 --reps 10 --no-probe

Every (kind, n, replicate) of ``verdict_cases.py`` is generated from its own
seed and checked with ``olscheck.check(data, target=..., **arguments,
seed=0)``; the expected verdict is known by construction (see that module
for how each truth was verified). Defaults: n = 60, 400, 5000, 100000;
25 replicates of each non-clean kind at n <= 5000 and 8 at 100,000; 100
replicates of each clean kind (clean_normal, clean_t5, clean_laplace) at
n <= 5000 and 10 at 100,000. Checks run in a pool of ``--jobs`` processes,
each with BLAS held to one thread, so the seconds per check are those of
one core.

Printed (Markdown): (a) accuracy per kind and n; (b) confusion matrices
per n; (c) the false-alarm rate on the clean kinds with 95% Wilson
intervals; (d) the accuracy of the "naive p-value habit" read from the same
reports (RESET p < .05 -> nonlinear; else Breusch-Pagan, Durbin-Watson or
Jarque-Bera p < .05 or largest VIF > 10 -> linear_with_remedies; else
linear); (e) which tests warned or failed in the cases a linear-expected
kind or gross_outliers got wrong; (f) wall time and seconds per check.
A check that raises is recorded as verdict ``error`` with its message.
``--out DIR`` writes every row (with each test's severity) to
``DIR/verdict_rows.csv`` at the end and to ``DIR/verdict_rows.jsonl`` as
checks finish; ``--tables-from DIR/verdict_rows.jsonl`` prints the tables
of such a file (of a run cut short, too) without running anything. Both
wall and CPU seconds per check are reported: on a shared machine the wall
seconds grow with the other load.
"""

from __future__ import annotations

import os

# BLAS threads must be fixed before numpy is first imported; the spawned
# workers re-import this module, so they start with one thread each too
# (two workers on two cores, no oversubscription).
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import inspect  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import verdict_cases  # noqa: E402
from verdict_cases import CLEAN_KINDS, EXPECTED, KINDS, LINEAR, LINEAR_WITH_REMEDIES, NONLINEAR  # noqa: E402

DEFAULT_SIZES = (60, 400, 5000, 100_000)
LARGE_N = 100_000
ERROR = "error"
VERDICTS = (LINEAR, LINEAR_WITH_REMEDIES, NONLINEAR, ERROR)
SHORT = {LINEAR: "L", LINEAR_WITH_REMEDIES: "R", NONLINEAR: "N", ERROR: "E"}
NAIVE_TESTS = ("reset", "breusch_pagan", "durbin_watson", "jarque_bera")
# kinds whose misses are shown test by test in (e): every kind expected to be
# linear (a miss there is a false alarm) and gross_outliers (must never be nonlinear)
DIAGNOSED_KINDS = (*CLEAN_KINDS, "mild_heteroskedastic", "tiny_curvature", "gross_outliers")


def default_replicates(kind: str, n: int) -> int:
    """Replicates per (kind, n) when neither --reps nor --clean-reps is given."""
    if kind in CLEAN_KINDS:
        return 100 if n < LARGE_N else 10
    return 25 if n < LARGE_N else 8


def naive_verdict(p_values: dict[str, float | None], largest_vif: float | None) -> str:
    """The "naive p-value habit": every test at .05, no effect sizes.

    RESET p < .05 -> nonlinear; else Breusch-Pagan, Durbin-Watson or
    Jarque-Bera p < .05, or largest VIF > 10 -> linear_with_remedies; else
    linear. A p-value the report could not compute counts as not significant.
    """
    def significant(name: str) -> bool:
        value = p_values.get(name)
        return value is not None and math.isfinite(value) and value < 0.05

    if significant("reset"):
        return NONLINEAR
    if any(significant(name) for name in ("breusch_pagan", "durbin_watson", "jarque_bera")):
        return LINEAR_WITH_REMEDIES
    if largest_vif is not None and math.isfinite(largest_vif) and largest_vif > 10:
        return LINEAR_WITH_REMEDIES
    return LINEAR


def _initialise_worker() -> None:
    # belt and braces: if numpy was somehow imported before the environment
    # was set, threadpoolctl still caps every BLAS/OpenMP pool at one thread
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    warnings.simplefilter("ignore")


def run_one(task: tuple[str, int, int, bool]) -> dict:
    """Generate one case and check it; never raises (an exception becomes verdict ``error``)."""
    kind, n, replicate, probe = task
    row = {"kind": kind, "n": n, "rep": replicate, "expected": EXPECTED[kind], "verdict": ERROR,
           "naive_verdict": ERROR, "seconds": float("nan"), "cpu_seconds": float("nan"), "error": "",
           "severities": {}, "naive_inputs": {}}
    try:
        import olscheck

        case = verdict_cases.make(kind, n, replicate)
        start, start_cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = olscheck.check(case.data, target=case.target, **case.check_arguments, seed=0, probe=probe)
        row["seconds"] = time.perf_counter() - start
        # CPU seconds of the worker (all its threads): on a shared machine the wall
        # seconds grow with the other load, the CPU seconds much less
        row["cpu_seconds"] = time.process_time() - start_cpu
        row["verdict"] = report.verdict.level
        power = report.verdict.power or {}
        row["power_low"] = power.get("low")
        row["power_statement_in_summary"] = bool(power.get("statement")) and power["statement"] in \
            report.verdict.summary
        row["severities"] = {name: result.severity.value for name, result in report.tests.items()}
        p_values = {name: (report.tests[name].p_value if name in report.tests else None) for name in NAIVE_TESTS}
        largest_vif = report.tests["vif"].effect if "vif" in report.tests else None
        row["naive_inputs"] = {**{f"{name}_p": value for name, value in p_values.items()}, "max_vif": largest_vif}
        row["naive_verdict"] = naive_verdict(p_values, largest_vif)
    except Exception as error:  # noqa: BLE001 - any failure is a result to record, not a reason to stop
        row["error"] = f"{type(error).__name__}: {error}".replace("\n", " ")[:500]
    return row


# ---------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------
def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (better than Wald near 0 and at small n)."""
    if trials == 0:
        return float("nan"), float("nan")
    share = successes / trials
    denominator = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / denominator
    half_width = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half_width), min(1.0, centre + half_width)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def accuracy_table(rows: list[dict], kinds: list[str], sizes: list[int], verdict_key: str) -> str:
    """Share of the expected verdict per kind x n, with counts and the verdicts given (L/R/N/E)."""
    cells: dict[tuple[str, int], Counter] = defaultdict(Counter)
    for row in rows:
        cells[row["kind"], row["n"]][row[verdict_key]] += 1
    table = []
    for kind in kinds:
        line = [kind, SHORT[EXPECTED[kind]]]
        for n in sizes:
            counts = cells.get((kind, n))
            if not counts:
                line.append("")
                continue
            total = sum(counts.values())
            right = counts[EXPECTED[kind]]
            given = " ".join(f"{SHORT[v]}{counts[v]}" for v in VERDICTS if counts[v])
            line.append(f"{right / total:.2f} ({right}/{total}; {given})")
        table.append(line)
    return markdown_table(["kind", "expected", *[f"n = {n}" for n in sizes]], table)


def confusion_tables(rows: list[dict], sizes: list[int]) -> str:
    parts = []
    for n in sizes:
        counts = Counter((row["expected"], row["verdict"]) for row in rows if row["n"] == n)
        if not counts:
            continue
        table = []
        for expected in (LINEAR, LINEAR_WITH_REMEDIES, NONLINEAR):
            line = [expected] + [str(counts[expected, verdict]) for verdict in VERDICTS]
            table.append(line)
        parts.append(f"n = {n}\n\n" + markdown_table(["expected \\ verdict", *VERDICTS], table))
    return "\n\n".join(parts)


def false_alarm_table(rows: list[dict], kinds: list[str], sizes: list[int]) -> str:
    """Share of non-``linear`` verdicts on clean data, per n (all clean kinds pooled, then each)."""
    clean = [kind for kind in CLEAN_KINDS if kind in kinds]
    if not clean:
        return "(no clean kind in this run)"
    table = []
    for label, group in [("all clean kinds", clean), *[(kind, [kind]) for kind in clean]]:
        line = [label]
        for n in sizes:
            selected = [row for row in rows if row["n"] == n and row["kind"] in group and row["verdict"] != ERROR]
            errors = sum(1 for row in rows if row["n"] == n and row["kind"] in group and row["verdict"] == ERROR)
            alarms = sum(1 for row in selected if row["verdict"] != LINEAR)
            if not selected:
                line.append("" if not errors else f"{errors} errors")
                continue
            low, high = wilson_interval(alarms, len(selected))
            note = f", {errors} errors" if errors else ""
            line.append(f"{alarms / len(selected):.1%} ({alarms}/{len(selected)}) [{low:.1%}, {high:.1%}]{note}")
        table.append(line)
    return markdown_table(["false alarms (verdict not linear) [95% Wilson]", *[f"n = {n}" for n in sizes]], table)


def miss_causes(rows: list[dict], kinds: list[str], sizes: list[int]) -> str:
    """Per diagnosed kind: in the cases it got wrong, how often each test warned or failed."""
    parts = []
    for kind in DIAGNOSED_KINDS:
        if kind not in kinds:
            continue
        misses = [row for row in rows if row["kind"] == kind and row["verdict"] not in (EXPECTED[kind], ERROR)]
        if not misses:
            parts.append(f"{kind}: no wrong verdict.")
            continue
        per_test: dict[str, Counter] = defaultdict(Counter)
        for row in misses:
            for name, severity in row["severities"].items():
                if severity in ("warn", "fail"):
                    per_test[name][row["n"], severity] += 1
        missed_per_n = Counter(row["n"] for row in misses)
        verdicts = Counter(row["verdict"] for row in misses)
        header = ["test (warn+fail, of the wrong verdicts)",
                  *[f"n = {n} ({missed_per_n[n]} wrong)" for n in sizes]]
        table = []
        for name in sorted(per_test, key=lambda test: -sum(per_test[test].values())):
            line = [name]
            for n in sizes:
                warn, fail = per_test[name][n, "warn"], per_test[name][n, "fail"]
                line.append(f"{warn + fail} ({warn}w {fail}f)" if warn + fail else "")
            table.append(line)
        given = ", ".join(f"{verdict} {count}" for verdict, count in verdicts.items())
        title = f"{kind} (expected {EXPECTED[kind]}; wrong verdicts: {given})"
        if not table:
            parts.append(f"{title}: no test warned or failed in those cases.")
            continue
        parts.append(f"{title}\n\n" + markdown_table(header, table))
    return "\n\n".join(parts)


def timing_table(rows: list[dict], sizes: list[int]) -> str:
    table = []
    for n in sizes:
        timed = [row for row in rows if row["n"] == n and math.isfinite(row["seconds"])]
        if not timed:
            continue
        seconds = [row["seconds"] for row in timed]
        cpu = [row.get("cpu_seconds", float("nan")) for row in timed]
        table.append([str(n), str(len(timed)), f"{sum(seconds) / len(seconds):.2f}", f"{max(seconds):.2f}",
                      f"{sum(cpu) / len(cpu):.2f}", f"{sum(seconds):.0f}", f"{sum(cpu):.0f}"])
    return markdown_table(["n", "checks", "mean wall s per check", "max wall s", "mean CPU s per check",
                           "total wall s of checks", "total CPU s of checks"], table)


def write_rows(rows: list[dict], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    test_names = sorted({name for row in rows for name in row["severities"]})
    naive_names = [f"{name}_p" for name in NAIVE_TESTS] + ["max_vif"]
    path = directory / "verdict_rows.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "n", "rep", "expected", "verdict", "seconds", "cpu_seconds", *test_names,
                         "naive_verdict", *naive_names, "error"])
        for row in sorted(rows, key=lambda r: (list(KINDS).index(r["kind"]), r["n"], r["rep"])):
            writer.writerow([row["kind"], row["n"], row["rep"], row["expected"], row["verdict"],
                             f"{row['seconds']:.4f}", f"{row.get('cpu_seconds', float('nan')):.4f}",
                             *[row["severities"].get(name, "") for name in test_names],
                             row["naive_verdict"], *[row["naive_inputs"].get(name, "") for name in naive_names],
                             row["error"]])
    return path


# ---------------------------------------------------------------------------
def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds (default: all)")
    parser.add_argument("--n", default=",".join(str(n) for n in DEFAULT_SIZES), help="comma-separated row counts")
    parser.add_argument("--reps", type=int, default=None,
                        help="replicates of each non-clean kind at every n (default 25 below 100,000 rows, 8 at it)")
    parser.add_argument("--clean-reps", type=int, default=None,
                        help="replicates of each clean kind at every n (default 100 below 100,000 rows, 10 at it)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--no-probe", action="store_true", help="olscheck.check(..., probe=False)")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for verdict_rows.csv (and verdict_rows.jsonl, written as checks finish)")
    parser.add_argument("--tables-from", type=Path, default=None, metavar="JSONL",
                        help="run nothing: print the tables from a verdict_rows.jsonl of an earlier (or cut-short) "
                             "run, restricted to --kinds and --n")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: n = 60 and 400, 3 replicates of each kind (unless --n/--reps are given)")
    arguments = parser.parse_args(argv)
    if arguments.quick:
        if arguments.n == parser.get_default("n"):
            arguments.n = "60,400"
        arguments.reps = 3 if arguments.reps is None else arguments.reps
        arguments.clean_reps = 3 if arguments.clean_reps is None else arguments.clean_reps
    arguments.kinds = [kind.strip() for kind in arguments.kinds.split(",") if kind.strip()]
    unknown = [kind for kind in arguments.kinds if kind not in KINDS]
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(KINDS)}")
    arguments.n = [int(float(value)) for value in arguments.n.split(",") if value.strip()]
    if arguments.jobs < 1:
        parser.error("--jobs must be at least 1")
    return arguments


def print_tables(rows: list[dict], kinds: list[str], sizes: list[int]) -> None:
    """Sections (a) to (e) and the time table of (f)."""
    print("## (a) Accuracy per kind and n: share of the expected verdict (right/total; verdicts given, "
          "L linear, R linear_with_remedies, N nonlinear, E error)\n")
    print(accuracy_table(rows, kinds, sizes, "verdict"), "\n")
    print("## (b) Confusion matrices (expected rows, verdict columns)\n")
    print(confusion_tables(rows, sizes), "\n")
    print("## (c) False alarms on clean linear data (normal, t5, Laplace errors)\n")
    print(false_alarm_table(rows, kinds, sizes), "\n")
    print("## (d) The naive p-value habit on the same reports (RESET p<.05 -> N; BP/DW/JB p<.05 or VIF>10 -> R)\n")
    print(accuracy_table(rows, kinds, sizes, "naive_verdict"), "\n")
    print("## (e) What warned or failed when a linear-expected kind or gross_outliers got the wrong verdict\n")
    print(miss_causes(rows, kinds, sizes), "\n")
    errors = [row for row in rows if row["verdict"] == ERROR]
    if errors:
        print(f"## Errors ({len(errors)})\n")
        for message, count in Counter((row["kind"], row["n"], row["error"]) for row in errors).most_common(20):
            print(f"- {count} x {message[0]} n={message[1]}: {message[2]}")
        print()
    print("## (f) Power statements\n")
    print(power_table(rows, sizes), "\n")
    print("## (g) Time\n")
    print(timing_table(rows, sizes), "\n")


def power_table(rows: list[dict], sizes: list[int]) -> str:
    """Per n: linear verdicts, those at low power, and how many of those carry the power statement."""
    lines = ["| n | linear verdicts | at low power | low power with the statement in the summary | "
             "linear at adequate power |", "|---|---|---|---|---|"]
    for n in sizes:
        linear = [row for row in rows if row["n"] == n and row["verdict"] == "linear"]
        low = [row for row in linear if row.get("power_low") is True]
        stated = sum(1 for row in low if row.get("power_statement_in_summary"))
        adequate = sum(1 for row in linear if row.get("power_low") is False)
        lines.append(f"| {n} | {len(linear)} | {len(low)} | {stated} | {adequate} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    if arguments.tables_from is not None:
        rows = [json.loads(line) for line in arguments.tables_from.read_text().splitlines() if line.strip()]
        rows = [row for row in rows if row["kind"] in arguments.kinds and row["n"] in arguments.n]
        sizes = [n for n in arguments.n if any(row["n"] == n for row in rows)]
        kinds = [kind for kind in arguments.kinds if any(row["kind"] == kind for row in rows)]
        print(f"# Verdict benchmark (tables from {arguments.tables_from}, {len(rows)} checks)\n")
        print_tables(rows, kinds, sizes)
        return 0
    tasks = []
    for kind in arguments.kinds:
        override = arguments.clean_reps if kind in CLEAN_KINDS else arguments.reps
        for n in arguments.n:
            replicates = override if override is not None else default_replicates(kind, n)
            tasks += [(kind, n, replicate, not arguments.no_probe) for replicate in range(replicates)]
    # largest first, so the pool does not end on one long check while the other worker idles
    tasks.sort(key=lambda task: -task[1])

    import olscheck

    groups_passed = "groups" in inspect.signature(olscheck.check).parameters
    print(f"# Verdict benchmark\n\n{len(tasks)} checks, {arguments.jobs} worker(s), probe "
          f"{'off' if arguments.no_probe else 'on'}, n = {', '.join(map(str, arguments.n))}; "
          f"grouped_errors {'passes' if groups_passed else 'cannot pass (olscheck.check has no groups parameter)'} "
          f"groups=\"g\"; olscheck {olscheck.__version__} from {Path(olscheck.__file__).parent}\n", flush=True)

    start = time.perf_counter()
    rows: list[dict] = []
    stream = None
    if arguments.out is not None:
        arguments.out.mkdir(parents=True, exist_ok=True)
        # one line per finished check, so a run cut short still leaves its rows (see --tables-from)
        stream = (arguments.out / "verdict_rows.jsonl").open("w")
    report_every = max(1, len(tasks) // 20)
    if arguments.jobs == 1:
        _initialise_worker()
        results = map(run_one, tasks)
        pool = None
    else:
        # spawn, not fork: each worker imports numpy after the thread variables are set
        pool = multiprocessing.get_context("spawn").Pool(arguments.jobs, initializer=_initialise_worker)
        results = pool.imap_unordered(run_one, tasks, chunksize=1)
    try:
        for row in results:
            rows.append(row)
            if stream is not None:
                stream.write(json.dumps(row) + "\n")
                stream.flush()
            if len(rows) % report_every == 0 or len(rows) == len(tasks):
                print(f"  {len(rows)}/{len(tasks)} checks, {time.perf_counter() - start:.0f} s", file=sys.stderr,
                      flush=True)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        if stream is not None:
            stream.close()
    wall = time.perf_counter() - start

    print_tables(rows, arguments.kinds, arguments.n)
    print(f"Total wall time: {wall:.0f} s ({wall / 60:.1f} min) for {len(rows)} checks on {arguments.jobs} worker(s).")
    if arguments.out is not None:
        print(f"Rows written to {write_rows(rows, arguments.out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
