"""Export everything about a contact; delete it while anonymous counts survive."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from kooperation.messages import WeeklyDigest
from kooperation.models import (
    AuditLog,
    BotState,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    Outbox,
    StatCounter,
)
from kooperation.services import identity, listings, members, privacy
from kooperation.services.outbox import queue_message
from tests import factories as seed
from tests.services.test_listings import NEED, OFFER


def test_export_holds_everything_about_me_and_nothing_about_the_other_side(
    session: Session,
) -> None:
    erika = seed.company(
        session, "Zellwerk", "automotive", telegram_user_id=1, contact_name="Kontakt 1"
    )
    members.set_email(session=session, member_id=erika.id, email="erika@zellwerk.de")
    john = seed.company(session, "Vision Ltd", "it", telegram_user_id=2, contact_name="Kontakt 2")
    members.set_email(session=session, member_id=john.id, email="john@vision.example")
    need = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    offer = listings.create_listing(session=session, member_id=john.id, kind="offer", text=OFFER)
    seed.proposal(session, need, offer, 0.7, rejection_reason="intern")
    session.add(BotState(namespace="user_data", key="1", data={"draft": {"text": "x"}}))
    session.add(BotState(namespace="user_data", key="11", data={"other": True}))
    session.commit()

    data = privacy.export_member_data(
        session=session, member=identity.require_member(session=session, telegram_user_id=1)
    )
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
        privacy.export_member_data(
            session=session, member=identity.require_member(session=session, telegram_user_id=404)
        )


def test_delete_removes_member_listings_matches_and_messages_but_keeps_counts(
    session: Session,
) -> None:
    erika = seed.company(
        session, "Zellwerk", "automotive", telegram_user_id=1, contact_name="Kontakt 1"
    )
    colleague_org = session.get(Organization, erika.organization_id)
    colleague_org.contact_name = erika.display_name
    session.add(colleague_org)
    john = seed.company(session, "Vision Ltd", "it", telegram_user_id=2, contact_name="Kontakt 2")
    need = listings.create_listing(session=session, member_id=erika.id, kind="need", text=NEED)
    listings.create_listing(session=session, member_id=erika.id, kind="offer", text=OFFER)
    offer = listings.create_listing(session=session, member_id=john.id, kind="offer", text=OFFER)
    seed.proposal(session, need, offer, 0.7, status=MatchStatus.INTRODUCED)
    queue_message(session=session, member=erika, payload=WeeklyDigest(), dedupe_key="d:1")
    session.add(BotState(namespace="conv:listing", key="1,1", data=1))
    session.add(BotState(namespace="user_data", key="2", data={"keep": True}))
    session.commit()

    result = privacy.delete_member_data(
        session=session, member=identity.require_member(session=session, telegram_user_id=1)
    )
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
        privacy.delete_member_data(
            session=session, member=identity.require_member(session=session, telegram_user_id=1)
        )


def test_delete_blanks_the_member_out_of_other_peoples_messages_queued_and_sent(
    session: Session,
) -> None:
    from kooperation.config import load_settings
    from kooperation.services import introductions, outbox, review

    settings = load_settings(_env_file=None)
    anna, ben, match = seed.two_sided(session, 3000)
    manager = seed.manager(session, 3100, "automotive", "logistics", name="Maria")
    review.approve_match(session=session, settings=settings, member=manager, match_id=match.id)
    for member in (anna, ben):
        introductions.answer_introduction(
            session=session, member=member, match_id=match.id, accept=True
        )
    for row in session.exec(select(Outbox)).all():  # what the sender did: all went out
        outbox.mark_sent(session=session, message_id=row.id)
    # a second proposal for Anna's need, approved but not yet sent to Ben's colleague
    other = seed.organization(session, "Frost GmbH", "logistics")
    carl = seed.contact(session, 3200, other, "Carl Frost")
    second = seed.listing(session, other, "offer", "Kühltransporte für Zellen.", carl)
    [anna_need] = session.exec(select(Listing).where(Listing.member_id == anna.id)).all()
    pending = seed.proposal(session, anna_need, second)
    review.approve_match(session=session, settings=settings, member=manager, match_id=pending.id)
    from kooperation.services import audit

    audit.record_refusal(  # Anna pressed a manager's button: the log names her
        session=session,
        actor=anna,
        action="review.button",
        target=f"tg:{anna.telegram_user_id} rv:a:{match.id}",
        reason="not a manager",
    )
    personal = ["Anna Berg", "anna_berg", "anna@kw.test", anna_need.text, anna_need.title]
    stored = json.dumps([r.payload for r in session.exec(select(Outbox)).all()], ensure_ascii=False)
    assert all(value in stored for value in personal)  # the copies this test is about

    privacy.delete_member_data(session=session, member=anna)
    session.expire_all()

    rows = session.exec(select(Outbox)).all()
    left = json.dumps([r.payload for r in rows], ensure_ascii=False)
    assert not [value for value in personal if value in left]
    # Ben keeps his (blanked) messages; the queued offer to Carl about the deleted need is gone
    assert sorted((r.member_id, r.kind) for r in rows) == [
        (ben.id, "intro_contact"),
        (ben.id, "intro_offer"),
    ]
    logged = session.exec(select(AuditLog)).all()
    assert logged and all(e.actor_telegram_id != anna.telegram_user_id for e in logged)
    assert str(anna.telegram_user_id) not in json.dumps([(e.target, e.detail) for e in logged])
    contact_row = next(r for r in rows if r.kind == "intro_contact")
    assert contact_row.payload["name"] == privacy.REDACTED
    assert contact_row.payload["organization"] == "Karosseriewerk 3000"  # the firm stays


def test_sqlite_files_are_written_with_secure_delete(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("a SQLite pragma")
    assert session.connection().exec_driver_sql("PRAGMA secure_delete").scalar() == 1
