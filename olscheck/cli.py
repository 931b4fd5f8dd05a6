"""Command line: ``olscheck check PATH --target y ...`` and ``olscheck demo``.

A thin wrapper over :func:`olscheck.check` and :mod:`olscheck.report.render`.

Exit codes
----------
0  done, and no ``--fail-on`` gate tripped
1  a ``--fail-on`` gate tripped (warn: any warning or failure; fail: any
   failure; nonlinear: the verdict is ``nonlinear``)
2  bad usage or bad input: one line on stderr, no traceback (an internal
   error is also one line, saying so; OLSCHECK_DEBUG=1 shows its traceback)
130 interrupted (Ctrl-C, SIGINT): one line on stderr; the report being written
   is not left behind (every report file is written atomically, whole or not at all)
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigurationError, OlscheckError

EXIT_OK = 0
EXIT_GATE = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C

#: Seconds a run has, after Ctrl-C, to stop by itself (KeyboardInterrupt) before the process ends anyway.
INTERRUPT_GRACE_SECONDS = 1.0

GATES = ("warn", "fail", "nonlinear")


class _ArgumentParser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns the exit code."""

    def error(self, message: str):
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="olscheck",
        description="Check whether a data set suits ordinary least squares or needs a non-linear model.",
        epilog="Exit codes: 0 passed, 1 a --fail-on gate tripped, 2 bad usage or bad input, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"olscheck {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    run = commands.add_parser("check", help="diagnose a CSV/TSV/Parquet/Excel file")
    run.add_argument("path", help="data file (.csv, .tsv, .parquet or .xlsx); '-' reads standard input")
    run.add_argument("--target", help="response column")
    run.add_argument("--predictors", help="comma-separated predictor columns (default: all others)")
    run.add_argument("--categorical", help="comma-separated predictors to treat as categorical")
    run.add_argument("--formula", help='patsy formula, e.g. "y ~ x1 + np.log(x2) + C(g)"')
    run.add_argument("--no-intercept", action="store_true", help="fit without an intercept")
    run.add_argument("--order-by", help="column giving the time order for autocorrelation tests")
    run.add_argument("--groups", metavar="COLUMN",
                     help="column saying which rows share a group (customer, store, school): tests whether errors "
                          "are correlated within groups (never a predictor)")
    run.add_argument("--exclude", metavar="A,B",
                     help="comma-separated columns to leave out of the predictors olscheck chooses")
    reading = run.add_argument_group("reading the file (default: sniffed from the file)")
    reading.add_argument("--sep", help="field delimiter: ',', ';', 'tab', '|' (default: sniffed)")
    reading.add_argument("--decimal", help="decimal mark, '.' or ',' (default: sniffed)")
    reading.add_argument("--thousands", help="thousands separator to strip from numbers, e.g. ',' or '.'")
    reading.add_argument("--na-values", metavar="A,B", help="comma-separated extra texts that mean missing")
    reading.add_argument("--encoding", help="text encoding, e.g. cp1252, latin-1, utf-16 (default UTF-8)")
    reading.add_argument("--sheet", help="Excel sheet name or 0-based position (default: the first)")
    reading.add_argument("--skip-rows", metavar="N",
                         help="lines above the header to skip (a title, an export date; default 0)")
    run.add_argument("--alpha", type=float, help="significance level (default 0.05)")
    run.add_argument("--no-probe", action="store_true", help="skip the out-of-sample non-linear probe")
    run.add_argument("--seed", type=int, help="random seed (default 0)")
    run.add_argument("--streaming", choices=("auto", "on", "off"), default="auto",
                     help="two passes over chunks of rows, memory bounded by --chunk-rows (default auto: files "
                          "over 256 MiB without --formula/--order-by/--groups)")
    run.add_argument("--chunk-rows", type=int, default=None, help="rows per chunk when streaming (default 50000)")
    run.add_argument("--json", metavar="OUT", help="write the JSON report to OUT ('-' for stdout)")
    run.add_argument("--html", metavar="FILE", help="write the HTML report to FILE")
    run.add_argument("--markdown", metavar="FILE", help="write the Markdown report to FILE (plots beside it)")
    run.add_argument("--fail-on", choices=GATES, help="exit 1 when findings reach this level")
    run.add_argument("--config", metavar="FILE",
                     help="TOML file with options and a [thresholds] table (default: [tool.olscheck] in pyproject.toml)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors (and JSON to stdout with --json -)")
    demo = commands.add_parser("demo", help="run the whole pipeline on the bundled data sets and write reports")
    demo.add_argument("--out", default="reports", help="folder for the reports (default: reports)")
    demo.add_argument("--no-probe", action="store_true", help="skip the non-linear probe")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    ``argv=None`` (the ``olscheck`` program and ``python -m olscheck``) reads
    ``sys.argv`` and runs as the program: a Ctrl-C then ends the process
    with exit code 130 within :data:`INTERRUPT_GRACE_SECONDS` even where a
    library holds on to the interrupt (worker threads finishing their task,
    a KeyboardInterrupt caught inside a fit), and a second Ctrl-C ends it at
    once. Called with a list (from Python, in tests) an interrupt is a
    return value of 130 and nothing else. As the program it also collects
    cyclic garbage less often (:data:`PROGRAM_GC_THRESHOLDS`) and, when done,
    freezes what is left, so the interpreter's collections at exit skip it.
    """
    global _said
    _said = threading.Lock()  # one "interrupted" line per run
    _interrupted_once.clear()
    program = argv is None and threading.current_thread() is threading.main_thread()
    previous = _install_interrupt_handler() if program else None
    thresholds = gc.get_threshold()
    if program:
        gc.set_threshold(*PROGRAM_GC_THRESHOLDS)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # anywhere, even while reporting another error
        _say_interrupted()
        if program:
            _exit_now(EXIT_INTERRUPTED)
        return EXIT_INTERRUPTED
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if program:
            gc.set_threshold(*thresholds)
            # the process ends next: its 150,000-odd objects (mostly the modules it imported) are freed
            # by the operating system, and the interpreter's own full collections at exit would only walk
            # them, 0.3-0.45 s at 10,000 x 10 (benchmarks/README.md); nothing is lost: files are closed by
            # now, and exit handlers still run
            gc.freeze()


#: Collection thresholds of the ``olscheck`` program (Python's default: 700, 10, 10). A check allocates
#: millions of objects, most of them the imported modules' and long-lived: the default walks the young
#: generations about 450 times at 10,000 x 10 and all objects three times, 0.25 s of collection; these
#: make it about 30 and none, 0.13 s. Young cyclic garbage is still collected every 10,000 allocations.
PROGRAM_GC_THRESHOLDS = (10_000, 20, 20)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        print(f"{_one_line(error)} (run 'olscheck --help' for usage)", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SystemExit as stop:  # --help and --version
        return int(stop.code or 0)
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("olscheck: error: name a command (check or demo)", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        with warnings.catch_warnings():
            # numpy/pandas warnings about intermediate values (overflow in a
            # square, a guessed date format) are noise on a console: whatever
            # matters is in the report or in the one-line error
            warnings.simplefilter("ignore")
            if args.command == "demo":
                return _demo(args)
            return _check(args)
    except OlscheckError as error:
        print(f"olscheck: error: {_one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("OLSCHECK_DEBUG"):
            raise
        print(f"olscheck: internal error: {type(error).__name__}: {_one_line(error)} "
              "(please report it; set OLSCHECK_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BAD_INPUT


# ----------------------------------------------------------------------------- Ctrl-C
_said = threading.Lock()
_interrupted_once = threading.Event()


def _say_interrupted() -> None:
    """The one line an interrupt prints, however many threads and signals report it."""
    if _said.acquire(blocking=False):
        try:
            print("olscheck: interrupted", file=sys.stderr, flush=True)
        except Exception:  # a closed or broken stderr must not hide the exit code
            pass


def _exit_now(code: int) -> None:
    """End the process without waiting for worker threads; no report file is left half-written."""
    from .report.render.files import discard_pending

    discard_pending()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(code)


def _install_interrupt_handler():
    """SIGINT raises KeyboardInterrupt as usual, and starts a watchdog that ends the process if it lingers.

    Returns the previous handler, or None when SIGINT was being ignored (a
    job started in the background) and is left alone.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN or previous is None:
        return None

    def on_interrupt(signum, frame):
        if _interrupted_once.is_set():  # a second Ctrl-C: now
            _say_interrupted()
            _exit_now(EXIT_INTERRUPTED)
        _interrupted_once.set()
        threading.Thread(target=_watchdog, name="olscheck-interrupt", daemon=True).start()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_interrupt)
    return previous


