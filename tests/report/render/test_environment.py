"""olscheck.report.render.environment: one Jinja2 environment per process, compiled templates cached on disk."""

from __future__ import annotations

import sys
import tempfile

import pytest

from olscheck.report.render import environment, html, markdown


@pytest.fixture
def fresh_environments():
    for cached in (environment.template_environment, html._environment, markdown._environment):
        cached.cache_clear()
    yield
    for cached in (environment.template_environment, html._environment, markdown._environment):
        cached.cache_clear()  # the next test gets environments made under the real settings


def test_each_format_s_environment_is_made_once_and_escapes_as_its_format_needs(fresh_environments):
    assert html._environment() is html._environment()
    assert markdown._environment() is not html._environment()
    escaped = html._environment().from_string("{{ name }}").render(name="<b>x</b>")
    assert escaped == "&lt;b&gt;x&lt;/b&gt;"
    assert markdown._environment().from_string("{{ name }}").render(name="<b>") == "<b>"


@pytest.mark.parametrize("write_bytecode", [True, False])
def test_compiled_templates_are_cached_unless_bytecode_is_not_to_be_written(fresh_environments, monkeypatch,
                                                                             tmp_path, write_bytecode):
    monkeypatch.setattr(sys, "dont_write_bytecode", not write_bytecode)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where Jinja2 puts its per-user cache directory
    html._environment().get_template("report.html.j2")
    cached = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert bool(cached) == write_bytecode
    if write_bytecode:
        # a second process (a new environment) loads the compiled template instead of compiling it again
        environment.template_environment.cache_clear()
        html._environment.cache_clear()
        from jinja2 import Environment

        compiled = []
        original = Environment.compile
        monkeypatch.setattr(Environment, "compile", lambda self, *a, **k: compiled.append(1) or original(self, *a, **k))
        html._environment().get_template("report.html.j2")
        assert compiled == []
