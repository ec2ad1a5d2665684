"""Test data, seeded exactly as the real code writes it.

One module for every test (unit, schedules, matching, CLI and the end-to-end tests' database
seeds). The rule it keeps: a row looks the way the programme leaves it, because a test that
seeded proposals without their round passed while the real posting path never told a manager.
So:

- a company is an `Organization` as the CSV import leaves it (`origin` "import"); companies
  registered in the bot come from `organizations.register_organization` in the tests of that;
- a contact is created by consent (`identity.give_consent`) and becomes a verified contact of
  its company through `membership.become_contact`; name and e-mail go through `members`;
- managers and admins are named by Telegram id (`identity.ensure_member`) and get the role and
  cluster rows `appointments.appoint_manager` / `appointments.add_admin` write (not their
  audit entries: staff exist before a test's story begins);
- a contact's listing is published by `listings.create_listing` (title, language and tags as
  the bot derives them); a listing without a contact is a CSV row as the importer stores it;
- a proposal always belongs to a finished `MatchRound`, as `matching.rounds` stores it.

Where a test needs time to have passed (an old listing, an expired one), the factory moves
the timestamps after the real code wrote the row. Set directly, and said so where it happens:
states no service reaches in one step (a match already approved or introduced), a member
without a known chat, a listing's import `ref`, and the staff roles above.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from sqlmodel import Session, select

from kooperation.language import detect_language
from kooperation.models import (
    Cluster,
    Kind,
    Listing,
    ListingStatus,
    ManagerCluster,
    Match,
    MatchRound,
    MatchStatus,
    Member,
    Organization,
    Role,
    Size,
    utcnow,
)
from kooperation.services import identity, listings, members, membership
from kooperation.validation import title_for

_telegram_ids = itertools.count(910_000_001)

IMPORT_LIFETIME = timedelta(days=90)
"""How long an imported listing stays active (the importer's default)."""


def new_telegram_id() -> int:
    """A Telegram user id no other seeded person of this test session has."""
    return next(_telegram_ids)


def cluster(session: Session, slug: str) -> Cluster:
    return session.exec(select(Cluster).where(Cluster.slug == slug)).one()


def _id(row: Cluster | Organization | Member | Listing | MatchRound) -> int:
    assert row.id is not None, f"{row!r} is not stored yet"
    return row.id


def _set(row: Organization | Match, fields: dict[str, object]) -> None:
    for name, value in fields.items():
        assert name in type(row).model_fields, name
        setattr(row, name, value)


# --------------------------------------------------------------------------- companies and people
def organization(
    session: Session, name: str, cluster_slug: str = "it", size: str = Size.SMALL, **fields: str
) -> Organization:
    """A company as the CSV import creates it (no invite code until one is asked for)."""
    org = Organization(name=name, cluster_id=_id(cluster(session, cluster_slug)), size=size)
    _set(org, dict(fields))
    session.add(org)
    session.commit()
    return org


def contact(
    session: Session,
    telegram_user_id: int | None = None,
    org: Organization | None = None,
    name: str = "",
    username: str = "",
    email: str = "",
    language: str = "de",
    *,
    chat: bool = True,
    paused: bool = False,
    active: bool = True,
    digest_enabled: bool = True,
) -> Member:
    """A person who gave consent in their private chat and, with `org`, is a verified contact
    of it. `chat=False`: a member whose chat is unknown (rows older than the chat column)."""
    user_id = telegram_user_id if telegram_user_id is not None else new_telegram_id()
    member = identity.give_consent(
        session=session,
        telegram_user_id=user_id,
        chat_id=user_id,
        username=username,
        language=language,
    )
    assert member.id is not None
    if org is not None:
        membership.become_contact(session=session, member=member, organization=org)
        session.commit()
    if name:
        members.set_display_name(session=session, member_id=member.id, name=name)
    if email:
        members.set_email(session=session, member_id=member.id, email=email)
    if paused:
        members.set_paused(session=session, member_id=member.id, paused=True)
    if not digest_enabled:
        members.set_digest(session=session, member_id=member.id, enabled=False)
    if not active:
        members.mark_unreachable(session=session, member_id=member.id)
    if not chat:
        member.chat_id = None
        session.add(member)
        session.commit()
    session.refresh(member)
    return member


def company(
    session: Session,
    name: str,
    cluster_slug: str = "it",
    *,
    telegram_user_id: int | None = None,
    contact_name: str | None = None,
    language: str = "de",
    chat: bool = True,
    paused: bool = False,
    active: bool = True,
    digest_enabled: bool = True,
) -> Member:
    """A company with one verified contact (named "Kontakt <company>" unless `contact_name`)
    who has a private chat."""
    org = organization(session, name, cluster_slug)
    return contact(
        session,
        telegram_user_id,
        org,
        f"Kontakt {name}" if contact_name is None else contact_name,
        language=language,
        chat=chat,
        paused=paused,
        active=active,
        digest_enabled=digest_enabled,
    )


def manager(
    session: Session,
    telegram_user_id: int,
    *cluster_slugs: str,
    name: str = "",
    language: str = "de",
) -> Member:
    """A manager named by id (`identity.ensure_member`, as `matchbot manager add ID SLUG` does)
    of each cluster given; with none, a manager whose clusters were all taken away again.

    Role and cluster rows are written as `appointments.appoint_manager` writes them, without its
    audit entry: staff exist before a test's story starts, and tests of the audit log assert the
    entries of that story alone."""
    member = _staff(session, telegram_user_id, name, language)
    member.role = Role.MANAGER
    session.add(member)
    for slug in cluster_slugs:
        session.add(ManagerCluster(member_id=_id(member), cluster_id=_id(cluster(session, slug))))
    session.commit()
    return member


def admin(session: Session, telegram_user_id: int, name: str = "") -> Member:
    """An admin named by id (`matchbot admin add ID`); the role as `appointments.add_admin` sets it,
    without its audit entry (see `manager`)."""
    member = _staff(session, telegram_user_id, name, "de")
    member.role = Role.ADMIN
    session.add(member)
    session.commit()
    return member


def _staff(session: Session, telegram_user_id: int, name: str, language: str) -> Member:
    member = identity.ensure_member(
        session=session, telegram_user_id=telegram_user_id, display_name=name
    )
    member.language = language
    return member


# --------------------------------------------------------------------------- listings
def _posted(
    session: Session, member: Member, kind: str, text: str, tags: tuple[str, ...]
) -> Listing:
    assert member.id is not None
    return listings.create_listing(
        session=session, member_id=member.id, kind=kind, text=text, tags=list(tags)
    )


def _imported(
    session: Session,
    org: Organization,
    kind: str,
    text: str,
    *,
    title: str | None,
    tags: tuple[str, ...],
    language: str | None,
    ref: str | None,
) -> Listing:
    now = utcnow()
    row = Listing(
        organization_id=_id(org),
        kind=Kind(kind).value,
        title=title_for(text) if title is None else title,
        text=" ".join(text.split()),
        tags=list(tags),
        language=language or detect_language(text),
        ref=ref,
        created_at=now,
        updated_at=now,
        expires_at=now + IMPORT_LIFETIME,
    )
    session.add(row)
    session.commit()
    return row


_STATUS_ACTIONS = {ListingStatus.PAUSED: "pause", ListingStatus.CLOSED: "close"}


def listing(
    session: Session,
    owner: Organization | Member,
    kind: str,
    text: str | None = None,
    member: Member | None = None,
    *,
    title: str | None = None,
    tags: tuple[str, ...] = (),
    language: str | None = None,
    ref: str | None = None,
    status: str = ListingStatus.ACTIVE,
    created_at: datetime | None = None,
    expires_at: datetime | None = None,
) -> Listing:
    """A need or offer. Posted by a contact (`owner` a Member, or `member` given) it is
    published by `listings.create_listing`, paused or closed by `listings.change_status`;
    owned by an organization alone it is an imported CSV row.

    `title` without `text` gives a posted listing whose first line is that title (the bot
    makes the first line the title). `language` of a posted listing is a check: the bot
    detects it, and the test states what it expects."""
    author = owner if isinstance(owner, Member) else member
    if text is None:
        assert title is not None, "a listing needs a text or a title"
        text = f"{title}\nAusführliche Beschreibung des Bedarfs oder Angebots."
    if author is None:
        assert isinstance(owner, Organization)
        row = _imported(
            session, owner, kind, text, title=title, tags=tags, language=language, ref=ref
        )
    else:
        assert isinstance(owner, Member) or owner.id == author.organization_id
        row = _posted(session, author, kind, text, tags)
        assert language in (None, row.language), f"the bot detects {row.language!r} for {text!r}"
        assert title in (None, row.title), f"the bot titles {text!r} as {row.title!r}"
        if ref is not None:
            row.ref = ref
        if status in _STATUS_ACTIONS:
            assert author.id is not None and row.id is not None
            listings.change_status(
                session=session,
                member_id=author.id,
                listing_id=row.id,
                action=_STATUS_ACTIONS[ListingStatus(status)],
            )
    if author is None and status != ListingStatus.ACTIVE:
        row.status = status
    return _aged(session, row, created_at=created_at, expires_at=expires_at)


def _aged(
    session: Session,
    row: Listing,
    *,
    created_at: datetime | None,
    expires_at: datetime | None,
) -> Listing:
    """Moves the clock of a stored listing: written then, or ending then."""
    if created_at is not None:
        row.created_at = row.updated_at = created_at
    if expires_at is not None:
        row.expires_at = expires_at
    session.add(row)
    session.commit()
    session.refresh(row)
    return row


# --------------------------------------------------------------------------- proposals
def match_round(session: Session, mode: str = "full", proposed: int = 0) -> MatchRound:
    """A finished round; mode "listing" is what a contact's posting writes (`match_listing`)."""
    row = MatchRound(finished_at=utcnow(), mode=mode, proposed=proposed)
    session.add(row)
    session.commit()
    return row


def proposal(
    session: Session,
    need: Listing,
    offer: Listing,
    score: float = 0.71,
    round_id: int | None = None,
    reciprocity: float = 0.0,
    *,
    status: str = MatchStatus.PROPOSED,
    **fields: object,
) -> Match:
    """A proposal as a round stores it: components, shared terms, both reasons, and its
    `MatchRound` (a nightly one unless `round_id` names another). A `status` past proposed
    is the state the review and introduction services leave it in, with its decision time."""
    if round_id is None:
        round_id = match_round(session, proposed=1).id
    if status != MatchStatus.PROPOSED:
        fields.setdefault("decided_at", utcnow())
    match = Match(
        need_id=_id(need),
        offer_id=_id(offer),
        round_id=round_id,
        score=score,
        semantic=0.62,
        lexical=0.3,
        tags=0.5,
        cross_cluster=0.05,
        reciprocity=reciprocity,
        shared_terms=["Kühlkette"],
        reason_de="Beide nennen Kühlkette.",
        reason_en="Both mention cold chain.",
        status=status,
    )
    _set(match, fields)
    session.add(match)
    session.commit()
    return match


def two_sided(
    session: Session,
    base_id: int,
    need_cluster: str = "automotive",
    offer_cluster: str = "logistics",
    round_id: int | None = None,
) -> tuple[Member, Member, Match]:
    """A need of one cluster and an offer of another, each with a contact, and their proposal."""
    need_org = organization(session, f"Karosseriewerk {base_id}", need_cluster, Size.MEDIUM)
    offer_org = organization(
        session, f"Kühllogistik {base_id}", offer_cluster, Size.SMALL, contact_email="info@kl.test"
    )
    need_contact = contact(
        session, base_id, need_org, "Anna Berg", username="anna_berg", email="anna@kw.test"
    )
    offer_contact = contact(session, base_id + 1, offer_org, "Ben Kurz", username="")
    need = listing(
        session,
        need_org,
        Kind.NEED,
        "Wir suchen Kühlkettenlogistik für Batteriezellen.",
        need_contact,
    )
    offer = listing(
        session,
        offer_org,
        Kind.OFFER,
        "Temperaturgeführte Transporte, ADR-zertifiziert.",
        offer_contact,
    )
    return need_contact, offer_contact, proposal(session, need, offer, round_id=round_id)


# --------------------------------------------------------------------------- a realistic pool
BACKGROUND = [
    (
        "Kantine & Co",
        "de",
        "Wir beliefern Werkskantinen mit Frühstück und Mittagessen für bis zu 800 Personen.",
    ),
    (
        "Hallenreinigung Mitte",
        "de",
        "Wir reinigen Produktionshallen, Büros und Sanitäranlagen im Schichtbetrieb.",
    ),
    (
        "Coating Works",
        "en",
        "Powder coating of steel and aluminium parts in all RAL colours, small batches welcome.",
    ),
    (
        "Messebau Leipzig",
        "de",
        "Wir planen und bauen Messestände für Industriemessen in ganz Europa.",
    ),
    (
        "FrameFilm",
        "en",
        "We produce recruiting videos and product photos for industrial companies.",
    ),
    (
        "Stapler Miete Ost",
        "de",
        "Kurzzeitmiete von Gabelstaplern und Hubwagen mit Lieferung am nächsten Tag.",
    ),
    (
        "Office Interiors",
        "en",
        "Office furniture, acoustic panels and meeting room fit-out for growing teams.",
    ),
    (
        "Steuerkanzlei Richter",
        "de",
        "Steuerberatung, Lohnbuchhaltung und Jahresabschluss für mittelständische Betriebe.",
    ),
]


def background(session: Session) -> list[Listing]:
    """Imported offers on unrelated topics, so a test pool looks like a real one to the
    statistics."""
    return [
        listing(
            session,
            organization(session, name, ("automotive", "logistics", "it")[n % 3]),
            "offer",
            text,
            language=language,
        )
        for n, (name, language, text) in enumerate(BACKGROUND)
    ]
