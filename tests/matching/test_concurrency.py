"""Matching jobs that run at the same time: one lock per process, idempotent embedding writes."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from kooperation.config import Settings
from kooperation.models import Embedding, Match, MatchRound
from matching.embedders import Embedder, components
from matching.rounds import match_listing, run_round
from matching.store import ToEmbed, ensure_vectors
from tests import factories as seed

NEED = (
    "Wir suchen einen Dienstleister für die Pulverbeschichtung von Aluminiumprofilen in "
    "kleinen Losgrößen, RAL-Farben nach Wunsch."
)
OFFER = (
    "Pulverbeschichtung von Stahl- und Aluminiumteilen in allen RAL-Farben, auch Kleinserien "
    "und Einzelstücke."
)


class Hooked:
    """The real model with a hook that runs before each `encode` (to interleave two jobs)."""

    def __init__(self, model: Embedder, before: object) -> None:
        self.model, self.name, self.dim = model, model.name, model.dim
        self.before = before

    def encode(self, texts: list[str]) -> np.ndarray:
        self.before()  # type: ignore[operator]
        return self.model.encode(texts)


def test_two_sessions_storing_the_same_vector_keep_one_row(
    engine: Engine, session: Session, embedder: Embedder
) -> None:
    org = seed.organization(session, "Beschichter", "automotive")
    listing = seed.listing(session, org, "offer", OFFER)
    items = [ToEmbed(listing.id, OFFER)]  # type: ignore[arg-type]
    model = components(embedder)[0]
    with Session(engine) as first, Session(engine) as second:

        def other_process_writes_first() -> None:
            ensure_vectors(session=first, embedder=model, items=items)
            first.commit()

        # `second` finds no vector, and while it embeds `first` stores the same one
        hooked = Hooked(model, other_process_writes_first)
        vectors, embedded = ensure_vectors(session=second, embedder=hooked, items=items)
        second.commit()
        assert embedded == 1 and vectors.shape == (1, model.dim)
        rows = second.exec(
            select(func.count()).select_from(Embedding).where(Embedding.listing_id == listing.id)
        ).one()
    assert rows == 1


@pytest.mark.usefixtures("background")
def test_a_listing_posted_during_a_round_is_matched_after_it(
    engine: Engine, session: Session, embedder: Embedder, settings: Settings
) -> None:
    need_org = seed.organization(session, "Fensterbau Süd", "automotive")
    offer_org = seed.organization(session, "Coating Plus", "logistics")
    seed.listing(session, need_org, "need", NEED)
    embedding = threading.Event()
    release = threading.Event()

    def hold_the_round() -> None:
        if threading.current_thread().name == "round":
            embedding.set()
            assert release.wait(60)

    errors: list[BaseException] = []

    def run(name: str, work: object) -> threading.Thread:
        def target() -> None:
            try:
                with Session(engine, expire_on_commit=False) as session:
                    work(session)  # type: ignore[operator]
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=target, name=name)
        thread.start()
        return thread

    hooked = Hooked(embedder, hold_the_round)
    round_thread = run("round", lambda s: run_round(session=s, settings=settings, embedder=hooked))
    assert embedding.wait(60)
    offer = seed.listing(session, offer_org, "offer", OFFER)
    posting = run(
        "posting",
        lambda s: match_listing(session=s, settings=settings, listing_id=offer.id, embedder=hooked),
    )
    posting.join(3)
    assert posting.is_alive(), "the posted listing did not wait for the running round"
    release.set()
    round_thread.join(120)
    posting.join(120)
    assert not errors
    with Session(engine) as session:
        rounds = session.exec(select(MatchRound).order_by(MatchRound.id)).all()
        assert [r.mode for r in rounds] == ["full", "listing"]
        assert rounds[1].started_at >= rounds[0].finished_at
        pairs = session.exec(select(Match.need_id, Match.offer_id)).all()
    assert len(pairs) == len(set(pairs))
