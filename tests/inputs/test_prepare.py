"""Turning DataFrames, files and formulas into a design; bad input gives clear errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from olscheck.inputs.prepare import prepare, read_table
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
from tests.helpers import load_reference, needs_reference, reference_cases


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


# ------------------------------------------------------- no intercept: the first factor with every level
def r_to_patsy(r_name: str, factors, predictors, intercept: bool) -> str:
    """R's coefficient name (``tensionH``, ``woolB``) as olscheck/patsy name it (``tension[H]``, ``wool[T.B]``).

    Without an intercept R and patsy code the first factor with one column per level, ``f[level]``;
    every other factor keeps treatment coding, ``f[T.level]``.
    """
    if r_name == "(Intercept)":
        return "Intercept"
    full = None if intercept else next((p for p in predictors if p in factors), None)
    for factor in factors:
        if r_name.startswith(factor) and r_name not in predictors:
            level = r_name[len(factor):]
            return f"{factor}[{level}]" if factor == full else f"{factor}[T.{level}]"
    return r_name


def test_no_intercept_codes_the_first_factor_with_every_level(frame):
    two = frame.assign(h=np.where(frame["x2"] > 0, "u", "v"))
    design = prepare(two, target="y", predictors=["x1", "g", "h"], intercept=False)
    assert design.column_names == ("x1", "g[a]", "g[b]", "g[c]", "h[T.v]")
    assert not design.has_intercept
    assert [term.columns for term in design.terms] == [(0,), (1, 2, 3), (4,)]
    np.testing.assert_array_equal(design.x[:, 1:4].sum(axis=1), np.ones(len(frame)))  # the indicators span the constant
    np.testing.assert_array_equal(design.x[:, 1], (two["g"] == "a").to_numpy(dtype=float))
    # with an intercept nothing changes: treatment coding for every factor
    assert prepare(two, target="y", predictors=["x1", "g", "h"]).column_names == \
        ("Intercept", "x1", "g[T.b]", "g[T.c]", "h[T.v]")


def test_no_intercept_columns_and_formula_fit_the_same_model(frame):
    import olscheck

    two = frame.assign(h=np.where(frame["x2"] > 0, "u", "v"))
    by_columns = olscheck.check(two, target="y", predictors=["x1", "g", "h"], intercept=False, probe=False)
    by_formula = olscheck.check(two, formula="y ~ x1 + g + h - 1", probe=False)
    assert set(by_columns.model.coefficients.index) == {"x1", "g[a]", "g[b]", "g[c]", "h[T.v]"}
    assert set(by_formula.model.coefficients.index) == set(by_columns.model.coefficients.index)
    names = list(by_formula.model.coefficients.index)  # patsy puts the factors first: compare by name
    np.testing.assert_allclose(by_columns.model.coefficients[names], by_formula.model.coefficients[names], rtol=1e-10)
    np.testing.assert_allclose(by_columns.model.std_errors[names], by_formula.model.std_errors[names], rtol=1e-10)
    for field in ("sigma", "r_squared", "adj_r_squared", "f_statistic"):
        assert getattr(by_columns.model, field) == pytest.approx(getattr(by_formula.model, field), rel=1e-10)
    for key, result in by_formula.tests.items():
        other = by_columns.tests[key]
        assert other.computable == result.computable, key
        if result.statistic is not None:
            assert other.statistic == pytest.approx(result.statistic, rel=1e-7, abs=1e-12), key
        if result.p_value is not None:
            assert other.p_value == pytest.approx(result.p_value, rel=1e-6, abs=1e-12), key
    # intercept=False with a formula means "- 1": the same design again
    again = olscheck.check(two, formula="y ~ x1 + g + h", intercept=False, probe=False)
    assert list(again.model.coefficients.index) == names


def test_no_intercept_single_level_first_factor_passes_full_coding_on(frame):
    design = prepare(frame.assign(k="only"), target="y", predictors=["k", "g", "x1"], intercept=False)
    assert design.column_names == ("g[a]", "g[b]", "g[c]", "x1")
    assert any("single level" in note for note in design.notes)


def test_levels_differing_only_in_case_or_spaces_stay_levels_and_get_a_note(frame):
    answers = np.array(["Yes", "yes", "No", "NO ", "No", "maybe"])[np.arange(len(frame)) % 6]
    design = prepare(frame.assign(answer=answers), target="y", predictors=["x1", "answer"])
    # R (C locale): factor(answers) has the five exact texts as levels, sorted "NO " < "No" < "Yes" < "maybe" <
    # "yes"; treatment coding against "NO " gives four columns
    assert design.column_names == ("Intercept", "x1", "answer[T.No]", "answer[T.Yes]", "answer[T.maybe]",
                                   "answer[T.yes]")
    note = next(note for note in design.notes if "letter case" in note)
    assert "'NO ' and 'No'" in note and "'Yes' and 'yes'" in note and "maybe" not in note
    # distinct spellings only: no note
    plain = prepare(frame.assign(answer=np.where(answers == "NO ", "No", answers)).assign(
        answer=lambda f: f["answer"].str.lower()), target="y", predictors=["x1", "answer"])
    assert not any("letter case" in note for note in plain.notes)


@needs_reference
def test_no_intercept_matches_r_lm_on_warpbreaks():
    from olscheck.model.fit import fit

    if "warpbreaks_nointercept" not in reference_cases():
        pytest.skip("this checkout's ../shared/reference has no warpbreaks_nointercept case")
    expected, data = load_reference("warpbreaks_nointercept")
    assert expected["intercept"] is False  # lm(breaks ~ tension + wool - 1)
    result = fit(prepare(data, target=expected["response"], predictors=expected["predictors"],
                         categorical=expected["factors"], intercept=False))
    assert result.column_names == ("tension[H]", "tension[L]", "tension[M]", "wool[T.B]")
    coefficients, std_errors = result.coefficient_series(), result.std_error_series()
    for r_name, value in expected["coefficients"].items():
        name = r_to_patsy(r_name, expected["factors"], expected["predictors"], intercept=False)
        assert coefficients[name] == pytest.approx(value, rel=1e-9)
        assert std_errors[name] == pytest.approx(expected["std_errors"][r_name], rel=1e-9)
    for field in ("sigma", "r_squared", "adj_r_squared", "f_statistic"):
        assert getattr(result, field) == pytest.approx(expected[field], rel=1e-9)
    assert result.condition_number == pytest.approx(expected["condition_number"], rel=1e-7)


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


def test_missing_marker_in_a_numeric_column_is_a_missing_value(frame):
    dirty = frame.assign(x1=frame["x1"].astype(object))
    dirty.loc[4, "x1"] = "n/a"
    design = prepare(dirty, target="y")
    assert (design.n_used, design.n_dropped) == (29, 1)
    np.testing.assert_array_equal(design.x[:, 1], frame["x1"].drop(index=4).to_numpy())
    assert any("x1 1" in note for note in design.notes)


def test_mostly_numeric_column_with_text_is_an_error_naming_values(frame):
    dirty = frame.assign(x1=frame["x1"].astype(object))
    dirty.loc[4, "x1"] = "about 3"
    with pytest.raises(NonNumericColumnError, match=r"'x1'.*'about 3'"):
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
        prepare(frame.assign(x2=np.nan), target="y", predictors=["x1", "x2"])
    design = prepare(frame.assign(x2=np.nan), target="y")  # screened: left out, with the reason
    assert "x2" not in design.predictors
    decision = {d.name: d for d in design.columns}["x2"]
    assert decision.role == "excluded" and "no values" in decision.reason


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


def test_too_many_levels_is_an_error_when_named():
    n = 1500
    frame = pd.DataFrame({"y": np.arange(n) % 7 * 1.0, "x": np.arange(n) % 5 * 1.0, "id": [f"id{i}" for i in range(n)]})
    with pytest.raises(DataError, match="'id' has 1500 levels"):
        prepare(frame, target="y", predictors=["x", "id"])
    assert prepare(frame, target="y").predictors == ("x",)  # screened: an identifier


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
    (b"y,x\n1,2\n", ".xlsx", "Excel workbook"),
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
    from olscheck.inputs.prepare import check_enough_rows
    from olscheck.model.design import Term
    from olscheck.errors import InsufficientDataError

    terms = [Term("x", (1,), False), Term("city", (2, 3, 4, 5), True)]
    check_enough_rows(6, 5, terms)  # parameters + 1 rows: enough
    with pytest.raises(InsufficientDataError, match=r"5 usable row\(s\) for 6 parameter\(s\).*'city' alone takes 4"):
        check_enough_rows(5, 6, terms)


# ------------------------------------------------------------------------------------ groups
def test_groups_follow_the_rows_and_are_never_a_predictor(frame):
    holes = frame.assign(store=np.where(frame["t"] % 3 == 0, "north", "south"))
    holes.loc[4, "store"] = None
    holes.loc[6, "x1"] = np.nan
    for design in (prepare(holes, target="y", groups="store", order_by="t"),
                   prepare(holes, formula="y ~ x1 + x2 + g", groups="store", order_by="t")):
        assert "store" not in design.predictors
        assert design.n_dropped == 2 and design.n_used == 28
        assert design.groups.name == "store"
        assert list(design.groups.index) == list(design.row_index)
        assert design.groups.to_dict() == holes.loc[design.row_index, "store"].to_dict()
        assert list(design.row_index) == list(holes.drop(index=[4, 6]).sort_values("t").index)
    assert prepare(holes, target="y").groups is None
    assert "store" in prepare(holes, target="y").predictors  # without groups= it is an ordinary column


@pytest.mark.parametrize("values, expected", [
    ([0, 1, 1, 0, 1], (0.0, 1.0)),
    ([2.5, -1.0, 2.5], (-1.0, 2.5)),
    ([0, 1, 2], None),
    ([7.0, 7.0], (7.0,)),
    ([], ()),
])
def test_target_values_are_its_distinct_values_up_to_two(values, expected):
    from olscheck.inputs.prepare import target_values

    assert target_values(np.array(values, dtype=float)) == expected


def test_target_values_read_every_row_beyond_the_first():
    from olscheck.inputs.prepare import merged_target_values, target_values

    # the first 64 rows alone would say "two values"
    y = np.r_[np.zeros(100), np.ones(100), [0.5]]
    assert target_values(y[:200]) == (0.0, 1.0)
    assert target_values(y) is None
    assert target_values(np.random.default_rng(0).normal(size=1000)) is None
    assert merged_target_values((0.0,), (1.0,)) == (0.0, 1.0)
    assert merged_target_values((0.0, 1.0), (1.0,)) == (0.0, 1.0)
    assert merged_target_values((0.0, 1.0), (2.0,)) is None
    assert merged_target_values(None, (1.0,)) is None
