"""The double opt-in after approval: contacts only after both accepted, declines stay neutral."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.models import Listing, Match, MatchStatus, Member, Outbox, utcnow
from kooperation.services import introductions, review
from tests import factories as seed


def approved(session: Session, settings: Settings):
    need_contact, offer_contact, match = seed.two_sided(session, 1000)
    manager = seed.manager(session, 50, "logistics", name="Maria")
    review.approve_match(session=session, settings=settings, member=manager, match_id=match.id)
    return need_contact, offer_contact, manager, match


def kinds(session: Session, member_id: int) -> list[str]:
    rows = session.exec(select(Outbox).where(Outbox.member_id == member_id).order_by(Outbox.id))
    return [r.kind for r in rows]


def test_both_accept_then_each_gets_the_others_contact_and_the_manager_is_told(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, manager, match = approved(session, settings)
    first = introductions.answer_introduction(
        session=session, member=need_contact, match_id=match.id, accept=True
    )
    assert first.status == MatchStatus.APPROVED
    assert kinds(session, need_contact.id) == ["intro_offer"]  # no contact before both said yes
    second = introductions.answer_introduction(
        session=session, member=offer_contact, match_id=match.id, accept=True
    )
    assert second.status == MatchStatus.INTRODUCED
    session.refresh(match)
    assert match.introduced_at is not None
    to_need = session.exec(
        select(Outbox).where(Outbox.kind == "intro_contact", Outbox.member_id == need_contact.id)
    ).one()
    to_offer = session.exec(
        select(Outbox).where(Outbox.kind == "intro_contact", Outbox.member_id == offer_contact.id)
    ).one()
    assert (to_need.payload["name"], to_need.payload["email"]) == ("Ben Kurz", "info@kl.test")
    assert to_need.payload["username"] == ""
    assert (to_offer.payload["username"], to_offer.payload["email"]) == (
        "anna_berg",
        "anna@kw.test",
    )
    result = session.exec(select(Outbox).where(Outbox.member_id == manager.id)).one()
    assert (result.kind, result.payload["outcome"]) == ("intro_result_manager", "introduced")


def test_a_decline_is_not_revealed_as_such_to_the_other_side(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, manager, match = approved(session, settings)
    introductions.answer_introduction(
        session=session, member=need_contact, match_id=match.id, accept=True
    )
    result = introductions.answer_introduction(
        session=session, member=offer_contact, match_id=match.id, accept=False
    )
    assert result.status == MatchStatus.DECLINED
    closed = session.exec(select(Outbox).where(Outbox.kind == "intro_closed")).one()
    assert closed.member_id == need_contact.id
    assert "declin" not in repr(closed.payload) and "Ben" not in repr(closed.payload)
    assert kinds(session, need_contact.id) == ["intro_offer", "intro_closed"]
    told = session.exec(select(Outbox).where(Outbox.member_id == manager.id)).one()
    assert (told.payload["outcome"], told.payload["declined_by"]) == (
        "declined",
        "Kühllogistik 1000",
    )
    assert session.exec(select(Outbox).where(Outbox.kind == "intro_contact")).first() is None


def test_a_member_of_neither_side_cannot_answer(session: Session, settings: Settings) -> None:
    _, _, _, match = approved(session, settings)
    stranger_org = seed.organization(session, "Fremdfirma", "it")
    stranger = seed.contact(session, 4242, stranger_org)
    with pytest.raises(introductions.NotASide):
        introductions.answer_introduction(
            session=session, member=stranger, match_id=match.id, accept=True
        )
    session.refresh(match)
    assert (match.need_answer, match.offer_answer) == (None, None)


def test_answering_twice_or_after_the_end_changes_nothing(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, _, match = approved(session, settings)
    introductions.answer_introduction(
        session=session, member=need_contact, match_id=match.id, accept=True
    )
    with pytest.raises(introductions.AlreadyAnswered):
        introductions.answer_introduction(
            session=session, member=need_contact, match_id=match.id, accept=False
        )
    introductions.answer_introduction(
        session=session, member=offer_contact, match_id=match.id, accept=False
    )
    with pytest.raises(introductions.IntroductionClosed) as closed:
        introductions.answer_introduction(
            session=session, member=offer_contact, match_id=match.id, accept=True
        )
    assert closed.value.status == MatchStatus.DECLINED
    assert session.get(Match, match.id).need_answer == "accepted"


@pytest.mark.usefixtures("settings")
def test_a_proposal_not_yet_approved_cannot_be_answered(session: Session) -> None:
    need_contact, _, match = seed.two_sided(session, 1000)
    with pytest.raises(introductions.IntroductionClosed):
        introductions.answer_introduction(
            session=session, member=need_contact, match_id=match.id, accept=True
        )


def test_listing_without_author_is_answered_by_the_organizations_contact(
    session: Session, settings: Settings
) -> None:
    _, offer_contact, match = seed.two_sided(session, 1000)
    listing = session.get(Listing, match.offer_id)
    listing.member_id = None
    session.add(listing)
    session.commit()
    admin = seed.admin(session, 52)
    review.approve_match(session=session, settings=settings, member=admin, match_id=match.id)
    assert kinds(session, offer_contact.id) == ["intro_offer"]


def test_messages_of_a_match_tell_the_whole_story_in_order(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, manager, match = approved(session, settings)
    _, _, other = seed.two_sided(session, 2000)
    review.approve_match(session=session, settings=settings, member=manager, match_id=other.id)
    for member in (need_contact, offer_contact):
        introductions.answer_introduction(
            session=session, member=member, match_id=match.id, accept=True
        )
    story = introductions.messages_of_match(session=session, match_id=match.id)
    assert [(m.kind, m.member_id) for m in story] == [
        ("intro_offer", need_contact.id),
        ("intro_offer", offer_contact.id),
        ("intro_contact", need_contact.id),
        ("intro_contact", offer_contact.id),
        ("intro_result_manager", manager.id),
    ]
    assert other.id not in {m.payload["match_id"] for m in story}


def test_both_sides_accepting_at_the_same_moment_introduce_once(
    engine: Engine, settings: Settings
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        need_contact, offer_contact, _, match = approved(session, settings)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def accept(member_id: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            member = own.get(Member, member_id)
            barrier.wait()
            try:
                introductions.answer_introduction(
                    session=own, member=member, match_id=match.id, accept=True
                )
            except BaseException as error:  # surfaced by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=accept, args=(m.id,)) for m in (need_contact, offer_contact)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with Session(engine) as check:
        assert check.get(Match, match.id).status == MatchStatus.INTRODUCED
        contacts = check.exec(select(Outbox).where(Outbox.kind == "intro_contact")).all()
        assert sorted(r.member_id for r in contacts) == sorted([need_contact.id, offer_contact.id])
        results = check.exec(select(Outbox).where(Outbox.kind == "intro_result_manager")).all()
        assert len(results) == 1


def _decline_as_the_old_code_committed_it(session: Session, match: Match, side: str) -> None:
    """The first of the two commits `answer_introduction` made before it became one
    transaction (the answer alone); the process died before the second moved the match."""
    session.execute(
        update(Match)
        .where(
            col(Match.id) == match.id,
            col(Match.status) == MatchStatus.APPROVED,
            col(getattr(Match, f"{side}_answer")).is_(None),
        )
        .values({f"{side}_answer": "declined", f"{side}_answered_at": utcnow()})
        .execution_options(synchronize_session=False)
    )
    session.commit()


def test_a_decline_is_one_transaction_with_the_move_and_its_messages(
    session: Session, settings: Settings, engine: Engine
) -> None:
    _need_contact, offer_contact, _manager, match = approved(session, settings)
    before = {r.id for r in session.exec(select(Outbox)).all()}  # the approval's offers

    commits: list[int] = []

    def count(_connection: object) -> None:
        commits.append(1)

    event.listen(engine, "commit", count)  # the database's COMMITs, not savepoints
    try:
        introductions.answer_introduction(
            session=session, member=offer_contact, match_id=match.id, accept=False
        )
    finally:
        event.remove(engine, "commit", count)
    assert len(commits) == 1
    with Session(engine) as fresh:
        assert fresh.get(Match, match.id).status == MatchStatus.DECLINED
        new = [r.kind for r in fresh.exec(select(Outbox).order_by(Outbox.id)) if r.id not in before]
    assert sorted(new) == ["intro_closed", "intro_result_manager"]


def test_the_start_up_repair_finishes_a_decline_a_crash_left_half_written(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, manager, match = approved(session, settings)
    introductions.answer_introduction(
        session=session, member=need_contact, match_id=match.id, accept=True
    )
    _decline_as_the_old_code_committed_it(session, match, "offer")
    session.refresh(match)
    assert (match.status, match.offer_answer) == (MatchStatus.APPROVED, "declined")

    assert introductions.repair_decisions(session=session) == 1
    assert introductions.repair_decisions(session=session) == 0  # nothing left, nothing twice
    session.refresh(match)
    assert match.status == MatchStatus.DECLINED
    assert kinds(session, need_contact.id) == ["intro_offer", "intro_closed"]
    told = session.exec(select(Outbox).where(Outbox.member_id == manager.id)).one()
    assert (told.payload["outcome"], told.payload["declined_by"]) == (
        "declined",
        "Kühllogistik 1000",
    )
    # pressing Decline again confirms it instead of "already answered"
    again = introductions.answer_introduction(
        session=session, member=offer_contact, match_id=match.id, accept=False
    )
    assert (again.status, again.accepted) == (MatchStatus.DECLINED, False)
    assert kinds(session, offer_contact.id) == ["intro_offer"]


def test_the_start_up_repair_exchanges_contacts_when_both_had_accepted(
    session: Session, settings: Settings
) -> None:
    need_contact, offer_contact, _manager, match = approved(session, settings)
    for contact in (need_contact, offer_contact):
        side = "need" if contact is need_contact else "offer"
        session.execute(
            update(Match).where(Match.id == match.id).values({f"{side}_answer": "accepted"})
        )
    session.commit()
    assert introductions.repair_decisions(session=session) == 1
    session.refresh(match)
    assert match.status == MatchStatus.INTRODUCED
    assert kinds(session, need_contact.id) == ["intro_offer", "intro_contact"]
    assert kinds(session, offer_contact.id) == ["intro_offer", "intro_contact"]
