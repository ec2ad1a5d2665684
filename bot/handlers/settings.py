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

from bot import commands, jobs
from bot.callbacks import data_of
from bot.context import runtime
from bot.members import Who, current
from bot.render import Buttons
from bot.texts import Markup, plain, t
from bot.ui import (
    NOT_TEXT,
    PRIVATE,
    TEXT,
    Context,
    answer,
    conversation,
    edit,
    not_registered,
    reply,
    say,
    show_menu,
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
        [(plain(other, "settings.button_language"), f"st:lang:{other}")],
        [
            (
                plain(
                    language,
                    "settings.button_digest_off"
                    if member.digest_enabled
                    else "settings.button_digest_on",
                ),
                f"st:dig:{0 if member.digest_enabled else 1}",  # the state the tap sets
            ),
            (
                plain(
                    language, "settings.button_resume" if member.paused else "settings.button_pause"
                ),
                f"st:pause:{0 if member.paused else 1}",
            ),
        ],
        [
            (plain(language, "settings.button_name"), "st:name"),
            (plain(language, "settings.button_email"), "st:mail"),
        ],
    ]


def _company(context: Context, who: Who) -> tuple[str, Buttons]:
    """The company line with the colleagues' invite link and the leave button; only a
    verified contact sees either."""
    if who.member is None or who.member.organization_id is None:
        return "", []
    with runtime(context).session() as session:
        organization = organizations.get_organization(
            session=session, organization_id=who.member.organization_id
        )
        if organization is None:
            return "", []
        code = organizations.invite_code_for(session=session, organization_id=organization.id)
    link = f"https://t.me/{context.bot.username}?start={code}"
    line = t(who.language, "membership.settings_company", organization=organization.name, link=link)
    return line, [[(plain(who.language, "membership.button_leave"), "st:leave")]]


async def show(update: Update, context: Context) -> None:
    """The settings overview with a button per setting."""
    who = current(update, context)
    await answer(update)
    if not who.registered or who.member is None:
        await not_registered(update, who)
        return
    text, buttons = _view(who.language, who.member)
    company, leave = _company(context, who)
    await reply(update, f"{text}\n\n{company}" if company else text, buttons + leave)


async def leave_asked(update: Update, context: Context) -> None:
    """st:leave – asks to confirm leaving the company."""
    who = current(update, context)
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return
    with runtime(context).session() as session:
        organization = organizations.get_organization(
            session=session, organization_id=who.member.organization_id or 0
        )
    buttons = [
        [
            (plain(who.language, "membership.button_leave_yes"), "st:leave:yes"),
            (plain(who.language, "membership.button_leave_no"), "st:leave:no"),
        ]
    ]
    name = organization.name if organization else ""
    await edit(update, t(who.language, "membership.leave_confirm", organization=name), buttons)


async def leave_confirmed(update: Update, context: Context) -> None:
    """st:leave:yes – leaves the company (the last contact pauses its listings); st:leave:no
    – the menu."""
    who = current(update, context)
    await answer(update)
    if (update.callback_query.data or "").endswith(":no"):
        await show_menu(update, who, t(who.language, "common.cancelled"))
        return
    rt = runtime(context)
    try:
        with rt.session() as session:
            member = session.get(Member, who.member_id)
            assert member is not None
            left = membership.leave_company(session=session, settings=rt.settings, member=member)
    except (membership.NotAContact, members.NotRegistered):
        await not_registered(update, who)
        return
    jobs.wake_sender(context)
    text = t(who.language, "membership.left", organization=left.organization)
    if left.paused_listings:
        last = t(who.language, "membership.left_last", paused=left.paused_listings)
        text = Markup(f"{text}\n\n{last}")
    await edit(update, text)


async def toggle(update: Update, context: Context) -> None:
    """Language, digest or pause: sets one setting to the state the button names and redraws
    the overview."""
    who = current(update, context)
    if not who.registered:
        await not_registered(update, who)
        return
    data = data_of(update)
    with runtime(context).session() as session:
        if data.startswith("st:lang:"):
            member = members.set_language(
                session=session, member_id=who.member_id, language=data.rsplit(":", 1)[-1]
            )
        elif data.startswith("st:dig:"):
            member = members.set_digest(
                session=session, member_id=who.member_id, enabled=data.endswith(":1")
            )
        elif data.startswith("st:pause:"):
            member = members.set_paused(
                session=session, member_id=who.member_id, paused=data.endswith(":1")
            )
        else:  # a button from before buttons carried their state: show the current one
            member = who.member
    await answer(update, plain(member.language, "settings.saved"))
    text, buttons = _view(member.language, member)
    await edit(update, text, buttons)
    if data.startswith("st:lang:"):  # a manager's or admin's own menu follows their language
        await commands.publish_for_member(
            context.application, telegram_user_id=update.effective_user.id
        )


async def ask(update: Update, context: Context) -> int:
    """Asks for the new name or e-mail address."""
    who = current(update, context)
    if not who.registered:
        await not_registered(update, who)
        return END
    await answer(update)
    if update.callback_query.data == "st:name":
        await say(update, who.language, "settings.ask_name")
        return NAME
    await say(update, who.language, "settings.ask_email")
    return EMAIL


async def _store(update: Update, context: Context, field: str) -> int:
    who = current(update, context)
    try:
        with runtime(context).session() as session:
            if field == "name":
                member = members.set_display_name(
                    session=session, member_id=who.member_id, name=update.message.text
                )
            else:
                member = members.set_email(
                    session=session, member_id=who.member_id, email=update.message.text
                )
    except InvalidInput as error:
        await say(update, who.language, f"common.invalid.{error.code}", **error.params)
        return NAME if field == "name" else EMAIL
    await show_menu(update, Who(member, who.language), t(who.language, "settings.saved_long"))
    return END


async def store_name(update: Update, context: Context) -> int:
    """Keeps the new name; back to the menu."""
    return await _store(update, context, "name")


async def store_email(update: Update, context: Context) -> int:
    """Keeps the new e-mail ("-" removes it); back to the menu."""
    return await _store(update, context, "email")


async def hint_text(update: Update, context: Context) -> None:
    await say(update, current(update, context).language, "common.text_expected")


async def cancel(update: Update, context: Context) -> int:
    who = current(update, context)
    await show_menu(update, who, t(who.language, "common.cancelled"))
    return END


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /settings, its toggles and the name/e-mail conversation."""
    application.add_handler(CommandHandler("settings", show, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(show, pattern=r"^mn:settings$"))
    application.add_handler(CallbackQueryHandler(leave_asked, pattern=r"^st:leave$"))
    application.add_handler(CallbackQueryHandler(leave_confirmed, pattern=r"^st:leave:(yes|no)$"))
    application.add_handler(
        CallbackQueryHandler(toggle, pattern=r"^st:(lang:(de|en)|(dig|pause)(:[01])?)$")
    )
    application.add_handler(
        conversation(
            entry_points=[CallbackQueryHandler(ask, pattern=r"^st:(name|mail)$")],
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
