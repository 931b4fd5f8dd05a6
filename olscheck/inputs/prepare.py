"""From what the user passed to a :class:`~olscheck.model.design.Design`.

Accepts a pandas DataFrame, a path to a CSV/TSV/Parquet/Excel file (or
``"-"``, standard input; read as :class:`~olscheck.inputs.reading.ReadOptions`
say), and either ``target``/``predictors`` or a patsy formula. The columns
are screened first (:mod:`olscheck.inputs.screening`: identifiers, free text and
dates left out, numbers written with units converted, missing markers read
as missing), and each decision is kept in ``Design.columns``. Rows
incomplete in the used columns are dropped and counted; everything else
that cannot be used raises an :class:`~olscheck.errors.OlscheckError`
subclass naming the column or value. The caller's DataFrame is never
modified: every step works on new objects.
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..model.design import NUMPY_POWER_TERM, POWER_TERM, Design, PolynomialGroup, Term, check_enough_rows
from ..errors import (
    ColumnNotFoundError,
    ConfigurationError,
    ConstantTargetError,
    DataError,
    FormulaError,
    InputFileError,
    InsufficientDataError,
    NonFiniteValueError,
    NonNumericColumnError,
)
from .cells import check_cells, plain_label, shown_name
from .reading import SNIFF_BYTES, ReadOptions, data_file, read_options, sniff

__all__ = ["prepare", "read_table", "check_header", "check_enough_rows", "MAX_LEVELS", "numeric_values", "check_finite",
           "is_categorical", "column_key", "level_label", "level_columns", "single_level_note",
           "singleton_levels_note", "spelling_variants_note", "target_values", "merged_target_values"]

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
    ".xlsx": "excel",
    ".xlsm": "excel",
}


# --------------------------------------------------------------------------- files
def read_table(path: str | os.PathLike, read: ReadOptions | Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV, Parquet or Excel file (or standard input) into a DataFrame.

    Parameters
    ----------
    path : str or path-like
        The file; its suffix gives the format (``.csv``/``.txt``,
        ``.tsv``/``.tab``, ``.parquet``/``.pq``, ``.xlsx``/``.xlsm``; a
        ``.gz``/``.bz2``/``.zip``/``.xz`` suffix after a text suffix is
        decompressed). ``"-"`` reads standard input (CSV or TSV text, or
        Parquet).
    read : ReadOptions or mapping, optional
        How to read it (:class:`olscheck.inputs.reading.ReadOptions`: ``sep``,
        ``decimal``, ``thousands``, ``na_values``, ``encoding``, ``sheet``,
        ``skip_rows``). Without ``sep`` the delimiter is sniffed from the
        first lines below the skipped ones (``,``, ``;``, tab or ``|``), and
        without ``decimal`` a decimal comma is recognised in a file that is
        not comma-separated.

    Raises
    ------
    InputFileError
        The file does not exist, is empty, cannot be parsed, or is not in
        one of these formats; an Excel file without openpyxl installed
        (``pip install 'olscheck[excel]'``).
    ConfigurationError
        A bad read option.
    """
    options = read_options(read)
    if os.fsdecode(path) == "-":
        return _read_standard_input(options)
    path = data_file(path)
    suffixes = [s.lower() for s in path.suffixes]
    compression = _COMPRESSION_SUFFIXES.get(suffixes[-1]) if suffixes else None
    suffix = suffixes[-2] if compression and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    kind = _FILE_READERS.get(suffix)
    if kind is None:
        raise InputFileError(
            f"cannot tell the format of '{path}' from its suffix '{suffix or '(none)'}'; "
            "olscheck reads .csv, .tsv, .parquet and .xlsx files." + _CONVERT_HINTS.get(suffix, "")
        )
    if not path.is_file():  # a device or a pipe: there is no file to read
        raise InputFileError(f"'{path}' is not a regular file; give the path of a CSV, TSV or Parquet file.")
    if path.stat().st_size == 0:
        raise InputFileError(f"data file '{path}' is empty.")
    if kind == "excel":
        return _read_excel(path, options)
    if kind != "parquet" and compression is None:
        # a compressed file without its .gz/.zip... suffix (often re-named by hand)
        with path.open("rb") as handle:
            magic = handle.read(6)
        compression = next((c for prefix, c in _COMPRESSED_MAGIC if magic.startswith(prefix)), None)
    wider = False
    separator = "\t" if kind == "tsv" else ","
    try:
        if kind == "parquet":
            import pyarrow.parquet  # noqa: F401  (a clear error if pyarrow is missing)

            frame = pd.read_parquet(path)
        else:
            separator, decimal = text_format(path, options, separator, compression)
            frame, wider = _read_text(path, separator, compression, options, decimal)
    except (InputFileError, ConfigurationError):
        raise
    except MemoryError:  # also what a corrupt Parquet header claiming billions of rows gives
        raise InputFileError(f"not enough memory to read '{path}'; the file is too large or corrupt.") from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"data file '{path}' has no columns.") from None
    except UnicodeError:
        raise InputFileError(_not_utf8_message(path, compression, options.encoding)) from None
    except Exception as error:  # parser errors of pandas/pyarrow come in many classes
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputFileError(f"cannot read '{path}' as {kind.upper()}: {first_line}") from None
    if frame.shape[1] == 0:
        raise InputFileError(f"data file '{path}' has no columns.")
    if kind == "csv" and options.sep is None and frame.shape[1] == 1 and "\t" in str(frame.columns[0]):
        # tab-separated text saved as .csv (Excel's "Text (Tab delimited)", copy-paste): unambiguous
        separator, decimal = text_format(path, replace(options, sep="\t"), "\t", compression)
        frame, wider = _read_text(path, separator, compression, options, decimal)
    if kind != "parquet":
        check_header(path, separator, compression, frame.columns, wider=wider, encoding=options.encoding,
                     skip_rows=options.skip_rows)
    return frame


def text_format(path, options: ReadOptions, default_sep: str, compression) -> tuple[str, str]:
    """The delimiter and decimal mark of a text file: the options' own, or sniffed from its first bytes."""
    if options.sep is not None and options.decimal is not None:
        return options.sep, options.decimal
    import bz2
    import gzip
    import lzma

    if compression == "zip":  # pandas opens zip archives itself; no sniffing inside them
        return options.sep or default_sep, options.decimal or "."
    opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}.get(compression or "", open)
    try:
        with opener(path, "rb") as handle:
            raw = handle.read(SNIFF_BYTES)
    except OSError:
        return options.sep or default_sep, options.decimal or "."
    return _sniff_bytes(raw, options, default_sep)


def _sniff_bytes(raw: bytes, options: ReadOptions, default_sep: str) -> tuple[str, str]:
    sample = raw.decode(options.encoding or "utf-8", errors="replace")
    if options.skip_rows:
        # the lines skipped (a title, an export date) are not the table: sniff the lines below them
        sample = "\n".join(sample.splitlines()[options.skip_rows:])
    if options.sep is None and default_sep == "\t":
        options = replace(options, sep="\t")  # a .tsv file is tab-separated; only its decimal mark is sniffed
    return sniff(sample, options, default_sep)


def _reader_options(options: ReadOptions, decimal: str) -> dict[str, Any]:
    """The pandas.read_csv keywords the read options stand for."""
    keywords: dict[str, Any] = {"decimal": decimal}
    if options.skip_rows:
        keywords["skiprows"] = options.skip_rows
    if options.thousands is not None:
        keywords["thousands"] = options.thousands
    if options.na_values:
        keywords["na_values"] = list(options.na_values)
    if options.encoding is not None:
        keywords["encoding"] = options.encoding
    return keywords


