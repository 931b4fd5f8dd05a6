"""Diagnostic plots: valid PNGs, sampled above MAX_POINTS, component-plus-residual capped; drawn without
pyplot, nothing cut off, once per report."""

from __future__ import annotations

import io

import matplotlib.axes
import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
from PIL import Image

import olscheck
from olscheck.report.render import plots as plots_module
from olscheck.report.render.plots import MAX_COMPONENT_PLOTS, MAX_POINTS, _sample, render_plots


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
        assert isinstance(plot.png, bytes), plot.key  # encoded on a second thread, collected before returning
        image = decode(plot.png)
        assert image.mode == "P"  # the palette PNG
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
    original = plots_module._points

    def recording(axes, x, y):
        drawn.append(np.asarray(x).size)
        return original(axes, x, y)

    monkeypatch.setattr(plots_module, "_points", recording)
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
    from olscheck.report.render import write_report
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
    fit = report.rows_fit
    assert fit.n == kept
    html = tmp_path / "streamed.html"
    write_report(report, html)
    assert "<img" in html.read_text()


# ----------------------------------------------------------------------------- labels and legends
@pytest.fixture(scope="module")
def outlier_frame():
    rng = np.random.default_rng(3)
    n = 80
    x, x2 = rng.normal(size=n), rng.normal(size=n)
    y = 1 + x + rng.normal(size=n)
    y[5] += 6  # one gross outlier
    return pd.DataFrame({"y": y, "x": x, "x2": x2}, index=[f"r{i}" for i in range(n)])


def test_the_most_extreme_rows_are_labelled_as_r_does(outlier_frame, monkeypatch):
    """R's plot(lm) labels the 3 largest |standardized residuals| and the 3 largest Cook's distances."""
    import statsmodels.formula.api as smf

    influence = smf.ols("y ~ x + x2", outlier_frame).fit().get_influence()
    standardized = pd.Series(influence.resid_studentized_internal, index=outlier_frame.index)
    cooks = pd.Series(influence.cooks_distance[0], index=outlier_frame.index)
    by_residual = list(standardized.abs().sort_values(ascending=False).index[:3])
    by_cooks = list(cooks.sort_values(ascending=False).index[:3])
    assert by_residual[0] == "r5"

    calls: list[tuple[matplotlib.axes.Axes, str]] = []
    original = matplotlib.axes.Axes.annotate

    def recording(self, text, *args, **kwargs):
        calls.append((self, str(text)))
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "annotate", recording)
    report = olscheck.check(outlier_frame, target="y", probe=False)
    plots = {plot.key: plot for plot in render_plots(report)}
    written = [(axes.get_title(), text) for axes, text in calls]  # titles are set once a plot is drawn
    for key, title, expected in (("residuals_vs_fitted", "Residuals vs fitted", by_residual),
                                 ("qq", "Normal Q-Q", by_residual),
                                 ("scale_location", "Scale-location", by_residual),
                                 ("residuals_vs_leverage", "Residuals vs leverage", by_cooks)):
        assert sorted(text for t, text in written if t == title) == sorted(expected), key
        assert f"({', '.join(expected)})" in plots[key].caption, key
    # the component-plus-residual and other plots label nothing
    assert {t for t, _ in written} == {"Residuals vs fitted", "Normal Q-Q", "Scale-location", "Residuals vs leverage"}


def test_labelled_rows_are_drawn_when_the_scatter_is_sampled(large_report):
    from olscheck.report.render.plots import extreme_rows

    rows, _ = _sample(large_report.data.n_used, 0, extreme_rows(large_report.model.residuals.to_numpy()))
    assert set(extreme_rows(large_report.model.residuals.to_numpy())) <= set(rows.tolist())


def test_extreme_rows_skips_missing_values():
    from olscheck.report.render.plots import extreme_rows

    assert extreme_rows(np.array([0.1, np.nan, -5.0, 2.0, np.inf, 3.0])).tolist() == [2, 5, 3]
    assert extreme_rows(np.array([np.nan, 1.0])).tolist() == [1]
    assert extreme_rows(np.array([np.nan])).tolist() == []


def legend_texts(monkeypatch) -> dict[str, list[str]]:
    """Legend texts by plot title, filled in as plots are drawn (read it after rendering)."""
    calls: list = []
    original = matplotlib.axes.Axes.legend

    def recording(self, *args, **kwargs):
        legend = original(self, *args, **kwargs)
        calls.append((self, legend))
        return legend

    monkeypatch.setattr(matplotlib.axes.Axes, "legend", recording)

    class Seen(dict):
        def __getitem__(self, title):
            return {axes.get_title(): [t.get_text() for t in legend.get_texts()] for axes, legend in calls}[title]

        def __contains__(self, title):
            return title in {axes.get_title() for axes, _ in calls}

    return Seen()


