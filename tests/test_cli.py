"""The command line: exit codes, messages and JSON on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from olscheck.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def data_file(tmp_path) -> Path:
    rng = np.random.default_rng(11)
    x = rng.normal(size=80)
    frame = pd.DataFrame({"y": 1 + 2 * x + rng.normal(size=80), "x": x, "g": rng.choice(["a", "b"], 80)})
    path = tmp_path / "data.csv"
    frame.to_csv(path, index=False)
    return path


def test_check_writes_json_to_stdout(data_file, capsys):
    code = main(["check", str(data_file), "--target", "y", "--json", "-", "--no-probe"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "olscheck.report/1"
    assert document["data"]["n_used"] == 80
    assert set(document["model"]["coefficients"]) == {"Intercept", "x", "g[T.b]"}


def test_check_with_formula_and_json_file(data_file, tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(["check", str(data_file), "--formula", "y ~ x + C(g)", "--json", str(out), "--no-probe"])
    assert code == 0
    assert "olscheck verdict" in capsys.readouterr().out
    assert "C(g)[T.b]" in json.loads(out.read_text())["model"]["coefficients"]


@pytest.mark.parametrize("arguments, fragment", [
    (["check", "missing.csv", "--target", "y"], "does not exist"),
    (["check", "{data}", "--target", "nope"], "'nope'"),
    (["check", "{data}"], "--target"),
    (["check", "{data}", "--target", "y", "--predictors", "x,zz"], "'zz'"),
    (["bogus"], "invalid choice"),
    ([], "usage"),
])
def test_bad_input_exits_2_with_one_line(arguments, fragment, data_file, capsys):
    code = main([a.replace("{data}", str(data_file)) for a in arguments])
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err
    assert "Traceback" not in err


def test_python_dash_m_runs(data_file):
    completed = subprocess.run(
        [sys.executable, "-m", "olscheck", "check", str(data_file), "--target", "y", "--json", "-", "--no-probe"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["data"]["target"] == "y"
