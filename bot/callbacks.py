"""Every button code the bot writes, declared once: built, matched and read only here.

A code is a prefix (`rv`, `ls` …), a fixed head and typed fields (an id, a choice from a fixed
set). Each declaration gives the three things a button needs:

    buttons = [[(label, REVIEW_APPROVE.data(card.match_id))]]           # "rv:a:12"
    CallbackQueryHandler(approve_pressed, pattern=REVIEW_APPROVE.pattern)
    match_id = REVIEW_APPROVE.pressed(update)                           # 12, or None

Callback data comes from the client and can be forged: empty, any length, non-ASCII digits,
numbers beyond the database's integer range, NUL bytes, a known head with other fields.
Reading accepts only what `data()` itself writes (the read values must build the same data
again) and returns None (False for codes without fields) for anything else, which handlers
treat like an unknown id. The handler patterns stay as wide as the bot always matched (`\\d+`):
a forged id reaches its handler and is refused there, as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from telegram import Update

from kooperation.models import ID_MAX, Feedback, Size
from kooperation.reference import categories, cluster_specs

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

DATA_MAX_BYTES = 64
"""Telegram's limit for callback data."""


def data_of(update: Update) -> str:
    """The pressed button's data, "" when there is none."""
    query = update.callback_query
    return (query.data or "") if query is not None else ""


def parse_id(text: str | None) -> int | None:
    """A database id written by the bot, or None for anything else."""
    if not text or len(text) > len(str(ID_MAX)) or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 0 < value <= ID_MAX else None


def shown(data: str, limit: int = 100) -> str:
    """Button data as it may be logged or stored: printable characters only, cut to `limit`."""
    return "".join(ch if ch.isprintable() else "?" for ch in data[:limit])


# ---------------------------------------------------------------------------- fields
class Field(Generic[T]):
    """One typed part of a code: how it is written, read back, and matched by a pattern."""

    @property
    def regex(self) -> str:
        """What the handler pattern matches here."""
        raise NotImplementedError

    def write(self, value: T) -> str:
        raise NotImplementedError

    def read(self, text: str) -> T | None:
        raise NotImplementedError

    def samples(self) -> tuple[T, ...]:
        """Values the bot writes (for the round-trip tests)."""
        raise NotImplementedError


class Id(Field[int]):
    """A database id: ASCII digits of a positive number that fits an INTEGER."""

    @property
    def regex(self) -> str:
        return r"\d+"

    def write(self, value: int) -> str:
        if isinstance(value, bool) or not 0 < value <= ID_MAX:
            raise ValueError(f"not a database id: {value!r}")
        return str(value)

    def read(self, text: str) -> int | None:
        return parse_id(text)

    def samples(self) -> tuple[int, ...]:
        return (1, 42, ID_MAX)


class Choice(Field[T]):
    """One of a fixed set: each value written as its own code (`{"a": True, "d": False}`).

    `codes` may be a function for sets read from the reference data (clusters, categories);
    `regex` widens the handler pattern where the bot always matched more than the set (a
    forged value then reaches the handler, which says the button is stale)."""

    def __init__(
        self, codes: Mapping[str, T] | Callable[[], Mapping[str, T]], regex: str | None = None
    ) -> None:
        self._codes = codes
        self._regex = regex

    @property
    def codes(self) -> Mapping[str, T]:
        return self._codes() if callable(self._codes) else self._codes

    @property
    def regex(self) -> str:
        if self._regex is not None:
            return self._regex
        return "(?:" + "|".join(re.escape(code) for code in self.codes) + ")"

    @property
    def choices(self) -> tuple[T, ...]:
        """The values in the order they were declared."""
        return tuple(self.codes.values())

    def write(self, value: T) -> str:
        for code, known in self.codes.items():
            if known == value:
                return code
        raise ValueError(f"not a choice of this field: {value!r}")

    def read(self, text: str) -> T | None:
        return self.codes.get(text)

    def samples(self) -> tuple[T, ...]:
        return self.choices


def words(*values: str, regex: str | None = None) -> Choice[str]:
    """A choice among words written as themselves."""
    return Choice({value: value for value in values}, regex)


ID = Id()
YES_NO = Choice({"yes": True, "no": False})
ON_OFF = Choice({"1": True, "0": False})
"""The state a settings toggle sets (each button names it, so an old one cannot flip back)."""
ACCEPT = Choice({"a": True, "d": False})
"""Accept/approve or decline."""
LANGUAGE = words("de", "en")
KIND = words("need", "offer")
STATUS_ACTION = Choice({"p": "pause", "r": "resume", "c": "close"})
FEEDBACK = Choice({"c": Feedback.COOPERATING, "t": Feedback.IN_TOUCH, "n": Feedback.NO_CONTACT})
"""The follow-up's answers, `fu:<match>:<code>`."""
SIZE = Choice({size.value: size for size in Size}, regex=r"\w+")
CLUSTER = Choice(lambda: {spec.slug: spec.slug for spec in cluster_specs()}, regex=r"[\w-]+")
TAG = Choice(lambda: {c.slug: c.slug for c in categories()}, regex=r"\w+")


