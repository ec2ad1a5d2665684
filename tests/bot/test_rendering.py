"""Long messages: split for Telegram's 4,096 characters without breaking HTML."""

from __future__ import annotations

import html
import json

from bot.handlers.privacy import export_chunks
from bot.render import split_message
from bot.texts import t


def test_short_text_stays_one_message() -> None:
    assert split_message("Hallo") == ["Hallo"]


def test_long_text_is_split_at_line_breaks_and_nothing_is_lost() -> None:
    lines = [f"<b>Zeile {i}</b> " + "x" * 90 for i in range(200)]
    text = "\n".join(lines)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    assert "\n".join(parts) == text
    for part in parts:
        assert part.count("<b>") == part.count("</b>")


def test_one_overlong_line_is_cut_hard() -> None:
    parts = split_message("y" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_export_chunks_fit_a_pre_message_after_escaping() -> None:
    data = {"listings": [{"text": "<&>" * 100 + f" Nummer {i}"} for i in range(60)]}
    document = json.dumps(data, ensure_ascii=False, indent=2)
    chunks = export_chunks(document)
    assert len(chunks) > 1
    assert "\n".join(chunks) == document
    for chunk in chunks:
        message = t("de", "privacy.export_part", json=chunk)
        assert len(message) <= 4096
        assert html.unescape(message.removeprefix("<pre>").removesuffix("</pre>")) == chunk


def test_user_text_in_a_catalogue_text_cannot_inject_html() -> None:
    text = t("de", "onboarding.joined", organization='<a href="x">Böse</a> & Co')
    assert text == 'Sie sind jetzt Kontakt für <b>&lt;a href="x"&gt;Böse&lt;/a&gt; &amp; Co</b>.'


def test_export_line_longer_than_a_message_is_cut_without_losing_characters() -> None:
    document = json.dumps({"text": "&" * 1000}, indent=2)
    chunks = export_chunks(document)
    assert all(len(t("de", "privacy.export_part", json=c)) <= 4096 for c in chunks)
    assert "".join(chunks).replace("\n", "") == document.replace("\n", "")
