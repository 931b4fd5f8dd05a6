"""DataFrame / file / formula -> Design (temporary minimal version; being rewritten)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .design import Design, Term


def prepare(data, target=None, predictors=None, *, categorical=None, formula=None,
            intercept=True, order_by=None):
    frame = data
    categorical = list(categorical or [])
    if predictors is None:
        predictors = [c for c in frame.columns if c != target and c != order_by]
    used = [target, *predictors] + ([order_by] if order_by else [])
    complete = frame[used].dropna()
    if order_by:
        complete = complete.sort_values(order_by, kind="stable")
    y = complete[target].to_numpy(float)
    columns, names, terms = [], [], []
    if intercept:
        columns.append(np.ones(len(y))); names.append("Intercept")
    for name in predictors:
        series = complete[name]
        if name in categorical or not pd.api.types.is_numeric_dtype(series):
            levels = sorted(series.unique(), key=str)
            start = len(columns)
            for level in levels[1:]:
                columns.append((series == level).to_numpy(float)); names.append(f"{name}[T.{level}]")
            terms.append(Term(name, tuple(range(start, len(columns))), True))
        else:
            columns.append(series.to_numpy(float)); names.append(name)
            terms.append(Term(name, (len(columns) - 1,), False))
    return Design(y=y, x=np.column_stack(columns), column_names=tuple(names), terms=tuple(terms),
                  has_intercept=intercept, target=target, predictors=tuple(predictors),
                  categorical=tuple(categorical), n_rows=len(frame), n_dropped=len(frame) - len(complete),
                  order_by=order_by, row_index=complete.index)