def test_the_leverage_legend_names_only_the_contours_inside_the_axes(monkeypatch):
    # many rows, low leverage, no outlier: Cook's 0.5 and 1 contours lie far above the points
    rng = np.random.default_rng(11)
    n = 2_000
    x = rng.normal(size=(n, 2))
    frame = pd.DataFrame({"y": x @ [1.0, 1.0] + rng.normal(size=n), "a": x[:, 0], "b": x[:, 1]})
    seen = legend_texts(monkeypatch)
    plots = {plot.key: plot for plot in render_plots(olscheck.check(frame, target="y", probe=False))}
    assert "Residuals vs leverage" not in seen  # nothing drawn, so no legend
    assert "outside the plot" in plots["residuals_vs_leverage"].caption
    assert "dashed Cook's distance 1" not in plots["residuals_vs_leverage"].caption


def test_the_leverage_legend_names_the_contours_drawn(outlier_frame, monkeypatch):
    seen = legend_texts(monkeypatch)
    plots = {plot.key: plot for plot in render_plots(olscheck.check(outlier_frame, target="y", probe=False))}
    assert seen["Residuals vs leverage"] == ["Cook's D = 0.5", "Cook's D = 1"]
    assert "Cook's distance 1 contour" in plots["residuals_vs_leverage"].caption


