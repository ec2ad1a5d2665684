"""A contact's rights over their data: everything stored about them, and deleting it.

Deleting removes the member, their listings (and with them embeddings and matches) and their
queued messages; the organization stays (it belongs to the programme), but contact details
that came from this member are cleared, and copies of their name, @username, e-mail and
listing texts in other members' and managers' messages (queued and sent) are blanked out.
SQLite runs with `secure_delete`, so deleted rows are overwritten in the file. Anonymous
counts survive in `StatCounter` so the programme's statistics do not shrink.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from enum import Enum
from typing import Any

from sqlmodel import Session, col, delete, or_, select

from kooperation.messages import OutboxKind, PayloadError, from_payload, to_data
from kooperation.models import (
    AuditLog,
    BotState,
    Cluster,
    JoinRequest,
    Kind,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    Outbox,
    OutboxStatus,
    StatCounter,
)
from kooperation.services import company_contacts
from kooperation.services.introductions import listing_title
from kooperation.services.members import NotRegistered

EXPORT_FORMAT = "kooperationsboerse-export/1"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_member_data(*, session: Session, member: Member) -> dict[str, Any]:
    """Everything stored about one member, as JSON-ready data."""
    if member.id is None:
        raise NotRegistered(member.telegram_user_id)
    telegram_user_id = member.telegram_user_id
    organization = session.get(Organization, member.organization_id or -1)
    cluster = session.get(Cluster, organization.cluster_id) if organization else None
    listings = session.exec(
        select(Listing).where(Listing.member_id == member.id).order_by(col(Listing.id))
    ).all()
    ids = [listing.id for listing in listings]
    matches = (
        session.exec(
            select(Match)
            .where(or_(col(Match.need_id).in_(ids), col(Match.offer_id).in_(ids)))
            .order_by(col(Match.id))
        ).all()
        if ids
        else []
    )
    messages = session.exec(
        select(Outbox).where(Outbox.member_id == member.id).order_by(col(Outbox.id))
    ).all()
    states = session.exec(select(BotState).where(col(BotState.key).contains(str(telegram_user_id))))
    return {
        "format": EXPORT_FORMAT,
        "member": {
            "telegram_user_id": member.telegram_user_id,
            "chat_id": member.chat_id,
            "username": member.username,
            "name": member.display_name,
            "email": member.email,
            "language": member.language,
            "role": member.role,
            "consent_at": _iso(member.consent_at),
            "weekly_digest": member.digest_enabled,
            "matching_paused": member.paused,
            "reachable": member.active,
            "created_at": _iso(member.created_at),
        },
        "organization": (
            {
                "name": organization.name,
                "cluster": cluster.name if cluster else "",
                "size": organization.size,
                "region": organization.region,
                "website": organization.website,
                **company_contacts.own_contact_data(member=member, organization=organization),
            }
            if organization
            else None
        ),
        "listings": [
            {
                "id": listing.id,
                "kind": listing.kind,
                "text": listing.text,
                "tags": listing.tags,
                "language": listing.language,
                "status": listing.status,
                "created_at": _iso(listing.created_at),
                "updated_at": _iso(listing.updated_at),
                "expires_at": _iso(listing.expires_at),
            }
            for listing in listings
        ],
        "matches": [
            {
                "id": match.id,
                "my_listing_id": match.need_id if match.need_id in ids else match.offer_id,
                "status": match.status
                if match.status not in {MatchStatus.REJECTED, MatchStatus.DECLINED}
                else "closed",
                "my_answer": match.need_answer if match.need_id in ids else match.offer_answer,
                "created_at": _iso(match.created_at),
                "introduced_at": _iso(match.introduced_at),
            }
            for match in matches
        ],
        "messages": [
            {"kind": m.kind, "status": m.status, "created_at": _iso(m.created_at)} for m in messages
        ],
        "bot_state": [
            {"namespace": s.namespace, "key": s.key, "data": s.data}
            for s in states
            if _state_belongs_to(s.key, telegram_user_id)
        ],
    }


def _state_belongs_to(key: str, telegram_user_id: int) -> bool:
    return str(telegram_user_id) in key.split(",")


def bump_counter(*, session: Session, name: str, by: int = 1) -> None:
    """Adds to an anonymous statistics counter; does not commit."""
    if by == 0:
        return
    counter = session.get(StatCounter, name) or StatCounter(name=name, value=0)
    counter.value += by
    session.add(counter)


DELETION_COUNTERS = (
    "members_deleted",
    "needs_deleted",
    "offers_deleted",
    "matches_deleted",
    "introductions_deleted",
)


def deletion_counts(*, session: Session) -> dict[str, int]:
    """What deleted members took with them, for statistics that must not shrink."""
    rows = session.exec(select(StatCounter).where(col(StatCounter.name).in_(DELETION_COUNTERS)))
    counts = dict.fromkeys(DELETION_COUNTERS, 0)
    counts.update({row.name: row.value for row in rows})
    return counts


@dataclass(frozen=True)
class Deletion:
    listings: int
    matches: int


REDACTED = "[…]"
"""What stands in a message of somebody else where a deleted member's data was."""
_SECRET_MIN = 3  # shorter names would cut through ordinary words


