"""Company membership in the bot: deciding join requests and claims, the managers' list of
new companies (merge duplicates, company invite links). The outbox messages around them (a
request, its decision, an orphaned company) are rendered by `bot/outbox_render.py`.

Every decision is checked in `kooperation.services.membership` (a contact of the company or
its cluster manager; claims only the manager); a forged button changes nothing.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.callbacks import COMPANY_INVITE, COMPANY_MERGE, COMPANY_MERGE_INTO, JOIN_DECISION
from bot.context import BotContext
from bot.members import Who
from bot.outbox_render import decision_buttons, username_shown
from bot.render import Buttons
from bot.texts import Markup, plain, t
from bot.ui import PRIVATE, answer, edit
from kooperation.dates import format_date
from kooperation.models import JoinKind, Organization
from kooperation.services import membership, roles


# ---------------------------------------------------------------------------- decisions
async def decide_pressed(update: Update, context: BotContext) -> None:
    """jr:a:<id> / jr:d:<id> – a contact or manager confirms or declines a request."""
    who = context.staff_actor()
    pressed = JOIN_DECISION.pressed(update)
    rt = context.runtime
    with context.acting_session() as session:
        try:
            if pressed is None:
                raise membership.RequestNotFound("no id")
            approve, request_id = pressed
            decision = membership.decide_request(
                session=session,
                settings=rt.settings,
                actor=who.member,
                request_id=request_id,
                approve=approve,
            )
        except (roles.NotAllowed, membership.RequestNotFound):
            await _not_yours(update, who)
            return
        except membership.AlreadyDecided as error:
            status = plain(who.language, f"membership.status.{error.status}")
            await answer(update)
            await edit(update, t(who.language, "membership.already_decided", status=status))
            return
    key = "membership.approved_by_you" if decision.approved else "membership.declined_by_you"
    await answer(update)
    await edit(
        update,
        t(who.language, key, requester=decision.requester, organization=decision.organization),
    )


async def _not_yours(update: Update, who: Who) -> None:
    await answer(update, plain(who.language, "membership.not_yours"), alert=True)
    await edit(update, t(who.language, "membership.not_yours"))


async def _not_allowed(update: Update, who: Who) -> None:
    await answer(update, plain(who.language, "membership.not_allowed"), alert=True)
    await edit(update, t(who.language, "membership.not_allowed"))


# ---------------------------------------------------------------------------- staff: companies
async def _open_requests(update: Update, who: Who, requests: list[Any]) -> None:
    """One message per open request of the manager's clusters, with the decision buttons."""
    for request in requests[:10]:
        key = "membership.open_claim" if request.kind == JoinKind.CLAIM else "membership.open_join"
        text = t(
            who.language,
            key,
            requester=request.requester,
            username=username_shown(who.language, request.username),
            organization=request.organization,
            contact_name=request.contact_name or plain(who.language, "membership.unknown"),
            contact_email=request.contact_email or plain(who.language, "membership.unknown"),
        )
        await edit(update, text, [decision_buttons(who.language, request.id)])