def _read_standard_input(options: ReadOptions) -> pd.DataFrame:
    """The data piped to standard input: CSV/TSV text (delimiter sniffed) or Parquet."""
    import io
    import sys

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise InputFileError("standard input is not available to read data from ('-').")
    raw = stream.read()
    if not raw.strip():
        raise InputFileError("standard input ('-') is empty; pipe a CSV file into it, e.g. cat data.csv | olscheck "
                             "check - --target y.")
    if raw.startswith(b"PAR1"):
        return pd.read_parquet(io.BytesIO(raw))
    compression = next((c for prefix, c in _COMPRESSED_MAGIC if raw.startswith(prefix)), None)
    if compression is not None:
        raise InputFileError(f"standard input holds {compression}-compressed data; decompress it first "
                             f"(e.g. zcat data.csv.gz | olscheck check - ...), or give the file's path.")
    separator, decimal = _sniff_bytes(raw[:SNIFF_BYTES], options, ",")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(raw), sep=separator, low_memory=False, index_col=False,
                                **_reader_options(options, decimal))
    except pd.errors.EmptyDataError:
        raise InputFileError("standard input ('-') has no columns.") from None
    except UnicodeError:
        raise InputFileError("standard input ('-') is not UTF-8 text; give its encoding (--encoding cp1252, or "
                             "read={'encoding': 'cp1252'}).") from None
    except Exception as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputFileError(f"cannot read standard input ('-') as CSV: {first_line}") from None
    _check_duplicate_columns(frame)
    return frame


def _read_excel(path: Path, options: ReadOptions) -> pd.DataFrame:
    """One sheet of an Excel workbook, through the optional openpyxl (``olscheck[excel]``)."""
    try:
        import openpyxl
    except ImportError:
        raise InputFileError(f"reading '{path}' (an Excel workbook) needs openpyxl: pip install 'olscheck[excel]' "
                             "(or save the sheet as CSV).") from None
    sheet = options.sheet if options.sheet is not None else 0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and data validation it ignores
            workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
            names = list(workbook.sheetnames)
            workbook.close()
    except Exception as error:
        raise InputFileError(f"cannot read '{path}' as an Excel workbook (.xlsx): "
                             f"{str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}"
                             ) from None
    if (isinstance(sheet, int) and sheet >= len(names)) or (isinstance(sheet, str) and sheet not in names):
        raise InputFileError(f"'{path}' has no sheet {sheet!r}; its sheets are "
                             f"{', '.join(map(repr, names))} (--sheet takes a name or a 0-based position).")
    keywords: dict[str, Any] = {}
    if options.skip_rows:
        keywords["skiprows"] = options.skip_rows
    if options.na_values:
        keywords["na_values"] = list(options.na_values)
    if options.thousands is not None:
        keywords["thousands"] = options.thousands
    if options.decimal is not None:
        keywords["decimal"] = options.decimal
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = pd.read_excel(path, sheet_name=sheet, engine="openpyxl", **keywords)
    if frame.shape[1] == 0:
        raise InputFileError(f"sheet {names[sheet] if isinstance(sheet, int) else sheet!r} of '{path}' is empty.")
    _check_duplicate_columns(frame)
    return frame


def check_header(path: Path, separator: str, compression, columns, *, wider: bool = True,
                 rows: int | None = None, encoding: str | None = None, skip_rows: int = 0) -> None:
    """What pandas reads from a text file's header without complaint but should not.

    A semicolon-separated file read as one column, a name written twice
    (pandas renames the second), and rows with more fields than the header
    has names (pandas drops them, or makes the first the index). ``wider``
    False skips the last check (the reader saw no such row); ``rows`` limits
    the rows it reads (the streaming reader checks the first ones);
    ``encoding`` is the file's (None: UTF-8); ``skip_rows`` the lines
    above the header (:class:`~olscheck.inputs.reading.ReadOptions`). Used
    by :func:`read_table` and :mod:`olscheck.engine.sources`.
    """
    if separator == ",":
        _check_semicolons(path, columns)
    if len(columns) > 1:
        _check_repeated_header(path, separator, compression, encoding, skip_rows)
    if wider:
        _check_header_width(path, separator, compression, len(columns), rows=rows, encoding=encoding,
                            skip_rows=skip_rows)


_COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
_COMPRESSED_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bz2"), (b"\xfd7zXZ", "xz"), (b"PK\x03\x04", "zip"))

#: What to do with a file olscheck does not read, by suffix.
_CONVERT_HINTS = {
    ".xls": " Save the sheet as CSV (UTF-8), or read it with pd.read_excel(path) and pass the DataFrame.",
    ".json": " Read it with pd.read_json(path) and pass the DataFrame, or save it as CSV.",
    ".feather": " Read it with pd.read_feather(path) and pass the DataFrame, or save it as Parquet.",
    ".arrow": " Read it with pd.read_feather(path) and pass the DataFrame, or save it as Parquet.",
    ".dta": " Read it with pd.read_stata(path) and pass the DataFrame, or save it as CSV.",
    ".sav": " Read it with pd.read_spss(path) and pass the DataFrame, or save it as CSV.",
    ".rds": " In R, write.csv(data, 'data.csv', row.names = FALSE), then check the CSV.",
    ".pkl": " Unpickle it yourself (only if you trust it) and pass the DataFrame.",
    ".pickle": " Unpickle it yourself (only if you trust it) and pass the DataFrame.",
}


def _read_text(path: Path, separator: str, compression: str | None, options: ReadOptions | None = None,
               decimal: str = ".") -> tuple[pd.DataFrame, bool]:
    """The file as pandas reads it, and whether some rows had more fields than the header."""
    # index_col=False: a delimiter at the end of every line must not turn the
    # first column into the index (pandas' default for such files)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        frame = pd.read_csv(path, sep=separator, low_memory=False, index_col=False, compression=compression,
                            **_reader_options(options or ReadOptions(), decimal))
    return frame, any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)


def _check_header_width(path: Path, separator: str, compression, names: int, rows: int | None = None,
                        encoding: str | None = None, skip_rows: int = 0) -> None:
    """Rows with more fields than the header has names lose the extra fields in pandas.

    That is fine when they are empty (a delimiter at the end of each data
    line) and data loss otherwise: then an :class:`InputFileError`. ``rows``
    limits the rows read (the streaming reader checks the first ones).
    """
    every_field = pd.read_csv(path, sep=separator, header=None, skiprows=1 + skip_rows, nrows=rows, low_memory=False,
                              dtype=str, compression=compression, encoding=encoding)
    extra = every_field.iloc[:, names:]
    if extra.notna().to_numpy().any():
        # the first lines as they are in the file (blank ones kept, so that positions are line numbers)
        first_lines = pd.read_csv(path, sep=separator, header=None, names=range(every_field.shape[1]), nrows=12,
                                  skiprows=skip_rows, skip_blank_lines=False, dtype=str, compression=compression,
                                  encoding=encoding)
        header = _header_below_a_title(first_lines.iloc[1:], separator)
        if header is not None:
            line, shown = header
            skip = skip_rows + line - 1
            raise InputFileError(
                f"data file '{path}' seems to start with {skip} line(s) before its header (a title?): line "
                f"{skip + 1} ({shown}) names the {every_field.shape[1]} columns of the rows below it. Skip the lines "
                f"above it: --skip-rows {skip} (read={{'skip_rows': {skip}}}), or remove them from the file."
            )
        raise InputFileError(
            f"data file '{path}' has {names} name(s) in its header but {every_field.shape[1]} fields "
            "in its rows, so a column has no name (a saved row index, or a missing header name?); "
            "add the missing name(s) to the header line."
        )


def _header_below_a_title(rows: pd.DataFrame, separator: str) -> tuple[int, str] | None:
    """``(line number, its text)`` of a header line among the first rows below the first line, else None.

    ``rows`` are the file's lines after the first, split into fields (text;
    a blank line is a row of empty fields). A header below a title is the
    first of them with every field filled, none of them a number, followed
    by a row with every field filled; the lines above it have empty fields
    (a title, a blank line, a date).
    """
    width = rows.shape[1]
    head = rows.head(11)
    for position in range(len(head) - 1):
        fields = head.iloc[position]
        if fields.isna().any():
            continue
        names = [str(value).strip() for value in fields]
        if any(pd.notna(pd.to_numeric(name, errors="coerce")) for name in names) or head.iloc[position + 1].isna().any():
            return None
        return position + 2, repr(separator.join(names)) if width <= 8 else f"{names[0]!r}, ..., {names[-1]!r}"
    return None


