"""Column screening: what each input column is, and whether it belongs in the model.

Before a design is built, every input column gets one
:class:`~olscheck.report.report.ColumnDecision` (the report's Columns table):
its role (``target``, ``predictor``, ``order``, ``group``, ``excluded``,
``converted``), how it was read, its distinct and missing values, and why.
:func:`olscheck.inputs.prepare.prepare` screens the whole frame; the streaming
layout (:func:`olscheck.engine.layout.build_layout`) screens the first
chunk with the same function.

Rules, applied when the predictors are left to olscheck (``predictors=``
not given). With an explicit ``predictors=`` list the user's choice wins:
only the conversions (missing markers, numbers written with a unit, dates
as days) apply, and the other columns are excluded as not listed.

Missing markers
    A cell reading ``NA``, ``n/a``, ``nan``, ``-``, ``--``, ``?``,
    ``null``, ``None``, ``.``, ``missing``, ``#N/A`` or nothing (case and
    surrounding spaces ignored; :data:`MISSING_MARKERS`) is a missing value,
    in every column: rows missing a used column are dropped listwise and
    counted per column.
Numbers written as text
    Text that is numbers with one consistent currency sign (``$ € £ ¥ ₹``
    or a code such as ``USD``), unit (``kg``, ``km/h``, ``°C``), percent
    sign, or thousands separators is converted, and the decision names what
    was stripped. When every comma is followed by a group of three digits
    (``51,877``, ``1,204,000``) the comma separates thousands (51877),
    unless the file was read with ``decimal=','``; when most are not
    (``3,5``, ``12,75``), or a number starts ``0,``, it is a decimal comma
    (3.5); a column with both kinds (``51,877`` beside ``3,5``) is
    ambiguous. ``1.234,5`` and ``1,234.5`` are told apart by the mark that
    comes last. Percentages stay in percentage points (``12.5%`` is 12.5).
    A column that mixes known units (``kg`` and ``lb``), currencies, or
    both conventions, or whose commas are ambiguous, raises
    :class:`~olscheck.errors.NonNumericColumnError` saying how to fix it;
    numbers followed by different other words (``12B``, ``14A``) are codes.
Dates
    Datetime columns, ISO 8601 text (``2021-03-01``, with a time or not)
    and day-first or month-first text (``31/01/2021``, ``01/31/2021``: read
    when some first field is above 12, or some second field, but not both)
    are dates, never predictors. When ``order_by`` is not given (and the
    index is not a DatetimeIndex) and there is exactly one date column, it
    is **used** as the time order of the order-dependent tests when it has
    a date in every row (rows sorted by it, ties in file order; the
    decision's role is ``order``), and only **proposed** otherwise (role
    ``excluded``, the reason says ``order_by='...'`` would drop the rows
    without a date). Dates whose day and month cannot be told apart are
    excluded and never used as the order.
Identifiers
    Text columns whose values are all distinct (at least 10 of them), or
    nearly (at least 95% distinct among at least 20 values), are
    identifiers (codes without spaces) or free text (with spaces), and are
    excluded. An integer column (or integral floats) is an identifier when
    its name looks like one (``id``, ``customer_id``, ``CustomerID``,
    ``key``, ``uuid``, ``code``, ``no``, ``number``, ``index``) and every
    value is distinct, whether a run or permutation of consecutive values or
    not. A column ``1..n`` without such a name is kept: it is also how a
    trend or a dose is written (NIST's Wampler data have ``x = 0..20``).
Too many levels
    A categorical (text, ``category``) with more levels than
    ``max(20, n/10)`` for its ``n`` non-missing rows, or whose levels seen
    in one row only cover more than half of the rows, is excluded: each
    level would take a dummy column, with leverage 1 for its single rows.
Everything else
    Numbers, booleans and categoricals with few levels are predictors; a
    column with no values at all is excluded.

Everything works on the distinct values of a column (``pandas.factorize``
gives each cell a code; patterns are matched once per distinct value, and
the results are gathered back to the cells by the codes), never cell by
cell. The distinct values of a numeric column are not counted (its
decision's ``distinct`` is None), except for the identifier rule, which
counts them only for a column whose name looks like an identifier's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import NonNumericColumnError
from ..report.report import ColumnDecision
from .cells import check_cells

__all__ = [
    "MISSING_MARKERS", "NumberFormat", "ColumnProfile", "Screening", "profile_column", "screen",
    "numbers_from_text", "looks_like_identifier_name", "too_many_levels",
]

#: Cell texts that mean "missing" (compared lower-cased, without surrounding spaces).
MISSING_MARKERS = frozenset({"", "na", "n/a", "n.a.", "nan", "null", "none", "-", "--", "?", ".", "missing",
                             "#n/a", "<na>", "nat"})

#: A text column is an identifier when at least this share of its values is distinct (with at least 20 values).
NEARLY_DISTINCT = 0.95
#: Above this many distinct values a text column's kind is first read from an evenly spaced sample of them.
LARGE_DISTINCT = 5000
SAMPLE_DISTINCT = 2000
#: Fewer values than this are never called identifiers (small tables have few repeats by chance).
MIN_IDENTIFIER_VALUES = 10
#: Levels a categorical may have regardless of its row count (``max(MIN_LEVEL_LIMIT, n / ROWS_PER_LEVEL)``).
MIN_LEVEL_LIMIT = 20
ROWS_PER_LEVEL = 10

_ID_WORDS = r"(?:id|ids|key|uuid|guid|code|no|nr|num|number|index|idx)"
_ID_NAME = re.compile(rf"(?:^|[^a-z0-9]){_ID_WORDS}$|^(?:id|uuid|guid)(?:[^a-z0-9]|$)")
_CAMEL_ID = re.compile(r"[a-z](?:Id|ID|Key|No|Nr|Code|Number)$")

_CURRENCY = "$€£¥₹"
#: Currency codes recognised before a number ("USD 1,200"); other letters before digits make a code, not a number.
_CURRENCY_CODES = (r"(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|NZD|CNY|HKD|SGD|INR|SEK|NOK|DKK|PLN|CZK|HUF|BRL|MXN|ZAR|KRW)"
                   r"(?=[\s\d])")
# One number as people write it: an optional sign, currency (a symbol or a three-letter code), digits with
# separators, and an optional unit, percent sign or currency after it.
_NUMBER_TEXT = re.compile(
    r"^(?P<sign>[-+\u2212]?)\s*(?P<prefix>[" + _CURRENCY + r"]|" + _CURRENCY_CODES + r")?\s*(?P<sign2>[-+\u2212]?)"
    r"(?P<body>\d(?:[\d.,'\u00a0\u202f ]*\d)?)\s*"
    r"(?P<suffix>%|‰|[" + _CURRENCY + r"]|[°µ]?[^\W\d_][^\d]{0,14}|°)?$"
)
#: Units that, when two of them share a column, make it an error (numbers on two scales) rather than text.
_KNOWN_UNITS = frozenset({
    "%", "‰", "kg", "g", "mg", "t", "lb", "lbs", "oz", "st", "m", "cm", "mm", "km", "µm", "in", "ft", "yd", "mi",
    "l", "ml", "cl", "dl", "gal", "s", "sec", "ms", "min", "h", "hr", "hrs", "d", "day", "days", "wk", "yr", "°c",
    "°f", "k", "w", "kw", "mw", "kwh", "wh", "v", "mv", "a", "ma", "hz", "khz", "mhz", "ghz", "kb", "mb", "gb", "tb",
    "km/h", "mph", "m/s", "m²", "m2", "km²", "ha", "acre", "acres", "sq ft", "cal", "kcal", "j", "kj", "bar", "psi",
    "pa", "kpa", "hpa", "mmhg",
})
_ISO_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?"
_DAY_MONTH = r"(?P<first>\d{1,2})(?P<separator>[/.-])(?P<second>\d{1,2})(?P=separator)(?P<year>\d{4}|\d{2})" \
             r"(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
_YEAR_FIRST = r"\d{4}/\d{1,2}/\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
_MONTH_NAME = r"(?i).*\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b.*"


def looks_like_identifier_name(name: Any) -> bool:
    """True for names such as ``id``, ``customer_id``, ``CustomerID``, ``order no``, ``uuid``."""
    text = str(name).strip()
    return bool(_ID_NAME.search(text.lower()) or _CAMEL_ID.search(text))


def too_many_levels(levels: int, rows: int) -> bool:
    """The documented level rule: more than ``max(20, rows / 10)`` levels."""
    return levels > max(MIN_LEVEL_LIMIT, rows / ROWS_PER_LEVEL)


# --------------------------------------------------------------------------- numbers written as text
@dataclass(frozen=True)
class NumberFormat:
    """How numbers were written in a text column, so each chunk or cell can be read the same way.

    Attributes
    ----------
    prefix, suffix : str
        The currency or unit stripped before and after the number ('' for none).
    thousands : str or None
        Thousands separator stripped (``","``, ``"."``, ``"'"``, ``" "``).
    decimal : str
        Decimal mark (``"."`` or ``","``).
    negative_parentheses : bool
        Negative numbers are written in parentheses, as accounting exports
        write them: ``(1,234)`` and ``$(1,234)`` are -1234.
    """

    prefix: str = ""
    suffix: str = ""
    thousands: str | None = None
    decimal: str = "."
    negative_parentheses: bool = False

    @property
    def plain(self) -> bool:
        return not (self.prefix or self.suffix or self.thousands or self.decimal != "." or self.negative_parentheses)

    def describe(self, example: str | None = None, value: float | None = None) -> str:
        """What was stripped, as a phrase: ``the currency sign '$' and ',' as thousands separator``."""
        parts = []
        if self.prefix:
            parts.append(f"the currency {'sign' if self.prefix in _CURRENCY else 'code'} {self.prefix!r}")
        if self.suffix == "%":
            parts.append("the percent sign '%' (values are percentage points: '12.5%' is 12.5)")
        elif self.suffix and self.suffix in _CURRENCY:
            parts.append(f"the currency sign {self.suffix!r}")
        elif self.suffix:
            parts.append(f"the unit {self.suffix!r}")
        if self.thousands:
            shown = {" ": "a space", "\u00a0": "a space", "\u202f": "a space"}.get(self.thousands,
                                                                                repr(self.thousands))
            grouped = f"1{self.thousands}234" if self.thousands.strip() else "1 234"
            parts.append(f"{shown} as thousands separator ({grouped!r} is 1234)")
        if self.decimal != ".":
            parts.append(f"{self.decimal!r} as decimal mark ('3{self.decimal}5' is 3.5)")
        if self.negative_parentheses:
            parts.append("parentheses for negative numbers ('(12)' is -12)")
        text = " and ".join(parts) if len(parts) < 3 else ", ".join(parts[:-1]) + " and " + parts[-1]
        if example is not None and value is not None:
            text += f"; e.g. {example!r} read as {value:.15g}"
        return text

    def parse(self, texts: pd.Series) -> pd.Series:
        """Numbers (float, NaN where a text is not written in this format) for distinct texts.

        Plain string replacements and one conversion to numbers (vectorised
        in pyarrow), no pattern per value: the currency or unit and every
        space are removed, then the thousands separators (each must be
        followed by exactly three digits before the decimal mark), and the
        decimal mark becomes a point.
        """
        body = texts.astype("str").str.replace("\u2212", "-", regex=False)
        if self.negative_parentheses:
            body = _parentheses_as_minus(body)[0]
        for piece in (self.prefix, self.suffix, " ", "\u00a0", "\u202f"):
            if piece:
                body = body.str.replace(piece, "", regex=False)
        valid = np.ones(len(body), dtype=bool)
        if self.thousands and self.thousands.strip():
            has = body.str.contains(self.thousands, regex=False).to_numpy(dtype=bool)
            if has.any():
                length = body.str.len().to_numpy(dtype=np.int64)
                end = body.str.find(self.decimal).to_numpy(dtype=np.int64)
                end = np.where(end >= 0, end, length)
                last = body.str.rfind(self.thousands).to_numpy(dtype=np.int64)
                valid &= ~has | (end - last == 4)
            body = body.str.replace(self.thousands, "", regex=False)
        if self.decimal != ".":
            # with a decimal comma, a point is only a thousands separator (removed above)
            valid &= ~body.str.contains(".", regex=False).to_numpy(dtype=bool)
            body = body.str.replace(self.decimal, ".", regex=False)
        values = _to_float(body)
        values[~valid] = np.nan
        return values


def _to_float(texts: pd.Series) -> pd.Series:
    """Float values of number texts (NaN where a text is not a number), with pyarrow's cast when all parse."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        strings = pa.array(texts.astype("str").array)
        values = pc.cast(pc.utf8_trim_whitespace(strings), pa.float64()).to_numpy(zero_copy_only=False)
        return pd.Series(values, index=texts.index, dtype=float)
    except Exception:  # some text is not a number (or pyarrow cannot read it): pandas marks those NaN
        return pd.Series(pd.to_numeric(texts, errors="coerce"), index=texts.index).astype(float)


