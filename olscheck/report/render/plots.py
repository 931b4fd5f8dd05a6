"""The diagnostic plots a statistician looks at first (matplotlib, Agg backend).

Every function reads a :class:`~olscheck.report.report.Report` and returns
:class:`Plot` objects holding PNG bytes; nothing here decides a severity.
Above :data:`MAX_POINTS` points, scatter plots show a seeded sample that
always keeps the most influential rows, the Q-Q plot evenly spaced
quantiles, and the captions say so. As R's ``plot(lm)``, the residual, Q-Q
and scale-location plots label the :data:`LABELLED_ROWS` rows with the
largest standardized residuals and the leverage plot those with the largest
Cook's distances (always drawn, sampled or not); a legend names only lines
drawn inside the axes. Component-plus-residual plots are drawn
for at most :data:`MAX_COMPONENT_PLOTS` numeric terms; the caption names the
rest. A plot's ``assumption`` names the report section it belongs to
(``"probe"`` for the out-of-sample comparison).

Render once and pass the list to every format
(:func:`olscheck.report.render.write_report` takes ``plots=``);
:func:`render_plots` also keeps the plots of each report object, so a
second call for it draws nothing. Figures are built on Agg canvases of
their own (never :mod:`matplotlib.pyplot`), drawn once and cropped to what
was drawn, and their PNGs are encoded on a second thread while the next
figure is drawn.
"""

from __future__ import annotations

import dataclasses
import io
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

__all__ = ["Plot", "MAX_POINTS", "MAX_COMPONENT_PLOTS", "LABELLED_ROWS", "PALETTE_COLORS", "render_plots",
           "plots_before_verdict", "extreme_rows"]

#: Points drawn in one scatter plot before sampling: 3,000 points (the most influential always among them)
#: show every pattern the residual plots are read for, and drawing 10,000 cost a second per report at
#: 10,000 rows (benchmarks/battery_benchmark.py, step "full").
MAX_POINTS = 3_000
#: Component-plus-residual plots drawn at most (the rest are named in a caption).
MAX_COMPONENT_PLOTS = 6
#: Rows labelled in the residual, Q-Q, scale-location and leverage plots (R's ``plot.lm(id.n = 3)``).
LABELLED_ROWS = 3


@dataclass(frozen=True, slots=True)
class Plot:
    """One rendered figure."""

    key: str
    title: str
    assumption: str
    png: bytes
    caption: str = ""


#: Resolution of every PNG: a 5.2 x 3.8 inch figure is about 450 x 360 pixels once cropped.
DPI = 96
#: Colours of the palette PNGs (:func:`_png`).
PALETTE_COLORS = 64
#: White space kept around the drawn content, in inches (``savefig``'s ``pad_inches`` with ``bbox_inches="tight"``).
PAD_INCHES = 0.1
#: Room left of, below, right of and above the axes on the canvas drawn before cropping, in inches: wider
#: than the tick labels, axis labels and title of these plots need, so a plot is drawn once and cropped to
#: what was drawn (a measured layout pass, as ``bbox_inches="tight"`` makes, would cost a second draw).
ROOM_INCHES = (1.4, 0.9, 0.6, 0.7)
#: Tick intervals an axis has at most (R's ``pretty(n = 5)``; matplotlib's "auto" allows up to nine here).
TICK_INTERVALS = 5


