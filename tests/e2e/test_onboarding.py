"""Onboarding over the Bot API emulator: German and English, deep links, the 8-step promise
(from /start to a posted need) for a new company and 5 for an invite link. Joining a company
found by search is a request (tests/e2e/test_membership.py)."""

from __future__ import annotations

import random
import string

import pytest
from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import Listing, Member, Organization
from tests import factories as seed
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import (
    NO_MATCHING,
    Contact,
    onboard_new_company,
    publish_first_listing,
    running_bot,
)

bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)

NEED = "Wir suchen einen Partner für Prüfstände für Batteriezellen in Sachsen."


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]))


def _seed_organization(bot, name: str, slug: str = "automotive") -> Organization:  # type: ignore[no-untyped-def]
    with _session(bot) as session:
        organization = seed.organization(session, name, slug, invite_code=f"inv{new_user_id()}")
        session.refresh(organization)
        return organization


def test_german_onboarding_stores_nothing_before_consent_then_registers_a_new_company(
    emulator, bot
):
    contact = Contact.new(emulator, new_user_id(), language="de")
    contact.send("/start")
    welcome = contact.with_button("ob:ok")
    assert "Welche Daten ich speichere" in welcome.text
    assert welcome.parse_mode == "HTML"
    with _session(bot) as session:
        assert (
            session.exec(
                select(Member).where(Member.telegram_user_id == contact.user.user_id)
            ).first()
            is None
        )

    contact.tap(welcome, data="ob:ok")
    assert "Einwilligung" in contact.reply().text
    assert "Für welche Firma" in contact.reply().text
    contact.send("Zellwerk Test <GmbH>")
    clusters = contact.with_button("ob:cl:it")
    assert "Zellwerk Test &lt;GmbH&gt;" in clusters.text
    contact.tap(clusters, data="ob:cl:it")
    contact.tap(contact.with_button("ob:sz:small"), data="ob:sz:small")
    assert "Region" in contact.reply().text
    contact.send("04109")
    assert "ist angelegt" in contact.reply().text
    ask_name = contact.reply()
    assert "Wie heißen Sie" in ask_name.text
    contact.send("Erika <b>Muster</b>")
    invitation = contact.with_button("ob:later")
    assert "Erika &lt;b&gt;Muster&lt;/b&gt;" in invitation.text
    assert "?start=" in invitation.text
    assert "Was sucht Ihre Firma – oder was bieten Sie an?" in invitation.text
    contact.tap(invitation, data="ob:later")
    assert "Hauptmenü" in contact.with_button("mn:need").text

    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        organization = session.get(Organization, member.organization_id)
    assert member.consent_at is not None and member.language == "de"
    assert organization.name == "Zellwerk Test <GmbH>" and organization.region == "04109"
    assert organization.size == "small"


def test_english_onboarding_asks_to_join_an_existing_company_found_by_search(emulator, bot):
    organization = _seed_organization(bot, "Müller Antriebstechnik GmbH")
    contact = Contact.new(emulator, new_user_id(), language="en", first_name="John")
    contact.send("/start")
    welcome = contact.with_button("ob:ok")
    assert "What I store" in welcome.text
    contact.tap(welcome, data="ob:ok")
    contact.reply()
    assert "Which company" in contact.reply().text
    contact.send("MÜLLER antrieb")
    hits = contact.reply()
    assert "Müller Antriebstechnik GmbH" in hits.button_texts
    contact.tap(hits, text="Müller Antriebstechnik GmbH")
    asked = contact.reply()
    assert "<b>Müller Antriebstechnik GmbH</b> has no contact in the bot yet" in asked.text
    assert "You are now a contact" not in asked.text
    ask_name = contact.reply()
    assert "What is your name" in ask_name.text
    contact.tap(ask_name, data="ob:tgname")
    menu = contact.with_button("mn:need")
    assert "Thank you, John" in menu.text and "?start=" not in menu.text
    assert organization.invite_code not in menu.text
    member, joined, _ = _member_and_listings(bot, contact)
    assert joined is None and member.display_name == "John"


def test_welcome_switches_language_before_consent(emulator, bot):
    contact = Contact.new(emulator, new_user_id(), language="de")
    contact.send("/start")
    welcome = contact.with_button("ob:lang:en")
    contact.tap(welcome, data="ob:lang:en")
    english = contact.reply(edited=True)
    assert "What I store" in english.text
    contact.tap(english, data="ob:ok")
    assert "consent is saved" in contact.reply().text
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
    assert member.language == "en"


