"""``df.olscheck``: the pandas accessor."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.errors import ConfigurationError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(21)
    x = rng.normal(size=90)
    frame = pd.DataFrame({"y": 3 - x + rng.normal(size=90), "x": x, "g": rng.choice(["a", "b", "c"], 90)})
    frame.loc[4, "x"] = np.nan
    return frame


def test_check_equals_the_function(frame):
    before = frame.copy()
    via_accessor = frame.olscheck.check(target="y", probe=False)
    direct = olscheck.check(frame, target="y", probe=False)
    assert via_accessor.to_dict() == direct.to_dict()
    pd.testing.assert_frame_equal(frame, before)  # the caller's data is untouched


def test_check_passes_options(frame):
    report = frame.olscheck.check(formula="y ~ x", probe=False, seed=5)
    assert list(report.model.coefficients.index) == ["Intercept", "x"]
    assert report.options["seed"] == 5


def test_report_writes_and_returns(frame, tmp_path):
    report = frame.olscheck.report(tmp_path / "out.json", target="y", probe=False)
    assert json.loads((tmp_path / "out.json").read_text())["verdict"]["level"] == report.verdict.level


def test_report_to_several_files_draws_plots_once(frame, tmp_path, monkeypatch):
    import olscheck.report.render.plots as plots_module

    calls = []
    original = plots_module._battery_plots  # the drawing itself, however the plots are asked for
    monkeypatch.setattr(plots_module, "_battery_plots", lambda report, seed: calls.append(1) or original(report, seed))
    frame.olscheck.report([tmp_path / "r.html", tmp_path / "r.md"], target="y", probe=False)
    assert len(calls) == 1
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "r_files" / "qq.png").is_file()


def test_bad_suffix_fails_before_the_check(frame, tmp_path, monkeypatch):
    import olscheck.api

    monkeypatch.setattr(olscheck.api, "check", lambda *a, **k: pytest.fail("check ran before the path was validated"))
    with pytest.raises(ConfigurationError, match="report format"):
        frame.olscheck.report(tmp_path / "out.pdf", target="y")


def test_report_writes_an_existing_report_without_checking_again(frame, tmp_path, monkeypatch):
    import olscheck.api

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    existing = olscheck.check(frame, target="y", probe=False, seed=3)
    monkeypatch.setattr(olscheck.api, "check", lambda *a, **k: pytest.fail("the check ran again"))
    returned = frame.olscheck.report([tmp_path / "r.json", tmp_path / "r.html"], report=existing)
    assert returned is existing
    assert (tmp_path / "r.json").read_text(encoding="utf-8") == existing.to_json() + "\n"
    assert (tmp_path / "r.html").read_text(encoding="utf-8") == existing.to_html()
    single = frame.olscheck.report(tmp_path / "one.md", report=existing)
    assert single is existing and (tmp_path / "one_files" / "qq.png").is_file()


def test_report_with_an_existing_report_refuses_check_options(frame, tmp_path):
    existing = olscheck.check(frame, target="y", probe=False)
    with pytest.raises(ConfigurationError, match="either report= or") as caught:
        frame.olscheck.report(tmp_path / "r.json", target="y", report=existing, seed=2)
    assert "target, seed" in str(caught.value)
    with pytest.raises(ConfigurationError, match="made from 89 rows but this DataFrame has 90"):
        frame.olscheck.report(tmp_path / "r.json", report=olscheck.check(frame.iloc[1:], target="y", probe=False))
    with pytest.raises(ConfigurationError, match="must be an olscheck Report"):
        frame.olscheck.report(tmp_path / "r.json", report={"verdict": "linear"})
    assert list(tmp_path.iterdir()) == []


def test_bad_suffix_names_the_suffix_even_with_an_existing_report(frame, tmp_path):
    existing = olscheck.check(frame, target="y", probe=False)
    with pytest.raises(ConfigurationError, match=r"the suffix '\.docx' names no report format"):
        frame.olscheck.report(tmp_path / "out.docx", report=existing)
    assert list(tmp_path.iterdir()) == []
