"""Plain-text pieces of ``print(report)`` (:meth:`olscheck.Report.__str__`).

Like the HTML and Markdown views, this formats what the report holds and
decides nothing.
"""

from __future__ import annotations

from .view import COLUMN_HEADERS, column_rows

__all__ = ["columns_text"]


def columns_text(columns, indent: str = "  ") -> list[str]:
    """The Columns table as aligned text lines (a title line, a header, one line per column).

    Parameters
    ----------
    columns : sequence of ColumnDecision
        ``report.data.columns``; no lines when empty.
    indent : str
        Put before every row.

    Returns
    -------
    list of str
        The reason, the last column, is not padded, so a long reason does not
        widen the other lines.
    """
    rows = column_rows(columns)
    if not rows:
        return []
    keys = [key for key, _ in COLUMN_HEADERS]
    labels = [label for _, label in COLUMN_HEADERS]
    table = [labels] + [[row[key] for key in keys] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(keys) - 1)]
    right = {keys.index("distinct"), keys.index("missing")}  # counts line up on their last digit
    lines = [f"Columns ({len(rows)}):"]
    for line in table:
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        lines.append(indent + "  ".join(cells + [line[-1]]).rstrip())
    return lines
