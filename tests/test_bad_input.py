"""Bad input, as a new user produces it: every case through ``olscheck.check``.

Two kinds of case:

* input olscheck cannot use raises one exact :class:`OlscheckError` subclass
  whose message names the column, value or file at fault;
* input R's ``lm`` would fit (aliased columns, a level that never occurs, a
  level seen once, extreme magnitudes...) is fitted, and the report says what
  it found instead of raising.

Everything goes through ``olscheck.check(..., probe=False)``, the function
users call, not only ``prepare``.
"""

from __future__ import annotations

import decimal
import gzip
import json
import warnings
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.errors import (
    ColumnNotFoundError,
    ConfigurationError,
    ConstantTargetError,
    DataError,
    FormulaError,
    InputFileError,
    InsufficientDataError,
    NonFiniteValueError,
    NonNumericColumnError,
    OlscheckError,
)
from olscheck.report.result import Severity

N = 40


def base_frame(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    return pd.DataFrame({
        "y": 1.0 + 2.0 * x1 - x2 + rng.normal(size=n),
        "x1": x1,
        "x2": x2,
        "g": rng.choice(["a", "b", "c"], size=n),
    })


def strict_json(report) -> dict:
    """The report's JSON, failing on NaN/Infinity."""
    return json.loads(report.to_json(), parse_constant=lambda token: pytest.fail(f"non-strict JSON constant {token}"))


# ============================================================================ errors
@dataclass
class Bad:
    """One unusable input: how to build it, the exact error, and what the message must name."""

    id: str
    data: Callable[[Path], Any]
    kwargs: dict = field(default_factory=dict)
    error: type = DataError
    names: tuple[str, ...] = ()


def _with(**columns) -> Callable[[Path], pd.DataFrame]:
    return lambda _tmp: base_frame().assign(**columns)


def _frame(builder: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], pd.DataFrame]:
    return lambda _tmp: builder(base_frame())


def _file(name: str, content: bytes | None) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        if content is not None:
            path.write_bytes(content)
        return path

    return build


def _set(frame: pd.DataFrame, rows, column: str, value) -> pd.DataFrame:
    frame = frame.copy()
    if value is not None and not isinstance(value, float):
        frame[column] = frame[column].astype(object)
    frame.loc[rows, column] = value
    return frame


def _no_complete_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame.loc[::2, "x1"] = np.nan
    frame.loc[1::2, "x2"] = np.nan
    return frame


def _wide(_tmp: Path) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(rng.normal(size=(5, 10)), columns=[f"c{i}" for i in range(10)])


def _duplicated_names(_tmp: Path) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    return pd.DataFrame(rng.normal(size=(N, 3)), columns=["y", "x", "x"])


def _many_levels(_tmp: Path) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    n = 3000
    return pd.DataFrame({"y": rng.normal(size=n), "customer": [f"c{i % 2000}" for i in range(n)]})


def _nested_parquet(tmp: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = base_frame()
    path = tmp / "nested.parquet"
    pq.write_table(pa.table({"y": frame["y"], "x1": frame["x1"], "L": pa.array([[1, 2]] * N)}), path)
    return path


def _very_wide(_tmp: Path) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.normal(size=(100, 2000)), columns=[f"c{i}" for i in range(2000)])


VALID_CSV = base_frame().to_csv(index=False).encode()

