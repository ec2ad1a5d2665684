"""What handlers and jobs reach through `context`: settings, the database, the matcher."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.ext import Application, CallbackContext

from kooperation.config import Settings
from kooperation.db import session_scope


@dataclass
class Runtime:
    """Process-wide objects of a running bot, kept on `application.bot_data["runtime"]`."""

    settings: Settings
    engine: Engine
    extras: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session


def runtime(
    context: CallbackContext[Any, Any, Any, Any] | Application[Any, Any, Any, Any, Any, Any],
) -> Runtime:
    app = context if isinstance(context, Application) else context.application
    return app.bot_data["runtime"]
