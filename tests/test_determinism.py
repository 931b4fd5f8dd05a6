"""Determinism: the same data, options and seed give byte-identical reports.

JSON must be identical byte for byte -- within one process, and across
processes with different hash seeds (set/dict order must never leak into a
report). HTML must be identical apart from the "made on" timestamp; with the
timestamp pinned (``generated=``) it is identical byte for byte, plots
included.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import olscheck
from olscheck.report.render.html import to_html
from olscheck.report.render.plots import render_plots

ROOT = Path(__file__).resolve().parents[1]
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? UTC")


def frame(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(n, 2))
    return pd.DataFrame({
        "y": np.sin(2 * x[:, 0]) + x[:, 1] + 0.3 * rng.normal(size=n),
        "x1": x[:, 0],
        "x2": x[:, 1],
        "g": rng.choice(["b", "a", "c"], size=n),
        "t": rng.permutation(n),
    })


def test_json_is_byte_identical_with_the_probe_and_the_same_seed():
    data = frame()
    first = olscheck.check(data, target="y", order_by="t", probe=True, seed=11).to_json()
    second = olscheck.check(data.copy(), target="y", order_by="t", probe=True, seed=11).to_json()
    assert first == second


def test_json_does_not_depend_on_the_order_options_are_given_in():
    data = frame()
    first = olscheck.check(data, target="y", predictors=["x1", "x2", "g"], categorical=["g"], probe=False)
    second = olscheck.check(data, predictors=["x1", "x2", "g"], target="y", categorical=("g",), probe=False)
    assert first.to_json() == second.to_json()


def test_html_is_identical_apart_from_the_timestamp():
    data = frame()
    first = olscheck.check(data, target="y", probe=False)
    second = olscheck.check(data.copy(), target="y", probe=False)
    marker = "MADE-AT-A-FIXED-TIME"
    pinned = to_html(first, generated=marker)
    assert pinned == to_html(second, generated=marker)  # plots rendered afresh each time
    assert pinned.count(marker) == 1
    stamped = to_html(first, plots=render_plots(first))
    assert TIMESTAMP.search(stamped), "the default HTML carries a timestamp"
    assert TIMESTAMP.sub("<when>", stamped) == pinned.replace(marker, "<when>")


def _run_cli(folder: Path, data_path: Path, hash_seed: str) -> subprocess.Popen:
    folder.mkdir()
    environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
    environment.pop("SOURCE_DATE_EPOCH", None)
    return subprocess.Popen(
        [sys.executable, "-m", "olscheck", "check", str(data_path), "--target", "y", "--order-by", "t",
         "--no-probe", "--quiet", "--json", str(folder / "report.json"), "--html", str(folder / "report.html")],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_reports_are_identical_across_processes_and_hash_seeds(tmp_path):
    data_path = tmp_path / "data.csv"
    frame().to_csv(data_path, index=False)
    runs = {seed: _run_cli(tmp_path / f"run{seed}", data_path, seed) for seed in ("1", "2")}
    for seed, process in runs.items():
        _out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err
    json_1, json_2 = ((tmp_path / f"run{s}" / "report.json").read_bytes() for s in ("1", "2"))
    assert json_1 == json_2
    html_1, html_2 = ((tmp_path / f"run{s}" / "report.html").read_text(encoding="utf-8") for s in ("1", "2"))
    assert TIMESTAMP.sub("<when>", html_1) == TIMESTAMP.sub("<when>", html_2)


@pytest.mark.parametrize("seed", [0, 5])
def test_a_different_seed_is_recorded(seed):
    report = olscheck.check(frame(60), target="y", probe=False, seed=seed)
    assert report.to_dict()["options"]["seed"] == seed
