"""Turning DataFrames, files and formulas into a design; bad input gives clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from olscheck.data import prepare, read_table
from olscheck.errors import (
    ColumnNotFoundError,
    ConstantTargetError,
    DataError,
    FormulaError,
    InputFileError,
    InsufficientDataError,
    NonFiniteValueError,
    NonNumericColumnError,
    OlscheckError,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 30
    return pd.DataFrame({
        "y": rng.normal(size=n),
        "x1": rng.normal(size=n),
        "x2": rng.normal(size=n),
        "g": rng.choice(["b", "a", "c"], size=n),
        "t": rng.permutation(n),
    })


def test_default_predictors_are_all_other_columns(frame):
    design = prepare(frame, target="y")
    assert design.predictors == ("x1", "x2", "g", "t")
    assert design.column_names == ("Intercept", "x1", "x2", "g[T.b]", "g[T.c]", "t")
    assert design.categorical == ("g",)


def test_order_by_column_is_not_a_predictor_and_sorts_rows(frame):
    design = prepare(frame, target="y", order_by="t")
    assert "t" not in design.predictors
    expected = frame.sort_values("t")["y"].to_numpy()
    np.testing.assert_array_equal(design.y, expected)
    assert list(design.row_index) == list(frame.sort_values("t").index)
    assert "sorted by 't'" in design.order_note


def test_datetime_index_counts_as_order(frame):
    dated = frame.set_index(pd.date_range("2024-01-01", periods=len(frame))[::-1])
    design = prepare(dated, target="y", predictors=["x1"])
    np.testing.assert_array_equal(design.y, frame["y"].to_numpy()[::-1])
    assert "DatetimeIndex" in design.order_note


def test_missing_rows_are_dropped_and_counted(frame):
    holes = frame.copy()
    holes.loc[[2, 5], "x1"] = np.nan
    holes.loc[5, "y"] = np.nan
    holes.loc[9, "g"] = None
    design = prepare(holes, target="y")
    assert (design.n_rows, design.n_used, design.n_dropped) == (30, 27, 3)
    assert any("Dropped 3 of 30 rows" in note for note in design.notes)


def test_categorical_reference_is_first_sorted_level_and_numeric_can_be_declared(frame):
    design = prepare(frame.assign(k=frame["t"] % 3 + 1), target="y", predictors=["x1", "k"], categorical=["k"])
    assert design.column_names == ("Intercept", "x1", "k[T.2]", "k[T.3]")  # level 1 is the reference


def test_pandas_category_and_bool_columns_are_categorical(frame):
    typed = frame.assign(flag=frame["x1"] > 0, g=pd.Categorical(frame["g"], categories=["c", "b", "a"]))
    design = prepare(typed, target="y", predictors=["g", "flag"])
    assert design.column_names == ("Intercept", "g[T.b]", "g[T.a]", "flag[T.True]")


def test_caller_frame_is_not_modified(frame):
    frame.loc[3, "x2"] = np.nan
    before = frame.copy(deep=True)
    prepare(frame, target="y", order_by="t")
    pd.testing.assert_frame_equal(frame, before)


def test_formula_terms_and_names(frame):
    design = prepare(frame, formula="y ~ x1 + np.exp(x2) + C(g)")
    assert design.column_names == ("Intercept", "C(g)[T.b]", "C(g)[T.c]", "x1", "np.exp(x2)")
    assert design.target == "y"
    assert set(design.predictors) == {"x1", "x2", "g"}


def test_formula_without_intercept(frame):
    design = prepare(frame, formula="y ~ x1 + x2", intercept=False)
    assert design.column_names == ("x1", "x2")
    assert not design.has_intercept


# --------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, error, fragment", [
    ({"target": "nope"}, ColumnNotFoundError, "'nope'"),
    ({"target": "Y"}, ColumnNotFoundError, "Did you mean 'y'"),
    ({"target": "y", "predictors": ["x1", "zz"]}, ColumnNotFoundError, "'zz'"),
    ({"target": "y", "predictors": ["x1", "y"]}, DataError, "also listed as a predictor"),
    ({"target": "y", "predictors": ["x1", "x1"]}, DataError, "more than once"),
    ({"target": "y", "predictors": ["x1"], "categorical": ["g"]}, DataError, "not among the predictors"),
    ({"target": "y", "order_by": "when"}, ColumnNotFoundError, "'when'"),
    ({"formula": "y ~ x1 + x3"}, FormulaError, "'x3'"),
    ({"formula": "y x1"}, FormulaError, "y ~ x1"),
    ({}, DataError, "target"),
])
def test_bad_arguments_name_the_problem(frame, kwargs, error, fragment):
    with pytest.raises(error) as raised:
        prepare(frame, **kwargs)
    assert fragment in str(raised.value)
    assert isinstance(raised.value, OlscheckError)


def test_non_numeric_target(frame):
    with pytest.raises(NonNumericColumnError, match="'g'"):
        prepare(frame, target="g")


def test_mostly_numeric_column_with_text_is_an_error_naming_values(frame):
    dirty = frame.assign(x1=frame["x1"].astype(object))
    dirty.loc[4, "x1"] = "n/a"
    with pytest.raises(NonNumericColumnError, match=r"'x1'.*'n/a'"):
        prepare(dirty, target="y")


def test_infinite_values_name_column_and_row(frame):
    bad = frame.copy()
    bad.loc[7, "x2"] = np.inf
    with pytest.raises(NonFiniteValueError, match=r"'x2'.*row 7"):
        prepare(bad, target="y")
    bad = frame.copy()
    bad.loc[3, "y"] = -np.inf
    with pytest.raises(NonFiniteValueError, match="'y'"):
        prepare(bad, target="y")


def test_all_missing_column(frame):
    with pytest.raises(DataError, match="'x2' has no values"):
        prepare(frame.assign(x2=np.nan), target="y")


def test_constant_target(frame):
    with pytest.raises(ConstantTargetError, match="'y'"):
        prepare(frame.assign(y=4.0), target="y")


def test_too_few_rows_for_parameters(frame):
    with pytest.raises(InsufficientDataError, match="parameters"):
        prepare(frame.head(4), target="y", predictors=["x1", "x2", "g"])


def test_no_rows_left_after_dropping(frame):
    holes = frame.copy()
    holes.loc[::2, "x1"] = np.nan
    holes.loc[1::2, "x2"] = np.nan
    with pytest.raises(InsufficientDataError, match="no rows are left"):
        prepare(holes, target="y")


def test_empty_frame():
    with pytest.raises(InsufficientDataError, match="no rows"):
        prepare(pd.DataFrame({"y": [], "x": []}), target="y")


def test_duplicated_column_names():
    frame = pd.DataFrame(np.arange(12.0).reshape(4, 3), columns=["y", "x", "x"])
    with pytest.raises(DataError, match="'x' appear more than once"):
        prepare(frame, target="y")


def test_non_string_column_names_work():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(20, 3)), columns=[0, 1, 2])
    design = prepare(frame, target=0)
    assert design.column_names == ("Intercept", "1", "2")
    assert prepare(frame, target="0").target == "0"


def test_single_level_categorical_is_left_out_with_a_note(frame):
    design = prepare(frame.assign(g="same"), target="y", predictors=["x1", "g"])
    assert design.column_names == ("Intercept", "x1")
    assert any("single level" in note for note in design.notes)


def test_too_many_levels_is_an_error():
    n = 1500
    frame = pd.DataFrame({"y": np.arange(n) % 7 * 1.0, "id": [f"id{i}" for i in range(n)]})
    with pytest.raises(DataError, match="'id' has 1500 levels"):
        prepare(frame, target="y")


# --------------------------------------------------------------------- files
def test_reads_csv_tsv_and_parquet(tmp_path, frame):
    frame.to_csv(tmp_path / "d.csv", index=False)
    frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    frame.to_parquet(tmp_path / "d.parquet")
    for name in ("d.csv", "d.tsv", "d.parquet"):
        design = prepare(tmp_path / name, target="y", predictors=["x1", "g"])
        np.testing.assert_allclose(design.y, frame["y"].to_numpy(), rtol=1e-15)


@pytest.mark.parametrize("content, suffix, fragment", [
    (None, ".csv", "does not exist"),
    (b"", ".csv", "is empty"),
    (b"y,x\n", ".csv", "no rows"),
    (b"PK\x03\x04garbage", ".parquet", "cannot read"),
    (b"y,x\n1,2\n", ".xlsx", "format"),
    (b"\xff\xfe\x00\x00bad", ".csv", "not UTF-8"),
])
def test_bad_files(tmp_path, content, suffix, fragment):
    path = tmp_path / f"data{suffix}"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(OlscheckError, match=fragment):
        prepare(path, target="y")


def test_read_table_rejects_directory(tmp_path):
    with pytest.raises(InputFileError, match="directory"):
        read_table(tmp_path)


def test_check_enough_rows_names_the_widest_categorical_term():
    from olscheck.data import check_enough_rows
    from olscheck.design import Term
    from olscheck.errors import InsufficientDataError

    terms = [Term("x", (1,), False), Term("city", (2, 3, 4, 5), True)]
    check_enough_rows(6, 5, terms)  # parameters + 1 rows: enough
    with pytest.raises(InsufficientDataError, match=r"5 usable row\(s\) for 6 parameter\(s\).*'city' alone takes 4"):
        check_enough_rows(5, 6, terms)
