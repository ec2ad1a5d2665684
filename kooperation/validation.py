"""Limits for everything a contact types in: listing texts, names, regions, e-mail addresses.

Each `clean_*` function returns the normalised value or raises `InvalidInput` with a short
`code` ("too_short", "too_long", "no_words", …) and the limits as `params`; the bot turns the
code into a catalogue text, so this module holds no user-facing wording.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from kooperation.models import TEXT_MAX, TITLE_MAX

LISTING_MIN = 20
LISTING_MAX = TEXT_MAX
NAME_MAX = 100
ORGANIZATION_MAX = 200
REGION_MAX = 100
EMAIL_MAX = 200
SEARCH_MIN = 2
SEARCH_MAX = 100
TELEGRAM_ID_MAX = 2**53 - 1  # Telegram: "at most 52 significant bits"

_URL = re.compile(r"(?:https?://|www\.)\S+|\S+\.(?:de|com|org|net|eu|io)(?:/\S*)?", re.IGNORECASE)
_EMAIL = re.compile(
    r"^[^@\s<>\"']{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_POSTCODE = re.compile(r"^\d{5}$")


class InvalidInput(ValueError):
    """User input outside the limits; `code` names the rule, `params` the limits."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def _strip_controls(text: str) -> str:
    """Drops control and format characters (zero-width, bidi overrides) but keeps line breaks."""
    return "".join(
        ch for ch in text if ch == "\n" or unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co"}
    )


def reject_nul(text: str | None) -> str:
    """Refuses text with a NUL character: PostgreSQL cannot store it and no person types it, so
    it is an attack or a broken client. Every path that stores typed text passes here."""
    if text and "\x00" in text:
        raise InvalidInput("nul")
    return text or ""


def normalize(text: str | None, *, multiline: bool = False) -> str:
    text = _strip_controls(unicodedata.normalize("NFC", reject_nul(text).replace("\r\n", "\n")))
    if multiline:
        lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
        return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return _SPACES.sub(" ", text.replace("\n", " ")).strip()


def letter_count(text: str) -> int:
    """Letters and digits that are not part of a link: what is left of real words."""
    return sum(1 for ch in _URL.sub(" ", text) if ch.isalnum())


def clean_listing_text(text: str | None) -> str:
    """A need or offer: 20–1,000 characters with real words, not only emoji or links."""
    value = normalize(text, multiline=True)
    if not value:
        raise InvalidInput("empty")
    if len(value) > LISTING_MAX:
        raise InvalidInput("too_long", max=LISTING_MAX, length=len(value))
    if len(value) < LISTING_MIN:
        raise InvalidInput("too_short", min=LISTING_MIN, length=len(value))
    if letter_count(value) < LISTING_MIN // 2:
        raise InvalidInput("no_words", min=LISTING_MIN)
    return value


def _clean_line(text: str | None, *, maximum: int, minimum: int = 2) -> str:
    value = normalize(text)
    if not value:
        raise InvalidInput("empty")
    if len(value) > maximum:
        raise InvalidInput("too_long", max=maximum, length=len(value))
    if len(value) < minimum or letter_count(value) < minimum:
        raise InvalidInput("too_short", min=minimum, length=len(value))
    return value


def clean_person_name(text: str | None) -> str:
    return _clean_line(text, maximum=NAME_MAX)


def clean_organization_name(text: str | None) -> str:
    return _clean_line(text, maximum=ORGANIZATION_MAX)


def clean_region(text: str | None) -> str:
    """A region or a German postcode."""
    value = normalize(text)
    if _POSTCODE.match(value):
        return value
    return _clean_line(value, maximum=REGION_MAX)


def clean_search(text: str | None) -> str:
    return _clean_line(text, maximum=SEARCH_MAX, minimum=SEARCH_MIN)


def clean_email(text: str | None) -> str:
    """An e-mail address; an empty value or "-" clears it."""
    value = normalize(text)
    if value in {"", "-"}:
        return ""
    if len(value) > EMAIL_MAX:
        raise InvalidInput("too_long", max=EMAIL_MAX, length=len(value))
    if not _EMAIL.match(value):
        raise InvalidInput("bad_email")
    return value


def parse_telegram_id(text: str | int) -> int:
    """A Telegram user id as typed by an admin: a positive number Telegram can assign."""
    raw = str(text).strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(TELEGRAM_ID_MAX)):
        raise InvalidInput("bad_telegram_id", max=TELEGRAM_ID_MAX)
    value = int(raw)
    if not 0 < value <= TELEGRAM_ID_MAX:
        raise InvalidInput("bad_telegram_id", max=TELEGRAM_ID_MAX)
    return value


def title_for(text: str) -> str:
    """A short title for lists: the first line, cut at a word boundary."""
    first = normalize(text.split("\n", 1)[0])
    if len(first) <= TITLE_MAX:
        return first
    cut = first[: TITLE_MAX - 1].rsplit(" ", 1)[0]
    return f"{cut}…"
