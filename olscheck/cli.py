"""Command line: ``olscheck check PATH --target y ...`` and ``olscheck demo``.

A thin wrapper over :func:`olscheck.check` and :mod:`olscheck.render`.

Exit codes
----------
0  done, and no ``--fail-on`` gate tripped
1  a ``--fail-on`` gate tripped (warn: any warning or failure; fail: any
   failure; nonlinear: the verdict is ``nonlinear``)
2  bad usage or bad input: one line on stderr, no traceback (an internal
   error is also one line, saying so; OLSCHECK_DEBUG=1 shows its traceback)
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigurationError, OlscheckError

EXIT_OK = 0
EXIT_GATE = 1
EXIT_BAD_INPUT = 2

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
        epilog="Exit codes: 0 passed, 1 a --fail-on gate tripped, 2 bad usage or bad input.",
    )
    parser.add_argument("--version", action="version", version=f"olscheck {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    run = commands.add_parser("check", help="diagnose a CSV/TSV/Parquet file")
    run.add_argument("path", help="data file (.csv, .tsv or .parquet)")
    run.add_argument("--target", help="response column")
    run.add_argument("--predictors", help="comma-separated predictor columns (default: all others)")
    run.add_argument("--categorical", help="comma-separated predictors to treat as categorical")
    run.add_argument("--formula", help='patsy formula, e.g. "y ~ x1 + np.log(x2) + C(g)"')
    run.add_argument("--no-intercept", action="store_true", help="fit without an intercept")
    run.add_argument("--order-by", help="column giving the time order for autocorrelation tests")
    run.add_argument("--groups", metavar="COLUMN",
                     help="column saying which rows share a group (customer, store, school): tests whether errors "
                          "are correlated within groups (never a predictor)")
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
    except KeyboardInterrupt:
        print("olscheck: interrupted", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as error:  # a bug: still one line, unless asked for the traceback
        if os.environ.get("OLSCHECK_DEBUG"):
            raise
        print(f"olscheck: internal error: {type(error).__name__}: {_one_line(error)} "
              "(please report it; set OLSCHECK_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BAD_INPUT


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())


def _progress(enabled: bool):
    if not enabled:
        return None

    def report(step: str) -> None:
        print(f"olscheck: {step}…", file=sys.stderr, flush=True)

    return report


def _check(args) -> int:
    from .api import check
    from .config import load_config

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
    )
    _write_outputs(report, args, show_progress)
    if not args.quiet and args.json != "-":
        print(str(report))
    return _gate(report, fail_on)


def _write_outputs(report, args, show_progress: bool) -> None:
    from .render import render_plots, write_report

    if args.json == "-":
        sys.stdout.write(report.to_json() + "\n")
    targets = [(path, kind) for path, kind in ((args.json, "json"), (args.html, "html"), (args.markdown, "markdown"))
               if path and path != "-"]
    plots = None
    if any(kind != "json" for _, kind in targets):
        if show_progress:
            print("olscheck: drawing the plots…", file=sys.stderr, flush=True)
        plots = render_plots(report)  # once, for the HTML and the Markdown report alike
    for path, kind in targets:
        if show_progress:
            print(f"olscheck: writing {path}…", file=sys.stderr, flush=True)
        try:
            # the option names the format, whatever the file's suffix
            write_report(report, Path(path), plots=plots, format=kind)
        except OSError as error:
            raise ConfigurationError(f"cannot write {path}: {error.strerror or error}") from None


def _gate(report, fail_on: str | None) -> int:
    if fail_on is None:
        return EXIT_OK
    severities = {f.severity.value for f in report.verdict.findings}
    tripped = {
        "warn": bool(severities & {"warn", "fail"}),
        "fail": "fail" in severities,
        "nonlinear": report.verdict.level == "nonlinear",
    }[fail_on]
    if tripped:
        print(f"olscheck: gate --fail-on {fail_on} tripped (verdict: {report.verdict.level})", file=sys.stderr)
        return EXIT_GATE
    return EXIT_OK


def _demo(args) -> int:
    from . import datasets
    from .api import check
    from .render import render_plots, write_report

    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(f"cannot create {out}: {error.strerror or error}") from None
    for name in datasets.names():
        frame = datasets.load(name)
        report = check(frame, target=datasets.target_of(name), probe=not args.no_probe,
                       **datasets.check_options(name))
        plots = render_plots(report)  # once, for the HTML and the Markdown report alike
        written: list[Any] = []
        for suffix in (".html", ".md", ".json"):
            written.append(write_report(report, out / f"{name}{suffix}", plots=plots))
        print(f"{name:<12} {report.verdict.level:<22} {', '.join(str(p) for p in written)}")
    return EXIT_OK
