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


# ----------------------------------------------------------------------------- gates and exit codes
@pytest.fixture(scope="module")
def bundled(tmp_path_factory) -> dict[str, Path]:
    """The bundled data sets as CSV files: linear, heteroskedastic, non-linear."""
    from olscheck import datasets

    folder = tmp_path_factory.mktemp("bundled")
    paths = {}
    for name in ("advertising", "spending", "crop_yield"):
        paths[name] = folder / f"{name}.csv"
        datasets.load(name).to_csv(paths[name], index=False)
    return paths


TARGETS = {"advertising": "sales", "spending": "spending", "crop_yield": "yield"}

# data set -> exit code for --fail-on warn, fail, nonlinear (verdicts: linear,
# linear_with_remedies with warnings only, nonlinear with failing specification tests)
GATE_TABLE = {
    "advertising": {"warn": 0, "fail": 0, "nonlinear": 0},
    "spending": {"warn": 1, "fail": 0, "nonlinear": 0},
    "crop_yield": {"warn": 1, "fail": 1, "nonlinear": 1},
}


@pytest.mark.parametrize("name", sorted(GATE_TABLE))
@pytest.mark.parametrize("gate", ["warn", "fail", "nonlinear"])
def test_fail_on_gates(bundled, name, gate, capsys, tmp_path):
    out = tmp_path / "r.json"
    code = main(["check", str(bundled[name]), "--target", TARGETS[name], "--no-probe", "--quiet", "--fail-on", gate,
                 "--json", str(out)])
    assert code == GATE_TABLE[name][gate]
    err = capsys.readouterr().err
    if code == 1:
        assert f"gate --fail-on {gate} tripped by: " in err and len(err.strip().splitlines()) == 1
        # the checks that tripped it, named with their severity, and nothing else
        verdict = json.loads(out.read_text())["verdict"]
        levels = {"warn": ("warn", "fail"), "fail": ("fail",), "nonlinear": ("fail",)}[gate]
        expected = [f"{f['check']} ({f['severity']})" for f in verdict["findings"] if f["severity"] in levels
                    and (gate != "nonlinear" or f["assumption"] == "linearity")]
        assert expected
        named = err.split("tripped by: ", 1)[1].rsplit("; verdict: ", 1)
        assert named[0].split(", ") == expected
        assert named[1].strip() == verdict["level"]
    else:
        assert err == ""


def test_fail_on_names_the_tripping_checks_of_a_made_up_report(capsys):
    from types import SimpleNamespace

    from olscheck.cli import _gate
    from olscheck.report.result import Assumption, Severity

    def finding(check, assumption, severity):
        return SimpleNamespace(check=check, assumption=Assumption(assumption), severity=Severity(severity))

    report = SimpleNamespace(verdict=SimpleNamespace(level="linear_with_remedies", findings=(
        finding("breusch_pagan", "homoskedasticity", "warn"), finding("jarque_bera", "normality", "note"),
        finding("robust_fit", "no_influential_points", "warn"), finding("vif", "no_collinearity", "ok"))))
    assert _gate(report, "warn") == 1
    assert capsys.readouterr().err == ("olscheck: gate --fail-on warn tripped by: breusch_pagan (warn), "
                                       "robust_fit (warn); verdict: linear_with_remedies\n")
    assert _gate(report, "fail") == 0 and _gate(report, "nonlinear") == 0
    assert capsys.readouterr().err == ""


def test_no_gate_means_exit_0_even_for_a_nonlinear_verdict(bundled):
    assert main(["check", str(bundled["crop_yield"]), "--target", "yield", "--no-probe", "--quiet"]) == 0


def test_gate_agrees_with_the_report(bundled, capsys):
    code = main(["check", str(bundled["crop_yield"]), "--target", "yield", "--no-probe", "--json", "-",
                 "--fail-on", "nonlinear"])
    document = json.loads(capsys.readouterr().out)
    assert (code == 1) == (document["verdict"]["level"] == "nonlinear")


def test_json_on_stdout_validates_against_the_schema(bundled, capsys):
    from tests.report.test_report import SCHEMA_PATH, validate

    if not SCHEMA_PATH.is_file():
        pytest.skip("../shared/contract/report.schema.json is not beside this checkout")
    for name in ("spending", "crop_yield"):
        assert main(["check", str(bundled[name]), "--target", TARGETS[name], "--no-probe", "--json", "-"]) == 0
        out = capsys.readouterr().out
        document = json.loads(out, parse_constant=lambda token: pytest.fail(f"non-strict JSON {token}"))
        validate(document)
        assert out.count("\n") == out.rstrip("\n").count("\n") + 1  # one document, nothing else


