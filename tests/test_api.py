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
