"""The introduction opt-in after a manager's approval (double opt-in).

approved → each side gets an offer about the other side, without contact details, and
answers Accept or Decline (`Match.need_answer` / `Match.offer_answer`). Both accepted →
`introduced`, and only then each side gets the other's contact. A decline → `declined`;
the other side learns only that the introduction does not come about, never that it was
declined. The approving manager is told the outcome either way.

Every transition is one conditional UPDATE, so answers arriving at the same moment (or a
pressed button arriving twice) move a match at most once and queue each message once; an
answer, the move it decides and the messages it queues commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from kooperation.messages import IntroClosed, IntroContact, IntroOffer, IntroResult
from kooperation.models import (
    Answer,
    Cluster,
    Kind,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    Outbox,
    utcnow,
)
from kooperation.services.company_contacts import refuse_not_yours
from kooperation.services.outbox import queue_message

SIDES = ("need", "offer")


class IntroductionError(Exception):
    """Base of the errors a member's answer can meet; the bot turns each into a text."""


class IntroductionNotFound(IntroductionError):
    pass


class NotASide(IntroductionError):
    """The member belongs to neither organization of the match (a forged or foreign button)."""


class IntroductionClosed(IntroductionError):
    """The match is no longer waiting for answers (already introduced, declined, …)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"introduction is {status}")
        self.status = status


class AlreadyAnswered(IntroductionError):
    def __init__(self, answer: str) -> None:
        super().__init__(f"already answered: {answer}")
        self.answer = answer


@dataclass(frozen=True)
class SideInfo:
    """One side of a match as the other side and the managers see it."""

    side: str
    listing: Listing
    organization: Organization
    cluster: Cluster

    @property
    def title(self) -> str:
        return listing_title(self.listing)


@dataclass(frozen=True)
class AnswerResult:
    match_id: int
    side: str
    accepted: bool
    status: str
    other_organization: str


def listing_title(listing: Listing, length: int = 80) -> str:
    """The title, or the start of the text when the listing has none."""
    if listing.title:
        return listing.title
    text = " ".join(listing.text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def sides(*, session: Session, match: Match) -> dict[str, SideInfo]:
    """Both sides of a match with their listing, organization and cluster."""
    result = {}
    for side, listing_id in (("need", match.need_id), ("offer", match.offer_id)):
        listing, organization, cluster = session.exec(
            select(Listing, Organization, Cluster)
            .join(Organization, col(Organization.id) == col(Listing.organization_id))
            .join(Cluster, col(Cluster.id) == col(Organization.cluster_id))
            .where(Listing.id == listing_id)
        ).one()
        result[side] = SideInfo(side, listing, organization, cluster)
    return result


def other(side: str) -> str:
    return "offer" if side == "need" else "need"


def side_contact(*, session: Session, listing: Listing) -> Member | None:
    """Who speaks for a listing: its author, else the organization's first consenting contact."""
    if listing.member_id is not None:
        author = session.get(Member, listing.member_id)
        if (
            author is not None
            and author.active
            and author.organization_id == listing.organization_id
        ):
            return author  # still a contact of the listing's company (not a former one)
    return session.exec(
        select(Member)
        .where(
            Member.organization_id == listing.organization_id,
            col(Member.consent_at).is_not(None),
            col(Member.active).is_(True),
        )
        .order_by(col(Member.created_at), col(Member.id))
    ).first()


def _offer_payload(match: Match, own: SideInfo, theirs: SideInfo) -> IntroOffer:
    return IntroOffer(
        match_id=match.id or 0,
        side=Kind(own.side),
        own_title=own.title,
        other_kind=Kind(theirs.listing.kind),
        other_organization=theirs.organization.name,
        other_cluster=theirs.cluster.name,
        other_title=theirs.title,
        other_text=theirs.listing.text,
        reason_de=match.reason_de,
        reason_en=match.reason_en,
    )


