"""The audit log lists every decision and every refused attempt: who, when, what, why."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from kooperation.config import Settings
from kooperation.services import audit, identity, review, roles
from tests import factories as seed


def test_decisions_and_refusals_are_listed_newest_first_with_reason(
    session: Session, settings: Settings
) -> None:
    _, _, match = seed.two_sided(session, 1000, "automotive", "logistics")
    _, _, other = seed.two_sided(session, 1010, "automotive", "logistics")
    maria = seed.manager(session, 50, "logistics", name="Maria")
    it_manager = seed.manager(session, 51, "it", name="Ingo")
    review.reject_match(
        session=session, settings=settings, member=maria, match_id=match.id, reason="Doppelt"
    )
    with pytest.raises(roles.NotAllowed):
        review.approve_match(
            session=session, settings=settings, member=it_manager, match_id=other.id
        )
    with pytest.raises(review.MatchNotFound):
        review.approve_match(session=session, settings=settings, member=maria, match_id=999999)

    entries = audit.audit_entries(session=session)
    assert [(e.actor, e.action, e.allowed) for e in entries] == [
        ("Maria", "match.approve", False),
        ("Ingo", "match.approve", False),
        ("Maria", "match.reject", True),
    ]
    assert entries[2].reason == "Doppelt" and entries[2].target == f"match:{match.id}"
    assert entries[1].reason == "proposal outside the manager's clusters"
    decisions = audit.audit_entries(session=session, decisions_only=True, limit=1)
    assert len(decisions) == 1


def test_unknown_telegram_user_is_logged_by_id(session: Session, settings: Settings) -> None:
    with pytest.raises(roles.NotAllowed):
        identity.as_stranger(session=session, telegram_user_id=31337)
        review.next_card(session=session, settings=settings, member=None)
    (entry,) = audit.audit_entries(session=session)
    assert (entry.actor, entry.allowed) == ("tg:31337", False)
