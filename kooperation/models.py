"""Every table of Kooperationsbörse. Alembic (`migrations/`) is the only way they are created.

Conventions: times are timezone-aware UTC (`UTCDateTime` keeps them so on SQLite too);
enumerations are plain strings checked in Python, so adding a value needs no migration;
Telegram ids are 64-bit.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, LargeBinary, String, Text, TypeDecorator
from sqlalchemy import UniqueConstraint as Unique
from sqlmodel import Field, SQLModel

TEXT_MAX = 1000
ID_MAX = 2**31 - 1
"""Largest primary key the schema holds (INTEGER on PostgreSQL; our ids on SQLite too): an id
read from outside (a button, a typed "#12", stored user data) beyond it names nothing."""
TITLE_MAX = 120


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; hands back aware datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, _dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _at(*, nullable: bool = False, index: bool = False) -> Any:
    """A UTC timestamp column; a required one defaults to now."""
    column: Column[datetime] = Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class Kind(StrEnum):
    NEED = "need"
    OFFER = "offer"


class ListingStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


class Size(StrEnum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"

    @property
    def is_kmu(self) -> bool:
        return self is not Size.LARGE

    @classmethod
    def kmu_sizes(cls) -> list[Size]:
        """The sizes that count as KMU (SME), for a query: `size IN (…)`."""
        return [size for size in cls if size.is_kmu]


class Role(StrEnum):
    MEMBER = "member"
    MANAGER = "manager"
    ADMIN = "admin"


class MatchStatus(StrEnum):
    """proposed → approved | rejected; approved → introduced (both accepted) | declined."""

    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    INTRODUCED = "introduced"
    DECLINED = "declined"


class Answer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class Feedback(StrEnum):
    """A side's answer to the follow-up 14 days after an introduction."""

    COOPERATING = "cooperating"
    IN_TOUCH = "in_touch"
    NO_CONTACT = "no_contact"


class JoinKind(StrEnum):
    """A join request to a company with contacts, or a claim of one that has none yet."""

    JOIN = "join"
    CLAIM = "claim"


class JoinStatus(StrEnum):
    """pending → approved | declined | expired | withdrawn (the requester chose otherwise)."""

    PENDING = "pending"
    APPROVED = "approved"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Cluster(SQLModel, table=True):
    """A member network; rows come from `kooperation/data/clusters.toml`."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(sa_type=String(32), unique=True)
    name: str = Field(sa_type=String(200))
    short_name: str = Field(default="", sa_type=String(60))


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(200), index=True)
    cluster_id: int = Field(foreign_key="cluster.id", index=True)
    size: str = Field(default=Size.SMALL, sa_type=String(16))
    region: str = Field(default="", sa_type=String(100))
    website: str = Field(default="", sa_type=String(200))
    description: str = Field(default="", sa_type=String(500))
    contact_name: str = Field(default="", sa_type=String(100))
    contact_email: str = Field(default="", sa_type=String(200))
    invite_code: str | None = Field(default=None, sa_type=String(32), unique=True)
    origin: str = Field(default="import", sa_type=String(8))  # "import" or "bot" (registered)
    membership_review: bool = False  # contacts joined before verified membership existed
    created_at: datetime = _at()


class Member(SQLModel, table=True):
    """A company contact who talks to the bot (or an admin/manager)."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, unique=True, nullable=False))
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    username: str = Field(default="", sa_type=String(64))
    display_name: str = Field(default="", sa_type=String(100))
    email: str = Field(default="", sa_type=String(200))
    language: str = Field(default="de", sa_type=String(2))
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    role: str = Field(default=Role.MEMBER, sa_type=String(16))
    consent_at: datetime | None = _at(nullable=True)
    digest_enabled: bool = True
    paused: bool = False
    active: bool = True
    created_at: datetime = _at()


class ManagerCluster(SQLModel, table=True):
    """Which clusters a manager reviews."""

    __tablename__ = "manager_cluster"
    member_id: int = Field(foreign_key="member.id", primary_key=True, ondelete="CASCADE")
    cluster_id: int = Field(foreign_key="cluster.id", primary_key=True)


class ManagerInvite(SQLModel, table=True):
    """A one-time link `/start mgr-<code>` that makes its user a manager of one cluster."""

    __tablename__ = "manager_invite"
    code: str = Field(sa_type=String(32), primary_key=True)
    cluster_id: int = Field(foreign_key="cluster.id")
    created_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    created_at: datetime = _at()
    expires_at: datetime = _at()
    used_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    used_at: datetime | None = _at(nullable=True)