# ----------------------------------------------------------------------------- drawing: no pyplot, nothing cut off, once
def test_rendering_never_imports_pyplot():
    """Figures are built on their own Agg canvas: pyplot's import, backend and figure registry stay untouched."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import sys\n"
        "import numpy as np, pandas as pd\n"
        "import olscheck\n"
        "from olscheck.report.render import render_plots\n"
        "rng = np.random.default_rng(1)\n"
        "x = rng.normal(size=(200, 2))\n"
        "frame = pd.DataFrame({'y': x @ [1.0, 2.0] + rng.normal(size=200), 'a': x[:, 0], 'b': x[:, 1]})\n"
        "plots = render_plots(olscheck.check(frame, target='y', probe=False))\n"
        "assert len(plots) >= 6 and 'matplotlib.figure' in sys.modules, sorted(sys.modules)\n"
        "print('pyplot imported:', 'matplotlib.pyplot' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "pyplot imported: False" in done.stdout


def drawn_figures(monkeypatch) -> list:
    """(figure, cropped RGB pixels) of every figure drawn, filled in as plots are drawn."""
    drawn = []
    original = plots_module._draw

    def recording(figure):
        pixels = original(figure)
        drawn.append((figure, pixels))
        return pixels

    monkeypatch.setattr(plots_module, "_draw", recording)
    return drawn


def assert_nothing_cut_off(figure, pixels) -> None:
    """Everything matplotlib drew lies inside the canvas, and the crop keeps a blank pad around it."""
    renderer = figure.canvas.get_renderer()
    width, height = figure.get_size_inches()
    drawn = figure.get_tightbbox(renderer)  # inches
    assert drawn.x0 >= 0 and drawn.y0 >= 0 and drawn.x1 <= width and drawn.y1 <= height, (drawn, width, height)
    pad = int(round(plots_module.PAD_INCHES * plots_module.DPI))
    white = np.array([255, 255, 255])
    for border in (pixels[:pad], pixels[-pad:], pixels[:, :pad], pixels[:, -pad:]):
        assert (border == white).all()
    # the crop holds the drawing: as large as its tight box, give or take the rounding of text boxes to ink
    assert pixels.shape[1] >= (drawn.width + 2 * plots_module.PAD_INCHES) * plots_module.DPI - 8
    assert pixels.shape[0] >= (drawn.height + 2 * plots_module.PAD_INCHES) * plots_module.DPI - 8


def test_long_term_and_column_names_stay_inside_the_image(monkeypatch):
    rng = np.random.default_rng(4)
    n = 120
    long_name = "household_disposable_income_after_taxes_and_transfers_in_euros"
    x = rng.normal(size=(n, 2))
    x[:, 1] += 0.8 * x[:, 0]
    frame = pd.DataFrame({"y": x @ [1.0, 1.0] + rng.normal(size=n), long_name: x[:, 0], "b": x[:, 1]})
    drawn = drawn_figures(monkeypatch)
    plots = render_plots(olscheck.check(frame, target="y", probe=False))
    titles = [figure.axes[0].get_title() for figure, _ in drawn]
    assert "Variance inflation" in titles and f"Component + residual: {long_name}" in titles
    for figure, pixels in drawn:
        assert_nothing_cut_off(figure, pixels)
    vif = next(figure for figure, _ in drawn if figure.axes[0].get_title() == "Variance inflation")
    assert long_name in [label.get_text() for label in vif.axes[0].get_yticklabels()]
    assert len(plots) == len(drawn)


def test_a_drawing_that_outgrows_its_room_is_drawn_again_with_more(monkeypatch):
    """The room around the axes is an estimate: what reaches the canvas edge makes the figure grow, not get cut."""
    grown = []
    original = matplotlib.figure.Figure.get_tightbbox
    monkeypatch.setattr(matplotlib.figure.Figure, "get_tightbbox",
                        lambda self, *args, **kwargs: grown.append(1) or original(self, *args, **kwargs))
    figure, axes = plots_module._figure(room=(0.05, 0.05, 0.05, 0.05))
    axes.plot([0, 1], [0, 1_000_000])
    axes.set_ylabel("a y label that needs room")
    axes.set_xlabel("an x label")
    plots_module._title(axes, "A title")
    pixels = plots_module._draw(figure)
    assert grown == [1]  # measured once, drawn once more
    assert_nothing_cut_off(figure, pixels)


def test_plots_are_rendered_once_per_report_and_seed(linear_report, monkeypatch):
    import dataclasses

    calls = []
    original = plots_module._battery_plots
    monkeypatch.setattr(plots_module, "_battery_plots",
                        lambda report, seed: calls.append(seed) or original(report, seed))
    report = dataclasses.replace(linear_report)  # a report of its own: nothing rendered for it yet
    first = render_plots(report)
    again = render_plots(report)
    assert calls == [0]
    assert again == first and again is not first  # a new list: changing it leaves the cache alone
    assert all(a is b for a, b in zip(first, again))
    from olscheck.report.render import render_plots as rendered_from_the_package

    assert rendered_from_the_package(report)[0] is first[0] and calls == [0]
    other_seed = render_plots(report, seed=1)
    assert calls == [0, 1] and len(other_seed) == len(first)
    render_plots(dataclasses.replace(report))  # another report object: drawn for it
    assert calls == [0, 1, 0]


def test_saving_twice_draws_the_plots_once(linear_report, tmp_path, monkeypatch):
    import dataclasses

    calls = []
    original = plots_module._battery_plots
    monkeypatch.setattr(plots_module, "_battery_plots",
                        lambda report, seed: calls.append(seed) or original(report, seed))
    report = dataclasses.replace(linear_report)
    report.save(tmp_path / "first.html")
    report.save([tmp_path / "second.html", tmp_path / "second.md"])
    assert len(calls) == 1
    qq = next(plot.png for plot in render_plots(report) if plot.key == "qq")
    assert (tmp_path / "second_files" / "qq.png").read_bytes() == qq


def test_a_title_given_its_height_still_clears_a_long_offset_text():
    """Titles are placed at a fixed height (cheaper to draw) but lifted, as matplotlib does, above a y offset text."""
    rng = np.random.default_rng(0)
    figure, axes = plots_module._figure()
    plots_module._points(axes, rng.normal(size=200), 1234567.891 + rng.normal(size=200) * 1e-6)
    plots_module._title(axes, "Residuals vs leverage")
    assert axes.title.get_position()[1] == 1.0  # given its height: short enough
    plots_module._draw(figure)
    renderer = figure.canvas.get_renderer()
    assert len(axes.yaxis.offsetText.get_text()) > 10  # "1e-6+1.234567891e6"
    assert not axes.title.get_window_extent(renderer).overlaps(axes.yaxis.offsetText.get_window_extent(renderer))


def test_plots_drawn_during_the_check_are_those_drawn_afterwards(outlier_frame, monkeypatch):
    """check(plots=True) draws all but the probe's plot from a draft before the verdict: the same pictures."""
    drawn = []
    original = plots_module._battery_plots
    monkeypatch.setattr(plots_module, "_battery_plots",
                        lambda report, seed: drawn.append(report) or original(report, seed))
    early = olscheck.check(outlier_frame, target="y", seed=4, plots=True)
    assert len(drawn) == 1 and drawn[0] is not early and drawn[0].verdict is None  # from the draft
    later = olscheck.check(outlier_frame, target="y", seed=4)
    assert len(drawn) == 1  # nothing drawn for a report until asked
    early_plots, later_plots = render_plots(early), render_plots(later)
    assert len(drawn) == 2  # the early report's plots were kept with it
    assert [plot.key for plot in early_plots] == [plot.key for plot in later_plots]
    assert early_plots[-1].key == "probe"
    for first, second in zip(early_plots, later_plots):
        assert (first.png, first.caption, first.title) == (second.png, second.caption, second.title), first.key


def test_a_streamed_check_asked_for_plots_draws_them_during_the_check(outlier_frame, tmp_path, monkeypatch):
    drawn = []
    original = plots_module._battery_plots
    monkeypatch.setattr(plots_module, "_battery_plots", lambda report, seed: drawn.append(1) or original(report, seed))
    path = tmp_path / "data.parquet"
    outlier_frame.reset_index(drop=True).to_parquet(path)
    steps = []
    report = olscheck.check(path, target="y", streaming=True, probe=False, plots=True, progress=steps.append)
    assert drawn == [1] and steps[-1] == "drawing the plots"
    assert [plot.key for plot in render_plots(report)][:2] == ["residuals_vs_fitted", "qq"] and drawn == [1]
