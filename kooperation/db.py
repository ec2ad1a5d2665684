"""Engine and sessions. The schema itself comes only from Alembic (`matchbot db upgrade`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def normalize_url(url: str) -> str:
    """Lets `postgresql://` URLs use psycopg 3, the driver we install."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted data is overwritten, not left in free pages
    cursor.close()


DEFAULT_POOL_SIZE = 5


def pool_options(pool_size: int) -> dict[str, int]:
    """A pool for `pool_size` worker threads at once (the bot: MAX_CONCURRENT_UPDATES), plus
    overflow for the background threads (outbox sender, schedules, persistence writes)."""
    return {"pool_size": pool_size, "max_overflow": max(5, pool_size // 2)}


def make_engine(url: str, *, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """SQLite in WAL mode with a busy timeout (readers never wait for the one writer, writers
    queue instead of failing with "database is locked"); PostgreSQL with a sized pool."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        in_memory = url.rstrip("/") in {"sqlite:", "sqlite://"} or ":memory:" in url
        options: dict[str, Any] = {} if in_memory else pool_options(pool_size)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **options
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool_options(pool_size))


@lru_cache(maxsize=8)
def engine_for(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> Engine:
    """One engine per URL (and pool size) and process."""
    return make_engine(url, pool_size=pool_size)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that rolls back on error and is always closed."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        except BaseException:
            session.rollback()
            raise


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Brings the schema to `revision` and syncs the reference data (clusters)."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
    if revision == "head":
        from kooperation.services.clusters import sync_clusters

        with session_scope(engine_for(url)) as session:
            sync_clusters(session=session)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(alembic_config(url), revision)