#: A number in accounting parentheses, the currency sign before or inside them: ``(1,234)``, ``$(1,234.50)``,
#: ``($1,234.50)``; the groups are the currency outside and what is inside.
_PARENTHESES = re.compile(r"^(?P<outside>[" + _CURRENCY + r"]?)\s*\(\s*(?P<inside>[^()]*?)\s*\)$")


def _parentheses_as_minus(texts: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Texts with accounting parentheses rewritten with a minus sign (``$(1,234)`` -> ``$-1,234``), and which were."""
    wrapped = texts.str.match(_PARENTHESES).to_numpy(dtype=bool)
    if not wrapped.any():
        return texts, wrapped
    return texts.str.replace(_PARENTHESES, r"\g<outside>-\g<inside>", regex=True), wrapped


def _number_format(texts: pd.Series, name: str, decimal_hint: str | None) -> NumberFormat | None:
    """The one format that reads every distinct text as a number, None when they are not numbers.

    Raises :class:`NonNumericColumnError` when they are numbers but
    written inconsistently (two units, both decimal conventions), with the fix.
    Parentheses mark negative numbers only in a column that also holds
    numbers without them (an accounting column has both signs; a column of
    ``(1)``, ``(2)``, ... is more likely a list of labels).
    """
    rewritten, wrapped = _parentheses_as_minus(texts)
    negative_parentheses = bool(wrapped.any() and not wrapped.all())
    if negative_parentheses:
        texts = rewritten
    parts = texts.str.extract(_NUMBER_TEXT)
    if parts["body"].isna().any():
        return None
    prefixes = sorted(set(parts["prefix"].dropna().str.strip()) - {""})
    suffixes = sorted(set(parts["suffix"].dropna().str.strip()) - {""})
    if len(prefixes) > 1 or len(suffixes) > 1:
        mixed = prefixes if len(prefixes) > 1 else suffixes
        if not all(unit.lower() in _KNOWN_UNITS or unit in _CURRENCY or unit.isupper() and len(unit) == 3
                   for unit in mixed):
            return None  # different words after the numbers ("12B", "14A"; "3 rooms", "2 beds"): codes or text
        raise NonNumericColumnError(
            f"column {name!r} holds numbers written with different units or currencies "
            f"({', '.join(map(repr, mixed[:4]))}); olscheck cannot convert them to one scale. Convert them to one "
            f"unit first (e.g. a column per unit, or s.str.extract(r'([\\d.]+)\\s*(\\w+)') and a factor per unit), "
            "or leave the column out (exclude=[...])."
        )
    prefix = prefixes[0] if prefixes else ""
    suffix = suffixes[0] if suffixes else ""
    body = parts["body"].str.replace("\u00a0", " ", regex=False).str.replace("\u202f", " ", regex=False)
    thousands, decimal = _separators(body, name, decimal_hint)
    return NumberFormat(prefix=prefix, suffix=suffix, thousands=thousands, decimal=decimal,
                        negative_parentheses=negative_parentheses)


def _separators(body: pd.Series, name: str, decimal_hint: str | None) -> tuple[str | None, str]:
    """Thousands separator and decimal mark of the digit strings ``body`` (distinct values)."""
    has_comma = body.str.contains(",", regex=False)
    has_dot = body.str.contains(".", regex=False)
    has_space = body.str.contains(" ", regex=False)
    thousands: str | None = None
    if body.str.contains("'", regex=False).any():
        thousands = "'"
    elif has_space.any():
        thousands = " "
    both = has_comma & has_dot
    if both.any():
        comma_last = body[both].str.rfind(",") > body[both].str.rfind(".")
        if comma_last.all():
            return ".", ","  # 1.234,5: '.' groups thousands, ',' is the decimal mark
        if (~comma_last).all():
            return ",", "."
        raise NonNumericColumnError(
            f"column {name!r} mixes numbers written 1,234.5 and 1.234,5, so the decimal mark is ambiguous; "
            "write them one way (or read the file with decimal=',' or decimal='.' and thousands= set)."
        )
    if has_comma.any():
        comma_bodies = body[has_comma].str.replace(" ", "", regex=False)
        grouped = comma_bodies.str.fullmatch(r"\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})*,\d{3}")
        single = comma_bodies.str.count(",").le(1)
        if decimal_hint == ",":
            if not single.all():
                raise NonNumericColumnError(
                    f"column {name!r} has numbers with several commas (such as {comma_bodies[~single].iloc[0]!r}) "
                    "although ',' is the decimal mark; check decimal= and thousands=.")
            return ("." if has_dot.any() else thousands), ","
        # a thousands separator never follows a leading 0 ("0,125"), and a column that groups thousands
        # groups them in every number ("1500" beside "1,500" means the comma is something else)
        plain_long = body[~has_comma & ~has_dot].str.replace(" ", "", regex=False).str.len().gt(3).any()
        leading_zero = bool(comma_bodies.str.match(r"0,").any())
        if grouped.all() and not leading_zero and not plain_long:
            return ",", "."  # 51,877 is 51877: a comma before every group of three digits
        if single.all() and (leading_zero or float(grouped.mean()) < 0.5):
            return thousands, ","  # 3,5 is 3.5: most commas are not followed by a group of three digits
        if single.all():
            odd = comma_bodies[~grouped].iloc[0] if (~grouped).any() else body[~has_comma].iloc[0]
            example = comma_bodies[grouped].iloc[0]
            raise NonNumericColumnError(
                f"column {name!r} has numbers such as {example!r} (a thousands separator: "
                f"{example.replace(',', '')}) and such as {odd!r}, which a thousands separator cannot write, so ',' "
                f"is ambiguous. If ',' separates thousands, correct {odd!r}; if it is the decimal mark "
                f"({example!r} is {example.replace(',', '.')}), read the file with decimal=',' (--decimal ',')."
            )
        raise NonNumericColumnError(
            f"column {name!r} has numbers whose commas are neither thousands separators nor one decimal comma "
            f"(such as {comma_bodies[~(grouped | single)].iloc[0]!r}); write them as plain numbers, or read the "
            "file with the right decimal= and thousands=."
        )
    if has_dot.any():
        dot_bodies = body[has_dot].str.replace(" ", "", regex=False)
        if dot_bodies.str.count(r"\.").gt(1).any():
            if not dot_bodies.str.fullmatch(r"\d{1,3}(?:\.\d{3})+").all():
                raise NonNumericColumnError(
                    f"column {name!r} has numbers with several dots that are not groups of three digits (such as "
                    f"{dot_bodies[~dot_bodies.str.fullmatch(r'[0-9]{1,3}(?:[.][0-9]{3})+')].iloc[0]!r}); write "
                    "them as plain numbers.")
            return ".", ","
        if decimal_hint == ",":
            return ".", ","
    return thousands, "."


# --------------------------------------------------------------------------- dates written as text
def _text_dates(texts: pd.Series) -> tuple[pd.Series | None, str | None]:
    """Dates for distinct texts (aligned with them), and how they were read; (None, None) if not dates.

    Returns ``(None, reason)`` for dates whose day and month cannot be told apart.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas warns about inferred formats
        if texts.str.fullmatch(_ISO_DATE).all():
            try:
                dates = pd.to_datetime(texts, format="ISO8601", utc=True).dt.tz_localize(None)
            except (ValueError, TypeError, OverflowError):
                return None, None
            return dates, "ISO 8601 dates"
        parts = texts.str.extract("^" + _DAY_MONTH + "$")
        if parts["first"].notna().all():
            first = parts["first"].astype(int)
            second = parts["second"].astype(int)
            if (first > 31).any() or (second > 31).any():
                return None, None
            day_first = bool((first > 12).any())
            month_first = bool((second > 12).any())
            if day_first and month_first:
                return None, None
            if not (day_first or month_first):
                return None, ("dates written d/m/y or m/d/y whose day and month cannot be told apart (no day "
                              "above 12); rewrite them as ISO dates (2021-03-01) to use them as the order")
            normal = texts.str.replace(r"[.-]", "/", regex=True)
            dates = pd.to_datetime(normal, dayfirst=day_first, format="mixed", errors="coerce")
            if dates.isna().any():
                return None, None
            return dates, "day-first dates (dd/mm/yyyy)" if day_first else "month-first dates (mm/dd/yyyy)"
        if texts.str.fullmatch(_YEAR_FIRST).all() or (
                texts.str.fullmatch(_MONTH_NAME).all() and texts.str.contains(r"\d").all()):
            dates = pd.to_datetime(texts, format="mixed", errors="coerce")
            if dates.isna().any():
                return None, None
            return dates, "dates"
    return None, None


# --------------------------------------------------------------------------- one column
@dataclass(frozen=True)
class ColumnProfile:
    """What one column holds, from its distinct values.

    Attributes
    ----------
    kind : str
        ``numeric``, ``categorical``, ``date``, ``id``, ``text``, ``empty``
        (how the column reads; an ``id`` or ``text`` column is never a
        predictor unless named in ``predictors=``).
    distinct, missing : int
        Distinct non-missing values (-1 for a numeric column: not counted)
        and missing cells (markers included).
    values : ndarray or None
        Float values when text was read as numbers (the column's length).
    dates : Series or None
        The dates, when text was read as dates (datetime64, NaT for missing).
    levels : Series or None
        For a text categorical: the column as a pandas Categorical with its
        levels sorted (markers missing), ready for the dummy columns.
    number_format : NumberFormat or None
        How numbers were written, when text was read as numbers.
    markers : tuple of str
        The missing markers found (as written).
    reason : str or None
        Why the column is what it is (for an exclusion or a conversion).
    excluded : bool
        True when the screening leaves it out of the predictors.
    sorted_in_file : bool
        For dates: every date is at least the one before it, in file order.
    ambiguous_date : bool
        Dates whose day and month cannot be told apart.
    """

    kind: str
    distinct: int
    missing: int
    values: np.ndarray | None = None
    dates: pd.Series | None = None
    levels: pd.Series | None = None
    number_format: NumberFormat | None = None
    markers: tuple[str, ...] = ()
    reason: str | None = None
    excluded: bool = False
    sorted_in_file: bool = False
    ambiguous_date: bool = False


def _marker_phrase(markers: Sequence[str]) -> str:
    shown = ", ".join(repr(m) for m in list(markers)[:6]) + (" ..." if len(markers) > 6 else "")
    return f"{shown} read as missing"


def _distinct(series: pd.Series, name: str) -> tuple[np.ndarray, pd.Series]:
    """Codes per cell (-1 for missing) and the distinct values, through one hash pass."""
    try:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts, arrays): the in-memory check names them
        check_cells(series, name, "predictor")
        raise
    return np.asarray(codes), pd.Series(np.asarray(uniques, dtype=object), dtype=object)


