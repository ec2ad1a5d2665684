"""The message catalogue: German and English say the same things, safely."""

from __future__ import annotations

import re
import string

import pytest

from bot.texts import LANGUAGES, Markup, catalogue, t

FIELD = string.Formatter()


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in FIELD.parse(template) if name}


def test_every_language_has_the_same_keys() -> None:
    keys = {language: set(catalogue(language)) for language in LANGUAGES}
    reference = keys["de"]
    for language, present in keys.items():
        missing, extra = sorted(reference - present), sorted(present - reference)
        assert present == reference, f"{language}: missing {missing}, extra {extra}"


def test_every_text_uses_the_same_placeholders_in_every_language() -> None:
    for key, template in catalogue("de").items():
        for language in LANGUAGES:
            other = catalogue(language)[key]
            assert placeholders(other) == placeholders(template), f"{language}:{key}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_html_uses_only_tags_telegram_understands(language: str) -> None:
    allowed = {"b", "i", "u", "s", "code", "pre", "a", "blockquote", "tg-spoiler"}
    for key, template in catalogue(language).items():
        for tag in re.findall(r"</?([a-zA-Z-]+)", template):
            assert tag in allowed, f"{language}:{key} uses <{tag}>"


def test_parameters_are_escaped_but_markup_is_kept() -> None:
    text = t("de", "common.error")
    assert isinstance(text, Markup)
    from bot.texts import escape

    assert escape("<b>x</b> & y") == "&lt;b&gt;x&lt;/b&gt; &amp; y"
    assert escape(Markup("<b>ok</b>")) == "<b>ok</b>"
