"""The handler toolkit: filters, replies, button answers, the main menu, durable steps.

Every handler – contact or staff – answers through these, so that inside a durable conversation
step (`conversation`) its replies wait until the step's state is stored:

    async def pressed(update: Update, context: BotContext) -> None:
        who = context.actor                       # bot.context / bot.members
        await answer(update)                      # stops the button's spinner
        await edit(update, t(who.language, "…"), buttons)   # or reply / say

A staff command takes `context.staff_actor()` and calls services inside
`with context.acting_session() as session:` (a refused stranger is audited). Texts are HTML;
the Application's `Defaults` give every message parse_mode=HTML and no link previews. Button
data comes from `bot.callbacks`.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import ConversationHandler, filters
from telegram.warnings import PTBUserWarning

from bot import callbacks
from bot.context import BotContext
from bot.members import Who
from bot.render import Buttons, is_not_modified, keyboard, send_html
from bot.texts import plain, t

PRIVATE = filters.ChatType.PRIVATE
TEXT = filters.UpdateType.MESSAGE & PRIVATE & filters.TEXT & ~filters.COMMAND
"""A new text message in a private chat (not an edit, not a command)."""
NOT_TEXT = filters.UpdateType.MESSAGE & PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
"""Stickers, photos, voice, files, locations … where the bot waits for text."""


class _Outgoing:
    """Replies of a conversation step, held back until the step's state is stored."""

    def __init__(self) -> None:
        self.items: list[Callable[[], Awaitable[object]]] = []
        self.open = True


_OUTGOING: ContextVar[_Outgoing | None] = ContextVar("outgoing", default=None)


async def _deliver(send: Callable[[], Awaitable[object]]) -> None:
    outgoing = _OUTGOING.get()
    if outgoing is not None and outgoing.open:
        outgoing.items.append(send)
    else:
        await send()


def text_of(update: Update) -> str:
    """The text of the update's message ("" for anything else)."""
    message = update.effective_message
    return (message.text or "") if message is not None else ""


