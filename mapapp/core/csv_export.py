"""CSV for spreadsheets: every CSV the project writes goes through `write_csv`, so no cell is a formula."""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# A cell starting with one of these is read as a formula (or the start of one) by Excel, LibreOffice and
# Google Sheets: `=HYPERLINK(...)`, `+cmd|...`, `-1+1`, `@SUM(...)`; tab and carriage return come first
# in some tricks (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A text cell that would start a formula, prefixed with a single quote; numbers and the rest unchanged.

    Only text is touched: a number we wrote ourselves (a negative longitude) is data, not a formula, and
    must stay a number for the spreadsheet.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """The rows as CSV text (header first, only `columns`), each text cell made safe for spreadsheets."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows({key: safe_cell(row.get(key)) for key in columns} for row in rows)
    return out.getvalue()
