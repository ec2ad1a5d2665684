"""/need and /offer: write a listing, tag it, confirm; the same steps edit a published one.

    /need|/offer|mn:need|mn:offer|ml:e:<id> ─► TEXT ─text─► PREVIEW ─ls:ok─► saved, matching
                                               ▲              │ ls:t:<tag> toggles a tag
                                               └── ls:edit ───┘ ls:k switches need/offer
                                                                ls:no discards

The draft (`bot.drafts.ListingDraft`) lives in user_data (persisted), so a restart in the
middle keeps it. A new draft names the company it is written for: if the contact speaks for
another one by the time they press "publish", it is dropped, not posted in the wrong name.
The same steps (`steps()`) also run inside the /start conversation for the first listing
right after sign-up: there the kind is guessed from the wording and the preview offers to
switch it.
"""

from __future__ import annotations

import logging

from sqlmodel import Session
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot import callbacks
from bot.context import BotContext
from bot.drafts import ListingDraft
from bot.handlers.listings.background import match_in_background
from bot.handlers.listings.views import preview
from bot.members import Who
from bot.texts import plain, t
from bot.ui import (
    NOT_TEXT,
    PRIVATE,
    TEXT,
    answer,
    conversation,
    edit,
    edit_menu,
    not_registered,
    reply,
    say,
    show_menu,
    stale,
    text_of,
)
from kooperation.config import Settings
from kooperation.models import Kind, Listing, ListingStatus
from kooperation.services import listings
from kooperation.validation import LISTING_MAX, LISTING_MIN, InvalidInput, clean_listing_text

log = logging.getLogger(__name__)

# Strings, not numbers: the /start conversation hosts these states next to its own.
TEXT_STATE, PREVIEW = "listing.text", "listing.preview"
END = ConversationHandler.END
State = int | str
"""What a step returns: one of the states above, one of the hosting conversation's, or END."""


def _draft(context: BotContext) -> ListingDraft | None:
    return ListingDraft.from_user_data(context.user_state)


def _keep(context: BotContext, draft: ListingDraft) -> None:
    draft.to_user_data(context.user_state)


def _company_of(who: Who) -> int | None:
    return who.member.organization_id if who.member is not None else None


async def _ask_text(update: Update, who: Who, draft: ListingDraft) -> None:
    if draft.editing:
        keep = [[(plain(who.language, "listings.button_keep"), callbacks.DRAFT_KEEP_TEXT.data())]]
        await say(update, who.language, "listings.ask_new_text", keep, text=draft.text)
        return
    key = "listings.ask_any" if draft.guess else f"listings.ask_{draft.kind}"
    await say(update, who.language, key, min=LISTING_MIN, max=LISTING_MAX)


async def _show_preview(update: Update, who: Who, draft: ListingDraft, *, redraw: bool) -> State:
    text, buttons = preview(who.language, draft)
    await (edit if redraw else reply)(update, text, buttons)
    return PREVIEW


def _kind_asked(update: Update) -> Kind | None:
    """Need or offer, from the menu's button or the command (/need, /offer)."""
    if update.callback_query is not None:
        pressed = callbacks.MENU_NEW.pressed(update)
        return Kind(pressed) if pressed is not None else None
    return Kind.NEED if text_of(update).lstrip("/").startswith("need") else Kind.OFFER


async def begin(update: Update, context: BotContext) -> State:
    """Starts a new need or offer; asks for its text."""
    who = context.actor
    kind = _kind_asked(update)
    if kind is None:
        await stale(update, who)
        return END
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return END
    draft = ListingDraft(kind, organization_id=_company_of(who))
    _keep(context, draft)
    await _ask_text(update, who, draft)
    return TEXT_STATE


async def begin_edit(update: Update, context: BotContext) -> State:
    """Edits one of my listings: asks for the new text (or keeps it to change tags only)."""
    who = context.actor
    listing_id = callbacks.MY_LISTING_EDIT.pressed(update) or 0
    try:
        with context.runtime.session() as session:
            listing = listings.owned_listing(
                session=session, member_id=who.member_id, listing_id=listing_id
            )
    except (listings.ListingNotFound, listings.NotRegistered):
        await stale(update, who, "listings.not_found")
        return END
    if listing.status == ListingStatus.CLOSED:
        await stale(update, who)
        return END
    await answer(update)
    draft = ListingDraft.of_listing(listing)
    _keep(context, draft)
    await _ask_text(update, who, draft)
    return TEXT_STATE


async def receive_text(update: Update, context: BotContext) -> State:
    """Checks the text against the limits and shows the preview with tags."""
    who = context.actor
    draft = _draft(context)
    if draft is None:
        await show_menu(update, who)
        return END
    try:
        draft.text = clean_listing_text(text_of(update))
    except InvalidInput as error:
        await say(update, who.language, f"listings.invalid.{error.code}", **error.params)
        return TEXT_STATE
    if draft.guess:
        draft.kind = Kind(listings.guess_kind(draft.text))
    _keep(context, draft)
    return await _show_preview(update, who, draft, redraw=False)


async def keep_text(update: Update, context: BotContext) -> State:
    """Keeps the listing's text while editing; straight to the preview."""
    who = context.actor
    draft = _draft(context)
    if draft is None or not draft.written:
        await stale(update, who)
        return TEXT_STATE
    await answer(update)
    return await _show_preview(update, who, draft, redraw=False)


async def toggle_tag(update: Update, context: BotContext) -> State:
    """Adds or removes one category on the draft; redraws the preview."""
    who = context.actor
    draft = _draft(context)
    slug = callbacks.DRAFT_TAG.pressed(update)
    if draft is None or not draft.written or slug is None:
        await stale(update, who)
        return PREVIEW
    await answer(update)
    draft.tags = listings.clean_tags(list(set(draft.tags) ^ {slug}))
    _keep(context, draft)
    return await _show_preview(update, who, draft, redraw=True)


