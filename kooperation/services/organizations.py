"""Organizations in the programme: finding one by name, registering a new one, invite codes."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from difflib import SequenceMatcher

from sqlmodel import Session, select

from kooperation.models import Cluster, Member, Organization, Size
from kooperation.services import company_contacts
from kooperation.services.company_invites import COMPANY_INVITE_PREFIX
from kooperation.services.members import OrganizationNotFound, set_display_name
from kooperation.validation import (
    REGION_MAX,
    clean_organization_name,
    clean_region,
    clean_search,
)

INVITE_CODE_BYTES = 6
_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
_LEGAL_FORMS = frozenset(
    {
        "ag",
        "co",
        "e.k.",
        "e.v.",
        "eg",
        "ek",
        "ev",
        "gbr",
        "gmbh",
        "inc",
        "inc.",
        "kg",
        "kgaa",
        "llc",
        "ltd",
        "ltd.",
        "mbh",
        "ohg",
        "plc",
        "se",
        "ug",
    }
)


def new_invite_code() -> str:
    """A short code for the deep link `/start <code>`; never starts with the prefix of a
    manager's (`mgr-`) or a company's single-use invite (`co-`), which /start reads first."""
    while True:
        code = secrets.token_urlsafe(INVITE_CODE_BYTES)
        if not code.startswith(("mgr-", COMPANY_INVITE_PREFIX)) and code != "group":
            return code


def split_name_and_region(text: str) -> tuple[str, str]:
    """Splits "Zellwerk GmbH, 04356 Leipzig" into the name and the region ("" when none given).

    The region is a German postcode and what follows it, or else the part after the last
    comma, unless that part ends in a legal form ("Müller, Schmidt & Co. KG" is one name).
    """
    value = " ".join(text.split())
    postcode = _POSTCODE.search(value)
    if postcode is not None and postcode.start() > 0:
        name = value[: postcode.start()].rstrip(" ,;-–")
        region = value[postcode.start() :].strip(" ,;")
        if name and len(region) <= REGION_MAX:
            return name, region
    head, comma, tail = value.rpartition(",")
    head, tail = head.strip(), tail.strip()
    last_word = tail.rsplit(" ", 1)[-1].casefold()
    if comma and head and tail and last_word not in _LEGAL_FORMS and len(tail) <= REGION_MAX:
        return head, tail
    return value, ""


def _rank(query: str, name: str) -> float:
    query, name = query.casefold(), name.casefold()
    if name == query:
        return 3.0
    if name.startswith(query):
        return 2.0
    if query in name:
        return 1.5
    words = name.split()
    best_word = max((SequenceMatcher(None, query, w).ratio() for w in words), default=0.0)
    return max(SequenceMatcher(None, query, name).ratio(), best_word)


def search_organizations(*, session: Session, query: str, limit: int = 5) -> list[Organization]:
    """Organizations whose name contains or resembles `query`, best first.

    Compared in Python with Unicode case folding ("MÜLLER" finds "Müller GmbH", which SQLite's
    LIKE would not); the programme has hundreds of organizations, not millions.
    """
    query = clean_search(query)
    scored = []
    for organization in session.exec(select(Organization)).all():
        score = _rank(query, organization.name)
        if score >= 0.75:
            scored.append((score, organization.name.casefold(), organization))
    scored.sort(key=lambda row: (-row[0], row[1]))
    return [organization for _, _, organization in scored[:limit]]


def register_organization(
    *,
    session: Session,
    name: str,
    cluster_slug: str,
    size: str,
    region: str,
    member_id: int | None = None,
) -> Organization:
    """A new organization with its own invite code; the registering contact becomes its first
    contact (nobody to impersonate), and managers find it in their list of new companies."""
    cluster = session.exec(select(Cluster).where(Cluster.slug == cluster_slug)).first()
    if cluster is None or cluster.id is None:
        raise ValueError(f"unknown cluster {cluster_slug!r}")
    organization = Organization(
        name=clean_organization_name(name),
        cluster_id=cluster.id,
        size=Size(size).value,
        region=clean_region(region),
        invite_code=new_invite_code(),
        origin="bot",
    )
    member = session.get(Member, member_id) if member_id is not None else None
    if member_id is not None and member is None:
        raise OrganizationNotFound(f"member {member_id}")
    session.add(organization)
    session.flush()
    if member is not None:
        company_contacts.become_contact(session=session, member=member, organization=organization)
    session.commit()
    session.refresh(organization)
    return organization


def join_by_invite_code(*, session: Session, member_id: int, code: str) -> Organization:
    """A colleague's invite link: the link was handed on by a contact, so it joins at once."""
    code = code.strip()
    organization = (
        session.exec(select(Organization).where(Organization.invite_code == code)).first()
        if code
        else None
    )
    member = session.get(Member, member_id)
    if organization is None or organization.id is None or member is None:
        raise OrganizationNotFound(code)
    if member.organization_id not in (None, organization.id):
        raise company_contacts.AlreadyContact(str(member.organization_id))
    company_contacts.become_contact(session=session, member=member, organization=organization)
    session.commit()
    return organization


def invite_code_for(*, session: Session, organization_id: int) -> str:
    """The organization's invite code, created on first use (imported rows have none)."""
    organization = session.get(Organization, organization_id)
    if organization is None:
        raise OrganizationNotFound(organization_id)
    if not organization.invite_code:
        organization.invite_code = new_invite_code()
        session.add(organization)
        session.commit()
    return organization.invite_code or ""


@dataclass(frozen=True)
class Registration:
    member: Member
    invite_code: str  # for colleagues; "" when the member has no organization (a manager)


def complete_registration(*, session: Session, member_id: int, name: str) -> Registration:
    """Stores the contact's name, the last step of onboarding, and hands back the invite code
    of their organization (created on first use) to pass on to colleagues."""
    member = set_display_name(session=session, member_id=member_id, name=name)
    code = ""
    if member.organization_id is not None:
        code = invite_code_for(session=session, organization_id=member.organization_id)
    return Registration(member=member, invite_code=code)


def get_organization(*, session: Session, organization_id: int) -> Organization | None:
    return session.get(Organization, organization_id)


def colleagues(*, session: Session, organization_id: int) -> list[Member]:
    return company_contacts.contacts_of(session=session, organization_id=organization_id)
