"""Looking up company contacts and managers by their Telegram identity."""

from __future__ import annotations

from sqlmodel import Session, select

from kooperation.models import Member


def member_by_telegram_id(*, session: Session, telegram_user_id: int) -> Member | None:
    return session.exec(select(Member).where(Member.telegram_user_id == telegram_user_id)).first()


def mark_unreachable(*, session: Session, member_id: int) -> None:
    """The member blocked the bot (Telegram 403): no more messages until they write again."""
    member = session.get(Member, member_id)
    if member is not None and member.active:
        member.active = False
        session.add(member)
        session.commit()