def _watchdog() -> None:
    # the KeyboardInterrupt normally ends the run at once; this covers a library that holds on to it
    # (a thread pool waiting for its running tasks, an interrupt caught and ignored inside a fit)
    threading.Event().wait(INTERRUPT_GRACE_SECONDS)
    _say_interrupted()
    _exit_now(EXIT_INTERRUPTED)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _progress(enabled: bool):
    if not enabled:
        return False  # --quiet: no display at all (None would pick the default display on a terminal)

    def report(step: str) -> None:
        print(f"olscheck: {step}…", file=sys.stderr, flush=True)

    return report


def _check(args) -> int:
    from .config import load_config
    from .inputs.reading import data_file

    if args.path != "-":
        data_file(args.path)  # a mistyped path fails before the battery's imports (about a second)
    from .api import check

    config = load_config(args.config)
    thresholds = config.get("thresholds") or None
    alpha = args.alpha if args.alpha is not None else config.get("alpha", 0.05)
    seed = args.seed if args.seed is not None else config.get("seed", 0)
    probe = not args.no_probe and bool(config.get("probe", True))
    fail_on = args.fail_on or config.get("fail_on")
    groups = args.groups if args.groups is not None else config.get("groups")
    if fail_on is not None and fail_on not in GATES:
        raise ConfigurationError(f"fail_on = {fail_on!r} in the configuration; use one of {', '.join(GATES)}.")
    if args.target is None and args.formula is None:
        raise ConfigurationError("give --target COLUMN or --formula 'y ~ ...'.")
    show_progress = not args.quiet and sys.stderr.isatty()
    # read= and exclude= go to olscheck.check only when set, as the other options with a default
    extra: dict[str, Any] = {}
    read = _read_options(args, config.get("read"))
    if read is not None:
        extra["read"] = read
    exclude = _names(args.exclude) if args.exclude is not None else config.get("exclude")
    if exclude:
        extra["exclude"] = exclude
    if args.path == "-" and args.streaming == "on":
        raise ConfigurationError("--streaming on reads a file in chunks; standard input ('-') is read into memory. "
                                 "Give the file's path, or leave --streaming out.")
    report = check(
        args.path,
        target=args.target,
        predictors=_names(args.predictors),
        categorical=_names(args.categorical),
        formula=args.formula,
        intercept=not args.no_intercept,
        order_by=args.order_by,
        groups=groups,
        alpha=alpha,
        probe=probe,
        seed=seed,
        thresholds=thresholds,
        progress=_progress(show_progress),
        streaming={"auto": None, "on": True, "off": False}[args.streaming],
        chunk_rows=args.chunk_rows,
        plots=any(path and path != "-" for path in (args.html, args.markdown)),  # drawn beside the probe
        **extra,
    )
    _write_outputs(report, args, show_progress)
    if not args.quiet and args.json != "-":
        print(str(report))
    return _gate(report, fail_on)