def _figure(width: float = 5.2, height: float = 3.8, *, room: tuple[float, float, float, float] = ROOM_INCHES,
            centred: tuple[str, ...] = ()):
    """A figure and its axes on an Agg canvas of their own.

    ``width`` and ``height`` are those of a matplotlib figure whose default
    subplot box sets the size of the axes; the canvas adds ``room`` (left,
    bottom, right, top, in inches) around the axes, and :func:`_draw` crops
    it to what was drawn. ``centred`` texts (a title, an x label holding a
    user's column name) are centred over the axes: the room on either side
    grows by half of what they stick out (estimated at the title's size).
    Built with
    :class:`matplotlib.figure.Figure`, not :mod:`matplotlib.pyplot`: no
    global figure registry to close figures from (or to leak them into when
    a plot fails), nothing shared with a user's open figures or backend,
    and pyplot's import is saved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    box = axes.get_position()
    axes_size = (box.width * width, box.height * height)
    overhang = max((_text_inches(text, _TITLE_POINTS) - axes_size[0]) / 2 for text in centred) if centred else 0.0
    if overhang > 0:
        room = (room[0] + overhang, room[1], room[2] + overhang, room[3])
    _place(figure, axes, axes_size, room)
    # about five intervals an axis, as R's pretty() gives plot.lm, instead of matplotlib's up to nine on a
    # plot this size: a third less of each figure's drawing is making and laying out tick labels
    for axis in (axes.xaxis, axes.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=TICK_INTERVALS, steps=[1, 2, 2.5, 5, 10]))
    axes.grid(True, alpha=0.25)
    return figure, axes


#: Font sizes of titles and of tick labels, in points (matplotlib's defaults: "large" and "medium").
_TITLE_POINTS, _TICK_POINTS = 12.0, 10.0


def _text_inches(text: str, points: float) -> float:
    """A generous estimate of how wide ``text`` is drawn at ``points``, in inches, without laying it out.

    0.7 em a character is wider than DejaVu Sans's capitals and digits on
    average; an estimate only sets the room drawn around the axes, and
    :func:`_draw` catches what an estimate misses.
    """
    return len(text) * points * 0.7 / 72


def _place(figure, axes, axes_size: tuple[float, float], room: tuple[float, float, float, float]) -> None:
    """Size the figure to ``axes_size`` plus ``room`` (left, bottom, right, top), all in inches."""
    (axes_width, axes_height), (left, bottom, right, top) = axes_size, room
    width, height = left + axes_width + right, bottom + axes_height + top
    figure.set_size_inches(width, height)
    axes.set_position([left / width, bottom / height, axes_width / width, axes_height / height])


def _title(axes, text: str) -> None:
    """Set the axes title, at a fixed height above the axes unless it is long.

    Without ``y``, matplotlib measures every y tick label at each draw to
    lift the title above an exponent offset text ("1e6", drawn above the
    y axis at the left); that measurement costs about 7% of a plot's
    drawing. A title that leaves half an inch free at either side cannot
    reach a short offset text, so it is given its height (and lifted after
    all if a long offset text reaches it, :func:`_lift_title`); a longer
    one (a long column name) is placed by matplotlib.
    """
    figure = axes.get_figure()
    axes_width = axes.get_position().width * figure.get_size_inches()[0]
    fits = _text_inches(text, _TITLE_POINTS) <= axes_width - 2 * 0.5
    axes.set_title(text, y=1.0 if fits else None)


def _ink_box(pixels: np.ndarray) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) pixel bounds of everything not of the background colour, None when blank.

    ``pixels`` is the canvas's RGBA buffer; the background is the colour of
    its top-left corner, which the room around the axes keeps empty. Each
    pixel is compared as one 32-bit word: a hundred times faster than
    comparing its four bytes.
    """
    words = pixels.view(np.uint32).reshape(pixels.shape[:2])
    ink = words != words[0, 0]
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if rows.size == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def _lift_title(axes, renderer) -> bool:
    """Move a title given its height (:func:`_title`) above the y axis's offset text when they overlap.

    That is what matplotlib does for a title it places itself; True when the
    title moved and the figure must be drawn again. The offset text ("1e6")
    is only known once drawn, and is rarely there at all.
    """
    offset = axes.yaxis.offsetText
    if not (offset.get_visible() and offset.get_text() and axes.get_title()):
        return False
    offset_box = offset.get_window_extent(renderer)
    if not axes.title.get_window_extent(renderer).overlaps(offset_box):
        return False
    axes.title.set_y(axes.transAxes.inverted().transform((0, offset_box.y1))[1])
    return True


