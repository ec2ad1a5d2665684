"""Cells of the CSV files the programme office opens in Excel or LibreOffice.

A member-entered cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read
as a formula by spreadsheet programs (`=HYPERLINK("http://…"&A1;"x")` runs on opening). Every
CSV the project writes passes its cells through `neutralise`, which puts a single quote in
front (the OWASP CSV-injection rule); `restore` takes that quote off again when `matchbot
import` reads an exported file, so export → import changes nothing.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def neutralise(value: object) -> object:
    """The cell as it is safe to write; numbers and booleans stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return QUOTE + value
    return value


def restore(value: str) -> str:
    """Undoes `neutralise`: a quote followed by a formula start is dropped, others are kept."""
    if value.startswith(QUOTE) and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
