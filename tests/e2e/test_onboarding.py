"""Onboarding over the Bot API emulator: German and English, deep links, the 8-step promise."""

from __future__ import annotations

from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import Cluster, Listing, Member, Organization
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import NO_MATCHING, Contact, onboard_new_company, post_listing, running_bot

bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)

NEED = "Wir suchen einen Partner für Prüfstände für Batteriezellen in Sachsen."


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]))


def _seed_organization(bot, name: str, slug: str = "automotive") -> Organization:  # type: ignore[no-untyped-def]
    with _session(bot) as session:
        cluster = session.exec(select(Cluster).where(Cluster.slug == slug)).one()
        organization = Organization(
            name=name, cluster_id=cluster.id, invite_code=f"inv{new_user_id()}"
        )
        session.add(organization)
        session.commit()
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
    menu = contact.with_button("mn:need")
    assert "Erika &lt;b&gt;Muster&lt;/b&gt;" in menu.text
    assert "?start=" in menu.text

    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        organization = session.get(Organization, member.organization_id)
    assert member.consent_at is not None and member.language == "de"
    assert organization.name == "Zellwerk Test <GmbH>" and organization.region == "04109"
    assert organization.size == "small"


def test_english_onboarding_joins_an_existing_company_found_by_search(emulator, bot):
    _seed_organization(bot, "Müller Antriebstechnik GmbH")
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
    assert "You are now a contact for <b>Müller Antriebstechnik GmbH</b>" in contact.reply().text
    ask_name = contact.reply()
    assert "What is your name" in ask_name.text
    contact.tap(ask_name, data="ob:tgname")
    menu = contact.with_button("mn:need")
    assert "All set, John" in menu.text
    assert "Main menu" in menu.text


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


def test_invite_link_joins_the_company_and_a_need_is_posted_within_eight_steps(emulator, bot):
    organization = _seed_organization(bot, "Logistik Nord KG", slug="logistics")
    contact = Contact.new(emulator, new_user_id(), language="de")
    contact.send(f"/start {organization.invite_code}")
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")
    contact.reply()
    assert "Logistik Nord KG" in contact.reply().text
    contact.tap(contact.with_button("ob:tgname"), data="ob:tgname")
    menu = contact.with_button("mn:need")
    published = post_listing(contact, menu, "need", NEED)
    assert "veröffentlicht" in published.text
    assert contact.actions <= 8, contact.log


def test_new_contact_searching_their_company_posts_a_need_in_at_most_eight_steps(emulator, bot):
    _seed_organization(bot, "Batteriewerk Ost GmbH")
    contact = Contact.new(emulator, new_user_id(), language="de")
    contact.send("/start")  # 1
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")  # 2
    contact.send("Batteriewerk")  # 3
    hits = contact.with_button("ob:new")
    contact.tap(hits, text="Batteriewerk Ost GmbH")  # 4
    contact.send("Erika Muster")  # 5
    menu = contact.with_button("mn:need")
    published = post_listing(contact, menu, "need", NEED)  # 6, 7, 8
    assert "Ihr Bedarf" in published.text
    assert contact.actions == 8, contact.log
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        listing = session.exec(select(Listing).where(Listing.member_id == member.id)).one()
    assert listing.text == NEED and listing.kind == "need" and listing.status == "active"


def test_registered_member_gets_the_menu_on_start_and_unknown_input_leads_back_to_it(emulator, bot):
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
    contact.send("/help")
    assert "So funktioniert" in contact.reply().text


def test_group_chat_gets_one_answer_with_a_private_chat_button(emulator, bot):
    group = emulator.user(new_user_id(), chat_id=-new_user_id(), language_code="de")
    group.send("/start")
    answer = group.wait_reply(timeout=10)
    assert "privaten Chat" in answer.text
    assert answer.buttons[0]["url"].endswith("?start=group")
    group.send("/need")
    group.send("hallo")
    group.expect_silence(1.0)


def test_commands_are_published_in_german_and_english(emulator, bot):
    calls = emulator.calls("setMyCommands")
    languages = {c["params"].get("language_code") for c in calls}
    assert {"de", "en"} <= languages
    german = next(c for c in calls if c["params"].get("language_code") == "de")
    assert "Bedarf melden" in str(german["params"]["commands"])


def test_settings_change_language_digest_pause_name_and_email(emulator, bot):
    contact = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(contact, company="Einstellungs GmbH")
    contact.send("/settings")
    view = contact.with_button("st:dig")
    assert "Wöchentliche Übersicht: ja" in view.text and "E-Mail: keine" in view.text
    contact.tap(view, data="st:dig")
    view = contact.reply(edited=True)
    assert "Wöchentliche Übersicht: nein" in view.text
    contact.tap(view, data="st:pause")
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