@pytest.mark.parametrize("arguments, fragment", [
    (["--fail-on", "warning"], "invalid choice"),
    (["--config", "{tmp}/missing.toml"], "does not exist"),
    (["--html", "{blocker}/report.html"], "cannot write"),
    (["--alpha", "abc"], "invalid float"),
    (["--seed", "x"], "invalid int"),
])
def test_more_bad_usage_exits_2(bundled, tmp_path, arguments, fragment, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    arguments = [a.replace("{tmp}", str(tmp_path)).replace("{blocker}", str(blocker)) for a in arguments]
    code = main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet", *arguments])
    assert code == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err
    assert len([line for line in err.splitlines() if line.startswith("olscheck")]) == 1


def test_help_and_version_exit_0(capsys):
    assert main(["--help"]) == 0
    assert main(["--version"]) == 0
    assert "olscheck" in capsys.readouterr().out


# ----------------------------------------------------------------------------- configuration
def test_config_file_sets_the_gate_and_thresholds(bundled, tmp_path, capsys):
    config = tmp_path / "olscheck.toml"
    config.write_text('fail_on = "warn"\nseed = 4\n[thresholds]\nvif_warn = 4.5\n', encoding="utf-8")
    code = main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--json", "-",
                 "--config", str(config)])
    assert code == 1
    document = json.loads(capsys.readouterr().out)
    assert document["options"]["seed"] == 4
    assert document["options"]["thresholds"]["vif_warn"] == 4.5
    # the command line wins over the file
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet",
                 "--config", str(config), "--fail-on", "nonlinear"]) == 0


def test_alpha_from_config_changes_the_outcome(bundled, tmp_path):
    config = tmp_path / "strict.toml"
    config.write_text("alpha = 1e-300\n", encoding="utf-8")
    out = tmp_path / "r.json"
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet",
                 "--config", str(config), "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["options"]["alpha"] == 1e-300
    assert document["tests"]["breusch_pagan"]["severity"] == "ok"  # p = 4e-10 is not below 1e-300


def test_pyproject_tool_olscheck_in_the_working_directory(bundled, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "analysis"\n[tool.olscheck]\nfail_on = "warn"\n',
                                             encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet"]) == 1
    assert main(["check", str(bundled["advertising"]), "--target", "sales", "--no-probe", "--quiet"]) == 0


def test_bad_pyproject_table_exits_2(bundled, tmp_path, monkeypatch, capsys):
    (tmp_path / "pyproject.toml").write_text("[tool.olscheck]\nfail_on = \"sometimes\"\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet"]) == 2
    assert "fail_on = 'sometimes'" in capsys.readouterr().err


# ----------------------------------------------------------------------------- inputs and outputs
@pytest.mark.parametrize("suffix", [".tsv", ".parquet", ".csv.gz"])
def test_tsv_parquet_and_compressed_input_give_the_same_report(bundled, tmp_path, suffix):
    frame = pd.read_csv(bundled["spending"])
    path = tmp_path / f"spending{suffix}"
    if suffix == ".tsv":
        frame.to_csv(path, sep="\t", index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, compression="gzip")
    reference, other = tmp_path / "csv.json", tmp_path / "other.json"
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet",
                 "--json", str(reference)]) == 0
    assert main(["check", str(path), "--target", "spending", "--no-probe", "--quiet", "--json", str(other)]) == 0
    assert json.loads(reference.read_text())["tests"] == json.loads(other.read_text())["tests"]


def test_html_and_markdown_outputs_share_one_plot_rendering(bundled, tmp_path, monkeypatch):
    import olscheck.report.render.plots as plots_module

    calls = []
    original = plots_module._battery_plots  # the drawing itself, however the plots are asked for
    monkeypatch.setattr(plots_module, "_battery_plots", lambda report, seed: calls.append(1) or original(report, seed))
    code = main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet",
                 "--html", str(tmp_path / "r.html"), "--markdown", str(tmp_path / "r.md")])
    assert code == 0 and len(calls) == 1
    assert (tmp_path / "r.html").stat().st_size > 10_000
    assert (tmp_path / "r_files" / "residuals_vs_fitted.png").is_file()