def _check_semicolons(path: Path, columns) -> None:
    if len(columns) == 1 and ";" in str(columns[0]):
        raise InputFileError(
            f"data file '{path}' looks semicolon-separated (its one column is named {str(columns[0])!r}) but was "
            "read with sep=','; leave the delimiter to olscheck, or give --sep ';' --decimal ',' "
            "(read={'sep': ';', 'decimal': ','})."
        )


def _check_repeated_header(path: Path, separator: str, compression: str | None, encoding: str | None = None,
                           skip_rows: int = 0) -> None:
    """A name written twice in the header is an error, as in a DataFrame.

    pandas renames a repeated header ("y,y,x" -> y, y.1, x), so the second
    column would silently become a predictor named y.1.
    """
    header = pd.read_csv(path, sep=separator, header=None, nrows=1, index_col=False, dtype=str, skiprows=skip_rows,
                         compression=compression, keep_default_na=False, encoding=encoding).iloc[0].tolist()
    _check_duplicate_columns(pd.DataFrame(columns=[name for name in header if str(name).strip()]))


def _not_utf8_message(path: Path, compression: str | None, encoding: str | None = None) -> str:
    """Where the first byte that is not UTF-8 is, and what the file probably is."""
    import bz2
    import gzip
    import lzma

    if encoding is not None:
        return (f"data file '{path}' cannot be decoded as {encoding!r}; give its encoding with --encoding "
                "(read={'encoding': ...}): 'utf-8', 'cp1252', 'latin-1' or 'utf-16'.")
    try:
        opener = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}.get(compression or "", open)
        with opener(path, "rb") as handle:
            raw = handle.read(1 << 24)
    except Exception:  # unreadable archive: say only what is known
        return f"data file '{path}' is not UTF-8 text; save it as UTF-8 CSV or as Parquet."
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return (f"data file '{path}' is UTF-16 text, not UTF-8 (Excel's 'Unicode Text'); give --encoding utf-16 "
                "(read={'encoding': 'utf-16'}), or save it as 'CSV UTF-8'.")
    try:
        raw.decode("utf-8")
        return f"data file '{path}' is not UTF-8 text; save it as UTF-8 CSV or as Parquet."
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        byte = raw[error.start]
        return (f"data file '{path}' is not UTF-8 text (byte 0x{byte:02x} on line {line}; probably Latin-1 or "
                "Windows-1252, as older Excel versions save CSV): give --encoding cp1252 (read={'encoding': "
                "'cp1252'}), or save it as 'CSV UTF-8'.")


def _as_frame(data: Any, read: Any = None) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, (str, bytes, os.PathLike)):
        return read_table(data, read)
    hint = ""
    if isinstance(data, np.ndarray):
        hint = " Wrap it with column names: pd.DataFrame(array, columns=['y', 'x1', ...])."
    elif isinstance(data, pd.Series):
        hint = " Pass a DataFrame with the target and predictor columns: series.to_frame() or pd.concat([...], axis=1)."
    elif isinstance(data, (dict, list, tuple)):
        hint = f" Convert it first: pd.DataFrame(data) builds a DataFrame from a {type(data).__name__}."
    raise DataError(
        f"data must be a pandas DataFrame or the path of a CSV/TSV/Parquet file, not {type(data).__name__}.{hint}"
    )


# --------------------------------------------------------------------------- helpers
def column_key(frame: pd.DataFrame, name: Any, role: str) -> Any:
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
    close = [c for c in names if c.lower() == text.lower() or c.strip() == text.strip()]
    close = close or difflib.get_close_matches(text, names, n=3)
    hint = f" Did you mean {', '.join(shown_name(c) for c in close)}?" if close else ""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) > 1 and all(part in names for part in parts):
        hint = f" Give the names as a list: [{', '.join(repr(part) for part in parts)}]."
    elif isinstance(name, (int, np.integer)) and not isinstance(name, bool) and 0 <= name < len(names):
        hint = (f" {role} is a column name, not a position; the column at position {int(name)} is "
                f"{shown_name(names[int(name)])}.")
    elif isinstance(frame.columns, pd.MultiIndex):
        hint += (" The columns have several levels (a MultiIndex): give the whole tuple, or flatten them first "
                 "(df.columns = ['_'.join(map(str, c)) for c in df.columns]).")
    elif not close:
        row = _row_naming(frame, text)
        if row is not None:
            # a title above the table (an Excel export's first rows): the header was read from the title
            hint = (f" Row {row} of the data holds {shown_name(text)} among its cells: the table's header seems to "
                    f"be below {row + 1} more line(s) of title; skip them (--skip-rows, read={{'skip_rows': ...}}, "
                    f"or pandas' skiprows=) or remove them.")
    shown = ", ".join(shown_name(c, 40) for c in names[:20]) + (" ..." if len(names) > 20 else "")
    raise ColumnNotFoundError(f"{role} column {shown_name(text)} is not in the data.{hint} The columns are: {shown}.")


def _row_naming(frame: pd.DataFrame, name: str) -> int | None:
    """The position of the first of the frame's first ten rows that holds ``name`` as one of its cells, else None."""
    for position in range(min(len(frame), 10)):
        if any(isinstance(value, str) and value.strip() == name for value in frame.iloc[position].tolist()):
            return position
    return None


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