BAD_INPUT = [
    # ---- shape and emptiness
    Bad("empty frame", lambda _t: pd.DataFrame(), {"target": "y"}, InsufficientDataError, ("no rows",)),
    Bad("columns but no rows", lambda _t: pd.DataFrame({"y": [], "x": []}), {"target": "y"}, InsufficientDataError,
        ("no rows",)),
    Bad("no rows after dropping missing", _frame(_no_complete_rows), {"target": "y"}, InsufficientDataError,
        ("no rows are left", "'x1'", "'x2'")),
    Bad("no rows after dropping, formula", _frame(_no_complete_rows), {"formula": "y ~ x1 + x2"},
        InsufficientDataError, ("no rows are left", "'x1'", "'x2'")),
    # a named empty column is an error; left to the screening it is excluded (tests/test_screening.py)
    Bad("all-NaN column", _with(x2=np.nan), {"target": "y", "predictors": ["x1", "x2"]}, DataError,
        ("'x2'", "no values")),
    Bad("all-None object column", _with(x3=[None] * N), {"target": "y", "predictors": ["x1", "x3"]}, DataError,
        ("'x3'", "no values")),
    Bad("all-NA nullable column", _with(x1=pd.array([pd.NA] * N, dtype="Float64")),
        {"target": "y", "predictors": ["x1", "x2"]}, DataError, ("'x1'", "no values")),
    Bad("all-missing target", _with(y=np.nan), {"target": "y"}, DataError, ("'y'", "no values")),
    Bad("order_by all missing", _with(t=np.nan), {"target": "y", "order_by": "t"}, DataError, ("'t'", "no values")),
    Bad("constant target", _with(y=4.0), {"target": "y"}, ConstantTargetError, ("'y'", "4")),
    Bad("target constant in the rows left", _frame(lambda f: f.assign(y=np.where(f.index < 5, f["y"], 7.5),
                                                                      x1=np.where(f.index < 5, np.nan, f["x1"]))),
        {"target": "y"}, ConstantTargetError, ("'y'", "7.5")),
    Bad("constant target via formula", _with(y=-1.0), {"formula": "y ~ x1"}, ConstantTargetError, ("'y'",)),
    Bad("more predictors than rows", _wide, {"target": "c0"}, InsufficientDataError,
        ("5 usable row(s)", "10 parameter(s)")),
    Bad("as many parameters as rows", _frame(lambda f: f.head(3)), {"target": "y", "predictors": ["x1", "x2"]},
        InsufficientDataError, ("3 usable row(s)", "3 parameter(s)")),
    Bad("continuous column declared categorical", lambda _t: base_frame(),
        {"target": "y", "predictors": ["x1"], "categorical": ["x1"]}, InsufficientDataError, ("'x1'", "39 columns")),
    # ---- values
    Bad("+inf in a predictor", _frame(lambda f: _set(f, 7, "x2", np.inf)), {"target": "y"}, NonFiniteValueError,
        ("'x2'", "row 7")),
    Bad("-inf in the target", _frame(lambda f: _set(f, 3, "y", -np.inf)), {"target": "y"}, NonFiniteValueError,
        ("'y'", "row 3")),
    Bad("inf through a formula", _frame(lambda f: _set(f, 2, "x1", np.inf)), {"formula": "y ~ x1 + x2"},
        NonFiniteValueError, ("'x1'",)),
    Bad("log(0) in a formula", _frame(lambda f: f.assign(x1=np.abs(f["x1"])).pipe(_set, 5, "x1", 0.0)),
        {"formula": "y ~ np.log(x1)"}, NonFiniteValueError, ("np.log(x1)",)),
    Bad("text in a numeric column", _frame(lambda f: _set(f, 4, "x1", "unknown")), {"target": "y"},
        NonNumericColumnError, ("'x1'", "'unknown'", "row 4")),
    Bad("mixed types", _with(x1=[1, "a", 2.0, None] * (N // 4)), {"target": "y"}, NonNumericColumnError,
        ("'x1'", "'a'")),
    Bad("text target", lambda _t: base_frame(), {"target": "g"}, NonNumericColumnError, ("'g'", "'c'")),
    Bad("text target in a formula", _frame(lambda f: _set(f, 0, "y", "unknown")), {"formula": "y ~ x1"},
        NonNumericColumnError, ("'y'", "'unknown'")),
    Bad("complex numbers", _frame(lambda f: f.assign(x1=f["x1"] + 1j)), {"target": "y"}, NonNumericColumnError,
        ("'x1'", "complex")),
    Bad("thousands of levels, named", _many_levels, {"target": "y", "predictors": ["customer"]}, DataError,
        ("'customer'", "2000 levels")),
    Bad("order_by mixing text and numbers", _with(t=[1, "a"] * (N // 2)), {"target": "y", "order_by": "t"},
        DataError, ("'t'",)),
    # ---- names
    Bad("duplicated column names", _duplicated_names, {"target": "y"}, DataError, ("'x'", "more than once")),
    Bad("target also a predictor", lambda _t: base_frame(), {"target": "y", "predictors": ["x1", "y"]}, DataError,
        ("'y'", "also listed as a predictor")),
    Bad("target also on the formula's right", lambda _t: base_frame(), {"formula": "y ~ y + x1"}, FormulaError,
        ("'y'", "right-hand side")),
    Bad("a predictor named Intercept", _with(Intercept=np.arange(N, dtype=float)), {"target": "y"}, DataError,
        ("'Intercept'",)),
    Bad("a column named like a level's column", _with(**{"g[T.b]": np.arange(N, dtype=float)}), {"target": "y"},
        DataError, ("'g[T.b]'",)),
    Bad("a formula column named Intercept", _with(Intercept=np.arange(N, dtype=float)),
        {"formula": "y ~ Intercept + x1"}, FormulaError, ("Intercept",)),  # patsy itself refuses it
    Bad("predictor listed twice", lambda _t: base_frame(), {"target": "y", "predictors": ["x1", "x1"]}, DataError,
        ("'x1'",)),
    Bad("target column misspelt", lambda _t: base_frame(), {"target": "Y"}, ColumnNotFoundError,
        ("'Y'", "Did you mean 'y'")),
    Bad("predictor column absent", lambda _t: base_frame(), {"target": "y", "predictors": ["x1", "x9"]},
        ColumnNotFoundError, ("'x9'",)),
    Bad("order_by column absent", lambda _t: base_frame(), {"target": "y", "order_by": "when"},
        ColumnNotFoundError, ("'when'",)),
    Bad("categorical column absent", lambda _t: base_frame(), {"target": "y", "categorical": ["colour"]},
        ColumnNotFoundError, ("'colour'",)),
    Bad("categorical not a predictor", lambda _t: base_frame(), {"target": "y", "predictors": ["x1"],
                                                                  "categorical": ["g"]}, DataError, ("'g'",)),
    Bad("formula naming an absent column", lambda _t: base_frame(), {"formula": "y ~ x1 + x3"}, FormulaError,
        ("'x3'", "not a column")),
    Bad("formula with a column in the wrong case", lambda _t: base_frame(), {"formula": "y ~ X1 + x2"}, FormulaError,
        ("'X1'", "Did you mean 'x1'")),
    Bad("formula with an absent column inside a function", lambda _t: base_frame(), {"formula": "y ~ np.log(zz)"},
        FormulaError, ("'zz'",)),
    Bad("formula without ~", lambda _t: base_frame(), {"formula": "y = x1"}, FormulaError, ("'y = x1'",)),
    Bad("formula syntax error", lambda _t: base_frame(), {"formula": "y ~ x1 +"}, FormulaError, ("'y ~ x1 +'",)),
    Bad("formula and target disagree", lambda _t: base_frame(), {"formula": "y ~ x1", "target": "x2"}, FormulaError,
        ("'x2'", "'y'")),
    Bad("formula and predictors together", lambda _t: base_frame(), {"formula": "y ~ x1", "predictors": ["x2"]},
        DataError, ("formula",)),
    # ---- files
    Bad("missing file", _file("nowhere.csv", None), {"target": "y"}, InputFileError, ("nowhere.csv", "does not exist")),
    Bad("a URL (never fetched)", lambda _t: "https://example.com/data.csv", {"target": "y"}, InputFileError,
        ("example.com", "does not exist")),
    Bad("a cloud path (never fetched)", lambda _t: "s3://bucket/data.parquet", {"target": "y"}, InputFileError,
        ("bucket", "does not exist")),
    Bad("empty file", _file("empty.csv", b""), {"target": "y"}, InputFileError, ("empty.csv", "empty")),
    Bad("whitespace-only file", _file("blank.csv", b"\n\n  \n"), {"target": "y"}, InputFileError, ("blank.csv",)),
    Bad("header only", _file("header.csv", b"y,x1,x2\n"), {"target": "y"}, InsufficientDataError, ("no rows",)),
    # pandas would silently rename the second 'y' to 'y.1' and fit it as a predictor
    Bad("a name repeated in a CSV header", _file("repeat.csv", b"y,y,x\n1,2,3\n2,3,4\n3,5,6\n4,4,8\n5,6,9\n"),
        {"target": "y"}, DataError, ("'y'", "more than once")),
    Bad("a name repeated in a TSV header", _file("repeat.tsv", b"y\tx\tx\n1\t2\t3\n2\t3\t4\n3\t5\t5\n4\t4\t6\n"),
        {"target": "y"}, DataError, ("'x'", "more than once")),
    # title lines above the table, as spreadsheets export them: say where the header is
    Bad("a title and a blank line above the header", _file("title.csv", b"Sales report 2023\n\ny,x1\n1,2\n2,3\n3,5\n"
                                                                          b"4,4\n5,6\n"),
        {"target": "y"}, InputFileError, ("2 line(s) before its header", "line 3 ('y,x1')", "--skip-rows 2",
                                          "read={'skip_rows': 2}")),
    Bad("a title as wide as the table", _file("wide-title.csv", b"Sales 2023,,\nexported,,\ny,x1,x2\n1,2,3\n2,3,4\n"
                                                                  b"3,5,5\n4,4,6\n"),
        {"target": "y"}, ColumnNotFoundError, ("Row 1 of the data holds 'y'", "below 2 more line(s) of title",
                                               "--skip-rows")),
    Bad("rows wider than a header of names", _file("wider.csv", b"y,x\n1,2,3\n2,3,4\n3,5,5\n"), {"target": "y"},
        InputFileError, ("2 name(s) in its header but 3 fields",)),
    Bad("a totals row at the end", _frame(lambda f: pd.concat([f.astype({"x1": object}), pd.DataFrame(
        {"y": [f["y"].sum()], "x1": ["Total"], "x2": [f["x2"].sum()], "g": ["a"]})], ignore_index=True)),
        {"target": "y"}, NonNumericColumnError, ("'Total' marks a totals row", "df.iloc[:-1]")),
    Bad("not an Excel workbook (xlsx)", _file("data.xlsx", b"PK\x03\x04 excel"), {"target": "y"}, InputFileError,
        ("data.xlsx", "Excel workbook")),
    Bad("no suffix", _file("data", VALID_CSV), {"target": "y"}, InputFileError, ("(none)", ".csv")),
    Bad("garbage named .parquet", _file("data.parquet", b"PAR1 not really"), {"target": "y"}, InputFileError,
        ("data.parquet", "PARQUET")),
    Bad("CSV named .parquet", _file("data.parquet", VALID_CSV), {"target": "y"}, InputFileError, ("data.parquet",)),
    Bad("not UTF-8", _file("latin.csv", "y,x\n1,caf\xe9\n".encode("utf-16")), {"target": "y"}, InputFileError,
        ("latin.csv", "UTF-8")),
    Bad("directory", lambda tmp: tmp, {"target": "y"}, InputFileError, ("directory",)),
    # ---- arguments of the wrong type
    Bad("a Series instead of a DataFrame", lambda _t: base_frame()["y"], {"target": "y"}, DataError, ("Series",)),
    Bad("a numpy array instead of a DataFrame", lambda _t: base_frame()[["y", "x1"]].to_numpy(), {"target": "y"},
        DataError, ("ndarray",)),
    Bad("a dict instead of a DataFrame", lambda _t: base_frame().to_dict("list"), {"target": "y"}, DataError,
        ("dict",)),
    Bad("None instead of data", lambda _t: None, {"target": "y"}, DataError, ("NoneType",)),
    Bad("target given as a list", lambda _t: base_frame(), {"target": ["y"]}, DataError, ("target='y'",)),
    Bad("target given as the values", lambda _t: base_frame(), {"target": base_frame()["y"]}, DataError,
        ("target", "Series")),
    Bad("predictors given as a DataFrame", lambda _t: base_frame(), {"target": "y", "predictors": base_frame()[["x1"]]},
        DataError, ("predictors", "DataFrame")),
    Bad("predictors given as values", lambda _t: base_frame(), {"target": "y", "predictors": base_frame()["x1"]},
        DataError, ("predictors", "Series")),
    Bad("order_by given as a list", lambda _t: base_frame(), {"target": "y", "order_by": ["x1"]}, DataError,
        ("order_by='x1'",)),
    Bad("no target and no formula", lambda _t: base_frame(), {}, DataError, ("target",)),
    # olscheck.check validates its options first (olscheck/options.py): a ConfigurationError since commit 900ae48
    Bad("intercept as text", lambda _t: base_frame(), {"target": "y", "intercept": "no"}, ConfigurationError,
        ("'no'",)),
    Bad("alpha as text", lambda _t: base_frame(), {"target": "y", "alpha": "0.05"}, ConfigurationError, ("'0.05'",)),
    Bad("alpha out of range", lambda _t: base_frame(), {"target": "y", "alpha": 5}, ConfigurationError, ("5",)),
    Bad("unknown threshold", lambda _t: base_frame(), {"target": "y", "thresholds": {"vif_warm": 5}},
        ConfigurationError, ("vif_warm",)),
    Bad("thresholds of the wrong type", lambda _t: base_frame(), {"target": "y", "thresholds": 5}, ConfigurationError,
        ("int",)),
    Bad("Breusch-Godfrey order 0", lambda _t: base_frame(), {"target": "y", "breusch_godfrey_order": 0},
        ConfigurationError, ("0",)),
    Bad("seed as text", lambda _t: base_frame(), {"target": "y", "seed": "abc"}, ConfigurationError, ("'abc'",)),
    # ---- issue 6, a new user's further malformed input (each case was tried before its fix)
    Bad("list-valued cells", _with(L=[[1, 2]] * N), {"target": "y", "predictors": ["x1", "L"]},
        NonNumericColumnError, ("'L'", "list", "[1, 2]", "row 0")),
    Bad("dict-valued cells", _with(D=[{"a": 1}] * N), {"target": "y"}, NonNumericColumnError, ("'D'", "dict")),
    Bad("nested Parquet column", _nested_parquet, {"target": "y"}, NonNumericColumnError, ("'L'", "ndarray")),
    Bad("complex numbers in an object column", _with(c=[complex(1, 1)] * N), {"target": "y", "predictors": ["c"]},
        NonNumericColumnError, ("'c'", "complex")),
    Bad("Decimal infinity", _frame(lambda f: f.assign(x1=[decimal.Decimal("Infinity") if i == 5 else
                                                         decimal.Decimal(f"{v:.4f}") for i, v in enumerate(f.x1)])),
        {"target": "y", "predictors": ["x1"]}, NonFiniteValueError, ("'x1'", "row 5")),
    Bad("a column without a name", _frame(lambda f: f.set_axis(["y", None, "x2", "g"], axis=1)), {"target": "y"},
        DataError, ("position 1", "no name")),
    Bad("target given as a position", lambda _t: base_frame(), {"target": 3}, ColumnNotFoundError,
        ("'3'", "not a position", "'g'")),
    Bad("predictors as one comma-separated string", lambda _t: base_frame(), {"target": "y", "predictors": "x1,x2"},
        ColumnNotFoundError, ("'x1,x2'", "['x1', 'x2']")),
    Bad("MultiIndex columns, plain name", _frame(lambda f: f[["y", "x1"]].set_axis(
        pd.MultiIndex.from_tuples([("a", "y"), ("b", "x1")]), axis=1)), {"target": "y"}, ColumnNotFoundError,
        ("'y'", "MultiIndex")),
    Bad("target name with a trailing space in the data", _frame(lambda f: f.rename(columns={"y": "y "})),
        {"target": "y"}, ColumnNotFoundError, ("'y'", "Did you mean 'y '")),
    Bad("very long misspelt name is shortened", _frame(lambda f: f.rename(columns={"y": "y" * 5000})),
        {"target": "Y" * 5000}, ColumnNotFoundError, ("'YYYY", "...'")),
    Bad("one row", _frame(lambda f: f.head(1)), {"target": "y"}, InsufficientDataError, ("1 usable row",)),
    Bad("one row via formula", _frame(lambda f: f.head(1)), {"formula": "y ~ x1"}, InsufficientDataError,
        ("1 usable row",)),
    Bad("two rows, one predictor", _frame(lambda f: f.head(2)), {"target": "y", "predictors": ["x1"]},
        InsufficientDataError, ("2 usable row(s)", "2 parameter(s)")),
    Bad("2,000 columns, 100 rows", _very_wide, {"target": "c0"}, InsufficientDataError,
        ("100 usable row(s)", "2000 parameter(s)")),
    # issue 14: percentages, decimal commas, currencies and missing markers are read (tests/test_screening.py);
    # what stays an error is a column that cannot be put on one scale
    Bad("two units in one column", _frame(lambda f: f.assign(x1=[f"{v:.1f} {'kg' if i % 2 else 'lb'}"
                                                                 for i, v in enumerate(f.x1)])), {"target": "y"},
        NonNumericColumnError, ("'x1'", "'kg'", "'lb'", "one unit")),
    Bad("two currencies in the target", _frame(lambda f: f.assign(y=[f"{'$' if i % 2 else '€'}{v:.2f}"
                                                                     for i, v in enumerate(f.y)])), {"target": "y"},
        NonNumericColumnError, ("'y'", "'$'", "'€'")),
    Bad("both decimal conventions in one column", _frame(lambda f: f.assign(
        x1=["1,234.5" if i % 2 else "1.234,5" for i in range(len(f))])), {"target": "y"}, NonNumericColumnError,
        ("'x1'", "1,234.5", "1.234,5")),
    Bad("words in a column of percentages", _frame(lambda f: f.assign(
        x1=["about half" if i == 3 else f"{v:.1f}%" for i, v in enumerate(f.x1)])), {"target": "y"},
        NonNumericColumnError, ("'x1'", "'about half'")),
    Bad("order_by complex", _with(t=np.arange(N) + 1j), {"target": "y", "order_by": "t"}, DataError,
        ("'t'", "complex")),
    Bad("threshold value as text", lambda _t: base_frame(), {"target": "y", "thresholds": {"alpha": "high"}},
        ConfigurationError, ("alpha", "'high'")),
    Bad("threshold value NaN", lambda _t: base_frame(), {"target": "y", "thresholds": {"vif_warn": float("nan")}},
        ConfigurationError, ("vif_warn", "nan")),
    Bad("alpha 0", lambda _t: base_frame(), {"target": "y", "alpha": 0}, ConfigurationError, ("alpha", "0")),
    Bad("alpha NaN", lambda _t: base_frame(), {"target": "y", "alpha": float("nan")}, ConfigurationError, ("nan",)),
    Bad("seed None", lambda _t: base_frame(), {"target": "y", "seed": None}, ConfigurationError, ("None",)),
    Bad("seed 2.0", lambda _t: base_frame(), {"target": "y", "seed": 2.0}, ConfigurationError, ("2.0",)),
    Bad("durbin_watson_exact as text", lambda _t: base_frame(), {"target": "y", "durbin_watson_exact": "yes"},
        ConfigurationError, ("durbin_watson_exact", "'yes'")),
    Bad("progress not callable", lambda _t: base_frame(), {"target": "y", "progress": True}, ConfigurationError,
        ("progress",)),
    Bad("a list of rows instead of a DataFrame", lambda _t: base_frame()[["y", "x1"]].values.tolist(),
        {"target": "y"}, DataError, ("list", "pd.DataFrame(data)")),
    Bad("records instead of a DataFrame", lambda _t: base_frame()[["y", "x1"]].to_dict("records"), {"target": "y"},
        DataError, ("list", "pd.DataFrame(data)")),
    Bad("JSON file", _file("data.json", base_frame().to_json().encode()), {"target": "y"}, InputFileError,
        ("'.json'", "pd.read_json")),
    Bad("Feather file", _file("data.feather", b"ARROW1\0\0"), {"target": "y"}, InputFileError,
        ("'.feather'", "pd.read_feather")),
    Bad("Windows-1252 CSV", _file("cp1252.csv", "y,x,g\n1,2,a\n2,3,caf\xe9\n3,1,b\n".encode("cp1252")),
        {"target": "y"}, InputFileError, ("cp1252.csv", "0xe9", "line 3", "UTF-8")),
    Bad("ragged CSV", _file("ragged.csv", b"y,x1\n1,2\n3,4,5\n6,7\n"), {"target": "y"}, InputFileError,
        ("ragged.csv", "line 3")),
    Bad("empty path", lambda _t: "", {"target": "y"}, InputFileError, ("path is empty",)),
    Bad("NUL byte in the path", lambda tmp: str(tmp / "a\0b.csv"), {"target": "y"}, InputFileError,
        ("null byte",)),
    Bad("R formula with backticks", _frame(lambda f: f.rename(columns={"x1": "weight kg"})),
        {"formula": "y ~ `weight kg` + x2"}, FormulaError, ("Q('name with spaces')",)),
    Bad("R formula with a dot", lambda _t: base_frame(), {"formula": "y ~ ."}, FormulaError, ("'.'", "target=")),
    Bad("formula with log instead of np.log", lambda _t: base_frame(), {"formula": "y ~ log(x1)"}, FormulaError,
        ("'log'", "np.log")),
    # patsy evaluates every term as Python: code is refused before it runs
    Bad("formula running code", lambda _t: base_frame(), {"formula": "y ~ x1 + __import__('os').getcwd()"},
        FormulaError, ("__import__", "refused")),
    Bad("formula opening a file", lambda _t: base_frame(), {"formula": "y ~ x1 + open('/etc/hostname').read()"},
        FormulaError, ("open", "refused")),
    Bad("formula walking attributes", lambda _t: base_frame(), {"formula": "y ~ x1.__class__"},
        FormulaError, ("x1.__class__", "refused")),
    Bad("formula with numpy input/output", lambda _t: base_frame(), {"formula": "y ~ np.load('x.npy')"},
        FormulaError, ("np.load", "refused")),
]


def _ids(case) -> str:
    return case.id if isinstance(case, Bad) else case.id


@pytest.mark.parametrize("case", BAD_INPUT, ids=[c.id if isinstance(c, Bad) else c.id for c in BAD_INPUT])
def test_bad_input_raises_the_exact_error_naming_the_culprit(case: Bad, tmp_path):
    data = case.data(tmp_path)
    with pytest.raises(OlscheckError) as raised:
        olscheck.check(data, probe=False, **case.kwargs)
    assert type(raised.value) is case.error, f"{type(raised.value).__name__}: {raised.value}"
    message = str(raised.value)
    for name in case.names:
        assert name in message, f"{name!r} not in {message!r}"
    assert "\n" not in message.strip(), "error messages are one line (the CLI prints them as such)"
    assert "np.int64" not in message and "np.float64" not in message, "labels are shown as plain values"
    assert len(message) < 1500, "long names are shortened in messages"


def test_corpus_is_large_enough():
    assert len(BAD_INPUT) >= 110


def test_errors_are_also_builtin_exceptions():
    # existing `except ValueError` / `except KeyError` / `except OSError` code keeps working
    with pytest.raises(ValueError):
        olscheck.check(base_frame().assign(y=1.0), target="y", probe=False)
    with pytest.raises(KeyError):
        olscheck.check(base_frame(), target="nope", probe=False)
    with pytest.raises(OSError):
        olscheck.check("/nonexistent/file.csv", target="y", probe=False)


# ============================================================================ fitted with a finding
def check(frame, **kwargs):
    return olscheck.check(frame, probe=False, **kwargs)


def data_notes(report) -> str:
    return " ".join(report.data.notes)


def finding(report, name: str):
    matches = [f for f in report.verdict.findings if f.check == name]
    assert matches, f"no {name!r} finding in {[f.check for f in report.verdict.findings]}"
    return matches[0]


@pytest.mark.parametrize("label, column", [
    ("constant predictor", lambda f: np.full(len(f), 3.0)),
    ("identical columns", lambda f: f["x1"].to_numpy()),
    ("exact linear combination", lambda f: (f["x1"] - 2 * f["x2"]).to_numpy()),
])
def test_aliased_columns_are_fitted_without_them_as_r_does(label, column):
    frame = base_frame()
    frame["x3"] = column(frame)
    report = check(frame, target="y", predictors=["x1", "x2", "x3"])
    # R: coef(lm(y ~ x1 + x2 + x3)) has x3 = NA and the others equal the fit without x3
    assert report.model.aliased == ("x3",)
    assert np.isnan(report.model.coefficients["x3"])
    reduced = check(frame, target="y", predictors=["x1", "x2"])
    np.testing.assert_allclose(report.model.coefficients.drop("x3"), reduced.model.coefficients, rtol=1e-12)
    aliasing = finding(report, "aliasing")
    assert "'x3'" in aliasing.message and "R's lm" in aliasing.message
    # a constant column changes nothing in the fit: a note; a column duplicating others: a warning to act on
    constant = label == "constant predictor"
    assert aliasing.severity is (Severity.NOTE if constant else Severity.WARN)
    assert (aliasing.remedy is None) is constant
    assert strict_json(report)["model"]["coefficients"]["x3"] is None


def test_every_predictor_aliased_leaves_the_intercept_model():
    report = check(base_frame().assign(x1=0.0, x2=5.0), target="y", predictors=["x1", "x2"])
    assert report.model.aliased == ("x1", "x2")
    assert report.model.coefficients["Intercept"] == pytest.approx(base_frame()["y"].mean(), rel=1e-13)
    strict_json(report)


def test_categorical_with_one_level_is_left_out_with_a_note():
    report = check(base_frame().assign(g="only"), target="y")
    assert list(report.model.coefficients.index) == ["Intercept", "x1", "x2"]
    assert "'g'" in data_notes(report) and "single level" in data_notes(report)
    assert any(f.check == "data" and "'g'" in f.message for f in report.verdict.findings)


def test_category_level_absent_from_the_data_gets_no_column():
    frame = base_frame()
    frame["g"] = pd.Categorical(frame["g"], categories=["a", "b", "c", "never"])
    report = check(frame, target="y")
    assert "g[T.never]" not in report.model.coefficients.index
    assert "never" in data_notes(report)


def test_level_seen_once_fits_that_row_exactly():
    frame = base_frame()
    frame["g"] = ["a"] * 20 + ["b"] * 19 + ["once"]
    report = check(frame, target="y")
    assert "g[T.once]" in report.model.coefficients.index
    assert "once" in data_notes(report)
    assert report.model.leverage.iloc[-1] == pytest.approx(1.0, abs=1e-12)
    assert abs(report.model.residuals.iloc[-1]) < 1e-12
    strict_json(report)


def _assert_same_statistics(report, reference, rtol=1e-8, skip=()):
    for name, result in reference.tests.items():
        if name in skip:
            continue
        other = report.tests[name]
        for attribute in ("statistic", "p_value", "effect"):
            expected, actual = getattr(result, attribute), getattr(other, attribute)
            if expected is None:
                assert actual is None, f"{name}.{attribute}"
            else:
                assert actual == pytest.approx(expected, rel=rtol, abs=1e-12), f"{name}.{attribute}"


@pytest.mark.parametrize("factor", [1e300, 1e-300, 2.0**1020 * 1.5, 1e-310])
def test_extreme_target_magnitudes_fit_correctly_by_scaling(factor):
    frame = base_frame()
    reference = check(frame, target="y")
    report = check(frame.assign(y=frame["y"] * factor), target="y")
    # 1e-310 is subnormal: the data themselves keep only ~13 digits
    digits = 1e-9 if factor < 1e-308 else 1e-12
    np.testing.assert_allclose(report.model.coefficients / factor, reference.model.coefficients, rtol=digits)
    assert report.model.sigma / factor == pytest.approx(reference.model.sigma, rel=digits)
    _assert_same_statistics(report, reference, rtol=1e-7 if factor < 1e-308 else 1e-8)
    strict_json(report)


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_extreme_predictor_magnitudes_give_the_right_coefficients(factor):
    frame = base_frame()
    reference = check(frame, target="y", predictors=["x1", "x2"])
    report = check(frame.assign(x1=frame["x1"] * factor), target="y", predictors=["x1", "x2"])
    assert report.model.aliased == ()
    assert report.model.coefficients["x1"] * factor == pytest.approx(reference.model.coefficients["x1"], rel=1e-12)
    assert report.model.std_errors["x1"] * factor == pytest.approx(reference.model.std_errors["x1"], rel=1e-12)
    assert report.model.coefficients["x2"] == pytest.approx(reference.model.coefficients["x2"], rel=1e-12)
    strict_json(report)


@pytest.mark.parametrize("factor", [1e300, 1e-300, 1e200])
def test_extreme_predictor_magnitudes_leave_every_statistic_unchanged(factor):
    frame = base_frame()
    reference = check(frame, target="y", predictors=["x1", "x2"])
    report = check(frame.assign(x1=frame["x1"] * factor), target="y", predictors=["x1", "x2"])
    # the auxiliary regressions (linalg.least_squares, White's squares) divide
    # each column by a power of two first, so nothing over- or underflows
    _assert_same_statistics(report, reference)


@pytest.mark.parametrize("target_factor, predictor_factor",
                         [(1e300, 1e300), (1e-300, 1e-300), (1e150, 1e-150), (1e-150, 1e150), (1e300, 1.0)])
def test_target_and_predictor_both_extreme(target_factor, predictor_factor):
    frame = base_frame()
    reference = check(frame, target="y", predictors=["x1", "x2"])
    report = check(frame.assign(y=frame["y"] * target_factor, x1=frame["x1"] * predictor_factor),
                   target="y", predictors=["x1", "x2"])
    # the slope of x1 is in units of y per unit of x1
    assert report.model.coefficients["x1"] / target_factor * predictor_factor == pytest.approx(
        reference.model.coefficients["x1"], rel=1e-12)
    assert report.model.coefficients["x2"] / target_factor == pytest.approx(reference.model.coefficients["x2"],
                                                                            rel=1e-12)
    _assert_same_statistics(report, reference)
    strict_json(report)


@pytest.mark.parametrize("target_factor, predictor_factor", [(1e300, 1e-300), (1e-300, 1e300)])
def test_slope_beyond_the_float_range_is_an_error_naming_the_column(target_factor, predictor_factor):
    frame = base_frame()
    # the slope of x1 would be ~1e600 (or ~1e-600, which float64 would silently print as 0)
    with pytest.raises(DataError, match="'x1'.*beyond the range of float64"):
        check(frame.assign(y=frame["y"] * target_factor, x1=frame["x1"] * predictor_factor), target="y",
              predictors=["x1", "x2"])


def test_predictor_beyond_two_to_the_1023_is_not_aliased():
    frame = base_frame()
    factor = 1.5e308 / float(frame["x1"].abs().max())
    report = check(frame.assign(x1=frame["x1"] * factor), target="y", predictors=["x1", "x2"])
    assert report.model.aliased == ()
    # and every statistic is the unscaled data's (RESET, White, the second-order test included)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow on the way either
        report = check(frame.assign(x1=frame["x1"] * factor), target="y", predictors=["x1", "x2"])
    _assert_same_statistics(report, check(frame, target="y", predictors=["x1", "x2"]))


def test_non_string_column_names():
    frame = base_frame()[["y", "x1", "x2"]]
    frame.columns = [0, 1, 2]
    report = check(frame, target=0)
    assert list(report.model.coefficients.index) == ["Intercept", "1", "2"]
    assert strict_json(report)["data"]["predictors"] == ["1", "2"]
    assert check(frame, target="0").data.target == "0"  # the text of the label works too


def test_unicode_and_html_in_names_are_kept_and_escaped():
    from olscheck.report.render.html import to_html
    from olscheck.report.render.markdown import to_markdown

    evil = "<script>alert('x')</script>"
    image = "<img src=x onerror=alert(1)>"
    frame = base_frame().rename(columns={"x1": evil, "x2": "Δ température ☃ & \"q\""})
    frame["g"] = frame["g"].map({"a": "<b>a</b>", "b": "b&c", "c": "javascript:alert(1)"})
    frame = frame.rename(columns={"g": image})
    report = check(frame, target="y")
    assert evil in report.model.coefficients.index
    assert f"{image}[T.b&c]" in report.model.coefficients.index
    assert strict_json(report)["data"]["predictors"][1] == "Δ température ☃ & \"q\""
    html = to_html(report, plots=[], generated="fixed")
    assert "<script" not in html.lower()
    assert "<img src=x" not in html and "<b>a</b>" not in html
    assert "&lt;script&gt;" in html
    markdown = to_markdown(report, generated="fixed")
    # code (fenced blocks, inline spans) shows text literally; everywhere else it must be escaped
    outside_code = re.sub(r"`[^`\n]*`", "", re.sub(r"```.*?```", "", markdown, flags=re.S))
    assert "<script" not in outside_code and "<img" not in outside_code and "<b>" not in outside_code


_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BACKTICKS = re.compile(r"`+")


def _strip_code_spans(paragraph: str) -> str:
    """``paragraph`` without its inline code spans (CommonMark §6.1).

    A run of k backticks (not backslash-escaped) opens a span that the next
    run of exactly k backticks closes; a run with no closer is literal text.
    """
    out, position = [], 0
    while True:
        opener = _BACKTICKS.search(paragraph, position)
        if opener is None:
            break
        before = paragraph[:opener.start()]
        escaped = (len(before) - len(before.rstrip("\\"))) % 2 == 1
        closer = None
        if not escaped:
            closer = next((run for run in _BACKTICKS.finditer(paragraph, opener.end())
                           if len(run.group()) == len(opener.group())), None)
        if closer is None:  # literal backticks
            out.append(paragraph[position:opener.end()])
            position = opener.end()
        else:
            out.append(paragraph[position:opener.start()])
            position = closer.end()
    out.append(paragraph[position:])
    return "".join(out)


def _outside_code(markdown: str) -> str:
    """The Markdown text a renderer does not show literally: fenced blocks and code spans removed.

    Follows CommonMark/GFM closely enough to fail when a name escapes its
    span: a fence closes only on a line of the same character at least as
    long (an unclosed fence runs to the end); a code span cannot cross a
    blank line (the paragraph ends); a GFM table row is split into cells at
    unescaped pipes *before* code spans are found, as GitHub does.
    """
    kept_lines, fence = [], None
    for line in markdown.split("\n"):
        if fence is not None:
            stripped = line.strip()
            if line.startswith(" " * 4) is False and stripped and set(stripped) == {fence[0]} \
                    and len(stripped) >= len(fence):
                fence = None
            continue
        opening = _FENCE_OPEN.match(line)
        if opening and not (opening.group(1)[0] == "`" and "`" in opening.group(2)):
            fence = opening.group(1)
            continue
        kept_lines.append(line)
    paragraphs = re.split(r"\n[ \t]*\n", "\n".join(kept_lines))
    cleaned = []
    for paragraph in paragraphs:
        rows = paragraph.split("\n")
        if rows and all(row.lstrip().startswith("|") for row in rows):
            cells = [re.split(r"(?<!\\)\|", row) for row in rows]
            cleaned.append("\n".join("|".join(_strip_code_spans(cell) for cell in row) for row in cells))
        else:
            cleaned.append(_strip_code_spans(paragraph))
    return "\n\n".join(cleaned)


@pytest.mark.parametrize("text, outside", [
    ("a `<img>` b", "a  b"),
    ("a ``x ` <img>`` b", "a  b"),
    ("a `x\n\n<img>` b", "a `x\n\n<img>` b"),  # a blank line ends the paragraph: no span
    ("a \\`<img>` b", "a \\`<img>` b"),  # escaped opener: the second backtick is literal
    ("| `a|<img>` | b |", "| `a|<img>` | b |"),  # GFM splits the cell at the pipe first
    ("| `a\\|<img>` | b |", "|  | b |"),
    ("```python\n<img>\n```\nafter", "after"),
    ("````\n```\n<img>\n````\nafter", "after"),  # a shorter fence does not close
    ("~~~\n<img>\n", ""),  # an unclosed fence runs to the end
])
def test_outside_code_helper_follows_commonmark(text, outside):
    assert _outside_code(text) == outside


@pytest.mark.parametrize("name", [
    "x\n\n<img src=x onerror=alert(1)>\n\n",
    "x\r\n\r\n<img src=x onerror=alert(1)>",
    "x`<img src=x onerror=alert(1)>`",
    "x``` <img src=x onerror=alert(1)>",
    "x|<img src=x onerror=alert(1)>",
    "x\n```\n<img src=x onerror=alert(1)>",
])
def test_newlines_in_names_cannot_break_out_of_markdown_code(name):
    from olscheck.report.render.markdown import to_markdown

    report = check(base_frame().rename(columns={"x1": name}), target="y")
    markdown = to_markdown(report, generated="fixed")
    assert "<img" in markdown  # the name is shown literally, in code
    assert "<img" not in _outside_code(markdown)


def test_order_by_with_ties_keeps_data_order_and_says_so():
    frame = base_frame().assign(t=[2, 1] * (N // 2))
    report = check(frame, target="y", order_by="t")
    expected = list(frame.index[1::2]) + list(frame.index[0::2])  # stable sort
    assert list(report.model.residuals.index) == expected
    assert "'t'" in data_notes(report) and "tied" in data_notes(report)


def test_order_by_with_missing_values_drops_and_counts_those_rows():
    frame = base_frame().assign(t=np.where(np.arange(N) % 4 == 0, np.nan, np.arange(N, 0, -1.0)))
    report = check(frame, target="y", order_by="t")
    assert (report.data.n_rows, report.data.n_used, report.data.n_dropped) == (N, 30, 10)
    assert "t 10" in data_notes(report)
    assert list(report.model.residuals.index) == [i for i in range(N - 1, -1, -1) if i % 4]


def test_order_by_dates_written_as_text_sorts_by_date():
    dates = pd.date_range("2020-12-20", periods=N, freq="D")
    frame = base_frame().assign(t=dates.strftime("%m/%d/%Y"))  # as read from a US CSV
    frame = frame.iloc[np.random.default_rng(1).permutation(N)]
    report = check(frame, target="y", order_by="t")
    assert list(report.model.residuals.index) == list(frame.sort_values("t", key=pd.to_datetime).index)
    assert "as dates" in data_notes(report)


def test_order_by_numbers_written_as_text_sorts_numerically():
    frame = base_frame().assign(t=[str(N - i) for i in range(N)])  # "40", "39", ... "9", ... "1"
    report = check(frame, target="y", order_by="t")
    assert list(report.model.residuals.index) == list(range(N - 1, -1, -1))


def test_ordered_categorical_order_by_uses_category_order():
    months = ["Jan", "Feb", "Mar", "Apr"]
    frame = base_frame().assign(t=pd.Categorical(np.tile(months[::-1], N // 4), categories=months, ordered=True))
    report = check(frame, target="y", order_by="t")
    first = report.model.residuals.index[: N // 4]
    assert (frame.loc[first, "t"] == "Jan").all()


def test_datetime_predictor_is_numeric_time_as_in_r():
    frame = base_frame().assign(d=pd.date_range("2021-01-01", periods=N, freq="D"))
    report = check(frame, target="y", predictors=["x1", "d"])
    in_days = check(frame.assign(d=np.arange(N, dtype=float)), target="y", predictors=["x1", "d"])
    assert list(report.model.coefficients.index) == ["Intercept", "x1", "d"]
    # Belsley's condition indices use the uncentred columns, so they depend on the time origin
    _assert_same_statistics(report, in_days, skip=("condition_index",))


def test_bool_column_with_missing_values_is_categorical():
    frame = base_frame().assign(flag=[True, False, None, True] * (N // 4))
    report = check(frame, target="y", predictors=["x1", "flag"])
    assert "flag[T.True]" in report.model.coefficients.index
    assert report.data.n_dropped == N // 4


def test_nullable_integer_with_missing_values_is_numeric_and_rows_are_counted():
    frame = base_frame().assign(k=pd.array([1, None, 3, 4] * (N // 4), dtype="Int64"))
    report = check(frame, target="y", predictors=["x1", "k"])
    assert "k" in report.model.coefficients.index
    assert report.data.n_dropped == N // 4 and "k 10" in data_notes(report)


def test_numbers_stored_as_text_are_numbers():
    frame = base_frame()
    report = check(frame.assign(y=frame["y"].astype(str)), target="y")
    np.testing.assert_allclose(report.model.coefficients, check(frame, target="y").model.coefficients, rtol=1e-12)


def test_string_dtype_and_bool_predictors_are_categorical():
    frame = base_frame().assign(g=lambda f: f["g"].astype("string"), flag=lambda f: f["x1"] > 0)
    report = check(frame, target="y", predictors=["g", "flag"])
    assert list(report.model.coefficients.index) == ["Intercept", "g[T.b]", "g[T.c]", "flag[T.True]"]


def test_log_of_negative_values_in_a_formula_drops_those_rows_like_r():
    frame = base_frame()
    report = check(frame, formula="y ~ np.log(x1)")
    assert report.data.n_dropped == int((frame["x1"] <= 0).sum())
    assert "Dropped" in data_notes(report)


def test_exact_fit_gives_reasons_not_nan():
    frame = base_frame().assign(y=lambda f: 1 + 2 * f["x1"])
    document = strict_json(check(frame, target="y", predictors=["x1"]))
    not_computed = [name for name, test in document["tests"].items() if not test["computable"]]
    assert {"breusch_pagan", "reset"} <= set(not_computed)
    assert all(document["tests"][name]["reason"] for name in not_computed)


def test_three_rows_give_reasons_not_nan():
    report = check(base_frame().head(3), target="y", predictors=["x1"])
    document = strict_json(report)
    for name, test in document["tests"].items():
        assert test["computable"] or test["reason"], name


def test_target_only_fits_the_mean():
    report = check(base_frame()[["y"]], target="y")
    assert list(report.model.coefficients.index) == ["Intercept"]
    strict_json(report)


def test_duplicate_row_labels_are_fine():
    frame = base_frame().set_index(pd.Index([0] * N))
    report = check(frame, target="y")
    np.testing.assert_allclose(report.model.coefficients, check(base_frame(), target="y").model.coefficients,
                               rtol=1e-13)


def test_predictors_as_set_give_a_reproducible_column_order():
    report = check(base_frame(), target="y", predictors={"x2", "x1", "g"})
    assert list(report.model.coefficients.index) == ["Intercept", "g[T.b]", "g[T.c]", "x1", "x2"]


def test_bad_input_leaves_the_callers_frame_unchanged():
    frame = base_frame()
    frame.loc[3, "x1"] = np.nan
    frame["t"] = [str(N - i) for i in range(N)]
    before = frame.copy(deep=True)
    with pytest.raises(OlscheckError):
        olscheck.check(frame, target="g", probe=False)
    check(frame, target="y", order_by="t")
    pd.testing.assert_frame_equal(frame, before, check_exact=True)


def test_no_network_access(monkeypatch, tmp_path):
    """SECURITY.md: olscheck makes no network calls (check, probe, plots, HTML, Markdown)."""
    import socket

    from olscheck.report.render.html import to_html
    from olscheck.report.render.markdown import to_markdown

    def refuse(*_args, **_kwargs):
        raise AssertionError("olscheck tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    path = tmp_path / "data.csv"
    base_frame(60).to_csv(path, index=False)
    report = olscheck.check(path, target="y", probe=True, seed=1)
    to_html(report, generated="now")
    to_markdown(report, generated="now")
    with pytest.raises(InputFileError):
        olscheck.check("https://example.com/data.csv", target="y", probe=False)


@pytest.mark.parametrize("outlier", [1e82, 1e150, 1e250, -1.7e308])
def test_one_huge_value_in_the_target_is_diagnosed_not_crashed(outlier):
    # found by the fuzzer: one 1e82 among values near 1 made sigma⁴ overflow (OverflowError)
    frame = base_frame()
    frame.loc[5, "y"] = outlier
    report = check(frame, target="y")
    document = strict_json(report)
    assert document["tests"]["breusch_pagan_original"]["computable"]
    assert document["tests"]["jarque_bera"]["statistic"] is not None
    assert report.influence.to_dict()["max_cooks_distance_row"] == 5
    # the same data divided by an exact power of two gives the same diagnosis
    scaled = check(frame.assign(y=frame["y"] / 2.0**200), target="y")
    _assert_same_statistics(scaled, report)


# ============================================================================ issue 6: unusual input that R fits
_NAN_WORD = re.compile(r"\b(nan|NaN|inf|Infinity)\b")


def fitted(data, **kwargs):
    """check() on ``data``: the input is unchanged, the text and JSON hold no NaN/inf."""
    from olscheck.report.render.markdown import to_markdown

    before = data.copy(deep=True) if isinstance(data, pd.DataFrame) else None
    report = check(data, **kwargs)
    if before is not None:
        pd.testing.assert_frame_equal(data, before, check_exact=True)
    assert not _NAN_WORD.search(str(report)), str(report)
    assert not _NAN_WORD.search(to_markdown(report, generated="fixed"))
    strict_json(report)
    return report


def lstsq(y, *columns) -> np.ndarray:
    """Coefficients (intercept first) from numpy's SVD least squares: the independent reference."""
    design = np.column_stack([np.ones(len(y)), *columns])
    return np.linalg.lstsq(design, np.asarray(y, dtype=float), rcond=None)[0]


def assert_coefficients(report, expected, rtol=1e-10):
    np.testing.assert_allclose(report.model.coefficients.to_numpy(dtype=float), expected, rtol=rtol, atol=1e-12)


def test_bool_predictor_is_a_zero_one_dummy():
    frame = base_frame().assign(b=lambda f: f["x1"] > 0)
    report = fitted(frame, target="y", predictors=["x1", "b"])
    assert list(report.model.coefficients.index) == ["Intercept", "x1", "b[T.True]"]
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], frame["b"].astype(float)))


def test_bool_target_is_a_linear_probability_model_as_in_r():
    frame = base_frame().assign(high=lambda f: f["y"] > 1)
    report = fitted(frame, target="high", predictors=["x1", "x2"])
    assert_coefficients(report, lstsq(frame["high"].astype(float), frame["x1"], frame["x2"]))


@pytest.mark.parametrize("dtype", ["boolean", "boolean-with-NA"])
def test_nullable_boolean_predictor(dtype):
    values = [True, False, None, True] if dtype == "boolean-with-NA" else [True, False, False, True]
    frame = base_frame().assign(b=pd.array(values * (N // 4), dtype="boolean"))
    report = fitted(frame, target="y", predictors=["x1", "b"])
    used = frame[frame["b"].notna()]
    assert report.data.n_used == len(used)
    assert_coefficients(report, lstsq(used["y"], used["x1"], used["b"].astype(float)))


def test_nullable_float_and_int64_target_drop_the_na_rows():
    frame = base_frame()
    frame = frame.assign(
        x1=pd.array([None if i % 7 == 0 else v for i, v in enumerate(frame["x1"])], dtype="Float64"),
        y=pd.array([None if i % 9 == 0 else int(v * 100) for i, v in enumerate(frame["y"])], dtype="Int64"),
    )
    report = fitted(frame, target="y", predictors=["x1", "x2"])
    used = frame.dropna(subset=["x1", "y"])
    assert report.data.n_dropped == N - len(used)
    assert_coefficients(report, lstsq(used["y"].astype(float), used["x1"].astype(float), used["x2"]))


def test_pyarrow_columns():
    frame = base_frame()
    target = frame["y"].astype("double[pyarrow]")
    target.iloc[2] = None
    arrow = frame.assign(y=target, x1=frame["x1"].astype("double[pyarrow]"), g=frame["g"].astype("string[pyarrow]"))
    report = fitted(arrow, target="y", predictors=["x1", "g"])
    used = frame.drop(index=2)
    assert_coefficients(report, lstsq(used["y"], used["x1"], used["g"] == "b", used["g"] == "c"))


def test_decimal_objects_are_numbers():
    frame = base_frame()
    as_decimal = frame.assign(y=[decimal.Decimal(repr(v)) for v in frame["y"]],
                              x1=[decimal.Decimal(repr(v)) for v in frame["x1"]])
    report = fitted(as_decimal, target="y", predictors=["x1", "x2"])
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], frame["x2"]), rtol=1e-12)


def test_datetime_target_is_days_since_1970():
    dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(np.random.default_rng(2).integers(0, 30, N), "D")
    frame = base_frame().assign(d=dates)
    report = fitted(frame, target="d", predictors=["x1"])
    days = (dates - pd.Timestamp("1970-01-01")).days.to_numpy(dtype=float)
    assert_coefficients(report, lstsq(days, frame["x1"]))
    assert "days since 1970-01-01" in data_notes(report)


@pytest.mark.parametrize("kind", ["timedelta", "period", "tz-aware datetime", "ISO text dates"])
def test_durations_periods_and_dates_are_numbers_with_a_note(kind):
    frame = base_frame()
    steps = np.arange(N)
    if kind == "timedelta":
        column, numbers, note = pd.to_timedelta(steps * 6, "h"), steps / 4.0, "durations; used in days"
    elif kind == "period":
        column, numbers, note = pd.period_range("2020-01", periods=N, freq="M"), steps + 600.0, "number of M periods"
    elif kind == "tz-aware datetime":
        column = pd.date_range("2021-01-01 01:00", periods=N, freq="D", tz="Europe/Paris")
        numbers, note = 18628 + steps.astype(float), "days since 1970-01-01"
    else:
        column = pd.date_range("2021-01-01", periods=N, freq="D").strftime("%Y-%m-%d")
        numbers, note = 18628 + steps.astype(float), "dates written as text"
    report = fitted(frame.assign(t=column), target="y", predictors=["x1", "t"])
    assert list(report.model.coefficients.index) == ["Intercept", "x1", "t"]
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], numbers), rtol=1e-9)
    assert note in data_notes(report)


def test_category_dtype_with_unused_and_numeric_categories():
    frame = base_frame().assign(k=pd.Categorical(np.tile([3, 1, 2, 1], N // 4), categories=[1, 2, 3, 9]))
    report = fitted(frame, target="y", predictors=["x1", "k"])
    assert list(report.model.coefficients.index) == ["Intercept", "x1", "k[T.2]", "k[T.3]"]
    k = frame["k"].astype(int)
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], k == 2, k == 3))
    assert "9" in data_notes(report)


def test_all_predictors_categorical():
    frame = base_frame().assign(h=np.tile(["u", "v"], N // 2))
    report = fitted(frame, target="y", predictors=["g", "h"])
    assert_coefficients(report, lstsq(frame["y"], frame["g"] == "b", frame["g"] == "c", frame["h"] == "v"))


def test_multiindex_columns_with_the_whole_tuple():
    frame = base_frame()[["y", "x1", "x2"]]
    frame.columns = pd.MultiIndex.from_tuples([("a", "y"), ("b", "x1"), ("b", "x2")])
    report = fitted(frame, target=("a", "y"))
    plain = base_frame()
    assert_coefficients(report, lstsq(plain["y"], plain["x1"], plain["x2"]))


@pytest.mark.parametrize("index", [
    pd.Index([f"r{i}" for i in range(N)]),
    pd.Index(np.random.default_rng(3).permutation(N) * 10),
    pd.MultiIndex.from_arrays([["s"] * N, range(N)]),
])
def test_any_row_index_gives_the_same_fit_and_keeps_the_labels(index):
    frame = base_frame().set_axis(index, axis=0)
    report = fitted(frame, target="y", predictors=["x1", "x2"])
    assert list(report.model.residuals.index) == list(index)
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], frame["x2"]))


@pytest.mark.parametrize("name", ["", " ", "weight (kg)", "a.b c", "x" * 5000, "1st-class? yes/no"])
def test_formula_hostile_names_without_a_formula(name):
    frame = base_frame().rename(columns={"x1": name})
    report = fitted(frame, target="y", predictors=[name, "x2"])
    assert list(report.model.coefficients.index) == ["Intercept", name, "x2"]
    assert_coefficients(report, lstsq(frame["y"], frame[name], frame["x2"]))


@pytest.mark.parametrize("predictors", ["x1", ("x1",), pd.Index(["x1"]), (c for c in ["x1"]), np.array(["x1"])])
def test_predictors_in_any_reasonable_container(predictors):
    frame = base_frame()
    report = fitted(frame, target="y", predictors=predictors)
    assert_coefficients(report, lstsq(frame["y"], frame["x1"]))


def test_no_predictors_fits_the_mean():
    frame = base_frame()
    report = fitted(frame, target="y", predictors=[])
    assert_coefficients(report, [frame["y"].mean()], rtol=1e-13)


def test_one_residual_degree_of_freedom_gives_reasons_not_nan():
    frame = base_frame().head(4)
    report = fitted(frame, target="y", predictors=["x1", "x2"])
    assert report.model.df_resid == 1
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], frame["x2"]))
    for name, result in report.tests.items():
        assert result.statistic is not None or result.reason, name


def test_order_by_datetime_with_ties_is_stable():
    frame = base_frame().assign(t=pd.to_datetime(["2020-01-02", "2020-01-01"] * (N // 2)))
    report = fitted(frame, target="y", predictors=["x1"], order_by="t")
    assert list(report.model.residuals.index) == list(frame.index[1::2]) + list(frame.index[0::2])
    assert "tied" in data_notes(report)


def test_order_by_a_predictor_sorts_by_it_and_keeps_it_a_predictor():
    frame = base_frame()
    report = fitted(frame, target="y", predictors=["x1", "x2"], order_by="x1")
    assert list(report.model.residuals.index) == list(frame["x1"].sort_values(kind="stable").index)
    assert_coefficients(report, lstsq(frame["y"], frame["x1"], frame["x2"]))


def test_order_by_timezone_aware_datetimes():
    frame = base_frame().assign(t=pd.date_range("2020-01-01", periods=N, tz="UTC")[::-1])
    report = fitted(frame, target="y", predictors=["x1"], order_by="t")
    assert list(report.model.residuals.index) == list(range(N - 1, -1, -1))


def test_two_predictors_out_of_two_thousand_columns():
    frame = _very_wide(Path("."))
    report = fitted(frame, target="c0", predictors=["c1", "c2"])
    assert_coefficients(report, lstsq(frame["c0"], frame["c1"], frame["c2"]))


@pytest.mark.parametrize("column", [
    np.arange(N, dtype=np.uint64) + np.uint64(2**63),
    [2**70 + 12345 * i for i in range(N)],
])
def test_integers_beyond_two_to_the_53_fit_with_a_precision_note(column):
    report = fitted(base_frame().assign(big=column), target="y", predictors=["x1", "big"])
    assert "'big'" in data_notes(report) and "2**53" in data_notes(report)
    # float64 cannot tell these values apart from a constant, as R's double cannot
    assert report.model.aliased == ("big",)


def test_numpy_scalars_for_options():
    report = fitted(base_frame(), target="y", seed=np.int64(3), alpha=np.float64(0.1), intercept=np.bool_(True))
    assert report.options["alpha"] == 0.1


# ---------------------------------------------------------------------------- files as a new user has them
def _reference_fit():
    frame = base_frame()
    return lstsq(frame["y"], frame["x1"], frame["x2"], frame["g"] == "b", frame["g"] == "c")


@pytest.mark.parametrize("name, content", [
    ("data.csv.gz", gzip.compress(VALID_CSV)),
    ("gzipped-but-named.csv", gzip.compress(VALID_CSV)),
    ("bom.csv", b"\xef\xbb\xbf" + VALID_CSV),
    ("crlf.csv", VALID_CSV.replace(b"\n", b"\r\n")),
    ("tabs.csv", base_frame().to_csv(index=False, sep="\t").encode()),
    ("trailing-comma.csv", VALID_CSV.replace(b"\n", b",\n")),
    ("quoted.csv", base_frame().to_csv(index=False, quoting=1).encode()),
    ("with-row-numbers.csv", base_frame().to_csv().encode()),
])
def test_files_as_they_come(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    report = fitted(path, target="y")
    assert report.data.predictors == ("x1", "x2", "g")
    assert_coefficients(report, _reference_fit())
    if name == "with-row-numbers.csv":
        assert "'Unnamed: 0'" in data_notes(report) and "row index" in data_notes(report)


def test_path_given_as_bytes_pathlib_or_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "data.csv").write_bytes(VALID_CSV)
    for path in (b"~/data.csv", "~/data.csv", tmp_path / "data.csv", str(tmp_path / "data.csv").encode()):
        assert_coefficients(fitted(path, target="y"), _reference_fit())


def test_formula_code_is_refused_before_it_runs(tmp_path):
    marker = tmp_path / "ran"
    formula = f"y ~ x1 + __import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(FormulaError, match="refused"):
        check(base_frame(), formula=formula)
    assert not marker.exists()


# ============================================================================ issue 14: read options and exclude
BAD_OPTIONS = [
    # (id, data maker, prepare keywords, error class, fragments of the message)
    ("exclude names no column", lambda _t: base_frame(), {"target": "y", "exclude": ["x9"]}, ColumnNotFoundError,
     ("'x9'", "exclude")),
    ("exclude names the target", lambda _t: base_frame(), {"target": "y", "exclude": ["y"]}, DataError,
     ("'y'", "target", "exclude=")),
    ("exclude names the order column", lambda _t: base_frame(), {"target": "y", "order_by": "x2", "exclude": "x2"},
     DataError, ("'x2'", "order_by")),
    ("exclude and predictors name one column", lambda _t: base_frame(),
     {"target": "y", "predictors": ["x1", "x2"], "exclude": ["x2"]}, DataError, ("'x2'", "both")),
    ("exclude with a formula", lambda _t: base_frame(), {"formula": "y ~ x1", "exclude": ["x2"]}, DataError,
     ("formula",)),
    ("exclude given as values", lambda _t: base_frame(), {"target": "y", "exclude": base_frame()[["x1"]]}, DataError,
     ("exclude", "DataFrame")),
    ("read option misspelt", _file("data.csv", VALID_CSV), {"target": "y", "read": {"delimiter": ";"}},
     ConfigurationError, ("'delimiter'", "sep")),
    ("read as a string", _file("data.csv", VALID_CSV), {"target": "y", "read": ";"}, ConfigurationError,
     ("ReadOptions",)),
    ("decimal equal to sep", _file("data.csv", VALID_CSV), {"target": "y", "read": {"sep": ",", "decimal": ","}},
     ConfigurationError, ("sep and decimal",)),
    ("unknown encoding", _file("data.csv", VALID_CSV), {"target": "y", "read": {"encoding": "utf-9"}},
     ConfigurationError, ("'utf-9'",)),
    ("wrong encoding given", _file("data.csv", "y,x1\n1,caf\u00e9\n".encode("utf-8")),
     {"target": "y", "read": {"encoding": "ascii"}}, InputFileError, ("'ascii'", "--encoding")),
    ("a comma file read with sep=';'", _file("data.csv", VALID_CSV), {"target": "y", "read": {"sep": ";"}},
     ColumnNotFoundError, ("'y'",)),
    ("a missing sheet", _file("data.csv", VALID_CSV), {"target": "y", "read": {"sheet": True}}, ConfigurationError,
     ("sheet",)),
    ("na_values of numbers", _file("data.csv", VALID_CSV), {"target": "y", "read": {"na_values": [0]}},
     ConfigurationError, ("na_values",)),
]


@pytest.mark.parametrize("case", BAD_OPTIONS, ids=[case[0] for case in BAD_OPTIONS])
def test_bad_read_options_and_exclude_raise_one_clear_line(case, tmp_path):
    from olscheck.inputs.prepare import prepare

    _id, make, keywords, error, fragments = case
    with pytest.raises(OlscheckError) as raised:
        prepare(make(tmp_path), **keywords)
    assert type(raised.value) is error, f"{type(raised.value).__name__}: {raised.value}"
    message = str(raised.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert "\n" not in message.strip()


def test_an_excel_sheet_that_is_not_there(tmp_path):
    pytest.importorskip("openpyxl")
    from olscheck.inputs.prepare import prepare

    path = tmp_path / "data.xlsx"
    base_frame().to_excel(path, index=False, sheet_name="data")
    with pytest.raises(InputFileError, match="no sheet 'summary'; its sheets are 'data'"):
        prepare(path, target="y", read={"sheet": "summary"})
    with pytest.raises(InputFileError, match="no sheet 3"):
        prepare(path, target="y", read={"sheet": 3})
    assert prepare(path, target="y").predictors == ("x1", "x2", "g")


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_extreme_magnitudes_reach_the_probe_and_the_same_verdict(factor):
    # issue 14: a predictor or a target near 1e300 once crashed the probe ("Input X contains NaN"); the probe
    # scales every column by a power of two first, so it runs and decides as on the data at unit scale
    frame = base_frame()
    reference = olscheck.check(frame, target="y", seed=0)
    for scaled in (frame.assign(y=frame["y"] * factor), frame.assign(x1=frame["x1"] * factor)):
        report = olscheck.check(scaled, target="y", seed=0)
        probe = report.nonlinearity["probe"]
        assert probe["computed"], probe.get("reason")
        assert report.verdict.level == reference.verdict.level
        assert probe["gain"]["r_squared_gain_mean"] == pytest.approx(
            reference.nonlinearity["probe"]["gain"]["r_squared_gain_mean"], abs=0.02)
        strict_json(report)


def test_a_categorical_target_is_read_by_its_values_not_its_categories():
    # found by tests/test_fuzz.py: a text target that pandas (or screening) holds as a categorical reached
    # code that mapped over it and got a categorical back ("does not support operation 'all'")
    rows = 4
    x = np.arange(5 * rows, dtype=float)
    text = pd.DataFrame({"y": pd.Categorical(["a", "b", "a", "c", "d"] * rows), "x": x})
    with pytest.raises(NonNumericColumnError, match="'y' must be numeric but holds text such as 'a', 'b', 'c'"):
        olscheck.check(text, target="y", probe=False)
    numbers = ["1.5", "2", "3.25", "4", "7"] * rows
    as_numbers = olscheck.check(pd.DataFrame({"y": pd.Categorical(numbers), "x": x}), target="y", probe=False)
    expected = np.polyfit(x, np.array(numbers, dtype=float), 1)[::-1]  # intercept, slope of the values themselves
    np.testing.assert_allclose(as_numbers.fit.coefficients, expected, rtol=1e-10)
    days = pd.Categorical(["2021-01-01", "2021-01-02", "2021-01-05", "2021-01-09", "2021-01-10"] * rows)
    as_dates = olscheck.check(pd.DataFrame({"y": days, "x": x}), target="y", probe=False)
    day_numbers = (pd.to_datetime(np.asarray(days)) - pd.Timestamp("1970-01-01")).days.to_numpy(dtype=float)
    np.testing.assert_allclose(as_dates.fit.coefficients, np.polyfit(x, day_numbers, 1)[::-1], rtol=1e-10)


def test_a_yes_no_text_target_says_how_to_code_it_and_that_logistic_regression_follows():
    frame = base_frame().assign(y=np.where(np.arange(N) % 3 == 0, "yes", "no"))
    with pytest.raises(NonNumericColumnError) as raised:
        check(frame, target="y")
    message = str(raised.value)
    assert "two values ('no', 'yes')" in message and "(df['y'] == 'yes').astype(int)" in message
    assert "logistic regression" in message
    # the code it proposes gives a frame olscheck checks, with the two-valued target's warning
    coded = frame.assign(y=(frame["y"] == "yes").astype(int))
    assert any(f.check == "binary_target" for f in check(coded, target="y").verdict.findings)
    three = frame.assign(y=np.array(["yes", "no", "maybe"])[np.arange(N) % 3])
    with pytest.raises(NonNumericColumnError) as raised:
        check(three, target="y")
    assert "two values" not in str(raised.value)