async def switch_kind(update: Update, context: BotContext) -> State:
    """Turns the new draft from a need into an offer or back; the contact's choice sticks."""
    who = context.actor
    draft = _draft(context)
    if draft is None or not draft.written or draft.editing:
        await stale(update, who)
        return PREVIEW
    await answer(update)
    draft.switch_kind()
    _keep(context, draft)
    return await _show_preview(update, who, draft, redraw=True)


async def back_to_text(update: Update, context: BotContext) -> State:
    """Edit in the preview: asks for the text again."""
    who = context.actor
    draft = _draft(context)
    if draft is None:
        await stale(update, who)
        return END
    await answer(update)
    await _ask_text(update, who, draft)
    return TEXT_STATE


def _save(session: Session, settings: Settings, who: Who, draft: ListingDraft) -> Listing:
    """The draft as a new listing, or as the new text and tags of the one it edits."""
    if draft.listing_id is not None:
        return listings.update_listing(
            session=session,
            member_id=who.member_id,
            listing_id=draft.listing_id,
            text=draft.text,
            tags=draft.tags,
        )
    return listings.create_listing(
        session=session,
        member_id=who.member_id,
        kind=draft.kind,
        text=draft.text,
        tags=draft.tags,
        lifetime_days=settings.listing_lifetime_days,
    )


async def confirm(update: Update, context: BotContext) -> State:
    """Saves the listing, answers at once, and matches it in the background."""
    who = context.actor
    draft = _draft(context)
    ListingDraft.drop(context.user_state)
    if draft is None or not draft.written or not who.registered:
        await stale(update, who)
        return END
    await answer(update)
    if draft.written_for_another_company(_company_of(who)):
        log.info(
            "draft for organization %s not published: member %s changed companies",
            draft.organization_id,
            who.member_id,
        )
        await edit_menu(update, who, t(who.language, "listings.draft_other_company"))
        return END
    state = context.runtime
    try:
        with state.session() as session:
            listing = _save(session, state.settings, who, draft)
    except (listings.ListingNotFound, listings.ListingStateError):
        await stale(update, who, "listings.not_found")
        return END
    except listings.NoOrganization:  # left the company since the preview: as /need says
        await not_registered(update, context.refresh_actor())
        return END
    key = "listings.updated" if draft.editing else f"listings.published_{listing.kind}"
    await edit(update, t(who.language, key, title=listing.title))
    chat = update.effective_chat
    if listing.status == ListingStatus.ACTIVE and chat is not None and listing.id is not None:
        context.application.create_task(
            match_in_background(state, context.bot, chat.id, who.language, listing.id),
            update=update,
            name=f"match_listing:{listing.id}",
        )
    return END


async def discard(update: Update, context: BotContext) -> State:
    """Cancel in the preview: the draft is dropped, nothing saved; the preview becomes the
    menu."""
    who = context.actor
    await answer(update)
    ListingDraft.drop(context.user_state)
    await edit_menu(update, who, t(who.language, "listings.discarded"))
    return END


async def hint_text(update: Update, context: BotContext) -> None:
    await say(update, context.actor.language, "listings.text_expected")


async def cancel(update: Update, context: BotContext) -> State:
    """/cancel: leaves the draft unsaved and shows the menu."""
    who = context.actor
    ListingDraft.drop(context.user_state)
    await show_menu(update, who, t(who.language, "common.cancelled"))
    return END


async def stale_button(update: Update, context: BotContext) -> None:
    await stale(update, context.actor)


def entry_points() -> list[BaseHandler[Update, BotContext, object]]:
    """/need, /offer, the menu's need/offer buttons and "edit" under one of my listings."""
    return [
        CommandHandler(["need", "offer"], begin, filters=PRIVATE),
        CallbackQueryHandler(begin, pattern=callbacks.MENU_NEW.pattern),
        CallbackQueryHandler(begin_edit, pattern=callbacks.MY_LISTING_EDIT.pattern),
    ]


def steps() -> dict[object, list[BaseHandler[Update, BotContext, object]]]:
    """The draft's states: text, then the preview. Fresh handler objects on every call, because
    each conversation that hosts them wraps their callbacks with its own name."""
    return {
        TEXT_STATE: [
            MessageHandler(TEXT, receive_text),
            CallbackQueryHandler(keep_text, pattern=callbacks.DRAFT_KEEP_TEXT.pattern),
            MessageHandler(NOT_TEXT, hint_text),
        ],
        PREVIEW: [
            CallbackQueryHandler(toggle_tag, pattern=callbacks.DRAFT_TAG.pattern),
            CallbackQueryHandler(switch_kind, pattern=callbacks.DRAFT_SWITCH_KIND.pattern),
            CallbackQueryHandler(confirm, pattern=callbacks.DRAFT_CONFIRM.pattern),
            CallbackQueryHandler(back_to_text, pattern=callbacks.DRAFT_EDIT.pattern),
            CallbackQueryHandler(discard, pattern=callbacks.DRAFT_DISCARD.pattern),
            MessageHandler(TEXT, receive_text),
            MessageHandler(NOT_TEXT, hint_text),
        ],
    }


def build() -> ConversationHandler[BotContext]:
    return conversation(
        entry_points=entry_points(),
        states=steps(),
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(stale_button, pattern=callbacks.DRAFT.pattern),
        ],
        name="listing",
        persistent=True,
        allow_reentry=True,
    )
