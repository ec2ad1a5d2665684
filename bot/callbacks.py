"""Reading the data of a pressed button: every handler takes ids and codes from here.

Callback data comes from the client and can be forged: empty, any length, non-ASCII digits,
numbers beyond the database's integer range, NUL bytes. `parse_id` accepts only what the bot
itself ever writes (ASCII digits of a positive id that fits a database INTEGER); anything else
reads as None, which handlers treat like an unknown id.
"""

from __future__ import annotations

from telegram import Update

DB_ID_MAX = 2**31 - 1
"""Largest primary key the schema can hold (INTEGER on PostgreSQL, and our ids on SQLite)."""


def data_of(update: Update) -> str:
    """The pressed button's data, "" when there is none."""
    query = update.callback_query
    return (query.data or "") if query is not None else ""


def parts(update: Update) -> list[str]:
    """The data split at `:` (`rv:a:12` → ["rv", "a", "12"])."""
    return data_of(update).split(":")


def parse_id(text: str | None) -> int | None:
    """A database id written by the bot, or None for anything else."""
    if not text or len(text) > len(str(DB_ID_MAX)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= DB_ID_MAX else None


def callback_id(update: Update) -> int | None:
    """The id after the last `:` of the pressed button's data, if it is one."""
    return parse_id(data_of(update).rsplit(":", 1)[-1])


def shown(data: str, limit: int = 100) -> str:
    """Button data as it may be logged or stored: printable characters only, cut to `limit`."""
    return "".join(ch if ch.isprintable() else "?" for ch in data[:limit])
