"""Updates of one chat in order, different chats at the same time (bot/concurrency.py).

The updates go through a real `Application` (update queue, fetcher, processor, handlers,
persistence on the test database); only the Bot API is faked (`Recorder`).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    SimpleUpdateProcessor,
    filters,
)
from telegram.request import BaseRequest

from bot.concurrency import ChatOrderedProcessor, lane_keys
from bot.persistence import DbPersistence, install_write_through
from bot.ui import conversation, reply
from kooperation.models import BotState

COUNTING = 1


class Recorder(BaseRequest):
    """No network: answers getMe and sendMessage, and calls `on_send` for every message."""

    def __init__(self, on_send: Any = None) -> None:
        self.on_send = on_send
        self.sent: list[tuple[int, str]] = []

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
        if url.endswith("/sendMessage"):
            params = request_data.parameters
            chat_id, text = int(params["chat_id"]), str(params["text"])
            if self.on_send is not None:
                self.on_send(chat_id, text)
            self.sent.append((chat_id, text))
            message = {
                "message_id": len(self.sent),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "text": text,
            }
            return 200, json.dumps({"ok": True, "result": message}).encode()
        raise AssertionError(f"unexpected Bot API call {url}")


def message(update_id: int, chat_id: int, text: str, user_id: int | None = None) -> dict:
    body: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "title": "G"},
        "from": {"id": user_id or chat_id, "first_name": "Erika", "is_bot": False},
        "text": text,
    }
    if text.startswith("/"):
        body["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": body}


def build(processor: Any, request: BaseRequest, persistence: Any = None) -> Application:  # type: ignore[type-arg]
    builder = Application.builder().token("1:offline").updater(None).request(request)
    builder = builder.concurrent_updates(processor)
    if persistence is not None:
        builder = builder.persistence(persistence)
    return builder.build()


async def run(application: Application, raw_updates: list[dict]) -> float:  # type: ignore[type-arg]
    """Puts every update on the queue at once, as polling does with a full batch; returns the
    seconds until all are processed."""
    await application.initialize()
    await application.start()
    try:
        started = time.perf_counter()
        for raw in raw_updates:
            await application.update_queue.put(Update.de_json(raw, application.bot))
        await asyncio.wait_for(application.update_queue.join(), timeout=60)
        return time.perf_counter() - started
    finally:
        await application.stop()
        await application.shutdown()


class Log:
    """Which updates ran, per chat, and how many ran at the same time."""

    def __init__(self) -> None:
        self.order: dict[int, list[str]] = {}
        self.active: dict[int, int] = {}
        self.running = 0
        self.most_running = 0
        self.most_per_chat = 0

    async def handle(self, update: Update, _context: Any) -> None:
        chat = update.effective_chat.id  # type: ignore[union-attr]
        self.running += 1
        self.active[chat] = self.active.get(chat, 0) + 1
        self.most_running = max(self.most_running, self.running)
        self.most_per_chat = max(self.most_per_chat, self.active[chat])
        await asyncio.sleep(random.uniform(0.0, 0.02))  # a Bot API call's round trip
        self.order.setdefault(chat, []).append(update.message.text)  # type: ignore[union-attr]
        self.active[chat] -= 1
        self.running -= 1


async def test_fifty_updates_of_one_chat_run_one_by_one_in_the_order_they_came() -> None:
    log = Log()
    application = build(ChatOrderedProcessor(16), Recorder())
    application.add_handler(MessageHandler(filters.TEXT, log.handle))
    texts = [f"m{i}" for i in range(50)]
    await run(application, [message(i + 1, 7, text) for i, text in enumerate(texts)])
    assert log.order[7] == texts
    assert log.most_per_chat == 1


async def test_many_chats_overlap_up_to_the_bound_and_each_stays_in_order() -> None:
    log = Log()
    application = build(ChatOrderedProcessor(8), Recorder())
    application.add_handler(MessageHandler(filters.TEXT, log.handle))
    chats = range(100, 130)
    raw = [message(i * 100 + c, c, f"{c}:{i}") for i in range(5) for c in chats]
    seconds = await run(application, raw)
    assert log.most_running == 8  # overlapping, never more than the bound
    assert log.most_per_chat == 1
    assert all(log.order[c] == [f"{c}:{i}" for i in range(5)] for c in chats)
    assert seconds < 150 * 0.02 / 2  # one by one would take ~1.5 s on average


async def test_a_chat_sending_a_burst_does_not_hold_the_slots_of_the_others() -> None:
    finished: list[int] = []

    async def slow(update: Update, _context: Any) -> None:
        await asyncio.sleep(0.05)
        finished.append(update.effective_chat.id)  # type: ignore[union-attr]

    application = build(ChatOrderedProcessor(2), Recorder())
    application.add_handler(MessageHandler(filters.TEXT, slow))
    burst = [message(i + 1, 7, f"spam {i}") for i in range(20)]
    await run(application, [*burst, message(99, 8, "hello")])
    assert finished.index(8) <= 2  # not behind the 20 updates of chat 7


async def test_a_message_and_a_button_of_one_user_in_a_group_share_a_lane() -> None:
    """ConversationHandler keys by (chat, user): both updates must never run at once."""
    text = Update.de_json(message(1, -500, "hi", user_id=42), None)
    press = Update.de_json(
        {
            "update_id": 2,
            "callback_query": {
                "id": "q",
                "chat_instance": "c",
                "data": "x",
                "from": {"id": 42, "first_name": "Erika", "is_bot": False},
                "message": {
                    "message_id": 5,
                    "date": 1_700_000_000,
                    "chat": {"id": -500, "type": "group", "title": "G"},
                },
            },
        },
        None,
    )
    inline = Update.de_json(
        {
            "update_id": 3,
            "callback_query": {
                "id": "r",
                "chat_instance": "c",
                "data": "x",
                "inline_message_id": "i",
                "from": {"id": 42, "first_name": "Erika", "is_bot": False},
            },
        },
        None,
    )
    assert lane_keys(text) == (("chat", -500), ("user", 42))
    assert lane_keys(press) == (("chat", -500), ("user", 42))
    assert lane_keys(inline) == (("user", 42),)
    assert set(lane_keys(inline)) & set(lane_keys(text))


def _stored(engine: Engine) -> dict[tuple[str, str], Any]:
    with Session(engine) as session:
        return {(row.namespace, row.key): row.data for row in session.exec(select(BotState))}


def counting_conversation(application: Application) -> None:  # type: ignore[type-arg]
    """/go, then any number of texts, then "end": every step is stored before its reply."""

    async def go(update: Update, context: Any) -> int:
        await asyncio.sleep(random.uniform(0, 0.01))
        context.user_data["seen"] = ["go"]
        await reply(update, "go")
        return COUNTING

    async def count(update: Update, context: Any) -> int:
        text = update.message.text  # type: ignore[union-attr]
        await asyncio.sleep(random.uniform(0, 0.01))
        if text == "end":
            await reply(update, "end")
            return ConversationHandler.END
        context.user_data["seen"].append(text)
        await reply(update, text)
        return COUNTING

    application.add_handler(
        conversation(
            name="count",
            entry_points=[CommandHandler("go", go)],
            states={COUNTING: [MessageHandler(filters.TEXT & ~filters.COMMAND, count)]},
            fallbacks=[],
        )
    )
    application.add_handler(CallbackQueryHandler(lambda *_: None))
    install_write_through(application)


async def test_rapid_conversation_steps_of_many_chats_stay_in_order_and_are_stored_first(
    engine: Engine,
) -> None:
    """20 chats each send /go and nine steps at once; every reply finds its step stored."""
    problems: list[str] = []

    def check_stored(chat_id: int, text: str) -> None:
        stored = _stored(engine).get(("user_data", str(chat_id)), {}) or {}
        if text not in {"end"} and text not in stored.get("seen", []):
            problems.append(f"{chat_id}: reply {text!r} went out before {stored} was stored")

    request = Recorder(on_send=check_stored)
    persistence = DbPersistence(engine, update_interval=3600)
    application = build(ChatOrderedProcessor(8), request, persistence)
    counting_conversation(application)
    chats = range(1000, 1020)
    steps = ["/go", *(f"s{i}" for i in range(8)), "end"]
    raw = [message(n * 100 + c, c, text) for n, text in enumerate(steps) for c in chats]
    await run(application, raw)

    assert problems == []
    for chat in chats:
        assert [text for c, text in request.sent if c == chat] == [
            step.lstrip("/") for step in steps
        ]
        assert application.user_data[chat]["seen"] == ["go", *(f"s{i}" for i in range(8))]
    stored = _stored(engine)
    assert not [key for key in stored if key[0] == "conv:count"]  # every conversation ended
    assert all(stored[("user_data", str(c))] == application.user_data[c] for c in chats)


async def test_without_per_chat_order_the_same_conversation_loses_steps(engine: Engine) -> None:
    """The control: PTB's plain concurrency (no order) breaks the conversation above."""
    request = Recorder()
    application = build(SimpleUpdateProcessor(8), request, DbPersistence(engine))
    counting_conversation(application)
    steps = ["/go", *(f"s{i}" for i in range(8)), "end"]
    await run(application, [message(n + 1, 2000, text) for n, text in enumerate(steps)])
    assert [text for _, text in request.sent] != [step.lstrip("/") for step in steps]
