"""The programme's reporting table: one row per approved proposal and what became of it."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from datetime import tzinfo
from typing import TextIO

from sqlmodel import Session, select

from kooperation.csvcells import neutralise
from kooperation.dates import iso_local
from kooperation.models import Cluster, Feedback, Member
from kooperation.services.audit import actor_label
from kooperation.services.introductions import sides
from kooperation.services.stats import APPROVED_OR_LATER, matches_with_clusters


@dataclass(frozen=True)
class IntroductionRow:
    match_id: int
    status: str
    proposed_at: str
    decided_at: str
    decided_by: str
    need_organization: str
    need_cluster: str
    need_size: str
    need_title: str
    offer_organization: str
    offer_cluster: str
    offer_size: str
    offer_title: str
    cross_cluster: bool
    score: float
    need_answer: str
    offer_answer: str
    introduced_at: str
    need_feedback: str
    offer_feedback: str
    cooperation: bool


COLUMNS = [f.name for f in fields(IntroductionRow)]


def introduction_rows(
    *, session: Session, tz: tzinfo, cluster_ids: set[int] | None = None
) -> list[IntroductionRow]:
    """Every proposal a manager approved, oldest first, with the answers and the follow-up;
    times in the programme's time zone `tz`, with their offset."""
    rows = []
    clusters = {c.id: c.slug for c in session.exec(select(Cluster)).all()}
    for match, need_cluster, offer_cluster in matches_with_clusters(
        session=session, cluster_ids=cluster_ids
    ):
        if match.status not in APPROVED_OR_LATER:
            continue
        both = sides(session=session, match=match)
        manager = session.get(Member, match.decided_by_id) if match.decided_by_id else None
        rows.append(
            IntroductionRow(
                match_id=match.id or 0,
                status=match.status,
                proposed_at=iso_local(match.created_at, tz),
                decided_at=iso_local(match.decided_at, tz),
                decided_by=actor_label(manager) if manager else "",
                need_organization=both["need"].organization.name,
                need_cluster=clusters.get(need_cluster, ""),
                need_size=both["need"].organization.size,
                need_title=both["need"].title,
                offer_organization=both["offer"].organization.name,
                offer_cluster=clusters.get(offer_cluster, ""),
                offer_size=both["offer"].organization.size,
                offer_title=both["offer"].title,
                cross_cluster=need_cluster != offer_cluster,
                score=round(match.score, 4),
                need_answer=match.need_answer or "",
                offer_answer=match.offer_answer or "",
                introduced_at=iso_local(match.introduced_at, tz),
                need_feedback=match.need_feedback or "",
                offer_feedback=match.offer_feedback or "",
                cooperation=Feedback.COOPERATING in (match.need_feedback, match.offer_feedback),
            )
        )
    return rows


def write_csv(rows: Iterable[IntroductionRow], stream: TextIO) -> int:
    """Writes the table with a header line; returns the number of data rows."""
    writer = csv.DictWriter(stream, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow({name: neutralise(value) for name, value in asdict(row).items()})
        count += 1
    return count
