"""Bad input, forged buttons, media, blocked users, failures, and two users at once.

This module's bot runs with an embedding model that cannot load, so incremental matching
fails every time: the listing must still be kept and the contact told about the nightly round.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import Listing, Member
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import (
    NO_MATCHING,
    Contact,
    onboard_new_company,
    post_listing,
    register_new_company,
    running_bot,
)

NEED = "Wir suchen einen Partner für die Wartung fahrerloser Transportsysteme."


bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]))


def _member(bot, contact: Contact) -> Member | None:  # type: ignore[no-untyped-def]
    with _session(bot) as session:
        return session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).first()


def _sticker(contact: Contact) -> dict:
    user = contact.user
    return {
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user.chat_id, "type": "private", "first_name": user.first_name},
            "from": user.from_obj,
            "sticker": {
                "file_id": "CAACAgIAAx0",
                "file_unique_id": "AgADbQ",
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            },
        }
    }


def test_bad_listing_texts_are_refused_with_a_reason_and_nothing_is_saved(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    menu = onboard_new_company(erika, company="Eingabe Test GmbH")
    erika.tap(menu, data="mn:need")
    erika.reply()
    cases = [
        ("   ", "Der Text ist leer"),
        ("zu kurz", "zu kurz: 7 Zeichen"),
        ("x" * 1001, "zu lang: 1001 Zeichen"),
        ("🔋🚗⚡️🔋🚗⚡️🔋🚗⚡️🔋🚗⚡️🔋🚗⚡️", "nur Emojis oder Links"),
        ("https://example.com/wir-suchen-partner", "nur Emojis oder Links"),
    ]
    for text, reason in cases:
        erika.send(text)
        assert reason in erika.reply().text, text
    emulator.send_update(_sticker(erika))
    assert "Sticker" in erika.reply().text
    # still waiting for the text: a valid one now leads to the preview
    erika.send(NEED)
    assert "Vorschau" in erika.with_button("ls:ok").text
    member = _member(bot, erika)
    with _session(bot) as session:
        assert session.exec(select(Listing).where(Listing.member_id == member.id)).all() == []


def test_html_and_markdown_in_user_text_are_shown_literally(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    invitation = register_new_company(
        erika, company="<b>Fett</b> & *Stern* GmbH", name="<i>Eva</i>"
    )
    assert "&lt;i&gt;Eva&lt;/i&gt;" in invitation.text
    erika.tap(invitation, data="ob:later")
    menu = erika.with_button("mn:offer")
    erika.tap(menu, data="mn:offer")
    erika.reply()
    evil = 'Wir bieten <a href="http://evil">Klick</a> *fett* _kursiv_ [Link](http://x) </pre>'
    erika.send(evil)
    preview = erika.with_button("ls:ok")
    assert '&lt;a href="http://evil"&gt;Klick&lt;/a&gt;' in preview.text
    assert "*fett* _kursiv_ [Link](http://x) &lt;/pre&gt;" in preview.text
    assert "<a href" not in preview.text and preview.parse_mode == "HTML"
    erika.tap(preview, data="ls:ok")
    assert "veröffentlicht" in erika.reply(edited=True).text
    assert "nächtliche Runde" in erika.reply(timeout=30).text  # matching fails, listing stays
    with _session(bot) as session:
        member = _member(bot, erika)
        [listing] = session.exec(select(Listing).where(Listing.member_id == member.id)).all()
    assert listing.text == evil and listing.status == "active"


@pytest.mark.usefixtures("bot")
def test_media_and_forged_or_unknown_buttons_outside_a_conversation_get_an_answer(emulator):
    erika = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(erika, company="Knopf Test GmbH")
    emulator.send_update(_sticker(erika))
    assert "nur mit Text und Knöpfen" in erika.reply().text
    erika.user.edit(1, "geänderter Text")
    assert "Bitte schicken Sie den Text neu" in erika.reply().text
    since = emulator.last_seq()
    for data in ("zz:bogus", "ml:c:999999", "ob:org:1", "st:lang:fr"):
        erika.user.press_data(data)
        assert "nicht" in erika.reply().text, data
    assert len(emulator.calls("answerCallbackQuery", since=since)) >= 4


def test_a_forged_organization_button_during_registration_joins_nothing(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    erika.send("/start")
    erika.tap(erika.with_button("ob:ok"), data="ob:ok")
    erika.reply()
    erika.reply()
    erika.user.press_data("ob:org:1")
    assert "gilt nicht mehr" in erika.reply().text
    assert _member(bot, erika).organization_id is None


def test_unregistered_user_is_sent_to_start_never_silence(emulator, bot):
    stranger = Contact.new(emulator, new_user_id(), language="en")
    for text in ("hello", "/need", "/mylistings", "/settings", "/whatever"):
        stranger.send(text)
        assert "/start" in stranger.reply().text, text
    assert _member(bot, stranger) is None


def test_a_blocked_bot_marks_the_member_inactive_until_they_write_again(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(erika, company="Blockiert GmbH")
    emulator.inject_fault(
        "sendMessage",
        error_code=403,
        retry_after=None,
        description="Forbidden: bot was blocked by the user",
    )
    erika.send("/help")
    deadline = time.monotonic() + 10
    while _member(bot, erika).active and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _member(bot, erika).active is False
    erika.send("/menu")
    erika.with_button("mn:need")
    assert _member(bot, erika).active is True


def test_an_unexpected_error_is_logged_and_the_user_gets_an_apology(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(erika, company="Fehler GmbH")
    emulator.inject_fault(
        "sendMessage", error_code=400, retry_after=None, description="Bad Request: boom"
    )
    erika.send("/help")
    assert "etwas schiefgegangen" in erika.reply().text
    assert "handler failed" in bot.log()


def test_two_users_at_the_same_time_each_get_their_own_conversation(emulator, bot):
    texts = {
        "de": "Wir suchen Logistikpartner für Kühltransporte nach Polen.",
        "en": "We offer cybersecurity audits for small manufacturing companies.",
    }
    contacts = {lang: Contact.new(emulator, new_user_id(), language=lang) for lang in texts}
    errors: list[BaseException] = []

    def run(language: str) -> None:
        try:
            contact = contacts[language]
            kind = "need" if language == "de" else "offer"
            menu = onboard_new_company(
                contact, company=f"Parallel {language.upper()} GmbH", name=f"P {language}"
            )
            post_listing(contact, menu, kind, texts[language])
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(lang,)) for lang in texts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    with _session(bot) as session:
        for language, contact in contacts.items():
            member = _member(bot, contact)
            [listing] = session.exec(select(Listing).where(Listing.member_id == member.id)).all()
            assert listing.text == texts[language]
            assert member.display_name == f"P {language}" and member.language == language
