"""A corpus of messy files made from one clean, seeded data set (issue 14).

:func:`clean_frame` is the data an analyst means: a target ``y`` and four
real predictors (``income``, ``share``, ``weight`` and the factor
``region``), every value rounded to the precision it is written with, so
each messy file holds exactly the same numbers. :func:`write_corpus`
writes the files people have: the same data with identifiers, free text,
dates, currencies, thousands separators, percent signs, units and missing
markers, comma- and semicolon-separated (with decimal commas), TSV, an
Excel workbook (when openpyxl is installed), and a file with a
high-cardinality code column over thousands of rows. Each file comes with
what olscheck should make of it (:class:`Expected`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

#: The real predictors, in file order, and the design's columns they give.
PREDICTORS = ("income", "share", "weight", "region")
DESIGN_COLUMNS = ("Intercept", "income", "share", "weight", "region[T.north]", "region[T.south]")
#: Rows whose cells are replaced by missing markers in the messy files (row -> column, marker).
MARKED_ROWS = {3: ("income", "NA"), 17: ("share", "-"), 29: ("weight", "?"), 41: ("income", ""),
               58: ("share", "n/a"), 77: ("weight", "."), 90: ("y", "null"), 101: ("region", "None")}


@dataclass(frozen=True)
class Expected:
    """What olscheck should make of one messy file."""

    path: Path
    #: the predictors the model holds, in order
    predictors: tuple[str, ...] = PREDICTORS
    #: column -> role, for every column that must be excluded or converted (and named as such)
    roles: dict[str, str] = field(default_factory=dict)
    #: rows dropped (listwise) because of missing markers
    dropped_rows: tuple[int, ...] = tuple(sorted(MARKED_ROWS))
    #: the date column used as the order, if any
    order_by: str | None = None
    #: keyword arguments for read_table/prepare (read=...)
    read: dict | None = None


def clean_frame(rows: int = 400, seed: int = 14) -> pd.DataFrame:
    """The data as meant: y = 5 + 0.0004 income + 0.08 share - 0.05 weight + region effects + noise."""
    rng = np.random.default_rng(seed)
    income = np.round(rng.lognormal(10.5, 0.4, rows), 2)          # dollars and cents, many above 1,000
    share = np.round(rng.uniform(0, 100, rows), 1)                 # percent, one decimal
    weight = np.round(rng.normal(70, 12, rows), 1)                 # kg, one decimal
    region = rng.choice(["east", "north", "south"], rows)
    noise = rng.normal(0, 1.0, rows)
    y = 5 + 0.0004 * income + 0.08 * share - 0.05 * weight + 1.5 * (region == "north") - (region == "south") + noise
    return pd.DataFrame({"y": np.round(y, 4), "income": income, "share": share, "weight": weight, "region": region})


def _mark(frame: pd.DataFrame) -> pd.DataFrame:
    """The text frame with the missing markers of :data:`MARKED_ROWS` written in."""
    frame = frame.astype(object).copy()
    for row, (column, marker) in MARKED_ROWS.items():
        frame.loc[row, column] = marker
    return frame


def _noise_columns(clean: pd.DataFrame, seed: int = 15) -> dict[str, list]:
    """Columns an analyst's file has but a model must not use: identifiers, free text."""
    rng = np.random.default_rng(seed)
    rows = len(clean)
    words = np.array(["late", "delivery", "friendly", "staff", "broken", "box", "great", "price", "slow", "refund"])
    return {
        "customer_id": list(range(100001, 100001 + rows)),
        "ticket": [f"TK-{code:05d}" for code in rng.permutation(90000)[:rows] + 10000],
        "comment": [" ".join(rng.choice(words, 4)) + f" (visit {i})" for i in range(rows)],
    }


