"""The bot's state in the database: what one process writes, the next one reads."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Update
from telegram.ext import Application, CommandHandler, ConversationHandler, MessageHandler, filters
from telegram.request import BaseRequest

from bot.persistence import DbPersistence, install_write_through
from kooperation.models import BotState

ASKED = 1


class OfflineRequest(BaseRequest):
    """No network: answers getMe, refuses anything else (nothing else is called here)."""

    @property
    def read_timeout(self) -> float:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(self, url, method, request_data=None, **_kwargs):  # type: ignore[no-untyped-def]  # noqa: ARG002
        if url.endswith("/getMe"):
            me = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "TestBot"}
            return 200, json.dumps({"ok": True, "result": me}).encode()
        raise AssertionError(f"unexpected Bot API call {url}")


async def test_conversations_and_user_data_survive_a_new_persistence_object(engine: Engine) -> None:
    first = DbPersistence(engine)
    await first.update_conversation("listing", (5, 7), 1)
    await first.update_user_data(7, {"draft": {"kind": "need", "tags": ["ai"]}})
    await first.update_chat_data(5, {"greeted": True})

    second = DbPersistence(engine)
    assert await second.get_conversations("listing") == {(5, 7): 1}
    assert (await second.get_user_data())[7] == {"draft": {"kind": "need", "tags": ["ai"]}}
    assert (await second.get_chat_data())[5] == {"greeted": True}
    assert await second.get_bot_data() == {}

    await second.update_conversation("listing", (5, 7), None)
    await second.drop_user_data(7)
    await second.update_chat_data(5, {})
    with Session(engine) as session:
        assert session.exec(select(BotState)).all() == []


async def test_bot_data_is_never_stored(engine: Engine) -> None:
    persistence = DbPersistence(engine)
    assert persistence.store_data.bot_data is False
    await persistence.update_bot_data({"runtime": object()})
    with Session(engine) as session:
        assert session.exec(select(BotState)).all() == []


def _update(application: Application, update_id: int, text: str) -> Update:  # type: ignore[type-arg]
    message = {
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": {"id": 7, "type": "private"},
        "from": {"id": 7, "first_name": "Erika", "is_bot": False},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return Update.de_json({"update_id": update_id, "message": message}, application.bot)


async def test_every_update_is_written_before_the_next_without_waiting_for_the_interval(
    engine: Engine,
) -> None:
    """A SIGKILL right after an update must lose nothing: the state is in the table already."""

    async def ask(update: Update, context) -> int:  # type: ignore[no-untyped-def]
        context.user_data["asked"] = update.message.text
        return ASKED

    async def answer(update: Update, context) -> int:  # type: ignore[no-untyped-def]
        context.user_data["answer"] = update.message.text
        return ConversationHandler.END

    application = (
        Application.builder()
        .token("1:offline")
        .persistence(DbPersistence(engine, update_interval=3600))
        .updater(None)
        .request(OfflineRequest())
        .build()
    )
    application.add_handler(
        ConversationHandler(
            entry_points=[CommandHandler("ask", ask)],
            states={ASKED: [MessageHandler(filters.TEXT & ~filters.COMMAND, answer)]},
            fallbacks=[],
            name="demo",
            persistent=True,
        )
    )
    install_write_through(application)
    await application.initialize()

    await application.process_update(_update(application, 1, "/ask"))
    with Session(engine) as session:
        states = {(s.namespace, s.key): s.data for s in session.exec(select(BotState)).all()}
    assert states == {("conv:demo", "7,7"): ASKED, ("user_data", "7"): {"asked": "/ask"}}

    await application.process_update(_update(application, 2, "forty-two"))
    with Session(engine) as session:
        states = {(s.namespace, s.key): s.data for s in session.exec(select(BotState)).all()}
    assert states == {("user_data", "7"): {"asked": "/ask", "answer": "forty-two"}}


def _stored_user_data(engine: Engine, user_id: int) -> object:
    with Session(engine) as session:
        row = session.get(BotState, ("user_data", str(user_id)))
        return row.data if row is not None else None


async def test_writes_of_one_row_land_in_the_order_they_were_asked_for(engine: Engine) -> None:
    """PTB creates its writes first and runs them later; an older one must not win."""
    persistence = DbPersistence(engine)
    older = persistence.update_user_data(7, {"step": 1})
    newer = persistence.update_user_data(7, {"step": 2})
    await newer
    await older
    assert _stored_user_data(engine, 7) == {"step": 2}


async def test_a_nested_change_to_loaded_data_is_written_and_an_unchanged_one_is_not(
    engine: Engine,
) -> None:
    await DbPersistence(engine).update_user_data(7, {"draft": {"text": "alt"}})
    persistence = DbPersistence(engine)
    user_data = (await persistence.get_user_data())[7]
    user_data["draft"]["text"] = "neu"  # changed in place, as handlers do
    await persistence.update_user_data(7, user_data)
    assert _stored_user_data(engine, 7) == {"draft": {"text": "neu"}}

    with Session(engine) as session:  # someone else changes the row behind our back
        row = session.get(BotState, ("user_data", "7"))
        assert row is not None
        row.data = {"marker": True}
        session.add(row)
        session.commit()
    await persistence.update_user_data(7, user_data)  # unchanged since our last write
    assert _stored_user_data(engine, 7) == {"marker": True}
