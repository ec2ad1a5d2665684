"""/start, the welcome with its consent and language buttons, and deep links.

Nothing but the Telegram id (as the conversation key) is stored before the consent button;
the member row is created by it. Deep links: `/start <invite-code>` (a colleague's link) and
`/start co-<code>` (a manager's single-use company invite, or an old colleague code that
happens to start the same way) join a company at once, `/start mgr-<code>` redeems a manager
invite.
"""

from __future__ import annotations

import logging
import re

from telegram import Update

from bot import callbacks, commands
from bot.context import BotContext
from bot.drafts import ListingDraft
from bot.handlers.onboarding.common import CONSENT, END, keep, state_of
from bot.handlers.onboarding.completion import next_step
from bot.members import Who
from bot.texts import plain, t
from bot.ui import answer, edit, reply, say, stale
from kooperation.models import Member
from kooperation.services import identity, members, membership, organizations

log = logging.getLogger(__name__)

MANAGER_PREFIX = "mgr-"
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what Telegram allows in a deep link
BAD_PAYLOAD = "?"  # kept instead of a malformed one (NUL, spaces …): "invalid link" later


def _welcome(language: str) -> tuple[str, list[list[tuple[str, str]]]]:
    other = "en" if language == "de" else "de"
    return t(language, "onboarding.welcome"), [
        [(plain(language, "onboarding.button_consent"), callbacks.ONBOARDING_CONSENT.data())],
        [(plain(other, "onboarding.button_language"), callbacks.ONBOARDING_LANGUAGE.data(other))],
    ]


async def start(update: Update, context: BotContext) -> int:
    """Welcome with consent for new users; members go on where their registration stopped."""
    who = context.actor
    payload = context.args[0] if context.args else ""
    if payload and payload != "group":
        state = state_of(context)
        state.start_payload = payload if _PAYLOAD.fullmatch(payload) else BAD_PAYLOAD
        keep(context, state)
    if who.member is None or who.member.consent_at is None:
        text, buttons = _welcome(who.language)
        await reply(update, text, buttons)
        return CONSENT
    ListingDraft.drop(context.user_state)  # /start starts over: a half-written listing is dropped
    await _redeem_payload(update, context, who)
    return await next_step(update, context.refresh_actor())


async def switch_language(update: Update, context: BotContext) -> int:
    """Shows the welcome screen in the other language; stays in CONSENT."""
    language = callbacks.ONBOARDING_LANGUAGE.pressed(update)
    if language is None:
        await stale(update, context.actor)
        return CONSENT
    state = state_of(context)
    state.language = language
    keep(context, state)
    await answer(update)
    text, buttons = _welcome(language)
    await edit(update, text, buttons)
    return CONSENT


async def consent(update: Update, context: BotContext) -> int:
    """Creates the member (the first data stored) and continues with the company."""
    await answer(update)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:  # not from a person in a chat: nobody to sign up
        return END
    who = context.actor
    with context.runtime.session() as session:
        member = identity.give_consent(
            session=session,
            telegram_user_id=user.id,
            chat_id=chat.id,
            username=user.username,
            language=who.language,
        )
    who = Who(member, who.language, telegram_user_id=user.id)
    state = state_of(context)
    state.language = ""  # the member row holds it now
    keep(context, state)
    await say(update, who.language, "onboarding.consent_given")
    await _redeem_payload(update, context, who)
    return await next_step(update, context.refresh_actor())


async def _redeem_payload(update: Update, context: BotContext, who: Who) -> None:
    """Acts on a deep-link payload kept from /start: an organization or a manager invite."""
    state = state_of(context)
    payload, state.start_payload = state.start_payload, ""
    keep(context, state)
    if not payload or who.member is None:
        return
    if payload.startswith(MANAGER_PREFIX):
        from kooperation.services.appointments import redeem_manager_invite

        try:
            with context.runtime.session() as session:
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
        with context.runtime.session() as session:
            if payload.startswith(membership.COMPANY_INVITE_PREFIX):
                member = session.get(Member, who.member_id)
                assert member is not None
                organization = membership.join_by_company_link(
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