#: Text that marks a missing value in files (pandas' read_csv reads these as NaN; a DataFrame built otherwise may not).
_MISSING_TOKENS = {"", "na", "n/a", "nan", "null", "none", "-", ".", "?", "missing", "#n/a"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
_NUMBER_IN_DISGUISE = re.compile(r"^[-+]?[$€£¥]?\s?[-+]?(\d{1,3}(,\d{3})+|\d+)?([.,]\d+)?\s?%?$")
_NANOSECONDS_PER_DAY = 86_400 * 10**9


def _temporal_values(series: pd.Series, name: str) -> tuple[np.ndarray, str] | None:
    """Dates, durations and periods as numbers, and a note saying in which unit (None for other columns).

    R's ``lm`` uses a Date as days since 1970-01-01 and a POSIXct as
    seconds; days keep the slope readable ("per day") for both, and a
    duration is used in days too. A Period is the number of periods since
    1970. Text that is entirely ISO 8601 dates ("2021-03-01", as a CSV
    holds them) is read as dates.
    """
    if isinstance(series.dtype, pd.PeriodDtype):
        values = np.where(series.isna(), np.nan, series.array.asi8.astype(float))
        return values, f"Column {shown_name(name)} holds periods; used as the number of {str(series.dtype).removeprefix('period[').removesuffix(']')} periods since 1970."
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(series.dt, "tz", None) is not None else series
        nanoseconds = stamps.astype("datetime64[ns]").to_numpy().astype("int64").astype(float)
        values = np.where(series.isna().to_numpy(), np.nan, nanoseconds / _NANOSECONDS_PER_DAY)
        return values, f"Column {shown_name(name)} holds dates; used as days since 1970-01-01 (as R's Date)."
    if pd.api.types.is_timedelta64_dtype(series):
        nanoseconds = series.astype("timedelta64[ns]").to_numpy().astype("int64").astype(float)
        values = np.where(series.isna().to_numpy(), np.nan, nanoseconds / _NANOSECONDS_PER_DAY)
        return values, f"Column {shown_name(name)} holds durations; used in days."
    if series.dtype == object or pd.api.types.is_string_dtype(series):
        # as objects: a categorical column of text is a string dtype too, and mapping its values gives a categorical
        texts = series.astype(object) if isinstance(series.dtype, pd.CategoricalDtype) else series
        present = texts.dropna()
        if present.empty or not present.map(lambda v: isinstance(v, str) and bool(_ISO_DATE.match(v.strip()))).all():
            return None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dates = pd.to_datetime(texts, format="ISO8601", utc=True)
        except (ValueError, TypeError, OverflowError):
            return None
        values, _ = _temporal_values(dates, name)
        return values, f"Column {shown_name(name)} holds dates written as text; used as days since 1970-01-01."
    return None


def _precision_note(series: pd.Series, values: np.ndarray, name: str) -> str | None:
    """A note when integers are beyond 2**53, where float64 (and R's double) no longer holds every integer."""
    if not (pd.api.types.is_integer_dtype(series) or series.dtype == object):
        return None
    finite = values[np.isfinite(values)]
    if finite.size and float(np.max(np.abs(finite))) > 2.0**53:
        return (f"Column {shown_name(name)} holds integers beyond 2**53 (up to {float(np.max(np.abs(finite))):.6g}); "
                "as floating point (as in R) they keep about 16 significant digits, so small differences between "
                "them are lost. Subtract a baseline (e.g. the minimum) before checking if they matter.")
    return None


def target_values(y: np.ndarray) -> tuple[float, ...] | None:
    """The target's distinct values, sorted, when it takes at most two (a 0/1 outcome); None otherwise.

    A continuous target is settled by its first rows (more than two values
    among them); otherwise three passes (min, max, membership).
    """
    if not y.size:
        return ()
    if np.unique(y[:64]).size > 2:
        return None
    low, high = float(y.min()), float(y.max())
    if not bool(np.all((y == low) | (y == high))):
        return None
    return (low,) if low == high else (low, high)


def merged_target_values(first: tuple[float, ...] | None, second: tuple[float, ...] | None) -> tuple[float, ...] | None:
    """:func:`target_values` of two sets of rows together, from each one's."""
    if first is None or second is None:
        return None
    union = tuple(sorted({*first, *second}))
    return union if len(union) <= 2 else None


def numeric_values(series: pd.Series, name: str, role: str) -> np.ndarray:
    """Float values of a numeric-like column (missing -> NaN), or a clear error."""
    check_cells(series, name, role)
    temporal = _temporal_values(series, name)
    if temporal is not None:
        return temporal[0]
    if pd.api.types.is_bool_dtype(series):
        return series.astype("float64").to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not isinstance(series.dtype, pd.CategoricalDtype):
        if pd.api.types.is_complex_dtype(series):
            raise NonNumericColumnError(f"{role} column {name!r} holds complex numbers; olscheck needs real numbers.")
        return series.to_numpy(dtype="float64", na_value=np.nan)
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)  # its values, not its categories (mapping a categorical gives a categorical)
    if series.map(lambda v: isinstance(v, (complex, np.complexfloating))).any():
        raise NonNumericColumnError(f"{role} column {name!r} holds complex numbers; olscheck needs real numbers.")
    converted = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & converted.isna()
    if bad.any():
        examples = list(dict.fromkeys(str(v) for v in series[bad].head(50)))[:3]
        first = series.index[bad.to_numpy()][0]
        raise NonNumericColumnError(
            f"{role} column {name!r} must be numeric but holds text such as "
            f"{', '.join(repr(e) for e in examples)} ({int(bad.sum())} value(s), first at row {plain_label(first)!r}); "
            + _text_hint(series[bad], role, series)
        )
    return converted.to_numpy(dtype="float64", na_value=np.nan)


#: What the label cell of a spreadsheet's totals row says (lower case).
_TOTAL_WORDS = frozenset({"total", "totals", "grand total", "sum", "subtotal", "summe", "gesamt", "totale", "totaal",
                          "total général", "total general"})


def _text_hint(bad: pd.Series, role: str, column: pd.Series | None = None) -> str:
    """What to do about the text cells of a numeric column, depending on what they look like."""
    if role == "target" and column is not None and len(bad) == int(column.notna().sum()):
        outcomes = sorted({str(v) for v in column.dropna().unique()[:3]})
        if len(outcomes) == 2:
            # a yes/no outcome: the question is a probability model, and 0/1 coding gives OLS's view of it
            return (f"it is an outcome with two values ({outcomes[0]!r}, {outcomes[1]!r}): code it 0/1 to check "
                    f"the linear probability model, e.g. df.assign(**{{{str(column.name)!r}: "
                    f"(df[{str(column.name)!r}] == {outcomes[1]!r}).astype(int)}}) (olscheck then also proposes "
                    "logistic regression).")
    if column is not None and len(bad) == 1 and str(bad.iloc[0]).strip().lower() in _TOTAL_WORDS \
            and bad.index[0] == column.index[-1]:
        return (f"it is the last row, and {str(bad.iloc[0]).strip()!r} marks a totals row (a spreadsheet's sum of "
                "the rows above), which is not an observation: remove it (df.iloc[:-1]) and check again.")
    texts = [str(v).strip() for v in bad.head(200)]
    if all(t.lower() in _MISSING_TOKENS for t in texts):
        return ("if they mark missing values, replace them with NaN first "
                "(df.replace(['', 'NA', 'n/a'], np.nan); read_csv does this itself).")
    if all(_NUMBER_IN_DISGUISE.match(t) for t in texts):
        return ("they look like numbers written with thousands separators, a decimal comma, a currency or a % "
                "sign, mixed with plain numbers in a way olscheck cannot read unambiguously; convert them first: "
                "for '51,877' meaning 51877, pd.to_numeric(s.str.replace(',', '')); for '3,5' meaning 3.5, "
                "pd.to_numeric(s.str.replace(',', '.')); or read the file with --thousands/--decimal "
                "(read={'thousands': ',', 'decimal': '.'}).")
    return "clean or convert it" + (", or list it in categorical= to treat it as categorical." if role == "predictor" else ".")


