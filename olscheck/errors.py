"""Errors olscheck raises for input it cannot use.

Every error names the column, value or file at fault and says what to do.
They all derive from :class:`OlscheckError`, so a pipeline can catch one
class; each subclass also derives from the matching built-in exception
(``ValueError``, ``KeyError``, ``FileNotFoundError``...) so existing
``except ValueError`` code keeps working.
"""

from __future__ import annotations

__all__ = [
    "OlscheckError",
    "DataError",
    "ColumnNotFoundError",
    "NonNumericColumnError",
    "NonFiniteValueError",
    "InsufficientDataError",
    "ConstantTargetError",
    "FormulaError",
    "InputFileError",
    "ConfigurationError",
    "NotCollapsibleError",
]


class OlscheckError(Exception):
    """Base class of every error olscheck raises on purpose."""


class DataError(OlscheckError, ValueError):
    """The data cannot be used as given (wrong type, shape or content)."""


class ColumnNotFoundError(DataError, KeyError):
    """A named column is not in the data."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return str(self.args[0]) if self.args else ""


class NonNumericColumnError(DataError):
    """A column that must be numeric holds text or mixed values."""


class NonFiniteValueError(DataError):
    """A column holds +inf or -inf (missing values are dropped; infinities are not)."""


class InsufficientDataError(DataError):
    """Too few usable rows for the model asked for."""


class ConstantTargetError(DataError):
    """The target does not vary, so there is nothing to explain."""


class FormulaError(DataError):
    """A formula cannot be parsed or names something that is not in the data."""


class InputFileError(OlscheckError, OSError):
    """A data file is missing, empty, or in a format olscheck does not read."""


class ConfigurationError(OlscheckError, ValueError):
    """An option or threshold has a value olscheck cannot use."""


class NotCollapsibleError(OlscheckError, ValueError):
    """A network has a non-identity activation, so it is not one linear map."""
