"""The message catalogue: every user-facing text, per language, in `texts/<lang>/*.toml`.

Catalogue strings are trusted Telegram HTML. Parameters are user data and are always escaped
here, so no handler can forget it; pass `Markup(...)` for a parameter that is already HTML.
"""

from __future__ import annotations

import html
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

from kooperation.language import LANGUAGES

DEFAULT_LANGUAGE = "de"
TEXTS_DIR = Path(__file__).resolve().parent


class Markup(str):
    """A string that is already safe Telegram HTML (e.g. another rendered text)."""


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out)
        else:
            out[name] = str(value)


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(language: str) -> dict[str, str]:
    """All texts of one language; the file name is the first part of every key."""
    texts: dict[str, str] = {}
    for path in sorted((TEXTS_DIR / language).glob("*.toml")):
        table = tomllib.loads(path.read_text(encoding="utf-8"))
        _flatten(path.stem, table, texts)
    return texts


def language_of(code: str | None) -> str:
    """Maps a stored or Telegram language code to one we have texts for."""
    code = (code or "").split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def escape(value: object) -> str:
    if isinstance(value, Markup):
        return str(value)
    return html.escape(str(value), quote=False)


def t(language: str, key: str, **params: object) -> Markup:
    """The text `key` in `language` with its parameters escaped for Telegram HTML."""
    template = catalogue(language_of(language)).get(key)
    if template is None:
        raise KeyError(f"text {key!r} missing in language {language!r}")
    return Markup(template.format(**{name: escape(v) for name, v in params.items()}))


def plain(language: str, key: str, **params: object) -> str:
    """A text for places that take no HTML (button labels, command descriptions)."""
    template = catalogue(language_of(language))[key]
    return template.format(**{name: str(v) for name, v in params.items()})