def _draw(figure) -> np.ndarray:
    """Draw the figure, growing its room first when something reaches the edge, and crop it.

    The result is a copy of the RGB pixels of what was drawn plus
    :data:`PAD_INCHES` on every side, as ``savefig(bbox_inches="tight")``
    crops, but from one drawing instead of two. When the drawing comes
    within the pad of the canvas edge (a very long term or column name),
    something may have been cut off: matplotlib's own tight bounding box
    then says how much room is missing, and the figure is drawn once more
    with it.
    """
    canvas = figure.canvas
    pad = int(round(PAD_INCHES * DPI))
    canvas.draw()
    if _lift_title(figure.axes[0], canvas.get_renderer()):
        canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())
    box = _ink_box(pixels)
    height, width = pixels.shape[:2]
    if box is not None and (box[0] < pad or box[1] > height - pad or box[2] < pad or box[3] > width - pad):
        axes = figure.axes[0]
        size = figure.get_size_inches()
        position = axes.get_position()
        room = [position.x0 * size[0], position.y0 * size[1], (1 - position.x1) * size[0], (1 - position.y1) * size[1]]
        drawn = figure.get_tightbbox(canvas.get_renderer())  # in inches, reaching beyond the canvas where cut off
        slack = 2 * PAD_INCHES
        room[0] += max(0.0, -drawn.x0) + slack
        room[1] += max(0.0, -drawn.y0) + slack
        room[2] += max(0.0, drawn.x1 - size[0]) + slack
        room[3] += max(0.0, drawn.y1 - size[1]) + slack
        _place(figure, axes, (position.width * size[0], position.height * size[1]), tuple(room))
        canvas.draw()
        pixels = np.asarray(canvas.buffer_rgba())
        box = _ink_box(pixels)
        height, width = pixels.shape[:2]
    if box is None:
        return np.ascontiguousarray(pixels[:, :, :3])
    top, bottom, left, right = box
    # the copy leaves the canvas's buffer behind: the PNG may be encoded on another thread (_png)
    return np.ascontiguousarray(pixels[max(top - pad, 0):min(bottom + pad, height),
                                       max(left - pad, 0):min(right + pad, width), :3])


def _encode(pixels: np.ndarray) -> bytes:
    """RGB pixels as a palette PNG.

    Matplotlib draws 24-bit colour; a plot of a few line and point colours
    over white, with their anti-aliased edges, loses nothing visible in a
    64-colour palette (no dithering, which would add noise to flat areas)
    and takes about a third of the bytes. That keeps a report with a dozen
    plots small enough for a notebook (issue 15: about 550 KB of images per
    report before). The palette is Pillow's fast octree: a quarter of
    median cut's time and 20% fewer bytes, off by 1.3 levels of 255 on
    average where median cut is off by 0.3; its colours are the means of
    their buckets, so the background's colour is set back exactly (white
    would come out 254, a faint box on a white page). zlib's level 8 makes
    PNGs 1.3% larger than ``optimize=True`` (level 9) did, in a third of
    its time (benchmarks/plots_benchmark.py).
    """
    from PIL import Image

    # 2 and 0 are FASTOCTREE and Dither.NONE: the enums only exist from Pillow 9.1, matplotlib needs >= 9
    palette_image = Image.fromarray(pixels).quantize(colors=PALETTE_COLORS, method=2, dither=0)
    palette = palette_image.getpalette()
    background = palette_image.getpixel((0, 0))  # a corner is always background: _draw keeps a pad around the ink
    palette[3 * background:3 * background + 3] = [int(value) for value in pixels[0, 0]]
    palette_image.putpalette(palette)
    out = io.BytesIO()
    palette_image.save(out, format="PNG", compress_level=8)
    return out.getvalue()


#: The thread that encodes PNGs while :func:`render_plots` draws the next figure (None outside it).
_ENCODER: ContextVar[ThreadPoolExecutor | None] = ContextVar("olscheck_png_encoder", default=None)


def _png(figure) -> bytes | Future:
    """The figure as a 96-dpi palette PNG, cropped to what was drawn (:func:`_draw`, :func:`_encode`).

    Inside :func:`render_plots` this is a :class:`~concurrent.futures.Future`
    of the bytes: Pillow's quantizing and compressing release the GIL, so a
    second thread encodes one figure while matplotlib (which holds the GIL)
    draws the next, and :func:`render_plots` collects the bytes at the end.
    """
    pixels = _draw(figure)
    encoder = _ENCODER.get()
    if encoder is None:
        return _encode(pixels)
    return encoder.submit(_encode, pixels)


