"""``df.olscheck``: the pandas accessor, a thin wrapper over :func:`olscheck.check`.

Registered when :mod:`olscheck` is imported::

    import olscheck
    report = df.olscheck.check(target="y")
    df.olscheck.report("report.html", target="y")
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
               predictors: Sequence[str] | None = None, **options):
        """Check this DataFrame, write the report and return the Report.

        ``path`` names the format by its suffix (.html, .md or .json); a list
        of paths writes each of them, drawing the plots only once.
        """
        from .errors import ConfigurationError
        from .render import FORMATS, write_reports

        paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
        for file in paths:  # before the (possibly slow) check, not after it
            if file.suffix.lower() not in FORMATS:
                raise ConfigurationError(
                    f"cannot tell the report format from {file.name!r}; use a .html, .md or .json file name."
                )
        result = self.check(target, predictors, **options)
        write_reports(result, paths)
        return result
