"""What a matching run works on: the eligible listings as a scoring `Pool` (embedding what
changed), the pairs that already have a `Match`, and this week's proposals per organization.

Which listings take part: status active, not expired, and, when a member posted it, that
member neither paused nor inactive.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from kooperation.config import Settings
from kooperation.models import (
    Cluster,
    Kind,
    Listing,
    ListingStatus,
    Match,
    Member,
    Organization,
    Size,
    utcnow,
)
from kooperation.validation import title_for
from matching.embedders import Embedder, get_embedder
from matching.scoring import Item, Pool, Weights, reference
from matching.store import Progress, ToEmbed, ensure_vectors


def embedding_text(listing: Listing) -> str:
    """What is embedded and compared: the text, after its title where the title says more.

    A title the bot derived from the text (its first line, `title_for`) would only repeat
    that line and weigh it twice in the embedding; an imported title of its own is kept.
    """
    title = listing.title.strip()
    if not title or title == title_for(listing.text):
        return listing.text
    return f"{title}. {listing.text}"


@dataclass
class Loaded:
    pool: Pool
    embedded: int
    listings: dict[int, Listing]
    cluster_names: dict[int, str]


def eligible_listings(session: Session, now: datetime) -> list[tuple[Listing, int, str]]:
    """Active, unexpired listings whose author (if any) is an active, unpaused member."""
    statement = (
        select(Listing, col(Organization.cluster_id), col(Organization.size))
        .join(Organization, col(Organization.id) == col(Listing.organization_id))
        .outerjoin(Member, col(Member.id) == col(Listing.member_id))
        .where(
            col(Listing.status) == ListingStatus.ACTIVE,
            col(Listing.expires_at) > now,
            or_(
                col(Listing.member_id).is_(None),
                and_(col(Member.paused).is_(False), col(Member.active).is_(True)),
            ),
        )
        .order_by(col(Listing.id))
    )
    return [(row[0], row[1], row[2]) for row in session.execute(statement)]


def load_pool(
    *,
    session: Session,
    settings: Settings,
    embedder: Embedder | None = None,
    now: datetime | None = None,
    write: bool = True,
    progress: Progress | None = None,
) -> Loaded:
    """Every eligible listing with its vector (embedding what changed) as a scoring `Pool`."""
    embedder = embedder or get_embedder(settings.embedding_model)
    rows = eligible_listings(session, now or utcnow())
    needs: list[Item] = []
    offers: list[Item] = []
    listings: dict[int, Listing] = {}
    for listing, cluster_id, size in rows:
        assert listing.id is not None
        listings[listing.id] = listing
        item = Item(
            id=listing.id,
            kind=listing.kind,
            organization_id=listing.organization_id,
            cluster_id=cluster_id,
            text=embedding_text(listing),
            language=listing.language or "de",
            kmu=Size(size).is_kmu,
            tags=tuple(listing.tags or ()),
            ref=listing.ref,
            created_at=listing.created_at,
            updated_at=listing.updated_at,
        )
        (needs if listing.kind == Kind.NEED else offers).append(item)
    items = [*needs, *offers]
    vectors, embedded = ensure_vectors(
        session=session,
        embedder=embedder,
        items=[ToEmbed(i.id, i.text) for i in items],
        write=write,
        progress=progress,
    )
    if write and embedded:
        session.commit()
    pool = Pool(
        needs=needs,
        offers=offers,
        need_vectors=vectors[: len(needs)],
        offer_vectors=vectors[len(needs) :],
        weights=Weights.from_settings(settings),
        reference=reference(embedder),
        min_score=settings.match_min_score,
    )
    names = {c.id: c.name for c in session.execute(select(Cluster)).scalars()}
    return Loaded(pool=pool, embedded=embedded, listings=listings, cluster_names=names)


def existing_pairs(session: Session) -> dict[tuple[int, int], str]:
    """Every need↔offer pair that has a Match, with its status."""
    rows = session.execute(select(col(Match.need_id), col(Match.offer_id), col(Match.status)))
    return {(need, offer): status for need, offer, status in rows}


def proposals_this_week(session: Session, now: datetime) -> Counter[int]:
    """New proposals per organization (either side) in the last seven days."""
    need, offer = aliased(Listing), aliased(Listing)
    rows = session.execute(
        select(col(need.organization_id), col(offer.organization_id))
        .select_from(Match)
        .join(need, col(need.id) == col(Match.need_id))
        .join(offer, col(offer.id) == col(Match.offer_id))
        .where(col(Match.created_at) >= now - timedelta(days=7))
    )
    counts: Counter[int] = Counter()
    for need_org, offer_org in rows:
        counts[need_org] += 1
        if offer_org != need_org:
            counts[offer_org] += 1
    return counts
