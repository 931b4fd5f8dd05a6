"""Options and thresholds from a TOML file or ``[tool.olscheck]`` in pyproject.toml.

A configuration looks like::

    [tool.olscheck]          # in pyproject.toml; a file of its own has these keys at the top
    alpha = 0.01
    seed = 7
    probe = false
    fail_on = "warn"         # the CLI's --fail-on when the command line gives none
    groups = "store"         # the CLI's --groups when the command line gives none
    exclude = ["ticket"]     # the CLI's --exclude when the command line gives none

    [tool.olscheck.read]     # how data files are read (olscheck.inputs.reading.ReadOptions); --sep etc. win
    sep = ";"
    decimal = ","

    [tool.olscheck.thresholds]
    vif_warn = 4.0
    cooks_distance_fail = 0.5

Every value is checked here, so a typo fails with one clear line before any
data is read.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["load_config", "KNOWN_KEYS", "FAIL_ON_CHOICES"]

KNOWN_KEYS = {"alpha", "seed", "probe", "fail_on", "groups", "thresholds", "exclude", "read"}
#: The values of ``fail_on`` (and of the CLI's ``--fail-on``).
FAIL_ON_CHOICES = ("warn", "fail", "nonlinear")
# keys that show a file is a project's pyproject.toml rather than an olscheck file
_PYPROJECT_KEYS = {"project", "build-system", "tool"}


def load_config(path: str | Path | None = None, start: str | Path | None = None) -> dict[str, Any]:
    """Read olscheck options.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file: its ``[tool.olscheck]`` table when it has one (a
        pyproject.toml), otherwise its top-level keys.
    start : str or Path, optional
        Without ``path``: the folder where the search for the nearest
        pyproject.toml starts (default: the working directory), going up
        through its parents. The first pyproject.toml found decides: its
        ``[tool.olscheck]`` table, or no options when it has none.

    Returns
    -------
    dict
        Validated options (a subset of :data:`KNOWN_KEYS`); empty when there
        is no configuration.

    Raises
    ------
    ConfigurationError
        A missing or unreadable file, an unknown key or threshold name, or a
        value of the wrong type or range.
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigurationError(f"configuration file '{path}' does not exist.")
        document = _read(path)
        olscheck_table = document.get("tool", {}).get("olscheck") if isinstance(document.get("tool"), dict) else None
        if olscheck_table is not None:
            return _validated(olscheck_table, path)
        if set(document) & _PYPROJECT_KEYS:
            raise ConfigurationError(f"'{path}' has no [tool.olscheck] table.")
        return _validated(document, path)
    directory = Path(start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            document = _read(candidate)
            tool = document.get("tool", {})
            section = tool.get("olscheck") if isinstance(tool, dict) else None
            return _validated(section, candidate) if section is not None else {}
    return {}


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read '{path}' as TOML: {error}") from None
    except OSError as error:
        raise ConfigurationError(f"cannot read '{path}': {error.strerror or error}") from None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _validated(section: Any, path: Path) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise ConfigurationError(f"olscheck options in '{path}' must be a table.")
    unknown = sorted(set(section) - KNOWN_KEYS)
    if unknown:
        raise ConfigurationError(
            f"unknown olscheck option(s) {', '.join(unknown)} in '{path}'; known: {', '.join(sorted(KNOWN_KEYS))}."
        )
    if "alpha" in section and not (_is_number(section["alpha"]) and 0 < section["alpha"] < 1):
        raise ConfigurationError(f"alpha = {section['alpha']!r} in '{path}'; it must be a number between 0 and 1.")
    if "seed" in section and not (isinstance(section["seed"], int) and not isinstance(section["seed"], bool)
                                  and section["seed"] >= 0):
        raise ConfigurationError(f"seed = {section['seed']!r} in '{path}'; it must be a non-negative integer.")
    if "probe" in section and not isinstance(section["probe"], bool):
        raise ConfigurationError(f"probe = {section['probe']!r} in '{path}'; it must be true or false.")
    if "fail_on" in section and section["fail_on"] not in FAIL_ON_CHOICES:
        raise ConfigurationError(
            f"fail_on = {section['fail_on']!r} in '{path}'; use one of {', '.join(FAIL_ON_CHOICES)}."
        )
    if "groups" in section and not (isinstance(section["groups"], str) and section["groups"].strip()):
        raise ConfigurationError(
            f"groups = {section['groups']!r} in '{path}'; it must name one column, e.g. groups = \"store\"."
        )
    if "exclude" in section:
        exclude = section["exclude"]
        if isinstance(exclude, str):
            exclude = [exclude]
        if not (isinstance(exclude, list) and all(isinstance(name, str) and name.strip() for name in exclude)):
            raise ConfigurationError(
                f"exclude = {section['exclude']!r} in '{path}'; it must be a list of column names, e.g. "
                "exclude = [\"ticket\", \"comment\"].")
        section = {**section, "exclude": exclude}
    if "read" in section:
        from .inputs.reading import read_options

        if not isinstance(section["read"], dict):
            raise ConfigurationError(f"'read' in '{path}' must be a table (e.g. [tool.olscheck.read] sep = \";\").")
        try:
            read_options(section["read"])
        except ConfigurationError as error:
            raise ConfigurationError(f"{error} (in the read table of '{path}')") from None
    thresholds = section.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise ConfigurationError(f"'thresholds' in '{path}' must be a table.")
    if thresholds:
        from .thresholds import DEFAULT_THRESHOLDS

        defaults = DEFAULT_THRESHOLDS.to_dict()
        unknown = sorted(set(thresholds) - set(defaults))
        if unknown:
            raise ConfigurationError(
                f"unknown threshold(s) {', '.join(unknown)} in '{path}'; known: {', '.join(sorted(defaults))}."
            )
        for name, value in thresholds.items():
            if not _is_number(value) or value < 0:
                raise ConfigurationError(
                    f"threshold {name} = {value!r} in '{path}'; it must be a non-negative number."
                )
            if isinstance(defaults[name], int) and not isinstance(defaults[name], bool) and not isinstance(value, int):
                raise ConfigurationError(f"threshold {name} = {value!r} in '{path}'; it must be an integer.")
        DEFAULT_THRESHOLDS.with_overrides(thresholds)
    return dict(section)