def is_categorical(series: pd.Series) -> bool:
    if isinstance(series.dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_datetime64_any_dtype(series) \
            or pd.api.types.is_timedelta64_dtype(series) or isinstance(series.dtype, pd.PeriodDtype):
        return False
    if _temporal_values(series, "") is not None:  # ISO dates written as text
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


def check_finite(values: np.ndarray, name: str, index: pd.Index, role: str) -> None:
    infinite = np.isinf(values)
    if infinite.any():
        first = index[np.flatnonzero(infinite)[0]]
        raise NonFiniteValueError(
            f"{role} column {name!r} holds {int(infinite.sum())} infinite value(s) (first at row {plain_label(first)!r}); "
            "replace them with a finite value or with NaN to drop those rows."
        )


def singleton_levels_note(name: str, singletons) -> str:
    """The note for levels seen in one row only (at most five named)."""
    return (f"Categorical {name!r}: level(s) {', '.join(map(level_label, singletons[:5]))} occur in one row only; "
            "that row fits its level exactly (leverage 1).")


def spelling_variants_note(name: str, levels: Sequence[Any]) -> str | None:
    """The note for text levels that differ only in letter case or spaces ('Yes', 'yes', 'YES '), else None.

    They stay separate levels, as in R's and patsy's factors (a level is
    its exact text): merging them is the analyst's call, so the note names
    them (at most five groups) and says how to unify them.
    """
    groups: dict[str, list[str]] = {}
    for level in levels:
        if isinstance(level, str):
            groups.setdefault(" ".join(level.split()).casefold(), []).append(level)
    variants = [group for group in groups.values() if len(group) > 1]
    if not variants:
        return None
    shown = "; ".join(" and ".join(repr(level) for level in group) for group in variants[:5])
    return (f"Categorical {name!r}: levels {shown} differ only in letter case or spaces, and each is a level of its "
            f"own (as in R); if they mean the same, unify them first (e.g. df[{name!r}].str.strip().str.lower()).")


def single_level_note(name: str, level: Any) -> str:
    """The note for a categorical with one level (or none) in the rows used, which is left out of the model."""
    shown = level_label(level) if level is not None else "none"
    return (f"Categorical {name!r} has a single level ({shown}) in the rows used; "
            "it carries no information and is left out of the model.")


def level_columns(name: str, levels: Sequence[Any], full: bool) -> list[tuple[Any, str]]:
    """The (level, column name) pairs a factor with these levels (two or more, sorted) is coded with.

    Treatment coding drops the first level (the reference) and names the
    others ``g[T.b]``; ``full`` keeps every level, named ``g[a]``, ``g[b]``
    (patsy's names for the first factor of a model without an intercept,
    which R's ``lm`` codes the same way). Shared by the in-memory and the
    streaming design.
    """
    if full:
        return [(level, f"{name}[{level_label(level)}]") for level in levels]
    return [(level, f"{name}[T.{level_label(level)}]") for level in levels[1:]]


def level_label(level: Any) -> str:
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
        return sorted(values, key=level_label)


def _order(frame: pd.DataFrame, order_key: Any) -> tuple[np.ndarray, str | None, str, list[str]]:
    """Positions of ``frame``'s rows in time order, and a sentence saying which order.

    Rows whose ``order_by`` value is missing are left out (they are counted
    as dropped by the caller). Ties keep the order of the data (stable sort).
    """
    notes: list[str] = []
    if order_key is not None:
        column = frame[order_key]
        check_cells(column, str(order_key), "order_by")
        if pd.api.types.is_complex_dtype(column) or (
                column.dtype == object and column.map(lambda v: isinstance(v, complex)).any()):
            raise DataError(
                f"order_by column {shown_name(order_key)} holds complex numbers, which have no order; "
                "give a numeric, date or text column."
            )
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
    groups: str | None = None,
    exclude: Sequence[str] | None = None,
    read: ReadOptions | Mapping[str, Any] | None = None,
) -> Design:
    """Build the :class:`Design` for ``data``, after screening its columns.

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
    groups : str, optional
        Column whose values say which rows share a group (a customer, a
        store, a school) for the grouped-errors test. Never a predictor;
        rows with a missing group are dropped and counted, and the labels
        follow the rows (``Design.groups``). At least two groups, and fewer
        groups than rows, are needed.
    exclude : sequence of str, optional
        Columns to leave out of the predictors olscheck chooses (a name or a
        list of names), without listing every other predictor.
    read : ReadOptions or mapping, optional
        How to read ``data`` when it is a file (:class:`olscheck.inputs.reading.ReadOptions`:
        ``sep``, ``decimal``, ``thousands``, ``na_values``, ``encoding``,
        ``sheet``); see :func:`read_table`.

    Returns
    -------
    Design
        ``design.columns`` holds one :class:`~olscheck.report.report.ColumnDecision`
        per input column (columns path; empty for a formula).

    Notes
    -----
    Without ``predictors=``, every column but the target, ``order_by`` and
    ``groups`` is screened (:mod:`olscheck.inputs.screening`): identifiers, free
    text, categoricals with too many levels for the rows, dates and empty
    columns are excluded; numbers written with a unit, currency, percent
    sign or thousands separators are converted; missing markers (``NA``,
    ``-``, ``?``, ``.``, ...) are missing values in every column; a single
    date column with a date in every row becomes the time order. With
    ``predictors=`` the listed columns are used as given (only the
    conversions apply).
    """
    from .statsmodels_results import design_from_results, is_statsmodels_results

    if is_statsmodels_results(data):  # a model the user already fitted with statsmodels
        if groups is not None:
            raise DataError(
                "groups= needs the data itself (a DataFrame or a file), not a fitted statsmodels model: pass the "
                "DataFrame with the formula, e.g. olscheck.check(df, formula=..., groups=...)."
            )
        if exclude is not None:
            raise DataError("exclude= chooses among the columns of data; a fitted statsmodels model already has its "
                            "predictors. Pass the DataFrame instead.")
        return design_from_results(data, target=target, predictors=predictors, categorical=categorical,
                                   formula=formula, intercept=intercept, order_by=order_by)
    options = read_options(read)
    frame = _as_frame(data, options)
    if not isinstance(intercept, (bool, np.bool_)):
        raise DataError(f"intercept must be True or False, not {intercept!r}.")
    _check_duplicate_columns(frame)
    if frame.shape[0] == 0:
        raise InsufficientDataError("the data has no rows.")
    if formula is not None:
        if predictors is not None or categorical:
            raise DataError("give either formula= or predictors=/categorical=, not both.")
        if exclude is not None:
            raise DataError("give either formula= or exclude=, not both: the formula names every predictor, so "
                            "leave the column out of the formula.")
        return _prepare_formula(frame, formula, target, intercept, order_by, groups, options)
    if target is None:
        raise DataError("name the target column (target='y') or give a formula ('y ~ x1 + x2').")
    return _prepare_columns(frame, target, predictors, categorical, intercept, order_by, groups, exclude, options)


def _group_key(frame: pd.DataFrame, groups: Any) -> Any:
    """The frame's label of the ``groups`` column (None without groups), with a clear error for a bad one."""
    if groups is None:
        return None
    if isinstance(groups, bool) or (isinstance(groups, str) and not groups.strip()):
        raise DataError(f"groups must name one column of the data (e.g. groups='store'), not {groups!r}.")
    key = column_key(frame, groups, "groups")
    check_cells(frame[key], str(key), "groups")
    return key


def _group_labels(labels: pd.Series, name: str) -> pd.Series:
    """The group of each row used, checked: at least two groups, and not one group per row.

    ``labels`` has no missing values (those rows were dropped) and is in
    analysis order, indexed by the rows' labels.
    """
    n = int(len(labels))
    codes, uniques = pd.factorize(labels, sort=False)
    count = int(len(uniques))
    if count < 2:
        shown = f" ({level_label(plain_label(uniques[0]))!r})" if count else ""
        raise DataError(
            f"groups column {name!r} has a single group{shown} in the {n} row(s) used; the grouped-errors test "
            "compares groups, so it needs at least two. Name a column that rows share in several groups (a customer, "
            "store or school id), or leave groups= out."
        )
    if count == n:
        raise DataError(
            f"groups column {name!r} has a different value in each of the {n} rows used, so no two rows share a "
            "group (it looks like a row identifier): name the column whose value rows share (a customer, store or "
            "school id), or leave groups= out."
        )
    return pd.Series(labels.to_numpy(), index=labels.index, name=name)


def no_predictors_left(decisions) -> str:
    """The message when the screening leaves no predictor (shared by the in-memory and streaming paths)."""
    left_out = [d for d in decisions if d.role == "excluded"]
    shown = "; ".join(f"{d.name!r}: {d.reason}" for d in left_out[:3]) + (" ..." if len(left_out) > 3 else "")
    return (f"the column screening left no predictor ({shown}). Name the predictors to use with predictors=[...] "
            "(--predictors a,b), or give a formula.")


def _excluded_keys(frame: pd.DataFrame, exclude: Any, target_key: Any, order_key: Any, group_key: Any) -> list:
    """The ``exclude=`` columns as the frame's labels, checked against the target, order and groups."""
    if exclude is None:
        return []
    keys = [column_key(frame, name, "exclude") for name in _name_list(exclude, "exclude")]
    for key, role in ((target_key, "target"), (order_key, "order_by"), (group_key, "groups")):
        if key is not None and key in keys:
            raise DataError(f"{str(key)!r} is the {role} column and also listed in exclude=; exclude= leaves out "
                            "predictors only: remove it there.")
    return keys


