"""Options from a TOML file or ``[tool.olscheck]`` in pyproject.toml."""

from __future__ import annotations

import pytest

from olscheck.cli import GATES
from olscheck.config import FAIL_ON_CHOICES, load_config
from olscheck.errors import ConfigurationError


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_own_file_top_level_keys(tmp_path):
    path = write(tmp_path / "olscheck.toml", 'alpha = 0.01\nseed = 3\nprobe = false\nfail_on = "warn"\n'
                                              "[thresholds]\nvif_warn = 4\nlarge_sample_n = 500\n")
    assert load_config(path) == {"alpha": 0.01, "seed": 3, "probe": False, "fail_on": "warn",
                                 "thresholds": {"vif_warn": 4, "large_sample_n": 500}}


def test_explicit_pyproject_uses_tool_olscheck(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.olscheck]\nseed = 9\n')
    assert load_config(path) == {"seed": 9}


def test_explicit_pyproject_without_the_table_is_an_error(tmp_path):
    path = write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n[tool.black]\nline-length = 100\n')
    with pytest.raises(ConfigurationError, match=r"no \[tool.olscheck\] table"):
        load_config(path)


def test_discovery_walks_up_to_the_nearest_pyproject(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.olscheck]\nalpha = 0.1\n[tool.olscheck.thresholds]\ncooks_distance_fail = 0.5\n")
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert load_config(start=nested) == {"alpha": 0.1, "thresholds": {"cooks_distance_fail": 0.5}}


def test_nearest_pyproject_without_table_means_no_options(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.olscheck]\nalpha = 0.1\n")
    inner = tmp_path / "inner"
    inner.mkdir()
    write(inner / "pyproject.toml", '[project]\nname = "inner"\n')
    assert load_config(start=inner) == {}


def test_no_pyproject_anywhere(tmp_path, monkeypatch):
    if any((folder / "pyproject.toml").is_file() for folder in tmp_path.parents):
        pytest.skip("a pyproject.toml above the temporary folder")
    monkeypatch.chdir(tmp_path)
    assert load_config() == {}


@pytest.mark.parametrize("text, fragment", [
    ("alfa = 0.1\n", "unknown olscheck option(s) alfa"),
    ("alpha = 1.5\n", "between 0 and 1"),
    ('alpha = "0.05"\n', "between 0 and 1"),
    ("seed = -1\n", "non-negative integer"),
    ("seed = 1.5\n", "non-negative integer"),
    ('probe = "yes"\n', "true or false"),
    ('fail_on = "warning"\n', "use one of warn, fail, nonlinear"),
    ("thresholds = 3\n", "must be a table"),
    ("[thresholds]\nvif_wran = 4\n", "unknown threshold(s) vif_wran"),
    ('[thresholds]\nvif_warn = "high"\n', "non-negative number"),
    ("[thresholds]\nvif_warn = -1\n", "non-negative number"),
    ("[thresholds]\nlarge_sample_n = 2.5\n", "must be an integer"),
    ("alpha = \n", "cannot read"),
    ("groups = 3\n", "groups = 3"),
    ('groups = ""\n', "must name one column"),
    ('groups = ["store"]\n', "must name one column"),
])
def test_bad_configuration_is_one_clear_error(tmp_path, text, fragment):
    path = write(tmp_path / "olscheck.toml", text)
    with pytest.raises(ConfigurationError) as error:
        load_config(path)
    assert fragment in str(error.value)
    assert str(path) in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_fail_on_choices_match_the_cli():
    assert tuple(FAIL_ON_CHOICES) == tuple(GATES)


@pytest.mark.parametrize("field, value", [("alpha", "x"), ("alpha", float("nan")), ("vif_warn", float("nan")),
                                          ("se_change_warn", float("inf")), ("auxiliary_max_cells", -1),
                                          ("vif_fail", None), ("large_sample_n", True)])
def test_thresholds_built_directly_name_the_bad_field(field, value):
    from olscheck.errors import ConfigurationError
    from olscheck.thresholds import Thresholds

    with pytest.raises(ConfigurationError, match=f"threshold {field}="):
        Thresholds(**{field: value})


def test_groups_is_an_option(tmp_path):
    path = write(tmp_path / "olscheck.toml", 'groups = "store"\nseed = 2\n')
    assert load_config(path) == {"groups": "store", "seed": 2}
