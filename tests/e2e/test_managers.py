"""/managers over the emulator: admins appoint managers and hand out single-use invite links."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.models import AuditLog, Cluster, ManagerCluster, Member, Role
from tests import factories as seed
from tests.e2e.conftest import new_user_id


def clusters_of(engine: Engine, telegram_user_id: int) -> set[str]:
    with Session(engine) as fresh:
        rows = fresh.exec(
            select(Cluster.slug)
            .join(ManagerCluster, ManagerCluster.cluster_id == Cluster.id)
            .join(Member, Member.id == ManagerCluster.member_id)
            .where(Member.telegram_user_id == telegram_user_id)
        ).all()
    return set(rows)


@pytest.mark.usefixtures("bot")
def test_invite_link_makes_its_first_user_a_manager_and_only_once(emulator, db, engine) -> None:
    admin = seed.admin(db, new_user_id(), name="Ada")
    it_cluster = seed.cluster(db, "it")
    user = emulator.user(admin.telegram_user_id)
    user.send("/managers")
    overview = user.wait_reply(timeout=10, contains="Clustermanager")
    assert "Cluster IT Mitteldeutschland</b> (it): noch niemand" in overview.text
    user.press(overview, data=f"mg:i:{it_cluster.id}")
    invite = user.wait_reply(timeout=10, edited=True).text
    link = re.search(r"https://t\.me/(\S+)\?start=(mgr-[\w-]+)", invite)
    assert link is not None, invite
    payload = link.group(2)

    newcomer = emulator.user(new_user_id(), first_name="Nora", language_code="de")
    newcomer.send(f"/start {payload}")
    welcome = newcomer.wait_reply(timeout=10, predicate=lambda m: "ob:ok" in str(m.reply_markup))
    newcomer.press(welcome, data="ob:ok")
    newcomer.wait_reply(timeout=10, contains="Sie sind jetzt Clustermanager")
    assert clusters_of(engine, newcomer.user_id) == {"it"}

    latecomer = emulator.user(new_user_id(), first_name="Otto", language_code="de")
    latecomer.send(f"/start {payload}")
    welcome = latecomer.wait_reply(timeout=10, predicate=lambda m: "ob:ok" in str(m.reply_markup))
    latecomer.press(welcome, data="ob:ok")
    latecomer.wait_reply(timeout=10, contains="ungültig, abgelaufen oder wurde schon benutzt")
    assert clusters_of(engine, latecomer.user_id) == set()


@pytest.mark.usefixtures("bot")
def test_admin_appoints_and_removes_a_manager_by_telegram_id(emulator, db, engine) -> None:
    admin = seed.admin(db, new_user_id(), name="Ada")
    future = new_user_id()
    user = emulator.user(admin.telegram_user_id)
    user.send(f"/managers add {future} logistics")
    assert "ist jetzt Manager von Netzwerk Logistik" in user.wait_reply(timeout=10).text
    assert clusters_of(engine, future) == {"logistics"}
    with Session(engine) as fresh:
        member = fresh.exec(select(Member).where(Member.telegram_user_id == future)).one()
        assert (member.role, member.chat_id) == (Role.MANAGER, future)
    user.send(f"/managers remove {future} logistics")
    assert "nicht mehr Manager" in user.wait_reply(timeout=10).text
    assert clusters_of(engine, future) == set()
    user.send(f"/managers add {future} food")
    assert "Unbekannter Cluster" in user.wait_reply(timeout=10).text


@pytest.mark.usefixtures("bot")
def test_managers_command_and_invite_button_are_refused_for_non_admins(
    emulator, db, engine
) -> None:
    manager = seed.manager(db, new_user_id(), "it", name="Ingo")
    user = emulator.user(manager.telegram_user_id)
    user.send(f"/managers add {manager.telegram_user_id} automotive")
    assert "Nur Admins" in user.wait_reply(timeout=10).text
    user.press_data(f"mg:i:{seed.cluster(db, 'automotive').id}")
    assert "Nur Admins" in user.wait_reply(timeout=10).text
    assert clusters_of(engine, manager.telegram_user_id) == {"it"}
    with Session(engine) as fresh:
        refused = fresh.exec(
            select(AuditLog.action).where(
                AuditLog.actor_id == manager.id, AuditLog.allowed.is_(False)
            )
        ).all()
    assert refused == ["manager.appoint", "manager.invite"]