def test_option_names_the_format_whatever_the_suffix(bundled, tmp_path):
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet",
                 "--html", str(tmp_path / "page.txt"), "--markdown", str(tmp_path / "notes.txt")]) == 0
    assert (tmp_path / "page.txt").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "notes.txt").read_text().startswith("# olscheck verdict")


def test_demo_writes_every_report_and_renders_plots_once_per_data_set(tmp_path, monkeypatch, capsys):
    import olscheck.report.render.plots as plots_module
    from olscheck import datasets

    calls = []
    original = plots_module._battery_plots  # the drawing itself, however the plots are asked for
    monkeypatch.setattr(plots_module, "_battery_plots", lambda report, seed: calls.append(1) or original(report, seed))
    assert main(["demo", "--out", str(tmp_path / "reports"), "--no-probe"]) == 0
    names = datasets.names()
    assert len(calls) == len(names)
    for name in names:
        for suffix in (".html", ".md", ".json"):
            assert (tmp_path / "reports" / f"{name}{suffix}").is_file()
    assert len(capsys.readouterr().out.strip().splitlines()) == len(names)


# ----------------------------------------------------------------------------- a new user's files (issue 6)
def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(5)
    x = rng.normal(size=40)
    return pd.DataFrame({"y": 1 + 2 * x + rng.normal(size=40), "x1": x, "x2": rng.normal(size=40),
                         "g": rng.choice(["a", "b", "c"], 40)})