def _sorted_in_file(values: np.ndarray) -> bool:
    present = values[~pd.isna(values)]
    return bool(present.size) and bool(np.all(present[1:] >= present[:-1]))


def profile_column(series: pd.Series, name: str, *, decimal_hint: str | None = None,
                   extra_markers: Iterable[str] = (), identify: bool = True) -> ColumnProfile:
    """Read one column from its distinct values (see the module's rules).

    Parameters
    ----------
    series : Series
        The column (not modified).
    name : str
        Its name, for messages and the identifier-name rule.
    decimal_hint : str, optional
        The decimal mark the file was read with (``read.decimal``), which
        settles ``51,877`` (51.877 when it is ``","``).
    extra_markers : iterable of str
        Further texts meaning "missing" (``read.na_values``).
    identify : bool
        Apply the identifier rule to an integer column (False for the target).
    """
    n = int(len(series))
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series) \
            and not isinstance(series.dtype, pd.CategoricalDtype):
        # the common case, a numeric column: its missing cells counted once
        missing = int(series.isna().sum())
        if n and missing == n:
            return ColumnProfile("empty", 0, n, excluded=True, reason="no values (every cell is missing)")
        profile = ColumnProfile("numeric", -1, missing)
        if identify and looks_like_identifier_name(name) and not pd.api.types.is_complex_dtype(series):
            return _numeric_identifier(series, name, missing) or profile
        return profile
    if n and not (series.dtype == object or pd.api.types.is_string_dtype(series)) and bool(series.isna().all()):
        return ColumnProfile("empty", 0, n, excluded=True, reason="no values (every cell is missing)")
    if isinstance(series.dtype, pd.PeriodDtype) or pd.api.types.is_timedelta64_dtype(series):
        return ColumnProfile("numeric", int(series.nunique()), int(series.isna().sum()))
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(series.dt, "tz", None) else series
        missing = int(stamps.isna().sum())
        return ColumnProfile("date", int(stamps.nunique()), missing, dates=stamps,
                             sorted_in_file=_sorted_in_file(stamps.to_numpy()), reason="dates")
    if pd.api.types.is_bool_dtype(series):
        return ColumnProfile("categorical", int(series.nunique()), int(series.isna().sum()))
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = series.dropna()
        counts = present.value_counts()
        counts = counts[counts > 0]
        return _categorical_profile(len(counts), counts.to_numpy(), int(len(present)), n - int(len(present)))
    return _text_profile(series, name, decimal_hint, extra_markers)


