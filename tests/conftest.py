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


SLOW_KINDS: dict[str, tuple[str, ...]] = {
    "process": (  # `python -m bot` as a process: exit code and stderr as an operator sees them
        "tests/cli/test_database_url.py::",
        "tests/test_config.py::test_malformed_setting_is_one_line_naming_it_with_exit_code_2",
        "tests/test_config.py::test_run_without_token_says_which_setting_is_missing",
    ),
    "demo": ("tests/cli/test_demo.py::",),  # `matchbot demo`: import, a real round, a digest
    "bench": (  # the import benchmark's data at full scale
        "tests/services/test_importer.py::test_ten_thousand_rows_with_broken_ones_import",
    ),
    "model": (  # the model as settings name it (`get_embedder`), beside those using `embedder`
        "tests/matching/test_engine.py::test_dry_run_json_lists_each_needs_ranked_offers",
        "tests/matching/test_engine.py::test_match_command_runs_a_round_and_prints",
        "tests/matching/test_engine.py::test_an_unknown_model_is_refused",
        "tests/matching/test_engine.py::test_any_sentence_transformers_path_works_as_a_model",
        "tests/schedules/test_with_matching.py::",
    ),
}
"""Slow tests by kind, by node id prefix; with the fixtures and folders below they make `e2e`."""

MODEL_FIXTURES = {"embedder"}
"""Fixtures that load the real embedding model: tests using them are marked `model`."""


def kinds_of(item: pytest.Item) -> set[str]:
    """What makes this test slow: the emulator, a real model, a process, the demo, a bench."""
    node = item.nodeid
    kinds = {kind for kind, prefixes in SLOW_KINDS.items() if node.startswith(prefixes)}
    if "e2e" in item.path.parts:
        kinds.add("emulator")
    if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
        kinds.add("model")
        if "test_quality_bench.py" in node:
            kinds.add("bench")  # the real model over a labelled set
    return kinds


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each slow test with what it is and with `e2e`, so `pytest -m "not e2e"` is the
    quick loop; plain `pytest` (CI) runs everything."""
    for item in items:
        kinds = kinds_of(item)
        for kind in sorted(kinds):
            item.add_marker(kind)
        if kinds:
            item.add_marker(pytest.mark.e2e)
