"""Verified company membership: join requests, claims, company invites, leaving, merging."""

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
    JoinRequest,
    Listing,
    Member,
    Organization,
    Outbox,
    utcnow,
)
from kooperation.services import (
    identity,
    introductions,
    listings,
    membership,
    organizations,
    roles,
)
from tests import factories as seed


def _outbox(session: Session, kind: str) -> list[Outbox]:
    return list(session.exec(select(Outbox).where(Outbox.kind == kind)).all())


def _company(session: Session, slug: str = "automotive") -> tuple[Organization, Member]:
    org = seed.organization(session, "Zellwerk Sachsen GmbH", slug, invite_code="zell123")
    anna = seed.contact(session, 100, org, name="Anna", username="anna")
    return org, anna


def test_a_stranger_picking_a_company_gets_a_request_not_membership(
    session: Session, settings: Settings
) -> None:
    org, anna = _company(session)
    manager = seed.manager(session, 900, "automotive")
    stranger = seed.contact(session, 200, None, username="mallory")
    requested = membership.request_to_join(
        session=session,
        settings=settings,
        member=stranger,
        organization_id=org.id,
        telegram_name="Mallory M",
    )
    session.refresh(stranger)
    assert stranger.organization_id is None and requested.request.kind == "join"
    messages = _outbox(session, "join_request")
    assert {m.member_id for m in messages} == {anna.id, manager.id}
    to_manager = next(m for m in messages if m.member_id == manager.id)
    assert to_manager.payload["for_staff"] and to_manager.payload["requester"] == "Mallory M"
    to_anna = next(m for m in messages if m.member_id == anna.id)
    assert "contact_email" not in to_anna.payload  # imported data only for staff
    again = membership.request_to_join(
        session=session, settings=settings, member=stranger, organization_id=org.id
    )
    assert not again.new and again.request.id == requested.request.id


def test_a_contact_approves_and_the_second_decision_changes_nothing(
    session: Session, settings: Settings
) -> None:
    org, anna = _company(session)
    manager = seed.manager(session, 900, "automotive")
    erika = seed.contact(session, 200, None)
    request = membership.request_to_join(
        session=session, settings=settings, member=erika, organization_id=org.id
    ).request
    decision = membership.decide_request(
        session=session, settings=settings, actor=anna, request_id=request.id, approve=True
    )
    assert decision.approved
    session.refresh(erika)
    assert erika.organization_id == org.id
    with pytest.raises(membership.AlreadyDecided) as later:
        membership.decide_request(
            session=session, settings=settings, actor=manager, request_id=request.id, approve=False
        )
    assert later.value.status == "approved"
    session.refresh(erika)
    assert erika.organization_id == org.id
    [told] = _outbox(session, "join_decided")
    assert told.member_id == erika.id and told.payload["status"] == "approved"


def test_a_decline_is_told_neutrally_and_leaves_the_requester_without_company(
    session: Session, settings: Settings
) -> None:
    org, _ = _company(session)
    manager = seed.manager(session, 900, "automotive")
    erika = seed.contact(session, 200, None)
    request = membership.request_to_join(
        session=session, settings=settings, member=erika, organization_id=org.id
    ).request
    membership.decide_request(
        session=session, settings=settings, actor=manager, request_id=request.id, approve=False
    )
    session.refresh(erika)
    assert erika.organization_id is None
    [told] = _outbox(session, "join_decided")
    assert told.payload == {"organization": org.name, "status": "declined", "kind": "join"}


def test_others_cannot_decide_and_are_audited(session: Session, settings: Settings) -> None:
    org, _ = _company(session)
    other_org = seed.organization(session, "Fremdfirma AG", "it")
    outsider = seed.contact(session, 300, other_org)
    it_manager = seed.manager(session, 901, "it")
    erika = seed.contact(session, 200, None)
    mallory = seed.contact(session, 201, None)
    request = membership.request_to_join(
        session=session, settings=settings, member=erika, organization_id=org.id
    ).request
    membership.request_to_join(
        session=session, settings=settings, member=mallory, organization_id=org.id
    )
    for actor in (outsider, it_manager, erika, mallory, None):
        with pytest.raises(roles.NotAllowed):
            membership.decide_request(
                session=session, settings=settings, actor=actor, request_id=request.id, approve=True
            )
    refusals = session.exec(select(AuditLog).where(AuditLog.allowed.is_(False))).all()  # type: ignore[union-attr]
    assert len(refusals) == 5
    assert session.get(JoinRequest, request.id).status == "pending"