# ---------------------------------------------------------------------------- codes
class Prefix:
    """The family a code belongs to (`rv` for /review …); `pattern` matches all of it."""

    def __init__(self, name: str) -> None:
        if name in PREFIXES or not re.fullmatch(r"[a-z]{2}", name):
            raise ValueError(f"prefix {name!r} taken or malformed")
        self.name = name
        PREFIXES[name] = self

    @property
    def pattern(self) -> str:
        return f"^{re.escape(self.name)}:"


PREFIXES: dict[str, Prefix] = {}
CODES: list[BaseCode] = []
"""Every declared code, in declaration order (the tests build and read each one)."""


class BaseCode:
    """What all codes share: the literal start, the pattern, the length and NUL checks."""

    def __init__(self, prefix: Prefix, head: str, fields: tuple[Field[Any], ...]) -> None:
        self.prefix = prefix
        self.literal = f"{prefix.name}:{head}" if head else prefix.name
        self.fields = fields
        CODES.append(self)

    def __repr__(self) -> str:
        shape = ":".join([self.literal, *(type(f).__name__ for f in self.fields)])
        return f"<code {shape}>"

    @property
    def pattern(self) -> str:
        """The regular expression for `CallbackQueryHandler(pattern=…)`."""
        return "^" + re.escape(self.literal) + "".join(":" + f.regex for f in self.fields) + "$"

    def _build(self, values: tuple[Any, ...]) -> str:
        parts = [field.write(value) for field, value in zip(self.fields, values, strict=True)]
        data = ":".join([self.literal, *parts])
        if len(data.encode()) > DATA_MAX_BYTES:
            raise ValueError(f"callback data over {DATA_MAX_BYTES} bytes: {data!r}")
        return data

    def _read(self, data: str | None) -> tuple[Any, ...] | None:
        """The field values, if `data` is exactly what `_build` writes for them."""
        if not data or "\x00" in data or len(data.encode()) > DATA_MAX_BYTES:
            return None
        if not self.fields:
            return () if data == self.literal else None
        start = self.literal + ":"
        if not data.startswith(start):
            return None
        texts = data[len(start) :].split(":")
        if len(texts) != len(self.fields):
            return None
        values = tuple(field.read(text) for field, text in zip(self.fields, texts, strict=True))
        if any(value is None for value in values) or self._build(values) != data:
            return None
        return values

    def read_any(self, data: str | None) -> tuple[Any, ...] | None:
        """The values as a tuple, for code that handles codes alike (tests, logging)."""
        return self._read(data)

    def build_any(self, *values: Any) -> str:
        return self._build(values)


class Code(BaseCode):
    """A code without fields (`rv:c`)."""

    def __init__(self, prefix: Prefix, head: str) -> None:
        super().__init__(prefix, head, ())

    def data(self) -> str:
        return self._build(())

    def matches(self, data: str | None) -> bool:
        return self._read(data) is not None

    def pressed(self, update: Update) -> bool:
        """Whether the pressed button is exactly this code."""
        return self.matches(data_of(update))


class Code1(BaseCode, Generic[A]):
    """A code with one field (`rv:a:<id>`)."""

    def __init__(self, prefix: Prefix, head: str, field: Field[A]) -> None:
        super().__init__(prefix, head, (field,))

    def data(self, value: A) -> str:
        return self._build((value,))

    def parse(self, data: str | None) -> A | None:
        values = self._read(data)
        return None if values is None else values[0]

    def pressed(self, update: Update) -> A | None:
        return self.parse(data_of(update))


class Code2(BaseCode, Generic[A, B]):
    """A code with two fields (`co:mt:<source>:<target>`)."""

    def __init__(self, prefix: Prefix, head: str, first: Field[A], second: Field[B]) -> None:
        super().__init__(prefix, head, (first, second))

    def data(self, first: A, second: B) -> str:
        return self._build((first, second))

    def parse(self, data: str | None) -> tuple[A, B] | None:
        values = self._read(data)
        return None if values is None else (values[0], values[1])

    def pressed(self, update: Update) -> tuple[A, B] | None:
        return self.parse(data_of(update))


def any_of(*things: BaseCode | Prefix) -> str:
    """One pattern for a handler that takes several codes (or whole prefixes)."""
    inner = (thing.pattern.removeprefix("^") for thing in things)
    return "^(?:" + "|".join(inner) + ")"


# ---------------------------------------------------------------------------- the registry
# The main menu (bot/ui.py); "mn:need" / "mn:offer" start a listing
# (bot/handlers/listings/posting.py).
MENU = Prefix("mn")
MENU_NEW = Code1(MENU, "", KIND)
MENU_MINE = Code(MENU, "mine")
MENU_MATCHES = Code(MENU, "matches")
MENU_SETTINGS = Code(MENU, "settings")
MENU_PRIVACY = Code(MENU, "privacy")
MENU_HELP = Code(MENU, "help")

