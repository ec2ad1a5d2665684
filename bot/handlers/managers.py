"""/managers (admins only): who manages which cluster, appoint/remove, single-use invite links."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot import commands
from bot.callbacks import MANAGERS_INVITE
from bot.context import BotContext
from bot.members import Who
from bot.texts import Markup, plain, t
from bot.ui import PRIVATE, answer, edit
from kooperation import validation
from kooperation.dates import format_datetime
from kooperation.models import Cluster
from kooperation.services import appointments, audit, identity, roles
from kooperation.services.audit import Action
from kooperation.services.clusters import all_clusters


def _slugs(clusters: list[Cluster]) -> str:
    return ", ".join(c.slug for c in clusters)


async def _refused(update: Update, who: Who) -> None:
    await answer(update, plain(who.language, "managers.not_allowed"), alert=True)
    await edit(update, t(who.language, "managers.not_allowed"))


async def _overview(update: Update, context: BotContext, who: Who) -> None:
    with context.acting_session() as session:
        roles.require_admin(
            session=session,
            settings=context.runtime.settings,
            member=who.member,
            action=Action.MANAGERS,
        )
        clusters = all_clusters(session=session)
        managers = appointments.managers_by_cluster(session=session)
    lines = [
        t(
            who.language,
            "managers.cluster_line",
            cluster=c.name,
            slug=c.slug,
            managers=", ".join(audit.actor_label(m) for m in managers.get(c.id or 0, []))
            or plain(who.language, "managers.nobody"),
        )
        for c in clusters
    ]
    buttons = [
        [
            (
                plain(who.language, "managers.button_invite", cluster=c.short_name or c.slug),
                MANAGERS_INVITE.data(c.id or 0),
            )
        ]
        for c in clusters
    ]
    text = t(
        who.language, "managers.overview", clusters=Markup("\n".join(lines)), slugs=_slugs(clusters)
    )
    await edit(update, text, buttons)


async def _change(update: Update, context: BotContext, who: Who, args: list[str]) -> None:
    """`/managers add|remove TELEGRAM-ID CLUSTER`."""
    verb, raw_id, slug = args[0].lower(), args[1], args[2]
    if verb not in {"add", "remove"}:
        await edit(update, t(who.language, "managers.usage"))
        return
    try:
        telegram_user_id = validation.parse_telegram_id(raw_id)
    except validation.InvalidInput:
        await edit(update, t(who.language, "managers.bad_id", raw=raw_id[:40]))
        return
    settings = context.runtime.settings
    with context.acting_session() as session:
        try:
            if verb == "add":
                member, cluster, created = appointments.appoint_manager_by_admin(
                    session=session,
                    settings=settings,
                    actor=who.member,
                    member=identity.ensure_member(
                        session=session, telegram_user_id=telegram_user_id
                    ),
                    cluster_slug=slug,
                )
                key = "managers.appointed" if created else "managers.already_manager"
                label = audit.actor_label(member)
            else:
                cluster, removed = appointments.remove_manager(
                    session=session,
                    settings=settings,
                    actor=who.member,
                    member=identity.member_by_telegram_id(
                        session=session, telegram_user_id=telegram_user_id
                    ),
                    target=f"tg:{telegram_user_id}",
                    cluster_slug=slug,
                )
                key = "managers.removed" if removed else "managers.not_manager"
                label = f"tg:{telegram_user_id}"
        except appointments.UnknownCluster:
            slugs = _slugs(all_clusters(session=session))
            await edit(update, t(who.language, "managers.unknown_cluster", slug=slug, slugs=slugs))
            return
    await commands.publish_for_member(context.application, telegram_user_id=telegram_user_id)
    await edit(update, t(who.language, key, who=label, cluster=cluster.name))


async def managers_command(update: Update, context: BotContext) -> None:
    """/managers – the overview; `/managers add|remove ID CLUSTER` changes who manages what."""
    who = context.staff_actor()
    args = list(context.args or [])
    try:
        if not args:
            await _overview(update, context, who)
        elif len(args) == 3:
            await _change(update, context, who, args)
        else:
            with context.acting_session() as session:
                roles.require_admin(
                    session=session,
                    settings=context.runtime.settings,
                    member=who.member,
                    action=Action.MANAGERS,
                )
            await edit(update, t(who.language, "managers.usage"))
    except roles.NotAllowed:
        await _refused(update, who)


async def invite_pressed(update: Update, context: BotContext) -> None:
    """mg:i:<cluster id> – a new single-use invite link for that cluster."""
    who = context.staff_actor()
    cluster_id = MANAGERS_INVITE.pressed(update) or 0
    settings = context.runtime.settings
    with context.acting_session() as session:
        cluster = session.get(Cluster, cluster_id)
        try:
            if cluster is None:
                roles.require_admin(
                    session=session,
                    settings=settings,
                    member=who.member,
                    action=Action.CREATE_INVITE,
                )
                await answer(update, plain(who.language, "managers.stale"), alert=True)
                return
            invite = appointments.create_manager_invite(
                session=session, settings=settings, actor=who.member, cluster=cluster
            )
        except roles.NotAllowed:
            await _refused(update, who)
            return
    await answer(update)
    link = f"https://t.me/{context.bot.username}?start={appointments.invite_payload(invite)}"
    expires = format_datetime(invite.expires_at, who.language, settings.tz)
    text = t(who.language, "managers.invite", cluster=cluster.name, expires=expires, link=link)
    await edit(update, text)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /managers and its invite buttons."""
    application.add_handler(CommandHandler("managers", managers_command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(invite_pressed, pattern=MANAGERS_INVITE.pattern))
