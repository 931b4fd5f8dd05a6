"""Command line: ``olscheck check PATH --target y ...`` (also ``python -m olscheck``).

A thin wrapper over :func:`olscheck.check`. Exit codes: 0 done, 2 bad usage
or bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .errors import OlscheckError

EXIT_OK = 0
EXIT_GATE = 1
EXIT_BAD_INPUT = 2


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="olscheck",
        description="Check whether a data set suits ordinary least squares or needs a non-linear model.",
    )
    parser.add_argument("--version", action="version", version=f"olscheck {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("check", help="diagnose a CSV/TSV/Parquet file")
    run.add_argument("path", help="data file (.csv, .tsv or .parquet)")
    run.add_argument("--target", help="response column")
    run.add_argument("--predictors", help="comma-separated predictor columns (default: all others)")
    run.add_argument("--categorical", help="comma-separated predictors to treat as categorical")
    run.add_argument("--formula", help='patsy formula, e.g. "y ~ x1 + np.log(x2) + C(g)"')
    run.add_argument("--no-intercept", action="store_true", help="fit without an intercept")
    run.add_argument("--order-by", help="column giving the time order for autocorrelation tests")
    run.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    run.add_argument("--no-probe", action="store_true", help="skip the non-linear probe")
    run.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    run.add_argument("--json", metavar="OUT", help="write the JSON report to OUT ('-' for stdout)")
    return parser



def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on bad usage, 0 on --help
        return int(stop.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    if args.target is None and args.formula is None:
        print("olscheck: error: give --target COLUMN or --formula 'y ~ ...'", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        from .api import check

        report = check(
            args.path,
            target=args.target,
            predictors=_names(args.predictors),
            categorical=_names(args.categorical),
            formula=args.formula,
            intercept=not args.no_intercept,
            order_by=args.order_by,
            alpha=args.alpha,
            probe=not args.no_probe,
            seed=args.seed,
        )
    except OlscheckError as error:
        print(f"olscheck: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json == "-":
        sys.stdout.write(report.to_json() + "\n")
    else:
        if args.json:
            try:
                with open(args.json, "w", encoding="utf-8") as handle:
                    handle.write(report.to_json() + "\n")
            except OSError as error:
                print(f"olscheck: error: cannot write {args.json}: {error.strerror}", file=sys.stderr)
                return EXIT_BAD_INPUT
        print(str(report))
    return EXIT_OK
