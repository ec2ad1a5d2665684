"""A crash in the middle of a conversation loses nothing: the user continues where they were."""

from __future__ import annotations

from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import BotState, Listing, Member, Organization
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import NO_MATCHING, Contact, onboard_new_company, running_bot

bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)

NEED = "Wir suchen einen Partner für das Recycling von Batteriemodulen."


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]))


def test_registration_continues_after_a_hard_kill(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    erika.send("/start")
    erika.tap(erika.with_button("ob:ok"), data="ob:ok")
    erika.reply()
    erika.reply()
    erika.send("Neustart Werke GmbH")
    clusters = erika.with_button("ob:cl:logistics")

    bot.kill()  # SIGKILL: no shutdown hook, no periodic flush
    bot.start(EMBEDDING_MODEL=NO_MATCHING)

    erika.tap(clusters, data="ob:cl:logistics")
    erika.tap(erika.with_button("ob:sz:medium"), data="ob:sz:medium")
    assert "Region" in erika.reply().text
    erika.send("Magdeburg")
    assert "Neustart Werke GmbH" in erika.reply().text
    erika.reply()
    erika.send("Erika Neustart")
    erika.with_button("ob:later")  # the invitation to a first listing
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == erika.user.user_id)
        ).one()
        organization = session.get(Organization, member.organization_id)
    assert organization.name == "Neustart Werke GmbH" and organization.size == "medium"


def test_a_draft_in_the_preview_survives_a_hard_kill_with_its_tags(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    menu = onboard_new_company(erika, company="Entwurf Recycling AG")
    erika.tap(menu, data="mn:need")
    erika.reply()
    erika.send(NEED)
    preview = erika.with_button("ls:ok")
    erika.tap(preview, data="ls:t:research")
    preview = erika.reply(edited=True)

    bot.kill()
    bot.start(EMBEDDING_MODEL=NO_MATCHING)

    erika.tap(preview, data="ls:t:funding")
    preview = erika.reply(edited=True)
    assert "Forschung &amp; Transfer, Förderung" in preview.text
    erika.tap(preview, data="ls:ok")
    assert "veröffentlicht" in erika.reply(edited=True).text
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == erika.user.user_id)
        ).one()
        [listing] = session.exec(select(Listing).where(Listing.member_id == member.id)).all()
    assert listing.text == NEED and listing.tags == ["research", "funding"]


def test_waiting_for_the_text_survives_a_graceful_restart_too(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="en")
    menu = onboard_new_company(erika, company="Graceful Ltd")
    erika.tap(menu, data="mn:offer")
    assert "New offer" in erika.reply().text

    bot.stop()
    bot.start(EMBEDDING_MODEL=NO_MATCHING)

    erika.send("We offer retrofit kits for automated guided vehicles.")
    assert "Preview – Offer" in erika.with_button("ls:ok").text


def _garble_stored_user_data(bot, user_id: int, **values: object) -> None:  # type: ignore[no-untyped-def]
    """Overwrites keys of a user's stored user_data while the bot is down."""
    with _session(bot) as session:
        row = session.get(BotState, ("user_data", str(user_id)))
        assert row is not None
        row.data = {**row.data, **values}
        session.add(row)
        session.commit()


def test_a_draft_garbled_while_the_bot_was_down_is_a_stale_button_not_an_error(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    menu = onboard_new_company(erika, company="Kaputt Entwurf GmbH")
    erika.tap(menu, data="mn:need")
    erika.reply()
    erika.send(NEED)
    preview = erika.with_button("ls:ok")

    bot.kill()
    _garble_stored_user_data(bot, erika.user.user_id, draft={"kind": "wish", "text": 5})
    bot.start(EMBEDDING_MODEL=NO_MATCHING)

    erika.tap(preview, data="ls:t:funding")
    assert "gilt nicht mehr" in erika.reply().text
    erika.send("/need")
    assert "Neuer Bedarf" in erika.reply().text
    erika.send(NEED)
    assert NEED in erika.with_button("ls:ok").text


def test_a_sign_up_garbled_while_the_bot_was_down_asks_again(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    erika.send("/start")
    erika.tap(erika.with_button("ob:ok"), data="ob:ok")
    erika.reply()
    erika.reply()
    erika.send("Kaputt Anmeldung GmbH")
    clusters = erika.with_button("ob:cl:logistics")

    bot.kill()
    _garble_stored_user_data(bot, erika.user.user_id, org_name=["Kaputt"], org_choices="1")
    bot.start(EMBEDDING_MODEL=NO_MATCHING)

    erika.tap(clusters, data="ob:cl:logistics")
    assert "gilt nicht mehr" in erika.reply().text
    erika.send("Kaputt Anmeldung GmbH")
    erika.tap(erika.with_button("ob:cl:logistics"), data="ob:cl:logistics")
    erika.tap(erika.with_button("ob:sz:medium"), data="ob:sz:medium")
    assert "Region" in erika.reply().text