async def reply(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Sends already rendered HTML into the update's chat (split if long)."""
    chat = update.effective_chat
    if chat is not None:
        bot = update.get_bot()
        await _deliver(lambda: send_html(bot, chat.id, text, buttons))


async def say(
    update: Update, language: str, key: str, buttons: Buttons | None = None, **params: object
) -> None:
    await reply(update, t(language, key, **params), buttons)


async def _answer_now(update: Update, text: str | None, alert: bool) -> None:
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(BadRequest):  # too old to answer: nothing to stop
            await query.answer(text=text, show_alert=alert)


async def answer(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answers a callback query (stops the button's spinner); no-op for messages."""
    if update.callback_query is not None:
        await _deliver(lambda: _answer_now(update, text, alert))


async def _edit_now(update: Update, text: str, buttons: Buttons | None) -> None:
    query = update.callback_query
    message = query.message if query is not None else None
    if query is not None and message is not None and message.message_id:
        try:
            await query.edit_message_text(text=text, reply_markup=keyboard(buttons))
            return
        except BadRequest as error:
            if is_not_modified(error):
                return
    chat = update.effective_chat
    if chat is not None:
        await send_html(update.get_bot(), chat.id, text, buttons)


async def edit(update: Update, text: str, buttons: Buttons | None = None) -> None:
    """Replaces the message the pressed button belongs to; sends anew if it cannot be edited."""
    await _deliver(lambda: _edit_now(update, text, buttons))


def menu_buttons(language: str) -> Buttons:
    return [
        new_listing_buttons(language),
        [
            (plain(language, "menu.button_mine"), callbacks.MENU_MINE.data()),
            (plain(language, "menu.button_matches"), callbacks.MENU_MATCHES.data()),
        ],
        *staff_buttons(language),
    ]


def new_listing_buttons(language: str) -> list[tuple[str, str]]:
    """The buttons that start a need and an offer: one row."""
    return [
        (plain(language, f"menu.button_{kind}"), callbacks.MENU_NEW.data(kind))
        for kind in callbacks.KIND.choices
    ]


def staff_buttons(language: str) -> Buttons:
    """The menu of a manager or admin who speaks for no company: nothing to post."""
    return [
        [
            (plain(language, "menu.button_settings"), callbacks.MENU_SETTINGS.data()),
            (plain(language, "menu.button_privacy"), callbacks.MENU_PRIVACY.data()),
        ],
        [(plain(language, "menu.button_help"), callbacks.MENU_HELP.data())],
    ]


def menu_view(who: Who, lead: str | None = None) -> tuple[str, Buttons]:
    """The main menu's text and buttons; `lead` is an already rendered text shown above it.
    Staff without a company get their commands and how to join a company; a requester hears
    what waits."""
    parts = [lead] if lead else []
    parts.append(t(who.language, "menu.title"))
    if who.is_manager:
        parts.append(t(who.language, "menu.manager_hint"))
        parts.append(t(who.language, "menu.manager_companies_hint"))
    if who.is_manager and not who.has_organization:
        parts.append(t(who.language, "membership.staff_no_company"))
        return "\n\n".join(parts), staff_buttons(who.language)
    if who.pending:
        parts.append(t(who.language, "membership.pending", organization=who.pending))
    return "\n\n".join(parts), menu_buttons(who.language)


async def show_menu(update: Update, who: Who, lead: str | None = None) -> None:
    """The main menu as a new message, `lead` above it in the same message: one message per
    answer, not a text and then the menu (less noise, and half of Telegram's 30 messages/s)."""
    await reply(update, *menu_view(who, lead))


async def edit_menu(update: Update, who: Who, lead: str | None = None) -> None:
    """The main menu in place of the message whose button was pressed, `lead` above it."""
    await edit(update, *menu_view(who, lead))


async def stale(update: Update, who: Who, key: str = "common.stale_button") -> None:
    """A button that no longer applies (or was forged): nothing changes, and the user is told."""
    await answer(update, plain(who.language, key), alert=True)
    await say(update, who.language, key)


async def not_registered(update: Update, who: Who) -> None:
    """The way to /start – or, for someone signed up without a company, why they cannot act
    for one (a pending request, staff without a company, a former contact)."""
    await answer(update)
    if not who.registered or who.has_organization:
        await say(update, who.language, "common.not_registered")
    elif who.pending:
        await say(update, who.language, "membership.pending", organization=who.pending)
    elif who.is_manager:
        await say(update, who.language, "membership.staff_no_company")
    else:
        await say(update, who.language, "membership.no_company")


Callback = Callable[[Update, BotContext], Coroutine[Any, Any, object]]


def _durable(name: str, callback: Callback) -> Callback:
    """Stores the step's new state and user_data *before* its replies go out.

    PTB sets the conversation state only after the callback returns, and the write-through
    handler stores it after that; a crash in between would leave the user looking at an
    answer whose state was lost. Holding the replies back until the state is written means:
    whatever the user has seen is in the database.
    """

    @functools.wraps(callback)
    async def step(update: Update, context: BotContext) -> object:
        outgoing = _Outgoing()
        token = _OUTGOING.set(outgoing)
        try:
            state = await callback(update, context)
        finally:
            _OUTGOING.reset(token)
            outgoing.open = False
        persistence = context.application.persistence
        user, chat = update.effective_user, update.effective_chat
        if persistence is not None and user is not None and chat is not None:
            if state is not None:
                stored = None if state == ConversationHandler.END else state
                await persistence.update_conversation(name, (chat.id, user.id), stored)
            if context.user_data is not None:
                await persistence.update_user_data(user.id, context.user_data)
        for send in outgoing.items:
            await send()
        return state

    return step


def conversation(**options: Any) -> ConversationHandler[Any]:
    """A persistent ConversationHandler keyed per chat and user whose steps are durable.

    PTB warns that button presses are then not tracked per message; that is intended: every
    callback is validated against the state and the stored draft, so an old button is refused.
    """
    options.setdefault("persistent", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)
        handler = ConversationHandler(**options)
    handlers = [*handler.entry_points, *handler.fallbacks]
    for state_handlers in handler.states.values():
        handlers.extend(state_handlers)
    unique = {id(inner): inner for inner in handlers}  # one handler may serve several states
    for inner in unique.values():
        inner.callback = _durable(options["name"], inner.callback)
    return handler
