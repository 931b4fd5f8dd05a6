"""olscheck.check: when it streams, and that streaming gives the in-memory numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck import api
from olscheck.errors import ConfigurationError
from tests.engine.test_streaming import assert_same, make_frame


def test_streaming_true_on_a_frame_gives_the_in_memory_report():
    frame = make_frame()
    reference = olscheck.check(frame, target="y", probe=False)
    streamed = olscheck.check(frame, target="y", streaming=True, chunk_rows=37, probe=False)
    assert streamed.options["engine"] == "streaming"
    assert "engine" not in reference.options
    assert_same(reference, streamed)


def test_the_streamed_probe_is_the_in_memory_probe_when_every_row_is_kept():
    frame = make_frame()
    reference = olscheck.check(frame, target="y", seed=3)
    streamed = olscheck.check(frame, target="y", streaming=True, chunk_rows=50, seed=3)
    assert streamed.nonlinearity["probe"]["computed"]
    assert streamed.nonlinearity["probe"] == reference.nonlinearity["probe"]
    assert streamed.tests["nonlinear_probe"] == reference.tests["nonlinear_probe"]


def test_a_large_file_streams_by_default_and_a_small_one_does_not(tmp_path, monkeypatch):
    frame = make_frame()
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    small = olscheck.check(str(path), target="y", probe=False)
    assert "engine" not in small.options
    monkeypatch.setattr(api, "STREAMING_FILE_BYTES", path.stat().st_size - 1)
    large = olscheck.check(path, target="y", probe=False)
    assert large.options["engine"] == "streaming"
    assert_same(small, large)
    # a formula or order_by keeps the in-memory path (they need every row at once)
    assert "engine" not in olscheck.check(path, formula="y ~ x1 + x2", probe=False).options
    assert "engine" not in olscheck.check(path, target="y", order_by="x2", probe=False).options
    assert "engine" not in olscheck.check(path, target="y", probe=False, streaming=False).options


def test_streaming_refuses_what_needs_every_row_at_once():
    frame = make_frame()
    with pytest.raises(ConfigurationError, match="formula"):
        olscheck.check(frame, formula="y ~ x1", streaming=True)
    with pytest.raises(ConfigurationError, match="order_by"):
        olscheck.check(frame, target="y", order_by="x1", streaming=True)
    with pytest.raises(ConfigurationError, match="streaming"):
        olscheck.check(frame, target="y", streaming="yes")


def test_a_dask_frame_streams_unless_told_not_to():
    dd = pytest.importorskip("dask.dataframe", reason="dask is not installed (pip install 'olscheck[dask]')")
    frame = make_frame()
    reference = olscheck.check(frame, target="y", probe=False)
    distributed = dd.from_pandas(frame, npartitions=3)
    streamed = olscheck.check(distributed, target="y", probe=False)
    assert streamed.options["engine"] == "streaming"
    assert_same(reference, streamed)
    computed = olscheck.check(distributed, target="y", probe=False, streaming=False)
    assert "engine" not in computed.options
    assert computed.to_dict()["tests"] == reference.to_dict()["tests"]
    pd.testing.assert_frame_equal(frame, make_frame())  # nothing the caller passed was changed


def test_a_repeated_csv_header_name_is_refused_when_streaming_too(tmp_path):
    from olscheck.errors import DataError

    path = tmp_path / "repeat.csv"
    path.write_text("y,x,x\n1,2,3\n2,3,5\n3,5,4\n4,4,8\n5,6,9\n")
    for streaming in (False, True):
        with pytest.raises(DataError, match="'x'.*more than once"):
            olscheck.check(path, target="y", probe=False, streaming=streaming)


def test_rows_wider_than_the_header_are_refused_unless_the_extra_fields_are_empty(tmp_path):
    from olscheck.errors import InputFileError

    wider = tmp_path / "wider.csv"  # pandas would drop the third field of every row (or make the first the index)
    wider.write_text("y,x\n1,2,3\n2,3,4\n3,5,1\n4,4,2\n5,6,8\n6,7,1\n")
    trailing = tmp_path / "trailing.csv"  # a delimiter at the end of each data line: nothing is lost
    trailing.write_text("y,x\n1,2,\n2,3,\n3,5,\n4,4,\n5,6,\n6,7,\n")
    y, x = [1, 2, 3, 4, 5, 6], [2, 3, 5, 4, 6, 7]
    slope = np.polyfit(x, y, 1)[0]
    for streaming in (False, True):
        with pytest.raises(InputFileError, match="2 name.*3 fields"):
            olscheck.check(wider, target="y", probe=False, streaming=streaming)
        report = olscheck.check(trailing, target="y", probe=False, streaming=streaming)
        assert report.model.coefficients["x"] == pytest.approx(slope, rel=1e-12)


def test_streaming_true_names_what_it_cannot_read():
    import statsmodels.formula.api as smf

    frame = make_frame().dropna()
    for data in (smf.ols("y ~ x1", frame).fit(), frame.to_numpy(), {"y": [1.0, 2.0]}):
        with pytest.raises(ConfigurationError, match=f"streaming=True reads .* not {type(data).__name__}"):
            olscheck.check(data, target="y", streaming=True, probe=False)


def test_streaming_reads_paths_as_the_in_memory_reader_does(tmp_path, monkeypatch):
    from olscheck.errors import InputFileError

    monkeypatch.setenv("HOME", str(tmp_path))
    make_frame().to_parquet(tmp_path / "data.parquet")
    reference = olscheck.check(tmp_path / "data.parquet", target="y", probe=False)
    for path in ("~/data.parquet", str(tmp_path / "data.parquet").encode()):
        streamed = olscheck.check(path, target="y", probe=False, streaming=True)
        assert streamed.options["engine"] == "streaming"
        assert_same(reference, streamed)
    for path in ("", "a\0b.csv"):
        with pytest.raises(InputFileError):
            olscheck.check(path, target="y", probe=False, streaming=True)


# ----------------------------------------------------------------------------- groups=
def grouped_frame(n: int = 600, n_groups: int = 30, seed: int = 21) -> pd.DataFrame:
    """Errors with a random intercept per store (ICC about 0.3), a time column and a few missing values."""
    rng = np.random.default_rng(seed)
    g = rng.integers(0, n_groups, n)
    x1 = rng.normal(size=n) + rng.normal(size=n_groups)[g]
    x2 = rng.normal(size=n)
    error = np.sqrt(0.3) * rng.normal(size=n_groups)[g] + np.sqrt(0.7) * rng.normal(size=n)
    frame = pd.DataFrame({"y": 1 + x1 - x2 + error, "x1": x1, "x2": x2,
                          "store": [f"store {k}" for k in g], "t": rng.permutation(n)})
    frame.loc[[7, 8], "store"] = None
    frame.loc[9, "x1"] = np.nan
    return frame


def test_groups_adds_the_grouped_errors_test_and_records_the_column():
    from olscheck.report.result import Assumption

    frame = grouped_frame()
    report = olscheck.check(frame, target="y", groups="store", probe=False)
    result = report.tests["grouped_errors"]
    assert result.assumption is Assumption.INDEPENDENCE
    assert report.data.predictors == ("x1", "x2", "t")  # the groups column is never a predictor
    assert (report.data.n_rows, report.data.n_used, report.data.n_dropped) == (600, 597, 3)
    assert any("store 2" in note for note in report.data.notes)  # missing per column: ..., store 2
    assert report.data.groups == "store" and report.options["groups"] == "store"
    document = report.to_dict()
    assert document["data"]["groups"] == "store" and document["options"]["groups"] == "store"
    assert document["tests"]["grouped_errors"]["n_groups"] == 30
    assert "grouped_errors" in {finding.check for finding in report.verdict.findings}


def test_reports_without_groups_are_unchanged_and_groups_only_adds_its_test():
    frame = grouped_frame().dropna()
    plain = olscheck.check(frame, target="y", predictors=["x1", "x2"], probe=False)
    assert "grouped_errors" not in plain.tests
    assert "groups" not in plain.to_dict()["data"] and "groups" not in plain.options
    again = olscheck.check(frame, target="y", predictors=["x1", "x2"], probe=False, groups=None)
    assert again.to_json() == plain.to_json()
    grouped = olscheck.check(frame, target="y", predictors=["x1", "x2"], probe=False, groups="store")
    with_groups = grouped.to_dict()
    without = plain.to_dict()
    assert {key: value for key, value in with_groups["tests"].items() if key != "grouped_errors"} == without["tests"]
    assert with_groups["model"] == without["model"]


def test_groups_with_order_by_and_a_formula_give_the_same_test():
    frame = grouped_frame()
    columns = olscheck.check(frame, target="y", predictors=["x1", "x2"], groups="store", probe=False)
    ordered = olscheck.check(frame, target="y", predictors=["x1", "x2"], groups="store", order_by="t", probe=False)
    formula = olscheck.check(frame, formula="y ~ x1 + x2", groups="store", order_by="t", probe=False)
    assert ordered.data.order_by == "t"
    assert list(ordered.model.residuals.index) != list(columns.model.residuals.index)  # the rows were sorted
    for other in (ordered, formula):
        for field in ("statistic", "p_value", "effect"):
            assert getattr(other.tests["grouped_errors"], field) == pytest.approx(
                getattr(columns.tests["grouped_errors"], field), rel=1e-10)
    assert formula.data.n_used == columns.data.n_used == 597


@pytest.mark.parametrize("options, error, fragment", [
    ({"groups": "shop"}, "ColumnNotFoundError", "'shop'"),
    ({"groups": "y"}, "DataError", "groups column 'y' is the target"),
    ({"groups": "store", "predictors": ["x1", "store"]}, "DataError", "never a"),
    ({"groups": "one"}, "DataError", "single group"),
    ({"groups": "row"}, "DataError", "different value in each"),
    ({"groups": "empty"}, "DataError", "groups column 'empty' has no values"),
    ({"groups": ["store"]}, "DataError", "groups must be the name of one column"),
    ({"groups": "store", "streaming": True}, "ConfigurationError", "not supported when streaming"),
    ({"groups": "store", "formula": "y ~ x1 + C(store)"}, "FormulaError", "groups column 'store'"),
])
def test_bad_groups_name_the_column(options, error, fragment):
    frame = grouped_frame().assign(one="only", row=np.arange(600), empty=np.nan)
    options = {"target": "y", "predictors": ["x1", "x2"], **options}
    if "formula" in options:
        del options["target"], options["predictors"]
    with pytest.raises(olscheck.errors.OlscheckError) as raised:
        olscheck.check(frame, probe=False, **options)
    assert type(raised.value).__name__ == error
    assert fragment in str(raised.value)


def test_groups_read_from_a_large_file_stay_in_memory(tmp_path, monkeypatch):
    frame = grouped_frame()
    path = tmp_path / "data.parquet"
    frame.to_parquet(path)
    monkeypatch.setattr(api, "STREAMING_FILE_BYTES", 1)
    assert olscheck.check(path, target="y", probe=False).options["engine"] == "streaming"
    report = olscheck.check(path, target="y", groups="store", probe=False)
    assert "engine" not in report.options and "grouped_errors" in report.tests


def test_a_dask_frame_with_groups_is_computed_into_memory():
    dd = pytest.importorskip("dask.dataframe", reason="dask is not installed (pip install 'olscheck[dask]')")
    frame = grouped_frame()
    reference = olscheck.check(frame, target="y", groups="store", probe=False)
    computed = olscheck.check(dd.from_pandas(frame, npartitions=3), target="y", groups="store", probe=False)
    assert "engine" not in computed.options
    assert computed.to_dict()["tests"]["grouped_errors"] == reference.to_dict()["tests"]["grouped_errors"]


def test_the_pandas_accessor_forwards_groups():
    frame = grouped_frame()
    report = frame.olscheck.check(target="y", groups="store", probe=False)
    assert report.tests["grouped_errors"] == olscheck.check(frame, target="y", groups="store", probe=False).tests[
        "grouped_errors"]


def test_a_report_with_groups_follows_the_schema():
    import json

    from tests.report.test_report import SCHEMA_PATH, validate

    if not SCHEMA_PATH.is_file():
        pytest.skip("../shared/contract/report.schema.json is not beside this checkout")
    report = olscheck.check(grouped_frame(), target="y", groups="store", probe=False)
    document = json.loads(report.to_json())
    validate(document)
    assert document["data"]["groups"] == "store"