def _prepare_columns(frame, target, predictors, categorical, intercept, order_by, groups=None, exclude=None,
                     options: ReadOptions | None = None) -> Design:
    from .screening import screen

    options = options or ReadOptions()
    target_key = column_key(frame, target, "target")
    order_key = column_key(frame, order_by, "order_by") if order_by is not None else None
    group_key = _group_key(frame, groups)
    if group_key is not None and group_key == target_key:
        raise DataError(f"groups column {str(group_key)!r} is the target; name the column that says which rows "
                        "share a group.")
    exclude_keys = _excluded_keys(frame, exclude, target_key, order_key, group_key)
    early_notes: list[str] = []
    dropped: dict[Any, str] = {}
    if predictors is None:
        predictor_keys = [c for c in frame.columns
                          if c != target_key and c != order_key and c != group_key and c not in exclude_keys]
        for key in [k for k in predictor_keys if _is_saved_row_index(frame, k)]:
            # df.to_csv() without index=False writes the row numbers as a first, unnamed column
            predictor_keys.remove(key)
            dropped[key] = "a saved row index (0, 1, 2, ...); name it in predictors= to use it"
            early_notes.append(
                f"Column {shown_name(key)} looks like a saved row index (0, 1, 2, ...) and is not used as a predictor; "
                "name it in predictors= to use it."
            )
        for key in [k for k in predictor_keys if _is_unnamed(k) and frame[k].isna().all()]:
            # a delimiter at the end of every line, header included, gives an unnamed empty column
            predictor_keys.remove(key)
            dropped[key] = "an unnamed empty column (a delimiter at the end of each line?)"
            early_notes.append(f"Unnamed column {shown_name(key)} is empty (a delimiter at the end of each line?) and is left out.")
    else:
        predictors = _name_list(predictors, "predictors")
        predictor_keys = [column_key(frame, p, "predictor") for p in predictors]
        if target_key in predictor_keys:
            raise DataError(
                f"the target {str(target_key)!r} is also listed as a predictor; remove it from predictors."
            )
        repeated = sorted({str(p) for p in predictor_keys if predictor_keys.count(p) > 1})
        if repeated:
            raise DataError(f"predictor(s) {', '.join(map(repr, repeated))} are listed more than once.")
        if group_key is not None and group_key in predictor_keys:
            raise DataError(
                f"groups column {str(group_key)!r} is also listed as a predictor; the groups column is never a "
                "predictor (its effect is what the grouped-errors test looks for in the residuals): remove it "
                "from predictors."
            )
        both = [str(key) for key in predictor_keys if key in exclude_keys]
        if both:
            raise DataError(f"column(s) {', '.join(map(repr, both))} are listed both in predictors= and in exclude=; "
                            "keep one of the two.")
    categorical = _name_list(categorical, "categorical") if categorical is not None else None
    declared = [column_key(frame, c, "categorical") for c in (categorical or [])]
    for key in declared:
        if key not in predictor_keys:
            raise DataError(f"categorical column {str(key)!r} is not among the predictors; add it to predictors.")
    for key in [target_key, *predictor_keys, order_key, group_key]:
        if key is not None and isinstance(key, float) and np.isnan(key):
            key = None
        if key is None and any(c is None or (isinstance(c, float) and np.isnan(c)) for c in frame.columns):
            position = next(i for i, c in enumerate(frame.columns)
                            if c is None or (isinstance(c, float) and np.isnan(c)))
            raise DataError(
                f"the column at position {position} has no name ({frame.columns[position]!r}); name every column "
                "(df.columns = [...]) or leave it out with predictors=[...]."
            )

    screening = screen(frame, target=target_key, candidates=predictor_keys, explicit=predictors is not None,
                       declared=declared, order=order_key, group=group_key, exclude=exclude_keys, dropped=dropped,
                       time_index=isinstance(frame.index, pd.DatetimeIndex), decimal_hint=options.decimal,
                       extra_markers=options.na_values)
    if predictors is None and predictor_keys and not screening.predictors:
        raise DataError(no_predictors_left(screening.decisions))
    predictor_keys = list(screening.predictors)
    if screening.order is not None:
        order_key = screening.order

    used = [target_key, *predictor_keys] + ([order_key] if order_key is not None and order_key not in predictor_keys and order_key != target_key else [])
    if group_key is not None and group_key not in used:
        used.append(group_key)
    working = frame.loc[:, used]  # a new frame: the caller's stays untouched
    replacements: dict[Any, pd.Series] = {}
    for key in used:
        profile = screening.profiles.get(key)
        if profile is None:
            continue
        if key in declared:
            if profile.levels is not None:
                replacements[key] = profile.levels
            elif profile.markers:  # numbers as text named in categorical=: a marker is still a missing value
                replacements[key] = frame[key].where(~frame[key].isin(list(profile.markers)))
        elif profile.values is not None:
            replacements[key] = pd.Series(profile.values, index=frame.index, name=frame[key].name)
        elif profile.levels is not None:
            replacements[key] = profile.levels
        elif profile.dates is not None and (key == order_key or (
                not pd.api.types.is_datetime64_any_dtype(frame[key]) and profile.reason != "ISO 8601 dates")):
            replacements[key] = pd.Series(profile.dates.to_numpy(), index=frame.index, name=frame[key].name)
    if order_key is not None and order_key in replacements and screening.order is None \
            and not pd.api.types.is_datetime64_any_dtype(frame[order_key]):
        early_notes.append(f"order_by column {str(order_key)!r} holds text; its values were sorted as dates "
                           f"({screening.profiles[order_key].reason}).")
    if replacements:
        working = working.copy(deep=False)  # replaced columns are the copy's own; the caller's frame keeps its own
        for key, column in replacements.items():
            working[key] = column

    # Columns that are entirely missing would silently drop every row.
    missing_cells = {key: working[key].isna().to_numpy() for key in used}
    for key in used:
        if missing_cells[key].all():
            if key == group_key:
                raise DataError(f"groups column {str(key)!r} has no values (all missing); name a column with the "
                                "group of each row.")
            raise DataError(f"column {str(key)!r} has no values (all missing); drop it from the model.")

    target_values = numeric_values(working[target_key], str(target_key), "target")
    check_finite(target_values, str(target_key), working.index, "target")
    value_notes = [note for note in (_value_note(working[target_key], target_values, str(target_key)),) if note]

    kinds: dict[Any, str] = {}
    numeric: dict[Any, np.ndarray] = {}
    for key in predictor_keys:
        series = working[key]
        profile = screening.profiles.get(key)
        check_cells(series, str(key), "predictor")
        # an identifier or free text named in predictors= is used as the user says: text as a factor (up to
        # MAX_LEVELS), a numeric identifier as a number
        if key in declared or (profile.kind == "categorical" or (profile.kind in ("id", "text") and not
                                                                  pd.api.types.is_numeric_dtype(series))
                               if profile is not None else is_categorical(series)):
            kinds[key] = "categorical"
        else:
            kinds[key] = "numeric"
            numeric[key] = numeric_values(series, str(key), "predictor")
            check_finite(numeric[key], str(key), working.index, "predictor")
            note = _value_note(series, numeric[key], str(key))
            if note:
                value_notes.append(note)

    # listwise deletion over the used columns, counted per column: a float64 column's missing cells are its NaN
    # already; for a converted column (integers, dates, numbers as text) a NaN of the conversion counts as well
    missing = dict(missing_cells)
    for key, values in ((target_key, target_values), *numeric.items()):
        if working[key].dtype != np.float64:
            missing[key] = missing[key] | np.isnan(values)
    missing_counts = {key: int(np.count_nonzero(cells)) for key, cells in missing.items()}
    with_missing = [missing[key] for key, count in missing_counts.items() if count]
    incomplete = np.logical_or.reduce(with_missing) if with_missing else np.zeros(len(working), dtype=bool)
    counts = pd.Series({str(key): count for key, count in missing_counts.items()}, dtype=int)
    n_rows = int(len(working))
    n_dropped = int(incomplete.sum())
    notes: list[str] = [*early_notes, *value_notes]
    if n_dropped:
        dropped_counts = counts[counts > 0].sort_values(ascending=False)
        detail = ", ".join(f"{name} {int(c)}" for name, c in dropped_counts.items())
        notes.append(f"Dropped {n_dropped} of {n_rows} rows with missing values (missing per column: {detail}).")
    if n_dropped == n_rows:
        raise InsufficientDataError(
            "no rows are left after dropping rows with missing values; the columns with most missing "
            f"values are {', '.join(map(repr, counts.sort_values(ascending=False).index[:3]))}."
        )
    order, order_name, order_note, order_notes = _order(working, order_key)
    notes.extend(order_notes)
    positions = order[~incomplete[order]]  # complete rows, in analysis order
    if positions.size == n_rows and np.array_equal(positions, np.arange(n_rows)):
        # every row, in the given order: no n x p copies of the columns
        complete, y = working, target_values
    else:
        complete = working.iloc[positions]
        y = target_values[positions]
        numeric = {k: v[positions] for k, v in numeric.items()}
    if y.size < 2:
        raise InsufficientDataError(
            f"only {y.size} usable row; a regression needs at least two rows (and many more for the diagnostics "
            "to mean anything)." + (f" {n_dropped} row(s) were dropped for missing values." if n_dropped else "")
        )
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
    # Without an intercept nothing spans the constant, so the first factor (with two levels or more) is coded with
    # one column per level, named g[a], g[b], ... as patsy names them; later factors keep treatment coding (R's
    # lm(y ~ x + g + h - 1) and patsy's "y ~ x + g + h - 1" fit the same model).
    full_coding = not intercept
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
            notes.append(single_level_note(name, levels[0] if levels else None))
            terms.append(Term(name, (), True))
            continue
        dropped_levels = []
        if isinstance(frame[key].dtype, pd.CategoricalDtype):
            dropped_levels = [c for c in series.cat.categories if c not in set(levels)]
        if dropped_levels:
            notes.append(
                f"Categorical {name!r}: level(s) {', '.join(map(level_label, dropped_levels))} do not occur in the rows used and get no column."
            )
        # one hash pass gives every cell the position of its level; each dummy is then a comparison of integers
        codes, position = level_codes(series, levels)
        counts = np.bincount(codes[codes >= 0], minlength=len(levels))
        start = len(columns)
        for level, column_name in level_columns(name, levels, full_coding):
            columns.append((codes == position[level]).astype(float))
            names.append(column_name)
        full_coding = False
        singletons = [level for level in levels if counts[position[level]] == 1]
        if singletons:
            notes.append(singleton_levels_note(name, singletons))
        variants = spelling_variants_note(name, levels)
        if variants:
            notes.append(variants)
        terms.append(Term(name, tuple(range(start, len(columns))), True))

    _check_unique_terms(names)
    x = _stack_columns(columns, y.size)
    check_enough_rows(x.shape[0], x.shape[1], terms)
    group_labels = _group_labels(complete[group_key], str(group_key)) if group_key is not None else None
    return Design.for_target(
        y,
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
        groups=group_labels,
        columns=screening.decisions,
    )


