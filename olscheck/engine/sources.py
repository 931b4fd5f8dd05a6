"""Where the rows come from: chunks of a Parquet or CSV file, a DataFrame, or Dask partitions.

Every source yields pandas DataFrames holding only the requested columns,
in row order, with index labels that continue across chunks (the row
number in the file for Parquet and CSV, the DataFrame's own labels
otherwise). Nothing here holds more than one chunk in memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, InputFileError
from ..inputs.reading import ReadOptions, data_file, read_options

__all__ = ["is_dask", "file_kind", "iterate_chunks", "first_chunk", "source_columns", "TextFile",
           "with_read_options"]


class TextFile(os.PathLike):
    """A CSV/TSV file with the :class:`~olscheck.inputs.reading.ReadOptions` to read every chunk by.

    A path everywhere a path is expected (``os.fspath``, ``str``, messages);
    the chunked reader takes its delimiter, decimal mark, thousands
    separator, missing markers and encoding from ``read``, with the
    delimiter and decimal mark sniffed once when not given (as
    :func:`olscheck.inputs.prepare.read_table` does).
    """

    def __init__(self, path: str | os.PathLike, read: ReadOptions):
        self.path = Path(os.fspath(path)).expanduser()
        self.read = read
        self._format: tuple[str, str] | None = None

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"TextFile({str(self.path)!r}, {self.read!r})"

    def text_format(self, default_sep: str) -> tuple[str, str]:
        """The delimiter and decimal mark, sniffed from the first bytes once."""
        if self._format is None:
            from ..inputs.prepare import _COMPRESSION_SUFFIXES, text_format

            suffix = self.path.suffix.lower()
            self._format = text_format(self.path, self.read, default_sep, _COMPRESSION_SUFFIXES.get(suffix))
        return self._format


def with_read_options(source: Any, read: Any = None) -> Any:
    """``source`` with the read options attached when it is a CSV/TSV path (a :class:`TextFile`); else unchanged.

    ``read`` is a :class:`~olscheck.inputs.reading.ReadOptions`, a mapping of its
    fields, or None. A DataFrame, a Dask frame and a Parquet file are
    returned as they are (the options concern text).
    """
    options = read_options(read)
    if isinstance(source, TextFile) or isinstance(source, pd.DataFrame) or is_dask(source):
        return source
    if isinstance(source, (str, os.PathLike)) and file_kind(source) in ("csv", "tsv"):
        return TextFile(source, options)
    return source


def _text_keywords(source: Any, kind: str) -> dict[str, Any]:
    """``pandas.read_csv`` keywords for a text source: delimiter, decimal mark and the other read options."""
    default_sep = "\t" if kind == "tsv" else ","
    if not isinstance(source, TextFile):
        return {"sep": default_sep}
    from ..inputs.prepare import _reader_options

    sep, decimal = source.text_format(default_sep)
    return {"sep": sep, **_reader_options(source.read, decimal)}

_KINDS = {".csv": "csv", ".txt": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def is_dask(source: Any) -> bool:
    """True for a dask DataFrame (checked without importing dask)."""
    module = type(source).__module__ or ""
    return module.startswith("dask") and hasattr(source, "npartitions")


def file_kind(path: str | os.PathLike) -> str:
    """``"parquet"``, ``"csv"`` or ``"tsv"`` from the file's suffix (as :func:`olscheck.inputs.prepare.read_table`)."""
    path = data_file(path)
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in {".gz", ".bz2", ".zip", ".xz"}
    suffix = suffixes[-2] if compressed and len(suffixes) >= 2 else (suffixes[-1] if suffixes else "")
    kind = _KINDS.get(suffix)
    if kind is None:
        raise InputFileError(
            f"cannot tell the format of '{path}' from its suffix '{suffix or '(none)'}'; "
            "olscheck streams .csv, .tsv and .parquet files."
        )
    if path.stat().st_size == 0:
        raise InputFileError(f"data file '{path}' is empty.")
    return kind


#: Rows read to compare their width with the header's before streaming a text file.
HEADER_CHECK_ROWS = 10_000


def source_columns(source: Any) -> list[str]:
    """Column names of the source, without reading its rows."""
    if isinstance(source, pd.DataFrame) or is_dask(source):
        return [str(c) for c in source.columns]
    kind = file_kind(source)
    if kind == "parquet":
        import pyarrow.parquet as pq

        return list(pq.ParquetFile(source).schema_arrow.names)
    keywords = _text_keywords(source, kind)
    frame = pd.read_csv(source, nrows=0, **keywords)
    from ..inputs.prepare import check_header

    # the in-memory reader's checks; rows wider than the header would make
    # pandas' chunked reader shift the columns (the first becomes the index)
    check_header(Path(source), keywords["sep"], "infer", frame.columns, rows=HEADER_CHECK_ROWS,
                 encoding=keywords.get("encoding"), skip_rows=keywords.get("skiprows", 0))
    return [str(c) for c in frame.columns]


def iterate_chunks(source: Any, columns: Sequence[str], chunk_rows: int,
                   dtypes: dict[str, Any] | None = None) -> Iterator[pd.DataFrame]:
    """Chunks of at most ``chunk_rows`` rows of ``columns``, in row order.

    Parquet is read batch by batch with pyarrow (only the requested
    columns); CSV with ``pandas.read_csv(chunksize=...)``; a DataFrame is
    sliced; a dask DataFrame is computed one partition at a time (each
    partition then sliced). ``dtypes`` forces CSV column types (used for
    text columns so every chunk parses them alike). A :class:`TextFile`
    (:func:`with_read_options`) is read with its options.
    """
    columns = list(columns)
    if isinstance(source, pd.DataFrame):
        frame = source.loc[:, columns]
        for start in range(0, len(frame), chunk_rows):
            yield frame.iloc[start:start + chunk_rows]
        return
    if is_dask(source):
        for index in range(source.npartitions):
            part = source.get_partition(index)[columns].compute()
            for start in range(0, len(part), chunk_rows):
                yield part.iloc[start:start + chunk_rows]
        return
    kind = file_kind(source)
    if kind == "parquet":
        import pyarrow.parquet as pq

        # pre_buffer=False: with pyarrow's default read-ahead, iter_batches keeps the buffers of every row group
        # read so far (RSS grows with the file: 0.8 GB after 200 row groups of 3 columns); without it RSS is flat
        handle = pq.ParquetFile(source, pre_buffer=False)
        offset = 0
        for batch in handle.iter_batches(batch_size=chunk_rows, columns=columns):
            # one block per column: numeric columns without nulls become views of the batch, not one copy
            # consolidated into a 2-D block that the layout then copies again column by column
            frame = batch.to_pandas(split_blocks=True)
            frame.index = pd.RangeIndex(offset, offset + len(frame))
            offset += len(frame)
            yield frame
        return
    try:
        reader = pd.read_csv(source, usecols=columns, chunksize=chunk_rows, low_memory=False, dtype=dtypes or None,
                             **_text_keywords(source, kind))
        with reader:
            yield from reader
    except ValueError as error:
        raise DataError(f"cannot read '{source}' in chunks: {error}") from None


def first_chunk(source: Any, columns: Sequence[str], chunk_rows: int) -> pd.DataFrame:
    """The first non-empty chunk (an empty frame when the source has no rows)."""
    last = None
    for chunk in iterate_chunks(source, columns, chunk_rows):
        last = chunk
        if len(chunk):
            return chunk
    return last if last is not None else pd.DataFrame(columns=list(columns))
