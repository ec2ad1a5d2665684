"""/start: welcome and consent, the company (pick or register), the contact's name.

Nothing but the Telegram id (as the conversation key) is stored before the consent button;
the member row is created by it. Deep links: `/start <invite-code>` joins an organization,
`/start mgr-<code>` redeems a manager invite (managers' service, called by name).

    /start ─► CONSENT ─ob:ok─► ORG_SEARCH ─text─► ORG_PICK ─ob:org:<id>─► NAME ─text─► menu
                                   │ no hit          └─ob:new─► CLUSTER ─► SIZE ─► REGION ─┘
                                   └──────────────────────────► CLUSTER
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.context import runtime
from bot.members import Who, current
from bot.texts import plain, t
from bot.ui import (
    NOT_TEXT,
    PRIVATE,
    TEXT,
    Context,
    answer,
    conversation,
    edit,
    reply,
    say,
    show_menu,
    stale,
)
from kooperation.models import Size
from kooperation.reference import cluster_specs
from kooperation.services import members, organizations
from kooperation.validation import InvalidInput

log = logging.getLogger(__name__)

CONSENT, ORG_SEARCH, ORG_PICK, CLUSTER, SIZE, REGION, NAME = range(7)
END = ConversationHandler.END
MANAGER_PREFIX = "mgr-"


def _telegram_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "").strip()[:100]


def _welcome(language: str) -> tuple[str, list[list[tuple[str, str]]]]:
    other = "en" if language == "de" else "de"
    return t(language, "onboarding.welcome"), [
        [(plain(language, "onboarding.button_consent"), "ob:ok")],
        [(plain(other, "onboarding.button_language"), f"ob:lang:{other}")],
    ]


async def _invalid(update: Update, language: str, error: InvalidInput) -> None:
    await say(update, language, f"common.invalid.{error.code}", **error.params)


async def start(update: Update, context: Context) -> int:
    """Welcome with consent for new users; members go on where their registration stopped."""
    who = current(update, context)
    payload = context.args[0] if context.args else ""
    if payload and payload != "group":
        context.user_data["start_payload"] = payload[:64]
    if who.member is None or who.member.consent_at is None:
        text, buttons = _welcome(who.language)
        await reply(update, text, buttons)
        return CONSENT
    context.user_data.pop("draft", None)  # /start starts over: a half-written listing is dropped
    await _redeem_payload(update, context, who)
    return await _next_step(update, context, current(update, context))


async def switch_language(update: Update, context: Context) -> int:
    """Shows the welcome screen in the other language; stays in CONSENT."""
    language = (update.callback_query.data or "").rsplit(":", 1)[-1]
    if language not in members.LANGUAGES:
        await stale(update, current(update, context))
        return CONSENT
    context.user_data["lang"] = language
    await answer(update)
    text, buttons = _welcome(language)
    await edit(update, text, buttons)
    return CONSENT


async def consent(update: Update, context: Context) -> int:
    """Creates the member (the first data stored) and continues with the company."""
    await answer(update)
    user = update.effective_user
    who = current(update, context)
    with runtime(context).session() as session:
        member = members.give_consent(
            session=session,
            telegram_user_id=user.id,
            chat_id=update.effective_chat.id,
            username=user.username,
            language=who.language,
        )
    who = Who(member, who.language)
    context.user_data.pop("lang", None)
    await say(update, who.language, "onboarding.consent_given")
    await _redeem_payload(update, context, who)
    return await _next_step(update, context, current(update, context))


async def _redeem_payload(update: Update, context: Context, who: Who) -> None:
    """Acts on a deep-link payload kept from /start: an organization or a manager invite."""
    payload = context.user_data.pop("start_payload", "")
    if not payload or who.member is None:
        return
    settings = runtime(context).settings
    if payload.startswith(MANAGER_PREFIX):
        try:
            from kooperation.services.roles import redeem_manager_invite
        except ImportError:
            await say(update, who.language, "onboarding.manager_invite_invalid")
            return
        try:
            with runtime(context).session() as session:
                redeem_manager_invite(
                    session=session,
                    settings=settings,
                    member=who.member,
                    code=payload.removeprefix(MANAGER_PREFIX),
                )
        except Exception:
            log.info(
                "manager invite %r refused for member %s", payload, who.member.id, exc_info=True
            )
            await say(update, who.language, "onboarding.manager_invite_invalid")
            return
        await say(update, who.language, "onboarding.manager_invite_ok")
        return
    try:
        with runtime(context).session() as session:
            organization = organizations.join_by_invite_code(
                session=session, member_id=who.member_id, code=payload
            )
    except members.OrganizationNotFound:
        await say(update, who.language, "onboarding.invite_invalid")
        return
    await say(update, who.language, "onboarding.joined", organization=organization.name)


async def _next_step(update: Update, context: Context, who: Who) -> int:
    """Asks for whatever is still missing: the company, then the name; else the menu."""
    if not who.has_organization and not who.is_manager:
        await say(update, who.language, "onboarding.ask_organization")
        return ORG_SEARCH
    if who.member is not None and not who.member.display_name:
        name = _telegram_name(update)
        buttons = [[(plain(who.language, "onboarding.button_use_name", name=name), "ob:tgname")]]
        await say(update, who.language, "onboarding.ask_name", buttons if len(name) >= 2 else None)
        return NAME
    await show_menu(update, who, t(who.language, "onboarding.welcome_back"))
    return END


async def search(update: Update, context: Context) -> int:
    """Searches organizations by the typed name; offers hits or registering a new one."""
    who = current(update, context)
    query = update.message.text
    try:
        with runtime(context).session() as session:
            hits = organizations.search_organizations(session=session, query=query)
    except InvalidInput as error:
        await _invalid(update, who.language, error)
        return ORG_SEARCH
    context.user_data["org_name"] = query.strip()[:200]
    if not hits:
        return await _ask_cluster(update, context, who, "onboarding.no_hits")
    context.user_data["org_choices"] = [o.id for o in hits]
    buttons = [[(o.name[:60], f"ob:org:{o.id}")] for o in hits]
    buttons.append(
        [(plain(who.language, "onboarding.button_register", name=query.strip()[:40]), "ob:new")]
    )
    await say(update, who.language, "onboarding.pick_organization", buttons)
    return ORG_PICK


async def pick(update: Update, context: Context) -> int:
    """Joins one of the organizations just offered; then asks for the name."""
    who = current(update, context)
    organization_id = int((update.callback_query.data or "0").rsplit(":", 1)[-1])
    if who.member is None or organization_id not in context.user_data.get("org_choices", []):
        await stale(update, who)
        return ORG_PICK
    await answer(update)
    with runtime(context).session() as session:
        organization = organizations.join(
            session=session, member_id=who.member_id, organization_id=organization_id
        )
    context.user_data.pop("org_choices", None)
    await say(update, who.language, "onboarding.joined", organization=organization.name)
    return await _next_step(update, context, current(update, context))


async def register_new(update: Update, context: Context) -> int:
    """Starts registering the organization under the name searched for."""
    await answer(update)
    return await _ask_cluster(update, context, current(update, context))


async def _ask_cluster(
    update: Update, context: Context, who: Who, key: str = "onboarding.ask_cluster"
) -> int:
    buttons = [[(spec.name[:60], f"ob:cl:{spec.slug}")] for spec in cluster_specs()]
    await say(update, who.language, key, buttons, name=context.user_data.get("org_name", ""))
    return CLUSTER


async def choose_cluster(update: Update, context: Context) -> int:
    """Keeps the cluster; asks for the size band."""
    who = current(update, context)
    slug = (update.callback_query.data or "").rsplit(":", 1)[-1]
    if slug not in {spec.slug for spec in cluster_specs()}:
        await stale(update, who)
        return CLUSTER
    await answer(update)
    context.user_data["org_cluster"] = slug
    buttons = [
        [(plain(who.language, f"onboarding.size.{size.value}"), f"ob:sz:{size.value}")]
        for size in Size
    ]
    await say(update, who.language, "onboarding.ask_size", buttons)
    return SIZE


async def choose_size(update: Update, context: Context) -> int:
    """Keeps the size band; asks for region or postcode."""
    who = current(update, context)
    size = (update.callback_query.data or "").rsplit(":", 1)[-1]
    if size not in {s.value for s in Size} or "org_cluster" not in context.user_data:
        await stale(update, who)
        return SIZE
    await answer(update)
    context.user_data["org_size"] = size
    await say(update, who.language, "onboarding.ask_region")
    return REGION


async def region(update: Update, context: Context) -> int:
    """Registers the organization with the typed region; the contact joins it."""
    who = current(update, context)
    data = context.user_data
    try:
        with runtime(context).session() as session:
            organization = organizations.register_organization(
                session=session,
                name=data.get("org_name", ""),
                cluster_slug=data.get("org_cluster", ""),
                size=data.get("org_size", Size.SMALL),
                region=update.message.text,
                member_id=who.member_id,
            )
    except InvalidInput as error:
        if error.code in {"empty", "too_short", "too_long"} and not data.get("org_name"):
            await say(update, who.language, "onboarding.ask_organization")
            return ORG_SEARCH
        await _invalid(update, who.language, error)
        return REGION
    for key in ("org_name", "org_cluster", "org_size"):
        data.pop(key, None)
    await say(update, who.language, "onboarding.registered", organization=organization.name)
    return await _next_step(update, context, current(update, context))


async def name(update: Update, context: Context) -> int:
    """Stores the contact's name (typed, or Telegram's); registration is complete."""
    who = current(update, context)
    if update.callback_query is not None:
        await answer(update)
        value = _telegram_name(update)
    else:
        value = update.message.text
    try:
        with runtime(context).session() as session:
            done = organizations.complete_registration(
                session=session, member_id=who.member_id, name=value
            )
    except InvalidInput as error:
        await _invalid(update, who.language, error)
        return NAME
    member = done.member
    who = Who(member, who.language)
    lead = t(who.language, "onboarding.done", name=member.display_name)
    if done.invite_code:
        link = f"https://t.me/{context.bot.username}?start={done.invite_code}"
        lead = t(who.language, "onboarding.done_with_invite", name=member.display_name, link=link)
    await show_menu(update, who, lead)
    return END


async def hint_text(update: Update, context: Context) -> int | None:
    """A sticker, photo or file where text is expected: say so, stay in the state."""
    await say(update, current(update, context).language, "common.text_expected")
    return None


async def cancel(update: Update, context: Context) -> int:
    """Leaves the registration; what was stored so far stays."""
    who = current(update, context)
    await answer(update)
    for key in ("org_name", "org_cluster", "org_size", "org_choices", "start_payload"):
        context.user_data.pop(key, None)
    if who.registered:
        await show_menu(update, who, t(who.language, "common.cancelled"))
    else:
        await say(update, who.language, "onboarding.cancelled")
    return END


async def stale_button(update: Update, context: Context) -> None:
    """A button of another step: changes nothing."""
    await stale(update, current(update, context))


def build() -> ConversationHandler[Any]:
    hint = MessageHandler(NOT_TEXT, hint_text)
    return conversation(
        entry_points=[CommandHandler("start", start, filters=PRIVATE)],
        states={
            CONSENT: [
                CallbackQueryHandler(consent, pattern=r"^ob:ok$"),
                CallbackQueryHandler(switch_language, pattern=r"^ob:lang:\w+$"),
            ],
            ORG_SEARCH: [MessageHandler(TEXT, search), hint],
            ORG_PICK: [
                CallbackQueryHandler(pick, pattern=r"^ob:org:\d+$"),
                CallbackQueryHandler(register_new, pattern=r"^ob:new$"),
                MessageHandler(TEXT, search),
                hint,
            ],
            CLUSTER: [
                CallbackQueryHandler(choose_cluster, pattern=r"^ob:cl:[\w-]+$"),
                MessageHandler(TEXT, search),
                hint,
            ],
            SIZE: [CallbackQueryHandler(choose_size, pattern=r"^ob:sz:\w+$"), hint],
            REGION: [MessageHandler(TEXT, region), hint],
            NAME: [
                MessageHandler(TEXT, name),
                CallbackQueryHandler(name, pattern=r"^ob:tgname$"),
                hint,
            ],
        },
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(stale_button, pattern=r"^ob:"),
        ],
        name="onboarding",
        persistent=True,
        allow_reentry=True,
    )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the /start conversation."""
    application.add_handler(build())
