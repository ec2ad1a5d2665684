"""The company of a new contact: found by name and asked to join, or registered anew.

Picking an existing company from the search only asks to join it
(`kooperation.services.membership`): its contacts or its cluster manager confirm, and until
then the requester is no contact. A new one needs its cluster, size band and region.
"""

from __future__ import annotations

from telegram import Update

from bot import jobs
from bot.callbacks import callback_id, parts
from bot.context import runtime
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
    typed_text,
)
from bot.handlers.onboarding.completion import next_step
from bot.members import Who, current
from bot.texts import plain
from bot.ui import Context, answer, say, show_menu, stale
from kooperation.models import JoinKind, Member, Size
from kooperation.reference import cluster_specs
from kooperation.services import membership, organizations
from kooperation.validation import InvalidInput


@signed_up
async def search(update: Update, context: Context) -> int:
    """Searches organizations by the typed name; offers the hits and, below them, the clusters
    to register it as new. "Name, region" keeps the region for a new registration."""
    who = current(update, context)
    name, where = organizations.split_name_and_region(typed_text(update))
    try:
        with runtime(context).session() as session:
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


@signed_up
async def pick(update: Update, context: Context) -> int:
    """Asks to join one of the organizations just offered (its contacts or its manager
    confirm; nobody joins by typing a name); then the name, or the menu while waiting."""
    who = current(update, context)
    organization_id = callback_id(update) or 0
    if organization_id not in state_of(context).company.choices:
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
    jobs.wake_sender(context)
    key = "claim_sent" if kind == JoinKind.CLAIM else "request_sent"
    key = key if requested.new else "request_open"
    await say(update, who.language, f"membership.{key}", organization=requested.organization.name)
    who = current(update, context)
    if who.member is not None and not who.member.display_name:
        return await next_step(update, context, who)
    await show_menu(update, who)
    return END


@signed_up
async def choose_cluster(update: Update, context: Context) -> int:
    """Keeps the cluster of the new organization; asks for the size band."""
    who = current(update, context)
    slug = parts(update)[-1]
    state = state_of(context)
    if slug not in {spec.slug for spec in cluster_specs()} or not state.company.name:
        await stale(update, who)
        return CLUSTER
    await answer(update)
    state.company.cluster = slug
    keep(context, state)
    buttons = [
        [(plain(who.language, f"onboarding.size.{size.value}"), f"ob:sz:{size.value}")]
        for size in Size
    ]
    await say(update, who.language, "onboarding.ask_size", buttons)
    return SIZE


@signed_up
async def choose_size(update: Update, context: Context) -> int:
    """Keeps the size band; registers the organization if the name came with a region,
    otherwise asks for it."""
    who = current(update, context)
    size = parts(update)[-1]
    state = state_of(context)
    if size not in {s.value for s in Size} or not state.company.cluster:
        await stale(update, who)
        return SIZE
    await answer(update)
    state.company.size = Size(size)
    keep(context, state)
    if state.company.region:
        return await _register(update, context, who, state.company.region)
    await say(update, who.language, "onboarding.ask_region")
    return REGION


@signed_up
async def region(update: Update, context: Context) -> int:
    """The typed region or postcode completes the new organization."""
    return await _register(update, context, current(update, context), typed_text(update))


async def _register(update: Update, context: Context, who: Who, where: str) -> int:
    """Registers the organization; the contact joins it; then the name."""
    state = state_of(context)
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
    return await next_step(update, context, current(update, context))
