"""The Telegram identity: a stranger is named in the audit only in the session that says so."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from kooperation.config import Settings
from kooperation.services import audit, identity, members, roles, stats
from tests import factories as seed


def test_a_stranger_is_named_only_in_the_session_that_was_told(
    engine: Engine, session: Session, settings: Settings
) -> None:
    with Session(engine) as told:
        identity.as_stranger(session=told, telegram_user_id=31337)
        with pytest.raises(roles.NotAllowed):
            stats.stats_for(session=told, settings=settings, member=None)
    with Session(engine) as other, pytest.raises(roles.NotAllowed):
        stats.stats_for(session=other, settings=settings, member=None)
    actors = [(e.actor, e.actor_telegram_id) for e in audit.audit_entries(session=session)]
    assert actors == [("cli", None), ("tg:31337", 31337)]


def test_a_refused_member_is_logged_as_the_member_not_as_the_stranger(
    session: Session, settings: Settings
) -> None:
    contact = seed.contact(session, 4242, None, name="Erika")
    identity.as_stranger(session=session, telegram_user_id=31337)
    with pytest.raises(roles.NotAllowed):
        stats.stats_for(session=session, settings=settings, member=contact)
    (entry,) = audit.audit_entries(session=session)
    assert (entry.actor, entry.actor_telegram_id) == ("Erika", 4242)


def test_require_member_refuses_an_unknown_telegram_id(session: Session) -> None:
    with pytest.raises(members.NotRegistered):
        identity.require_member(session=session, telegram_user_id=404)
    seed.contact(session, 405, None)
    assert identity.require_member(session=session, telegram_user_id=405).telegram_user_id == 405