def _read_options(args, configured: dict | None):
    """The ReadOptions of ``--sep`` ... ``--sheet`` over the configuration's ``read`` table (None when neither)."""
    from .inputs.reading import read_options

    given = {name: getattr(args, name) for name in ("sep", "decimal", "thousands", "na_values", "encoding", "sheet",
                                                    "skip_rows")
             if getattr(args, name) is not None}
    if "na_values" in given:
        given["na_values"] = tuple(_names(given["na_values"]) or ())
    if not given and not configured:
        return None
    return read_options({**(configured or {}), **given})


def _write_outputs(report, args, show_progress: bool) -> None:
    from .report.render import render_plots

    if args.json == "-":
        sys.stdout.write(report.to_json() + "\n")
    targets = [(path, kind) for path, kind in ((args.json, "json"), (args.html, "html"), (args.markdown, "markdown"))
               if path and path != "-"]
    plots = None
    if any(kind != "json" for _, kind in targets):
        plots = render_plots(report)  # drawn during the check (plots=True): kept with the report
    for path, kind in targets:
        if show_progress:
            print(f"olscheck: writing {path}…", file=sys.stderr, flush=True)
        try:
            # the option names the format, whatever the file's suffix; Report.save writes atomically
            report.save(path, format=kind, plots=plots)
        except OSError as error:
            raise ConfigurationError(f"cannot write {path}: {error.strerror or error}") from None


def _gate(report, fail_on: str | None) -> int:
    if fail_on is None:
        return EXIT_OK
    tripped = _tripped_by(report, fail_on)
    if tripped is None:
        return EXIT_OK
    named = ", ".join(f"{finding.check} ({finding.severity.value})" for finding in tripped)
    print(f"olscheck: gate --fail-on {fail_on} tripped by: {named or 'the verdict'}; "
          f"verdict: {report.verdict.level}", file=sys.stderr)
    return EXIT_GATE


def _tripped_by(report, fail_on: str) -> list | None:
    """The findings that trip the gate (None: it does not trip; empty: the verdict alone trips it)."""
    findings = list(report.verdict.findings)
    if fail_on == "warn":
        named = [f for f in findings if f.severity.value in ("warn", "fail")]
        return named or None
    if fail_on == "fail":
        named = [f for f in findings if f.severity.value == "fail"]
        return named or None
    if report.verdict.level != "nonlinear":
        return None
    return [f for f in findings if f.severity.value == "fail" and f.assumption.value == "linearity"]


def _demo(args) -> int:
    from . import datasets
    from .api import check

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(f"cannot create {out}: {error.strerror or error}") from None
    for name in datasets.names():
        frame = datasets.load(name)
        report = check(frame, target=datasets.target_of(name), probe=not args.no_probe, progress=False,
                       plots=True, **datasets.check_options(name))
        # one save for the three formats: the plots are drawn once for the HTML and the Markdown report
        written: list[Any] = report.save([out / f"{name}{suffix}" for suffix in (".html", ".md", ".json")])
        print(f"{name:<12} {report.verdict.level:<22} {', '.join(str(p) for p in written)}")
    return EXIT_OK
