"""Finding, registering and joining organizations."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from kooperation.models import utcnow
from kooperation.services import identity, members, organizations
from kooperation.validation import InvalidInput
from tests import factories as seed


def test_search_finds_by_part_of_the_name_ignoring_case_and_umlaut_case(session: Session) -> None:
    seed.organization(session, "Müller Antriebstechnik GmbH")
    seed.organization(session, "Schmidt Logistik KG")
    seed.organization(session, "Mueller Software")
    hits = [o.name for o in organizations.search_organizations(session=session, query="MÜLLER")]
    assert hits[0] == "Müller Antriebstechnik GmbH"
    assert "Schmidt Logistik KG" not in hits


def test_search_ranks_a_prefix_before_a_mere_substring(session: Session) -> None:
    seed.organization(session, "Nord Logistik")
    seed.organization(session, "Logistik Nord")
    hits = organizations.search_organizations(session=session, query="logistik")
    assert [o.name for o in hits] == ["Logistik Nord", "Nord Logistik"]


def test_search_tolerates_a_typo_but_not_unrelated_names(session: Session) -> None:
    seed.organization(session, "Batteriewerk Ost")
    seed.organization(session, "Fischer IT")
    hits = organizations.search_organizations(session=session, query="Bateriewerk")
    assert [o.name for o in hits] == ["Batteriewerk Ost"]


def test_search_query_must_have_two_letters(session: Session) -> None:
    with pytest.raises(InvalidInput):
        organizations.search_organizations(session=session, query=" x ")


def test_register_creates_an_organization_with_an_invite_code_and_joins_the_member(
    session: Session,
) -> None:
    member = seed.contact(session, 42, username="erika")
    organization = organizations.register_organization(
        session=session,
        name="  Zellwerk  GmbH ",
        cluster_slug="automotive",
        size="medium",
        region="Chemnitz",
        member_id=member.id,
    )
    session.refresh(member)
    assert organization.name == "Zellwerk GmbH"
    assert organization.cluster_id == seed.cluster(session, "automotive").id
    assert organization.size == "medium" and organization.region == "Chemnitz"
    assert organization.invite_code and not organization.invite_code.startswith("mgr-")
    assert member.organization_id == organization.id


def test_register_refuses_an_unknown_cluster_or_size(session: Session) -> None:
    with pytest.raises(ValueError):
        organizations.register_organization(
            session=session, name="X GmbH", cluster_slug="space", size="small", region="Halle"
        )
    with pytest.raises(ValueError):
        organizations.register_organization(
            session=session, name="X GmbH", cluster_slug="it", size="huge", region="Halle"
        )


def test_invite_code_joins_and_an_unknown_code_is_refused(session: Session) -> None:
    organization = seed.organization(session, "Einlader AG", invite_code="abc123")
    member = seed.contact(session, 42, username="erika")
    joined = organizations.join_by_invite_code(session=session, member_id=member.id, code="abc123")
    assert joined.id == organization.id
    with pytest.raises(members.OrganizationNotFound):
        organizations.join_by_invite_code(session=session, member_id=member.id, code="nope")


def test_imported_organization_gets_an_invite_code_on_first_use(session: Session) -> None:
    organization = seed.organization(session, "Importiert GmbH")
    code = organizations.invite_code_for(session=session, organization_id=organization.id)
    assert (
        code
        and organizations.invite_code_for(session=session, organization_id=organization.id) == code
    )


def test_consent_creates_the_member_and_a_message_reactivates_a_blocked_one(
    session: Session,
) -> None:
    assert identity.member_by_telegram_id(session=session, telegram_user_id=42) is None
    member = seed.contact(session, 42, username="erika")
    assert member.consent_at is not None and member.consent_at <= utcnow()
    members.mark_unreachable(session=session, member_id=member.id)
    assert identity.member_by_telegram_id(session=session, telegram_user_id=42).active is False
    seen = identity.seen(session=session, telegram_user_id=42, chat_id=42, username="erika2")
    assert seen.active is True and seen.username == "erika2"


def test_contact_settings_are_validated(session: Session) -> None:
    member = seed.contact(session, 42, username="erika")
    with pytest.raises(InvalidInput):
        members.set_email(session=session, member_id=member.id, email="kaputt")
    members.set_email(session=session, member_id=member.id, email="e@firma.de")
    for _ in range(2):  # setting twice is the same as once (a stale or repeated tap)
        assert (
            members.set_digest(session=session, member_id=member.id, enabled=False).digest_enabled
            is False
        )
        assert members.set_paused(session=session, member_id=member.id, paused=True).paused is True
    assert members.set_paused(session=session, member_id=member.id, paused=False).paused is False
    assert (
        members.set_language(session=session, member_id=member.id, language="en").language == "en"
    )
    with pytest.raises(members.MemberError):
        members.set_language(session=session, member_id=member.id, language="fr")


def test_completing_registration_stores_the_name_and_hands_out_the_invite_code(
    session: Session,
) -> None:
    organization = seed.organization(session, "Fertig GmbH", invite_code="fertig1")
    member = seed.contact(session, 42, username="erika")
    joined = organizations.join_by_invite_code(session=session, member_id=member.id, code="fertig1")
    done = organizations.complete_registration(session=session, member_id=member.id, name=" Erika ")
    session.refresh(organization)
    assert joined.id == organization.id
    assert done.member.display_name == "Erika" and organization.contact_name == "Erika"
    assert done.invite_code == organization.invite_code and done.invite_code


def test_a_manager_without_organization_completes_without_invite_code(session: Session) -> None:
    member = seed.contact(session, 42, username="erika")
    assert (
        organizations.complete_registration(
            session=session, member_id=member.id, name="Max"
        ).invite_code
        == ""
    )
    with pytest.raises(members.OrganizationNotFound):
        organizations.join_by_invite_code(session=session, member_id=member.id, code="nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zellwerk GmbH, 04356 Leipzig", ("Zellwerk GmbH", "04356 Leipzig")),
        ("Zellwerk GmbH 04356 Leipzig", ("Zellwerk GmbH", "04356 Leipzig")),
        ("  Zellwerk   GmbH,  Leipzig ", ("Zellwerk GmbH", "Leipzig")),
        ("Zellwerk GmbH", ("Zellwerk GmbH", "")),
        ("Müller, Schmidt & Co. KG", ("Müller, Schmidt & Co. KG", "")),
        ("Vision Systems, Ltd", ("Vision Systems, Ltd", "")),
        ("04109", ("04109", "")),
    ],
)
def test_name_and_region_are_split_at_a_postcode_or_the_last_comma(
    text: str, expected: tuple[str, str]
) -> None:
    assert organizations.split_name_and_region(text) == expected


def test_a_colleague_code_never_reads_as_another_kind_of_invite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/start reads `mgr-` and `co-` payloads as single-use invites first: a colleague code
    drawn with either start would be refused as an invalid invite, so it is drawn again."""
    drawn = iter(["co-Ab1cd", "mgr-Ab1c", "group", "Zx9-_k2Q"])
    monkeypatch.setattr(organizations.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert organizations.new_invite_code() == "Zx9-_k2Q"
