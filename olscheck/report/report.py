"""The report: every number olscheck computed, as data.

A :class:`Report` holds results, never markup. ``to_dict``/``to_json``
follow ``report.schema.json`` (``olscheck.report/1``); renderers in
:mod:`olscheck.report.render` read the same objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
import pandas as pd

from .result import Assumption, Severity, TestResult, clean_float

if TYPE_CHECKING:  # annotations only: the report module stays light to import
    from ..checks.collinearity import CollinearitySummary
    from ..checks.influence import InfluenceSummary
    from ..engine.fit import StreamedFit
    from ..model.fit import LinearFit

__all__ = ["SCHEMA_ID", "Finding", "Verdict", "ColumnDecision", "DataSummary", "ModelSummary", "Report"]

SCHEMA_ID = "olscheck.report/1"


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of the verdict's findings table."""

    check: str
    assumption: Assumption
    severity: Severity
    message: str
    effect: float | None = None
    effect_name: str | None = None
    remedy: str | None = None

    @classmethod
    def from_result(cls, result: TestResult) -> "Finding":
        return cls(
            check=result.name,
            assumption=result.assumption,
            severity=result.severity,
            message=result.message,
            effect=result.effect,
            effect_name=result.effect_name,
            remedy=result.remedy,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "check": self.check,
            "assumption": self.assumption.value,
            "severity": self.severity.value,
            "message": self.message,
            "effect": clean_float(self.effect),
            "remedy": self.remedy,
        }
        if self.effect_name is not None:
            out["effect_name"] = self.effect_name
        return out


@dataclass(frozen=True, slots=True)
class Verdict:
    """``linear``, ``linear_with_remedies`` or ``nonlinear``, with why."""

    level: str
    summary: str
    findings: tuple[Finding, ...]
    remedies: tuple[Any, ...] = ()
    #: What the data could have shown (:func:`olscheck.verdict.decide.probe_power`): the smallest non-linearity the
    #: probe detects with 80% power, and whether power was low.
    power: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "summary": self.summary, "findings": [f.to_dict() for f in self.findings],
                "remedies": [r.to_dict() for r in self.remedies],
                "power": None if self.power is None else dict(self.power)}


#: The roles of :class:`ColumnDecision` (``data.columns[].role`` in the JSON contract).
COLUMN_ROLES = ("target", "predictor", "order", "group", "excluded", "converted")


