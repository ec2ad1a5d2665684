"""Database fixtures: a real SQLite file, or PostgreSQL when TEST_DATABASE_URL is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel

import kooperation.models  # noqa: F401
from kooperation import db
from kooperation.config import Settings, load_settings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

KEEP_TABLES = {"cluster", "alembic_version"}


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test database, migrated to head once per session."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    db.upgrade(url)
    return url


def clear_tables(engine: Engine) -> None:
    """Empties every table but the reference data, children first."""
    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.engine_for(database_url)
    clear_tables(engine)
    yield engine


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url, _env_file=None)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


MODEL_FIXTURES = {"embedder"}
"""Fixtures that load a real embedding model: tests using them are marked `model`."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks the slow kinds so `pytest -m "not e2e and not model"` is the quick loop."""
    for item in items:
        parts = item.path.parts
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