async def companies_command(update: Update, context: BotContext) -> None:
    """/companies – open join requests and claims, then new companies of the manager's
    clusters with merge buttons."""
    who = context.staff_actor()
    rt = context.runtime
    with context.acting_session() as session:
        try:
            rows = membership.new_companies(session=session, settings=rt.settings, actor=who.member)
            requests = membership.open_requests(
                session=session, settings=rt.settings, actor=who.member
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
    await _open_requests(update, who, requests)
    if not rows:
        await edit(update, t(who.language, "membership.companies_none"))
        return
    lines = [t(who.language, "membership.companies_title")]
    buttons: list[list[tuple[str, str]]] = []
    for row in rows[:20]:
        day = format_date(row.created_at, who.language, rt.settings.tz)
        lines.append(
            t(
                who.language,
                "membership.companies_line",
                name=row.name,
                region=row.region or "–",
                cluster=row.cluster,
                contacts=row.contacts,
                date=day,
            )
        )
        buttons.append(
            [
                (
                    plain(who.language, "membership.button_merge", name=row.name[:40]),
                    COMPANY_MERGE.data(row.id),
                )
            ]
        )
    await edit(update, Markup("\n".join(lines)), buttons)


async def merge_pressed(update: Update, context: BotContext) -> None:
    """co:m:<id> – the existing companies the new one could be merged into."""
    who = context.staff_actor()
    organization_id = COMPANY_MERGE.pressed(update)
    rt = context.runtime
    with context.acting_session() as session:
        organization = session.get(Organization, organization_id) if organization_id else None
        try:
            if organization is None or organization_id is None:
                roles.require_staff(
                    session=session,
                    settings=rt.settings,
                    member=who.member,
                    action="organization.merge",
                )
                await answer(update, plain(who.language, "membership.gone"), alert=True)
                return
            candidates = membership.merge_candidates(
                session=session,
                settings=rt.settings,
                actor=who.member,
                organization_id=organization_id,
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
        name = organization.name
        buttons: Buttons = [
            [
                (
                    plain(who.language, "membership.button_merge_into", name=c.name[:50]),
                    COMPANY_MERGE_INTO.data(organization_id, c.id or 0),
                )
            ]
            for c in candidates
        ]
    await answer(update)
    key = "membership.merge_pick" if buttons else "membership.merge_none"
    await edit(update, t(who.language, key, name=name), buttons)


async def merge_into_pressed(update: Update, context: BotContext) -> None:
    """co:mt:<source>:<target> – merges the duplicate into the existing company."""
    who = context.staff_actor()
    pressed = COMPANY_MERGE_INTO.pressed(update)
    rt = context.runtime
    with context.acting_session() as session:
        try:
            if pressed is None or None in (
                session.get(Organization, pressed[0]),
                session.get(Organization, pressed[1]),
            ):
                raise membership.RequestNotFound("organization")
            source_id, target_id = pressed
            merged = membership.merge_companies(
                session=session,
                settings=rt.settings,
                actor=who.member,
                source_id=source_id,
                target_id=target_id,
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
        except membership.RequestNotFound:
            await answer(update, plain(who.language, "membership.gone"), alert=True)
            return
    await answer(update)
    await edit(
        update,
        t(
            who.language,
            "membership.merged",
            source=merged.source,
            target=merged.target,
            contacts=merged.contacts,
            listings=merged.listings,
        ),
    )


async def invite_pressed(update: Update, context: BotContext) -> None:
    """co:inv:<organization id> – a single-use company invite link to send by e-mail."""
    who = context.staff_actor()
    organization_id = COMPANY_INVITE.pressed(update)
    rt = context.runtime
    with context.acting_session() as session:
        organization = session.get(Organization, organization_id) if organization_id else None
        try:
            if organization is None or organization_id is None:
                raise membership.RequestNotFound("organization")
            invite = membership.create_company_invite(
                session=session,
                settings=rt.settings,
                actor=who.member,
                organization_id=organization_id,
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
        except membership.RequestNotFound:
            await answer(update, plain(who.language, "membership.gone"), alert=True)
            return
        contact = ", ".join(
            part for part in (organization.contact_name, organization.contact_email) if part
        ) or plain(who.language, "membership.unknown")
        name = organization.name
    await answer(update)
    payload = membership.company_invite_payload(invite)
    link = f"https://t.me/{context.bot.username}?start={payload}"
    day = format_date(invite.expires_at, who.language, rt.settings.tz)
    text = t(
        who.language,
        "membership.invite_created",
        organization=name,
        date=day,
        link=link,
        contact=contact,
    )
    await edit(update, text)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the decision buttons, /companies and its buttons."""
    application.add_handler(CallbackQueryHandler(decide_pressed, pattern=JOIN_DECISION.pattern))
    application.add_handler(CommandHandler("companies", companies_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(merge_pressed, pattern=COMPANY_MERGE.pattern))
    application.add_handler(
        CallbackQueryHandler(merge_into_pressed, pattern=COMPANY_MERGE_INTO.pattern)
    )
    application.add_handler(CallbackQueryHandler(invite_pressed, pattern=COMPANY_INVITE.pattern))
