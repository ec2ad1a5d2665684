"""Clusters come from data; this keeps the table in step with the file."""

from __future__ import annotations

from sqlmodel import Session, col, select

from kooperation.models import Cluster
from kooperation.reference import cluster_specs


def sync_clusters(*, session: Session) -> list[Cluster]:
    """Inserts new clusters from `clusters.toml` and updates names of known ones."""
    existing = {c.slug: c for c in session.exec(select(Cluster)).all()}
    for spec in cluster_specs():
        cluster = existing.get(spec.slug) or Cluster(slug=spec.slug, name=spec.name)
        cluster.name, cluster.short_name = spec.name, spec.short_name
        session.add(cluster)
    session.commit()
    return list(session.exec(select(Cluster).order_by(col(Cluster.id))).all())


def all_clusters(*, session: Session) -> list[Cluster]:
    return list(session.exec(select(Cluster).order_by(col(Cluster.id))).all())
