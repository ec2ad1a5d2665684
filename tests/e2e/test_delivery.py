"""The outbox sender inside the running bot, over the Bot API emulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kooperation.messages import WeeklyDigest, read
from kooperation.models import Listing, Match, Member, Outbox, OutboxStatus, utcnow
from kooperation.services.expiry import close_expired_listings
from kooperation.services.followups import queue_due_followups
from kooperation.services.outbox import queue_message
from tests import factories as seed

PAYLOAD = {
    "week": "2026-W48",
    "waiting": [
        {"match_id": 1, "own_title": "Routen <neu>", "other_title": "SaaS", "other_cluster": "IT"}
    ],
    "introductions": [],
    "opportunities": [],
}


def queue(session: Session, member: Member, key: str) -> Outbox:
    row = queue_message(
        session=session, member=member, dedupe_key=key, payload=read(WeeklyDigest, PAYLOAD)
    )
    session.commit()
    assert row is not None
    return row


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def fresh(engine: Engine, model: type, key: int) -> object:
    with Session(engine) as session:
        return session.get(model, key)


@pytest.mark.usefixtures("bot")
def test_a_message_queued_by_another_process_reaches_the_member(
    emulator, session: Session, engine: Engine
) -> None:
    member = seed.company(session, "Spedition Nord", "logistics")
    row = queue(session, member, "e2e:plain")
    reply = emulator.user(member.telegram_user_id).wait_reply(timeout=10)
    assert reply.parse_mode == "HTML"
    assert "Routen &lt;neu&gt;" in reply.text
    assert reply.button(data="dg:p")
    eventually(lambda: fresh(engine, Outbox, row.id).status == OutboxStatus.SENT)


@pytest.mark.usefixtures("bot")
def test_flood_control_from_telegram_is_waited_out(
    emulator, session: Session, engine: Engine
) -> None:
    member = seed.company(session, "Flut GmbH", "it")
    since = emulator.last_seq()
    emulator.inject_fault("sendMessage", 429, retry_after=1)
    row = queue(session, member, "e2e:429")
    reply = emulator.user(member.telegram_user_id).wait_reply(timeout=15)
    assert "Routen" in reply.text
    attempts = [
        c
        for c in emulator.calls("sendMessage", since=since)
        if int(c["params"]["chat_id"]) == member.chat_id
    ]
    assert len(attempts) == 2  # the refused one and the one after the wait
    assert attempts[1]["ts"] - attempts[0]["ts"] >= 1.0
    eventually(lambda: fresh(engine, Outbox, row.id).status == OutboxStatus.SENT)


@pytest.mark.usefixtures("bot")
def test_a_member_who_blocked_the_bot_becomes_inactive(
    emulator, session: Session, engine: Engine
) -> None:
    member = seed.company(session, "Blockiert AG", "automotive")
    emulator.inject_fault("sendMessage", 403, description="Forbidden: bot was blocked by the user")
    row = queue(session, member, "e2e:403")
    eventually(lambda: fresh(engine, Outbox, row.id).status == OutboxStatus.FAILED)
    assert fresh(engine, Member, member.id).active is False
    assert "blocked" in fresh(engine, Outbox, row.id).last_error
    emulator.user(member.telegram_user_id).expect_silence(0.5)


@pytest.mark.usefixtures("bot")
def test_both_sides_get_the_follow_up_and_an_answer_is_stored_for_the_stats(
    emulator, session: Session, engine: Engine, settings
) -> None:
    need_side = seed.company(session, "Spedition Nord", "logistics", language="de")
    offer_side = seed.company(session, "Code & Co", "it", language="en")
    match = seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="Routenplanung"),
        seed.listing(session, offer_side, "offer", title="Touren-SaaS"),
        status="introduced",
        introduced_at=utcnow() - timedelta(days=14, minutes=5),
    )
    assert queue_due_followups(session=session, settings=settings) == 2

    de = emulator.user(need_side.telegram_user_id, language_code="de")
    en = emulator.user(offer_side.telegram_user_id, language_code="en")
    asked_de = de.wait_reply(timeout=10, contains="Kooperation")
    asked_en = en.wait_reply(timeout=10, contains="cooperation")
    assert "Code &amp; Co" in asked_de.text
    assert asked_en.button_texts == [
        "Yes, we are cooperating",
        "We are in touch",
        "No contact came about",
    ]
    de.press(asked_de, text="Ja, wir kooperieren")
    assert "Danke" in de.wait_reply(timeout=10, edited=True).text
    en.press(asked_en, text="We are in touch")
    en.wait_reply(timeout=10, edited=True)
    stored = fresh(engine, Match, match.id)
    assert (stored.need_feedback, stored.offer_feedback) == ("cooperating", "in_touch")


@pytest.mark.usefixtures("bot")
def test_a_forged_follow_up_button_changes_nothing_and_says_so(
    emulator, session: Session, engine: Engine
) -> None:
    need_side = seed.company(session, "Spedition Süd", "logistics")
    offer_side = seed.company(session, "Daten AG", "it")
    stranger = seed.company(session, "Fremd GmbH", "automotive", language="en")
    match = seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status="introduced",
        introduced_at=utcnow() - timedelta(days=20),
    )
    since = emulator.last_seq()
    emulator.user(stranger.telegram_user_id, language_code="en").press_data(f"fu:{match.id}:c")
    answer = emulator.wait_call("answerCallbackQuery", timeout=10, since=since)
    assert "no longer valid" in answer["params"]["text"]
    stored = fresh(engine, Match, match.id)
    assert (stored.need_feedback, stored.offer_feedback) == (None, None)


@pytest.mark.usefixtures("bot")
def test_an_expired_listing_is_closed_and_one_tap_keeps_it_running(
    emulator, session: Session, engine: Engine, settings
) -> None:
    owner = seed.company(session, "Lager GmbH", "logistics", language="en")
    listing = seed.listing(
        session,
        owner,
        "offer",
        title="Lagerfläche <Leipzig>",
        expires_at=utcnow() - timedelta(minutes=1),
    )
    assert close_expired_listings(session=session, settings=settings) == 1
    user = emulator.user(owner.telegram_user_id, language_code="en")
    closed = user.wait_reply(timeout=10, contains="expired")
    assert "Lagerfläche &lt;Leipzig&gt;" in closed.text
    user.press(closed, text="Extend by 90 days")
    assert "active again" in user.wait_reply(timeout=10, edited=True).text
    stored = fresh(engine, Listing, listing.id)
    assert stored.status == "active"
    assert stored.expires_at > utcnow() + timedelta(days=89)
