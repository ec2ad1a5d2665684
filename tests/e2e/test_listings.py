"""Needs and offers over the Bot API emulator: post, tag, edit, pause/resume, close, /matches."""

from __future__ import annotations

from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import Listing, Match, Member
from tests import factories as seed
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import Contact, onboard_new_company, post_listing, running_bot

bot = running_bot()  # the real embedding model: the candidate counts are checked here

NEED = "Wir suchen einen Partner für Prüfstände für Batteriezellen in Sachsen."
OFFER = "We provide machine vision and AI for quality inspection of battery cells."
FITTING_NEED = (
    "Wir suchen KI-gestützte Bildverarbeitung für die automatische optische Qualitätsprüfung "
    "unserer Batteriezellen in der Serienfertigung."
)


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]))


def _listings_of(bot, contact: Contact) -> list[Listing]:  # type: ignore[no-untyped-def]
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        return list(session.exec(select(Listing).where(Listing.member_id == member.id)))


def _after_publish(contact: Contact) -> str:
    """The message that follows the immediate confirmation: the matching result."""
    return contact.reply(timeout=60).text or ""


def test_posting_a_need_with_tags_shows_a_preview_and_reports_the_matching_result(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    menu = onboard_new_company(erika, company="Zellprüf GmbH", cluster="automotive")
    erika.tap(menu, data="mn:need")
    assert "Neuer Bedarf" in erika.reply().text
    erika.send(NEED)
    preview = erika.with_button("ls:ok")
    assert "Vorschau – Bedarf" in preview.text and NEED in preview.text
    assert "Kategorien:</b> keine" in preview.text
    erika.tap(preview, data="ls:t:battery")
    preview = erika.reply(edited=True)
    assert "Batterie &amp; E-Mobilität" in preview.text
    assert "✅ Batterie & E-Mobilität" in preview.button_texts
    erika.tap(preview, data="ls:t:research")
    erika.tap(erika.reply(edited=True), data="ls:ok")
    published = erika.reply(edited=True)
    assert "Ihr Bedarf" in published.text and "veröffentlicht" in published.text
    result = _after_publish(erika)
    assert any(
        phrase in result
        for phrase in ("mögliche Partner gefunden", "Gerade passt noch nichts", "nächtliche Runde")
    ), result
    [listing] = _listings_of(bot, erika)
    assert listing.kind == "need" and listing.tags == ["battery", "research"]
    assert listing.status == "active" and listing.language == "de"


def test_an_offer_in_english_is_posted_and_a_fitting_need_is_counted(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    post_listing(
        erika,
        onboard_new_company(erika, company="Akku Ost GmbH", cluster="automotive"),
        "need",
        FITTING_NEED,
        ("battery", "ai"),
    )
    _after_publish(erika)
    john = Contact.new(emulator, new_user_id(), language="en", first_name="John")
    menu = onboard_new_company(john, company="Vision Systems Ltd", cluster="it", name="John Smith")
    published = post_listing(john, menu, "offer", OFFER, ("ai", "battery"))
    assert "Your offer" in published.text
    result = _after_publish(john)
    with _session(bot) as session:
        [offer] = _listings_of(bot, john)
        proposed = session.exec(select(Match).where(Match.offer_id == offer.id)).all()
    assert "nightly round" not in result, "incremental matching failed; see the bot log"
    if len(proposed) == 1:  # alone in the pool, the fitting German need is proposed
        assert "I found 1 possible partner." in result
    elif proposed:
        assert f"I found {len(proposed)} possible partners." in result
    else:  # the score depends on the rest of the pool (other modules' listings)
        assert "Nothing fits yet" in result
    assert offer.language == "en" and offer.tags == ["battery", "ai"]


def test_edit_pause_resume_and_close_from_my_listings(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    post_listing(erika, onboard_new_company(erika, company="Editier AG"), "need", NEED)
    _after_publish(erika)
    [listing] = _listings_of(bot, erika)

    erika.send("/mylistings")  # the title rides on the first listing's message
    item = erika.reply()
    assert "Ihre Einträge (1)" in item.text and NEED[:40] in item.text
    assert f"ml:p:{listing.id}" in [b["callback_data"] for b in item.buttons]
    erika.tap(item, data=f"ml:p:{listing.id}")
    item = erika.reply(edited=True)
    assert "pausiert" in item.text and f"ml:r:{listing.id}" in [
        b["callback_data"] for b in item.buttons
    ]
    assert _listings_of(bot, erika)[0].status == "paused"
    erika.tap(item, data=f"ml:r:{listing.id}")
    item = erika.reply(edited=True)
    assert "aktiv" in item.text

    erika.tap(item, data=f"ml:e:{listing.id}")
    assert "Schicken Sie den neuen Text" in erika.reply().text
    erika.send(NEED + " Auch Klimakammern.")
    erika.tap(erika.with_button("ls:ok"), data="ls:ok")
    assert "aktualisiert" in erika.reply(edited=True).text
    _after_publish(erika)
    assert _listings_of(bot, erika)[0].text.endswith("Klimakammern.")

    erika.tap(item, data=f"ml:c:{listing.id}")
    assert "geschlossen" in erika.reply(edited=True).text
    assert _listings_of(bot, erika)[0].status == "closed"
    erika.tap(item, data=f"ml:p:{listing.id}")  # the old message's button is stale now
    assert "gilt nicht mehr" in erika.reply().text
    assert _listings_of(bot, erika)[0].status == "closed"


def test_a_forged_button_for_someone_elses_listing_changes_nothing_and_says_so(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    post_listing(erika, onboard_new_company(erika, company="Opfer GmbH"), "need", NEED)
    _after_publish(erika)
    [listing] = _listings_of(bot, erika)
    mallory = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(mallory, company="Angreifer GmbH")
    since = emulator.last_seq()
    for data in (f"ml:c:{listing.id}", f"ml:p:{listing.id}", f"ml:e:{listing.id}"):
        mallory.user.press_data(data)
        assert "gehört nicht Ihnen" in mallory.reply().text
    alerts = emulator.calls("answerCallbackQuery", since=since)
    assert alerts and all(c["params"].get("show_alert") for c in alerts)
    assert _listings_of(bot, erika)[0].status == "active"
    mallory.user.press_data("ls:ok")  # a confirm button outside any draft
    assert "gilt nicht mehr" in mallory.reply().text


def test_cancel_in_the_preview_saves_nothing(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    menu = onboard_new_company(erika, company="Verwerfer KG")
    erika.tap(menu, data="mn:offer")
    erika.reply()
    erika.send("Wir bieten Schulungen zur Cybersicherheit für Fertigungsbetriebe.")
    erika.tap(erika.with_button("ls:no"), data="ls:no")
    menu = erika.reply(edited=True)  # the preview becomes the menu, no second message
    assert "nichts gespeichert" in menu.text and "Hauptmenü" in menu.text
    assert "mn:need" in [b["callback_data"] for b in menu.buttons]
    erika.send("/need")
    assert "Neuer Bedarf" in erika.reply().text
    erika.send("/cancel")
    assert "Abgebrochen" in erika.with_button("mn:need").text
    assert _listings_of(bot, erika) == []


def test_my_matches_lists_proposals_without_the_managers_reason(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    post_listing(erika, onboard_new_company(erika, company="Treffer GmbH"), "need", NEED)
    _after_publish(erika)
    erika.send("/matches")
    first = erika.reply().text
    [need] = _listings_of(bot, erika)
    john = Contact.new(emulator, new_user_id(), language="en")
    post_listing(
        john, onboard_new_company(john, company="Partner Ltd", name="John Smith"), "offer", OFFER
    )
    _after_publish(john)
    [offer] = _listings_of(bot, john)
    with _session(bot) as session:
        match = session.exec(
            select(Match).where(Match.need_id == need.id, Match.offer_id == offer.id)
        ).first() or seed.proposal(session, need, offer, 0.9)
        match.status = "rejected"
        match.rejection_reason = "Interner Grund XYZ"
        session.add(match)
        session.commit()
    erika.send("/matches")
    text = erika.reply().text
    assert "Noch keine Vorschläge" in first or "Ihre Vorschläge" in first
    assert "Ihre Vorschläge" in text and "nicht weiterverfolgt" in text
    assert "Interner Grund XYZ" not in text and "Partner Ltd" not in text