def _stack_columns(columns: Sequence[np.ndarray], n: int) -> np.ndarray:
    """``np.column_stack(columns)`` (the same values), column-major.

    Column-major because every consumer works a column at a time: the fit's
    centring and scaling (:meth:`olscheck.model.design.Design.fitting_basis`)
    copies the matrix into LAPACK's column order, which from a row-major
    matrix is a transposition (0.18 s at 10⁶ x 21, against 0.03 s for
    the plain copy from column-major), and writing each column here is one
    contiguous copy. BLAS reads either order without a copy.
    """
    x = np.empty((n, len(columns)), order="F")
    for j, column in enumerate(columns):
        x[:, j] = column
    return x


def level_codes(series: pd.Series, levels: Sequence[Any]) -> tuple[np.ndarray, dict[Any, int]]:
    """Each cell's position in ``levels`` (-1 for a missing cell or another value), and the position of each level.

    Vectorised through a pandas Categorical (one hash pass), never a
    comparison per cell and level. Shared by the in-memory and the
    streaming design.
    """
    categories = pd.Index(list(levels), dtype=object)
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = categories.get_indexer(series.cat.categories)[series.cat.codes.to_numpy()]
        codes = np.where(series.cat.codes.to_numpy() >= 0, codes, -1)
    else:
        codes = pd.Categorical(series, categories=categories).codes
    return np.asarray(codes, dtype=np.int64), {level: i for i, level in enumerate(levels)}


def _value_note(series: pd.Series, values: np.ndarray, name: str) -> str | None:
    """A note on how a column's values were read (dates as days, integers beyond 2**53)."""
    temporal = _temporal_values(series, name)
    return temporal[1] if temporal is not None else _precision_note(series, values, name)


def _is_unnamed(key: Any) -> bool:
    """pandas' label for a column whose header cell is empty."""
    return isinstance(key, str) and re.fullmatch(r"Unnamed: \d+", key) is not None


def _is_saved_row_index(frame: pd.DataFrame, key: Any) -> bool:
    """True for pandas' "Unnamed: 0" column holding 0, 1, 2, ... (or 1, 2, 3, ...): a row index saved to CSV."""
    if not _is_unnamed(key):
        return False
    column = frame[key]
    if not pd.api.types.is_integer_dtype(column) or column.isna().any():
        return False
    values = column.to_numpy()
    return bool(values.size) and bool(np.array_equal(values - values[0], np.arange(values.size))) \
        and int(values[0]) in (0, 1)


# --------------------------------------------------------------------------- formula
#: ``I(x ** k)`` and ``np.power(x, k)``: formula terms that are a power of a column
#: (fitted in a polynomial basis of the column; also read from statsmodels results)


#: What a formula term may call: patsy's own functions and numpy's maths.
#: patsy evaluates each term as Python, so anything else (``__import__``,
#: ``open``, attribute walks to ``__class__``) is refused before it runs.
_FORMULA_FUNCTIONS = frozenset({
    "C", "I", "Q", "center", "standardize", "scale", "bs", "cr", "cc", "te",
    "Treatment", "Sum", "Poly", "Helmert", "Diff",
})
_NUMPY_FUNCTIONS = frozenset({
    "log", "log1p", "log2", "log10", "exp", "expm1", "sqrt", "cbrt", "square", "abs", "absolute", "power",
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh", "arcsinh", "arctanh",
    "floor", "ceil", "round", "rint", "trunc", "clip", "sign", "maximum", "minimum", "where", "reciprocal",
    "pi", "e", "inf", "nan", "isnan", "isfinite", "logical_and", "logical_or", "logical_not", "mean", "std",
})


def _check_formula_terms(formula: str) -> None:
    """Refuse formula terms that are code rather than column arithmetic.

    Each term of a patsy formula is a Python expression that patsy
    evaluates. Allowed: column names, numbers and strings, arithmetic and
    comparisons, calls of patsy's functions (``C``, ``I``, ``Q``,
    ``center``, contrasts...) and of ``np.``/``numpy.`` maths functions
    (``np.log``...). Anything else, in particular a name or attribute
    starting with ``_``, raises :class:`FormulaError` before patsy runs it.
    """
    import ast

    try:
        from patsy import PatsyError
        from patsy.parse_formula import parse_formula
    except ImportError:  # pragma: no cover - patsy comes with statsmodels
        return
    try:
        tree = parse_formula(formula)
    except PatsyError:
        return  # a syntax error: patsy's own message says where
    leaves, stack = [], [tree]
    while stack:
        node = stack.pop()
        if node.type == "PYTHON_EXPR":
            leaves.append(node.token.extra)
        stack.extend(node.args)
    allowed_nodes = (ast.Expression, ast.Name, ast.Load, ast.Constant, ast.BinOp, ast.UnaryOp, ast.Compare,
                     ast.BoolOp, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Call, ast.keyword,
                     ast.Attribute, ast.Tuple, ast.List)
    for code in leaves:
        try:
            parsed = ast.parse(code.strip(), mode="eval")
        except SyntaxError:
            continue  # patsy reports it
        for node in ast.walk(parsed):
            refusal = None
            if not isinstance(node, allowed_nodes):
                refusal = f"{type(node).__name__.lower()} expressions are not formula terms"
            elif isinstance(node, ast.Name) and node.id.startswith("_"):
                refusal = f"the name {node.id!r} is not a column"
            elif isinstance(node, ast.Attribute) and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("np", "numpy")
                    and node.attr in _NUMPY_FUNCTIONS):
                refusal = f"only numpy maths functions (np.log, np.sqrt, ...) may be used, not {ast.unparse(node)!r}"
            elif isinstance(node, ast.Call) and not (
                    (isinstance(node.func, ast.Name) and node.func.id in _FORMULA_FUNCTIONS)
                    or isinstance(node.func, ast.Attribute)):
                name = ast.unparse(node.func)
                refusal = (f"{name!r} is not a formula function (did you mean np.{name}?)"
                           if name in _NUMPY_FUNCTIONS else f"{name!r} is not a formula function")
            if refusal:
                raise FormulaError(
                    f"formula term {code.strip()!r} is refused: {refusal}. Terms may use columns, numbers, "
                    "arithmetic, patsy's C(), I(), Q(), center(), standardize() and np. maths functions."
                )


