"""``df.olscheck``: the pandas accessor, a thin wrapper over :func:`olscheck.check`.

Registered when :mod:`olscheck` is imported::

    import olscheck
    report = df.olscheck.check(target="y")
    df.olscheck.report("report.html", target="y")
    df.olscheck.report("report.md", report=report)   # write a report you already have
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

__all__ = ["OlscheckAccessor"]


@pd.api.extensions.register_dataframe_accessor("olscheck")
class OlscheckAccessor:
    """``df.olscheck.check(target="y")`` and ``df.olscheck.report("out.html", target="y")``."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def check(self, target: str | None = None, predictors: Sequence[str] | None = None, **options):
        """Run :func:`olscheck.check` on this DataFrame and return the Report.

        Takes every option of :func:`olscheck.check` (``formula``,
        ``categorical``, ``order_by``, ``groups``, ``probe``, ``seed`` ...).
        The DataFrame is not modified.
        """
        from .api import check

        return check(self._frame, target, predictors, **options)

    def report(self, path: str | Path | Sequence[str | Path], target: str | None = None,
               predictors: Sequence[str] | None = None, *, report=None, **options):
        """Write the report of this DataFrame to ``path`` and return the Report.

        ``path`` names the format by its suffix (.html/.htm, .md or .json); a
        list of paths writes each of them, drawing the plots only once. The
        check runs with ``target``, ``predictors`` and ``options``, unless
        ``report=`` gives a Report already made from this DataFrame: it is then
        written as it is (:meth:`olscheck.Report.save`), without running the
        check again.
        """
        from .errors import ConfigurationError
        from .report.render import format_of

        paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
        for file in paths:  # before the (possibly slow) check, not after it
            format_of(file)
        if report is not None:
            if target is not None or predictors is not None or options:
                given = [name for name, value in (("target", target), ("predictors", predictors)) if value is not None]
                raise ConfigurationError(
                    f"report= writes an existing report as it is; {', '.join(given + sorted(options))} would "
                    "need a new check. Pass either report= or the check's options, not both."
                )
            if not hasattr(report, "save") or not hasattr(report, "data"):
                raise ConfigurationError(f"report= must be an olscheck Report; got {type(report).__name__}.")
            if report.data.n_rows != len(self._frame):
                raise ConfigurationError(
                    f"report= was made from {report.data.n_rows} rows but this DataFrame has {len(self._frame)}; "
                    "pass the report of this DataFrame, or leave report= out to check it."
                )
            result = report
        else:
            # a page or Markdown file shows the plots: drawn during the check, beside the probe
            drawn = {"plots": any(format_of(file) != "json" for file in paths)}
            result = self.check(target, predictors, **{**drawn, **options})
        result.save(paths)
        return result