def _sample(n: int, seed: int, keep: np.ndarray | None = None) -> tuple[np.ndarray, str]:
    """Row positions to draw (at most :data:`MAX_POINTS`), and a caption fragment when sampled.

    ``keep`` (the most influential rows) is always drawn: a sample that
    dropped the outlier would hide what the plot is for. The rest is a
    seeded uniform sample without replacement, so a report is reproducible.
    """
    if n <= MAX_POINTS:
        return np.arange(n), ""
    keep = np.unique(np.asarray(keep if keep is not None else [], dtype=int))[:MAX_POINTS]
    rest = np.setdiff1d(np.arange(n), keep, assume_unique=True)
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([keep, rng.choice(rest, size=MAX_POINTS - keep.size, replace=False)])
    note = (f" Showing a seeded random sample of {MAX_POINTS:,} of {n:,} points"
            + (f" (the {keep.size} most influential always included)." if keep.size else "."))
    return np.sort(chosen), note


def _marker(count: int) -> dict:
    """Point styling that stays readable from a hundred to ten thousand points (``markersize``: diameter in points)."""
    if count > 3000:
        return {"markersize": 2.0, "alpha": 0.3}
    if count > 1000:
        return {"markersize": 6**0.5, "alpha": 0.4}
    return {"markersize": 3.0, "alpha": 0.55}


def _points(axes, x: np.ndarray, y: np.ndarray) -> None:
    """The points of a scatter plot, as the markers of a line drawn without its line.

    Agg renders a line's marker once and stamps it at every point, where a
    ``scatter`` collection renders every point's path: 2 ms instead of 20
    for 3,000 points, for the same picture (the stamps sit on whole pixels,
    which points two or three pixels wide do not show). The diameters are
    those of the ``scatter`` sizes used before (4, 6 and 9 square points).
    """
    axes.plot(x, y, linestyle="none", marker="o", markeredgewidth=0, color="#3b6ea5", **_marker(np.size(x)))


def _text(label) -> str:
    """A user-supplied label for matplotlib: ``$`` would start mathtext (and can fail to parse)."""
    return str(label).replace("$", r"\$")


