"""The weekly digest with the new opportunities matching finds for each member."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlmodel import Session

from kooperation.config import Settings
from kooperation.models import Member, utcnow
from kooperation.services import digest as digests
from kooperation.services import job_runs

log = logging.getLogger(__name__)


def opportunity_finder(session: Session, settings: Settings) -> digests.OpportunityFinder | None:
    """New opportunities for the digest from matching (None if matching is not installed).

    The pool is loaded once, on the first member with active listings, and reused for every
    other member of this run.
    """
    try:
        from matching.candidates import CandidateFinder
    except ImportError:
        log.warning(
            "matching.candidates.CandidateFinder is not available: digests without opportunities"
        )
        return None
    broken: list[BaseException] = []
    loaded: list[CandidateFinder] = []

    def find(_member: Member, listing_ids: list[int], since: datetime) -> list[digests.Opportunity]:
        if broken:
            return []
        try:
            if not loaded:
                loaded.append(CandidateFinder(session=session, settings=settings))
            candidates = loaded[0].find(
                listing_ids=listing_ids,
                limit=digests.MAX_OPPORTUNITIES * 2,
                created_after=since,
                other_clusters_only=True,
            )
        except Exception as error:  # the digest still goes out, without opportunities
            log.exception("digest: finding opportunities failed; continuing without them")
            broken.append(error)
            return []
        return [
            digests.Opportunity(
                own_listing_id=c.own_listing_id,
                other_listing_id=c.other_listing_id,
                score=float(c.score),
                reason_de=c.reason_de,
                reason_en=c.reason_en,
            )
            for c in candidates
        ]

    return find


def weekly_digest(
    *,
    session: Session,
    settings: Settings,
    now: datetime | None = None,
    member_id: int | None = None,
    dry_run: bool = False,
    with_opportunities: bool = True,
) -> digests.DigestRun:
    """Composes and queues this week's digests; a run for everyone counts as the week's run
    (the schedule's catch-up reads it). `dry_run` composes without queueing, `member_id`
    composes one member's digest. Blocking: the bot calls it in a worker thread."""
    now = now or utcnow()
    finder = opportunity_finder(session, settings) if with_opportunities else None
    result = digests.run_digest(
        session=session,
        tz=settings.tz,
        now=now,
        find_opportunities=finder,
        member_id=member_id,
        dry_run=dry_run,
    )
    if not dry_run and member_id is None:
        job_runs.record_run(session=session, job=job_runs.DIGEST, at=now)
    return result
