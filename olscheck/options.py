"""The options of a check, validated once: what :func:`olscheck.check` and the streaming engine are told.

Both entry points (:func:`olscheck.check`, :func:`olscheck.engine.check_streaming`)
keep their keyword arguments, which is what users type; each turns them
into one :class:`Options` with :meth:`Options.of`, and everything below
reads that object. So every argument is checked in one place, with one
message per kind of mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import ConfigurationError
from .thresholds import Thresholds, resolve_thresholds

__all__ = ["Options", "integer_argument"]


def integer_argument(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int when it is an integer >= ``minimum`` (bools refused), else a ConfigurationError naming it."""
    import numpy as np

    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        kind = "a positive integer" if minimum == 1 else "a non-negative integer"
        raise ConfigurationError(f"{name} must be {kind}, not {value!r}.")
    return int(value)


def _optional_integer(name: str, value: Any, minimum: int) -> int | None:
    return None if value is None else integer_argument(name, value, minimum)


def _flag(name: str, value: Any) -> bool:
    import numpy as np

    if not isinstance(value, (bool, np.bool_)):
        raise ConfigurationError(f"{name} must be True or False, not {value!r}.")
    return bool(value)


def _optional_flag(name: str, value: Any) -> bool | None:
    import numpy as np

    if value is not None and not isinstance(value, (bool, np.bool_)):
        raise ConfigurationError(f"{name} must be True, False or None, not {value!r}.")
    return None if value is None else bool(value)


@dataclass(frozen=True)
class Options:
    """How to check, apart from the data and its columns.

    Attributes
    ----------
    thresholds : Thresholds
        Cut-offs of every severity, ``alpha`` included (``alpha=`` and
        ``thresholds=`` resolved by :func:`olscheck.thresholds.resolve_thresholds`).
    intercept : bool
    probe : bool
        Run the out-of-sample non-linear probe.
    seed : int
        Seed of everything random (probe folds, samples of rows).
    durbin_watson_exact : bool or None
        None: exact below 100 rows, as ``lmtest::dwtest``.
    breusch_godfrey_order : int
    streaming : bool or None
        None: decided from the data (:func:`olscheck.api.check`).
    chunk_rows, workers : int or None
        Streaming only; None for the engine's defaults.
    exact_rows : int or None
        Rows up to which the whole-sequence tests read every row (None:
        :data:`olscheck.checks.battery.EXACT_ROWS`).
    progress : callable or None
        Called with a short description before each step that may take a
        moment; None shows nothing (``progress=False`` is read as None).
    plots : bool
        Draw the report's plots during the check (in memory: while the probe
        runs in a child process) instead of when first needed. Changes no
        value of the report, so it is not among its ``options``.
    """

    thresholds: Thresholds
    intercept: bool = True
    probe: bool = True
    seed: int = 0
    durbin_watson_exact: bool | None = None
    breusch_godfrey_order: int = 1
    streaming: bool | None = None
    chunk_rows: int | None = None
    workers: int | None = None
    exact_rows: int | None = None
    progress: Callable[[str], None] | None = field(default=None, compare=False)
    plots: bool = False

    @classmethod
    def of(cls, *, alpha: Any = 0.05, thresholds: Any = None, intercept: Any = True, probe: Any = True,
           seed: Any = 0, durbin_watson_exact: Any = None, breusch_godfrey_order: Any = 1, streaming: Any = None,
           chunk_rows: Any = None, workers: Any = None, exact_rows: Any = None, progress: Any = None,
           plots: Any = False) -> "Options":
        """Validate the keyword arguments of a check; raises :class:`~olscheck.errors.ConfigurationError`
        naming the argument and what it must be."""
        if progress is False:
            progress = None  # silence; olscheck.check decides its default display before this (olscheck.progress)
        elif progress is not None and not callable(progress):
            raise ConfigurationError(f"progress must be None, False or a function taking one string, "
                                     f"not {progress!r}.")
        return cls(
            thresholds=resolve_thresholds(thresholds, alpha),
            intercept=_flag("intercept", intercept),
            probe=_flag("probe", probe),
            seed=integer_argument("seed", seed, 0),
            durbin_watson_exact=_optional_flag("durbin_watson_exact", durbin_watson_exact),
            breusch_godfrey_order=integer_argument("breusch_godfrey_order", breusch_godfrey_order, 1),
            streaming=_optional_flag("streaming", streaming),
            chunk_rows=_optional_integer("chunk_rows", chunk_rows, 1),
            workers=_optional_integer("workers", workers, 1),
            exact_rows=_optional_integer("exact_rows", exact_rows, 0),
            progress=progress,
            plots=_flag("plots", plots),
        )

    def step(self, description: str) -> None:
        """Tell the progress callback (if any) that a step starts."""
        if self.progress is not None:
            self.progress(description)

    def report_options(self, **extra: Any) -> dict[str, Any]:
        """The report's ``options`` section (``olscheck.report/1``): what was asked, as data."""
        out = {
            "alpha": self.thresholds.alpha,
            "intercept": self.intercept,
            "order_by": None,
            "probe": self.probe,
            "seed": self.seed,
            "durbin_watson_exact": self.durbin_watson_exact,
            "breusch_godfrey_order": self.breusch_godfrey_order,
            "thresholds": self.thresholds.to_dict(),
        }
        out.update(extra)
        return out

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["thresholds"] = self.thresholds.to_dict()
        out.pop("progress")
        return out

