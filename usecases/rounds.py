"""A full matching round and the notices to the managers it owes."""

from __future__ import annotations

import logging

from sqlmodel import Session

from kooperation.config import Settings
from kooperation.services.review import notify_managers_of_new_proposals
from matching.rounds import RoundResult, run_round
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