def personal_strings(member: Member, listings: Sequence[Listing]) -> list[str]:
    """Everything of a member that other people's messages may hold a copy of, longest first."""
    values = {member.display_name, member.email, member.username}
    if member.username:
        values.add(f"@{member.username}")
    for listing in listings:
        values.update({listing.text, listing.title, listing.title.rstrip("…").rstrip()})
        values.add(listing_title(listing).rstrip("…").rstrip())
    return sorted((v for v in values if len(v) >= _SECRET_MIN), key=len, reverse=True)


def _scrub_value(value: Any, secrets: list[str], gone: set[tuple[str, int]]) -> Any:
    """`value` with every secret in its texts replaced, and without the items of its lists
    that are about a deleted match or listing. Enum values (a kind, a state) are no texts."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list | tuple):
        kept = (_scrub_value(item, secrets, gone) for item in value if not _refers(item, gone))
        return type(value)(kept)
    if isinstance(value, dict):
        return {key: _scrub_value(item, secrets, gone) for key, item in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return replace(
            value,
            **{f.name: _scrub_value(getattr(value, f.name), secrets, gone) for f in fields(value)},
        )
    return value


def _refers(value: Any, gone: set[tuple[str, int]]) -> bool:
    """Whether a payload (or one item of it) is about a deleted match or listing."""
    if isinstance(value, dict):
        return any((key, value.get(key)) in gone for key in ("match_id", "listing_id"))
    return is_dataclass(value) and any(
        (key, getattr(value, key, None)) in gone for key in ("match_id", "listing_id")
    )


def _scrub_row(row: Outbox, secrets: list[str], gone: set[tuple[str, int]]) -> dict[str, Any]:
    """The row's payload scrubbed: its typed fields, so a kind or a day is never touched; a
    payload no payload class reads (corrupt) is scrubbed as the JSON it is."""
    try:
        message = from_payload(row.kind, row.payload)
    except PayloadError:
        return _scrub_value(row.payload, secrets, gone)
    scrubbed = _scrub_value(message, secrets, gone)
    return row.payload if scrubbed == message else to_data(scrubbed)


def scrub_messages(
    *, session: Session, member: Member, listings: Sequence[Listing], match_ids: set[int]
) -> int:
    """Removes a deleted member's name, @username, e-mail and listing texts from the messages
    of other members and managers, queued and sent; does not commit.

    A queued message about one of the deleted matches or listings is dropped (it could only
    show a button that no longer works); any other copy is replaced by `REDACTED`, and list
    items about deleted matches or listings (a digest's lines) are left out. Only messages
    written since the member joined can hold their data. Returns the rows changed.
    """
    secrets = personal_strings(member, listings)
    gone = {("match_id", i) for i in match_ids} | {
        ("listing_id", x.id) for x in listings if x.id is not None
    }
    rows = session.exec(
        select(Outbox).where(
            or_(col(Outbox.member_id).is_(None), col(Outbox.member_id) != member.id),
            col(Outbox.created_at) >= member.created_at,
        )
    ).all()
    # A join request shows the requester's Telegram name, which need not be their display name.
    requests = set(session.exec(select(JoinRequest.id).where(JoinRequest.member_id == member.id)))
    shown = {
        row.payload.get("requester") or ""
        for row in rows
        if row.kind == OutboxKind.JOIN_REQUEST and row.payload.get("request_id") in requests
    }
    secrets = sorted(
        {*secrets, *(s for s in shown if len(s) >= _SECRET_MIN)}, key=len, reverse=True
    )
    changed = 0
    for row in rows:
        if row.status == OutboxStatus.PENDING and _refers(row.payload, gone):
            session.delete(row)
            changed += 1
            continue
        payload = _scrub_row(row, secrets, gone)
        if payload != row.payload:
            row.payload = payload
            session.add(row)
            changed += 1
    return changed


def scrub_audit(*, session: Session, member: Member, listings: Sequence[Listing]) -> int:
    """Keeps the audit log's record of what happened but not who the deleted member was: their
    Telegram id and copies of their data in targets and details go; does not commit."""
    telegram_id = str(member.telegram_user_id)
    secrets = [*personal_strings(member, listings), telegram_id]
    rows = session.exec(
        select(AuditLog).where(
            or_(
                col(AuditLog.actor_telegram_id) == member.telegram_user_id,
                col(AuditLog.actor_id) == member.id,
                col(AuditLog.at) >= member.created_at,
            )
        )
    ).all()
    changed = 0
    for row in rows:
        target, detail = (
            _scrub_value(row.target, secrets, set()),
            _scrub_value(row.detail, secrets, set()),
        )
        mine = row.actor_telegram_id == member.telegram_user_id or row.actor_id == member.id
        if not mine and (target, detail) == (row.target, row.detail):
            continue
        if mine:
            row.actor_telegram_id, row.actor_id = None, None
        row.target, row.detail = target, detail
        session.add(row)
        changed += 1
    return changed


def delete_member_data(*, session: Session, member: Member) -> Deletion:
    """Deletes the member, their listings, matches, messages and bot state in one transaction."""
    if member.id is None:
        raise NotRegistered(member.telegram_user_id)
    telegram_user_id = member.telegram_user_id
    listings = session.exec(select(Listing).where(Listing.member_id == member.id)).all()
    ids = [listing.id for listing in listings]
    matches = (
        session.exec(
            select(Match).where(or_(col(Match.need_id).in_(ids), col(Match.offer_id).in_(ids)))
        ).all()
        if ids
        else []
    )
    bump_counter(session=session, name="members_deleted")
    bump_counter(
        session=session, name="needs_deleted", by=sum(x.kind == Kind.NEED for x in listings)
    )
    bump_counter(
        session=session, name="offers_deleted", by=sum(x.kind == Kind.OFFER for x in listings)
    )
    bump_counter(session=session, name="matches_deleted", by=len(matches))
    bump_counter(
        session=session,
        name="introductions_deleted",
        by=sum(m.status == MatchStatus.INTRODUCED for m in matches),
    )
    organization = session.get(Organization, member.organization_id or -1)
    if organization is not None:
        if member.display_name and organization.contact_name == member.display_name:
            organization.contact_name = ""
        if member.email and organization.contact_email == member.email:
            organization.contact_email = ""
        session.add(organization)
    match_ids = [match.id for match in matches]
    if match_ids:
        session.exec(delete(Match).where(col(Match.id).in_(match_ids)))
    if ids:
        session.exec(delete(Listing).where(col(Listing.id).in_(ids)))
    session.exec(delete(Outbox).where(col(Outbox.member_id) == member.id))
    scrub_messages(
        session=session,
        member=member,
        listings=listings,
        match_ids={m.id for m in matches if m.id is not None},
    )
    scrub_audit(session=session, member=member, listings=listings)
    for state in session.exec(select(BotState)).all():
        if _state_belongs_to(state.key, telegram_user_id):
            session.delete(state)
    session.flush()
    session.delete(member)
    session.commit()
    return Deletion(listings=len(listings), matches=len(matches))
