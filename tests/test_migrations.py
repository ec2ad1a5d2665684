"""Alembic is the only way the schema is made: it must round-trip and equal the models."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from kooperation import db
from kooperation.reference import cluster_specs


def _postgres_server_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (PostgreSQL next to TEST_DATABASE_URL's)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
        return
    server = _postgres_server_url()
    if server is None:
        pytest.skip("TEST_DATABASE_URL does not point at PostgreSQL")
    name = f"scratch_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        db.engine_for.cache_clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _drift(url: str) -> list[object]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_leaves_schema_equal_to_models(scratch_url: str) -> None:
    db.upgrade(scratch_url)
    assert _drift(scratch_url) == []
    db.downgrade(scratch_url, "base")
    assert _tables(scratch_url) == set()
    db.upgrade(scratch_url)
    assert _drift(scratch_url) == []
    assert _tables(scratch_url) == set(SQLModel.metadata.tables)


def test_upgrade_seeds_clusters_from_the_data_file(scratch_url: str) -> None:
    db.upgrade(scratch_url)
    engine = db.make_engine(scratch_url)
    with engine.connect() as connection:
        slugs = set(connection.execute(text("SELECT slug FROM cluster")).scalars())
    engine.dispose()
    assert slugs == {spec.slug for spec in cluster_specs()} >= {"automotive", "logistics", "it"}
