"""/start: welcome and consent, the company (pick or register), the contact's name, and right
away the first listing.

Nothing but the Telegram id (as the conversation key) is stored before the consent button;
the member row is created by it. Deep links: `/start <invite-code>` (a colleague's link) and
`/start co-<code>` (a manager's single-use company invite) join a company at once,
`/start mgr-<code>` redeems a manager invite. Picking an existing company from the search
only asks to join it (`kooperation.services.membership`): its contacts or its cluster manager
confirm, and until then the requester is no contact.

    /start ─► CONSENT ─ob:ok─► ORG_SEARCH ─"name[, region]"─┬─ hits ─► ORG_PICK ─ob:org:<id>─► NAME
                                                            └─ none ─► CLUSTER
    ORG_PICK | CLUSTER ─ob:cl:<slug>─► SIZE ─ob:sz:<size>─► REGION (unless given) ─► NAME
    NAME ─text | ob:tgname─► listing TEXT ─text─► listing PREVIEW ─ls:ok─► published
                                  └─ ob:later ─► main menu   (a manager without company: the menu)

The first listing runs the listing module's own steps (`listings.steps()`) inside this
conversation, so a new contact gets from /start to a posted need in 8 messages or taps: /start,
consent, "Zellwerk GmbH, 04356 Leipzig", cluster, size, name, the text, publish.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Coroutine
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
from bot.callbacks import callback_id, parts
from bot.context import runtime
from bot.drafts import CompanyDraft, ListingDraft, OnboardingState
from bot.handlers.listings import posting as listing_steps
from bot.handlers.listings.views import ask_first
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
from kooperation.models import JoinKind, Member, Size
from kooperation.reference import cluster_specs
from kooperation.services import identity, members, membership, organizations
from kooperation.validation import InvalidInput

log = logging.getLogger(__name__)

CONSENT, ORG_SEARCH, ORG_PICK, CLUSTER, SIZE, REGION, NAME = range(7)
END = ConversationHandler.END
MANAGER_PREFIX = "mgr-"
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram allows in a deep link
BAD_PAYLOAD = "?"  # kept instead of a malformed one (NUL, spaces …): "invalid link" later
State = listing_steps.State
Step = Callable[[Update, Context], Coroutine[Any, Any, State]]


def _state(context: Context) -> OnboardingState:
    return OnboardingState.from_user_data(context.user_data)


def _keep(context: Context, state: OnboardingState) -> None:
    state.to_user_data(context.user_data)


def _forget_company(context: Context) -> None:
    state = _state(context)
    state.company = CompanyDraft()
    _keep(context, state)


def _typed(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def _telegram_name(update: Update) -> str:
    user = update.effective_user
    return (user.full_name if user else "").strip()[:100]


def _welcome(language: str) -> tuple[str, list[list[tuple[str, str]]]]:
    other = "en" if language == "de" else "de"
    return t(language, "onboarding.welcome"), [
        [(plain(language, "onboarding.button_consent"), "ob:ok")],
        [(plain(other, "onboarding.button_language"), f"ob:lang:{other}")],
    ]


def _signed_up(step: Step) -> Step:
    """A registration step needs the member row: after /delete_me (or a restart of the data)
    an old question is answered with the way back to /start, not a traceback."""

    @functools.wraps(step)
    async def guarded(update: Update, context: Context) -> State:
        who = current(update, context)
        if who.member is None or who.member.consent_at is None:
            await answer(update)
            _forget_company(context)
            await say(update, who.language, "common.not_registered")
            return END
        return await step(update, context)

    return guarded


async def _invalid(update: Update, language: str, error: InvalidInput) -> None:
    await say(update, language, f"common.invalid.{error.code}", **error.params)


async def start(update: Update, context: Context) -> int:
    """Welcome with consent for new users; members go on where their registration stopped."""
    who = current(update, context)
    payload = context.args[0] if context.args else ""
    if payload and payload != "group":
        state = _state(context)
        state.start_payload = payload if _PAYLOAD.fullmatch(payload) else BAD_PAYLOAD
        _keep(context, state)
    if who.member is None or who.member.consent_at is None:
        text, buttons = _welcome(who.language)
        await reply(update, text, buttons)
        return CONSENT
    ListingDraft.drop(context.user_data)  # /start starts over: a half-written listing is dropped
    await _redeem_payload(update, context, who)
    return await _next_step(update, context, current(update, context))


async def switch_language(update: Update, context: Context) -> int:
    """Shows the welcome screen in the other language; stays in CONSENT."""
    language = parts(update)[-1]
    if language not in members.LANGUAGES:
        await stale(update, current(update, context))
        return CONSENT
    state = _state(context)
    state.language = language
    _keep(context, state)
    await answer(update)
    text, buttons = _welcome(language)
    await edit(update, text, buttons)
    return CONSENT


async def consent(update: Update, context: Context) -> int:
    """Creates the member (the first data stored) and continues with the company."""
    await answer(update)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:  # not from a person in a chat: nobody to sign up
        return END
    who = current(update, context)
    with runtime(context).session() as session:
        member = identity.give_consent(
            session=session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            username=user.username,
            language=who.language,
        )
    who = Who(member, who.language)
    state = _state(context)
    state.language = ""  # the member row holds it now
    _keep(context, state)
    await say(update, who.language, "onboarding.consent_given")
    await _redeem_payload(update, context, who)
    return await _next_step(update, context, current(update, context))


async def _redeem_payload(update: Update, context: Context, who: Who) -> None:
    """Acts on a deep-link payload kept from /start: an organization or a manager invite."""
    state = _state(context)
    payload, state.start_payload = state.start_payload, ""
    _keep(context, state)
    if not payload or who.member is None:
        return
    if payload.startswith(MANAGER_PREFIX):
        from kooperation.services.roles import redeem_manager_invite

        try:
            with runtime(context).session() as session:
                redeem_manager_invite(
                    session=session,
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
        await commands.publish_for_member(
            context.application, telegram_user_id=who.member.telegram_user_id
        )
        return
    try:
        with runtime(context).session() as session:
            if payload.startswith(membership.COMPANY_INVITE_PREFIX):
                member = session.get(Member, who.member_id)
                assert member is not None
                organization = membership.redeem_company_invite(
                    session=session, member=member, code=payload
                )
            else:
                organization = organizations.join_by_invite_code(
                    session=session, member_id=who.member_id, code=payload
                )
    except members.OrganizationNotFound:
        await say(update, who.language, "onboarding.invite_invalid")
        return
    except (membership.AlreadyContact, membership.CompanyInviteInvalid) as error:
        reason = getattr(error, "reason", "member")
        key = "already_contact" if reason == "member" else "company_invite_invalid"
        await say(update, who.language, f"membership.{key}")
        return
    await say(update, who.language, "onboarding.joined", organization=organization.name)


async def _next_step(update: Update, _context: Context, who: Who) -> int:
    """Asks for whatever is still missing: the company, then the name; else the menu."""
    needs_name = who.member is not None and not who.member.display_name
    if not who.has_organization and not who.is_manager and not (who.pending and needs_name):
        if who.pending:  # they may register a new company instead of waiting
            await say(update, who.language, "membership.pending", organization=who.pending)
        await say(update, who.language, "onboarding.ask_organization")
        return ORG_SEARCH
    if needs_name:
        name = _telegram_name(update)
        buttons = [[(plain(who.language, "onboarding.button_use_name", name=name), "ob:tgname")]]
        key = (
            "onboarding.ask_name"
            if who.has_organization or who.pending
            else "membership.ask_name_staff"
        )
        await say(update, who.language, key, buttons if len(name) >= 2 else None)
        return NAME
    await show_menu(update, who, t(who.language, "onboarding.welcome_back"))
    return END


@_signed_up
async def search(update: Update, context: Context) -> int:
    """Searches organizations by the typed name; offers the hits and, below them, the clusters
    to register it as new. "Name, region" keeps the region for a new registration."""
    who = current(update, context)
    name, where = organizations.split_name_and_region(_typed(update))
    try:
        with runtime(context).session() as session:
            hits = organizations.search_organizations(session=session, query=name)
    except InvalidInput as error:
        await _invalid(update, who.language, error)
        return ORG_SEARCH
    state = _state(context)
    company = state.company
    company.name, company.region = name[:200], where
    company.choices = [o.id for o in hits if o.id is not None]
    _keep(context, state)
    if not hits:
        key = "onboarding.no_hits_region" if where else "onboarding.no_hits"
        await say(
            update, who.language, key, _cluster_buttons(who.language), name=name, region=where
        )
        return CLUSTER
    buttons = [[(o.name[:60], f"ob:org:{o.id}")] for o in hits]
    buttons.extend(_cluster_buttons(who.language, new=True))
    await say(update, who.language, "onboarding.pick_organization", buttons, name=name)
    return ORG_PICK


def _cluster_buttons(language: str, *, new: bool = False) -> list[list[tuple[str, str]]]:
    if new:
        return [
            [(plain(language, "onboarding.button_new_in", cluster=spec.name), f"ob:cl:{spec.slug}")]
            for spec in cluster_specs()
        ]
    return [[(spec.name[:60], f"ob:cl:{spec.slug}")] for spec in cluster_specs()]


@_signed_up
async def pick(update: Update, context: Context) -> int:
    """Asks to join one of the organizations just offered (its contacts or its manager
    confirm; nobody joins by typing a name); then the name, or the menu while waiting."""
    who = current(update, context)
    organization_id = callback_id(update) or 0
    if organization_id not in _state(context).company.choices:
        await stale(update, who)
        return ORG_PICK
    await answer(update)
    rt = runtime(context)
    try:
        with rt.session() as session:
            member = session.get(Member, who.member_id)
            assert member is not None
            requested = membership.request_to_join(
                session=session,
                settings=rt.settings,
                member=member,
                organization_id=organization_id,
                telegram_name=_telegram_name(update),
            )
            kind = requested.request.kind
    except membership.AlreadyContact:
        await say(update, who.language, "membership.already_contact")
        return END
    except membership.TooManyRequests:
        await say(update, who.language, "membership.too_many")
        return ORG_SEARCH
    except membership.RequestNotFound:
        await stale(update, who)
        return ORG_PICK
    _forget_company(context)
    jobs.wake_sender(context)
    key = "claim_sent" if kind == JoinKind.CLAIM else "request_sent"
    key = key if requested.new else "request_open"
    await say(update, who.language, f"membership.{key}", organization=requested.organization.name)
    who = current(update, context)
    if who.member is not None and not who.member.display_name:
        return await _next_step(update, context, who)
    await show_menu(update, who)
    return END


@_signed_up
async def choose_cluster(update: Update, context: Context) -> int:
    """Keeps the cluster of the new organization; asks for the size band."""
    who = current(update, context)
    slug = parts(update)[-1]
    state = _state(context)
    if slug not in {spec.slug for spec in cluster_specs()} or not state.company.name:
        await stale(update, who)
        return CLUSTER
    await answer(update)
    state.company.cluster = slug
    _keep(context, state)
    buttons = [
        [(plain(who.language, f"onboarding.size.{size.value}"), f"ob:sz:{size.value}")]
        for size in Size
    ]
    await say(update, who.language, "onboarding.ask_size", buttons)
    return SIZE


@_signed_up
async def choose_size(update: Update, context: Context) -> int:
    """Keeps the size band; registers the organization if the name came with a region,
    otherwise asks for it."""
    who = current(update, context)
    size = parts(update)[-1]
    state = _state(context)
    if size not in {s.value for s in Size} or not state.company.cluster:
        await stale(update, who)
        return SIZE
    await answer(update)
    state.company.size = Size(size)
    _keep(context, state)
    if state.company.region:
        return await _register(update, context, who, state.company.region)
    await say(update, who.language, "onboarding.ask_region")
    return REGION


@_signed_up
async def region(update: Update, context: Context) -> int:
    """The typed region or postcode completes the new organization."""
    return await _register(update, context, current(update, context), _typed(update))


async def _register(update: Update, context: Context, who: Who, where: str) -> int:
    """Registers the organization; the contact joins it; then the name."""
    state = _state(context)
    company = state.company
    try:
        with runtime(context).session() as session:
            organization = organizations.register_organization(
                session=session,
                name=company.name,
                cluster_slug=company.cluster,
                size=company.size or Size.SMALL,
                region=where,
                member_id=who.member_id,
            )
    except InvalidInput as error:
        if error.code in {"empty", "too_short", "too_long"} and not company.name:
            await say(update, who.language, "onboarding.ask_organization")
            return ORG_SEARCH
        company.region = ""
        _keep(context, state)
        await _invalid(update, who.language, error)
        await say(update, who.language, "onboarding.ask_region")
        return REGION
    _forget_company(context)
    await say(
        update,
        who.language,
        "onboarding.registered",
        organization=organization.name,
        region=organization.region,
    )
    return await _next_step(update, context, current(update, context))


@_signed_up
async def name(update: Update, context: Context) -> int | str:
    """Stores the contact's name (typed, or Telegram's); registration is complete. A company
    contact is invited to write the first listing right away, a manager gets the menu."""
    who = current(update, context)
    if update.callback_query is not None:
        await answer(update)
        value = _telegram_name(update)
    else:
        value = _typed(update)
    try:
        with runtime(context).session() as session:
            done = organizations.complete_registration(
                session=session, member_id=who.member_id, name=value
            )
    except InvalidInput as error:
        await _invalid(update, who.language, error)
        return NAME
    member = done.member
    who = current(update, context)
    if not done.invite_code:
        key = "membership.done_pending" if who.pending else "onboarding.done"
        await show_menu(update, who, t(who.language, key, name=member.display_name))
        return END
    link = f"https://t.me/{context.bot.username}?start={done.invite_code}"
    lead = t(who.language, "onboarding.done_with_invite", name=member.display_name, link=link)
    ListingDraft(guess=True).to_user_data(context.user_data)
    later = [[(plain(who.language, "onboarding.button_later"), "ob:later")]]
    await reply(update, f"{lead}\n\n{ask_first(who.language)}", later)
    return listing_steps.TEXT_STATE


async def later(update: Update, context: Context) -> int:
    """ "Later" instead of a first listing: the main menu."""
    who = current(update, context)
    await answer(update)
    ListingDraft.drop(context.user_data)
    await show_menu(update, who)
    return END


async def hint_text(update: Update, context: Context) -> int | None:
    """A sticker, photo or file where text is expected: say so, stay in the state."""
    await say(update, current(update, context).language, "common.text_expected")
    return None


async def cancel(update: Update, context: Context) -> int:
    """Leaves the registration; what was stored so far stays."""
    who = current(update, context)
    await answer(update)
    state = _state(context)
    state.company, state.start_payload = CompanyDraft(), ""
    _keep(context, state)
    ListingDraft.drop(context.user_data)
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
    first_listing = listing_steps.steps()
    first_listing[listing_steps.TEXT_STATE].append(
        CallbackQueryHandler(later, pattern=r"^ob:later$")
    )
    for state_handlers in first_listing.values():  # /need, /offer … stay in this conversation
        state_handlers.extend(listing_steps.entry_points())
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
                CallbackQueryHandler(choose_cluster, pattern=r"^ob:cl:[\w-]+$"),
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
            **first_listing,
        },
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(stale_button, pattern=r"^(ob|ls):"),
        ],
        name="onboarding",
        persistent=True,
        allow_reentry=True,
    )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the /start conversation."""
    application.add_handler(build())
