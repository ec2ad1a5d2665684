"""/privacy, /export and /delete_me over the Bot API emulator."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import BotState, Listing, Member, StatCounter
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import NO_MATCHING, Contact, onboard_new_company, post_listing, running_bot

bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)

NEED = "Wir suchen Fachkräfte für die Wartung von Lagerrobotern in Halle."


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]))


def _export_from_text(contact: Contact, _first: str) -> dict:
    """Reassembles the JSON the bot sent as <pre> chunks after sendDocument was refused."""
    parts = []
    while True:
        message = contact.reply()
        match = re.fullmatch(r"<pre>(.*)</pre>", message.text or "", flags=re.S)
        assert match, message.text
        parts.append(html.unescape(match.group(1)))
        try:
            return json.loads("\n".join(parts))
        except json.JSONDecodeError:
            continue


@pytest.mark.usefixtures("bot")
def test_privacy_overview_explains_the_data_and_offers_export_and_delete(emulator):
    contact = Contact.new(emulator, new_user_id(), language="en")
    onboard_new_company(contact, company="Privacy Check Ltd")
    contact.send("/privacy")
    overview = contact.reply()
    assert "I store" in overview.text
    assert {b["callback_data"] for b in overview.buttons} == {"pv:exp", "pv:del"}


@pytest.mark.usefixtures("bot")
def test_export_sends_a_json_document_and_falls_back_to_text(emulator):
    contact = Contact.new(emulator, new_user_id(), language="de", username="erika_m")
    menu = onboard_new_company(contact, company="Export <Test> GmbH", name="Erika Export")
    post_listing(contact, menu, "need", NEED, ("workforce",))
    contact.reply(timeout=60)  # matching result
    since = emulator.last_seq()
    contact.send("/export")
    # The file goes out as multipart, which the emulator records without params and refuses.
    emulator.wait_call("sendDocument", timeout=10, since=since)
    assert "Alle Daten" in contact.reply().text  # the emulator refuses files: text follows
    data = _export_from_text(contact, "")
    assert data["member"]["name"] == "Erika Export"
    assert data["member"]["username"] == "erika_m"
    assert data["organization"]["name"] == "Export <Test> GmbH"
    assert [x["text"] for x in data["listings"]] == [NEED]
    assert data["listings"][0]["tags"] == ["workforce"]


@pytest.mark.usefixtures("bot")
def test_export_before_consent_says_nothing_is_stored(emulator):
    stranger = Contact.new(emulator, new_user_id(), language="de")
    stranger.send("/export")
    assert "nichts gespeichert" in stranger.reply().text


def test_delete_me_asks_first_then_deletes_data_and_keeps_anonymous_counts(emulator, bot):
    contact = Contact.new(emulator, new_user_id(), language="de")
    post_listing(contact, onboard_new_company(contact, company="Lösch AG"), "need", NEED)
    contact.reply(timeout=60)
    with _session(bot) as session:
        before = session.get(StatCounter, "members_deleted")
        deleted_before = before.value if before else 0
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        [listing_id] = session.exec(select(Listing.id).where(Listing.member_id == member.id))

    contact.send("/delete_me")
    question = contact.with_button("pv:del:yes")
    contact.tap(question, data="pv:del:no")
    assert "Nichts gelöscht" in contact.reply(edited=True).text
    with _session(bot) as session:
        assert session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).first()

    contact.send("/delete_me")
    contact.tap(contact.with_button("pv:del:yes"), data="pv:del:yes")
    assert "1 Einträge sind gelöscht" in contact.reply(edited=True).text
    with _session(bot) as session:
        assert (
            session.exec(
                select(Member).where(Member.telegram_user_id == contact.user.user_id)
            ).first()
            is None
        )
        assert session.get(Listing, listing_id) is None
        keys = [s.key for s in session.exec(select(BotState)).all()]
        assert not [k for k in keys if str(contact.user.user_id) in k.split(",")]
        assert session.get(StatCounter, "members_deleted").value == deleted_before + 1

    contact.send("/matches")
    assert "/start" in contact.reply().text  # gone: the bot treats them as new


def test_a_forged_delete_confirmation_without_the_question_deletes_nothing(emulator, bot):
    contact = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(contact, company="Vorsicht GmbH")
    contact.user.press_data("pv:del:yes")
    assert "gilt nicht mehr" in contact.reply().text
    with _session(bot) as session:
        assert session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).first()
