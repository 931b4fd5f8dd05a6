"""Diagnostic plots: valid PNGs, sampled above MAX_POINTS, component-plus-residual capped."""

from __future__ import annotations

import io

import matplotlib.axes
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import olscheck
from olscheck.render import plots as plots_module
from olscheck.render.plots import MAX_COMPONENT_PLOTS, MAX_POINTS, _sample, render_plots


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()  # decodes every row, so a truncated file fails here
    return image


def test_every_plot_decodes_and_is_placed(report, plots):
    keys = [plot.key for plot in plots]
    assert len(keys) == len(set(keys))
    assert {"residuals_vs_fitted", "qq", "scale_location", "residuals_vs_leverage", "acf", "vif", "probe"} <= set(keys)
    assert sum(key.startswith("cr_") for key in keys) == 2  # the two numeric predictors
    for plot in plots:
        image = decode(plot.png)
        assert 200 < image.width < 1200 and 150 < image.height < 1200
        assert plot.caption and plot.title
        assert plot.assumption in {"linearity", "homoskedasticity", "independence", "normality",
                                   "no_collinearity", "no_influential_points", "probe"}


def test_a_column_name_with_mathtext_does_not_break_the_plots():
    rng = np.random.default_rng(2)
    x = rng.normal(size=60)
    frame = pd.DataFrame({"y": x + rng.normal(size=60), "$\\frac{$": x, "w": rng.normal(size=60)})
    for plot in render_plots(olscheck.check(frame, target="y", probe=False)):
        decode(plot.png)


def test_sample_keeps_influential_rows_and_is_seeded():
    keep = np.array([5, 17, 49_999])
    rows, note = _sample(50_000, seed=3, keep=keep)
    assert rows.size == MAX_POINTS and np.unique(rows).size == MAX_POINTS
    assert set(keep) <= set(rows.tolist())
    assert np.all(np.diff(rows) > 0)
    again, _ = _sample(50_000, seed=3, keep=keep)
    other, _ = _sample(50_000, seed=4, keep=keep)
    assert np.array_equal(rows, again) and not np.array_equal(rows, other)
    assert f"{MAX_POINTS:,} of 50,000" in note and "3 most influential" in note
    small, small_note = _sample(MAX_POINTS, seed=3, keep=keep)
    assert np.array_equal(small, np.arange(MAX_POINTS)) and small_note == ""


@pytest.fixture(scope="module")
def large_report():
    rng = np.random.default_rng(5)
    n = MAX_POINTS + 2_000
    x = rng.normal(size=(n, 2))
    frame = pd.DataFrame({"y": x @ [1.0, -2.0] + rng.normal(size=n), "a": x[:, 0], "b": x[:, 1]})
    return olscheck.check(frame, target="y", probe=False)


def test_above_max_points_scatter_plots_sample_and_say_so(large_report, monkeypatch):
    drawn = []
    original = matplotlib.axes.Axes.scatter

    def recording(self, x, y, *args, **kwargs):
        drawn.append(np.asarray(x).size)
        return original(self, x, y, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "scatter", recording)
    plots = {plot.key: plot for plot in render_plots(large_report)}
    n = large_report.data.n_used
    assert drawn and max(drawn) <= MAX_POINTS
    for key in ("residuals_vs_fitted", "scale_location", "residuals_vs_leverage", "cr_0", "cr_1"):
        assert f"sample of {MAX_POINTS:,} of {n:,} points" in plots[key].caption, key
    assert f"{MAX_POINTS:,} evenly spaced quantiles of {n:,}" in plots["qq"].caption
    for plot in plots.values():
        assert len(plot.png) < 250_000, (plot.key, len(plot.png))  # files stay small
        decode(plot.png)


def test_below_max_points_nothing_is_sampled(linear_report):
    for plot in render_plots(linear_report):
        assert "sample" not in plot.caption


def test_component_plus_residual_plots_are_capped_and_named():
    rng = np.random.default_rng(9)
    n, p = 80, MAX_COMPONENT_PLOTS + 2
    x = rng.normal(size=(n, p))
    frame = pd.DataFrame(x, columns=[f"x{j}" for j in range(p)])
    frame["y"] = x.sum(axis=1) + rng.normal(size=n)
    plots = [plot for plot in render_plots(olscheck.check(frame, target="y", probe=False)) if plot.key.startswith("cr_")]
    assert len(plots) == MAX_COMPONENT_PLOTS
    assert [plot.title for plot in plots] == [f"Component + residual: x{j}" for j in range(MAX_COMPONENT_PLOTS)]
    assert f"Not drawn (at most {MAX_COMPONENT_PLOTS}): x{p - 2}, x{p - 1}." in plots[-1].caption


def test_probe_plot_needs_a_computed_probe(linear_report, report):
    assert "probe" not in [plot.key for plot in render_plots(linear_report)]
    probe = plots_module._probe(report)
    assert probe is not None and probe.assumption == "probe"
    decode(probe.png)


def test_no_fit_no_plots(linear_report):
    import dataclasses

    assert render_plots(dataclasses.replace(linear_report, fit=None)) == []


def test_a_streamed_report_beyond_the_rows_kept_whole_plots_its_sample(tmp_path):
    from olscheck.engine import check_streaming
    from olscheck.render import write_report
    from tests.engine.test_streaming import make_frame

    frame = make_frame(n=900, seed=5)
    report = check_streaming(frame, target="y", chunk_rows=100, exact_rows=300)
    kept = report.model.residuals.size
    assert kept < 900
    plots = render_plots(report)
    keys = [plot.key for plot in plots]
    assert "cr_0" in keys  # component + residual from the rows kept whole
    for plot in plots:
        decode(plot.png)
    fit = report.fit.extra["sample_fit"]
    assert fit.n == kept
    html = tmp_path / "streamed.html"
    write_report(report, html)
    assert "<img" in html.read_text()
