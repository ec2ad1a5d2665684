"""The acting member: read once per update and kept on the context (bot/context.py,
bot/members.py); staff commands and refused strangers (the audit) on the same value."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram import Update
from telegram.ext import Application

from bot.app import CONTEXT_TYPES
from bot.context import BotContext, Runtime
from bot.members import prefetch
from kooperation.config import Settings
from kooperation.models import Role
from kooperation.services import identity

USER = 4_200_001


def _app(settings: Settings, engine: Engine) -> Application[Any, Any, Any, Any, Any, Any]:
    application = Application.builder().token("1:offline").context_types(CONTEXT_TYPES).build()
    application.bot_data["runtime"] = Runtime(settings=settings, engine=engine)
    return application


def _update(application: Application[Any, Any, Any, Any, Any, Any], text: str) -> Update:
    user = {"id": USER, "first_name": "Erika", "is_bot": False, "language_code": "en"}
    message = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": USER, "type": "private"},
        "from": user,
        "text": text,
    }
    return Update.de_json({"update_id": 1, "message": message}, application.bot)


def _context(application: Application[Any, Any, Any, Any, Any, Any], update: Update) -> BotContext:
    context = application.context_types.context.from_update(update, application)
    assert isinstance(context, BotContext)
    return context


async def test_the_actor_is_read_once_and_kept_for_the_update(
    settings: Settings, engine: Engine, session: Session
) -> None:
    member = identity.give_consent(
        session=session, telegram_user_id=USER, chat_id=USER, username=None, language="en"
    )
    application = _app(settings, engine)
    update = _update(application, "/menu")
    context = _context(application, update)
    await prefetch(update, context)
    first = context.actor
    assert first.member is not None and first.member.id == member.id
    assert (first.telegram_user_id, first.language) == (USER, "en")
    session.delete(member)
    session.commit()
    assert context.actor is first  # no second look-up within the update
    assert context.refresh_actor().member is None  # unless the handler asks for one
    assert context.actor.member is None


async def test_an_admin_from_the_settings_gets_a_member_row_on_a_staff_command(
    settings: Settings, engine: Engine, session: Session
) -> None:
    admin_settings = settings.model_copy(update={"admin_telegram_ids": [USER]})
    application = _app(admin_settings, engine)
    update = _update(application, "/stats")
    context = _context(application, update)
    assert context.actor.member is None
    staff = context.staff_actor()
    assert staff.member is not None and staff.member.role == Role.ADMIN
    assert context.actor is staff
    assert identity.member_by_telegram_id(session=session, telegram_user_id=USER) is not None


async def test_nobody_else_gets_a_row_from_a_staff_command(
    settings: Settings, engine: Engine, session: Session
) -> None:
    application = _app(settings, engine)
    context = _context(application, _update(application, "/stats"))
    assert context.staff_actor().member is None
    assert identity.member_by_telegram_id(session=session, telegram_user_id=USER) is None


async def test_a_stranger_acting_is_named_for_the_audit(settings: Settings, engine: Engine) -> None:
    application = _app(settings, engine)
    context = _context(application, _update(application, "/review"))
    with context.acting_session() as session:
        assert identity.stranger_telegram_id(session) == USER


async def test_only_a_contact_step_records_that_the_member_wrote(
    settings: Settings, engine: Engine, session: Session
) -> None:
    """`actor` keeps @username and chat current (`identity.seen`), as a contact's own message
    always did; staff commands and the buttons of the bot's own messages change nothing."""
    member = identity.give_consent(
        session=session, telegram_user_id=USER, chat_id=USER, username="anna_berg", language="de"
    )
    application = _app(settings, engine)
    update = _update(application, "/review")  # the Telegram user has no @username now
    for read in (lambda c: c.known_actor, lambda c: c.staff_actor()):
        context = _context(application, update)
        await prefetch(update, context)
        assert read(context).member is not None
        session.refresh(member)
        assert member.username == "anna_berg"
    context = _context(application, update)
    await prefetch(update, context)
    assert context.actor.member is not None
    session.refresh(member)
    assert member.username == ""


@pytest.mark.parametrize("garbled", [{"de": 1}, ["en"], 5])
async def test_a_garbled_welcome_language_falls_back_to_telegrams(
    settings: Settings, engine: Engine, garbled: object
) -> None:
    """Before consent the language comes from user_data ("lang", the welcome screen's
    choice); a value the bot never wrote there is none, not a traceback on every update."""
    application = _app(settings, engine)
    update = _update(application, "/start")
    context = _context(application, update)
    context.user_state["lang"] = garbled
    await prefetch(update, context)
    assert context.actor.member is None
    assert context.actor.language == "en"
    assert context.refresh_actor().language == "en"
