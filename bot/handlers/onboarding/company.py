"""The company of a new contact: found by name and asked to join, or registered anew.

Picking an existing company from the search only asks to join it
(`kooperation.services.membership`): its contacts or its cluster manager confirm, and until
then the requester is no contact. A new one needs its cluster, size band and region.
"""

from __future__ import annotations

from telegram import Update

from bot import callbacks
from bot.context import BotContext
from bot.handlers.onboarding.common import (
    CLUSTER,
    END,
    ORG_PICK,
    ORG_SEARCH,
    REGION,
    SIZE,
    forget_company,
    keep,
    say_invalid,
    signed_up,
    state_of,
    telegram_name,
)
from bot.handlers.onboarding.completion import next_step
from bot.members import Who
from bot.texts import plain
from bot.ui import answer, say, show_menu, stale, text_of
from kooperation.models import JoinKind, Member, Size
from kooperation.reference import cluster_specs
from kooperation.services import membership, organizations
from kooperation.validation import InvalidInput


@signed_up
async def search(update: Update, context: BotContext) -> int:
    """Searches organizations by the typed name; offers the hits and, below them, the clusters
    to register it as new. "Name, region" keeps the region for a new registration."""
    who = context.actor
    name, where = organizations.split_name_and_region(text_of(update))
    try:
        with context.runtime.session() as session:
            hits = organizations.search_organizations(session=session, query=name)
    except InvalidInput as error:
        await say_invalid(update, who.language, error)
        return ORG_SEARCH
    state = state_of(context)
    company = state.company
    company.name, company.region = name[:200], where
    company.choices = [o.id for o in hits if o.id is not None]
    keep(context, state)
    if not hits:
        key = "onboarding.no_hits_region" if where else "onboarding.no_hits"
        await say(
            update, who.language, key, _cluster_buttons(who.language), name=name, region=where
        )
        return CLUSTER
    buttons = [
        [(o.name[:60], callbacks.ONBOARDING_ORGANIZATION.data(o.id))]
        for o in hits
        if o.id is not None
    ]
    buttons.extend(_cluster_buttons(who.language, new=True))
    await say(update, who.language, "onboarding.pick_organization", buttons, name=name)
    return ORG_PICK


def _cluster_buttons(language: str, *, new: bool = False) -> list[list[tuple[str, str]]]:
    """A button per cluster; `new` labels them "new in <cluster>" below the search hits."""
    rows = []
    for spec in cluster_specs():
        label = spec.name[:60]
        if new:
            label = plain(language, "onboarding.button_new_in", cluster=spec.name)
        rows.append([(label, callbacks.ONBOARDING_CLUSTER.data(spec.slug))])
    return rows


@signed_up
async def pick(update: Update, context: BotContext) -> int:
    """Asks to join one of the organizations just offered (its contacts or its manager
    confirm; nobody joins by typing a name); then the name, or the menu while waiting."""
    who = context.actor
    organization_id = callbacks.ONBOARDING_ORGANIZATION.pressed(update)
    if organization_id is None or organization_id not in state_of(context).company.choices:
        await stale(update, who)
        return ORG_PICK
    await answer(update)
    rt = context.runtime
    try:
        with rt.session() as session:
            member = session.get(Member, who.member_id)
            assert member is not None
            requested = membership.request_to_join(
                session=session,
                settings=rt.settings,
                member=member,
                organization_id=organization_id,
                telegram_name=telegram_name(update),
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
    forget_company(context)
    context.wake_sender()
    key = "claim_sent" if kind == JoinKind.CLAIM else "request_sent"
    key = key if requested.new else "request_open"
    await say(update, who.language, f"membership.{key}", organization=requested.organization.name)
    who = context.refresh_actor()
    if who.member is not None and not who.member.display_name:
        return await next_step(update, who)
    await show_menu(update, who)
    return END


@signed_up
async def choose_cluster(update: Update, context: BotContext) -> int:
    """Keeps the cluster of the new organization; asks for the size band."""
    who = context.actor
    slug = callbacks.ONBOARDING_CLUSTER.pressed(update)
    state = state_of(context)
    if slug is None or not state.company.name:
        await stale(update, who)
        return CLUSTER
    await answer(update)
    state.company.cluster = slug
    keep(context, state)
    sizes = callbacks.ONBOARDING_SIZE
    buttons = [[(plain(who.language, f"onboarding.size.{s.value}"), sizes.data(s))] for s in Size]
    await say(update, who.language, "onboarding.ask_size", buttons)
    return SIZE


@signed_up
async def choose_size(update: Update, context: BotContext) -> int:
    """Keeps the size band; registers the organization if the name came with a region,
    otherwise asks for it."""
    who = context.actor
    size = callbacks.ONBOARDING_SIZE.pressed(update)
    state = state_of(context)
    if size is None or not state.company.cluster:
        await stale(update, who)
        return SIZE
    await answer(update)
    state.company.size = size
    keep(context, state)
    if state.company.region:
        return await _register(update, context, who, state.company.region)
    await say(update, who.language, "onboarding.ask_region")
    return REGION


@signed_up
async def region(update: Update, context: BotContext) -> int:
    """The typed region or postcode completes the new organization."""
    return await _register(update, context, context.actor, text_of(update))


async def _register(update: Update, context: BotContext, who: Who, where: str) -> int:
    """Registers the organization; the contact joins it; then the name."""
    state = state_of(context)
    company = state.company
    if callbacks.CLUSTER.read(company.cluster) is None:  # garbled, or gone from the data
        forget_company(context)
        await say(update, who.language, "onboarding.ask_organization")
        return ORG_SEARCH
    try:
        with context.runtime.session() as session:
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
        keep(context, state)
        await say_invalid(update, who.language, error)
        await say(update, who.language, "onboarding.ask_region")
        return REGION
    forget_company(context)
    await say(
        update,
        who.language,
        "onboarding.registered",
        organization=organization.name,
        region=organization.region,
    )
    return await next_step(update, context.refresh_actor())
