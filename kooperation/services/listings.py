"""Needs and offers of a contact: publish, edit, pause/resume, close, and the contact's matches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, or_, select

from kooperation.language import detect_language
from kooperation.models import (
    Cluster,
    Kind,
    Listing,
    ListingStatus,
    Match,
    MatchStatus,
    Member,
    Organization,
    utcnow,
)
from kooperation.reference import categories
from kooperation.services.company_contacts import is_contact, refuse_not_yours
from kooperation.services.members import NotRegistered
from kooperation.validation import clean_listing_text, title_for

DEFAULT_LIFETIME_DAYS = 90


class ListingError(Exception):
    """Base of the listing errors the bot turns into a friendly text."""


class ListingNotFound(ListingError):
    """No such listing, or it belongs to someone else (we do not tell which)."""


class ListingStateError(ListingError):
    """The action does not fit the listing's state (e.g. pausing a closed listing)."""


class NoOrganization(ListingError):
    """The member has not chosen an organization yet."""


_NEED_CUES = re.compile(
    r"\b(such\w*|gesucht|benötig\w*|brauch\w*|bedarf|looking for|seek\w*|need(s|ed)?|"
    r"requir\w*|wanted|in search of)\b"
)
_OFFER_CUES = re.compile(
    r"\b(biete[nt]?|anbieten|anzubieten|angeboten|offer(s|ing)?|provid(e|es|ing)|"
    r"we (develop|deliver|supply|sell)|wir (entwickeln|liefern|verkaufen))\b"
)


def guess_kind(text: str) -> str:
    """Need or offer by the wording ("wir suchen" / "we offer"); a need when unsure.

    Only a first guess for the preview, which lets the contact switch before publishing.
    "Anbieter" (provider) is not an offer cue: "Wir suchen einen Anbieter" is a need.
    """
    value = text.casefold()
    offers = len(_OFFER_CUES.findall(value))
    needs = len(_NEED_CUES.findall(value))
    return Kind.OFFER.value if offers > needs else Kind.NEED.value


def clean_tags(tags: list[str] | tuple[str, ...] | None) -> list[str]:
    """Known category slugs only, in catalogue order, no duplicates."""
    wanted = set(tags or [])
    return [category.slug for category in categories() if category.slug in wanted]


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.consent_at is None:
        raise NotRegistered(member_id)
    return member


def create_listing(
    *,
    session: Session,
    member_id: int,
    kind: str,
    text: str,
    tags: list[str] | None = None,
    lifetime_days: int = DEFAULT_LIFETIME_DAYS,
) -> Listing:
    """Publishes a confirmed need or offer; matching picks it up from here."""
    member = _member(session, member_id)
    if member.organization_id is None:
        raise NoOrganization(member_id)
    value = clean_listing_text(text)
    now = utcnow()
    listing = Listing(
        organization_id=member.organization_id,
        member_id=member.id,
        kind=Kind(kind).value,
        title=title_for(value),
        text=value,
        tags=clean_tags(tags),
        language=detect_language(value, default=member.language),
        status=ListingStatus.ACTIVE,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=lifetime_days),
    )
    session.add(listing)
    session.commit()
    session.refresh(listing)
    return listing


def owned_listing(*, session: Session, member_id: int, listing_id: int) -> Listing:
    """The listing if `member_id` wrote it and still speaks for its company; otherwise
    `ListingNotFound`, whoever owns it (a refused attempt on an existing one is audit-logged)."""
    listing = session.get(Listing, listing_id)
    member = session.get(Member, member_id)
    if listing is None:
        raise ListingNotFound(listing_id)
    if listing.member_id != member_id or not is_contact(
        member=member, organization_id=listing.organization_id
    ):
        refuse_not_yours(session=session, member=member, target=f"listing:{listing_id}")
        raise ListingNotFound(listing_id)
    return listing


