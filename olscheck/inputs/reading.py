"""How a data file is read: one frozen :class:`ReadOptions`, and the sniffing of what it leaves open.

:func:`olscheck.inputs.prepare.read_table`, :func:`olscheck.inputs.prepare.prepare`, the
streaming sources (:mod:`olscheck.engine.sources`) and the command line
(``--sep``, ``--decimal``, ``--thousands``, ``--na-values``,
``--encoding``, ``--sheet``) all take the same options. A field left at
None is decided from the file: the delimiter and a decimal comma are
sniffed from its first lines (:func:`sniff`).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, InputFileError

__all__ = ["ReadOptions", "data_file", "read_options", "sniff", "SNIFF_BYTES", "DELIMITERS"]

#: Bytes of a text file read to sniff its delimiter and decimal mark.
SNIFF_BYTES = 1 << 16
#: Delimiters the sniffer chooses among, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")
#: Names a delimiter can be given by on the command line, where a tab is awkward to type.
_DELIMITER_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "space": " "}


@dataclass(frozen=True)
class ReadOptions:
    """How to read a text or Excel file; None leaves a setting to the file.

    Parameters
    ----------
    sep : str, optional
        Field delimiter. None: sniffed from the first lines among
        :data:`DELIMITERS` (a ``.tsv`` file: a tab). ``"tab"`` and ``"\\t"``
        name a tab.
    decimal : str, optional
        Decimal mark, ``"."`` or ``","``. None: ``","`` when the file is not
        comma-separated and its numbers are written ``3,5`` (never ``3.5``),
        else ``"."``.
    thousands : str, optional
        Thousands separator to strip from numbers (``","``, ``"."``, ``" "``,
        ``"'"``); must differ from the decimal mark. None: none in the
        reader (the column screening still reads ``51,877`` as 51877).
    na_values : tuple of str
        Extra cell texts that mean "missing", besides pandas' own (``NA``,
        ``n/a``, ``null``, empty...) and the screening's (``-``, ``?``, ``.``).
    encoding : str, optional
        Text encoding (``"cp1252"``, ``"latin-1"``, ``"utf-16"``...). None:
        UTF-8, with or without a byte-order mark.
    sheet : str or int, optional
        Excel sheet, by name or 0-based position. None: the first sheet.
    skip_rows : int
        Lines (rows of a sheet) above the header to skip: a title, an
        export date, blank lines, as spreadsheet exports put above a table
        (pandas' ``skiprows``). Default 0.
    """

    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None
    na_values: tuple[str, ...] = ()
    encoding: str | None = None
    sheet: str | int | None = None
    skip_rows: int = 0

    def __post_init__(self) -> None:
        # normalise here, once, so every reader sees the same values (frozen: through object.__setattr__)
        sep = self.sep
        if sep is not None:
            if not isinstance(sep, str) or sep == "":
                raise ConfigurationError(f"sep must be a delimiter such as ',', ';' or 'tab', not {sep!r}.")
            sep = _DELIMITER_NAMES.get(sep.lower(), sep)
            if sep in ("\n", "\r", '"'):
                raise ConfigurationError(f"sep {sep!r} cannot separate fields; use ',', ';', 'tab' or '|'.")
        for name in ("decimal", "thousands"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) != 1 or value.isalnum()):
                raise ConfigurationError(
                    f"{name} must be one character such as ',' or '.', not {value!r}.")
        if self.decimal is not None and self.decimal == self.thousands:
            raise ConfigurationError(
                f"decimal and thousands are both {self.decimal!r}; a number like 1.234,5 has decimal=',' and "
                "thousands='.'.")
        if sep is not None and self.decimal is not None and sep == self.decimal:
            raise ConfigurationError(
                f"sep and decimal are both {sep!r}; with a decimal comma the fields are usually separated by ';' "
                "(sep=';', decimal=',').")
        na_values = self.na_values
        if na_values is None:
            na_values = ()
        elif isinstance(na_values, str):
            na_values = tuple(part.strip() for part in na_values.split(",")) if "," in na_values else (na_values,)
        else:
            try:
                na_values = tuple(na_values)
            except TypeError:
                raise ConfigurationError(f"na_values must be a list of texts, not {na_values!r}.") from None
            if not all(isinstance(value, str) for value in na_values):
                raise ConfigurationError(f"na_values must be texts (as written in the file), not {na_values!r}.")
        if self.encoding is not None:
            if not isinstance(self.encoding, str):
                raise ConfigurationError(f"encoding must be a name such as 'utf-8' or 'cp1252', not {self.encoding!r}.")
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigurationError(
                    f"unknown encoding {self.encoding!r}; use a name such as 'utf-8', 'cp1252', 'latin-1' or "
                    "'utf-16'.") from None
        sheet = self.sheet
        if isinstance(sheet, str) and sheet.strip().isdigit():
            sheet = int(sheet.strip())  # "--sheet 2" from the command line is the position 2
        if sheet is not None and (isinstance(sheet, bool) or not isinstance(sheet, (str, int))
                                  or (isinstance(sheet, int) and sheet < 0)):
            raise ConfigurationError(f"sheet must be a sheet name or a 0-based position, not {sheet!r}.")
        skip_rows = self.skip_rows
        if isinstance(skip_rows, str) and skip_rows.strip().isdigit():
            skip_rows = int(skip_rows.strip())  # "--skip-rows 2" from the command line
        if isinstance(skip_rows, bool) or not isinstance(skip_rows, int) or skip_rows < 0:
            raise ConfigurationError(f"skip_rows must be a number of lines (0, 1, 2, ...), not {self.skip_rows!r}.")
        object.__setattr__(self, "sep", sep)
        object.__setattr__(self, "na_values", na_values)
        object.__setattr__(self, "sheet", sheet)
        object.__setattr__(self, "skip_rows", int(skip_rows))

    def describe(self) -> str:
        """The options that were set, as ``sep=';', decimal=','`` (empty when none was)."""
        default = ReadOptions()
        return ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self)
                         if getattr(self, f.name) != getattr(default, f.name))


def read_options(read: Any) -> ReadOptions:
    """``read=`` as a :class:`ReadOptions`: None, a ReadOptions, or a mapping of its fields.

    Raises :class:`ConfigurationError` for an unknown key or a bad value.
    """
    if read is None:
        return ReadOptions()
    if isinstance(read, ReadOptions):
        return read
    if isinstance(read, Mapping):
        known = [f.name for f in fields(ReadOptions)]
        unknown = [str(key) for key in read if key not in known]
        if unknown:
            raise ConfigurationError(
                f"unknown read option(s) {', '.join(map(repr, unknown))}; the options are {', '.join(known)}.")
        return ReadOptions(**dict(read))
    raise ConfigurationError(
        f"read must be a ReadOptions or a mapping such as {{'sep': ';', 'decimal': ','}}, not {type(read).__name__}.")


_QUOTED = re.compile(r'"[^"]*"')
_DECIMAL_COMMA = re.compile(r"^\s*[-+]?\d+,\d+\s*$")
_DECIMAL_POINT = re.compile(r"^\s*[-+]?\d+\.\d+\s*$")


def sniff(sample: str, options: ReadOptions, default_sep: str = ",") -> tuple[str, str]:
    """The delimiter and decimal mark of a text file from its first lines.

    ``sample`` is the start of the file (:data:`SNIFF_BYTES`, decoded); a
    setting given in ``options`` is kept. The delimiter is the candidate of
    :data:`DELIMITERS` found in the header that splits the most lines into
    as many fields as the header (quoted text ignored); ``default_sep`` when
    none is found. The decimal mark is ``","`` when the delimiter is not a
    comma and some field is written ``3,5`` while none is written ``3.5``.
    Works on a few dozen lines, never on the whole file.
    """
    lines = [line for line in sample.splitlines() if line.strip()]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut in the middle
    lines = [_QUOTED.sub("", line) for line in lines[:50]]
    sep = options.sep
    if sep is None:
        sep = default_sep
        best = 0
        for candidate in DELIMITERS:
            fields_in_header = lines[0].count(candidate) if lines else 0
            if fields_in_header == 0:
                continue
            agree = sum(line.count(candidate) == fields_in_header for line in lines)
            if agree > best:  # a tie keeps the earlier candidate (the comma first)
                sep, best = candidate, agree
    decimal = options.decimal
    if decimal is None:
        decimal = "."
        if sep != ",":
            cells = [cell for line in lines[1:] for cell in line.split(sep)]
            if any(_DECIMAL_COMMA.match(cell) for cell in cells) and not any(_DECIMAL_POINT.match(cell)
                                                                            for cell in cells):
                decimal = ","
    return sep, decimal


def data_file(path) -> Path:
    """``path`` as an existing data file's Path (``~`` expanded), or :class:`InputFileError` saying what is wrong.

    The one place the path of a data file is checked, for the in-memory
    reader, the streaming engine and the command line (which checks it
    before importing the battery, so a mistyped path fails at once).
    """
    import os

    text = os.fsdecode(path)
    if not text.strip():
        raise InputFileError("the data file path is empty; give the path of a CSV, TSV or Parquet file.")
    if "\0" in text:
        raise InputFileError(f"the data file path {text!r} holds a null byte; no file can have that name.")
    try:
        resolved = Path(text).expanduser()  # "~/data.csv" as a shell would read it
        exists = resolved.exists()
    except (ValueError, OSError) as error:  # a name too long for the file system
        raise InputFileError(f"cannot use {text!r} as a file path: {error}.") from None
    if not exists:
        raise InputFileError(f"data file '{resolved}' does not exist; check the path.")
    if resolved.is_dir():
        raise InputFileError(f"'{resolved}' is a directory; give the path of a CSV, TSV or Parquet file.")
    return resolved