# /review (bot/handlers/review.py)
REVIEW = Prefix("rv")
REVIEW_APPROVE = Code1(REVIEW, "a", ID)
REVIEW_REJECT = Code1(REVIEW, "r", ID)
REVIEW_REJECT_NOW = Code1(REVIEW, "x", ID)
REVIEW_SKIP = Code1(REVIEW, "s", ID)
REVIEW_NEXT = Code(REVIEW, "n")
REVIEW_NEXT_AFTER = Code1(REVIEW, "n", ID)
REVIEW_CANCEL = Code(REVIEW, "c")

# /privacy (bot/handlers/privacy.py)
PRIVACY = Prefix("pv")
PRIVACY_EXPORT = Code(PRIVACY, "exp")
PRIVACY_DELETE = Code(PRIVACY, "del")
PRIVACY_DELETE_YES = Code(PRIVACY, "del:yes")
PRIVACY_DELETE_NO = Code(PRIVACY, "del:no")

# Messages the bot sends on its own (bot/handlers/followup.py, bot/outbox_render.py)
FOLLOWUP = Prefix("fu")
FOLLOWUP_ANSWER = Code2(FOLLOWUP, "", ID, FEEDBACK)
EXTEND = Prefix("ex")
EXTEND_LISTING = Code1(EXTEND, "", ID)
DIGEST = Prefix("dg")
DIGEST_PAUSE = Code(DIGEST, "p")
DIGEST_RESUME = Code(DIGEST, "r")

# /settings (bot/handlers/settings.py)
SETTINGS = Prefix("st")
SETTINGS_LANGUAGE = Code1(SETTINGS, "lang", LANGUAGE)
SETTINGS_DIGEST = Code1(SETTINGS, "dig", ON_OFF)
SETTINGS_PAUSE = Code1(SETTINGS, "pause", ON_OFF)
SETTINGS_DIGEST_OLD = Code(SETTINGS, "dig")
"""A button from before the toggles named their state: shows the current state."""
SETTINGS_PAUSE_OLD = Code(SETTINGS, "pause")
SETTINGS_NAME = Code(SETTINGS, "name")
SETTINGS_EMAIL = Code(SETTINGS, "mail")
SETTINGS_LEAVE = Code(SETTINGS, "leave")
SETTINGS_LEAVE_ANSWER = Code1(SETTINGS, "leave", YES_NO)

# /managers (bot/handlers/managers.py)
MANAGERS = Prefix("mg")
MANAGERS_INVITE = Code1(MANAGERS, "i", ID)

# /start (bot/handlers/onboarding/)
ONBOARDING = Prefix("ob")
ONBOARDING_CONSENT = Code(ONBOARDING, "ok")
ONBOARDING_LANGUAGE = Code1(ONBOARDING, "lang", words("de", "en", regex=r"\w+"))
ONBOARDING_ORGANIZATION = Code1(ONBOARDING, "org", ID)
ONBOARDING_CLUSTER = Code1(ONBOARDING, "cl", CLUSTER)
ONBOARDING_SIZE = Code1(ONBOARDING, "sz", SIZE)
ONBOARDING_TELEGRAM_NAME = Code(ONBOARDING, "tgname")
ONBOARDING_LATER = Code(ONBOARDING, "later")

# Introductions (bot/handlers/introductions.py): in:a:<match> accepts, in:d:<match> declines.
INTRODUCTION = Prefix("in")
INTRODUCTION_ANSWER = Code2(INTRODUCTION, "", ACCEPT, ID)

# Join requests and /companies (bot/handlers/membership.py)
JOIN = Prefix("jr")
JOIN_DECISION = Code2(JOIN, "", ACCEPT, ID)
COMPANY = Prefix("co")
COMPANY_MERGE = Code1(COMPANY, "m", ID)
COMPANY_MERGE_INTO = Code2(COMPANY, "mt", ID, ID)
COMPANY_INVITE = Code1(COMPANY, "inv", ID)

# /mylistings (bot/handlers/listings/mine.py): ml:<p|r|c>:<id> pause/resume/close, ml:e:<id> edit.
MY_LISTING = Prefix("ml")
MY_LISTING_STATUS = Code2(MY_LISTING, "", STATUS_ACTION, ID)
MY_LISTING_EDIT = Code1(MY_LISTING, "e", ID)

# The listing draft's preview (bot/handlers/listings/posting.py)
DRAFT = Prefix("ls")
DRAFT_KEEP_TEXT = Code(DRAFT, "keep")
DRAFT_TAG = Code1(DRAFT, "t", TAG)
DRAFT_SWITCH_KIND = Code(DRAFT, "k")
DRAFT_CONFIRM = Code(DRAFT, "ok")
DRAFT_EDIT = Code(DRAFT, "edit")
DRAFT_DISCARD = Code(DRAFT, "no")
