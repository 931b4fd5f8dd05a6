"""``df.olscheck``: the pandas accessor, a thin wrapper over :func:`olscheck.check`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["OlscheckAccessor"]


@pd.api.extensions.register_dataframe_accessor("olscheck")
class OlscheckAccessor:
    """``df.olscheck.check(target="y")`` and ``df.olscheck.report("out.html", target="y")``."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def check(self, target=None, predictors=None, **options):
        """Run :func:`olscheck.check` on this DataFrame and return the Report."""
        from .api import check

        return check(self._frame, target, predictors, **options)

    def report(self, path: str | Path, target=None, predictors=None, **options):
        """Check this DataFrame and write the report to ``path`` (.html, .md or .json); return the Report."""
        from .render import write_report

        result = self.check(target, predictors, **options)
        write_report(result, path)
        return result
