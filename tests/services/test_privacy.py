"""Export everything about a contact; delete it while anonymous counts survive."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from kooperation.models import (
    BotState,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    Outbox,
    StatCounter,
)
from kooperation.services import listings, members, privacy
from kooperation.services.outbox import queue_message
from tests.services.test_listings import NEED, OFFER, contact


def test_export_holds_everything_about_me_and_nothing_about_the_other_side(
    session: Session,
) -> None:
    erika = contact(session, 1, "Zellwerk", slug="automotive")
    members.set_email(session=session, member_id=erika.id, email="erika@zellwerk.de")
    john = contact(session, 2, "Vision Ltd")
    members.set_email(session=session, member_id=john.id, email="john@vision.example")
    need = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    offer = listings.create_listing(session=session, member_id=john.id, kind="offer", text=OFFER)
    session.add(Match(need_id=need.id, offer_id=offer.id, score=0.7, rejection_reason="intern"))
    session.add(BotState(namespace="user_data", key="1", data={"draft": {"text": "x"}}))
    session.add(BotState(namespace="user_data", key="11", data={"other": True}))
    session.commit()

    data = privacy.export_member_data(session=session, telegram_user_id=1)
    document = json.dumps(data, ensure_ascii=False, default=str)
    assert data["member"]["email"] == "erika@zellwerk.de"
    assert data["organization"]["name"] == "Zellwerk"
    assert [x["text"] for x in data["listings"]] == [NEED]
    assert data["matches"][0]["my_listing_id"] == need.id
    assert data["bot_state"] == [
        {"namespace": "user_data", "key": "1", "data": {"draft": {"text": "x"}}}
    ]
    for secret in ("john@vision.example", OFFER, "intern", "Vision Ltd"):
        assert secret not in document


def test_export_of_an_unknown_user_says_not_registered(session: Session) -> None:
    with pytest.raises(members.NotRegistered):
        privacy.export_member_data(session=session, telegram_user_id=404)


def test_delete_removes_member_listings_matches_and_messages_but_keeps_counts(
    session: Session,
) -> None:
    erika = contact(session, 1, "Zellwerk", slug="automotive")
    colleague_org = session.get(Organization, erika.organization_id)
    colleague_org.contact_name = erika.display_name
    session.add(colleague_org)
    john = contact(session, 2, "Vision Ltd")
    need = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    listings.create_listing(session=session, member_id=erika.id, kind="offer", text=OFFER)
    offer = listings.create_listing(session=session, member_id=john.id, kind="offer", text=OFFER)
    session.add(Match(need_id=need.id, offer_id=offer.id, score=0.7, status=MatchStatus.INTRODUCED))
    queue_message(session=session, member=erika, kind="digest", dedupe_key="d:1")
    session.add(BotState(namespace="conv:listing", key="1,1", data=1))
    session.add(BotState(namespace="user_data", key="2", data={"keep": True}))
    session.commit()

    result = privacy.delete_member_data(session=session, telegram_user_id=1)
    session.expire_all()

    assert (result.listings, result.matches) == (2, 1)
    assert session.exec(select(Member).where(Member.telegram_user_id == 1)).first() is None
    assert [x.member_id for x in session.exec(select(Listing)).all()] == [john.id]
    assert session.exec(select(Match)).all() == []
    assert session.exec(select(Outbox)).all() == []
    assert [(s.namespace, s.key) for s in session.exec(select(BotState)).all()] == [
        ("user_data", "2")
    ]
    organization = session.get(Organization, erika.organization_id)
    assert organization is not None and organization.contact_name == ""
    counts = {c.name: c.value for c in session.exec(select(StatCounter)).all()}
    assert (
        counts
        == privacy.deletion_counts(session=session)
        == {
            "members_deleted": 1,
            "needs_deleted": 1,
            "offers_deleted": 1,
            "matches_deleted": 1,
            "introductions_deleted": 1,
        }
    )
    privacy_again = pytest.raises(members.NotRegistered)
    with privacy_again:
        privacy.delete_member_data(session=session, telegram_user_id=1)
