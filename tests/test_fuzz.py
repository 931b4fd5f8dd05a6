"""The command line and the file readers under a fuzzer (hypothesis over bytes).

Whatever bytes a data file holds -- random, a valid CSV with bytes flipped,
inserted or cut, a truncated or corrupted Parquet file -- ``olscheck check``
ends with exit code 0, 1 or 2 and at most one line on stderr, never a
traceback and never an "internal error". A console's default warning
display is emulated, so a stray numpy/pandas warning counts as a second line.

Bounded and derandomized for CI; OLSCHECK_HYPOTHESIS_RANDOM=1 and
OLSCHECK_HYPOTHESIS_EXAMPLES=2000 turn it into a longer fuzzing run.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from olscheck.cli import main
from olscheck.inputs.prepare import read_table
from olscheck.errors import InputFileError, OlscheckError
from tests.helpers import bounded

ROOT = Path(__file__).resolve().parents[1]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = 24
    x = rng.normal(size=n)
    return pd.DataFrame({
        "y": 1 + x + rng.normal(size=n),
        "x": x,
        "g": rng.choice(["a", "b"], size=n),
        "t": np.arange(n),
    })


VALID_CSV = _frame().to_csv(index=False).encode()
HEADER = VALID_CSV.index(b"\n") + 1
_buffer = io.BytesIO()
_frame().to_parquet(_buffer)
VALID_PARQUET = _buffer.getvalue()

OPTION_SETS = [
    ["--target", "y"],
    ["--target", "y", "--predictors", "x,g", "--order-by", "t"],
    ["--formula", "y ~ x + C(g)"],
    ["--target", "y", "--categorical", "x", "--no-intercept"],
    ["--target", "y", "--json", "-", "--fail-on", "warn"],
]


@contextlib.contextmanager
def console_warnings():
    """Show warnings on stderr as a plain ``python`` run would (pytest records them instead)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("default")
        for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
            warnings.simplefilter("ignore", category)
        warnings.showwarning = warnings._showwarning_orig  # writes to sys.stderr
        yield


def run_cli(content: bytes, suffix: str, options: list[str]) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(content)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), console_warnings():
            code = main(["check", str(path), "--no-probe", *options])
    return code, out.getvalue(), err.getvalue()


def assert_clean_exit(code: int, stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code in (0, 1, 2), code
    assert "Traceback" not in stderr, stderr
    assert "internal error" not in stderr, stderr
    assert len(lines) <= 1, f"more than one line on stderr: {stderr!r}"
    if code == 2:
        assert lines and lines[0].startswith("olscheck: error: "), stderr
    if code == 1:
        assert lines and "gate" in lines[0], stderr


# --------------------------------------------------------------------------- strategies
@st.composite
def mutated(draw, original: bytes, alphabet: bytes, protect: int = 0):
    """``original`` with a few bytes replaced, inserted, deleted, or the tail cut.

    Most mutations spare the first ``protect`` bytes (a CSV header), so that
    many mutants still parse and reach the model rather than all failing at
    the column lookup.
    """
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 6))):
        operation = draw(st.sampled_from(["replace", "replace", "insert", "insert", "delete", "truncate", "splice"]))
        start = protect if draw(st.integers(0, 3)) else 0
        position = draw(st.integers(min(start, max(len(data) - 1, 0)), max(len(data) - 1, 0)))
        if operation == "replace" and data:
            data[position] = draw(st.sampled_from(alphabet)) if draw(st.booleans()) else draw(st.integers(0, 255))
        elif operation == "insert":
            data[position:position] = draw(st.sampled_from([
                b",", b"\n", b'"', b"\r\n", b"NA", b"inf", b"-inf", b"nan", b"1e400", b"1e-400", b"\x00",
                b"True", b"abc", b",,,,", b"\xff\xfe", b"\xc3\xa9", b"<b>", b"y,y",
            ]))
        elif operation == "delete" and data:
            del data[position:position + draw(st.integers(1, 30))]
        elif operation == "truncate":
            del data[position:]
        elif operation == "splice" and data:
            other = draw(st.integers(0, len(data) - 1))
            data[position:position] = data[other:other + draw(st.integers(1, 40))]
    return bytes(data)


_ODD_CELLS = ["", "NA", "nan", "inf", "-inf", "1e308", "-1.7e308", "1e-320", "0", "1e82", "1e-200", "7", "-0",
              "TRUE", "a", "b", '"1,5"', "2020-01-01", "x"]


@st.composite
def csv_with_odd_cells(draw):
    """The valid data with some rows kept, some cells replaced by odd values, maybe a column repeated."""
    frame = _frame().astype(object)
    rows = draw(st.lists(st.integers(0, len(frame) - 1), min_size=0, max_size=len(frame), unique=True))
    frame = frame.iloc[sorted(rows)] if draw(st.booleans()) else frame
    for _ in range(draw(st.integers(0, 8))):
        if len(frame) == 0:
            break
        row = draw(st.integers(0, len(frame) - 1))
        column = draw(st.sampled_from(list(frame.columns)))
        frame.iat[row, frame.columns.get_loc(column)] = draw(st.sampled_from(_ODD_CELLS))
    if draw(st.booleans()):
        frame["x_copy"] = frame["x"]
    if draw(st.booleans()):
        frame["constant"] = 3
    return frame.to_csv(index=False).encode()