def test_a_claim_of_an_imported_company_is_decided_by_its_manager_only(
    session: Session, settings: Settings
) -> None:
    org = seed.organization(
        session, "Import GmbH", "logistics", contact_name="Jana Import", contact_email="j@imp.de"
    )
    manager = seed.manager(session, 900, "logistics")
    claimant = seed.contact(session, 200, None, username="jana")
    request = membership.request_to_join(
        session=session, settings=settings, member=claimant, organization_id=org.id
    ).request
    assert request.kind == "claim"
    [message] = _outbox(session, "join_request")
    assert message.member_id == manager.id
    assert (message.payload["contact_name"], message.payload["contact_email"]) == (
        "Jana Import",
        "j@imp.de",
    )
    membership.decide_request(
        session=session, settings=settings, actor=manager, request_id=request.id, approve=True
    )
    session.refresh(claimant)
    assert claimant.organization_id == org.id


def test_two_simultaneous_decisions_one_wins(engine: Engine, settings: Settings) -> None:
    with Session(engine, expire_on_commit=False) as session:
        org, anna = _company(session)
        manager = seed.manager(session, 900, "automotive")
        erika = seed.contact(session, 200, None)
        request_id = membership.request_to_join(
            session=session, settings=settings, member=erika, organization_id=org.id
        ).request.id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(actor_id: int, approve: bool) -> None:
        with Session(engine, expire_on_commit=False) as own:
            actor = own.get(Member, actor_id)
            barrier.wait()
            try:
                membership.decide_request(
                    session=own,
                    settings=settings,
                    actor=actor,
                    request_id=request_id,
                    approve=approve,
                )
                outcomes.append("decided")
            except membership.AlreadyDecided:
                outcomes.append("late")

    threads = [
        threading.Thread(target=decide, args=(anna.id, True)),
        threading.Thread(target=decide, args=(manager.id, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["decided", "late"]
    with Session(engine) as check:
        assert len(check.exec(select(Outbox).where(Outbox.kind == "join_decided")).all()) == 1


def test_an_unanswered_request_expires_after_seven_days(
    session: Session, settings: Settings
) -> None:
    org, anna = _company(session)
    erika = seed.contact(session, 200, None)
    request = membership.request_to_join(
        session=session, settings=settings, member=erika, organization_id=org.id
    ).request
    assert membership.expire_requests(session=session, now=utcnow() + timedelta(days=6)) == 0
    with time_machine.travel(utcnow() + timedelta(days=7, minutes=1)):
        with pytest.raises(membership.AlreadyDecided) as late:
            membership.decide_request(
                session=session, settings=settings, actor=anna, request_id=request.id, approve=True
            )
        assert late.value.status == "expired"
        assert membership.expire_requests(session=session) == 1
    session.refresh(erika)
    assert erika.organization_id is None
    [told] = _outbox(session, "join_decided")
    assert told.payload["status"] == "expired"


def test_a_company_invite_works_once(session: Session, settings: Settings) -> None:
    org = seed.organization(session, "Import GmbH", "logistics")
    manager = seed.manager(session, 900, "logistics")
    it_manager = seed.manager(session, 901, "it")
    with pytest.raises(roles.NotAllowed):
        membership.create_company_invite(
            session=session, settings=settings, actor=it_manager, organization_id=org.id
        )
    invite = membership.create_company_invite(
        session=session, settings=settings, actor=manager, organization_id=org.id
    )
    first, second = seed.contact(session, 200, None), seed.contact(session, 201, None)
    payload = membership.company_invite_payload(invite)
    assert (
        membership.redeem_company_invite(session=session, member=first, code=payload).id == org.id
    )
    with pytest.raises(membership.CompanyInviteInvalid) as used:
        membership.redeem_company_invite(session=session, member=second, code=payload)
    assert used.value.reason == "used"
    session.refresh(second)
    assert second.organization_id is None


def test_an_old_colleague_code_starting_like_a_company_invite_still_joins(
    session: Session,
) -> None:
    """Colleague codes were once drawn with any start, `co-` too. Such a link was handed on
    and joins its company like any colleague link instead of being refused as an invite."""
    org = seed.organization(session, "Altcode GmbH", "it", invite_code="co-Ab1cd")
    kai = seed.contact(session, 200, None)
    joined = membership.join_by_company_link(session=session, member=kai, code="co-Ab1cd")
    assert joined.id == org.id
    session.refresh(kai)
    assert kai.organization_id == org.id


def test_an_old_colleague_code_does_not_move_a_contact_of_another_company(
    session: Session,
) -> None:
    seed.organization(session, "Altcode GmbH", "it", invite_code="co-Ab1cd")
    _, anna = _company(session)
    with pytest.raises(membership.AlreadyContact):
        membership.join_by_company_link(session=session, member=anna, code="co-Ab1cd")


def _invite_payload(session: Session, settings: Settings, name: str) -> tuple[Organization, str]:
    org = seed.organization(session, name, "logistics")
    invite = membership.create_company_invite(
        session=session, settings=settings, actor=None, organization_id=org.id, operator=True
    )
    return org, membership.company_invite_payload(invite)


def test_a_used_or_expired_company_link_keeps_its_own_refusal(
    session: Session, settings: Settings
) -> None:
    """The fallback to colleague codes finds none here: the invite's reason stands."""
    org, payload = _invite_payload(session, settings, "Import GmbH")
    first, second = seed.contact(session, 200, None), seed.contact(session, 201, None)
    assert membership.join_by_company_link(session=session, member=first, code=payload) == org
    with pytest.raises(membership.CompanyInviteInvalid) as used:
        membership.join_by_company_link(session=session, member=second, code=payload)
    assert used.value.reason == "used"
    _, unused = _invite_payload(session, settings, "Spät KG")
    late = utcnow() + membership.INVITE_LIFETIME + timedelta(minutes=1)
    with time_machine.travel(late), pytest.raises(membership.CompanyInviteInvalid) as expired:
        membership.join_by_company_link(session=session, member=second, code=unused)
    assert expired.value.reason == "expired"
    with pytest.raises(membership.CompanyInviteInvalid) as unknown:
        membership.join_by_company_link(session=session, member=second, code="co-nothing")
    assert unknown.value.reason == "unknown"
    session.refresh(second)
    assert second.organization_id is None


def test_a_used_company_link_that_is_also_an_old_colleague_code_joins_that_company(
    session: Session, settings: Settings
) -> None:
    """Only a colleague code that really matches turns a refused invite into a join."""
    _, payload = _invite_payload(session, settings, "Import GmbH")
    first = seed.contact(session, 200, None)
    membership.join_by_company_link(session=session, member=first, code=payload)
    colleagues = seed.organization(session, "Altcode GmbH", "it", invite_code=payload)
    kai = seed.contact(session, 201, None)
    assert membership.join_by_company_link(session=session, member=kai, code=payload) == colleagues


def test_the_last_contact_leaving_pauses_the_listings_and_tells_the_manager(
    session: Session, settings: Settings
) -> None:
    org, anna = _company(session)
    bert = seed.contact(session, 101, org, name="Bert")
    manager = seed.manager(session, 900, "automotive")
    need = seed.listing(session, org, "need", "Wir suchen Prüfstände für Batteriezellen.", anna)
    assert (
        membership.leave_company(session=session, settings=settings, member=anna).paused_listings
        == 0
    )
    assert session.get(Listing, need.id).status == "active"
    with pytest.raises(listings.ListingNotFound):  # a former contact: not theirs any more
        listings.change_status(
            session=session, member_id=anna.id, listing_id=need.id, action="close"
        )
    left = membership.leave_company(session=session, settings=settings, member=bert)
    assert left.paused_listings == 1
    session.refresh(need)
    assert need.status == "paused"
    [notice] = _outbox(session, "company_orphaned")
    assert notice.member_id == manager.id


def test_a_pending_requester_cannot_answer_an_introduction(
    session: Session, settings: Settings
) -> None:
    org, _ = _company(session)
    stranger = seed.contact(session, 200, None)
    membership.request_to_join(
        session=session, settings=settings, member=stranger, organization_id=org.id
    )
    other = seed.organization(session, "Partner AG", "it")
    need = seed.listing(session, org, "need", "Wir suchen einen Partner für Batterietests.")
    offer = seed.listing(session, other, "offer", "Wir bieten Batterietests an.")
    match = seed.proposal(session, need, offer)
    match.status = "approved"
    session.add(match)
    session.commit()
    with pytest.raises(introductions.NotASide):
        introductions.answer_introduction(
            session=session, member=stranger, match_id=match.id, accept=True
        )
    assert session.exec(
        select(AuditLog).where(AuditLog.action == membership.Action.NOT_YOURS)
    ).first()


def test_a_duplicate_is_merged_into_the_existing_company(
    session: Session, settings: Settings
) -> None:
    org, _ = _company(session)
    manager = seed.manager(session, 900, "automotive")
    erika = seed.contact(session, 200, None)
    duplicate = organizations.register_organization(
        session=session,
        name="Zellwerk Sachsen",
        cluster_slug="automotive",
        size="small",
        region="Leipzig",
        member_id=erika.id,
    )
    seed.listing(session, duplicate, "need", "Wir suchen Zellprüfung.", erika)
    rows = membership.new_companies(session=session, settings=settings, actor=manager)
    assert [row.id for row in rows] == [duplicate.id]
    candidates = membership.merge_candidates(
        session=session, settings=settings, actor=manager, organization_id=duplicate.id
    )
    assert [c.id for c in candidates] == [org.id]
    merged = membership.merge_companies(
        session=session, settings=settings, actor=manager, source_id=duplicate.id, target_id=org.id
    )
    assert (merged.contacts, merged.listings) == (1, 1)
    session.refresh(erika)
    assert erika.organization_id == org.id
    assert session.get(Organization, duplicate.id) is None


def test_managers_get_the_one_time_review_list(session: Session, settings: Settings) -> None:
    org, _ = _company(session)
    org.membership_review = True
    session.add(org)
    session.commit()
    assert membership.queue_membership_review(session=session, settings=settings) == 0  # nobody
    manager = seed.manager(session, 900, "automotive")
    assert membership.queue_membership_review(session=session, settings=settings) == 1
    assert membership.queue_membership_review(session=session, settings=settings) == 0
    [message] = _outbox(session, "membership_review")
    assert message.member_id == manager.id
    assert message.payload["companies"] == [{"organization": org.name, "contacts": ["Anna"]}]


def test_a_requester_cannot_message_companies_without_end(
    session: Session, settings: Settings
) -> None:
    spammer = seed.contact(session, 200, None)
    companies = [seed.organization(session, f"Firma {i} GmbH", "it") for i in range(6)]
    for company in companies[: membership.REQUESTS_PER_DAY]:
        membership.request_to_join(
            session=session, settings=settings, member=spammer, organization_id=company.id
        )
    with pytest.raises(membership.TooManyRequests):
        membership.request_to_join(
            session=session, settings=settings, member=spammer, organization_id=companies[-1].id
        )
    open_ = session.exec(select(JoinRequest).where(JoinRequest.status == "pending")).all()
    assert len(open_) == 1  # each new request replaced the one before


def test_export_shows_imported_contact_data_only_when_it_is_ones_own(
    session: Session, settings: Settings
) -> None:
    from kooperation.services import privacy

    org = seed.organization(
        session, "Import GmbH", "it", contact_name="Jana Import", contact_email="jana@imp.test"
    )
    invite = membership.create_company_invite(
        session=session, settings=settings, actor=None, organization_id=org.id, operator=True
    )
    kai = seed.contact(session, 200, None, name="Kai", email="kai@imp.test")
    membership.redeem_company_invite(session=session, member=kai, code=invite.code)
    exported = privacy.export_member_data(
        session=session, member=identity.require_member(session=session, telegram_user_id=200)
    )
    assert "Jana Import" not in str(exported) and "jana@imp.test" not in str(exported)
    jana = seed.contact(session, 201, org, name="Jana Import", email="jana@imp.test")
    own = privacy.export_member_data(session=session, member=jana)
    assert own["organization"]["contact_email"] == "jana@imp.test"
