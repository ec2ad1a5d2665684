"""Needs and offers of a contact: publish, edit, pause/resume/close, and what /matches shows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from kooperation.models import Listing, MatchStatus, utcnow
from kooperation.services import identity, listings
from kooperation.validation import InvalidInput
from tests import factories as seed

NEED = "Wir suchen einen Partner für Prüfstände für Batteriezellen."
OFFER = "We provide machine vision for quality inspection in production lines."


def test_create_listing_stores_text_tags_language_and_expiry(session: Session) -> None:
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    listing = listings.create_listing(
        session=session,
        member_id=erika.id,
        kind="offer",
        text=OFFER,
        tags=["ai", "nonsense", "production", "ai"],
        lifetime_days=30,
    )
    assert listing.organization_id == erika.organization_id and listing.member_id == erika.id
    assert listing.tags == ["production", "ai"]
    assert listing.language == "en" and listing.status == "active"
    assert listing.title == OFFER
    assert timedelta(days=29) < listing.expires_at - utcnow() <= timedelta(days=30)


def test_create_listing_refuses_bad_text_and_a_member_without_organization(
    session: Session,
) -> None:
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    with pytest.raises(InvalidInput):
        listings.create_listing(session=session, member_id=erika.id, kind="need", text="🔋" * 30)
    loner = identity.give_consent(
        session=session, telegram_user_id=2, chat_id=2, username="", language="de"
    )
    with pytest.raises(listings.NoOrganization):
        listings.create_listing(session=session, member_id=loner.id, kind="need", text=NEED)
    assert session.exec(select(Listing)).all() == []


def test_someone_elses_listing_cannot_be_changed(session: Session) -> None:
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    mallory = seed.company(
        session, "Andere GmbH", "it", telegram_user_id=2, contact_name="Kontakt 2"
    )
    listing = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    for action in ("pause", "close"):
        with pytest.raises(listings.ListingNotFound):
            listings.change_status(
                session=session, member_id=mallory.id, listing_id=listing.id, action=action
            )
    with pytest.raises(listings.ListingNotFound):
        listings.update_listing(
            session=session, member_id=mallory.id, listing_id=listing.id, text=OFFER
        )
    session.refresh(listing)
    assert listing.status == "active" and listing.text == NEED


def test_pause_resume_close_follow_the_state_and_a_stale_action_is_refused(
    session: Session,
) -> None:
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    listing = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    change = lambda action: listings.change_status(  # noqa: E731
        session=session, member_id=erika.id, listing_id=listing.id, action=action
    )
    assert change("pause").status == "paused"
    with pytest.raises(listings.ListingStateError):
        change("pause")
    assert change("resume").status == "active"
    assert change("close").status == "closed"
    with pytest.raises(listings.ListingStateError):
        change("resume")
    with pytest.raises(listings.ListingStateError):
        listings.update_listing(
            session=session, member_id=erika.id, listing_id=listing.id, text=NEED
        )
    assert listings.listings_of(session=session, member_id=erika.id) == []


def test_update_replaces_text_and_tags(session: Session) -> None:
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    listing = listings.create_listing(
        session=session, member_id=erika.id, kind="need", text=NEED, tags=["battery"]
    )
    updated = listings.update_listing(
        session=session,
        member_id=erika.id,
        listing_id=listing.id,
        text=NEED + " Auch Klimakammern.",
        tags=["research"],
    )
    assert updated.text.endswith("Klimakammern.") and updated.tags == ["research"]
    assert updated.updated_at >= listing.created_at


def test_matches_hide_the_rejection_reason_and_who_declined(session: Session) -> None:
    erika = seed.company(
        session, "Zellwerk", "automotive", telegram_user_id=1, contact_name="Kontakt 1"
    )
    john = seed.company(session, "Vision Ltd", "it", telegram_user_id=2, contact_name="Kontakt 2")
    need = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    offer = listings.create_listing(session=session, member_id=john.id, kind="offer", text=OFFER)
    match = seed.proposal(session, need, offer, 0.8)

    [proposed] = listings.matches_of(session=session, member_id=erika.id)
    assert proposed.state == "review" and proposed.other_organization == ""

    match.status = MatchStatus.APPROVED
    match.need_answer = "accepted"
    session.add(match)
    session.commit()
    [mine] = listings.matches_of(session=session, member_id=erika.id)
    [theirs] = listings.matches_of(session=session, member_id=john.id)
    assert mine.state == "accepted" and theirs.state == "waiting"
    assert mine.other_organization == "Vision Ltd" and theirs.other_organization == "Zellwerk"

    match.status = MatchStatus.REJECTED
    match.rejection_reason = "Geheimer Grund"
    session.add(match)
    session.commit()
    [closed] = listings.matches_of(session=session, member_id=erika.id)
    assert closed.state == "closed"
    assert "Geheimer Grund" not in repr(closed) and closed.other_organization == ""


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Wir suchen einen Partner für Prüfstände für Batteriezellen.", "need"),
        ("Wir suchen einen Anbieter für Kühllogistik.", "need"),  # "Anbieter" is no offer
        ("We are looking for a provider of battery recycling.", "need"),
        ("Wir benötigen Schulungen zur Cybersicherheit.", "need"),
        ("Wir bieten Schulungen zur Cybersicherheit an.", "offer"),
        ("We provide machine vision for quality inspection.", "offer"),
        ("Biete freie Lagerfläche in Magdeburg.", "offer"),
        ("Wir entwickeln KI-Lösungen für die Qualitätsprüfung.", "offer"),
        ("Lagerfläche in Magdeburg, ab sofort.", "need"),  # no cue: a need
        ("Wir bieten Fräskapazität und suchen Aufträge.", "need"),  # a tie: a need
    ],
)
def test_guess_kind_reads_need_or_offer_from_the_wording(text: str, kind: str) -> None:
    assert listings.guess_kind(text) == kind
