"""Matching without Telegram: a full round, a just-posted listing, the manager notices they owe."""

from __future__ import annotations

import logging

from sqlmodel import Session

from kooperation.config import Settings
from kooperation.services.review import notify_managers_of_new_proposals
from matching.rounds import RoundResult, match_listing, run_round
from matching.store import Progress

log = logging.getLogger(__name__)


def matching_round(
    *, session: Session, settings: Settings, progress: Progress | None = None
) -> RoundResult:
    """Runs a round, commits its proposals, then queues one notice per manager with new
    proposals (whatever made them: this round or contacts posting since the last notice).

    The running bot sends the notices from the outbox. `progress(done, total)` hears how
    embedding goes. Blocking: the bot calls it in a worker thread.
    """
    result = run_round(session=session, settings=settings, progress=progress)
    session.commit()
    log.info(
        "matching round %s: %s proposed, %s embedded",
        result.round.id,
        result.proposed,
        result.embedded,
    )
    notify_managers_of_new_proposals(session=session, settings=settings, force=True)
    return result


def match_posted_listing(*, session: Session, settings: Settings, listing_id: int) -> int:
    """Matches a listing a contact just posted or edited and tells the managers of its
    proposals (batched: at once unless a notice went out within
    MANAGER_NOTICE_INTERVAL_MINUTES). Returns how many proposals it made.

    `match_listing` has committed the proposals before the notice is queued: a failing notice
    does not undo them, and the bot's announce job tries again within a minute. It also waits
    for any other matching job of this process, so a listing posted during the nightly round
    is matched right after it. Blocking: the bot calls it in a worker thread.
    """
    found = len(match_listing(session=session, settings=settings, listing_id=listing_id))
    if found:
        try:
            notify_managers_of_new_proposals(session=session, settings=settings)
        except Exception:
            session.rollback()
            log.exception("announcing the proposals of listing %s failed", listing_id)
    return found