@dataclass(frozen=True, slots=True)
class ColumnDecision:
    """What olscheck did with one input column, and why (one row of the report's Columns table).

    ``role`` is one of :data:`COLUMN_ROLES`; ``kind`` says how the column
    was read (``numeric``, ``categorical``, ``text``, ``date``, ``id``,
    ...); ``distinct`` and ``missing`` count its distinct non-missing values
    and its missing cells in the rows read; ``reason`` says why it was
    excluded or converted (None when it was used as given).
    """

    name: str
    role: str
    kind: str
    distinct: int | None = None
    missing: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "kind": self.kind, "distinct": self.distinct,
                "missing": self.missing, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class DataSummary:
    """What was analysed: columns, rows used and dropped, order, groups."""

    target: str
    predictors: tuple[str, ...]
    categorical: tuple[str, ...]
    n_rows: int
    n_used: int
    n_dropped: int
    order_by: str | None
    order_note: str
    notes: tuple[str, ...] = ()
    formula: str | None = None
    #: The ``groups=`` column (rows sharing a value share a group), or None.
    groups: str | None = None
    #: Every input column and what was done with it (the report's Columns table); empty when not screened.
    columns: tuple[ColumnDecision, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {
            "target": self.target,
            "predictors": list(self.predictors),
            "categorical": list(self.categorical),
            "n_rows": self.n_rows,
            "n_used": self.n_used,
            "n_dropped": self.n_dropped,
            "order_by": self.order_by,
            "order_note": self.order_note,
            "formula": self.formula,
            "notes": list(self.notes),
        }
        if self.groups is not None:  # only with groups=, so reports without it are unchanged
            out["groups"] = self.groups
        if self.columns:
            out["columns"] = [column.to_dict() for column in self.columns]
        return out


@dataclass(frozen=True, eq=False)
class ModelSummary:
    """The fitted linear model as pandas objects, with statsmodels/patsy term names.

    ``coefficients``, ``std_errors``, ``t_values`` and ``p_values`` are
    indexed by term (aliased terms are NaN, as R's NA); ``residuals``,
    ``fitted`` and ``leverage`` by the labels of the rows used, in analysis
    order.
    """

    coefficients: pd.Series
    std_errors: pd.Series
    t_values: pd.Series
    p_values: pd.Series
    residuals: pd.Series
    fitted: pd.Series
    leverage: pd.Series
    sigma: float | None
    r_squared: float | None
    adj_r_squared: float | None
    f_statistic: float | None
    f_df: tuple[int, int]
    f_p_value: float | None
    df_resid: int
    rank: int
    aliased: tuple[str, ...]
    intercept: bool
    target: str

    def equation(self, digits: int = 4) -> str:
        """``y = b0 + b1·x1 + …`` with the estimated coefficients."""
        parts = []
        for name, value in self.coefficients.items():
            if not np.isfinite(value):
                continue
            number = f"{abs(value):.{digits}g}"
            sign = "-" if value < 0 else "+"
            term = number if name == "Intercept" else f"{number}·{name}"
            parts.append((sign, term))
        if not parts:
            return f"{self.target} = 0"
        first_sign, first = parts[0]
        text = ("-" if first_sign == "-" else "") + first
        for sign, term in parts[1:]:
            text += f" {sign} {term}"
        return f"{self.target} = {text}"

    def to_dict(self) -> dict[str, Any]:
        def by_term(series: pd.Series) -> dict[str, float | None]:
            return {str(k): clean_float(v) for k, v in series.items()}

        return {
            "coefficients": by_term(self.coefficients),
            "std_errors": by_term(self.std_errors),
            "t_values": by_term(self.t_values),
            "p_values": by_term(self.p_values),
            "sigma": clean_float(self.sigma),
            "r_squared": clean_float(self.r_squared),
            "adj_r_squared": clean_float(self.adj_r_squared),
            "f_statistic": clean_float(self.f_statistic),
            "f_df1": self.f_df[0],
            "f_df2": self.f_df[1],
            "f_p_value": clean_float(self.f_p_value),
            "df_resid": self.df_resid,
            "rank": self.rank,
            "aliased": list(self.aliased),
            "intercept": self.intercept,
            "equation": self.equation(),
        }


@dataclass(frozen=True, eq=False)
class Report:
    """Everything olscheck found about one data set and model.

    Attributes
    ----------
    data : DataSummary
    model : ModelSummary
    tests : Mapping[str, TestResult]
        Every diagnostic by name: ``report.tests["breusch_pagan"]``.
    collinearity : CollinearitySummary
        Per-term VIF/GVIF and condition indices.
    influence : InfluenceSummary
        Per-row influence summary (streamed: the rows with the largest Cook's distances).
    nonlinearity : Mapping
        Specification-test summary and the out-of-sample probe.
    verdict : Verdict
    options : Mapping
        The options that reproduce this report (alpha, seed, thresholds...).
    """

    data: DataSummary
    model: ModelSummary
    tests: Mapping[str, TestResult]
    collinearity: CollinearitySummary
    influence: InfluenceSummary
    nonlinearity: Mapping[str, Any]
    verdict: Verdict
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    version: str = ""
    #: The fitted model: the in-memory :class:`~olscheck.model.fit.LinearFit`, or the streaming engine's
    #: :class:`~olscheck.engine.fit.StreamedFit` (coefficients from the accumulated factor, no rows).
    fit: LinearFit | StreamedFit | None = field(default=None, repr=False)
    #: The model fitted to the rows kept whole, which the plots draw: ``fit`` itself in memory, the
    #: streaming engine's rows (all of them up to ``exact_rows``, else its seeded sample) refitted.
    rows_fit: LinearFit | None = field(default=None, repr=False)

    @property
    def level(self) -> str:
        return self.verdict.level

    @property
    def findings(self) -> tuple[Finding, ...]:
        return self.verdict.findings

    def coefficient_table(self, level: float = 0.95) -> Any:
        """Estimates with classical and robust standard errors and intervals (:func:`olscheck.report.coefficients.coefficient_table`).

        The robust columns are those of the verdict's remedy: HC3 when the
        error variance is not constant, Newey-West HAC when errors are
        autocorrelated, cluster-robust with ``groups=``; empty when no
        remedy calls for them. ``.to_frame()`` gives a DataFrame.
        """
        from .coefficients import coefficient_table

        return coefficient_table(self, level=level)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data following ``olscheck.report/1``.

        ``coefficient_table`` (a key the schema allows beside its own) holds
        :meth:`coefficient_table`. It sits beside ``model``, not in it: it
        reads the tests as well as the fit (``groups=`` changes its robust
        columns, never the fit).
        """
        return {
            "schema": SCHEMA_ID,
            "olscheck_version": self.version,
            "data": self.data.to_dict(),
            "model": self.model.to_dict(),
            "coefficient_table": self.coefficient_table().to_dict(),
            "collinearity": self.collinearity.to_dict(),
            "tests": {name: result.to_dict() for name, result in self.tests.items()},
            "influence": self.influence.to_dict(),
            "nonlinearity": _json_ready(self.nonlinearity),
            "verdict": self.verdict.to_dict(),
            "options": _json_ready(self.options),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (no NaN or Infinity)."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False, ensure_ascii=False)

    def __str__(self) -> str:
        lines = [f"olscheck verdict: {self.verdict.level}", self.verdict.summary, ""]
        lines.append(
            f"{self.data.target} on {len(self.data.predictors)} predictor(s); "
            f"{self.data.n_used} of {self.data.n_rows} rows used"
            + (f" ({self.data.n_dropped} dropped for missing values)" if self.data.n_dropped else "")
        )
        r2 = self.model.r_squared
        lines.append(f"R² = {r2:.4f}, sigma = {self.model.sigma:.4g}" if r2 is not None and self.model.sigma is not None else "")
        lines.append("")
        if self.data.columns:  # what was done with every input column, before what was found
            from .render.text import columns_text

            lines.extend(columns_text(self.data.columns))
            lines.append("")
        width = max((len(f.check) for f in self.findings), default=10)
        for finding in self.findings:
            lines.append(f"  [{finding.severity.value:>4}] {finding.check:<{width}}  {finding.message}")
        return "\n".join(line for line in lines)

    def to_html(self, *, plots: Any = None, fragment: bool = False, generated: str | None = None) -> str:
        """The HTML report as text: one self-contained page (plots inline), what :meth:`save` writes to ``.html``.

        ``plots`` from :func:`olscheck.report.render.render_plots` are reused instead
        of drawn again; ``fragment=True`` gives the ``<div>`` Jupyter shows;
        ``generated`` replaces the time stamp (default: now, or
        ``SOURCE_DATE_EPOCH``).
        """
        from .render import to_html

        return to_html(self, plots=plots, fragment=fragment, generated=generated)

    def to_markdown(self, *, images: Mapping[str, str] | None = None, plots: Any = None,
                    generated: str | None = None) -> str:
        """The Markdown report as text.

        A Markdown file cannot hold its images, so the plots appear only for
        the keys ``images`` maps to links (``{"qq": "report_files/qq.png"}``);
        :meth:`save` to a ``.md`` file writes them into ``<stem>_files/`` and
        links them. Without ``images`` this is the text alone.
        """
        from .render import to_markdown

        return to_markdown(self, images=dict(images) if images else None, plots=plots, generated=generated)

    def save(self, path: Any, *, format: str | None = None, plots: Any = None) -> Any:
        """Write the report to ``path`` in the format its suffix names; returns the Path.

        ``.html``/``.htm``: one self-contained page; ``.md``: Markdown with its
        plots as PNG files in ``<stem>_files/`` beside it; ``.json``: the
        ``olscheck.report/1`` document (:meth:`to_json`). ``format``
        (``"html"``, ``"markdown"``, ``"json"``) overrides the suffix. A list
        of paths writes each (every suffix checked first, the plots drawn
        once) and returns a list. Writes are atomic: an interrupted save leaves
        the previous file or none, never a half-written one.

        Raises :class:`~olscheck.errors.ConfigurationError` naming the suffix
        when it names no format.
        """
        from .render import save

        return save(self, path, format=format, plots=plots)

    def _repr_html_(self) -> str:
        """Jupyter display: the compact notebook view of the report.

        The verdict, the Columns and findings tables and R's four diagnostic
        plots, with every section folded into a ``<details>`` one click away.
        Every CSS rule and id is prefixed with the root's id, unique per
        display (the report's hash and a random suffix), so the notebook's
        table styles do not reach the report, its styles reach nothing else,
        and the links of each report stay inside it.
        """
        from .render.html import to_html
        from .render.view import unique_report_id

        return to_html(self, fragment=True, compact=True, root_id=unique_report_id(self))

    def __repr__(self) -> str:
        return f"<olscheck Report: {self.verdict.level}, {len(self.tests)} tests, n={self.data.n_used}>"


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "to_dict") and not isinstance(value, (pd.Series, pd.DataFrame)):
        return _json_ready(value.to_dict())
    if isinstance(value, (str, bool)) or value is None:
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return clean_float(value)
    if isinstance(value, np.ndarray):
        return [_json_ready(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    return str(value)