class JoinRequest(SQLModel, table=True):
    """A person asks to become a contact of an existing company (`kind` join or claim).

    Until a contact of the company (join) or its cluster manager (join, claim) approves it,
    the requester is no contact: `Member.organization_id` stays empty.
    """

    __tablename__ = "join_request"
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    kind: str = Field(default=JoinKind.JOIN, sa_type=String(8))
    status: str = Field(default=JoinStatus.PENDING, sa_type=String(12), index=True)
    created_at: datetime = _at()
    expires_at: datetime = _at(index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    decided_at: datetime | None = _at(nullable=True)


class CompanyInvite(SQLModel, table=True):
    """A single-use link `/start co-<code>` a manager sends to a company's imported contact."""

    __tablename__ = "company_invite"
    code: str = Field(sa_type=String(32), primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    created_at: datetime = _at()
    expires_at: datetime = _at()
    used_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    used_at: datetime | None = _at(nullable=True)


class Listing(SQLModel, table=True):
    """A need ("we look for …") or an offer ("we provide …") of an organization."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True, ondelete="CASCADE")
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    kind: str = Field(sa_type=String(8), index=True)
    title: str = Field(default="", sa_type=String(TITLE_MAX))
    text: str = Field(sa_type=Text)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    language: str = Field(default="de", sa_type=String(2))
    status: str = Field(default=ListingStatus.ACTIVE, sa_type=String(8), index=True)
    ref: str | None = Field(default=None, sa_type=String(100), unique=True)
    created_at: datetime = _at()
    updated_at: datetime = _at()
    expires_at: datetime = _at(index=True)


class Embedding(SQLModel, table=True):
    """One vector per listing and model; `content_hash` tells whether the text changed since."""

    __table_args__ = (Unique("listing_id", "model"),)
    id: int | None = Field(default=None, primary_key=True)
    listing_id: int = Field(foreign_key="listing.id", index=True, ondelete="CASCADE")
    model: str = Field(sa_type=String(200))
    content_hash: str = Field(sa_type=String(64))
    dim: int
    vector: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # float32, little-endian
    created_at: datetime = _at()


class MatchRound(SQLModel, table=True):
    __tablename__ = "match_round"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = _at()
    finished_at: datetime | None = _at(nullable=True)
    mode: str = Field(default="full", sa_type=String(16))
    embedded: int = 0
    proposed: int = 0


class Match(SQLModel, table=True):
    """A proposed need↔offer pair, its score components and its way to an introduction."""

    __table_args__ = (Unique("need_id", "offer_id"),)
    id: int | None = Field(default=None, primary_key=True)
    need_id: int = Field(foreign_key="listing.id", index=True, ondelete="CASCADE")
    offer_id: int = Field(foreign_key="listing.id", index=True, ondelete="CASCADE")
    round_id: int | None = Field(default=None, foreign_key="match_round.id", ondelete="SET NULL")
    score: float
    semantic: float = 0.0
    lexical: float = 0.0
    tags: float = 0.0
    cross_cluster: float = 0.0
    kmu: float = 0.0
    reciprocity: float = 0.0
    shared_terms: list[str] = Field(default_factory=list, sa_type=JSON)
    reason_de: str = Field(default="", sa_type=Text)
    reason_en: str = Field(default="", sa_type=Text)
    status: str = Field(default=MatchStatus.PROPOSED, sa_type=String(16), index=True)
    created_at: datetime = _at()
    decided_by_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    decided_at: datetime | None = _at(nullable=True)
    rejection_reason: str = Field(default="", sa_type=String(300))
    need_answer: str | None = Field(default=None, sa_type=String(16))
    need_answered_at: datetime | None = _at(nullable=True)
    offer_answer: str | None = Field(default=None, sa_type=String(16))
    offer_answered_at: datetime | None = _at(nullable=True)
    introduced_at: datetime | None = _at(nullable=True)
    need_feedback: str | None = Field(default=None, sa_type=String(16))
    offer_feedback: str | None = Field(default=None, sa_type=String(16))
    # When the managers were told of this proposal (kooperation/services/review.py); None: not yet.
    announced_at: datetime | None = _at(nullable=True)


class Outbox(SQLModel, table=True):
    """Every message the system sends on its own initiative, written before it is sent.

    `payload` holds the message's data, one typed payload per `kind` (`kooperation.messages`),
    rendered in the member's language when it is sent.
    """

    id: int | None = Field(default=None, primary_key=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="CASCADE")
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_type=String(32), index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    dedupe_key: str = Field(sa_type=String(200), unique=True)
    status: str = Field(default=OutboxStatus.PENDING, sa_type=String(8), index=True)
    created_at: datetime = _at()
    due_at: datetime = _at(index=True)
    sent_at: datetime | None = _at(nullable=True)
    attempts: int = 0
    last_error: str = Field(default="", sa_type=String(500))


class AuditLog(SQLModel, table=True):
    """Every manager/admin action, including refused attempts."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _at(index=True)
    actor_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    actor_telegram_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    action: str = Field(sa_type=String(64))
    target: str = Field(default="", sa_type=String(100))
    allowed: bool = True
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class BotState(SQLModel, table=True):
    """Conversation states and per-user data of the bot, written through on every update."""

    __tablename__ = "bot_state"
    namespace: str = Field(sa_type=String(64), primary_key=True)
    key: str = Field(sa_type=String(64), primary_key=True)
    data: Any = Field(default=None, sa_type=JSON)
    updated_at: datetime = _at()


class StatCounter(SQLModel, table=True):
    """Anonymous counts kept after a member deletes their data (e.g. deleted listings)."""

    __tablename__ = "stat_counter"
    name: str = Field(sa_type=String(64), primary_key=True)
    value: int = 0


__all__ = [
    "TEXT_MAX",
    "TITLE_MAX",
    "Answer",
    "AuditLog",
    "BotState",
    "Cluster",
    "CompanyInvite",
    "Embedding",
    "Feedback",
    "JoinKind",
    "JoinRequest",
    "JoinStatus",
    "Kind",
    "Listing",
    "ListingStatus",
    "ManagerCluster",
    "ManagerInvite",
    "Match",
    "MatchRound",
    "MatchStatus",
    "Member",
    "Organization",
    "Outbox",
    "OutboxStatus",
    "Role",
    "SQLModel",
    "Size",
    "StatCounter",
    "UTCDateTime",
    "utcnow",
]