def start_introduction(*, session: Session, match: Match) -> list[str]:
    """Queues the offer to both sides (no contact details); does not commit.

    Returns the names of organizations nobody could be asked for (no contact in the bot).
    """
    both = sides(session=session, match=match)
    unreachable = []
    for side in SIDES:
        own, theirs = both[side], both[other(side)]
        contact = side_contact(session=session, listing=own.listing)
        queued = contact is not None and queue_message(
            session=session,
            member=contact,
            dedupe_key=f"intro_offer:{match.id}:{side}",
            payload=_offer_payload(match, own, theirs),
        )
        if not queued:
            unreachable.append(own.organization.name)
    return unreachable


def contact_details(*, session: Session, info: SideInfo) -> dict[str, str]:
    """Name, organization, @username and e-mail of a side, where given."""
    member = side_contact(session=session, listing=info.listing)
    return {
        "name": (member.display_name if member else "") or info.organization.contact_name,
        "organization": info.organization.name,
        "cluster": info.cluster.name,
        "username": member.username if member else "",
        "email": (member.email if member else "") or info.organization.contact_email,
    }


def answer_introduction(
    *, session: Session, member: Member, match_id: int, accept: bool
) -> AnswerResult:
    """Records one side's Accept or Decline and, when that decides the match, moves it and
    queues the messages, all in one transaction: a crash leaves either nothing or all of it.

    The same Decline pressed again after the match closed on it confirms it again (a button
    pressed twice, or pressed again after a crash) instead of saying "already answered".
    """
    match = session.get(Match, match_id)
    if match is None:
        raise IntroductionNotFound(str(match_id))
    both = sides(session=session, match=match)
    side = next((s for s in SIDES if member.organization_id == both[s].organization.id), None)
    if side is None or member.organization_id is None:
        refuse_not_yours(session=session, member=member, target=f"match:{match_id}")
        raise NotASide(str(match_id))
    own_answer = getattr(match, f"{side}_answer")
    if not accept and match.status == MatchStatus.DECLINED and own_answer == Answer.DECLINED:
        return _result(match, both, side, accept, match.status)
    if match.status != MatchStatus.APPROVED:
        raise IntroductionClosed(match.status)
    answer_column = col(Match.need_answer) if side == "need" else col(Match.offer_answer)
    answer = Answer.ACCEPTED if accept else Answer.DECLINED
    values: dict[str, Any] = {f"{side}_answer": answer.value, f"{side}_answered_at": utcnow()}
    if not accept:
        values["status"] = MatchStatus.DECLINED
    result = session.exec(
        update(Match)
        .where(
            col(Match.id) == match_id,
            col(Match.status) == MatchStatus.APPROVED,
            answer_column.is_(None),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.rollback()
        session.refresh(match)
        if match.status != MatchStatus.APPROVED:
            raise IntroductionClosed(match.status)
        raise AlreadyAnswered(str(getattr(match, f"{side}_answer")))
    if accept:
        _introduce(session, match, both)
    else:
        _tell_decline(session, match, both, side)
    session.commit()
    session.refresh(match)
    return _result(match, both, side, accept, match.status)


def _result(
    match: Match, both: dict[str, SideInfo], side: str, accept: bool, status: str
) -> AnswerResult:
    return AnswerResult(
        match_id=match.id or 0,
        side=side,
        accepted=accept,
        status=status,
        other_organization=both[other(side)].organization.name,
    )


def repair_decisions(*, session: Session) -> int:
    """Finishes every match an interrupted answer left half-decided; returns how many.

    Before answers became one transaction, a crash between "answer recorded" and "match
    moved" left a match `approved` with one side declined (or both accepted and no contacts
    exchanged). Such a match is moved as the answer would have moved it, and the other side
    and the manager are told through the outbox (dedupe keys: at most once). The bot runs
    this at every start.
    """
    declined = or_(
        col(Match.need_answer) == Answer.DECLINED, col(Match.offer_answer) == Answer.DECLINED
    )
    accepted = (col(Match.need_answer) == Answer.ACCEPTED) & (
        col(Match.offer_answer) == Answer.ACCEPTED
    )
    stuck = session.exec(
        select(Match)
        .where(col(Match.status) == MatchStatus.APPROVED, or_(declined, accepted))
        .order_by(col(Match.id))
    ).all()
    repaired = 0
    for match in stuck:
        both = sides(session=session, match=match)
        if Answer.DECLINED in (match.need_answer, match.offer_answer):
            side = "need" if match.need_answer == Answer.DECLINED else "offer"
            moved = session.exec(
                update(Match)
                .where(col(Match.id) == match.id, col(Match.status) == MatchStatus.APPROVED)
                .values(status=MatchStatus.DECLINED)
                .execution_options(synchronize_session=False)
            )
            if moved.rowcount == 1:
                _tell_decline(session, match, both, side)
                repaired += 1
        elif _introduce(session, match, both):
            repaired += 1
        session.commit()
    return repaired


def _manager_of(session: Session, match: Match) -> Member | None:
    return session.get(Member, match.decided_by_id) if match.decided_by_id else None


def _result_payload(
    match: Match, both: dict[str, SideInfo], outcome: MatchStatus, declined_by: str | None = None
) -> IntroResult:
    return IntroResult(
        match_id=match.id or 0,
        outcome=outcome,
        need_organization=both["need"].organization.name,
        need_title=both["need"].title,
        offer_organization=both["offer"].organization.name,
        offer_title=both["offer"].title,
        declined_by=declined_by,
    )


def _tell_decline(session: Session, match: Match, both: dict[str, SideInfo], side: str) -> None:
    """A decline decided the match: the other side hears a neutral 'not this time', the
    manager who declined. Queues only; the caller commits with the status change."""
    theirs = both[other(side)]
    contact = side_contact(session=session, listing=theirs.listing)
    if contact is not None:
        queue_message(
            session=session,
            member=contact,
            dedupe_key=f"intro_closed:{match.id}:{theirs.side}",
            payload=IntroClosed(
                match_id=match.id or 0,
                other_organization=both[side].organization.name,
                own_title=theirs.title,
            ),
        )
    manager = _manager_of(session, match)
    if manager is not None:
        queue_message(
            session=session,
            member=manager,
            dedupe_key=f"intro_result:{match.id}",
            payload=_result_payload(
                match, both, MatchStatus.DECLINED, declined_by=both[side].organization.name
            ),
        )


def _introduce(session: Session, match: Match, both: dict[str, SideInfo]) -> bool:
    """Both accepted: exchange the contacts and tell the manager (once, whoever came second).

    Returns whether this call moved the match; does not commit.
    """
    now = utcnow()
    moved = session.exec(
        update(Match)
        .where(
            col(Match.id) == match.id,
            col(Match.status) == MatchStatus.APPROVED,
            col(Match.need_answer) == Answer.ACCEPTED,
            col(Match.offer_answer) == Answer.ACCEPTED,
        )
        .values(status=MatchStatus.INTRODUCED, introduced_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return False
    for side in SIDES:
        own, theirs = both[side], both[other(side)]
        contact = side_contact(session=session, listing=own.listing)
        if contact is None:
            continue
        queue_message(
            session=session,
            member=contact,
            dedupe_key=f"intro_contact:{match.id}:{side}",
            payload=IntroContact(
                match_id=match.id or 0,
                own_title=own.title,
                other_title=theirs.title,
                **contact_details(session=session, info=theirs),
            ),
        )
    manager = _manager_of(session, match)
    if manager is not None:
        queue_message(
            session=session,
            member=manager,
            dedupe_key=f"intro_result:{match.id}",
            payload=_result_payload(match, both, MatchStatus.INTRODUCED),
        )
    return True


def messages_of_match(*, session: Session, match_id: int) -> list[Outbox]:
    """Every message the review and introduction of this match queued, oldest first.

    For `matchbot demo` and support: render each with `bot.outbox_render.render(row.kind,
    language, row.payload)` to show what each side and the manager received.
    """
    prefixes = ("intro_offer", "intro_contact", "intro_closed")  # of the dedupe keys
    keys = [f"{prefix}:{match_id}:%" for prefix in prefixes]
    return list(
        session.exec(
            select(Outbox)
            .where(
                or_(
                    *(col(Outbox.dedupe_key).like(key) for key in keys),
                    col(Outbox.dedupe_key) == f"intro_result:{match_id}",
                )
            )
            .order_by(col(Outbox.id))
        ).all()
    )
