"""Options and thresholds from a TOML file or ``[tool.olscheck]`` in pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .errors import ConfigurationError

__all__ = ["load_config", "KNOWN_KEYS"]

KNOWN_KEYS = {"alpha", "seed", "probe", "fail_on", "thresholds"}


def load_config(path: str | Path | None = None, start: str | Path | None = None) -> dict[str, Any]:
    """Read olscheck options.

    With ``path``: that TOML file; its options are at the top level or under
    ``[tool.olscheck]``. Without: ``[tool.olscheck]`` of the nearest
    pyproject.toml in ``start`` (default: the working directory) or its
    parents; an empty dict when there is none.
    """
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise ConfigurationError(f"configuration file '{path}' does not exist.")
        document = _read(path)
        section = document.get("tool", {}).get("olscheck", document) if "tool" in document else document
        return _validated(section, path)
    directory = Path(start or Path.cwd()).resolve()
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            document = _read(candidate)
            section = document.get("tool", {}).get("olscheck")
            return _validated(section, candidate) if section is not None else {}
    return {}


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read '{path}' as TOML: {error}") from None


def _validated(section: Any, path: Path) -> dict[str, Any]:
    if not isinstance(section, dict):
        raise ConfigurationError(f"olscheck options in '{path}' must be a table.")
    unknown = sorted(set(section) - KNOWN_KEYS)
    if unknown:
        raise ConfigurationError(
            f"unknown olscheck option(s) {', '.join(unknown)} in '{path}'; known: {', '.join(sorted(KNOWN_KEYS))}."
        )
    thresholds = section.get("thresholds", {})
    if not isinstance(thresholds, dict):
        raise ConfigurationError(f"'thresholds' in '{path}' must be a table.")
    if thresholds:
        from .thresholds import DEFAULT_THRESHOLDS

        DEFAULT_THRESHOLDS.with_overrides(thresholds)  # raises on unknown names or bad values
    return dict(section)
