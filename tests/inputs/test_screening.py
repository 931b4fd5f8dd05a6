"""Column screening (olscheck/screening.py) and the read options (olscheck/reading.py), on hand-built cases.

Every expected value is written out by hand (51,877 is 51877; 3,5 is 3.5;
31/01/2021 is the 31st of January), never computed by the code under test.
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest

from olscheck.inputs.prepare import prepare, read_table
from olscheck.errors import ColumnNotFoundError, ConfigurationError, DataError, InputFileError, NonNumericColumnError
from olscheck.inputs.reading import ReadOptions, read_options, sniff
from olscheck.inputs.screening import MISSING_MARKERS, looks_like_identifier_name, profile_column, too_many_levels

N = 60


def base(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({"y": 1 + 2 * x + rng.normal(size=n), "x": x})


def decisions(design) -> dict:
    return {decision.name: decision for decision in design.columns}


# ----------------------------------------------------------------------------- identifiers
@pytest.mark.parametrize("name", ["id", "customer_id", "CustomerID", "orderId", "ticket no", "uuid", "row_index",
                                  "zip code", "ID_2"])
def test_identifier_names(name):
    assert looks_like_identifier_name(name)


@pytest.mark.parametrize("name", ["x", "t", "width", "valid", "idea", "income", "period", "video", "dose"])
def test_names_that_are_not_identifiers(name):
    assert not looks_like_identifier_name(name)


def test_numeric_identifier_with_an_id_name_is_excluded_and_a_plain_run_is_kept():
    frame = base().assign(customer_id=np.arange(100001, 100001 + N), t=np.arange(N),
                          order_no=np.random.default_rng(1).permutation(N) + 7)
    design = prepare(frame, target="y")
    assert design.predictors == ("x", "t")  # t = 0..59 is a trend, as NIST's Wampler x = 0..20
    found = decisions(design)
    assert found["customer_id"].role == "excluded" and "run of consecutive integers 100001…100060" in \
        found["customer_id"].reason
    assert found["order_no"].role == "excluded" and "permutation" in found["order_no"].reason
    assert found["t"].role == "predictor"


def test_a_repeated_integer_with_an_id_name_is_kept():
    # a store number shared by many rows is a category or a number, not a row identifier
    frame = base().assign(store_id=np.arange(N) % 4)
    assert "store_id" in prepare(frame, target="y").predictors


def test_text_identifiers_and_free_text_are_excluded():
    frame = base().assign(code=[f"A{i:03d}" for i in range(N)],
                          note=[f"the customer called about order {i}" for i in range(N)])
    design = prepare(frame, target="y")
    assert design.predictors == ("x",)
    found = decisions(design)
    assert found["code"].kind == "id" and "every value is distinct" in found["code"].reason
    assert found["note"].kind == "text" and "free text" in found["note"].reason
    assert found["code"].distinct == N


def test_nearly_distinct_text_is_an_identifier():
    codes = [f"C{i}" for i in range(N)]
    codes[1] = codes[0]  # 59 distinct values in 60 rows (98%)
    design = prepare(base().assign(code=codes), target="y")
    assert decisions(design)["code"].role == "excluded"


def test_small_tables_keep_their_few_distinct_labels():
    profile = profile_column(pd.Series(["a", "b", "c", "d", "e", "f"] * 2), "g")
    assert profile.kind == "categorical" and not profile.excluded and profile.distinct == 6


# ----------------------------------------------------------------------------- levels
def test_level_rule_boundary():
    assert not too_many_levels(20, 100) and too_many_levels(21, 100)   # max(20, 10) = 20
    assert not too_many_levels(300, 3000) and too_many_levels(301, 3000)  # max(20, 300) = 300


def test_too_many_levels_are_excluded_never_expanded():
    n = 3000
    rng = np.random.default_rng(2)
    frame = base(n).assign(code=[f"K{v}" for v in rng.integers(0, 873, n)], region=rng.choice(["a", "b"], n))
    design = prepare(frame, target="y")
    assert design.predictors == ("x", "region")
    assert design.x.shape[1] == 3
    reason = decisions(design)["code"].reason
    assert "levels in 3000 rows" in reason and "max(20, n/10) = 300" in reason


def test_singleton_levels_covering_most_rows_are_excluded():
    # 15 levels (at most 20 allowed), of which 14 are single rows out of 30: fewer than half, kept
    kept = profile_column(pd.Series([f"s{i}" for i in range(14)] + ["a"] * 16), "g")
    assert kept.kind == "categorical" and not kept.excluded
    # 17 levels, 16 single rows out of 30: more than half, excluded
    frame = base(30).assign(g=[f"s{i}" for i in range(16)] + ["a"] * 14)
    found = decisions(prepare(frame, target="y"))["g"]
    assert found.role == "excluded" and "16 of its 17 levels occur in one row only" in found.reason


# ----------------------------------------------------------------------------- numbers written as text
@pytest.mark.parametrize("texts, numbers, stripped", [
    (["51,877", "1,204", "3,450,000", "999"], [51877, 1204, 3450000, 999], "thousands"),
    (["3,5", "0,25", "12,75", "7"], [3.5, 0.25, 12.75, 7], "decimal mark"),
    (["0,125", "1,500", "2,250"], [0.125, 1.5, 2.25], "decimal mark"),  # a leading 0 is never a thousands group
    (["1.234,5", "12,25", "1.000.000,0"], [1234.5, 12.25, 1000000.0], "decimal mark"),
    (["1,234.5", "12.25", "1,000,000.0"], [1234.5, 12.25, 1000000.0], "thousands"),
    (["12.5%", "0%", "-3.25%"], [12.5, 0, -3.25], "percentage points"),
    (["$1,200.50", "-$5.00", "$0.99"], [1200.5, -5.0, 0.99], "'$'"),
    (["€ 12", "€ 7,5", "€ 1.000,25"], [12, 7.5, 1000.25], "'€'"),
    (["63.3 kg", "70 kg", "101.9 kg"], [63.3, 70, 101.9], "'kg'"),
    (["USD 1,200", "USD 300", "USD 2,000,000"], [1200, 300, 2000000], "'USD'"),
    (["1'234.5", "12", "1'000'000"], [1234.5, 12, 1000000], "thousands"),
    (["12,5 °C", "-3 °C", "20 °C"], [12.5, -3, 20], "'°C'"),
    # accounting exports: negative numbers in parentheses, the currency sign before or inside them
    (["1,445", "(1,518)", "(781)", "12"], [1445, -1518, -781, 12], "parentheses for negative numbers"),
    (["$1,200.50", "$(5.00)", "($1,000.25)"], [1200.5, -5.0, -1000.25], "parentheses for negative numbers"),
    (["( 3,5 )", "2,25", "(0,5)"], [-3.5, 2.25, -0.5], "decimal mark"),
])
def test_numbers_written_with_a_unit_or_separators(texts, numbers, stripped):
    column = pd.Series(texts * 10)
    profile = profile_column(column, "v")
    assert profile.kind == "numeric"
    np.testing.assert_allclose(profile.values, np.array(numbers * 10, dtype=float), rtol=0, atol=1e-12)
    assert stripped in profile.reason


def test_parentheses_around_every_value_are_labels_not_negative_numbers():
    # "(1)", "(2)", ... with no number outside parentheses: a list's labels, not an accounting column
    profile = profile_column(pd.Series(["(1)", "(2)", "(3)"] * 10), "v")
    assert profile.kind == "categorical"
    assert profile.values is None


def test_a_streamed_chunk_reads_accounting_negatives_as_the_first_chunk_decided():
    from olscheck.inputs.screening import numbers_from_text

    first = profile_column(pd.Series(["1,445", "(1,518)"] * 10), "v")
    later = numbers_from_text(pd.Series(["(2,000)", "3", "NA"]), first.number_format, "v", "predictor")
    np.testing.assert_array_equal(later, [-2000.0, 3.0, np.nan])


def test_the_decimal_mark_of_the_file_settles_three_digits_after_a_comma():
    column = pd.Series(["51,877", "1,204", "2,5"][:2] * 5)
    np.testing.assert_allclose(profile_column(column, "v").values, [51877, 1204] * 5)
    np.testing.assert_allclose(profile_column(column, "v", decimal_hint=",").values, [51.877, 1.204] * 5)


def test_converted_columns_in_prepare_are_named_with_what_was_stripped():
    frame = base()
    written = frame.assign(x=[f"${v * 1000:,.2f}" for v in frame["x"]], y=[f"{v:.6f}" for v in frame["y"]])
    design = prepare(written, target="y")
    found = decisions(design)
    assert found["x"].role == "converted" and "'$'" in found["x"].reason
    np.testing.assert_allclose(design.x[:, 1], np.round(frame["x"] * 1000, 2), rtol=1e-12)
    np.testing.assert_allclose(design.y, np.round(frame["y"], 6), rtol=1e-12)
    assert found["y"].role == "target" and "numbers written as text" in found["y"].reason


@pytest.mark.parametrize("texts, fragments", [
    (["63 kg", "140 lb"], ("'kg'", "'lb'", "one unit")),
    (["$5", "€5"], ("'$'", "'€'")),
    (["1,234.5", "1.234,5"], ("1,234.5", "1.234,5")),
])
def test_numbers_that_cannot_be_put_on_one_scale_are_an_error(texts, fragments):
    frame = base().assign(v=texts * (N // 2))
    with pytest.raises(NonNumericColumnError) as raised:
        prepare(frame, target="y")
    for fragment in fragments:
        assert fragment in str(raised.value)


def test_a_comma_number_in_a_plain_column_gets_the_correct_fix():
    values = [f"{v:.2f}" for v in np.random.default_rng(3).uniform(10, 900, N)]
    values[7] = "51,877"
    values[9] = "hello"
    with pytest.raises(NonNumericColumnError) as raised:
        prepare(base().assign(v=values), target="y")
    message = str(raised.value)
    assert "'hello'" in message
    values[9] = "12.5"
    design = prepare(base().assign(v=values), target="y")  # "51,877" among plain numbers: thousands
    assert design.x[7, 2] == 51877.0


# ----------------------------------------------------------------------------- missing markers
@pytest.mark.parametrize("marker", sorted(MISSING_MARKERS))
def test_every_missing_marker_is_a_missing_value(marker):
    frame = base().astype({"x": object})
    frame.loc[5, "x"] = marker
    frame.loc[8, "x"] = f"  {marker.upper()} "
    design = prepare(frame, target="y")
    assert (design.n_used, design.n_dropped) == (N - 2, 2)
    assert decisions(design)["x"].missing == 2


def test_markers_in_a_categorical_and_the_target_are_missing_and_counted_per_column():
    frame = base().assign(g=np.tile(["a", "b", "c"], N // 3)).astype({"y": object})
    frame.loc[[1, 2], "g"] = ["?", "-"]
    frame.loc[[2, 10], "y"] = ["NA", "."]
    design = prepare(frame, target="y")
    assert design.n_dropped == 3
    assert design.column_names == ("Intercept", "x", "g[T.b]", "g[T.c]")  # no level "?" or "-"
    notes = " ".join(design.notes)
    assert "missing per column:" in notes and "g 2" in notes and "y 2" in notes


def test_extra_missing_markers_from_the_read_options(tmp_path):
    path = tmp_path / "data.csv"
    frame = base().astype({"x": object})
    frame.loc[4, "x"] = "unknown"
    frame.to_csv(path, index=False)
    with pytest.raises(NonNumericColumnError, match="'unknown'"):
        prepare(path, target="y")
    assert prepare(path, target="y", read={"na_values": ["unknown"]}).n_dropped == 1


# ----------------------------------------------------------------------------- dates
def test_iso_dates_in_file_order_become_the_order():
    frame = base().assign(day=pd.date_range("2021-01-01", periods=N).strftime("%Y-%m-%d"))
    design = prepare(frame, target="y")
    assert design.predictors == ("x",) and design.order_by == "day"
    assert "already in date order" in decisions(design)["day"].reason


def test_day_first_dates_out_of_order_sort_the_rows():
    dates = pd.date_range("2021-01-01", periods=N)
    order = np.random.default_rng(4).permutation(N)
    frame = base().assign(day=dates[order].strftime("%d/%m/%Y"))
    design = prepare(frame, target="y")
    assert design.order_by == "day"
    np.testing.assert_array_equal(np.asarray(design.row_index), np.argsort(order))  # by date, not by text
    assert "day-first" in decisions(design)["day"].reason and "sorted by it" in decisions(design)["day"].reason


def test_month_first_dates_are_read_month_first():
    frame = base(3).assign(day=["01/31/2021", "02/01/2021", "12/13/2020"])
    profile = profile_column(frame["day"], "day")
    assert profile.kind == "date" and "month-first" in profile.reason
    assert list(profile.dates) == [pd.Timestamp("2021-01-31"), pd.Timestamp("2021-02-01"), pd.Timestamp("2020-12-13")]


def test_dates_whose_day_and_month_cannot_be_told_apart_are_excluded_and_not_the_order():
    frame = base(12).assign(day=[f"{d:02d}/{m:02d}/2021" for d, m in zip(range(1, 13), range(12, 0, -1))])
    design = prepare(frame, target="y")
    assert design.order_by is None and "day" not in design.predictors
    assert "cannot be told apart" in decisions(design)["day"].reason


def test_two_date_columns_are_never_predictors_and_neither_is_the_order():
    days = pd.date_range("2021-01-01", periods=N)
    design = prepare(base().assign(start=days, end=days + pd.Timedelta(days=3)), target="y")
    assert design.predictors == ("x",) and design.order_by is None
    assert all("name one in order_by=" in decisions(design)[c].reason for c in ("start", "end"))


def test_a_date_column_with_a_missing_date_is_proposed_not_used():
    days = pd.Series(pd.date_range("2021-01-01", periods=N))
    days[3] = pd.NaT
    design = prepare(base().assign(day=days), target="y")
    assert design.order_by is None and design.n_dropped == 0
    assert "order_by='day'" in decisions(design)["day"].reason


def test_a_datetime_index_keeps_the_order_and_dates_stay_out():
    frame = base().assign(day=pd.date_range("2021-01-01", periods=N)).set_index(pd.date_range("2020-01-01",
                                                                                              periods=N))
    design = prepare(frame, target="y")
    assert design.order_by is None and "DatetimeIndex" in design.order_note and "day" not in design.predictors


def test_a_date_named_in_predictors_is_days_since_1970():
    frame = base(4).assign(day=["31/01/1970", "01/01/1970", "15/02/1970", "02/01/1970"], y=[1.0, 2.0, 4.0, 3.0],
                           x=[0.0, 1.0, 1.0, 2.0])
    design = prepare(frame, target="y", predictors=["x", "day"])
    np.testing.assert_array_equal(design.x[:, 2], [30.0, 0.0, 45.0, 1.0])
    assert decisions(design)["day"].role == "converted"


# ----------------------------------------------------------------------------- roles and exclude
def test_every_column_gets_one_decision_in_the_frame_order():
    frame = base().assign(g=np.tile(["a", "b"], N // 2), t=np.arange(N), store=np.arange(N) % 5)
    design = prepare(frame, target="y", order_by="t", groups="store")
    assert [(d.name, d.role) for d in design.columns] == [
        ("y", "target"), ("x", "predictor"), ("g", "predictor"), ("t", "order"), ("store", "group")]


def test_exclude_leaves_columns_out_and_is_checked():
    frame = base().assign(z=np.arange(N) * 0.5 % 7, w=np.arange(N) % 3 * 1.0)
    design = prepare(frame, target="y", exclude=["z", "w"])
    assert design.predictors == ("x",)
    assert decisions(design)["z"].reason == "left out by exclude="
    assert prepare(frame, target="y", exclude="z").predictors == ("x", "w")
    with pytest.raises(ColumnNotFoundError, match="'zz'"):
        prepare(frame, target="y", exclude=["zz"])
    with pytest.raises(DataError, match="target"):
        prepare(frame, target="y", exclude=["y"])
    with pytest.raises(DataError, match="both in predictors= and in exclude="):
        prepare(frame, target="y", predictors=["x", "z"], exclude=["z"])
    with pytest.raises(DataError, match="formula"):
        prepare(frame, formula="y ~ x", exclude=["z"])


def test_the_callers_frame_is_not_modified():
    frame = base().assign(v=[f"{v:.1f} kg" for v in range(N)], g=["?"] + ["a", "b"] * (N // 2 - 1) + ["a"],
                          day=pd.date_range("2021-01-01", periods=N).strftime("%d/%m/%Y"))
    before = frame.copy(deep=True)
    prepare(frame, target="y")
    pd.testing.assert_frame_equal(frame, before)


def test_text_categoricals_keep_sorted_levels_and_the_reference():
    frame = base().assign(g=np.tile(["zeta", "alpha", "mid"], N // 3))
    design = prepare(frame, target="y")
    assert design.column_names == ("Intercept", "x", "g[T.mid]", "g[T.zeta]")
    np.testing.assert_array_equal(design.x[:, 2], (frame["g"] == "mid").to_numpy(dtype=float))


# ----------------------------------------------------------------------------- read options
@pytest.mark.parametrize("options, fragment", [
    ({"sep": ""}, "sep"),
    ({"decimal": "ab"}, "decimal"),
    ({"decimal": ",", "thousands": ","}, "both ','"),
    ({"sep": ";", "decimal": ";"}, "sep and decimal"),
    ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
    ({"sheet": -1}, "sheet"),
    ({"seperator": ";"}, "unknown read option(s) 'seperator'"),
    ({"na_values": [1, 2]}, "na_values"),
    ({"skip_rows": -1}, "skip_rows must be a number of lines"),
    ({"skip_rows": "two"}, "skip_rows must be a number of lines"),
    ({"skip_rows": True}, "skip_rows must be a number of lines"),
])
def test_bad_read_options_are_one_clear_error(options, fragment):
    with pytest.raises(ConfigurationError) as raised:
        read_options(options)
    assert fragment in str(raised.value)


def test_read_options_normalise():
    assert ReadOptions(sep="tab").sep == "\t" and ReadOptions(sep="semicolon").sep == ";"
    assert ReadOptions(na_values="x,y").na_values == ("x", "y")
    assert ReadOptions(sheet="2").sheet == 2
    with pytest.raises(ConfigurationError, match="ReadOptions or a mapping"):
        read_options(";")


@pytest.mark.parametrize("text, expected", [
    ("a;b;c\n1,5;2;3\n2,5;3;4\n", (";", ",")),
    ("a;b\n1.5;2\n2.5;3\n", (";", ".")),
    ("a,b\n1,2\n3,4\n", (",", ".")),
    ("a|b|c\n1|2|3\n", ("|", ".")),
    ("a\tb\n1,5\t2\n", ("\t", ",")),
    ('a,b\n"x;y",2\n"z;w",3\n', (",", ".")),  # semicolons inside quotes do not count
])
def test_sniffing_the_delimiter_and_decimal_mark(text, expected):
    assert sniff(text, ReadOptions()) == expected


def test_a_semicolon_file_with_decimal_commas_is_read(tmp_path):
    frame = base()
    path = tmp_path / "euro.csv"
    frame.to_csv(path, index=False, sep=";", decimal=",")
    read = read_table(path)
    np.testing.assert_allclose(read["x"], frame["x"], rtol=1e-15)
    explicit = read_table(path, ReadOptions(sep=";", decimal=","))
    np.testing.assert_allclose(explicit["y"], frame["y"], rtol=1e-15)
    with pytest.raises(InputFileError, match="semicolon"):
        read_table(path, {"sep": ","})


def test_thousands_and_encoding_options(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("y;x;g\n1;1.234,5;caf\xe9\n2;2.000,0;th\xe9\n3;12,5;caf\xe9\n".encode("cp1252"))
    with pytest.raises(InputFileError, match="--encoding cp1252"):
        read_table(path)
    frame = read_table(path, {"encoding": "cp1252", "thousands": ".", "decimal": ","})
    assert frame["x"].tolist() == [1234.5, 2000.0, 12.5]
    assert frame["g"].tolist() == ["café", "thé", "café"]


def test_standard_input(monkeypatch):
    text = base().to_csv(index=False, sep=";", decimal=",").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text)))
    frame = read_table("-")
    np.testing.assert_allclose(frame["x"], base()["x"], rtol=1e-15)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    with pytest.raises(InputFileError, match="standard input"):
        read_table("-")


def test_excel_workbooks(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "data.xlsx"
    with pd.ExcelWriter(path) as writer:
        base().to_excel(writer, sheet_name="first", index=False)
        base(seed=1).to_excel(writer, sheet_name="second", index=False)
    np.testing.assert_allclose(read_table(path)["x"], base()["x"])
    np.testing.assert_allclose(read_table(path, {"sheet": "second"})["x"], base(seed=1)["x"])
    np.testing.assert_allclose(read_table(path, {"sheet": 1})["x"], base(seed=1)["x"])
    with pytest.raises(InputFileError, match="no sheet 'third'; its sheets are 'first', 'second'"):
        read_table(path, {"sheet": "third"})


def test_lines_above_the_header_are_skipped_in_memory_streamed_and_from_the_shell(tmp_path):
    # a spreadsheet export: a title, an export date, a blank line, then a semicolon table with decimal commas
    frame = base()
    body = frame.to_csv(index=False, sep=";", decimal=",")
    path = tmp_path / "export.csv"
    path.write_text("Sales report;;\nexported 2024-01-02;;\n\n" + body)
    plain = tmp_path / "plain.csv"
    plain.write_text(body)
    assert read_options({"skip_rows": "3"}).skip_rows == 3  # as --skip-rows gives it
    pd.testing.assert_frame_equal(read_table(path, {"skip_rows": 3}), read_table(plain))
    import olscheck
    from olscheck.cli import main

    reference = olscheck.check(plain, target="y", probe=False)
    for streaming in (False, True):
        report = olscheck.check(path, target="y", probe=False, read={"skip_rows": 3}, streaming=streaming)
        np.testing.assert_allclose(report.model.coefficients, reference.model.coefficients, rtol=1e-9)
    out = tmp_path / "report.json"
    assert main(["check", str(path), "--target", "y", "--no-probe", "--skip-rows", "3", "--json", str(out),
                 "--quiet"]) in (0, 1)
    assert json.loads(out.read_text())["data"]["n_used"] == len(frame)


def test_title_rows_of_an_excel_sheet_are_skipped(tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "titled.xlsx"
    titled = pd.concat([pd.DataFrame([["Sales 2023", None, None], [None, None, None]]),
                        pd.DataFrame([list(base().columns)]), pd.DataFrame(base().to_numpy(dtype=object))])
    titled.to_excel(path, index=False, header=False)
    np.testing.assert_allclose(read_table(path, {"skip_rows": 2})["x"].astype(float), base()["x"])


def test_excel_without_openpyxl_names_the_extra(tmp_path, monkeypatch):
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK\x03\x04 not read")
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import openpyxl now raises ImportError
    with pytest.raises(InputFileError) as raised:
        read_table(path)
    assert "pip install 'olscheck[excel]'" in str(raised.value) and "\n" not in str(raised.value)


def test_codes_that_end_in_letters_are_text_not_units():
    assert profile_column(pd.Series(["12B", "14A", "3C", "7B"] * 5), "apartment").kind == "categorical"
    assert profile_column(pd.Series(["3 rooms", "2 beds", "1 room"] * 5), "size").kind == "categorical"


# ----------------------------------------------------------------------------- many distinct values
def test_many_distinct_amounts_are_converted_exactly():
    # above LARGE_DISTINCT the format is read from a sample of the distinct values, then applied to all of them
    cents = np.random.default_rng(5).permutation(6000) * 137 + 100_000  # 6000 distinct amounts, 1,000.00 and more
    texts = pd.Series([f"${c // 100:,}.{c % 100:02d}" for c in cents])
    profile = profile_column(texts, "amount")
    assert profile.kind == "numeric" and profile.distinct == 6000
    np.testing.assert_array_equal(profile.values, cents / 100)


def test_a_second_unit_outside_the_sample_is_still_found():
    texts = pd.Series([f"{i}.5 kg" for i in range(6000)])
    texts[4321] = "4321.5 lb"  # not among the evenly spaced sample of distinct values
    with pytest.raises(NonNumericColumnError, match="'kg', 'lb'"):
        profile_column(texts, "weight")


def test_a_broken_thousands_group_outside_the_sample_makes_the_comma_ambiguous():
    texts = pd.Series([f"{1000 + i:,}" for i in range(6000)])
    texts[4321] = "5,32"  # never read as 5.32 (nor every other value as 1.000 ... 6.999)
    with pytest.raises(NonNumericColumnError) as raised:
        profile_column(texts, "amount")
    assert "'5,32'" in str(raised.value) and "decimal=','" in str(raised.value)
    np.testing.assert_allclose(profile_column(texts, "amount", decimal_hint=",").values[[0, 4321]], [1.0, 5.32])


def test_thousands_beside_a_decimal_comma_number_is_ambiguous():
    with pytest.raises(NonNumericColumnError, match="'51,877'.*51877.*'3,5'"):
        profile_column(pd.Series(["51,877", "1,204", "3,5"] * 4), "v")


def test_many_distinct_codes_are_identifiers():
    profile = profile_column(pd.Series([f"TK-{i:06d}" for i in range(20_000)]), "ticket")
    assert profile.kind == "id" and profile.excluded and profile.distinct == 20_000


def test_a_marker_in_a_declared_categorical_is_missing():
    frame = base().assign(k=np.tile(["1", "2", "3"], N // 3))
    frame.loc[4, "k"] = "-"
    design = prepare(frame, target="y", predictors=["x", "k"], categorical=["k"])
    assert design.column_names == ("Intercept", "x", "k[T.2]", "k[T.3]") and design.n_dropped == 1


def test_a_formula_gets_the_conversions_and_a_decision_for_every_column():
    frame = base().assign(g=np.tile(["a", "b", "c"], N // 3), note=[f"visit {i}" for i in range(N)])
    messy = frame.assign(x=[f"{v:.6f} kg" for v in frame["x"]]).astype({"g": object})
    messy.loc[[4, 9], "x"] = ["-", "?"]
    messy.loc[7, "g"] = "n/a"
    design = prepare(messy, formula="y ~ x + C(g)")
    kept = np.setdiff1d(np.arange(N), [4, 7, 9])
    x = design.x[:, design.column_names.index("x")]
    np.testing.assert_allclose(x, np.round(frame["x"].to_numpy()[kept], 6), rtol=1e-12)
    assert set(design.column_names) == {"Intercept", "x", "C(g)[T.b]", "C(g)[T.c]"} and design.n_dropped == 3
    found = decisions(design)
    assert found["x"].role == "converted" and "'kg'" in found["x"].reason
    assert found["note"].role == "excluded" and found["note"].reason == "not used in the formula"
    assert found["y"].role == "target"


def test_an_excluded_categorical_with_markers_names_both():
    # found by tests/test_properties.py: a marker in a column the level rules exclude
    profile = profile_column(pd.Series(["a", None, None, ","] * 1 + ["?"]), "x")
    assert profile.excluded and "one row only" in profile.reason and "'?' read as missing" in profile.reason


def test_a_screening_that_leaves_no_predictor_is_an_error_naming_the_columns():
    frame = base().assign(code=[f"A{i:03d}" for i in range(N)]).drop(columns="x")
    with pytest.raises(DataError, match=r"left no predictor \('code': an identifier"):
        prepare(frame, target="y")