def _parquet_with_lists(path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = _frame()
    pq.write_table(pa.table({"y": frame["y"], "x1": frame["x1"], "L": pa.array([[1, 2]] * 40)}), path)


_CSV = _frame().to_csv(index=False).encode()
NEW_USER_FILES = [
    # (file name, content or writer, extra arguments, exit code, fragment of stderr)
    ("data.csv.gz", __import__("gzip").compress(_CSV), [], 0, ""),
    ("renamed-gzip.csv", __import__("gzip").compress(_CSV), [], 0, ""),
    ("bom.csv", b"\xef\xbb\xbf" + _CSV, [], 0, ""),
    ("tabs.csv", _frame().to_csv(index=False, sep="\t").encode(), [], 0, ""),
    ("rownumbers.csv", _frame().to_csv().encode(), [], 0, ""),
    # issue 14: the delimiter and decimal comma are sniffed, numbers with % or a decimal comma converted
    ("euro.csv", _frame().to_csv(index=False, sep=";", decimal=",").encode(), [], 0, ""),
    ("comma-decimals.csv", _frame().to_csv(index=False, decimal=",").encode(), [], 0, ""),
    ("latin1.csv", _frame().assign(g="caf\xe9").to_csv(index=False).encode("latin-1"), [], 2, "0xe9"),
    ("utf16.csv", _CSV.decode().encode("utf-16"), [], 2, "UTF-16"),
    ("data.xlsx", b"PK\x03\x04" + bytes(64), [], 2, "Excel workbook"),
    ("data.json", _frame().to_json().encode(), [], 2, "read_json"),
    ("nested.parquet", _parquet_with_lists, [], 2, "'L'"),
    ("one-row.csv", _frame().head(1).to_csv(index=False).encode(), [], 2, "1 usable row"),
    ("two-rows.csv", _frame().head(2).to_csv(index=False).encode(), ["--predictors", "x1"], 2, "2 usable row(s)"),
    ("percent.csv", _frame().assign(x1=[f"{v:.1f}%" for v in _frame()["x1"]]).to_csv(index=False).encode(), [], 0,
     ""),
    ("two-units.csv", _frame().assign(x1=[f"{v:.1f} {'kg' if i % 2 else 'lb'}" for i, v in enumerate(
        _frame()["x1"])]).to_csv(index=False).encode(), [], 2, "'kg', 'lb'"),
    ("ragged.csv", b"y,x1\n1,2\n3,4,5\n6,7\n", [], 2, "line 3"),
    ("dates.csv", _frame().assign(t=pd.date_range("2020-01-01", periods=40).strftime("%Y-%m-%d")).to_csv(
        index=False).encode(), [], 0, ""),
    ("bigints.csv", ("y,x1,big\n" + "".join(f"{i % 7},{i},{2**70 + i}\n" for i in range(40))).encode(), [], 0, ""),
    ("wide.csv", pd.DataFrame(np.random.default_rng(1).normal(size=(100, 2000)),
                              columns=[f"c{i}" for i in range(2000)]).to_csv(index=False).encode(),
     ["--target", "c0"], 2, "2000 parameter(s)"),
]


@pytest.mark.parametrize("name, content, arguments, code, fragment", NEW_USER_FILES,
                         ids=[case[0] for case in NEW_USER_FILES])
def test_new_user_files_end_in_a_report_or_one_line(tmp_path, capsys, name, content, arguments, code, fragment):
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    target = [] if "--target" in arguments else ["--target", "y"]
    exit_code = main(["check", str(path), *target, *arguments, "--no-probe", "--json", "-", "--quiet"])
    captured = capsys.readouterr()
    assert exit_code == code, captured.err
    if code == 2:
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("olscheck: error: "), captured.err
        assert fragment in lines[0]
        assert "internal error" not in captured.err
    else:
        document = json.loads(captured.out)
        assert document["data"]["target"] == "y"
        assert "NaN" not in captured.out and "Infinity" not in captured.out


@pytest.mark.parametrize("arguments, fragment", [
    (["--target", "y", "--alpha", "five"], "invalid float value: 'five'"),
    (["--target", "y", "--seed", "1.5"], "invalid int value: '1.5'"),
    (["--target", "y", "--alpha", "nan"], "alpha=nan"),
    (["--target", "y", "--alpha", "5"], "alpha=5.0"),
    (["--target", "y", "--predictors", "x,zz"], "'zz'"),
    (["--target", "Y"], "Did you mean 'y'"),
    (["--target", ""], "''"),
    (["--formula", "y ~ ."], "'.'"),
    (["--formula", "y ~ `x1`"], "Q('name with spaces')"),
    (["--target", "y", "--order-by", "nope"], "'nope'"),
    (["--target", "y", "--groups", "nope"], "'nope'"),
    (["--target", "y", "--groups", "x"], "different value in each"),
    (["--target", "y", "--groups", "g", "--streaming", "on"], "not supported when streaming"),
])
def test_bad_options_exit_2_with_exactly_one_line(data_file, capsys, arguments, fragment):
    code = main(["check", str(data_file), *arguments, "--no-probe"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert fragment in err and "internal error" not in err


@pytest.mark.parametrize("path, fragment", [("", "path is empty"), ("~/surely-not-here.csv", "does not exist")])
def test_odd_paths(capsys, path, fragment):
    assert main(["check", path, "--target", "y", "--no-probe"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


def test_streaming_on_gives_the_in_memory_numbers(tmp_path, capsys):
    from tests.engine.test_streaming import differences, make_frame

    path = tmp_path / "data.parquet"
    make_frame().to_parquet(path)
    outputs = {}
    for mode in ("off", "on"):
        out = tmp_path / f"{mode}.json"
        assert main(["check", str(path), "--target", "y", "--no-probe", "--quiet", "--streaming", mode,
                     "--chunk-rows", "50", "--json", str(out)]) in (0, 1)
        outputs[mode] = json.loads(out.read_text())
    assert outputs["on"]["options"]["engine"] == "streaming"
    assert differences(outputs["off"]["tests"], outputs["on"]["tests"]) == []
    assert main(["check", str(path), "--target", "y", "--streaming", "on", "--formula", "y ~ x1"]) == 2
    assert "formula is not supported when streaming" in capsys.readouterr().err


# ----------------------------------------------------------------------------- groups
@pytest.fixture
def grouped_file(tmp_path) -> Path:
    rng = np.random.default_rng(5)
    n, stores = 400, 20
    store = rng.integers(0, stores, n)
    x = rng.normal(size=n) + rng.normal(size=stores)[store]
    y = 1 + x + 0.8 * rng.normal(size=stores)[store] + 0.6 * rng.normal(size=n)
    path = tmp_path / "grouped.csv"
    pd.DataFrame({"y": y, "x": x, "store": [f"s{k}" for k in store]}).to_csv(path, index=False)
    return path


def test_groups_option_adds_the_grouped_test(grouped_file, capsys):
    code = main(["check", str(grouped_file), "--target", "y", "--groups", "store", "--json", "-", "--no-probe"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["data"]["groups"] == "store" and document["options"]["groups"] == "store"
    assert document["data"]["predictors"] == ["x"]
    assert document["tests"]["grouped_errors"]["severity"] == "warn"
    assert "'store'" in document["tests"]["grouped_errors"]["message"]


def test_groups_from_the_configuration_and_the_command_line_wins(grouped_file, tmp_path, capsys):
    config = tmp_path / "olscheck.toml"
    config.write_text('groups = "store"\n', encoding="utf-8")
    assert main(["check", str(grouped_file), "--target", "y", "--config", str(config), "--json", "-",
                 "--no-probe"]) == 0
    assert json.loads(capsys.readouterr().out)["data"]["groups"] == "store"
    assert main(["check", str(grouped_file), "--target", "y", "--config", str(config), "--groups", "nope",
                 "--no-probe"]) == 2
    assert "'nope'" in capsys.readouterr().err


def test_without_groups_the_json_has_no_groups(grouped_file, capsys):
    assert main(["check", str(grouped_file), "--target", "y", "--json", "-", "--no-probe"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "groups" not in document["data"] and "groups" not in document["options"]
    assert "grouped_errors" not in document["tests"]
    assert document["data"]["predictors"] == ["x", "store"]


# ----------------------------------------------------------------------------- Ctrl-C
def test_interrupt_exits_130_with_one_line_and_no_report(data_file, tmp_path, capsys, monkeypatch):
    import olscheck.api

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(olscheck.api, "check", interrupted)
    out = tmp_path / "out.html"
    assert main(["check", str(data_file), "--target", "y", "--html", str(out)]) == 130
    captured = capsys.readouterr()
    assert captured.err == "olscheck: interrupted\n" and captured.out == ""
    assert not out.exists()


def test_interrupt_while_writing_leaves_each_report_whole_or_absent(data_file, tmp_path, capsys, monkeypatch):
    import olscheck.report.render.files as files

    real_fsync, calls = files.os.fsync, []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the JSON went through; Ctrl-C lands while the HTML is being written
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    code = main(["check", str(data_file), "--target", "y", "--no-probe", "--json", str(tmp_path / "r.json"),
                 "--html", str(tmp_path / "r.html")])
    assert code == 130
    assert capsys.readouterr().err == "olscheck: interrupted\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv", "r.json"]
    assert json.loads((tmp_path / "r.json").read_text())["data"]["target"] == "y"


def _read_lines_until(stream_fd: int, done, timeout: float) -> list[str]:
    """Lines from a pty (or pipe) until ``done(lines)`` or the timeout; an ended writer ends the read."""
    import os
    import select
    import time

    buffer, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream_fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(stream_fd, 4096)
            except OSError:  # the pty's other side closed
                chunk = b""
            if not chunk:
                break
            buffer += chunk
            if done(buffer.decode("utf-8", "replace").splitlines()):
                break
    return buffer.decode("utf-8", "replace").splitlines()


def _wait(process, timeout: float) -> float | None:
    import time

    start = time.monotonic()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None
    return time.monotonic() - start


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT and a pseudo-terminal")
def test_ctrl_c_during_the_probe_exits_130_within_seconds_and_writes_no_report(tmp_path):
    """``python -m olscheck check`` interrupted while the probe runs (its progress line on a terminal says when)."""
    import os
    import pty
    import signal

    rng = np.random.default_rng(0)
    n, p = 20_000, 12  # the probe's largest sample: a few seconds of boosting and splines
    x = rng.normal(size=(n, p))
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)])
    frame["y"] = np.sin(x[:, 0]) + x[:, 1] ** 2 + x[:, 2] + rng.normal(size=n)
    data = tmp_path / "big.csv"
    frame.to_csv(data, index=False)
    out = tmp_path / "out.html"
    controller, terminal = pty.openpty()  # stderr on a terminal: the progress lines name each step
    try:
        process = subprocess.Popen([sys.executable, "-m", "olscheck", "check", str(data), "--target", "y",
                                    "--html", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=terminal)
    finally:
        os.close(terminal)
    try:
        before = _read_lines_until(controller, lambda lines: any("non-linear probe" in line for line in lines), 600)
        assert any("non-linear probe" in line for line in before), before
        import time

        time.sleep(0.2)
        # the probe may run in a child process here (a fresh process forks one): it must go with the parent
        children_file = Path(f"/proc/{process.pid}/task/{process.pid}/children")
        children = [int(pid) for pid in children_file.read_text().split()] if children_file.exists() else []
        process.send_signal(signal.SIGINT)
        elapsed = _wait(process, 30)
        after = _read_lines_until(controller, lambda lines: False, 2)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(controller)
    assert elapsed is not None and elapsed < 5, f"still running {elapsed} s after SIGINT"
    assert process.returncode == 130
    messages = [line.strip() for line in before + after if line.strip() and not line.strip().endswith("…")]
    assert messages == ["olscheck: interrupted"], before + after
    assert sorted(path.name for path in tmp_path.iterdir()) == ["big.csv"]  # no report, no temporary file
    for child in children:  # (none when the child had already sent the probe and the recheck ran in turn)
        assert not Path(f"/proc/{child}").exists(), f"the probe's child process {child} outlived the program"


STUBBORN = """
import sys, threading, time
import olscheck.api

def stubborn(*args, **kwargs):
    if {thread!r}:
        threading.Thread(target=time.sleep, args=(120,)).start()  # a worker that would hold the exit
    print("ready", flush=True)
    while True:
        try:
            time.sleep(0.05)
        except KeyboardInterrupt:  # swallowed, as scikit-learn's MLP does
            if not {swallow!r}:
                raise

olscheck.api.check = stubborn
from olscheck.cli import main
sys.argv = ["olscheck", "check", {data!r}, "--target", "y", "--html", {out!r}]
sys.exit(main())
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT")
@pytest.mark.parametrize("thread, swallow", [(True, False), (False, True), (True, True)],
                         ids=["worker-thread", "swallowed", "both"])
def test_ctrl_c_ends_the_program_even_when_a_library_holds_on_to_it(data_file, tmp_path, thread, swallow):
    import signal

    out = tmp_path / "out.html"
    script = STUBBORN.format(thread=thread, swallow=swallow, data=str(data_file), out=str(out))
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGINT)
        elapsed = _wait(process, 30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    err = process.stderr.read()
    assert elapsed is not None and elapsed < 5, err
    assert process.returncode == 130, err
    assert err == "olscheck: interrupted\n"
    assert not out.exists()



COLLECTOR = """
import atexit, gc, sys
before = gc.get_threshold()
# registered before main runs, so called after it returns: what the program left for the interpreter's exit
atexit.register(lambda: print(gc.get_freeze_count(), gc.get_threshold() == before, file=sys.stderr))
from olscheck.cli import main
sys.argv = ["olscheck", "check", {data!r}, "--target", "y", "--quiet"]
sys.exit(main())
"""


def test_the_program_leaves_its_objects_frozen_for_the_exit_and_main_called_from_python_does_not(data_file):
    import gc

    finished = subprocess.run([sys.executable, "-c", COLLECTOR.format(data=str(data_file))], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    frozen, restored = finished.stderr.split()
    assert int(frozen) > 10_000 and restored == "True"
    before = (gc.get_freeze_count(), gc.get_threshold())
    assert main(["check", str(data_file), "--target", "y", "--quiet", "--no-probe"]) == 0
    assert (gc.get_freeze_count(), gc.get_threshold()) == before

def test_the_cli_writes_through_report_save(bundled, tmp_path, monkeypatch):
    from olscheck.report.report import Report

    calls = []
    original = Report.save

    def recording(self, path, **options):
        calls.append((str(path), options.get("format")))
        return original(self, path, **options)

    monkeypatch.setattr(Report, "save", recording)
    assert main(["check", str(bundled["spending"]), "--target", "spending", "--no-probe", "--quiet",
                 "--json", str(tmp_path / "r.json"), "--html", str(tmp_path / "r.html"),
                 "--markdown", str(tmp_path / "r.md")]) == 0
    assert calls == [(str(tmp_path / "r.json"), "json"), (str(tmp_path / "r.html"), "html"),
                     (str(tmp_path / "r.md"), "markdown")]
    assert (tmp_path / "r.json").read_text().endswith("}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html", "r.json", "r.md", "r_files"]


# ----------------------------------------------------------------------------- issue 14: reading and screening
import inspect  # noqa: E402

import olscheck  # noqa: E402

wired = pytest.mark.skipif(not {"read", "exclude"} <= set(inspect.signature(olscheck.check).parameters),
                           reason="olscheck.check does not take read=/exclude= yet")


def _messy_file(tmp_path) -> Path:
    frame = _frame()
    messy = frame.assign(
        customer_id=range(100001, 100041),
        x1=[f"{v:.6f}".replace(".", ",") + " kg" for v in frame["x1"]],
        note=[f"called about order {i}" for i in range(40)],
    )
    messy.loc[3, "x2"] = np.nan
    path = tmp_path / "messy.csv"
    messy.to_csv(path, index=False, sep=";", na_rep="?")
    return path


def test_check_screens_a_messy_semicolon_file(tmp_path, capsys):
    code = main(["check", str(_messy_file(tmp_path)), "--target", "y", "--no-probe", "--json", "-", "--quiet"])
    assert code == 0, capsys.readouterr().err
    document = json.loads(capsys.readouterr().out)
    assert document["data"]["predictors"] == ["x1", "x2", "g"]
    assert document["data"]["n_dropped"] == 1


@wired
def test_read_options_and_exclude_on_the_command_line(tmp_path, capsys):
    path = _messy_file(tmp_path)
    code = main(["check", str(path), "--target", "y", "--no-probe", "--json", "-", "--quiet", "--sep", ";",
                 "--decimal", ",", "--na-values", "?,unknown", "--exclude", "g,x2"])
    assert code == 0, capsys.readouterr().err
    document = json.loads(capsys.readouterr().out)
    assert document["data"]["predictors"] == ["x1"]
    roles = {column["name"]: column["role"] for column in document["data"]["columns"]}
    assert roles == {"customer_id": "excluded", "y": "target", "x1": "converted", "x2": "excluded", "g": "excluded",
                     "note": "excluded"}
    assert main(["check", str(path), "--target", "y", "--no-probe", "--quiet", "--sep", ","]) == 2
    assert "semicolon" in capsys.readouterr().err


@pytest.mark.parametrize("arguments, fragment", [
    (["--decimal", "ab"], "decimal must be one character"),
    (["--sep", ";", "--decimal", ";"], "sep and decimal"),
    (["--decimal", ",", "--thousands", ","], "both ','"),
    (["--encoding", "klingon"], "unknown encoding 'klingon'"),
])
def test_bad_read_options_are_one_line(data_file, capsys, arguments, fragment):
    assert main(["check", str(data_file), "--target", "y", "--no-probe", *arguments]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("olscheck: error: ") and fragment in lines[0], lines


def test_standard_input_cannot_be_streamed(capsys):
    assert main(["check", "-", "--target", "y", "--streaming", "on"]) == 2
    assert "standard input" in capsys.readouterr().err


@pytest.mark.parametrize("table, fragment", [
    ("exclude = 3", "exclude = 3"),
    ("[read]\nsep = \"\"", "sep must be"),
    ("[read]\nseparator = \";\"", "unknown read option(s) 'separator'"),
    ("read = 5", "'read'"),
])
def test_configured_read_options_and_exclude_are_checked(data_file, tmp_path, capsys, table, fragment):
    config = tmp_path / "olscheck.toml"
    config.write_text(table + "\n")
    assert main(["check", str(data_file), "--target", "y", "--config", str(config), "--no-probe"]) == 2
    assert fragment in capsys.readouterr().err


def test_standard_input_in_a_subprocess(tmp_path):
    text = _frame().to_csv(index=False, sep=";", decimal=",")
    finished = subprocess.run([sys.executable, "-m", "olscheck", "check", "-", "--target", "y", "--no-probe",
                               "--json", "-", "--quiet"], input=text, capture_output=True, text=True, cwd=ROOT,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert json.loads(finished.stdout)["data"]["n_used"] == 40


def test_a_missing_file_fails_before_the_battery_is_imported(tmp_path):
    # the path is checked first: a mistyped path needs neither scipy.stats nor the checks to be refused
    script = (
        "import sys\n"
        "from olscheck.cli import main\n"
        f"code = main(['check', {str(tmp_path / 'no such file.csv')!r}, '--target', 'y'])\n"
        "print(code, 'olscheck.checks.battery' in sys.modules, 'scipy.stats' in sys.modules)\n"
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert process.stdout.split() == ["2", "False", "False"], process.stdout + process.stderr
    assert "no such file.csv' does not exist; check the path." in process.stderr
