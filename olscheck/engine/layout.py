"""The column layout of a streamed design: which columns, which levels, which shifts.

Every chunk is turned into the same matrix of *accumulated columns*:

    [1, predictor columns..., y]

where a numeric predictor is one column and a categorical predictor is one
indicator column for **every** level seen in the level pass (the reference
level included). Keeping the full indicator set means a level's reference
role can be decided after the data has been seen (the first level, in
sorted order, that occurs in a complete row; without an intercept the
first factor keeps every level, :meth:`Layout.reported_columns`), and a
level that only occurs in incomplete rows simply gets a zero column that
is left out. Columns of a
triangular factor can be selected and re-triangularised at will
(``X[:, S] = Q R[:, S]``), so nothing is lost by accumulating more columns
than the model uses.

Numeric columns (and y) are accumulated shifted and scaled,
``(x - shift) / scale`` with the mean and standard deviation of the first
chunk's complete rows: a cheap, data-independent guard against a large
mean swamping the variation in the triangular factor. Every later map back
to the reported columns is exact in the algebra (affine maps of columns).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..inputs.prepare import (MAX_LEVELS, _is_saved_row_index, _is_unnamed, check_finite, column_key, level_codes,
                    level_columns, level_label, no_predictors_left, numeric_values, single_level_note,
                    singleton_levels_note, spelling_variants_note)
from ..model.design import Term, working_scale
from ..errors import DataError, NonNumericColumnError
from ..inputs.screening import MISSING_MARKERS, NumberFormat, numbers_from_text, screen

__all__ = ["Layout", "ChunkRows", "build_layout", "SCREEN_ROWS"]

#: Rows the column screening of a streamed source reads (the first ones, every column; the whole source when it
#: is shorter), so its decisions do not hang on the chunk size.
SCREEN_ROWS = 100_000

#: A numeric predictor's values must lie within 2**±this in magnitude (about 1e±120) to be streamed: the
#: engine's factor on the columns' own scale squares them (1e±150 and beyond overflowed or vanished).
PREDICTOR_RANGE = 400


@dataclass(frozen=True)
class ChunkRows:
    """One chunk turned into accumulated columns.

    ``raw`` holds the complete rows' values as they are (the ones column,
    numeric values, 0/1 indicators, y); ``shifted`` the same rows shifted
    and scaled as they are accumulated. ``missing`` counts missing values
    per source column over all rows of the chunk.
    """

    raw: np.ndarray
    shifted: np.ndarray
    labels: pd.Index
    n_rows: int
    incomplete: int
    missing: dict[str, int]


@dataclass
class Layout:
    """Accumulated columns and how each source column maps onto them.

    Attributes
    ----------
    target, predictors : source column names
    kinds : dict name -> "numeric" | "categorical"
    levels : dict name -> list of levels (sorted, all levels seen)
    intercept : bool
    slices : dict name -> slice of accumulated columns
    shift, scale : ndarray, one entry per accumulated column
    column_decisions : tuple of ColumnDecision
        What was done with every source column and why, decided on the
        first chunk (:func:`olscheck.inputs.screening.screen`; the report's Columns
        table). ``columns`` is the list of used column names.
    number_formats : dict name -> NumberFormat
        Columns whose numbers are written as text (a unit, currency,
        thousands separators, missing markers), read the same way in every
        chunk.
    response_scale : float
        The power of two the target is divided by in every chunk (1 for
        ordinary data): :func:`olscheck.model.design.working_scale` of the
        first chunk's target, as the in-memory design divides its target
        (:attr:`olscheck.model.design.Design.response_scale`). The engine works
        in these units; the report multiplies back.
    """

    target: str
    predictors: tuple[str, ...]
    kinds: dict[str, str]
    levels: dict[str, list]
    intercept: bool
    slices: dict[str, slice] = field(default_factory=dict)
    shift: np.ndarray | None = None
    scale: np.ndarray | None = None
    csv_dtypes: dict[str, Any] = field(default_factory=dict)
    column_decisions: tuple = ()
    number_formats: dict[str, NumberFormat] = field(default_factory=dict)
    response_scale: float = 1.0

    @property
    def width(self) -> int:
        """Number of accumulated columns (ones, predictors, y)."""
        return self.y_column + 1

    @property
    def y_column(self) -> int:
        last = max((s.stop for s in self.slices.values()), default=1)
        return last

    @property
    def columns(self) -> list[str]:
        return [self.target, *self.predictors]

    def assign_columns(self) -> None:
        position = 1
        for name in self.predictors:
            width = 1 if self.kinds[name] == "numeric" else len(self.levels[name])
            self.slices[name] = slice(position, position + width)
            position += width

    def reported_columns(self, counts: np.ndarray) -> tuple[list[str], list[int], list[Term], list[str]]:
        """The model's columns, as the in-memory design builds them from the same rows.

        ``counts`` holds, per accumulated column, its sum over the complete
        rows (for an indicator: the level's row count). Returns the reported
        column names, the accumulated column behind each, the terms and the
        notes on the factors: the intercept (when fitted), then each
        predictor's column(s) with the levels present in complete rows only;
        treatment coding, except that without an intercept the first factor
        with two levels or more gets a column for every level
        (:func:`olscheck.inputs.prepare.level_columns`).
        """
        names: list[str] = []
        accumulated: list[int] = []
        terms: list[Term] = []
        notes: list[str] = []
        if self.intercept:
            names.append("Intercept")
            accumulated.append(0)
        full_coding = not self.intercept
        for name in self.predictors:
            columns = self.slices[name]
            if self.kinds[name] == "numeric":
                names.append(name)
                accumulated.append(columns.start)
                terms.append(Term(name, (len(names) - 1,), False))
                continue
            present = [(level, columns.start + i) for i, level in enumerate(self.levels[name])
                       if counts[columns.start + i] > 0]
            if len(present) < 2:
                notes.append(single_level_note(name, present[0][0] if present else None))
                terms.append(Term(name, (), True))
                continue
            start = len(names)
            column_of = dict(present)
            for level, column_name in level_columns(name, [level for level, _ in present], full_coding):
                names.append(column_name)
                accumulated.append(column_of[level])
            full_coding = False
            singletons = [level for level, column in present if counts[column] == 1]
            if singletons:
                notes.append(singleton_levels_note(name, singletons))
            variants = spelling_variants_note(name, [level for level, _ in present])
            if variants:
                notes.append(variants)
            terms.append(Term(name, tuple(range(start, len(names))), True))
        return names, accumulated, terms, notes

    def rows(self, frame: pd.DataFrame) -> ChunkRows:
        """Complete rows of ``frame`` as accumulated columns (raises the in-memory path's errors)."""
        n = len(frame)
        index = frame.index
        y = self._numbers(frame[self.target], self.target, "target")
        check_finite(y, self.target, index, "target")
        if self.response_scale != 1.0:
            y = y / self.response_scale  # a power of two: exact
        missing = {self.target: np.isnan(y)}
        values: dict[str, np.ndarray] = {}
        for name in self.predictors:
            series = frame[name]
            if self.kinds[name] == "numeric":
                column = self._numbers(series, name, "predictor")
                check_finite(column, name, index, "predictor")
                missing[name] = np.isnan(column)
                values[name] = column
            else:
                # one hash pass: each cell's level position (-1: missing, or a missing marker such as "-")
                codes, _ = level_codes(series, self.levels[name])
                missing[name] = codes < 0
                values[name] = codes
        incomplete = np.zeros(n, dtype=bool)
        for mask in missing.values():
            incomplete |= mask
        dropped = int(incomplete.sum())
        # every row complete (the usual case): whole columns, no copies through a mask
        keep = slice(None) if dropped == 0 else ~incomplete
        m = n - dropped
        # Fortran order: columns are written whole, and LAPACK and the per-column work read them whole;
        # every column is written below (ones, each predictor's slice, y), so no zero fill
        raw = np.empty((m, self.width), order="F")
        raw[:, 0] = 1.0
        for name in self.predictors:
            columns = self.slices[name]
            if self.kinds[name] == "numeric":
                raw[:, columns.start] = values[name][keep]
            else:
                codes = values[name][keep]
                for offset in range(len(self.levels[name])):
                    raw[:, columns.start + offset] = codes == offset
        raw[:, self.y_column] = y[keep]
        shifted = raw - self.shift
        shifted /= self.scale
        return ChunkRows(raw=raw, shifted=shifted, labels=index[keep], n_rows=n, incomplete=dropped,
                         missing={name: int(np.count_nonzero(mask)) for name, mask in missing.items()})


    def _numbers(self, series: pd.Series, name: str, role: str) -> np.ndarray:
        """A numeric column of one chunk: numbers as they are; text through the first chunk's number format.

        A chunk can be text where the first one was numbers (a ``-`` or ``?``
        further down the file): read with missing markers as missing; text
        that is not numbers at all gets the in-memory path's error.
        """
        # object columns too: numbers mixed with missing markers ("NA" among floats), as the in-memory path reads them
        if pd.api.types.is_string_dtype(series) or series.dtype == object:
            try:
                return numbers_from_text(series, self.number_formats.get(name), name, role)
            except NonNumericColumnError:
                pass  # dates written as text, or text that is not numbers: numeric_values reads or names it
        return numeric_values(series, name, role)


def _sort_levels(values: list, categories: list | None) -> list:
    if categories is not None:
        present = set(values)
        return [c for c in categories if c in present]
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=level_label)


def build_layout(first: pd.DataFrame, target: str, predictors: list[str], declared: list[str], intercept: bool,
                 level_chunks, *, explicit: bool = True, exclude=None, read=None) -> Layout:
    """Screen the columns and decide their kinds on the first chunk, collect levels, and set the shifts.

    ``level_chunks`` is a callable ``(columns, csv_dtypes) -> iterable of DataFrames`` over
    the whole source restricted to ``columns``: the level pass, which reads
    only the categorical columns. Levels are then sorted as the in-memory
    path sorts them (``category`` dtype: category order; otherwise sorted
    values); missing markers (``-``, ``?``, ``NA``...) are not levels.

    ``explicit`` False (``predictors=`` not given) screens the predictors as
    :func:`olscheck.inputs.prepare.prepare` does (:mod:`olscheck.inputs.screening`, on the
    first chunk): identifiers, free text, categoricals with too many levels
    and dates are left out; ``exclude`` names columns to leave out.
    ``first`` should hold every column of the source and its first
    :data:`SCREEN_ROWS` rows (or all of them), so the decisions (and
    their counts) are those of :func:`olscheck.inputs.prepare.prepare` whenever the
    source is no longer; the counts are of the rows in ``first``.
    ``read`` (the :class:`~olscheck.inputs.reading.ReadOptions` or a mapping) gives
    the file's decimal mark, which settles ``51,877``. The decisions are
    ``layout.column_decisions``.
    """
    from ..inputs.reading import read_options

    decimal = read_options(read).decimal
    exclude_names: list[str] = []
    if exclude is not None:
        names = [exclude] if isinstance(exclude, str) else list(exclude)
        exclude_names = [str(column_key(first, name, "exclude")) for name in names]
        if target in exclude_names:
            raise DataError(f"{target!r} is the target column and also listed in exclude=; exclude= leaves out "
                            "predictors only: remove it there.")
        both = [name for name in exclude_names if explicit and name in predictors]
        if both:
            raise DataError(f"column(s) {', '.join(map(repr, both))} are listed both in predictors= and in exclude=; "
                            "keep one of the two.")
    candidates = [name for name in predictors if name not in exclude_names]
    dropped: dict[str, str] = {}
    if not explicit:
        # as the in-memory path: a saved row index ("Unnamed: 0" holding 0, 1, 2, ...) and an unnamed empty
        # column are left out before the screening
        for name in [n for n in candidates if n in first.columns and _is_saved_row_index(first, n)]:
            candidates.remove(name)
            dropped[name] = "a saved row index (0, 1, 2, ...); name it in predictors= to use it"
        for name in [n for n in candidates if n in first.columns and _is_unnamed(n) and first[n].isna().all()]:
            candidates.remove(name)
            dropped[name] = "an unnamed empty column (a delimiter at the end of each line?)"
    screening = screen(first, target=target, candidates=candidates, explicit=explicit, declared=declared,
                       exclude=exclude_names, dropped=dropped, decimal_hint=decimal, can_sort=False)
    if not explicit and candidates and not screening.predictors:
        raise DataError(no_predictors_left(screening.decisions))
    predictors = [str(name) for name in screening.predictors]
    kinds = {}
    number_formats: dict[str, NumberFormat] = {}
    for name in [target, *predictors]:
        profile = screening.profiles.get(name)
        if name != target and (name in declared or (profile is not None and (
                profile.kind == "categorical" or (profile.kind in ("id", "text")
                                                  and not pd.api.types.is_numeric_dtype(first[name]))))):
            kinds[name] = "categorical"
            continue
        if name != target:
            kinds[name] = "numeric"
        if profile is not None and profile.number_format is not None:
            number_formats[name] = profile.number_format
    categorical = [n for n in predictors if kinds[n] == "categorical"]
    # text columns are read as text in every CSV chunk (a chunk of digits only would otherwise parse as numbers)
    csv_dtypes = {n: str for n in [*categorical, *number_formats]
                  if first[n].dtype == object or pd.api.types.is_string_dtype(first[n].dtype)}
    levels: dict[str, list] = {}
    if categorical:
        seen: dict[str, dict] = {n: {} for n in categorical}
        categories: dict[str, list | None] = {
            n: list(first[n].cat.categories) if isinstance(first[n].dtype, pd.CategoricalDtype) else None
            for n in categorical
        }
        for chunk in level_chunks(categorical, {n: csv_dtypes[n] for n in categorical if n in csv_dtypes}):
            for name in categorical:
                if name not in chunk:
                    continue
                for value in pd.unique(chunk[name].dropna()):
                    seen[name].setdefault(value, None)
                if len(seen[name]) > MAX_LEVELS:
                    raise DataError(
                        f"categorical column {name!r} has more than {MAX_LEVELS} levels; it looks like an identifier or "
                        "free text. Drop it from predictors, or group its levels."
                    )
        for name in categorical:
            if categories[name] is None:  # missing markers written in a text column are missing values, not levels
                seen[name] = {value: None for value in seen[name]
                              if not (isinstance(value, str) and value.strip().lower() in MISSING_MARKERS)}
        levels = {n: _sort_levels(list(seen[n]), categories[n]) for n in categorical}
    layout = Layout(target=target, predictors=tuple(predictors), kinds=kinds, levels=levels, intercept=intercept)
    layout.assign_columns()
    layout.csv_dtypes = csv_dtypes
    layout.column_decisions = screening.decisions
    layout.number_formats = number_formats
    # shifts from the first chunk's complete rows (any finite shift is exact in the algebra)
    layout.shift = np.zeros(layout.width)
    layout.scale = np.ones(layout.width)
    sample = layout.rows(first) if len(first) else None
    if sample is not None and sample.raw.shape[0]:
        layout.response_scale = working_scale(sample.raw[:, layout.y_column])
        if layout.response_scale != 1.0:
            sample = layout.rows(first)
        numeric = [layout.slices[n].start for n in predictors if kinds[n] == "numeric"] + [layout.y_column]
        for j in numeric:
            column = sample.raw[:, j]
            largest = float(np.max(np.abs(column)))
            if j != layout.y_column and (largest > 2.0**PREDICTOR_RANGE or 0 < largest < 2.0**-PREDICTOR_RANGE):
                # the engine maps its factor back to the columns' own scale, where squares of such values
                # overflow or vanish (the in-memory fit scales each column by a power of two first)
                name = next(n for n in predictors if layout.slices[n].start == j)
                raise DataError(
                    f"predictor {name!r} reaches {largest:g} in magnitude, beyond what the streamed engine handles "
                    f"(2**±{PREDICTOR_RANGE}, about 1e±120); express it in other units (e.g. divide it by "
                    f"{largest:.0e}), or use streaming=False."
                )
            centre = float(np.mean(column))
            spread = float(np.std(column))
            layout.shift[j] = centre if np.isfinite(centre) else 0.0
            if np.isfinite(spread) and spread > 0:
                layout.scale[j] = spread
            elif np.isfinite(centre) and centre != 0:
                layout.scale[j] = abs(centre)
    return layout