CSV_ALPHABET = b'0123456789.,-+eE\n\r"; \tNaAiIfFyxgt'


# --------------------------------------------------------------------------- the CLI
@bounded(40)
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".parquet", ".txt"]),
       options=st.sampled_from(OPTION_SETS))
def test_cli_on_random_bytes(content, suffix, options):
    code, _out, err = run_cli(content, suffix, options)
    assert_clean_exit(code, err)


@bounded(80)
@given(content=mutated(VALID_CSV, CSV_ALPHABET, HEADER), options=st.sampled_from(OPTION_SETS))
def test_cli_on_mutated_csv(content, options):
    code, _out, err = run_cli(content, ".csv", options)
    assert_clean_exit(code, err)


@bounded(60)
@given(content=csv_with_odd_cells(), options=st.sampled_from(OPTION_SETS))
def test_cli_on_csv_with_odd_cells(content, options):
    code, _out, err = run_cli(content, ".csv", options)
    assert_clean_exit(code, err)


@bounded(40)
@given(cut=st.integers(0, len(VALID_PARQUET)), options=st.sampled_from(OPTION_SETS[:3]))
def test_cli_on_truncated_parquet(cut, options):
    code, _out, err = run_cli(VALID_PARQUET[:cut], ".parquet", options)
    assert_clean_exit(code, err)
    if cut < len(VALID_PARQUET):
        assert code == 2


@bounded(40)
@given(content=mutated(VALID_PARQUET, bytes(range(256))), options=st.sampled_from(OPTION_SETS[:3]))
def test_cli_on_corrupted_parquet(content, options):
    code, _out, err = run_cli(content, ".parquet", options)
    assert_clean_exit(code, err)


# --------------------------------------------------------------------------- the reader
@bounded(60)
@given(content=st.one_of(st.binary(max_size=300), mutated(VALID_CSV, CSV_ALPHABET, HEADER)),
       suffix=st.sampled_from([".csv", ".tsv", ".parquet", ".csv.gz", ".xlsx", ""]))
def test_read_table_returns_a_frame_or_raises_input_file_error(content, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"data{suffix}"
        path.write_bytes(content)
        try:
            frame = read_table(path)
        except InputFileError as error:
            message = str(error)
            assert "data" in message and "\n" not in message.strip()
        else:
            assert isinstance(frame, pd.DataFrame) and frame.shape[1] > 0


@bounded(30)
@given(content=mutated(VALID_CSV, CSV_ALPHABET, HEADER))
def test_check_on_mutated_csv_raises_only_olscheck_errors(content):
    import olscheck

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(content)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                report = olscheck.check(path, target="y", probe=False)
            except OlscheckError:
                return
    report.to_json()  # strict JSON or an exception


# --------------------------------------------------------------------------- a real process
@pytest.mark.parametrize("content, suffix, code", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", ".csv", 2),
    (VALID_PARQUET[: len(VALID_PARQUET) // 2], ".parquet", 2),
    # a value beyond 2**1023 in a predictor: numpy warns about overflow internally
    (b"y,x\n" + b"".join(f"{i % 7 + 0.5 * i},{i * 1.1}\n".encode() for i in range(20)) + b"3,1.7e308\n", ".csv", 0),
])
def test_real_process_prints_one_line_and_no_warning(tmp_path, content, suffix, code):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(content)
    completed = subprocess.run(
        [sys.executable, "-m", "olscheck", "check", str(path), "--target", "y", "--no-probe", "--quiet"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert completed.returncode == code, completed.stderr
    assert len(completed.stderr.splitlines()) == (1 if code == 2 else 0), completed.stderr
    assert "Traceback" not in completed.stderr


# --------------------------------------------------------------------------- reader options (issue 14)
READ_CHOICES = {
    "sep": st.sampled_from([None, ",", ";", "\t", "|", "ab", ""]),
    "decimal": st.sampled_from([None, ".", ",", ";", "xy"]),
    "thousands": st.sampled_from([None, ",", ".", " ", "'", "."]),
    "na_values": st.sampled_from([None, ["-"], ["?", "n/a"], [""], "NA"]),
    "encoding": st.sampled_from([None, "utf-8", "latin-1", "utf-16", "no-such-encoding"]),
}


@bounded(25)
@given(content=mutated(VALID_CSV, CSV_ALPHABET, HEADER),
       read=st.fixed_dictionaries({}, optional=READ_CHOICES),
       exclude=st.sampled_from([None, ["x1"], ["no_such_column"], ["y"], []]))
def test_check_with_any_reader_options_raises_only_olscheck_errors(content, read, exclude):
    # any combination of separators, decimal marks, markers, encodings and exclusions, valid or not, on any
    # mutation of a valid file: a report, or an OlscheckError naming what to change; never a traceback
    import olscheck

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "data.csv"
        path.write_bytes(content)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                report = olscheck.check(path, target="y", probe=False, read=read, exclude=exclude)
            except OlscheckError as error:
                assert str(error).strip() and "\n" not in str(error).strip()
                return
    report.to_json()
