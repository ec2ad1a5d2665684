"""/stats: the programme's figures for managers (their clusters) and admins (all clusters)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext
from bot.texts import Markup, plain, t
from bot.ui import PRIVATE, reply
from kooperation.services import roles, stats
from kooperation.services.stats import Stats


def percent(language: str, value: float | None) -> str:
    return plain(language, "stats.none") if value is None else f"{value:.0%}"


def render_stats(language: str, figures: Stats) -> Markup:
    """The statistics as one message (also used by `matchbot demo` if it wants a preview)."""
    title = t(language, "stats.title_all" if figures.all_clusters else "stats.title_mine")
    lines = [
        t(
            language,
            "stats.cluster_line",
            cluster=c.name,
            organizations=c.organizations,
            kmu=percent(language, c.kmu_share),
            members=c.members,
            needs=c.active_needs,
            offers=c.active_offers,
        )
        for c in figures.clusters
    ]
    funnel = figures.funnel
    median = (
        plain(language, "stats.hours", hours=f"{funnel.median_decision_hours:.1f}")
        if funnel.median_decision_hours is not None
        else plain(language, "stats.none")
    )
    flow = t(
        language,
        "stats.funnel",
        proposals=funnel.proposals,
        pending=funnel.pending,
        rejected=funnel.rejected,
        approved=funnel.approved,
        accepted=funnel.accepted_by_both,
        introductions=funnel.introductions,
        cooperations=funnel.cooperations,
        cross_cluster=percent(language, funnel.cross_cluster_share),
        median=median,
    )
    parts = [title, *lines, "", flow]
    deleted = figures.deleted
    if deleted is not None and deleted.any:
        parts += ["", t(language, "stats.deleted", **asdict(deleted))]
    return Markup("\n".join(parts))


async def stats_command(update: Update, context: BotContext) -> None:
    """/stats – refused (and logged) for anyone who is neither manager nor admin."""
    who = context.staff_actor()
    try:
        with context.acting_session() as session:
            figures = stats.stats_for(
                session=session, settings=context.runtime.settings, member=who.member
            )
    except roles.NotAllowed:
        await reply(update, t(who.language, "stats.not_allowed"))
        return
    await reply(update, render_stats(who.language, figures))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /stats."""
    application.add_handler(CommandHandler("stats", stats_command, filters=PRIVATE))
