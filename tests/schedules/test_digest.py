"""Composing the weekly digest: what each member hears about, and who hears nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.outbox_render import render, render_message
from kooperation.models import Answer, MatchStatus, Member, Outbox, utcnow
from kooperation.services.digest import (
    Opportunity,
    compose_digest,
    iso_week,
    run_digest,
    set_digest,
)
from tests import factories as seed

BERLIN = ZoneInfo("Europe/Berlin")


def digest_rows(session: Session) -> list[Outbox]:
    session.expire_all()
    return list(session.exec(select(Outbox).where(Outbox.kind == "digest")).all())


def test_the_iso_week_is_taken_in_berlin_time() -> None:
    # Sunday 23:30 UTC is already Monday in Berlin: the new week.
    assert iso_week(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), BERLIN) == "2026-W49"
    assert iso_week(datetime(2026, 11, 29, 22, 30, tzinfo=UTC), BERLIN) == "2026-W48"


def test_an_approved_match_waiting_for_the_members_answer_is_in_their_digest(
    session: Session,
) -> None:
    need_side = seed.company(session, "Spedition Nord", "logistics")
    offer_side = seed.company(session, "Code & Co", "it")
    need = seed.listing(session, need_side, "need", title="Routenplanung <digital>")
    offer = seed.listing(session, offer_side, "offer", title="Tourenoptimierung als Service")
    seed.proposal(session, need, offer, status=MatchStatus.APPROVED, need_answer=Answer.ACCEPTED)

    run = run_digest(session=session, tz=BERLIN)

    assert run.queued == 2
    by_member = {row.member_id: row for row in digest_rows(session)}
    assert by_member[need_side.id].payload["waiting"] == []  # answered already
    row = by_member[offer_side.id]
    assert row.dedupe_key == f"digest:{offer_side.id}:{run.week}"
    assert row.payload["waiting"][0]["other_title"] == "Routenplanung <digital>"
    text = render("digest", "de", row.payload).text
    assert "Routenplanung &lt;digital&gt;" in text  # user text is escaped
    assert "dg:p" in [
        data for line in render("digest", "en", row.payload).buttons for _, data in line
    ]


def test_the_need_side_that_accepted_hears_it_is_waiting_for_the_other_side(
    session: Session,
) -> None:
    need_side = seed.company(session, "Spedition Nord", "logistics")
    offer_side = seed.company(session, "Code & Co", "it")
    need = seed.listing(session, need_side, "need", title="Routenplanung")
    offer = seed.listing(session, offer_side, "offer", title="Tourenoptimierung")
    match = seed.proposal(
        session,
        need,
        offer,
        need_answer=Answer.ACCEPTED,
        need_answered_at=utcnow() - timedelta(days=1),
        status=MatchStatus.APPROVED,
    )
    digest = compose_digest(
        session=session, member=need_side, week="w", since=utcnow() - timedelta(days=7)
    )
    assert digest.waiting == []
    assert [(i["match_id"], i["state"]) for i in digest.introductions] == [
        (match.id, "waiting_other")
    ]


def test_introductions_show_their_state_and_a_decline_stays_neutral(
    session: Session,
) -> None:
    me = seed.company(session, "Spedition Nord", "logistics")
    partner = seed.company(session, "Code & Co", "it")
    other = seed.company(session, "Daten GmbH", "it")
    need = seed.listing(session, me, "need", title="Routenplanung")
    need2 = seed.listing(session, me, "need", title="Lager-IT")
    seed.proposal(
        session,
        need,
        seed.listing(session, partner, "offer", title="Touren-SaaS"),
        status=MatchStatus.INTRODUCED,
        introduced_at=utcnow() - timedelta(days=2),
    )
    seed.proposal(
        session,
        need2,
        seed.listing(session, other, "offer", title="WMS"),
        status=MatchStatus.DECLINED,
    )
    old = seed.listing(session, other, "offer", title="Altes Angebot")
    seed.proposal(
        session,
        need,
        old,
        status=MatchStatus.INTRODUCED,
        introduced_at=utcnow() - timedelta(days=30),
        decided_at=utcnow() - timedelta(days=31),
    )

    digest = compose_digest(
        session=session, member=me, week="w", since=utcnow() - timedelta(days=7)
    )

    states = {(i["other_title"], i["state"]) for i in digest.introductions}
    assert states == {("Touren-SaaS", "introduced"), ("WMS", "closed")}  # the old one is not new
    introduced = next(i for i in digest.introductions if i["state"] == "introduced")
    assert introduced["other_org"] == "Code & Co"
    closed = next(i for i in digest.introductions if i["state"] == "closed")
    assert "other_org" not in closed  # nobody learns who declined
    for language in ("de", "en"):
        text = render_message(language, digest.payload()).text
        assert "Code &amp; Co" in text and "Daten GmbH" not in text


def test_up_to_five_new_opportunities_from_elsewhere_fit_the_members_listings(
    session: Session,
) -> None:
    me = seed.company(session, "Spedition Nord", "logistics")
    mine = seed.listing(session, me, "need", title="Routenplanung")
    colleague_listing = seed.listing(session, me, "offer", title="Eigenes Angebot")
    others = [
        seed.listing(session, seed.company(session, f"IT {i}", "it"), "offer", title=f"Angebot {i}")
        for i in range(7)
    ]
    closed = seed.listing(
        session,
        seed.company(session, "Zu GmbH", "it"),
        "offer",
        title="Geschlossen",
        status="closed",
    )
    asked: list[tuple[int, list[int]]] = []

    def finder(member: Member, listing_ids: list[int], _since: datetime) -> list[Opportunity]:
        asked.append((member.id or 0, listing_ids))
        found = [
            Opportunity(mine.id, closed.id, 0.99),
            Opportunity(mine.id, colleague_listing.id, 0.98),
        ]
        found += [
            Opportunity(mine.id, o.id, 0.9 - i / 100, "grund", "reason")
            for i, o in enumerate(others)
        ]
        return found

    digest = compose_digest(
        session=session,
        member=me,
        week="w",
        since=utcnow() - timedelta(days=7),
        find_opportunities=finder,
    )

    assert asked == [(me.id, [mine.id, colleague_listing.id])]
    assert [o["title"] for o in digest.opportunities] == [f"Angebot {i}" for i in range(5)]
    assert "reason" in render_message("en", digest.payload()).text
    assert "grund" in render_message("de", digest.payload()).text


def test_nothing_to_say_means_no_digest(
    session: Session,
) -> None:
    quiet = seed.company(session, "Stille GmbH", "it")
    seed.listing(session, quiet, "offer", title="Ein Angebot ohne Treffer")
    run = run_digest(session=session, tz=BERLIN, find_opportunities=lambda *_: [])
    assert (run.members, run.queued, run.empty) == (1, 0, 1)
    assert digest_rows(session) == []


def test_members_with_digest_off_paused_inactive_or_without_chat_get_nothing(
    session: Session,
) -> None:
    partner = seed.company(session, "Partner", "it")
    offer = seed.listing(session, partner, "offer", title="Angebot", status="paused")
    for name, fields in (
        ("Aus", {"digest_enabled": False}),
        ("Pausiert", {"paused": True}),
        ("Blockiert", {"active": False}),
    ):
        member = seed.company(session, name, "logistics", **fields)
        seed.proposal(
            session,
            seed.listing(session, member, "need", title=f"Bedarf {name}"),
            offer,
            status=MatchStatus.APPROVED,
        )
    no_chat = seed.company(session, "Ohne Chat", "logistics", chat=False)
    seed.proposal(
        session,
        seed.listing(session, no_chat, "need", title="Bedarf ohne Chat"),
        offer,
        status=MatchStatus.APPROVED,
    )
    reachable = seed.company(session, "Erreichbar", "logistics")
    seed.proposal(
        session,
        seed.listing(session, reachable, "need", title="Bedarf"),
        offer,
        status=MatchStatus.APPROVED,
    )

    run_digest(session=session, tz=BERLIN)

    assert {row.member_id for row in digest_rows(session)} == {partner.id, reachable.id}


def test_running_the_digest_twice_in_a_week_queues_each_member_once(
    session: Session,
) -> None:
    need_side = seed.company(session, "Spedition Nord", "logistics")
    offer_side = seed.company(session, "Code & Co", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status=MatchStatus.APPROVED,
    )
    monday = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    first = run_digest(session=session, tz=BERLIN, now=monday)
    again = run_digest(session=session, tz=BERLIN, now=monday + timedelta(hours=5))
    next_week = run_digest(session=session, tz=BERLIN, now=monday + timedelta(days=7))
    assert (first.queued, again.queued, again.already_queued) == (2, 0, 2)
    assert next_week.queued == 2  # still waiting for answers: reminded again next week
    keys = sorted(row.dedupe_key for row in digest_rows(session))
    assert keys == sorted(
        f"digest:{m.id}:{w}" for m in (need_side, offer_side) for w in ("2026-W49", "2026-W50")
    )


def test_the_dry_run_composes_but_queues_nothing(
    session: Session,
) -> None:
    need_side = seed.company(session, "Spedition Nord", "logistics")
    offer_side = seed.company(session, "Code & Co", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status=MatchStatus.APPROVED,
    )
    run = run_digest(session=session, tz=BERLIN, dry_run=True, member_id=offer_side.id)
    assert [d.member_id for d in run.digests] == [offer_side.id]
    assert digest_rows(session) == []


def test_pausing_the_digest_is_idempotent(
    session: Session,
) -> None:
    member = seed.company(session, "Firma", "it")
    for _ in range(2):
        assert set_digest(session=session, member=member, enabled=False).digest_enabled is False
    assert set_digest(session=session, member=member, enabled=True).digest_enabled
