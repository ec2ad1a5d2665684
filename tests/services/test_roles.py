"""Admins, managers per cluster and single-use invites."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.config import Settings
from kooperation.models import (
    AuditLog,
    CompanyInvite,
    ManagerCluster,
    ManagerInvite,
    Member,
    Role,
    utcnow,
)
from kooperation.services import appointments, identity, membership, roles
from tests import factories as seed


def test_admin_from_settings_gets_a_member_row_on_first_contact(
    session: Session, settings: Settings
) -> None:
    settings = settings.model_copy(update={"admin_telegram_ids": [777]})
    member = identity.staff_member(session=session, settings=settings, telegram_user_id=777)
    assert member is not None and member.role == Role.ADMIN
    assert roles.is_admin(settings=settings, member=member)
    assert identity.staff_member(session=session, settings=settings, telegram_user_id=778) is None


def test_add_admin_for_an_unknown_telegram_id_creates_a_reachable_member(
    session: Session, settings: Settings
) -> None:
    member = appointments.add_admin(
        session=session, member=identity.ensure_member(session=session, telegram_user_id=5555)
    )
    assert (member.role, member.chat_id) == (Role.ADMIN, 5555)
    assert roles.managed_cluster_ids(session=session, settings=settings, member=member) is None


def test_only_admins_appoint_managers_and_refusals_are_logged(
    session: Session, settings: Settings
) -> None:
    admin = seed.admin(session, 1)
    manager = seed.manager(session, 2, "it")
    with pytest.raises(roles.NotAllowed):
        appointments.appoint_manager_by_admin(
            session=session,
            settings=settings,
            actor=manager,
            member=identity.ensure_member(session=session, telegram_user_id=3),
            cluster_slug="logistics",
        )
    assert session.exec(select(Member).where(Member.telegram_user_id == 3)).first() is None
    member, cluster, created = appointments.appoint_manager_by_admin(
        session=session,
        settings=settings,
        actor=admin,
        member=identity.ensure_member(session=session, telegram_user_id=3),
        cluster_slug="Logistics",
    )
    assert created and cluster.slug == "logistics" and member.role == Role.MANAGER
    assert roles.managed_cluster_ids(session=session, settings=settings, member=member) == {
        cluster.id
    }
    logs = session.exec(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(log.action, log.allowed) for log in logs] == [
        ("manager.appoint", False),
        ("manager.appoint", True),
    ]
    with pytest.raises(appointments.UnknownCluster):
        appointments.appoint_manager_by_admin(
            session=session,
            settings=settings,
            actor=admin,
            member=identity.ensure_member(session=session, telegram_user_id=3),
            cluster_slug="food",
        )


def test_removing_the_last_cluster_makes_a_manager_a_member_again(
    session: Session, settings: Settings
) -> None:
    admin = seed.admin(session, 1)
    manager = seed.manager(session, 2, "it")
    cluster, removed = appointments.remove_manager(
        session=session,
        settings=settings,
        actor=admin,
        member=identity.member_by_telegram_id(session=session, telegram_user_id=2),
        target="tg:2",
        cluster_slug="it",
    )
    assert removed and cluster.slug == "it"
    session.refresh(manager)
    assert manager.role == Role.MEMBER
    assert not roles.is_staff(session=session, settings=settings, member=manager)


def test_invite_makes_its_user_a_manager_once(session: Session, settings: Settings) -> None:
    admin = seed.admin(session, 1)
    invite = appointments.create_manager_invite(
        session=session, settings=settings, actor=admin, cluster=seed.cluster(session, "it")
    )
    assert (
        appointments.invite_payload(invite).startswith("mgr-")
        and len(appointments.invite_payload(invite)) <= 64
    )
    first = seed.contact(session, 10, None)
    second = seed.contact(session, 11, None)
    cluster = appointments.redeem_manager_invite(
        session=session, member=first, code=appointments.invite_payload(invite)
    )
    assert cluster.slug == "it"
    assert session.get(ManagerCluster, (first.id, cluster.id)) is not None
    with pytest.raises(appointments.InviteInvalid) as used:
        appointments.redeem_manager_invite(session=session, member=second, code=invite.code)
    assert used.value.reason == "used"
    assert not roles.is_staff(session=session, settings=settings, member=second)


def test_invite_expires_after_seven_days(session: Session, settings: Settings) -> None:
    invite = appointments.create_manager_invite(
        session=session,
        settings=settings,
        actor=None,
        cluster=seed.cluster(session, "logistics"),
        operator=True,
    )
    member = seed.contact(session, 10, None)
    later = utcnow() + timedelta(days=7, minutes=1)
    with time_machine.travel(later), pytest.raises(appointments.InviteInvalid) as expired:
        appointments.redeem_manager_invite(session=session, member=member, code=invite.code)
    assert expired.value.reason == "expired"
    with pytest.raises(appointments.InviteInvalid) as unknown:
        appointments.redeem_manager_invite(session=session, member=member, code="nope")
    assert unknown.value.reason == "unknown"


def test_members_cannot_create_invites(session: Session, settings: Settings) -> None:
    member = seed.contact(session, 10, None)
    with pytest.raises(roles.NotAllowed):
        appointments.create_manager_invite(
            session=session, settings=settings, actor=member, cluster=seed.cluster(session, "it")
        )


def test_two_people_opening_one_invite_at_once_make_one_manager(
    engine: Engine, settings: Settings
) -> None:
    with Session(engine, expire_on_commit=False) as session:
        invite = appointments.create_manager_invite(
            session=session,
            settings=settings,
            actor=None,
            cluster=seed.cluster(session, "it"),
            operator=True,
        )
        people = [seed.contact(session, 10 + i, None).id for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(member_id: int) -> None:
        with Session(engine, expire_on_commit=False) as own:
            member = own.get(Member, member_id)
            barrier.wait()
            try:
                appointments.redeem_manager_invite(session=own, member=member, code=invite.code)
                outcomes.append("manager")
            except appointments.InviteInvalid as refused:
                outcomes.append(refused.reason)

    threads = [threading.Thread(target=redeem, args=(member_id,)) for member_id in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["manager", "used"]
    with Session(engine) as check:
        assert len(check.exec(select(ManagerCluster)).all()) == 1


def test_no_actor_is_a_stranger_refused_unless_it_is_the_operator(
    session: Session, settings: Settings
) -> None:
    """None used to mean the operator on the command line, so a stranger in the bot (no
    member row) got invites; the operator now says so."""
    cluster = seed.cluster(session, "it")
    organization = seed.organization(session, "Import GmbH", "it")
    with pytest.raises(roles.NotAllowed):
        appointments.create_manager_invite(
            session=session, settings=settings, actor=None, cluster=cluster
        )
    with pytest.raises(roles.NotAllowed):
        membership.create_company_invite(
            session=session, settings=settings, actor=None, organization_id=organization.id
        )
    assert session.exec(select(ManagerInvite)).all() == []
    assert session.exec(select(CompanyInvite)).all() == []
