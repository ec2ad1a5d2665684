"""The messages the system sends on its own initiative: one kind, one typed payload each.

A service builds a payload object and queues it (`kooperation.services.outbox.queue_message`);
the outbox row stores the kind (`KIND` of the payload's class) and the payload's fields as JSON
(`to_data`); `bot/outbox_render.py` renders it in the member's language at send time. The
payload is data, not text, so this package stays free of Telegram and the message catalogue.

Field names are the JSON keys the rows have always had: a row queued by an older version still
reads (`from_payload`): a missing key takes its field's default, an unknown key is ignored.
Optional fields that are None are not stored (a contact's join request carries no staff-only
key at all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date
from enum import Enum, StrEnum
from typing import Any, ClassVar, TypeVar

from pydantic import TypeAdapter, ValidationError

from kooperation.models import JoinKind, JoinStatus, Kind, MatchStatus


class OutboxKind(StrEnum):
    """`Outbox.kind`: what a queued message is; its value is stored in the row."""

    DIGEST = "digest"
    FOLLOWUP = "followup"
    EXPIRY_REMINDER = "expiry_reminder"
    LISTING_CLOSED = "listing_closed"
    INTRO_OFFER = "intro_offer"
    INTRO_CONTACT = "intro_contact"
    INTRO_CLOSED = "intro_closed"
    INTRO_RESULT_MANAGER = "intro_result_manager"
    MANAGER_NEW_PROPOSALS = "manager_new_proposals"
    JOIN_REQUEST = "join_request"
    JOIN_DECIDED = "join_decided"
    COMPANY_ORPHANED = "company_orphaned"
    MEMBERSHIP_REVIEW = "membership_review"
    JOB_FAILED = "job_failed"


class PayloadError(ValueError):
    """A stored payload that no payload class reads (unknown kind, missing or wrong field)."""


# ------------------------------------------------------------------------------ the digest
class DigestState(StrEnum):
    """Where an introduction of the member's listing stands (the digest's wording)."""

    INTRODUCED = "introduced"
    CLOSED = "closed"  # declined by someone; the member is not told who
    WAITING_OTHER = "waiting_other"  # the member accepted, the other side has not answered


@dataclass(frozen=True)
class DigestWaiting:
    """An approved match still waiting for the member's answer."""

    own_title: str
    other_title: str
    match_id: int | None = None
    other_cluster: str = ""
    reason_de: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class DigestIntroduction:
    """An introduction of the member's listing that moved since their last digest."""

    own_title: str
    state: DigestState
    match_id: int | None = None
    other_title: str = ""
    other_cluster: str = ""
    other_org: str = ""  # only once introduced


@dataclass(frozen=True)
class DigestOpportunity:
    """A listing from another cluster that fits one of the member's own."""

    title: str
    own_title: str
    kind: Kind = Kind.OFFER
    listing_id: int | None = None
    cluster: str = ""
    score: float = 0.0
    reason_de: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class WeeklyDigest:
    KIND: ClassVar[OutboxKind] = OutboxKind.DIGEST

    week: str = ""
    waiting: tuple[DigestWaiting, ...] = ()
    introductions: tuple[DigestIntroduction, ...] = ()
    opportunities: tuple[DigestOpportunity, ...] = ()


# ------------------------------------------------------------------------------ listings
@dataclass(frozen=True)
class FollowupQuestion:
    """14 days after an introduction: did it lead anywhere?"""

    KIND: ClassVar[OutboxKind] = OutboxKind.FOLLOWUP

    match_id: int
    own_title: str
    other_org: str


@dataclass(frozen=True)
class ExpiryReminder:
    """An open listing expires soon; one tap extends it."""

    KIND: ClassVar[OutboxKind] = OutboxKind.EXPIRY_REMINDER

    listing_id: int
    title: str
    expires_on: date  # a day in the programme's time zone
    kind: Kind | None = None
    extend_days: int = 90


@dataclass(frozen=True)
class ListingClosed(ExpiryReminder):
    """An expired listing was closed; one tap reopens it."""

    KIND: ClassVar[OutboxKind] = OutboxKind.LISTING_CLOSED


# ------------------------------------------------------------------------------ introductions
@dataclass(frozen=True)
class IntroOffer:
    """To one side of an approved match: meet the other? No contact details yet."""

    KIND: ClassVar[OutboxKind] = OutboxKind.INTRO_OFFER

    match_id: int
    own_title: str
    other_kind: Kind
    other_organization: str
    other_cluster: str
    other_title: str
    other_text: str
    side: Kind | None = None
    reason_de: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class IntroContact:
    """Both said yes: the other side's contact."""

    KIND: ClassVar[OutboxKind] = OutboxKind.INTRO_CONTACT

    match_id: int
    own_title: str
    other_title: str
    name: str
    organization: str
    cluster: str
    username: str = ""
    email: str = ""