def write_corpus(folder: Path, *, large_rows: int = 5000) -> dict[str, Expected]:
    """Write every messy variant of :func:`clean_frame` into ``folder``; returns name -> :class:`Expected`."""
    folder = Path(folder)
    clean = clean_frame()
    rows = len(clean)
    dates = pd.date_range("2022-01-01", periods=rows, freq="D")
    noise = _noise_columns(clean)
    excluded = {"customer_id": "excluded", "ticket": "excluded", "comment": "excluded"}
    corpus: dict[str, Expected] = {}

    # 1. plain: the clean numbers, nothing to screen
    path = folder / "clean.csv"
    clean.to_csv(path, index=False)
    corpus["clean"] = Expected(path, dropped_rows=())

    # 2. English-style messy CSV: $ and thousands, %, kg, ISO dates, ids, text, markers
    text = pd.DataFrame({
        "customer_id": noise["customer_id"],
        "ticket": noise["ticket"],
        "visit_date": dates.strftime("%Y-%m-%d"),
        "y": clean["y"].map(lambda v: f"{v:.4f}"),
        "income": clean["income"].map(lambda v: f"${v:,.2f}"),
        "share": clean["share"].map(lambda v: f"{v:.1f}%"),
        "weight": clean["weight"].map(lambda v: f"{v:.1f} kg"),
        "region": clean["region"],
        "comment": noise["comment"],
    })
    path = folder / "messy.csv"
    _mark(text).to_csv(path, index=False)
    corpus["messy"] = Expected(path, order_by="visit_date", roles={
        **excluded, "visit_date": "order", "income": "converted", "share": "converted", "weight": "converted"})

    # 3. European: semicolons, decimal commas, '.' thousands, € after the number, day-first dates
    european = text.assign(
        visit_date=dates.strftime("%d/%m/%Y"),
        y=clean["y"].map(lambda v: f"{v:.4f}".replace(".", ",")),
        income=clean["income"].map(lambda v: f"{v:,.2f} €".replace(",", "_").replace(".", ",").replace("_", ".")),
        share=clean["share"].map(lambda v: f"{v:.1f} %".replace(".", ",")),
        weight=clean["weight"].map(lambda v: f"{v:.1f}".replace(".", ",") + " kg"),
    )
    path = folder / "european.csv"
    _mark(european).to_csv(path, index=False, sep=";")
    corpus["european"] = Expected(path, order_by="visit_date", roles={
        **excluded, "visit_date": "order", "income": "converted", "share": "converted", "weight": "converted"})

    # 4. the same, read with the options given instead of sniffed
    corpus["european_with_options"] = Expected(path, order_by="visit_date", read={"sep": ";", "decimal": ","},
                                               roles=corpus["european"].roles)

    # 5. TSV with month-first dates and plain numbers with comma thousands only in income
    us = text.assign(visit_date=dates.strftime("%m/%d/%Y"), income=clean["income"].map(lambda v: f"{v:,.2f}"),
                     share=clean["share"].map(lambda v: f"{v:.1f}"), weight=clean["weight"].map(lambda v: f"{v:.1f}"))
    path = folder / "us.tsv"
    _mark(us).to_csv(path, index=False, sep="\t")
    corpus["us_tsv"] = Expected(path, order_by="visit_date", roles={
        **excluded, "visit_date": "order", "income": "converted", "share": "converted", "weight": "converted"})

    # 6. the dates out of order and in two forms of day: proposed as the order, not used (a missing date)
    shuffled = text.assign(visit_date=[("" if i == 5 else d) for i, d in enumerate(dates.strftime("%d.%m.%Y")[::-1])])
    path = folder / "unsorted_dates.csv"
    _mark(shuffled).to_csv(path, index=False)
    corpus["unsorted_dates"] = Expected(path, roles={**excluded, "visit_date": "excluded", "income": "converted"})

    # 7. an Excel workbook of the English file (the markers as text cells)
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        pass
    else:
        path = folder / "messy.xlsx"
        _mark(text).to_excel(path, index=False, sheet_name="visits")
        corpus["xlsx"] = Expected(path, order_by="visit_date", read={"sheet": "visits"},
                                  roles=corpus["messy"].roles)

    # 8. thousands of rows with a high-cardinality product code (2,000 codes) and a saved row index
    big = pd.concat([clean] * (large_rows // rows + 1), ignore_index=True).iloc[:large_rows]
    rng = np.random.default_rng(16)
    big = big.assign(product_code=[f"P{code:04d}" for code in rng.integers(0, 2000, large_rows)])
    path = folder / "high_cardinality.csv"
    big.to_csv(path)  # with the row index, as df.to_csv() writes it by default
    corpus["high_cardinality"] = Expected(path, dropped_rows=(), roles={"product_code": "excluded",
                                                                        "Unnamed: 0": "excluded"})
    return corpus
