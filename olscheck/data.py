"""From what the user passed to a :class:`~olscheck.design.Design`.

Accepts a pandas DataFrame, a path to a CSV/TSV/Parquet file, and either
``target``/``predictors`` or a patsy formula. Rows incomplete in the used
columns are dropped and counted; everything else that cannot be used raises
an :class:`~olscheck.errors.OlscheckError` subclass naming the column or
value. The caller's DataFrame is never modified: every step works on new
objects.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .design import Design, PolynomialGroup, Term
from .errors import (
    ColumnNotFoundError,
    ConstantTargetError,
    DataError,
    FormulaError,
    InputFileError,
    InsufficientDataError,
    NonFiniteValueError,
    NonNumericColumnError,
)

__all__ = ["prepare", "read_table", "MAX_LEVELS"]

#: A categorical with more levels than this is almost always an identifier
#: or free text; fitting thousands of dummy columns would also cost O(n p²).
MAX_LEVELS = 1000

_FILE_READERS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


# --------------------------------------------------------------------------- files
def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV, TSV or Parquet file into a DataFrame.

    The format follows the file's suffix (``.csv``/``.txt``, ``.tsv``/``.tab``,
    ``.parquet``/``.pq``; a ``.gz``/``.bz2``/``.zip``/``.xz`` suffix after a text
    suffix is decompressed). Raises :class:`InputFileError` when the file does
    not exist, is empty, or is not in one of these formats.
    """
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"data file '{path}' does not exist; check the path.")
    if path.is_dir():
        raise InputFileError(f"'{path}' is a directory; give the path of a CSV, TSV or Parquet file.")
    suffixes = [s.lower() for s in path.suffixes]
    compression = suffixes[-1] if suffixes and suffixes[-1] in {".gz", ".bz2", ".zip", ".xz"} else None
    suffix = suffixes[-2] if compression and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    kind = _FILE_READERS.get(suffix)
    if kind is None:
        raise InputFileError(
            f"cannot tell the format of '{path}' from its suffix '{suffix or '(none)'}'; "
            "olscheck reads .csv, .tsv and .parquet files."
        )
    if path.stat().st_size == 0:
        raise InputFileError(f"data file '{path}' is empty.")
    try:
        if kind == "parquet":
            import pyarrow.parquet  # noqa: F401  (a clear error if pyarrow is missing)

            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, sep="\t" if kind == "tsv" else ",", low_memory=False)
    except InputFileError:
        raise
    except MemoryError:  # also what a corrupt Parquet header claiming billions of rows gives
        raise InputFileError(f"not enough memory to read '{path}'; the file is too large or corrupt.") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"data file '{path}' has no columns.") from None
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"data file '{path}' is not UTF-8 text ({error.reason} at byte {error.start}); "
            "save it as UTF-8 CSV or as Parquet."
        ) from None
    except Exception as error:  # parser errors of pandas/pyarrow come in many classes
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputFileError(f"cannot read '{path}' as {kind.upper()}: {first_line}") from None
    if frame.shape[1] == 0:
        raise InputFileError(f"data file '{path}' has no columns.")
    if kind == "csv" and frame.shape[1] == 1 and ";" in str(frame.columns[0]):
        raise InputFileError(
            f"data file '{path}' looks semicolon-separated (its one column is named {str(frame.columns[0])!r}); "
            "olscheck reads comma-separated CSV: save it with commas, or read it with "
            "pd.read_csv(path, sep=';', decimal=',') and pass the DataFrame."
        )
    return frame


def _as_frame(data: Any) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, os.PathLike)):
        return read_table(data)
    raise DataError(
        f"data must be a pandas DataFrame or the path of a CSV/TSV/Parquet file, not {type(data).__name__}."
    )


