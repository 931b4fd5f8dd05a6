"""Checks of single cells and the names messages show, shared by the input modules."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import NonNumericColumnError

__all__ = ["check_cells", "plain_label", "shown_name"]


def plain_label(value: Any) -> Any:
    """A row or column label as plain Python, so messages read ``row 3``, not ``row np.int64(3)``."""
    return value.item() if isinstance(value, np.generic) else value


def shown_name(name: Any, limit: int = 80) -> str:
    """``repr`` of a name, shortened: a message stays readable whatever the column is called."""
    text = repr(str(name))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def check_cells(series: pd.Series, name: str, role: str) -> None:
    """Each cell must hold one value: lists, arrays and dicts (nested Parquet, JSON) cannot be used."""
    if series.dtype != object:
        return
    try:
        # nested cells are unhashable (lists, dicts, arrays) or tuples/sets: look at the distinct values only
        uniques = pd.unique(series)
        if pd.api.types.infer_dtype(uniques, skipna=True) != "mixed" or not any(
                isinstance(v, (tuple, frozenset)) for v in uniques):
            return
    except TypeError:
        pass
    nested = series.map(lambda v: isinstance(v, (list, tuple, dict, set, frozenset, np.ndarray)))
    if nested.any():
        first = series.index[nested.to_numpy()][0]
        example = series[nested].iloc[0]
        shown = repr(example.tolist() if isinstance(example, np.ndarray) else example)
        shown = shown if len(shown) <= 40 else shown[:36] + "...]"
        raise NonNumericColumnError(
            f"{role} column {shown_name(name)} holds {type(example).__name__} values such as {shown} (first at row "
            f"{plain_label(first)!r}), not one number or category per cell; expand it into separate columns, or leave "
            "it out of the model."
        )
