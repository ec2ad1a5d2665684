"""Company membership in the bot: deciding join requests and claims, the managers' list of
new companies (merge duplicates, company invite links). The outbox messages around them (a
request, its decision, an orphaned company) are rendered by `bot/outbox_render.py`.

Every decision is checked in `kooperation.services.membership` (a contact of the company or
its cluster manager; claims only the manager); a forged button changes nothing.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, filters

from bot.callbacks import parse_id, parts
from bot.context import runtime
from bot.outbox_render import username_shown
from bot.render import Buttons
from bot.staff import Caller, Context, answer_query, caller, edit_or_reply
from bot.texts import Markup, plain, t
from kooperation.models import JoinKind, Organization
from kooperation.services import membership, roles

PRIVATE = filters.ChatType.PRIVATE


def _ids(update: Update) -> list[int]:
    """The numbers in the pressed button's data; ids outside the database's range are none."""
    numbers = (parse_id(part) for part in parts(update))
    return [n for n in numbers if n is not None]


# ---------------------------------------------------------------------------- decisions
async def decide_pressed(update: Update, context: Context) -> None:
    """jr:a:<id> / jr:d:<id> – a contact or manager confirms or declines a request."""
    who = caller(update, context)
    ids = _ids(update)
    approve = (update.callback_query.data or "").startswith("jr:a:")
    rt = runtime(context)
    with rt.session() as session:
        try:
            if not ids:
                raise membership.RequestNotFound("no id")
            decision = membership.decide_request(
                session=session,
                settings=rt.settings,
                actor=who.member,
                request_id=ids[0],
                approve=approve,
            )
        except (roles.NotAllowed, membership.RequestNotFound):
            await _not_yours(update, who)
            return
        except membership.AlreadyDecided as error:
            status = plain(who.language, f"membership.status.{error.status}")
            await answer_query(update)
            await edit_or_reply(
                update, t(who.language, "membership.already_decided", status=status)
            )
            return
    key = "membership.approved_by_you" if decision.approved else "membership.declined_by_you"
    await answer_query(update)
    await edit_or_reply(
        update,
        t(who.language, key, requester=decision.requester, organization=decision.organization),
    )


async def _not_yours(update: Update, who: Caller) -> None:
    await answer_query(update, plain(who.language, "membership.not_yours"), alert=True)
    await edit_or_reply(update, t(who.language, "membership.not_yours"))


async def _not_allowed(update: Update, who: Caller) -> None:
    await answer_query(update, plain(who.language, "membership.not_allowed"), alert=True)
    await edit_or_reply(update, t(who.language, "membership.not_allowed"))


# ---------------------------------------------------------------------------- staff: companies
async def _open_requests(update: Update, who: Caller, requests: list[Any]) -> None:
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
        buttons: Buttons = [
            [
                (plain(who.language, "membership.button_approve"), f"jr:a:{request.id}"),
                (plain(who.language, "membership.button_decline"), f"jr:d:{request.id}"),
            ]
        ]
        await edit_or_reply(update, text, buttons)


async def companies_command(update: Update, context: Context) -> None:
    """/companies – open join requests and claims, then new companies of the manager's
    clusters with merge buttons."""
    who = caller(update, context)
    rt = runtime(context)
    with rt.session() as session:
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
        await edit_or_reply(update, t(who.language, "membership.companies_none"))
        return
    lines = [t(who.language, "membership.companies_title")]
    buttons: Buttons = []
    for row in rows[:20]:
        day = row.created_at.astimezone(rt.settings.tz).strftime("%d.%m.%Y")
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
            [(plain(who.language, "membership.button_merge", name=row.name[:40]), f"co:m:{row.id}")]
        )
    await edit_or_reply(update, Markup("\n".join(lines)), buttons)


async def merge_pressed(update: Update, context: Context) -> None:
    """co:m:<id> – the existing companies the new one could be merged into."""
    who = caller(update, context)
    ids = _ids(update)
    rt = runtime(context)
    with rt.session() as session:
        organization = session.get(Organization, ids[0]) if ids else None
        try:
            if organization is None:
                roles.require_staff(
                    session=session,
                    settings=rt.settings,
                    member=who.member,
                    action="organization.merge",
                )
                await answer_query(update, plain(who.language, "membership.gone"), alert=True)
                return
            candidates = membership.merge_candidates(
                session=session, settings=rt.settings, actor=who.member, organization_id=ids[0]
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
        name = organization.name
        buttons: Buttons = [
            [
                (
                    plain(who.language, "membership.button_merge_into", name=c.name[:50]),
                    f"co:mt:{organization.id}:{c.id}",
                )
            ]
            for c in candidates
        ]
    await answer_query(update)
    key = "membership.merge_pick" if buttons else "membership.merge_none"
    await edit_or_reply(update, t(who.language, key, name=name), buttons)


async def merge_into_pressed(update: Update, context: Context) -> None:
    """co:mt:<source>:<target> – merges the duplicate into the existing company."""
    who = caller(update, context)
    ids = _ids(update)
    rt = runtime(context)
    with rt.session() as session:
        try:
            if len(ids) != 2 or None in (
                session.get(Organization, ids[0]),
                session.get(Organization, ids[1]),
            ):
                raise membership.RequestNotFound("organization")
            merged = membership.merge_companies(
                session=session,
                settings=rt.settings,
                actor=who.member,
                source_id=ids[0],
                target_id=ids[1],
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
        except membership.RequestNotFound:
            await answer_query(update, plain(who.language, "membership.gone"), alert=True)
            return
    await answer_query(update)
    await edit_or_reply(
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


async def invite_pressed(update: Update, context: Context) -> None:
    """co:inv:<organization id> – a single-use company invite link to send by e-mail."""
    who = caller(update, context)
    ids = _ids(update)
    rt = runtime(context)
    with rt.session() as session:
        organization = session.get(Organization, ids[0]) if ids else None
        try:
            if organization is None:
                raise membership.RequestNotFound("organization")
            invite = membership.create_company_invite(
                session=session, settings=rt.settings, actor=who.member, organization_id=ids[0]
            )
        except roles.NotAllowed:
            await _not_allowed(update, who)
            return
        except membership.RequestNotFound:
            await answer_query(update, plain(who.language, "membership.gone"), alert=True)
            return
        contact = ", ".join(
            part for part in (organization.contact_name, organization.contact_email) if part
        ) or plain(who.language, "membership.unknown")
        name = organization.name
    await answer_query(update)
    payload = membership.company_invite_payload(invite)
    link = f"https://t.me/{context.bot.username}?start={payload}"
    day = invite.expires_at.astimezone(rt.settings.tz).strftime("%d.%m.%Y")
    text = t(
        who.language,
        "membership.invite_created",
        organization=name,
        date=day,
        link=link,
        contact=contact,
    )
    await edit_or_reply(update, text)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the decision buttons, /companies and its buttons."""
    application.add_handler(CallbackQueryHandler(decide_pressed, pattern=r"^jr:[ad]:\d+$"))
    application.add_handler(CommandHandler("companies", companies_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(merge_pressed, pattern=r"^co:m:\d+$"))
    application.add_handler(CallbackQueryHandler(merge_into_pressed, pattern=r"^co:mt:\d+:\d+$"))
    application.add_handler(CallbackQueryHandler(invite_pressed, pattern=r"^co:inv:\d+$"))