def _numeric_identifier(series: pd.Series, name: str, missing: int) -> ColumnProfile | None:
    """An integer column with an id-like name whose values are all distinct, as an excluded identifier."""
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    present = values[~np.isnan(values)]
    if present.size < MIN_IDENTIFIER_VALUES or not np.all(present == np.floor(present)):
        return None
    distinct = int(pd.unique(present).size)
    if distinct != present.size:
        return None
    low, high = int(present.min()), int(present.max())
    shape = (f"a run of consecutive integers {low}…{high}" if np.all(np.diff(present) == 1)
             else f"a permutation of the consecutive integers {low}…{high}" if high - low + 1 == present.size
             else f"{distinct} different integers")
    return ColumnProfile("id", distinct, missing, excluded=True,
                         reason=f"an identifier: its name looks like one and its values are {shape}, one per row")


def _categorical_profile(levels: int, counts: np.ndarray, present: int, missing: int,
                         extra: dict | None = None) -> ColumnProfile:
    """A categorical's profile, excluded by the level rules (:func:`too_many_levels`, singletons)."""
    extra = dict(extra or {})
    markers_read = extra.pop("reason", None)  # "'-' read as missing", kept after the reason for an exclusion
    after = f"; {markers_read}" if markers_read else ""
    singles = int(np.count_nonzero(counts == 1))
    if too_many_levels(levels, present):
        return ColumnProfile("categorical", levels, missing, excluded=True, **extra, reason=(
            f"{levels} levels in {present} rows (more than max({MIN_LEVEL_LIMIT}, n/{ROWS_PER_LEVEL}) = "
            f"{max(MIN_LEVEL_LIMIT, present // ROWS_PER_LEVEL)}): each level would be a dummy column; group its "
            f"levels, or name it in predictors= to use it anyway{after}"))
    if present and singles > present / 2:
        return ColumnProfile("categorical", levels, missing, excluded=True, **extra, reason=(
            f"{singles} of its {levels} levels occur in one row only, more than half of the {present} rows: each "
            "would be a dummy column fitting its row exactly; group its levels, or name it in predictors= to use "
            f"it anyway{after}"))
    return ColumnProfile("categorical", levels, missing, reason=markers_read, **extra)