def _smooth(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """LOWESS with f = 2/3, 3 robustness iterations and delta = 1% of the x range.

    These are the defaults of R's ``lowess`` as ``plot.lm`` calls it
    (``panel.smooth``); delta lets points closer than it share a local fit,
    which keeps ten thousand points fast. None when too few points.
    """
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if x.size < 10 or np.ptp(x) == 0:
        return None
    from statsmodels.nonparametric.smoothers_lowess import lowess

    smoothed = lowess(y, x, frac=2 / 3, it=3, delta=0.01 * float(np.ptp(x)), return_sorted=True)
    return smoothed[:, 0], smoothed[:, 1]


#: Plots already rendered, per report and seed: a report is immutable, and saving it twice (or showing it
#: in a notebook, then saving it) should not draw its plots twice. Held only as long as the report lives.
_RENDERED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_RENDERED_LOCK = threading.Lock()


def render_plots(report, seed: int | None = None, *, before_verdict: Sequence[Plot] | None = None) -> list[Plot]:
    """All diagnostic plots for ``report``, in reading order.

    The plots of a report are rendered once per seed: a later call with the
    same report object returns the same :class:`Plot` objects (in a new
    list) without drawing them again. ``before_verdict`` are the plots
    :func:`plots_before_verdict` drew for this report with this seed (from
    its draft): only the probe's plot is drawn then.
    """
    if report.fit is None:
        return []
    seed = int(report.options.get("seed", 0)) if seed is None else seed
    try:
        with _RENDERED_LOCK:
            cached = _RENDERED.get(report, {}).get(seed)
    except TypeError:  # an object that cannot be weakly referenced: drawn every time
        return _render_now(report, seed)
    if cached is not None:
        return list(cached)
    if before_verdict is None:
        plots = _render_now(report, seed)
    else:
        probe = _probe(report)
        plots = list(before_verdict) + ([] if probe is None else [_encoded(probe)])
    with _RENDERED_LOCK:
        _RENDERED.setdefault(report, {})[seed] = tuple(plots)
    return plots


def plots_before_verdict(draft, seed: int) -> tuple[Plot, ...]:
    """Every plot but the probe's, drawn from ``draft``: a report assembled before its verdict.

    Those plots read only what the battery computed (the fit, its
    residuals, influence and collinearity); :func:`olscheck.check` with
    ``plots=True`` draws them while the non-linear probe runs in a child
    process, then passes them to :func:`render_plots` for the finished
    report, which adds the probe's plot.
    """
    if draft.fit is None:
        return ()
    with _encoding() as collect:
        return tuple(collect(_battery_plots(draft, seed)))


@contextmanager
def _encoding():
    """A thread encoding PNGs while figures are drawn (:func:`_png`); yields the function collecting their bytes."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="olscheck-png") as encoder:
        token = _ENCODER.set(encoder)
        try:
            yield lambda plots: [_encoded(plot) for plot in plots]
        finally:
            _ENCODER.reset(token)


def _encoded(plot: Plot) -> Plot:
    return dataclasses.replace(plot, png=plot.png.result()) if isinstance(plot.png, Future) else plot


def _render_now(report, seed: int) -> list[Plot]:
    """Draw every plot of ``report``, the PNGs encoded on a second thread meanwhile (:func:`_png`)."""
    with _encoding() as collect:
        plots = _battery_plots(report, seed)
        probe = _probe(report)
        return collect(plots + ([] if probe is None else [probe]))


def _battery_plots(report, seed: int) -> list[Plot]:
    """Every plot but the probe's: those that read only the fit, influence and collinearity."""
    fit = report.fit
    influence = report.influence
    residuals = report.model.residuals.to_numpy()
    fitted = report.model.fitted.to_numpy()
    leverage = report.model.leverage.to_numpy()
    sigma = report.model.sigma or 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        standardized = residuals / (sigma * np.sqrt(np.clip(1 - leverage, 1e-12, None)))
    cooks = np.asarray(getattr(influence, "cooks_distance", np.zeros(residuals.size)), dtype=float)
    if cooks.size != residuals.size:
        # a streamed report keeps per-row values only for the rows kept whole
        # (its influence summary holds the extremes over all rows): Cook's
        # distance of those rows from their own residuals and leverages
        with np.errstate(divide="ignore", invalid="ignore"):
            cooks = standardized**2 * leverage / (max(report.model.rank, 1) * np.clip(1 - leverage, 1e-12, None))
    names = [str(label) for label in report.model.residuals.index]
    # R's plot.lm labels the rows with the largest |residual| (residual, Q-Q and scale-location plots, all
    # ranked by the standardized residual) and the largest Cook's distance (leverage plot)
    by_residual = extreme_rows(standardized)
    by_cooks = extreme_rows(cooks) if cooks.size == residuals.size else np.array([], dtype=int)
    top = np.argsort(np.nan_to_num(cooks, nan=0.0))[-20:] if cooks.size else np.array([], dtype=int)
    # the labelled rows are always drawn, however the rest is sampled
    rows, sample_note = _sample(residuals.size, seed, np.concatenate([top, by_residual, by_cooks]).astype(int))

    def labels_of(extreme: np.ndarray) -> dict[int, str]:
        """Positions within ``rows`` of the labelled rows, with their labels."""
        where = {int(row): position for position, row in enumerate(rows)}
        return {where[int(row)]: names[int(row)] for row in extreme if int(row) in where}

    plots = [
        _residuals_vs_fitted(fitted[rows], residuals[rows], sample_note, labels_of(by_residual)),
        _qq(standardized, sample_note, seed, {int(row): names[int(row)] for row in by_residual}),
        _scale_location(fitted[rows], standardized[rows], sample_note, labels_of(by_residual)),
        _residuals_vs_leverage(leverage[rows], standardized[rows], cooks[rows] if cooks.size else None,
                               fit.rank, sample_note, labels_of(by_cooks)),
        _acf(residuals, report.data.order_note),
    ]
    vif = _vif(report)
    if vif is not None:
        plots.append(vif)
    plots.extend(_component_plus_residual(report, rows, sample_note))
    return plots


def extreme_rows(values: np.ndarray, count: int = LABELLED_ROWS) -> np.ndarray:
    """Positions of the ``count`` largest finite ``|values|``, largest first (R's ``plot.lm`` ``id.n``)."""
    values = np.asarray(values, dtype=float)
    magnitude = np.where(np.isfinite(values), np.abs(values), -np.inf)
    finite = int(np.isfinite(values).sum())
    if finite == 0:
        return np.array([], dtype=int)
    order = np.argsort(-magnitude, kind="stable")
    return order[:min(count, finite)]


def _label(axes, x: np.ndarray, y: np.ndarray, labels: dict[int, str]) -> None:
    """Write each row's label beside its point, on the side away from the middle so it stays inside."""
    if not labels:
        return
    middle = float(np.nanmedian(x)) if x.size else 0.0
    for position, text in labels.items():
        px, py = float(x[position]), float(y[position])
        if not (np.isfinite(px) and np.isfinite(py)):
            continue
        right = px <= middle
        axes.annotate(_text(text), (px, py), xytext=(4 if right else -4, 2), textcoords="offset points",
                      ha="left" if right else "right", va="bottom", fontsize=7, color="#1c2833")


def _residuals_vs_fitted(fitted, residuals, note, labels=None) -> Plot:
    figure, axes = _figure()
    _points(axes, fitted, residuals)
    _label(axes, fitted, residuals, labels or {})
    axes.axhline(0, color="#555", linewidth=0.8, linestyle="--")
    line = _smooth(fitted, residuals)
    if line is not None:
        axes.plot(*line, color="#c0392b", linewidth=1.6, label="LOWESS")
        axes.legend(loc="best", fontsize=8)
    axes.set_xlabel("fitted values")
    axes.set_ylabel("residuals")
    _title(axes, "Residuals vs fitted")
    return Plot("residuals_vs_fitted", "Residuals vs fitted", "linearity", _png(figure),
                "A flat smoother around zero means the mean is linear; a curve means it is not."
                + _labelled(labels, "largest standardized residuals") + note)


def _labelled(labels, what: str) -> str:
    """The caption's sentence naming the labelled rows."""
    if not labels:
        return ""
    return f" Labelled: the rows with the {what} ({', '.join(labels.values())})."


def _qq(standardized, note, seed, labels=None) -> Plot:
    from scipy import stats

    standardized = np.asarray(standardized, dtype=float)
    finite_rows = np.flatnonzero(np.isfinite(standardized))
    order = finite_rows[np.argsort(standardized[finite_rows], kind="stable")]
    rank_of = {int(row): rank for rank, row in enumerate(order)}  # a row's place among the sorted values
    values = standardized[order]
    if values.size > MAX_POINTS:
        positions = np.unique(np.linspace(0, values.size - 1, MAX_POINTS).round().astype(int))
    else:
        positions = np.arange(values.size)
    n = values.size
    probabilities = (np.arange(1, n + 1) - 0.5) / n if n > 10 else (np.arange(1, n + 1) - 3 / 8) / (n + 1 / 4)
    theoretical = stats.norm.ppf(probabilities)
    figure, axes = _figure(4.4, 4.0)
    _points(axes, theoretical[positions], values[positions])
    labels = {row: text for row, text in (labels or {}).items() if row in rank_of}
    _label(axes, theoretical, values, {rank_of[row]: text for row, text in labels.items()})
    if n >= 2:
        q_sample = np.quantile(values, [0.25, 0.75])
        q_theory = stats.norm.ppf([0.25, 0.75])
        slope = (q_sample[1] - q_sample[0]) / (q_theory[1] - q_theory[0])
        intercept = q_sample[0] - slope * q_theory[0]
        span = np.array([theoretical.min(), theoretical.max()]) if n else np.array([-2, 2])
        axes.plot(span, intercept + slope * span, color="#c0392b", linewidth=1.2)
    axes.set_xlabel("theoretical normal quantiles")
    axes.set_ylabel("standardized residuals")
    _title(axes, "Normal Q-Q")
    caption = ("Points on the line mean normal errors; S-shapes mean heavy or light tails, a bow means skew."
               + _labelled(labels, "largest standardized residuals"))
    if values.size > MAX_POINTS:
        caption += f" Showing {positions.size:,} evenly spaced quantiles of {values.size:,}."
    return Plot("qq", "Normal Q-Q", "normality", _png(figure), caption)


def _scale_location(fitted, standardized, note, labels=None) -> Plot:
    root = np.sqrt(np.abs(standardized))
    finite = np.isfinite(root)
    figure, axes = _figure()
    _points(axes, fitted[finite], root[finite])
    _label(axes, fitted, root, labels or {})
    line = _smooth(fitted[finite], root[finite])
    if line is not None:
        axes.plot(*line, color="#c0392b", linewidth=1.6)
    axes.set_xlabel("fitted values")
    axes.set_ylabel("√|standardized residuals|")
    _title(axes, "Scale-location")
    return Plot("scale_location", "Scale-location", "homoskedasticity", _png(figure),
                "A flat smoother means constant error variance; a rising one means variance grows with the mean."
                + _labelled(labels, "largest standardized residuals") + note)


def _residuals_vs_leverage(leverage, standardized, cooks, rank, note, labels=None) -> Plot:
    figure, axes = _figure()
    finite = np.isfinite(standardized)
    _points(axes, leverage[finite], standardized[finite])
    _label(axes, leverage, standardized, labels or {})
    axes.axhline(0, color="#555", linewidth=0.8, linestyle="--")
    upper = max(float(np.max(leverage)) if leverage.size else 0.5, 0.05) * 1.05
    finite_values = standardized[finite]
    span = float(np.max(np.abs(finite_values))) if finite_values.size else 3.0
    limit = max(span, 3) * 1.15
    axes.set_ylim(-limit, limit)
    axes.set_xlim(0, upper)
    grid = np.linspace(max(upper / 200, 1e-4), upper, 200)
    drawn = []
    for level, style in ((0.5, ":"), (1.0, "--")):
        # Cook's D = r² h / (p (1 - h)) = level  ->  r = ±sqrt(level p (1 - h) / h)
        bound = np.sqrt(level * rank * (1 - grid) / grid)
        bound[grid >= 1] = np.nan
        if not np.any(bound <= limit):
            continue  # the contour lies wholly outside the axes: neither drawn nor in the legend
        axes.plot(grid, bound, color="#c0392b", linestyle=style, linewidth=1, label=f"Cook's D = {level:g}")
        axes.plot(grid, -bound, color="#c0392b", linestyle=style, linewidth=1)
        drawn.append(level)
    if drawn:
        axes.legend(fontsize=8, loc="best")
    axes.set_xlabel("leverage")
    axes.set_ylabel("standardized residuals")
    _title(axes, "Residuals vs leverage")
    worst = float(np.nanmax(cooks)) if cooks is not None and cooks.size else None
    if 1.0 in drawn:
        caption = "Points beyond the dashed Cook's distance 1 contour move the fit on their own."
    elif drawn:
        caption = "Points beyond the dotted Cook's distance 0.5 contour weigh heavily on the fit (1 lies off the plot)."
    else:
        caption = "No point comes near Cook's distance 0.5: its contour lies outside the plot."
    if worst is not None:
        caption += f" Largest Cook's distance: {worst:.3g}."
    caption += _labelled(labels, "largest Cook's distances")
    return Plot("residuals_vs_leverage", "Residuals vs leverage", "no_influential_points", _png(figure), caption + note)


def _acf(residuals, order_note) -> Plot:
    n = residuals.size
    max_lag = int(min(40, max(1, n // 4)))
    centred = residuals - residuals.mean()
    denominator = float(centred @ centred) or 1.0
    correlations = np.array([float(centred[lag:] @ centred[:-lag]) / denominator for lag in range(1, max_lag + 1)])
    band = 1.96 / np.sqrt(n)
    figure, axes = _figure(5.2, 3.2)
    axes.vlines(np.arange(1, max_lag + 1), 0, correlations, color="#3b6ea5", linewidth=2)
    axes.axhline(0, color="#555", linewidth=0.8)
    axes.axhline(band, color="#c0392b", linestyle="--", linewidth=1)
    axes.axhline(-band, color="#c0392b", linestyle="--", linewidth=1)
    axes.set_xlabel("lag")
    axes.set_ylabel("autocorrelation")
    _title(axes, "Residual autocorrelation")
    return Plot("acf", "Residual autocorrelation", "independence", _png(figure),
                f"Bars outside the dashed ±1.96/√n band suggest correlated errors. {order_note}")


def _vif(report) -> Plot | None:
    rows = [row for row in report.collinearity.to_dict().get("vif", []) if row.get("gvif") is not None]
    if not rows:
        return None
    names = [row["term"] for row in rows]
    # GVIF^(1/df) is on the VIF scale for one-column terms (df = 1)
    values = [row["vif"] if row.get("vif") is not None else row["gvif_adj"] ** 2 for row in rows]
    thresholds = report.options.get("thresholds", {})
    warn, fail = thresholds.get("vif_warn", 5.0), thresholds.get("vif_fail", 10.0)
    # the term names stand left of the bars: room for the longest (at least the usual room)
    longest = max(_text_inches(_text(name), _TICK_POINTS) for name in names)
    left = max(ROOM_INCHES[0], longest + 0.4)
    figure, axes = _figure(5.2, max(2.2, 0.35 * len(rows) + 1.2), room=(left, *ROOM_INCHES[1:]))
    positions = np.arange(len(rows))
    axes.barh(positions, values, color="#3b6ea5")
    axes.set_yticks(positions, labels=[_text(name) for name in names])
    axes.invert_yaxis()
    axes.axvline(warn, color="#e67e22", linestyle="--", linewidth=1, label=f"{warn:g}")
    axes.axvline(fail, color="#c0392b", linestyle="--", linewidth=1, label=f"{fail:g}")
    axes.legend(fontsize=8, loc="lower right")
    axes.set_xlabel("VIF (GVIF^(1/df) for multi-column terms)")
    _title(axes, "Variance inflation")
    return Plot("vif", "Variance inflation", "no_collinearity", _png(figure),
                f"Bars past {warn:g} inflate standard errors noticeably; past {fail:g}, badly.")


def _component_plus_residual(report, rows, note) -> list[Plot]:
    # the rows kept whole (those of report.model): every row in memory, the streamed rows refitted
    fit = report.rows_fit
    if fit is None or fit.n != report.model.residuals.size:
        return []
    design = fit.design
    candidates = [t for t in fit.terms if not t.categorical and len(t.columns) == 1]
    plots = []
    residuals = fit.residuals * design.response_scale
    for term in candidates[:MAX_COMPONENT_PLOTS]:
        column = term.columns[0]
        values = fit.x[:, column]
        component = values * fit.coefficients[column]
        partial = residuals + component - np.mean(component)
        title = _text(f"Component + residual: {term.name}")
        figure, axes = _figure(centred=(title, _text(term.name)))
        _points(axes, values[rows], partial[rows])
        # the component is linear in the column: its line is drawn through its two ends, not through n points
        ends = np.array([np.min(values), np.max(values)])
        axes.plot(ends, (ends - np.mean(values)) * fit.coefficients[column], color="#555", linestyle="--",
                  linewidth=1)
        line = _smooth(values[rows], partial[rows])
        if line is not None:
            axes.plot(*line, color="#c0392b", linewidth=1.6)
        axes.set_xlabel(_text(term.name))
        axes.set_ylabel("component + residual")
        _title(axes, title)
        plots.append(Plot(f"cr_{len(plots)}", f"Component + residual: {term.name}", "linearity", _png(figure),
                          "The smoother should follow the dashed line; a curve means this predictor enters non-linearly." + note))
    skipped = [t.name for t in candidates[MAX_COMPONENT_PLOTS:]]
    if skipped and plots:
        last = plots[-1]
        plots[-1] = Plot(last.key, last.title, last.assumption, last.png,
                         last.caption + f" Not drawn (at most {MAX_COMPONENT_PLOTS}): {', '.join(skipped)}.")
    return plots


def _probe(report) -> Plot | None:
    probe = report.nonlinearity.get("probe") or {}
    if not probe.get("computed"):
        return None
    models = probe.get("models") or {}
    per_fold = {name: values.get("r_squared_per_fold") or [] for name, values in models.items()}
    per_fold = {name: values for name, values in per_fold.items() if values}
    if not per_fold:
        return None
    folds = max(len(values) for values in per_fold.values())
    # the legend stands right of the axes: room for it on the canvas, so the plot is drawn once
    figure, axes = _figure(5.6, 3.4, room=(ROOM_INCHES[0], ROOM_INCHES[1], 3.0, ROOM_INCHES[3]))
    for name, values in per_fold.items():
        linear = name == "ols"
        axes.plot(np.arange(1, len(values) + 1), values, marker="o", markersize=5 if linear else 4,
                  linewidth=2.0 if linear else 1.2, color="#1c2833" if linear else None,
                  label="OLS (the collapsed linear model)" if linear else _text(name), zorder=3 if linear else 2)
    axes.set_xticks(np.arange(1, folds + 1))
    axes.set_xlabel("held-out fold")
    axes.set_ylabel("out-of-sample R²")
    _title(axes, "OLS vs non-linear learners, fold by fold")
    axes.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    return Plot("probe", "Out-of-sample comparison", "probe", _png(figure),
                "Each line is one model's R² on the same held-out fold; a non-linear learner above OLS in every "
                "fold means the conditional mean is not linear.")