def update_listing(
    *,
    session: Session,
    member_id: int,
    listing_id: int,
    text: str,
    tags: list[str] | None = None,
) -> Listing:
    """New text and tags for an open listing; matching re-embeds it by its content hash."""
    listing = owned_listing(session=session, member_id=member_id, listing_id=listing_id)
    if listing.status == ListingStatus.CLOSED:
        raise ListingStateError("closed")
    value = clean_listing_text(text)
    listing.text = value
    listing.title = title_for(value)
    listing.tags = clean_tags(tags)
    listing.language = detect_language(value, default=listing.language)
    listing.updated_at = utcnow()
    session.add(listing)
    session.commit()
    return listing


_TRANSITIONS = {
    "pause": ({ListingStatus.ACTIVE}, ListingStatus.PAUSED),
    "resume": ({ListingStatus.PAUSED}, ListingStatus.ACTIVE),
    "close": ({ListingStatus.ACTIVE, ListingStatus.PAUSED}, ListingStatus.CLOSED),
}


def change_status(*, session: Session, member_id: int, listing_id: int, action: str) -> Listing:
    """Pauses, resumes or closes one of the member's listings.

    Raises `ListingNotFound` for someone else's listing and `ListingStateError` when the
    listing is not in a state the action applies to (a stale button).
    """
    if action not in _TRANSITIONS:
        raise ListingStateError(action)
    listing = owned_listing(session=session, member_id=member_id, listing_id=listing_id)
    allowed, target = _TRANSITIONS[action]
    if listing.status not in allowed:
        raise ListingStateError(action)
    listing.status = target
    listing.updated_at = utcnow()
    session.add(listing)
    session.commit()
    return listing


def listings_of(*, session: Session, member_id: int, include_closed: bool = False) -> list[Listing]:
    """The member's own listings of the company they speak for now (none after leaving it)."""
    company = select(Member.organization_id).where(Member.id == member_id).scalar_subquery()
    query = select(Listing).where(
        Listing.member_id == member_id, Listing.organization_id == company
    )
    if not include_closed:
        query = query.where(Listing.status != ListingStatus.CLOSED)
    return list(session.exec(query.order_by(col(Listing.created_at).desc())).all())


@dataclass(frozen=True)
class MatchSummary:
    """One proposal as its contact may see it: never the manager's rejection reason and
    never who declined; the other side's organization only once a manager approved."""

    match_id: int
    my_kind: str
    my_title: str
    state: str  # review | waiting | accepted | introduced | closed
    other_organization: str
    other_cluster: str
    other_title: str


def _contact_state(match: Match, mine_is_need: bool) -> str:
    my_answer = match.need_answer if mine_is_need else match.offer_answer
    if match.status == MatchStatus.PROPOSED:
        return "review"
    if match.status == MatchStatus.APPROVED:
        return "accepted" if my_answer else "waiting"
    if match.status == MatchStatus.INTRODUCED:
        return "introduced"
    return "closed"


def matches_of(*, session: Session, member_id: int) -> list[MatchSummary]:
    """Proposals and introductions for the member's listings, newest first."""
    mine = {
        listing.id: listing
        for listing in listings_of(session=session, member_id=member_id, include_closed=True)
    }
    if not mine:
        return []
    ids = list(mine)
    rows = session.exec(
        select(Match)
        .where(or_(col(Match.need_id).in_(ids), col(Match.offer_id).in_(ids)))
        .order_by(col(Match.created_at).desc())
    ).all()
    summaries = []
    for match in rows:
        mine_is_need = match.need_id in mine
        my_listing = mine[match.need_id if mine_is_need else match.offer_id]
        other = session.get(Listing, match.offer_id if mine_is_need else match.need_id)
        state = _contact_state(match, mine_is_need)
        if state not in {"waiting", "accepted", "introduced"}:
            other = None  # the other side is named once an introduction is under way
        organization = session.get(Organization, other.organization_id) if other else None
        cluster = session.get(Cluster, organization.cluster_id) if organization else None
        summaries.append(
            MatchSummary(
                match_id=match.id or 0,
                my_kind=my_listing.kind,
                my_title=my_listing.title,
                state=state,
                other_organization=organization.name if organization else "",
                other_cluster=(cluster.short_name or cluster.name) if cluster else "",
                other_title=other.title if other else "",
            )
        )
    return summaries
