"""/settings: language, weekly digest, pause all matching, name and e-mail; the company with
its colleague invite link (contacts only), and leaving it."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot import commands
from bot.callbacks import (
    MENU_SETTINGS,
    SETTINGS_DIGEST,
    SETTINGS_DIGEST_OLD,
    SETTINGS_EMAIL,
    SETTINGS_LANGUAGE,
    SETTINGS_LEAVE,
    SETTINGS_LEAVE_ANSWER,
    SETTINGS_NAME,
    SETTINGS_PAUSE,
    SETTINGS_PAUSE_OLD,
    any_of,
)
from bot.context import BotContext
from bot.members import Who
from bot.render import Buttons
from bot.texts import Markup, plain, t
from bot.ui import (
    NOT_TEXT,
    PRIVATE,
    TEXT,
    answer,
    conversation,
    edit,
    not_registered,
    reply,
    say,
    show_menu,
    text_of,
)
from kooperation.models import Member
from kooperation.services import members, membership, organizations
from kooperation.validation import InvalidInput

NAME, EMAIL = range(2)
END = ConversationHandler.END


def _view(language: str, member: Member) -> tuple[str, Buttons]:
    on, off = plain(language, "settings.on"), plain(language, "settings.off")
    text = t(
        language,
        "settings.overview",
        language_name=plain(language, f"settings.language_name.{language}"),
        digest=on if member.digest_enabled else off,
        paused=on if member.paused else off,
        name=member.display_name,
        email=member.email or plain(language, "settings.no_email"),
    )
    other = "en" if language == "de" else "de"
    return text, [
        [(plain(other, "settings.button_language"), SETTINGS_LANGUAGE.data(other))],
        [
            (
                plain(
                    language,
                    "settings.button_digest_off"
                    if member.digest_enabled
                    else "settings.button_digest_on",
                ),
                SETTINGS_DIGEST.data(not member.digest_enabled),  # the state the tap sets
            ),
            (
                plain(
                    language, "settings.button_resume" if member.paused else "settings.button_pause"
                ),
                SETTINGS_PAUSE.data(not member.paused),
            ),
        ],
        [
            (plain(language, "settings.button_name"), SETTINGS_NAME.data()),
            (plain(language, "settings.button_email"), SETTINGS_EMAIL.data()),
        ],
    ]


def _company(context: BotContext, who: Who) -> tuple[str, list[list[tuple[str, str]]]]:
    """The company line with the colleagues' invite link and the leave button; only a
    verified contact sees either."""
    organization_id = who.member.organization_id if who.member is not None else None
    if organization_id is None:
        return "", []
    with context.runtime.session() as session:
        organization = organizations.get_organization(
            session=session, organization_id=organization_id
        )
        if organization is None:
            return "", []
        code = organizations.invite_code_for(session=session, organization_id=organization_id)
    link = f"https://t.me/{context.bot.username}?start={code}"
    line = t(who.language, "membership.settings_company", organization=organization.name, link=link)
    return line, [[(plain(who.language, "membership.button_leave"), SETTINGS_LEAVE.data())]]


async def show(update: Update, context: BotContext) -> None:
    """The settings overview with a button per setting."""
    who = context.actor
    await answer(update)
    if not who.registered or who.member is None:
        await not_registered(update, who)
        return
    text, buttons = _view(who.language, who.member)
    company, leave = _company(context, who)
    await reply(update, f"{text}\n\n{company}" if company else text, [*buttons, *leave])


async def leave_asked(update: Update, context: BotContext) -> None:
    """st:leave – asks to confirm leaving the company."""
    who = context.actor
    await answer(update)
    if who.member is None or not who.registered or not who.has_organization:
        await not_registered(update, who)
        return
    with context.runtime.session() as session:
        organization = organizations.get_organization(
            session=session, organization_id=who.member.organization_id or 0
        )
    buttons = [
        [
            (plain(who.language, f"membership.button_leave_{key}"), SETTINGS_LEAVE_ANSWER.data(yes))
            for key, yes in (("yes", True), ("no", False))
        ]
    ]
    name = organization.name if organization else ""
    await edit(update, t(who.language, "membership.leave_confirm", organization=name), buttons)


async def leave_confirmed(update: Update, context: BotContext) -> None:
    """st:leave:yes – leaves the company (the last contact pauses its listings); st:leave:no
    – the menu."""
    who = context.actor
    await answer(update)
    if not SETTINGS_LEAVE_ANSWER.pressed(update):
        await show_menu(update, who, t(who.language, "common.cancelled"))
        return
    rt = context.runtime
    try:
        with rt.session() as session:
            member = session.get(Member, who.member_id)
            assert member is not None
            left = membership.leave_company(session=session, settings=rt.settings, member=member)
    except (membership.NotAContact, members.NotRegistered):
        await not_registered(update, who)
        return
    context.wake_sender()
    text = t(who.language, "membership.left", organization=left.organization)
    if left.paused_listings:
        last = t(who.language, "membership.left_last", paused=left.paused_listings)
        text = Markup(f"{text}\n\n{last}")
    await edit(update, text)


async def toggle(update: Update, context: BotContext) -> None:
    """Language, digest or pause: sets one setting to the state the button names and redraws
    the overview."""
    who = context.actor
    if who.member is None or not who.registered:
        await not_registered(update, who)
        return
    language = SETTINGS_LANGUAGE.pressed(update)
    digest, paused = SETTINGS_DIGEST.pressed(update), SETTINGS_PAUSE.pressed(update)
    member: Member | None = who.member
    with context.runtime.session() as session:
        if language is not None:
            member = members.set_language(
                session=session, member_id=who.member_id, language=language
            )
        elif digest is not None:
            member = members.set_digest(session=session, member_id=who.member_id, enabled=digest)
        elif paused is not None:
            member = members.set_paused(session=session, member_id=who.member_id, paused=paused)
        # else a button from before buttons carried their state: show the current one
    assert member is not None
    await answer(update, plain(member.language, "settings.saved"))
    text, buttons = _view(member.language, member)
    await edit(update, text, buttons)
    if language is not None:  # a manager's or admin's own menu follows their language
        await commands.publish_for_member(
            context.application, telegram_user_id=who.telegram_user_id
        )


async def ask(update: Update, context: BotContext) -> int:
    """Asks for the new name or e-mail address."""
    who = context.actor
    if not who.registered:
        await not_registered(update, who)
        return END
    await answer(update)
    if SETTINGS_NAME.pressed(update):
        await say(update, who.language, "settings.ask_name")
        return NAME
    await say(update, who.language, "settings.ask_email")
    return EMAIL


async def _store(update: Update, context: BotContext, field: str) -> int:
    who = context.actor
    text = text_of(update)
    try:
        with context.runtime.session() as session:
            if field == "name":
                member = members.set_display_name(
                    session=session, member_id=who.member_id, name=text
                )
            else:
                member = members.set_email(session=session, member_id=who.member_id, email=text)
    except InvalidInput as error:
        await say(update, who.language, f"common.invalid.{error.code}", **error.params)
        return NAME if field == "name" else EMAIL
    saved = Who(member, who.language, telegram_user_id=who.telegram_user_id)
    await show_menu(update, saved, t(who.language, "settings.saved_long"))
    return END


async def store_name(update: Update, context: BotContext) -> int:
    """Keeps the new name; back to the menu."""
    return await _store(update, context, "name")


async def store_email(update: Update, context: BotContext) -> int:
    """Keeps the new e-mail ("-" removes it); back to the menu."""
    return await _store(update, context, "email")


async def hint_text(update: Update, context: BotContext) -> None:
    await say(update, context.actor.language, "common.text_expected")


async def cancel(update: Update, context: BotContext) -> int:
    who = context.actor
    await show_menu(update, who, t(who.language, "common.cancelled"))
    return END


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /settings, its toggles and the name/e-mail conversation."""
    application.add_handler(CommandHandler("settings", show, filters=PRIVATE))
    toggles = any_of(
        SETTINGS_LANGUAGE, SETTINGS_DIGEST, SETTINGS_PAUSE, SETTINGS_DIGEST_OLD, SETTINGS_PAUSE_OLD
    )
    application.add_handler(CallbackQueryHandler(show, pattern=MENU_SETTINGS.pattern))
    application.add_handler(CallbackQueryHandler(leave_asked, pattern=SETTINGS_LEAVE.pattern))
    application.add_handler(
        CallbackQueryHandler(leave_confirmed, pattern=SETTINGS_LEAVE_ANSWER.pattern)
    )
    application.add_handler(CallbackQueryHandler(toggle, pattern=toggles))
    application.add_handler(
        conversation(
            entry_points=[CallbackQueryHandler(ask, pattern=any_of(SETTINGS_NAME, SETTINGS_EMAIL))],
            states={
                NAME: [MessageHandler(TEXT, store_name), MessageHandler(NOT_TEXT, hint_text)],
                EMAIL: [MessageHandler(TEXT, store_email), MessageHandler(NOT_TEXT, hint_text)],
            },
            fallbacks=[CommandHandler("cancel", cancel, filters=PRIVATE)],
            name="settings",
            persistent=True,
            allow_reentry=True,
        )
    )