def _member_and_listings(bot, contact: Contact) -> tuple[Member, Organization, list[Listing]]:  # type: ignore[no-untyped-def]
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        organization = session.get(Organization, member.organization_id or -1)
        mine = list(session.exec(select(Listing).where(Listing.member_id == member.id)))
    return member, organization, mine


def _unseen_company_name() -> str:
    """A name that resembles no organization of this or an earlier run on the same database,
    so the search finds nothing (a random word: fewer than 75 % of the letters in common)."""
    word = "".join(random.choices(string.ascii_lowercase, k=8)).capitalize()
    return f"Quarzlicht {word} AG"


def test_brand_new_company_posts_its_first_need_in_eight_steps(emulator, bot):
    company = _unseen_company_name()
    contact = Contact.new(emulator, new_user_id(), language="de", first_name="Erika")
    contact.send("/start")  # 1
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")  # 2
    contact.send(f"{company}, 04356 Leipzig")  # 3
    clusters = contact.with_button("ob:cl:automotive")
    assert f"„{company}“ in 04356 Leipzig" in clusters.text
    contact.tap(clusters, data="ob:cl:automotive")  # 4
    contact.tap(contact.with_button("ob:sz:medium"), data="ob:sz:medium")  # 5
    contact.reply(contains="(04356 Leipzig) ist angelegt")  # no region question: we send none
    contact.tap(contact.with_button("ob:tgname"), data="ob:tgname")  # 6
    invitation = contact.with_button("ob:later")
    published = publish_first_listing(contact, invitation, NEED)  # 7, 8
    assert "Ihr Bedarf" in published.text and "veröffentlicht" in published.text
    assert contact.actions == 8, contact.log

    member, organization, [listing] = _member_and_listings(bot, contact)
    assert (organization.name, organization.region) == (company, "04356 Leipzig")
    assert (organization.size, member.display_name) == ("medium", "Erika")
    assert listing.text == NEED and listing.kind == "need" and listing.status == "active"


def test_invite_link_joins_the_company_and_an_offer_is_recognised_and_can_be_switched(
    emulator, bot
):
    organization = _seed_organization(bot, "Logistik Nord KG", slug="logistics")
    contact = Contact.new(emulator, new_user_id(), language="de")
    contact.send(f"/start {organization.invite_code}")  # 1
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")  # 2
    contact.reply()
    assert "Logistik Nord KG" in contact.reply().text
    contact.tap(contact.with_button("ob:tgname"), data="ob:tgname")  # 3
    contact.with_button("ob:later")
    contact.send("Wir bieten Lagerfläche und Kühllogistik in Magdeburg für Batteriemodule.")  # 4
    preview = contact.with_button("ls:k")
    assert "Vorschau – Angebot" in preview.text and "als <b>Angebot</b> verstanden" in preview.text
    assert "🔁 Als Bedarf melden" in preview.button_texts
    contact.tap(preview, data="ls:k")  # 5
    preview = contact.reply(edited=True)
    assert "Vorschau – Bedarf" in preview.text and "verstanden" not in preview.text
    contact.tap(preview, data="ls:k")  # 6
    preview = contact.reply(edited=True)
    assert "Vorschau – Angebot" in preview.text
    contact.tap(preview, data="ls:ok")  # 7
    assert "Ihr Angebot" in contact.reply(edited=True).text
    assert contact.actions <= 8, contact.log
    _, joined, [listing] = _member_and_listings(bot, contact)
    assert joined.id == organization.id and listing.kind == "offer"


def test_a_name_without_region_asks_for_it_and_a_legal_form_after_a_comma_stays_in_the_name(
    emulator, bot
):
    contact = Contact.new(emulator, new_user_id(), language="en")
    contact.send("/start")
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")
    contact.send("Regionlos Systems, Ltd")
    contact.tap(contact.with_button("ob:cl:it"), data="ob:cl:it")
    contact.tap(contact.with_button("ob:sz:micro"), data="ob:sz:micro")
    contact.reply(contains="Which region or postcode")
    contact.send("Dresden")
    contact.reply(contains="(Dresden) is registered")
    _, organization, mine = _member_and_listings(bot, contact)
    assert (organization.name, organization.region, mine) == (
        "Regionlos Systems, Ltd",
        "Dresden",
        [],
    )