def _text_profile(series: pd.Series, name: str, decimal_hint: str | None, extra_markers) -> ColumnProfile:
    n = int(len(series))
    codes, uniques = _distinct(series, name)
    kinds = pd.api.types.infer_dtype(uniques, skipna=True)
    if kinds == "boolean":
        present = int(np.count_nonzero(codes >= 0))
        return ColumnProfile("categorical", int(len(uniques)), n - present)
    if kinds in ("complex", "mixed") and any(isinstance(v, (complex, np.complexfloating)) for v in uniques):
        return ColumnProfile("numeric", int(len(uniques)), int(np.count_nonzero(codes < 0)))
    if kinds not in ("string", "empty"):
        # numbers or Decimals stored as objects: pandas reads them as numbers (the caller's numeric path)
        converted = pd.to_numeric(uniques, errors="coerce")
        if converted.notna().all():
            return ColumnProfile("numeric", int(len(uniques)), int(np.count_nonzero(codes < 0)))
    texts = uniques.astype(str).str.strip()
    lowered = texts.str.lower()
    is_marker = lowered.isin(MISSING_MARKERS | {m.strip().lower() for m in extra_markers}).to_numpy()
    markers = tuple(uniques[is_marker].astype(str))
    if is_marker.any():
        # renumber: markers become missing (-1), the other values keep their order
        renumber = np.where(is_marker, -1, np.cumsum(~is_marker) - 1)
        codes = np.where(codes >= 0, renumber[np.maximum(codes, 0)], -1)
        uniques, texts = uniques[~is_marker].reset_index(drop=True), texts[~is_marker].reset_index(drop=True)
    present_mask = codes >= 0
    present = int(np.count_nonzero(present_mask))
    missing = n - present
    k = int(len(uniques))
    if k == 0:
        return ColumnProfile("empty", 0, missing, markers=markers, excluded=True,
                             reason="no values (every cell is missing" + (
                                 f": {_marker_phrase(markers)})" if markers else ")"))
    counts = np.bincount(codes[present_mask], minlength=k)

    def gathered(per_value: np.ndarray, fill) -> np.ndarray:
        out = per_value[np.maximum(codes, 0)]
        out[~present_mask] = fill
        return out

    # Above LARGE_DISTINCT distinct values (identifiers, free text, amounts) each question is first asked of an
    # evenly spaced sample of them; only an answer that needs every value (a conversion) reads them all.
    large = k > LARGE_DISTINCT
    probe = texts.iloc[np.linspace(0, k - 1, SAMPLE_DISTINCT).astype(np.int64)].reset_index(drop=True) \
        if large else texts
    # 1. plain numbers (written as text, or with markers among them)
    probe_numbers = _to_float(probe)
    if probe_numbers.notna().all():
        numbers = _to_float(texts) if large else probe_numbers
        if numbers.notna().all():
            reason = "numbers written as text" + (f"; {_marker_phrase(markers)}" if markers else "")
            return ColumnProfile("numeric", k, missing, values=gathered(numbers.to_numpy(dtype=float), np.nan),
                                 number_format=NumberFormat(), markers=markers, reason=reason)
    # 2. dates (before the number formats: 04.02.2023 is not a number with dots)
    dates, how = _text_dates(probe)
    if large and (dates is not None or how is not None):
        dates, how = _text_dates(texts)
    if dates is not None:
        cells = pd.Series(gathered(dates.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT")), index=series.index)
        return ColumnProfile("date", k, missing, dates=cells, markers=markers, reason=how,
                             sorted_in_file=_sorted_in_file(cells.to_numpy()))
    if how is not None:
        return ColumnProfile("date", k, missing, markers=markers, reason=how, ambiguous_date=True)
    # 3. numbers with a currency, unit, percent sign or separators
    number_format = _number_format(probe, name, decimal_hint)
    if number_format is not None:
        parsed = number_format.parse(texts)
        if large and parsed.isna().any():  # the sample missed a second unit or convention: decide on every value
            number_format = _number_format(texts, name, decimal_hint)
            parsed = number_format.parse(texts) if number_format is not None else parsed
        if number_format is not None and parsed.notna().all():
            example = int(np.flatnonzero(probe_numbers.isna().to_numpy())[0])
            shown = number_format.parse(probe.iloc[[example]]).iloc[0]
            reason = (f"numbers written with {number_format.describe(str(probe[example]), float(shown))}"
                      + (f"; {_marker_phrase(markers)}" if markers else ""))
            return ColumnProfile("numeric", k, missing, values=gathered(parsed.to_numpy(dtype=float), np.nan),
                                 number_format=number_format, markers=markers, reason=reason)
    probe_counts = counts[np.linspace(0, k - 1, SAMPLE_DISTINCT).astype(np.int64)] if large else counts
    share_numeric = float(probe_counts[probe_numbers.notna().to_numpy()].sum()) / max(int(probe_counts.sum()), 1)
    if share_numeric >= 0.5:
        # mostly numbers with some other text: a dirty numeric column, which the numeric path reports
        return ColumnProfile("numeric", k, missing, markers=markers)
    probe_like = probe.str.fullmatch(_NUMBER_TEXT).to_numpy(dtype=bool)
    # mostly numbers with a unit or separators, and some text that is not: an error naming that text (when every
    # value reads as a number but no one format fits, as "12B", "14A", they are codes, read as text below)
    number_like = probe_like
    if float(probe_counts[probe_like].sum()) >= 0.5 * int(probe_counts.sum()) and not probe_like.all():
        number_like = texts.str.fullmatch(_NUMBER_TEXT).to_numpy(dtype=bool) if large else probe_like
        bad = np.flatnonzero(~number_like)
        first = series.index[int(np.flatnonzero(np.isin(codes, bad))[0])]
        examples = ", ".join(repr(str(texts[i])) for i in bad[:3])
        number = str(texts[int(np.flatnonzero(number_like)[0])])
        raise NonNumericColumnError(
            f"column {name!r} holds numbers written as text (such as {number!r}) "
            f"but also {int(counts[bad].sum())} cell(s) that are not numbers, such as {examples} (first at row "
            f"{first.item() if isinstance(first, np.generic) else first!r}); replace them with numbers or a missing "
            "marker (NA), or leave the column out (exclude=[...])."
        )
    # 4. identifiers and free text
    with_spaces = float(probe.str.contains(" ", regex=False).mean())
    all_distinct = k == present and k >= MIN_IDENTIFIER_VALUES
    nearly = present >= 2 * MIN_IDENTIFIER_VALUES and k >= NEARLY_DISTINCT * present
    if all_distinct or nearly:
        share = "every value is distinct" if k == present else f"{k} distinct values in {present} rows"
        if with_spaces > 0.5:
            return ColumnProfile("text", k, missing, markers=markers, excluded=True,
                                 reason=f"free text: {share}, so it cannot be a factor")
        return ColumnProfile("id", k, missing, markers=markers, excluded=True,
                             reason=f"an identifier: {share} (codes such as {str(texts[0])!r})")
    # 5. a categorical: its levels sorted as the design sorts them
    order = _level_order(uniques)
    position = np.empty(k, dtype=np.int64)
    position[order] = np.arange(k)
    levels = pd.Series(pd.Categorical.from_codes(np.where(present_mask, position[np.maximum(codes, 0)], -1),
                                                 categories=pd.Index(uniques.to_numpy()[order], dtype=object)),
                       index=series.index, name=series.name)
    reason = _marker_phrase(markers) if markers else None
    return _categorical_profile(k, counts, present, missing,
                                extra={"levels": levels, "markers": markers, **({"reason": reason} if reason else {})})


def _level_order(uniques: pd.Series) -> np.ndarray:
    """Positions that sort the levels as :func:`olscheck.inputs.prepare._sorted_levels` does (by value, or by text)."""
    try:
        return np.argsort(uniques.to_numpy(), kind="stable")
    except TypeError:
        return np.argsort(uniques.astype(str).to_numpy(), kind="stable")


def numbers_from_text(series: pd.Series, number_format: NumberFormat | None, name: str, role: str,
                      extra_markers: Iterable[str] = ()) -> np.ndarray:
    """Float values of a text column in ``number_format`` (markers and NaN missing), or a clear error.

    Used for the chunks of a streamed column that the first chunk showed to
    be numbers written as text (or that a later chunk writes with a marker).
    """
    codes, uniques = _distinct(series, name)
    texts = uniques.astype(str).str.strip()
    is_marker = texts.str.lower().isin(MISSING_MARKERS | {m.strip().lower() for m in extra_markers})
    values = pd.to_numeric(texts, errors="coerce")
    if number_format is not None and not number_format.plain:
        values = values.where(values.notna(), number_format.parse(texts))
    values[is_marker] = np.nan
    bad = values.isna() & ~is_marker
    if bad.any():
        examples = list(texts[bad].head(3))
        raise NonNumericColumnError(
            f"{role} column {name!r} must be numeric but holds text such as {', '.join(map(repr, examples))}; "
            "clean or convert it, or leave it out (exclude=[...]).")
    per_value = values.to_numpy(dtype=float)
    out = per_value[np.maximum(codes, 0)]
    out[codes < 0] = np.nan
    return out


# --------------------------------------------------------------------------- the whole frame
@dataclass
class Screening:
    """The decisions for every column, and what the design needs from them.

    Attributes
    ----------
    decisions : tuple of ColumnDecision
        One per input column, in the frame's order.
    predictors : list
        Column labels kept as predictors, in the frame's order (or the
        order of ``predictors=``).
    profiles : dict label -> ColumnProfile
        For the target, the predictors and the order column.
    order : label or None
        The date column used as the time order (only when ``order_by`` was
        not given).
    """

    decisions: tuple[ColumnDecision, ...]
    predictors: list
    profiles: dict = field(default_factory=dict)
    order: Any = None


def _cheap_kind(series: pd.Series) -> str:
    """How a column not examined further reads, from its dtype alone."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_bool_dtype(series) or isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "text"


def screen(frame: pd.DataFrame, *, target: Any, candidates: Sequence[Any], explicit: bool,
           declared: Sequence[Any] = (), order: Any = None, group: Any = None, exclude: Sequence[Any] = (),
           dropped: dict | None = None, time_index: bool = False, decimal_hint: str | None = None,
           extra_markers: Iterable[str] = (), can_sort: bool = True,
           unlisted: str = "not listed in predictors=") -> Screening:
    """Decide every column's role (see the module's rules).

    Parameters
    ----------
    frame : DataFrame
        The input (not modified).
    target : label
        The target column.
    candidates : sequence of labels
        The predictors given (``explicit``) or the columns that could be
        predictors (every other column).
    explicit : bool
        ``predictors=`` was given: the candidates are used as they are.
    declared : sequence of labels
        ``categorical=`` columns (categorical whatever their values).
    order, group : label, optional
        The ``order_by`` and ``groups`` columns.
    exclude : sequence of labels
        Columns left out by ``exclude=``.
    dropped : dict label -> str, optional
        Columns already left out, with the reason (a saved row index).
    time_index : bool
        The rows have a time order already (a DatetimeIndex): no date
        column is used as the order.
    decimal_hint, extra_markers
        From the read options, see :func:`profile_column`.
    can_sort : bool
        The rows can be sorted by a date column (False when streaming: then
        the only date column is the order only when the rows read are in
        date order already, and is proposed otherwise).
    unlisted : str
        The reason of a column that is not a candidate (``explicit``).
    """
    dropped = dropped or {}
    extra_markers = tuple(extra_markers)
    candidate_set = set(candidates)
    excluded_set = set(exclude)
    declared_set = set(declared)
    rows: dict[Any, ColumnDecision] = {}
    profiles: dict[Any, ColumnProfile] = {}
    predictors: list = []
    dates: list = []

    def profile_of(key) -> ColumnProfile:
        if key not in profiles:
            profiles[key] = profile_column(frame[key], str(key), decimal_hint=decimal_hint,
                                           extra_markers=extra_markers, identify=key != target)
        return profiles[key]

    def decision(key, role, profile: ColumnProfile | None, reason=None, kind=None) -> ColumnDecision:
        # numbers are not counted (-1): a hash pass over every cell of every numeric column would cost more
        # than the rest of the screening together
        distinct = profile.distinct if profile is not None and profile.distinct >= 0 else None
        missing = profile.missing if profile is not None else int(frame[key].isna().sum())
        kind = kind or (profile.kind if profile is not None else _cheap_kind(frame[key]))
        return ColumnDecision(name=str(key), role=role, kind=kind, distinct=distinct, missing=missing, reason=reason)

    for key in frame.columns:
        if key == target:
            profile = profile_of(key)
            converted = profile.values is not None and (profile.markers or not profile.number_format.plain
                                                      or not pd.api.types.is_numeric_dtype(frame[key]))
            reason = profile.reason if converted or profile.kind == "date" else None
            rows[key] = decision(key, "target", profile, reason=reason)
        elif key in excluded_set:
            rows[key] = decision(key, "excluded", None, reason="left out by exclude=")
        elif key == order and key not in candidate_set:
            profile = profile_of(key)
            rows[key] = decision(key, "order", profile, reason="order_by: the time order of the order-dependent tests")
        elif key == group:
            rows[key] = decision(key, "group", None, reason="groups: rows sharing a value share a group")
        elif key in dropped:
            rows[key] = decision(key, "excluded", None, reason=dropped[key])
        elif key not in candidate_set:
            rows[key] = decision(key, "excluded", None, reason=unlisted)
        elif key in declared_set:
            profile = profile_of(key) if not pd.api.types.is_numeric_dtype(frame[key]) else None
            predictors.append(key)
            rows[key] = decision(key, "predictor", profile, kind="categorical",
                                 reason="categorical= (one dummy column per level but the reference)")
        else:
            profile = profile_of(key)
            if explicit:
                predictors.append(key)
                if profile.kind == "date" and profile.dates is not None:
                    reason = f"{profile.reason}, named in predictors=: used as days since 1970-01-01"
                    rows[key] = decision(key, "converted", profile, reason=reason)
                elif profile.values is not None or (profile.levels is not None and profile.markers):
                    rows[key] = decision(key, "converted", profile, reason=profile.reason)
                else:
                    reason = f"named by you, so used (the screening would leave it out: {profile.reason})" \
                        if profile.excluded else None
                    rows[key] = decision(key, "predictor", profile, reason=reason)
            elif profile.kind == "date":
                dates.append(key)
                rows[key] = decision(key, "excluded", profile,
                                     reason=f"{profile.reason}: a date is never a predictor (name it in order_by= to "
                                            "use it as the time order)")
            elif profile.excluded:
                rows[key] = decision(key, "excluded", profile, reason=profile.reason)
            else:
                predictors.append(key)
                converted = profile.values is not None or (profile.levels is not None and profile.markers)
                rows[key] = decision(key, "converted" if converted else "predictor", profile,
                                     reason=profile.reason if converted else None)
    chosen_order = None
    if not explicit and order is None and not time_index and len(dates) == 1:
        key = dates[0]
        profile = profiles[key]
        if profile.ambiguous_date or profile.dates is None:
            pass
        elif not can_sort:
            if profile.missing == 0 and profile.sorted_in_file:
                rows[key] = decision(key, "order", profile, reason=(
                    f"{profile.reason}, the only date column, in date order in the {len(frame)} rows read: the "
                    "order-dependent tests use the file's row order, which is its order; never a predictor"))
            else:
                rows[key] = decision(key, "excluded", profile, reason=(
                    f"{profile.reason}, the only date column: a date is never a predictor. Proposed as the time order: "
                    "the file is not in its order (or lacks some dates), and streaming uses the file's row order; "
                    f"sort the file by {str(key)!r} for the order-dependent tests"))
        elif profile.missing == 0:
            chosen_order = key
            how = ("the rows are already in date order" if profile.sorted_in_file
                   else "the rows are sorted by it, ties keeping the file's order")
            rows[key] = decision(key, "order", profile, reason=(
                f"{profile.reason}, the only date column: used as the time order of the order-dependent tests ({how}); "
                "never a predictor. Give order_by= to choose another order"))
        else:
            rows[key] = decision(key, "excluded", profile, reason=(
                f"{profile.reason}, the only date column: a date is never a predictor. Proposed as the time order: "
                f"order_by={str(key)!r} sorts the rows by it, dropping the {profile.missing} row(s) without a date"))
    elif not explicit and len(dates) > 1 and order is None:
        for key in dates:
            profile = profiles[key]
            rows[key] = decision(key, "excluded", profile, reason=(
                f"{profile.reason}: a date is never a predictor; {len(dates)} date columns, so none is used as the "
                "time order (name one in order_by=)"))
    if explicit:
        order_of = {key: i for i, key in enumerate(candidates)}
        predictors.sort(key=lambda key: order_of[key])
    return Screening(decisions=tuple(rows[key] for key in frame.columns), predictors=predictors, profiles=profiles,
                     order=chosen_order)