# --------------------------------------------------------------------------- helpers
def _column_key(frame: pd.DataFrame, name: Any, role: str) -> Any:
    """The frame's own column label for ``name`` (labels need not be strings)."""
    try:
        hash(name)
    except TypeError:
        # a list, Series or array where one column name belongs
        raise DataError(
            f"{role} must be the name of one column, not a {type(name).__name__}"
            + (" (pass the values as a column of the DataFrame and give its name)."
               if isinstance(name, (pd.Series, np.ndarray)) or (isinstance(name, list) and len(name) != 1)
               else f"; write {role}={name[0]!r}." if isinstance(name, list) else ".")
        ) from None
    if name in frame.columns:
        return name
    text = str(name)
    matches = [c for c in frame.columns if str(c) == text]
    if len(matches) == 1:
        return matches[0]
    names = [str(c) for c in frame.columns]
    close = [c for c in names if c.lower() == text.lower()] or difflib.get_close_matches(text, names, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(repr(c) for c in names[:20]) + (" ..." if len(names) > 20 else "")
    raise ColumnNotFoundError(f"{role} column {text!r} is not in the data.{hint} The columns are: {shown}.")


def _name_list(names: Any, role: str) -> list[Any]:
    """``names`` as a list of column names: one name (str or other label) or an iterable of names."""
    if isinstance(names, (str, bytes, int, float, np.integer, np.floating)):
        return [names]
    if isinstance(names, (pd.DataFrame, dict)) or (
        isinstance(names, pd.Series) and pd.api.types.is_numeric_dtype(names) and not pd.api.types.is_bool_dtype(names)
    ):
        raise DataError(f"{role} must be a list of column names, not a {type(names).__name__} of values.")
    if isinstance(names, (set, frozenset)):
        return sorted(names, key=str)
    try:
        return list(names)
    except TypeError:
        raise DataError(f"{role} must be a list of column names, not {names!r}.") from None


def _check_unique_terms(names: Sequence[str]) -> None:
    """Design column names must be unique: a column called 'Intercept' or 'g[T.b]' would shadow a model term."""
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise DataError(
                f"the model would have two columns named {name!r} (a data column has the name of the intercept or "
                "of a categorical level's column); rename that data column."
            )
        seen.add(name)


def _check_duplicate_columns(frame: pd.DataFrame) -> None:
    labels = [str(c) for c in frame.columns]
    seen: set[str] = set()
    duplicated = sorted({c for c in labels if c in seen or seen.add(c)})
    if duplicated:
        raise DataError(
            f"column name(s) {', '.join(repr(c) for c in duplicated)} appear more than once; "
            "rename the columns so each name is unique."
        )


def _numeric_values(series: pd.Series, name: str, role: str) -> np.ndarray:
    """Float values of a numeric-like column (missing -> NaN), or a clear error."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype):
        if pd.api.types.is_complex_dtype(series):
            raise NonNumericColumnError(f"{role} column {name!r} holds complex numbers; olscheck needs real numbers.")
        return series.to_numpy(dtype="float64", na_value=np.nan)
    converted = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & converted.isna()
    if bad.any():
        examples = list(dict.fromkeys(str(v) for v in series[bad].head(50)))[:3]
        first = series.index[bad.to_numpy()][0]
        raise NonNumericColumnError(
            f"{role} column {name!r} must be numeric but holds text such as "
            f"{', '.join(repr(e) for e in examples)} ({int(bad.sum())} value(s), first at row {first!r}); "
            "clean or convert it" + (", or list it in categorical= to treat it as categorical." if role == "predictor" else ".")
        )
    return converted.to_numpy(dtype="float64", na_value=np.nan)


def _is_categorical(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
        return False
    # object/string columns: categorical unless they are mostly numbers with a few bad cells,
    # which is a dirty numeric column, not a factor
    values = series.dropna()
    if values.empty:
        return True
    if all(isinstance(v, (bool, np.bool_)) for v in values):  # a bool column with missing values
        return True
    converted = pd.to_numeric(values, errors="coerce")
    share_numeric = float(converted.notna().mean())
    return share_numeric < 0.5


def _check_finite(values: np.ndarray, name: str, index: pd.Index, role: str) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        first = index[np.flatnonzero(infinite)[0]]
        raise NonFiniteValueError(
            f"{role} column {name!r} holds {int(infinite.sum())} infinite value(s) (first at row {first!r}); "
            "replace them with a finite value or with NaN to drop those rows."
        )


def _level_label(level: Any) -> str:
    if isinstance(level, (bool, np.bool_)):
        return "True" if level else "False"
    return str(level)


def _sorted_levels(series: pd.Series) -> list[Any]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = set(series.dropna().unique().tolist())
        return [c for c in series.cat.categories if c in present]
    values = series.dropna().unique().tolist()
    try:
        return sorted(values)
    except TypeError:  # mixed types: sort by their text
        return sorted(values, key=_level_label)


def _working_scale(y: np.ndarray) -> float:
    """A power of two to divide an extreme-magnitude target by (1 for ordinary data).

    Squared residuals of a target near 1e300 overflow float64; dividing by a
    power of two is exact and every diagnostic is scale invariant. The
    diagnostics form fourth powers of residuals (kurtosis, the variance of
    squared residuals in Breusch-Pagan), so the target is kept within 2**±100
    (~1e±30): a single 1e82 in a column already overflowed sigma⁴.
    """
    largest = float(np.max(np.abs(y))) if y.size else 0.0
    if largest == 0.0 or 2.0**-100 < largest < 2.0**100:
        return 1.0
    # 2**(e-1) <= largest < 2**e; 2**e itself overflows to inf for targets
    # beyond 2**1023 (~9e307), so divide by the lower power
    return float(np.ldexp(1.0, int(np.frexp(largest)[1]) - 1))


# --------------------------------------------------------------------------- order
def _order(frame: pd.DataFrame, order_key: Any) -> tuple[np.ndarray, str | None, str, list[str]]:
    """Positions of ``frame``'s rows in time order, and a sentence saying which order.

    Rows whose ``order_by`` value is missing are left out (they are counted
    as dropped by the caller). Ties keep the order of the data (stable sort).
    """
    notes: list[str] = []
    if order_key is not None:
        column = frame[order_key]
        present = np.flatnonzero(column.notna().to_numpy())
        values, how = _sortable(column.iloc[present])
        if how:
            notes.append(f"order_by column {str(order_key)!r} holds text; its values were sorted {how}.")
        ties = int(pd.Series(values).duplicated().sum())
        if ties:
            notes.append(
                f"order_by column {str(order_key)!r} has {ties} tied value(s); tied rows keep their order in the data."
            )
        try:
            permutation = present[np.argsort(values, kind="stable")]
        except TypeError:
            raise DataError(
                f"order_by column {str(order_key)!r} mixes values that cannot be compared (e.g. text and numbers); "
                "give a numeric, date or text column."
            ) from None
        return permutation, str(order_key), f"Order-dependent tests use the rows sorted by {str(order_key)!r}.", notes
    if isinstance(frame.index, pd.DatetimeIndex):
        return (np.argsort(frame.index.to_numpy(), kind="stable"), None,
                "Order-dependent tests use the rows sorted by the DatetimeIndex.", notes)
    return np.arange(len(frame)), None, "Order-dependent tests use the rows in the order given (no order_by).", notes


def _sortable(column: pd.Series) -> tuple[np.ndarray, str | None]:
    """Values of an order_by column that sort in time order, and how text was read.

    Text as a CSV gives it ("10", "9"; "03/01/2021", "12/31/2020") sorts
    wrongly as strings, so text that is entirely numbers or entirely dates is
    converted first; a pandas Categorical sorts by its categories' order.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), None
    if not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
        return column.to_numpy(), None
    if column.map(lambda v: isinstance(v, str)).all():
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.notna().all():
            return numbers.to_numpy(dtype=float), "as numbers"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pandas warns when it infers a date format
            try:
                dates = pd.to_datetime(column, errors="raise")
            except (ValueError, TypeError, OverflowError):
                return column.to_numpy(), "alphabetically"
        if dates.notna().all():
            return dates.to_numpy(), "as dates"
        return column.to_numpy(), "alphabetically"
    return column.to_numpy(), None


# --------------------------------------------------------------------------- prepare
def prepare(
    data: Any,
    target: str | None = None,
    predictors: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    formula: str | None = None,
    intercept: bool = True,
    order_by: str | None = None,
) -> Design:
    """Build the :class:`Design` for ``data``.

    Parameters
    ----------
    data : DataFrame or path
        The caller's data; never modified.
    target : str
        Response column (not needed with ``formula``).
    predictors : sequence of str, optional
        Predictor columns; by default every column but the target and
        ``order_by``.
    categorical : sequence of str, optional
        Predictors to treat as categorical in addition to the non-numeric,
        bool and ``category`` columns. Treatment coding, with the first
        level in sorted order (or the first category of a pandas
        Categorical) as the reference, as R's ``factor``.
    formula : str, optional
        A patsy formula, ``"y ~ x1 + np.log(x2) + C(g)"``, instead of
        target/predictors.
    intercept : bool
        Fit an intercept (with a formula, False adds ``- 1``).
    order_by : str, optional
        Column giving the time order for the order-dependent tests; it is
        not a predictor unless named as one.
    """
    from .fitted_results import design_from_results, is_statsmodels_results

    if is_statsmodels_results(data):  # a model the user already fitted with statsmodels
        return design_from_results(data, target=target, predictors=predictors, categorical=categorical,
                                   formula=formula, intercept=intercept, order_by=order_by)
    frame = _as_frame(data)
    if not isinstance(intercept, (bool, np.bool_)):
        raise DataError(f"intercept must be True or False, not {intercept!r}.")
    _check_duplicate_columns(frame)
    if frame.shape[0] == 0:
        raise InsufficientDataError("the data has no rows.")
    if formula is not None:
        if predictors is not None or categorical:
            raise DataError("give either formula= or predictors=/categorical=, not both.")
        return _prepare_formula(frame, formula, target, intercept, order_by)
    if target is None:
        raise DataError("name the target column (target='y') or give a formula ('y ~ x1 + x2').")
    return _prepare_columns(frame, target, predictors, categorical, intercept, order_by)


def _prepare_columns(frame, target, predictors, categorical, intercept, order_by) -> Design:
    target_key = _column_key(frame, target, "target")
    order_key = _column_key(frame, order_by, "order_by") if order_by is not None else None
    if predictors is None:
        predictor_keys = [c for c in frame.columns if c != target_key and c != order_key]
    else:
        predictors = _name_list(predictors, "predictors")
        predictor_keys = [_column_key(frame, p, "predictor") for p in predictors]
        if target_key in predictor_keys:
            raise DataError(
                f"the target {str(target_key)!r} is also listed as a predictor; remove it from predictors."
            )
        repeated = sorted({str(p) for p in predictor_keys if predictor_keys.count(p) > 1})
        if repeated:
            raise DataError(f"predictor(s) {', '.join(map(repr, repeated))} are listed more than once.")
    categorical = _name_list(categorical, "categorical") if categorical is not None else None
    declared = [_column_key(frame, c, "categorical") for c in (categorical or [])]
    for key in declared:
        if key not in predictor_keys:
            raise DataError(f"categorical column {str(key)!r} is not among the predictors; add it to predictors.")

    used = [target_key, *predictor_keys] + ([order_key] if order_key is not None and order_key not in predictor_keys and order_key != target_key else [])
    working = frame.loc[:, used]  # a new frame: the caller's stays untouched

    # Columns that are entirely missing would silently drop every row.
    for key in used:
        if working[key].isna().all():
            raise DataError(f"column {str(key)!r} has no values (all missing); drop it from the model.")

    target_values = _numeric_values(working[target_key], str(target_key), "target")
    _check_finite(target_values, str(target_key), working.index, "target")

    kinds: dict[Any, str] = {}
    numeric: dict[Any, np.ndarray] = {}
    for key in predictor_keys:
        series = working[key]
        if key in declared or _is_categorical(series):
            kinds[key] = "categorical"
        else:
            kinds[key] = "numeric"
            numeric[key] = _numeric_values(series, str(key), "predictor")
            _check_finite(numeric[key], str(key), working.index, "predictor")

    # listwise deletion over the used columns, counted per column
    missing = pd.DataFrame({str(k): working[k].isna().to_numpy() for k in used}, index=working.index)
    missing[str(target_key)] |= np.isnan(target_values)
    for key, values in numeric.items():
        missing[str(key)] |= np.isnan(values)
    incomplete = missing.any(axis=1).to_numpy()
    n_rows = int(len(working))
    n_dropped = int(incomplete.sum())
    notes: list[str] = []
    if n_dropped:
        counts = missing.sum()
        counts = counts[counts > 0].sort_values(ascending=False)
        detail = ", ".join(f"{name} {int(c)}" for name, c in counts.items())
        notes.append(f"Dropped {n_dropped} of {n_rows} rows with missing values (missing per column: {detail}).")
    if n_dropped == n_rows:
        raise InsufficientDataError(
            "no rows are left after dropping rows with missing values; the columns with most missing "
            f"values are {', '.join(map(repr, missing.sum().sort_values(ascending=False).index[:3]))}."
        )
    order, order_name, order_note, order_notes = _order(working, order_key)
    notes.extend(order_notes)
    positions = order[~incomplete[order]]  # complete rows, in analysis order
    complete = working.iloc[positions]
    y = target_values[positions]
    numeric = {k: v[positions] for k, v in numeric.items()}
    if float(np.ptp(y)) == 0.0:
        raise ConstantTargetError(
            f"target {str(target_key)!r} is constant ({y[0]:g}) over the {y.size} rows used; there is nothing to explain."
        )

    columns: list[np.ndarray] = []
    names: list[str] = []
    terms: list[Term] = []
    categorical_names: list[str] = []
    if intercept:
        columns.append(np.ones(y.size))
        names.append("Intercept")
    for key in predictor_keys:
        name = str(key)
        if kinds[key] == "numeric":
            values = numeric[key]
            columns.append(values)
            names.append(name)
            terms.append(Term(name, (len(columns) - 1,), False))
            continue
        categorical_names.append(name)
        series = complete[key]
        levels = _sorted_levels(series)
        if len(levels) > MAX_LEVELS:
            raise DataError(
                f"categorical column {name!r} has {len(levels)} levels (more than {MAX_LEVELS}); it looks like an "
                "identifier or free text. Drop it from predictors, or group its levels."
            )
        if len(levels) < 2:
            notes.append(
                f"Categorical {name!r} has a single level ({_level_label(levels[0]) if levels else 'none'}) in the rows used; "
                "it carries no information and is left out of the model."
            )
            terms.append(Term(name, (), True))
            continue
        dropped_levels = []
        if isinstance(series.dtype, pd.CategoricalDtype):
            dropped_levels = [c for c in series.cat.categories if c not in set(levels)]
        if dropped_levels:
            notes.append(
                f"Categorical {name!r}: level(s) {', '.join(map(_level_label, dropped_levels))} do not occur in the rows used and get no column."
            )
        codes = series.to_numpy()
        start = len(columns)
        reference_level = levels[0]
        for level in levels[1:]:
            columns.append(_equals(codes, level).astype(float))
            names.append(f"{name}[T.{_level_label(level)}]")
        singletons = [lv for lv in levels if int(_equals(codes, lv).sum()) == 1]
        if singletons:
            notes.append(
                f"Categorical {name!r}: level(s) {', '.join(map(_level_label, singletons[:5]))} occur in one row only; "
                "that row fits its level exactly (leverage 1)."
            )
        del reference_level
        terms.append(Term(name, tuple(range(start, len(columns))), True))

    _check_unique_terms(names)
    x = np.column_stack(columns) if columns else np.zeros((y.size, 0))
    n_used, n_parameters = x.shape
    if n_used < n_parameters + 1:
        widest = max((t for t in terms if t.categorical), key=lambda t: len(t.columns), default=None)
        culprit = (
            f" Categorical {widest.name!r} alone takes {len(widest.columns)} columns (one per level but the first)."
            if widest is not None and len(widest.columns) > 1 else ""
        )
        raise InsufficientDataError(
            f"{n_used} usable row(s) for {n_parameters} parameter(s); olscheck needs at least parameters + 1 rows "
            f"(and many more for the diagnostics to mean anything).{culprit} Use fewer predictors or more rows."
        )
    scale = _working_scale(y)
    return Design(
        y=y / scale,
        response_scale=scale,
        x=x,
        column_names=tuple(names),
        terms=tuple(terms),
        has_intercept=bool(intercept),
        target=str(target_key),
        predictors=tuple(str(k) for k in predictor_keys),
        categorical=tuple(categorical_names),
        n_rows=n_rows,
        n_dropped=n_dropped,
        order_by=order_name,
        order_note=order_note,
        row_index=complete.index,
        notes=tuple(notes),
    )


def _equals(codes: np.ndarray, level: Any) -> np.ndarray:
    return np.fromiter((c == level for c in codes), dtype=bool, count=len(codes)) if codes.dtype == object else codes == level


# --------------------------------------------------------------------------- formula
_POWER = re.compile(r"^I\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\*\*\s*(\d+)\s*\)$")
_NP_POWER = re.compile(r"^np\.power\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*(\d+)\s*\)$")


def _prepare_formula(frame, formula, target, intercept, order_by) -> Design:
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"formula {formula!r} must have the form 'y ~ x1 + x2'.")
    try:
        import patsy
    except ImportError as error:  # pragma: no cover - patsy comes with statsmodels
        raise FormulaError("formulas need the patsy package: pip install patsy") from error

    if not intercept:
        formula = f"{formula} - 1"
    order_key = _column_key(frame, order_by, "order_by") if order_by is not None else None
    order, order_name, order_note, notes = _order(frame, order_key)
    ordered = frame.iloc[order]
    n_rows = int(len(frame))
    namespace = {"np": np, "numpy": np, "pd": pd}
    try:
        outcome, design_frame = patsy.dmatrices(
            formula, ordered.reset_index(drop=True), NA_action="drop", return_type="dataframe",
            eval_env=patsy.EvalEnvironment([namespace]),
        )
    except patsy.PatsyError as error:
        message = str(error).splitlines()[0]
        absent = re.search(r"name '([^']+)' is not defined", str(error))
        if absent:
            name = absent.group(1)
            names = [str(c) for c in frame.columns]
            close = [c for c in names if c.lower() == name.lower()] or difflib.get_close_matches(name, names, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            raise FormulaError(f"formula {formula!r} names {name!r}, which is not a column of the data.{hint}") from None
        raise FormulaError(f"cannot use formula {formula!r}: {message}") from None
    except Exception as error:  # errors raised while evaluating user expressions
        raise FormulaError(f"cannot evaluate formula {formula!r}: {type(error).__name__}: {error}") from None
    outcome_code = outcome.design_info.terms[0].factors[0].code if outcome.design_info.terms else None
    if outcome.shape[1] != 1:
        if outcome_code in frame.columns:
            # a text column on the left: the column-wise check names its bad values
            _numeric_values(frame[outcome_code], outcome_code, "target")
        shown = ", ".join(repr(str(c)) for c in outcome.columns[:3]) + (" ..." if outcome.shape[1] > 3 else "")
        raise FormulaError(
            f"the left-hand side of formula {formula!r} is not one numeric column: patsy read it as "
            f"{outcome.shape[1]} columns ({shown}), so it holds text or categories. The target must be numeric; "
            "clean or convert it."
        )
    target_name = str(outcome.columns[0])
    for term in design_frame.design_info.terms:
        if any(factor.code == outcome_code for factor in term.factors):
            raise FormulaError(
                f"formula {formula!r} uses the target {target_name!r} on the right-hand side as well; "
                "remove it there (R's lm drops it with a warning)."
            )
    if target is not None and str(target) != target_name:
        raise FormulaError(f"target={target!r} disagrees with the formula's left-hand side {target_name!r}.")
    kept_positions = outcome.index.to_numpy()
    row_index = ordered.index[kept_positions]
    n_dropped = n_rows - int(len(outcome))
    if order_key is not None:
        n_missing_order = int(frame[order_key].isna().sum())
        if n_missing_order:
            notes.append(f"Dropped {n_missing_order} row(s) with a missing {str(order_key)!r} (order_by).")
    if n_dropped:
        notes.insert(0, f"Dropped {n_dropped} of {n_rows} rows with missing values in the formula's variables.")
    if len(outcome) == 0:
        counts = {name: int(frame[name].isna().sum()) for name in _variables(formula, frame)
                  if name in frame.columns}
        worst = sorted((name for name in counts if counts[name]), key=lambda name: -counts[name])[:3]
        raise InsufficientDataError(
            "no rows are left after dropping rows with missing values in the formula's variables"
            + (f"; the columns with most missing values are {', '.join(map(repr, worst))}." if worst else ".")
        )
    y = outcome.to_numpy(dtype=float)[:, 0]
    x = design_frame.to_numpy(dtype=float)
    names = tuple(str(c) for c in design_frame.columns)
    _check_unique_terms(names)
    _check_finite(y, target_name, row_index, "target")
    for j, name in enumerate(names):
        _check_finite(x[:, j], name, row_index, "formula column")
    if float(np.ptp(y)) == 0.0:
        raise ConstantTargetError(f"target {target_name!r} is constant ({y[0]:g}) over the {y.size} rows used.")
    info = design_frame.design_info
    has_intercept = "Intercept" in info.term_name_slices
    terms: list[Term] = []
    categorical: list[str] = []
    predictors: list[str] = []
    powers: dict[str, dict[int, int]] = {}
    for term, span in info.term_name_slices.items():
        if term == "Intercept":
            continue
        term_object = next(t for t in info.terms if t.name() == term)
        is_categorical = any(info.factor_infos[f].type == "categorical" for f in term_object.factors)
        columns = tuple(range(span.start, span.stop))
        terms.append(Term(term, columns, is_categorical))
        if is_categorical:
            categorical.append(term)
        for factor in term_object.factors:
            for variable in _variables(factor.code, frame):
                if variable not in predictors:
                    predictors.append(variable)
        if len(term_object.factors) == 1 and len(columns) == 1 and not is_categorical:
            code = term_object.factors[0].code
            match = _POWER.match(code) or _NP_POWER.match(code)
            if match and match.group(1) in [str(c) for c in frame.columns]:
                powers.setdefault(match.group(1), {})[int(match.group(2))] = columns[0]
            elif code in [str(c) for c in frame.columns]:
                powers.setdefault(code, {})[1] = columns[0]
    polynomials = []
    for base_name, by_power in powers.items():
        if len(by_power) >= 2 and 1 in by_power:
            base = x[:, by_power[1]]
            polynomials.append(PolynomialGroup(base_name, base.copy(), tuple(by_power), tuple(by_power.values())))
    if x.shape[0] < x.shape[1] + 1:
        raise InsufficientDataError(
            f"{x.shape[0]} usable row(s) for {x.shape[1]} parameter(s); olscheck needs at least parameters + 1 rows."
        )
    scale = _working_scale(y)
    return Design(
        y=y / scale,
        response_scale=scale,
        x=x,
        column_names=names,
        terms=tuple(terms),
        has_intercept=has_intercept,
        target=target_name,
        predictors=tuple(predictors),
        categorical=tuple(categorical),
        n_rows=n_rows,
        n_dropped=n_dropped,
        order_by=order_name,
        order_note=order_note,
        row_index=row_index,
        polynomials=tuple(polynomials),
        notes=tuple(notes),
    )


def _variables(code: str, frame: pd.DataFrame) -> list[str]:
    """Data columns a patsy factor's code refers to."""
    names = {str(c) for c in frame.columns}
    found = []
    for token in re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", code):
        if token in names and token not in found:
            found.append(token)
    quoted = re.findall(r"Q\(\s*['\"](.+?)['\"]\s*\)", code)
    found.extend(q for q in quoted if q in names and q not in found)
    return found
