"""Members by role: whose private chat gets the staff command menu."""

from __future__ import annotations

from sqlmodel import Session

from kooperation.models import Member, Role
from kooperation.services import members
from tests import factories as seed


def test_reachable_staff_are_managers_and_admins_with_a_known_chat_who_did_not_block(
    session: Session,
) -> None:
    manager = seed.manager(session, 101, "it", name="Mia")
    admin = seed.admin(session, 102, name="Ada")
    listed = Member(telegram_user_id=103, chat_id=103)  # an admin only by the settings
    no_chat = Member(telegram_user_id=104, role=Role.ADMIN)
    blocked = Member(telegram_user_id=105, chat_id=105, role=Role.MANAGER, active=False)
    contact = Member(telegram_user_id=106, chat_id=106, display_name="Erika")
    session.add_all([listed, no_chat, blocked, contact])
    session.commit()

    staff = members.reachable_staff(session=session, admin_telegram_ids=[103, 104])
    assert [m.telegram_user_id for m in staff] == [
        manager.telegram_user_id,
        admin.telegram_user_id,
        103,
    ]
