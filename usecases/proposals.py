"""Proposals between rounds: the batched notice to the managers and the start-up repair."""

from __future__ import annotations

import logging

from sqlmodel import Session

from kooperation.config import Settings
from kooperation.services import introductions
from kooperation.services.review import notify_managers_of_new_proposals

log = logging.getLogger(__name__)


def announce_proposals(*, session: Session, settings: Settings) -> int:
    """The batched notice to managers about proposals nobody told them of yet, when the last
    one is old enough (MANAGER_NOTICE_INTERVAL_MINUTES); returns how many were queued."""
    return notify_managers_of_new_proposals(session=session, settings=settings)


def repair_decisions(*, session: Session) -> int:
    """Finishes decisions a crash left half-done (see `introductions.repair_decisions`);
    run once when a front end that queues messages starts."""
    repaired = introductions.repair_decisions(session=session)
    if repaired:
        log.warning("start-up repair: %s half-decided matches finished", repaired)
    return repaired