def _formula_conversions(frame: pd.DataFrame, formula: str, order_key: Any, group_key: Any,
                         options: ReadOptions | None) -> tuple[pd.DataFrame, tuple]:
    """The conversions of the screening for the columns a formula uses, and a decision for every column.

    A formula names its predictors, so nothing is left out: as with
    ``predictors=``, only the conversions apply. Text that is numbers (with
    missing markers, a unit, a currency or separators) becomes numbers, and
    missing markers in a text column become missing values, so patsy sees
    numbers where the data means numbers and drops the rows it should drop.
    Returns a new frame (the caller's is not modified) and the decisions.
    """
    from .screening import screen

    options = options or ReadOptions()
    names = {str(c): c for c in frame.columns}
    left, _, right = formula.partition("~")
    used = [names[v] for v in _variables(formula, frame) if v in names]
    outcome = [names[v] for v in _variables(left, frame) if v in names]
    target_key = outcome[0] if len(outcome) == 1 else None
    candidates = [key for key in used if key != target_key and key != group_key]
    screening = screen(frame, target=target_key, candidates=candidates, explicit=True,
                       order=order_key, group=group_key, decimal_hint=options.decimal,
                       extra_markers=options.na_values, unlisted="not used in the formula")
    replacements = {}
    for key in [k for k in used if k in screening.profiles]:
        profile = screening.profiles[key]
        if profile.values is not None and (profile.markers or not pd.api.types.is_numeric_dtype(frame[key])):
            replacements[key] = pd.Series(profile.values, index=frame.index, name=frame[key].name)
        elif profile.levels is not None and profile.markers:
            replacements[key] = profile.levels
    if replacements:
        frame = frame.copy(deep=False)  # the replaced columns are the copy's own
        for key, column in replacements.items():
            frame[key] = column
    return frame, screening.decisions


def _prepare_formula(frame, formula, target, intercept, order_by, groups=None,
                     options: ReadOptions | None = None) -> Design:
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"formula {formula!r} must have the form 'y ~ x1 + x2'.")
    try:
        import patsy
    except ImportError as error:  # pragma: no cover - patsy comes with statsmodels
        raise FormulaError("formulas need the patsy package: pip install patsy") from error

    _check_formula_terms(formula)
    if not intercept:
        formula = f"{formula} - 1"
    order_key = column_key(frame, order_by, "order_by") if order_by is not None else None
    group_key = _group_key(frame, groups)
    frame, decisions = _formula_conversions(frame, formula, order_key, group_key, options)
    order, order_name, order_note, notes = _order(frame, order_key)
    ordered = frame.iloc[order]
    if group_key is not None:
        ordered = ordered[ordered[group_key].notna().to_numpy()]  # rows without a group are dropped, as R's na.omit
    n_rows = int(len(frame))
    namespace = {"np": np, "numpy": np, "pd": pd}
    try:
        # log(0), log of a negative value: the non-finite results are found and
        # reported (or dropped like R) below, so numpy's warnings would only repeat it
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
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
            if not hint and hasattr(np, name):
                hint = f" Did you mean np.{name}?"
            raise FormulaError(f"formula {formula!r} names {name!r}, which is not a column of the data.{hint}") from None
        raise FormulaError(f"cannot use formula {formula!r}: {message}.{_formula_hint(formula)}") from None
    except Exception as error:  # errors raised while evaluating user expressions
        raise FormulaError(
            f"cannot evaluate formula {formula!r}: {type(error).__name__}: {error}.{_formula_hint(formula)}"
        ) from None
    outcome_code = outcome.design_info.terms[0].factors[0].code if outcome.design_info.terms else None
    if outcome.shape[1] != 1:
        if outcome_code in frame.columns:
            # a text column on the left: the column-wise check names its bad values
            numeric_values(frame[outcome_code], outcome_code, "target")
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
    if group_key is not None:
        if str(group_key) == target_name:
            raise DataError(f"groups column {str(group_key)!r} is the target; name the column that says which rows "
                            "share a group.")
        n_missing_group = int(frame[group_key].isna().sum())
        if n_missing_group:
            notes.append(f"Dropped {n_missing_group} row(s) with a missing {str(group_key)!r} (groups).")
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
    check_finite(y, target_name, row_index, "target")
    for j, name in enumerate(names):
        check_finite(x[:, j], name, row_index, "formula column")
    if y.size < 2:
        raise InsufficientDataError(
            f"only {y.size} usable row; a regression needs at least two rows (and many more for the diagnostics "
            "to mean anything)."
        )
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
        categorical_term = any(info.factor_infos[f].type == "categorical" for f in term_object.factors)
        columns = tuple(range(span.start, span.stop))
        terms.append(Term(term, columns, categorical_term))
        if categorical_term:
            categorical.append(term)
        for factor in term_object.factors:
            for variable in _variables(factor.code, frame):
                if variable not in predictors:
                    predictors.append(variable)
        if len(term_object.factors) == 1 and len(columns) == 1 and not categorical_term:
            code = term_object.factors[0].code
            match = POWER_TERM.match(code) or NUMPY_POWER_TERM.match(code)
            if match and match.group(1) in [str(c) for c in frame.columns]:
                powers.setdefault(match.group(1), {})[int(match.group(2))] = columns[0]
            elif code in [str(c) for c in frame.columns]:
                powers.setdefault(code, {})[1] = columns[0]
    polynomials = []
    for base_name, by_power in powers.items():
        if len(by_power) >= 2 and 1 in by_power:
            base = x[:, by_power[1]]
            polynomials.append(PolynomialGroup(base_name, base.copy(), tuple(by_power), tuple(by_power.values())))
    check_enough_rows(x.shape[0], x.shape[1], terms)
    group_labels = None
    if group_key is not None:
        if str(group_key) in predictors:
            raise FormulaError(
                f"formula {formula!r} uses the groups column {str(group_key)!r}; the groups column is never a "
                "predictor (its effect is what the grouped-errors test looks for in the residuals): remove it "
                "from the formula."
            )
        labels = ordered[group_key].iloc[kept_positions]
        group_labels = _group_labels(pd.Series(labels.to_numpy(), index=row_index), str(group_key))
    return Design.for_target(
        y,
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
        groups=group_labels,
        columns=decisions,
    )


def _formula_hint(formula: str) -> str:
    """R formula habits patsy does not share."""
    if "`" in formula:
        return " patsy quotes a column name with Q('name with spaces'), not R's backticks."
    if re.search(r"~\s*\.(\s|$|\+|-)", formula):
        return (" patsy has no '.' for all other columns: list them, or give target= without a formula "
                "(every other column is then a predictor).")
    return ""


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
