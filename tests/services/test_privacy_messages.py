"""/delete_me blanks a member out of other people's messages of every kind, and the blanked
messages still read as their kind."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass, replace
from datetime import date
from enum import Enum
from typing import Any

from sqlmodel import Session, select

from kooperation.messages import (
    DigestIntroduction,
    DigestState,
    ExpiryReminder,
    OutboxKind,
    WeeklyDigest,
    from_payload,
    to_data,
)
from kooperation.models import Kind, Listing, Outbox
from kooperation.services import members, privacy
from kooperation.services.outbox import queue_message
from tests import factories as seed
from tests.outbox_samples import SAMPLES

SECRETS = ("Erika Muster", "erika@zellwerk.de")


def _with_secrets(value: Any) -> Any:
    """The payload with the deleted member's name and e-mail in every one of its texts."""
    if isinstance(value, Enum | date | int | float):
        return value
    if isinstance(value, str):
        return f"{value} {SECRETS[0]} <{SECRETS[1]}>"
    if isinstance(value, tuple):
        return tuple(_with_secrets(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(
            value, **{f.name: _with_secrets(getattr(value, f.name)) for f in fields(value)}
        )
    return value


def _texts_blanked(before: Any) -> Any:
    """`before` as the scrub should leave it: the secrets replaced, nothing else changed."""
    if isinstance(before, Enum | date | int | float) or before is None:
        return before
    if isinstance(before, str):
        for secret in SECRETS:
            before = before.replace(secret, privacy.REDACTED)
        return before
    if isinstance(before, tuple):
        return tuple(_texts_blanked(item) for item in before)
    return replace(
        before,
        **{f.name: _texts_blanked(getattr(before, f.name)) for f in fields(before)},
    )


def test_every_kind_of_message_is_blanked_and_still_reads_as_its_kind(session: Session) -> None:
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    members.set_display_name(session=session, member_id=erika.id, name=SECRETS[0])
    members.set_email(session=session, member_id=erika.id, email=SECRETS[1])
    ben = seed.company(session, "Vision Ltd", "it", telegram_user_id=2, contact_name="Kontakt 2")
    sent = {}
    for kind, samples in SAMPLES.items():
        for n, sample in enumerate(samples):
            payload = _with_secrets(sample)
            row = queue_message(
                session=session, member=ben, payload=payload, dedupe_key=f"{kind}:{n}"
            )
            sent[row.id] = payload
    session.commit()
    without_texts = {p for p in sent.values() if SECRETS[0] not in json.dumps(to_data(p))}
    assert {p.KIND for p in without_texts} == {OutboxKind.MANAGER_NEW_PROPOSALS}  # counts only

    privacy.delete_member_data(session=session, member=erika)
    session.expire_all()

    rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [r.id for r in rows] == list(sent)  # messages about no deleted match: all kept
    for row in rows:
        assert not [s for s in SECRETS if s in json.dumps(row.payload, ensure_ascii=False)]
        assert from_payload(row.kind, row.payload) == _texts_blanked(sent[row.id])


def test_a_member_text_that_spells_a_state_or_a_day_leaves_other_messages_intact(
    session: Session,
) -> None:
    """Only texts are blanked: a state word or a day in a payload is data the bot renders by."""
    erika = seed.company(session, "Zellwerk", "it", telegram_user_id=1, contact_name="Kontakt 1")
    ben = seed.company(session, "Vision Ltd", "it", telegram_user_id=2, contact_name="Kontakt 2")
    digest = WeeklyDigest(
        week="2026-W11",
        introductions=(
            DigestIntroduction(match_id=5, own_title="Kühlkette", state=DigestState.WAITING_OTHER),
        ),
    )
    reminder = ExpiryReminder(
        listing_id=9, title="Prüfstand", kind=Kind.NEED, expires_on=date(2026, 3, 11)
    )
    for n, payload in enumerate((digest, reminder)):
        queue_message(session=session, member=ben, payload=payload, dedupe_key=f"k:{n}")
    session.commit()
    her_listings = [  # titles that happen to equal a stored state and a stored day
        Listing(organization_id=erika.organization_id, kind="need", title=t, text=t)
        for t in ("waiting_other", "2026-03-11")
    ]

    privacy.scrub_messages(session=session, member=erika, listings=her_listings, match_ids=set())
    session.commit()
    session.expire_all()

    rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [from_payload(r.kind, r.payload) for r in rows] == [digest, reminder]
