"""olscheck: does this data suit ordinary least squares, or does it need a non-linear model?

A network whose activations are all the identity collapses to one affine
map, y = W_z x + b_z: a linear regression, solved exactly by OLS. olscheck
fits that model, tests the assumptions OLS relies on, and says whether the
data is ``linear``, ``linear_with_remedies`` or ``nonlinear``.

Heavy libraries (scipy.stats, statsmodels, scikit-learn, matplotlib) load
only when a feature needs them, so ``import olscheck`` stays fast.
"""

from __future__ import annotations

from .version import __version__

from .errors import (  # noqa: E402  (light: no numpy)
    ColumnNotFoundError,
    ConfigurationError,
    ConstantTargetError,
    DataError,
    FormulaError,
    InputFileError,
    InsufficientDataError,
    NonFiniteValueError,
    NonNumericColumnError,
    NotCollapsibleError,
    OlscheckError,
)

__all__ = [
    "__version__",
    "check",
    "collapse",
    "datasets",
    "Report",
    "TestResult",
    "Severity",
    "Thresholds",
    "DEFAULT_THRESHOLDS",
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

_LAZY = {
    "check": ("olscheck.api", "check"),
    "datasets": ("olscheck.datasets", None),
    "Report": ("olscheck.report.report", "Report"),
    "TestResult": ("olscheck.report.result", "TestResult"),
    "Severity": ("olscheck.report.result", "Severity"),
    "Thresholds": ("olscheck.thresholds", "Thresholds"),
    "DEFAULT_THRESHOLDS": ("olscheck.thresholds", "DEFAULT_THRESHOLDS"),
}


from . import accessor as _accessor  # noqa: E402,F401  registers df.olscheck (pandas is imported here)
# eager, so olscheck.collapse is always the function (a lazy name would be
# shadowed by the submodule once anything imports olscheck.collapse)
from .collapse import collapse  # noqa: E402


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module_name, attribute = _LAZY[name]
        module = importlib.import_module(module_name)
        value = module if attribute is None else getattr(module, attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'olscheck' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
