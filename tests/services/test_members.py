"""Members by role: whose private chat gets the staff command menu."""

from __future__ import annotations

from sqlmodel import Session

from kooperation.services import identity, members
from tests import factories as seed


def test_reachable_staff_are_managers_and_admins_with_a_known_chat_who_did_not_block(
    session: Session,
) -> None:
    manager = seed.manager(session, 101, "it", name="Mia")
    admin = seed.admin(session, 102, name="Ada")
    identity.ensure_member(session=session, telegram_user_id=103)  # an admin only by settings
    no_chat = seed.admin(session, 104)
    no_chat.chat_id = None  # a row from before chats were recorded
    blocked = seed.manager(session, 105)
    members.mark_unreachable(session=session, member_id=blocked.id)
    seed.contact(session, 106, None, "Erika")
    session.commit()

    staff = members.reachable_staff(session=session, admin_telegram_ids=[103, 104])
    assert [m.telegram_user_id for m in staff] == [
        manager.telegram_user_id,
        admin.telegram_user_id,
        103,
    ]