@dataclass(frozen=True)
class IntroClosed:
    """The other side declined: a neutral "not this time" (who declined is not said)."""

    KIND: ClassVar[OutboxKind] = OutboxKind.INTRO_CLOSED

    match_id: int
    other_organization: str
    own_title: str


@dataclass(frozen=True)
class IntroResult:
    """To the manager who approved: introduced, or declined by whom."""

    KIND: ClassVar[OutboxKind] = OutboxKind.INTRO_RESULT_MANAGER

    match_id: int
    outcome: MatchStatus  # introduced | declined
    need_organization: str
    offer_organization: str
    need_title: str = ""
    offer_title: str = ""
    declined_by: str | None = None


@dataclass(frozen=True)
class NewProposals:
    """To a manager: a matching round left proposals to review."""

    KIND: ClassVar[OutboxKind] = OutboxKind.MANAGER_NEW_PROPOSALS

    count: int
    pending: int


# ------------------------------------------------------------------------------ membership
@dataclass(frozen=True)
class JoinRequested:
    """To a company's contacts (a join) and its cluster's managers (a join or a claim).

    The staff-only fields (the company's imported contact) stay None for contacts, so their
    row never holds them.
    """

    KIND: ClassVar[OutboxKind] = OutboxKind.JOIN_REQUEST

    request_id: int
    organization: str
    kind: JoinKind = JoinKind.JOIN
    cluster: str = ""
    requester: str = ""
    username: str = ""
    for_staff: bool | None = None
    organization_id: int | None = None
    contact_name: str | None = None
    contact_email: str | None = None


@dataclass(frozen=True)
class JoinDecided:
    """To the requester: approved (welcome), or neutrally not confirmed."""

    KIND: ClassVar[OutboxKind] = OutboxKind.JOIN_DECIDED

    organization: str
    status: JoinStatus
    kind: JoinKind = JoinKind.JOIN


@dataclass(frozen=True)
class CompanyOrphaned:
    """To the cluster's managers: the last contact left; the listings were paused."""

    KIND: ClassVar[OutboxKind] = OutboxKind.COMPANY_ORPHANED

    organization: str
    organization_id: int
    paused: int = 0


@dataclass(frozen=True)
class ReviewCompany:
    organization: str
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class MembershipReview:
    """Once after the membership upgrade: companies whose contacts joined unverified."""

    KIND: ClassVar[OutboxKind] = OutboxKind.MEMBERSHIP_REVIEW

    companies: tuple[ReviewCompany, ...] = ()


# ------------------------------------------------------------------------------ operations
@dataclass(frozen=True)
class JobFailed:
    """To the admins: a scheduled job still failed after its last retry."""

    KIND: ClassVar[OutboxKind] = OutboxKind.JOB_FAILED

    job: str
    slot: str  # local time, "YYYY-MM-DD HH:MM"
    attempts: int
    error: str


OutboxPayload = (
    WeeklyDigest
    | FollowupQuestion
    | ExpiryReminder
    | ListingClosed
    | IntroOffer
    | IntroContact
    | IntroClosed
    | IntroResult
    | NewProposals
    | JoinRequested
    | JoinDecided
    | CompanyOrphaned
    | MembershipReview
    | JobFailed
)

PAYLOAD_TYPES: dict[OutboxKind, type[OutboxPayload]] = {
    cls.KIND: cls
    for cls in (
        WeeklyDigest,
        FollowupQuestion,
        ExpiryReminder,
        ListingClosed,
        IntroOffer,
        IntroContact,
        IntroClosed,
        IntroResult,
        NewProposals,
        JoinRequested,
        JoinDecided,
        CompanyOrphaned,
        MembershipReview,
        JobFailed,
    )
}


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(item) for item in value]
    return value


def _json_fields(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return {key: _json_value(value) for key, value in pairs if value is not None}


def to_data(payload: OutboxPayload) -> dict[str, Any]:
    """The row's JSON: `dataclasses.asdict` with enums and days as strings, None left out."""
    return asdict(payload, dict_factory=_json_fields)


P = TypeVar("P", bound=OutboxPayload)


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[P]) -> TypeAdapter[P]:
    """Built on first use (a few milliseconds each), not at import."""
    if cls not in _ADAPTERS:
        _ADAPTERS[cls] = TypeAdapter(cls)
    return _ADAPTERS[cls]


def read(cls: type[P], data: Mapping[str, Any]) -> P:
    """`data` in the stored JSON shape (nested items as dicts, enums and days as strings) as a
    `cls`; missing optional keys take their defaults, unknown keys are ignored."""
    try:
        return _adapter(cls).validate_python(data)
    except ValidationError as error:
        raise PayloadError(f"outbox {cls.KIND} payload: {error}") from None


def from_payload(kind: str, data: Mapping[str, Any]) -> OutboxPayload:
    """Reads a stored payload of `kind`, also one an older version wrote."""
    try:
        cls = PAYLOAD_TYPES[OutboxKind(kind)]
    except ValueError:
        raise PayloadError(f"unknown outbox kind {kind!r}") from None
    return read(cls, data)
