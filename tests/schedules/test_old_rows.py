"""Rows the code before the typed payloads queued are still delivered after an upgrade."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.models import Outbox, OutboxStatus, utcnow
from tests import factories as seed
from tests.outbox_samples import OLD_ROWS
from tests.schedules.test_delivery import ScriptedBot, sender


async def test_every_kind_queued_by_the_old_code_is_sent_after_the_upgrade(
    session: Session,
    engine: Engine,
) -> None:
    member = seed.company(session, "Firma", language="en")
    for n, (kind, payload) in enumerate(OLD_ROWS):  # as the old queue_message wrote them
        session.add(
            Outbox(
                member_id=member.id,
                chat_id=member.chat_id,
                kind=kind,
                payload=payload,
                dedupe_key=f"old:{n}",
                due_at=utcnow(),
            )
        )
    session.commit()
    bot = ScriptedBot()
    stats = await sender(bot, engine, per_chat_interval=0.0).drain()
    session.expire_all()
    rows = session.exec(select(Outbox).order_by(Outbox.id)).all()
    assert [(r.kind, r.status, r.last_error) for r in rows] == [
        (kind, OutboxStatus.SENT, "") for kind, _ in OLD_ROWS
    ]
    assert (stats.sent, stats.failed, len(bot.sent)) == (len(OLD_ROWS), 0, len(OLD_ROWS))
    assert "Zellwerk &lt;Sachsen&gt; &amp; Co" in bot.sent[0][2]  # the digest, escaped
