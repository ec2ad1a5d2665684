"""Matching fixtures: the real default embedder (loaded once) and a small world of listings."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pytest
from sqlmodel import Session, select

from kooperation.models import Cluster, Listing, Member, Organization, Size, utcnow
from matching.embedders import Embedder, EnsembleEmbedder, get_embedder


class Remembering:
    """A real model that encodes each distinct text once per test session (tests repeat texts)."""

    def __init__(self, model: Embedder) -> None:
        self.model, self.name, self.dim = model, model.name, model.dim
        self.seen: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self.seen]
        if new:
            self.seen.update(zip(new, self.model.encode(new), strict=True))
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self.seen[t] for t in texts])


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default hybrid (USE + E5) as production loads it, each text encoded once."""
    default = get_embedder("hybrid")
    assert isinstance(default, EnsembleEmbedder)
    return EnsembleEmbedder([(Remembering(model), weight) for model, weight in default.members])


_telegram_ids = itertools.count(7_000_000)


@dataclass
class World:
    """Creates organizations, members and listings directly with the models."""

    session: Session

    def cluster(self, slug: str) -> Cluster:
        return self.session.exec(select(Cluster).where(Cluster.slug == slug)).one()

    def org(self, name: str, cluster: str, size: str = Size.SMALL) -> Organization:
        org = Organization(name=name, cluster_id=self.cluster(cluster).id, size=size)
        self.session.add(org)
        self.session.commit()
        return org

    def member(self, org: Organization, **fields: object) -> Member:
        member = Member(telegram_user_id=next(_telegram_ids), organization_id=org.id, **fields)
        self.session.add(member)
        self.session.commit()
        return member

    def listing(
        self,
        org: Organization,
        kind: str,
        text: str,
        *,
        language: str = "de",
        tags: tuple[str, ...] = (),
        ref: str | None = None,
        member: Member | None = None,
        **fields: object,
    ) -> Listing:
        listing = Listing(
            organization_id=org.id,
            member_id=member.id if member else None,
            kind=kind,
            text=text,
            language=language,
            tags=list(tags),
            ref=ref,
            expires_at=fields.pop("expires_at", None) or utcnow() + timedelta(days=90),
            **fields,
        )
        self.session.add(listing)
        self.session.commit()
        return listing


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


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


@pytest.fixture
def background(world: World) -> list[Listing]:
    """Offers on unrelated topics, so a test pool looks like a real one to the statistics."""
    return [
        world.listing(
            world.org(name, ("automotive", "logistics", "it")[n % 3]),
            "offer",
            text,
            language=language,
        )
        for n, (name, language, text) in enumerate(BACKGROUND)
    ]