@pytest.mark.usefixtures("bot")
def test_registered_member_gets_the_menu_on_start_and_unknown_input_leads_back_to_it(emulator):
    contact = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(contact, company="Menütest AG")
    contact.send("/need")
    contact.reply()
    contact.send("/start")  # leaves the half-written need behind
    assert "Willkommen zurück" in contact.with_button("mn:need").text
    contact.send("Wir suchen eigentlich gar nichts, das war ein Versehen.")
    assert "Hauptmenü" in contact.with_button("mn:need").text
    contact.send("/gibtsnicht")
    assert "Diesen Befehl kenne ich nicht" in contact.with_button("mn:need").text
    contact.send("hallo?")
    assert "nicht zugeordnet" in contact.with_button("mn:need").text
    contact.send("/cancel")
    assert "nichts, was ich abbrechen" in contact.with_button("mn:need").text
    contact.send("/help")  # the help text and the menu's buttons in one message
    assert "So funktioniert" in contact.with_button("mn:need").text


@pytest.mark.usefixtures("bot")
def test_group_chat_gets_one_answer_with_a_private_chat_button(emulator):
    group = emulator.user(new_user_id(), chat_id=-new_user_id(), language_code="de")
    group.send("/start")
    answer = group.wait_reply(timeout=10)
    assert "privaten Chat" in answer.text
    assert answer.buttons[0]["url"].endswith("?start=group")
    group.send("/need")
    group.send("hallo")
    group.expect_silence(1.0)


@pytest.mark.usefixtures("bot")
def test_commands_are_published_in_german_and_english(emulator):
    calls = emulator.calls("setMyCommands")
    languages = {c["params"].get("language_code") for c in calls}
    assert {"de", "en"} <= languages
    german = next(c for c in calls if c["params"].get("language_code") == "de")
    assert "Bedarf melden" in str(german["params"]["commands"])


def test_settings_change_language_digest_pause_name_and_email(emulator, bot):
    contact = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(contact, company="Einstellungs GmbH")
    contact.send("/settings")
    view = contact.with_button("st:dig:0")  # each button names the state it sets
    assert "Wöchentliche Übersicht: ja" in view.text and "E-Mail: keine" in view.text
    contact.tap(view, data="st:dig:0")
    stale = view
    view = contact.reply(edited=True)
    assert "Wöchentliche Übersicht: nein" in view.text
    contact.tap(stale, data="st:dig:0")  # the old button again: nothing flips back
    view = contact.reply(edited=True)
    assert "Wöchentliche Übersicht: nein" in view.text
    contact.tap(view, data="st:pause:1")
    view = contact.reply(edited=True)
    assert "Matching pausiert: ja" in view.text
    contact.tap(view, data="st:lang:en")
    view = contact.reply(edited=True)
    assert "Weekly digest: no" in view.text and "Matching paused: yes" in view.text

    contact.tap(view, data="st:mail")
    assert "e-mail address" in contact.reply().text
    contact.send("not-an-address")
    assert "does not look like an e-mail" in contact.reply().text
    contact.send("erika@einstellung.de")
    assert "Saved." in contact.with_button("mn:need").text
    contact.tap(view, data="st:name")
    contact.reply()
    contact.send("Erika Neu")
    contact.with_button("mn:need")

    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
    assert (member.language, member.digest_enabled, member.paused) == ("en", False, True)
    assert (member.email, member.display_name) == ("erika@einstellung.de", "Erika Neu")


def test_the_first_listing_after_sign_up_survives_a_hard_kill_in_the_preview(emulator, bot):
    """Runs last in this module: it restarts the bot."""
    organization = _seed_organization(bot, "Neustart Zelltechnik KG")
    contact = Contact.new(emulator, new_user_id(), language="en", first_name="Kim")
    contact.send(f"/start {organization.invite_code}")
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")
    contact.tap(contact.with_button("ob:tgname"), data="ob:tgname")
    contact.with_button("ob:later")
    contact.send("We offer climate chambers for battery cell testing near Leipzig.")
    preview = contact.with_button("ls:k")
    assert "Preview – Offer" in preview.text

    bot.kill()  # SIGKILL: the conversation state and the draft must already be stored
    bot.start(EMBEDDING_MODEL=NO_MATCHING)

    contact.tap(preview, data="ls:k")
    assert "Preview – Need" in contact.reply(edited=True).text
    contact.tap(preview, data="ls:ok")
    assert "Your need" in contact.reply(edited=True).text
    _, _, [listing] = _member_and_listings(bot, contact)
    assert listing.kind == "need" and listing.text.startswith("We offer climate chambers")
