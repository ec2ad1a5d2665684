"""/need, /offer and /mylistings: write a listing, tag it, confirm; edit, pause, resume, close.

    /need|/offer|mn:need|mn:offer|ml:e:<id> ─► TEXT ─text─► PREVIEW ─ls:ok─► saved, matching
                                               ▲              │ ls:t:<tag> toggles a tag
                                               └── ls:edit ───┘ ls:k switches need/offer
                                                                ls:no discards

The draft lives in user_data (persisted), so a restart in the middle keeps it. The same steps
(`steps()`) also run inside the /start conversation for the first listing right after sign-up:
there the kind is guessed from the wording and the preview offers to switch it.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
)

from bot.callbacks import callback_id, parts
from bot.context import in_session, runtime
from bot.members import Who, current
from bot.render import Buttons, send_html
from bot.texts import plain, t
from bot.ui import (
    NOT_TEXT,
    PRIVATE,
    TEXT,
    Context,
    answer,
    conversation,
    edit,
    edit_menu,
    not_registered,
    reply,
    say,
    show_menu,
    stale,
)
from kooperation.dates import format_date
from kooperation.models import Listing, ListingStatus
from kooperation.reference import categories
from kooperation.services import listings
from kooperation.validation import LISTING_MAX, LISTING_MIN, InvalidInput, clean_listing_text

log = logging.getLogger(__name__)

# Strings, not numbers: the /start conversation hosts these states next to its own.
TEXT_STATE, PREVIEW = "listing.text", "listing.preview"
END = ConversationHandler.END
DRAFT = "draft"


def new_draft(kind: str = "need", *, guess: bool = False) -> dict[str, Any]:
    """An empty draft; with `guess` the kind follows the wording of the text."""
    return {"kind": kind, "text": "", "tags": [], "listing_id": None, "guess": guess}


def _draft(context: Context) -> dict[str, Any]:
    return context.user_data.setdefault(DRAFT, {})


def _tag_labels(language: str, tags: list[str]) -> str:
    labels = [c.label(language) for c in categories() if c.slug in tags]
    return ", ".join(labels) if labels else plain(language, "listings.no_tags")


def _other_kind(kind: str) -> str:
    return "offer" if kind == "need" else "need"


def _preview(language: str, draft: dict[str, Any]) -> tuple[str, Buttons]:
    tags = draft.get("tags", [])
    kind = draft["kind"]
    text = t(
        language,
        "listings.preview",
        kind=plain(language, f"listings.kind.{kind}"),
        text=draft["text"],
        tags=_tag_labels(language, tags),
    )
    if draft.get("guess"):
        text += "\n\n" + t(language, f"listings.guessed_{kind}")
    rows: list[list[tuple[str, str]]] = []
    row: list[tuple[str, str]] = []
    for category in categories():
        mark = "✅ " if category.slug in tags else ""
        row.append((f"{mark}{category.label(language)}", f"ls:t:{category.slug}"))
        if len(row) == 2:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    if not draft.get("listing_id"):  # a published listing keeps its kind
        rows.append([(plain(language, f"listings.switch_to.{_other_kind(kind)}"), "ls:k")])
    rows.append(
        [
            (plain(language, "listings.button_confirm"), "ls:ok"),
            (plain(language, "listings.button_edit"), "ls:edit"),
            (plain(language, "listings.button_cancel"), "ls:no"),
        ]
    )
    return text, rows


async def _ask_text(update: Update, who: Who, draft: dict[str, Any]) -> None:
    kind = draft["kind"]
    if draft.get("listing_id"):
        buttons = [[(plain(who.language, "listings.button_keep"), "ls:keep")]]
        await say(
            update, who.language, "listings.ask_new_text", buttons, text=draft.get("text", "")
        )
        return
    key = "listings.ask_any" if draft.get("guess") else f"listings.ask_{kind}"
    await say(update, who.language, key, min=LISTING_MIN, max=LISTING_MAX)


def ask_first(language: str) -> str:
    """The invitation to a first listing of either kind (shown after sign-up)."""
    return t(language, "listings.ask_any", min=LISTING_MIN, max=LISTING_MAX)


async def begin(update: Update, context: Context) -> int:
    """Starts a new need or offer; asks for its text."""
    who = current(update, context)
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return END
    if update.callback_query is not None:
        kind = (update.callback_query.data or "").rsplit(":", 1)[-1]
    else:
        kind = "need" if update.message.text.lstrip("/").startswith("need") else "offer"
    draft = new_draft(kind)
    context.user_data[DRAFT] = draft
    await _ask_text(update, who, draft)
    return TEXT_STATE


async def begin_edit(update: Update, context: Context) -> int:
    """Edits one of my listings: asks for the new text (or keeps it to change tags only)."""
    who = current(update, context)
    listing_id = callback_id(update) or 0
    try:
        with runtime(context).session() as session:
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
    draft = {
        "kind": listing.kind,
        "text": listing.text,
        "tags": list(listing.tags),
        "listing_id": listing.id,
        "guess": False,
    }
    context.user_data[DRAFT] = draft
    await _ask_text(update, who, draft)
    return TEXT_STATE


async def receive_text(update: Update, context: Context) -> int:
    """Checks the text against the limits and shows the preview with tags."""
    who = current(update, context)
    draft = _draft(context)
    if "kind" not in draft:
        await show_menu(update, who)
        return END
    try:
        draft["text"] = clean_listing_text(update.message.text)
    except InvalidInput as error:
        await say(update, who.language, f"listings.invalid.{error.code}", **error.params)
        return TEXT_STATE
    if draft.get("guess"):
        draft["kind"] = listings.guess_kind(draft["text"])
    text, buttons = _preview(who.language, draft)
    await reply(update, text, buttons)
    return PREVIEW


async def keep_text(update: Update, context: Context) -> int:
    """Keeps the listing's text while editing; straight to the preview."""
    who = current(update, context)
    draft = _draft(context)
    if not draft.get("text"):
        await stale(update, who)
        return TEXT_STATE
    await answer(update)
    text, buttons = _preview(who.language, draft)
    await reply(update, text, buttons)
    return PREVIEW


async def toggle_tag(update: Update, context: Context) -> int:
    """Adds or removes one category on the draft; redraws the preview."""
    who = current(update, context)
    draft = _draft(context)
    slug = (update.callback_query.data or "").rsplit(":", 1)[-1]
    if not draft.get("text") or slug not in {c.slug for c in categories()}:
        await stale(update, who)
        return PREVIEW
    await answer(update)
    tags = set(draft.get("tags", []))
    tags.symmetric_difference_update({slug})
    draft["tags"] = listings.clean_tags(list(tags))
    text, buttons = _preview(who.language, draft)
    await edit(update, text, buttons)
    return PREVIEW


async def switch_kind(update: Update, context: Context) -> int:
    """Turns the new draft from a need into an offer or back; the contact's choice sticks."""
    who = current(update, context)
    draft = _draft(context)
    if (
        not draft.get("text")
        or draft.get("listing_id")
        or draft.get("kind")
        not in {
            "need",
            "offer",
        }
    ):
        await stale(update, who)
        return PREVIEW
    await answer(update)
    draft["kind"] = _other_kind(draft["kind"])
    draft["guess"] = False
    text, buttons = _preview(who.language, draft)
    await edit(update, text, buttons)
    return PREVIEW


async def back_to_text(update: Update, context: Context) -> int:
    """Edit in the preview: asks for the text again."""
    who = current(update, context)
    await answer(update)
    await _ask_text(update, who, _draft(context))
    return TEXT_STATE


async def confirm(update: Update, context: Context) -> int:
    """Saves the listing, answers at once, and matches it in the background."""
    who = current(update, context)
    draft = context.user_data.pop(DRAFT, {})
    if not draft.get("text") or not who.registered:
        await stale(update, who)
        return END
    await answer(update)
    settings = runtime(context).settings
    try:
        with runtime(context).session() as session:
            if draft.get("listing_id"):
                listing = listings.update_listing(
                    session=session,
                    member_id=who.member_id,
                    listing_id=draft["listing_id"],
                    text=draft["text"],
                    tags=draft.get("tags", []),
                )
            else:
                listing = listings.create_listing(
                    session=session,
                    member_id=who.member_id,
                    kind=draft["kind"],
                    text=draft["text"],
                    tags=draft.get("tags", []),
                    lifetime_days=settings.listing_lifetime_days,
                )
    except (listings.ListingNotFound, listings.ListingStateError):
        await stale(update, who, "listings.not_found")
        return END
    key = "listings.updated" if draft.get("listing_id") else f"listings.published_{listing.kind}"
    await edit(update, t(who.language, key, title=listing.title))
    if listing.status == ListingStatus.ACTIVE:
        context.application.create_task(
            _match_in_background(context, update.effective_chat.id, who.language, listing.id),
            update=update,
            name=f"match_listing:{listing.id}",
        )
    return END


def _match_listing(context: Context, listing_id: int) -> int:
    """Runs in a worker thread: incremental matching of one listing against the pool.

    `match_listing` waits for any other matching job of this process (matching's one lock),
    so a listing posted during the nightly round is matched right after it. Its proposals
    reach the managers with the next batched notice (at once if none went out lately).
    """
    from kooperation.services.review import notify_managers_of_new_proposals
    from matching.rounds import match_listing

    state = runtime(context)
    with state.session() as session:
        found = match_listing(session=session, settings=state.settings, listing_id=listing_id)
    if found:
        try:
            with state.session() as session:
                notify_managers_of_new_proposals(session=session, settings=state.settings)
        except Exception:  # matching worked; the bot's announce job tries again within a minute
            log.exception("announcing the proposals of listing %s failed", listing_id)
    return len(found)


async def _match_in_background(
    context: Context, chat_id: int, language: str, listing_id: int
) -> None:
    """Tells the contact how many candidates matching found; on failure the listing stays and
    the nightly round picks it up."""
    from matching.embedders import EmbedderUnavailable

    try:
        found = await asyncio.to_thread(_match_listing, context, listing_id)
    except EmbedderUnavailable as error:  # a setting, not a bug: one line, no traceback
        log.error("incremental matching of listing %s is off: %s", listing_id, error)
        await send_html(context.bot, chat_id, t(language, "listings.match_failed"))
        return
    except Exception:
        log.exception("incremental matching failed for listing %s", listing_id)
        await send_html(context.bot, chat_id, t(language, "listings.match_failed"))
        return
    key = {0: "listings.no_candidates", 1: "listings.candidates_found_one"}.get(
        found, "listings.candidates_found"
    )
    await send_html(context.bot, chat_id, t(language, key, count=found))


async def discard(update: Update, context: Context) -> int:
    """Cancel in the preview: the draft is dropped, nothing saved; the preview becomes the
    menu."""
    who = current(update, context)
    await answer(update)
    context.user_data.pop(DRAFT, None)
    await edit_menu(update, who, t(who.language, "listings.discarded"))
    return END


async def hint_text(update: Update, context: Context) -> None:
    await say(update, current(update, context).language, "listings.text_expected")


async def cancel(update: Update, context: Context) -> int:
    """/cancel: leaves the draft unsaved and shows the menu."""
    who = current(update, context)
    context.user_data.pop(DRAFT, None)
    await show_menu(update, who, t(who.language, "common.cancelled"))
    return END


async def stale_button(update: Update, context: Context) -> None:
    await stale(update, current(update, context))


# ---- /mylistings


def _listing_view(language: str, listing: Listing, tz: tzinfo) -> tuple[str, Buttons]:
    text = t(
        language,
        "listings.item",
        kind=plain(language, f"listings.kind.{listing.kind}"),
        status=plain(language, f"listings.status.{listing.status}"),
        text=listing.text,
        tags=_tag_labels(language, listing.tags),
        expires=format_date(listing.expires_at, language, tz),
    )
    if listing.status == ListingStatus.CLOSED:
        return text, []
    toggle = (
        (plain(language, "listings.button_pause"), f"ml:p:{listing.id}")
        if listing.status == ListingStatus.ACTIVE
        else (plain(language, "listings.button_resume"), f"ml:r:{listing.id}")
    )
    return text, [
        [
            (plain(language, "listings.button_edit_listing"), f"ml:e:{listing.id}"),
            toggle,
            (plain(language, "listings.button_close"), f"ml:c:{listing.id}"),
        ]
    ]


async def my_listings(update: Update, context: Context) -> None:
    """Lists my open listings, one message each with its own buttons (pause, edit and close
    act on that message); the title rides on the first one."""
    who = current(update, context)
    await answer(update)
    if not who.registered or not who.has_organization:
        await not_registered(update, who)
        return
    mine = await in_session(context, listings.listings_of, member_id=who.member_id)
    if not mine:
        await say(
            update,
            who.language,
            "listings.none",
            [
                [
                    (plain(who.language, "menu.button_need"), "mn:need"),
                    (plain(who.language, "menu.button_offer"), "mn:offer"),
                ]
            ],
        )
        return
    title = t(who.language, "listings.mine_title", count=len(mine))
    for index, listing in enumerate(mine):
        text, buttons = _listing_view(who.language, listing, runtime(context).settings.tz)
        await reply(update, f"{title}\n\n{text}" if index == 0 else text, buttons)


async def change_status(update: Update, context: Context) -> None:
    """Pause, resume or close from /mylistings; someone else's or a stale button changes nothing."""
    who = current(update, context)
    action = {"p": "pause", "r": "resume", "c": "close"}[parts(update)[1]]  # ^ml:[prc]:\d+$
    try:
        with runtime(context).session() as session:
            listing = listings.change_status(
                session=session,
                member_id=who.member_id,
                listing_id=callback_id(update) or 0,
                action=action,
            )
    except (listings.ListingNotFound, listings.NotRegistered):
        await stale(update, who, "listings.not_found")
        return
    except listings.ListingStateError:
        await stale(update, who)
        return
    await answer(update, plain(who.language, f"listings.done_{action}"))
    text, buttons = _listing_view(who.language, listing, runtime(context).settings.tz)
    await edit(update, text, buttons)


def entry_points() -> list[BaseHandler[Any, Any, Any]]:
    """/need, /offer, the menu's need/offer buttons and "edit" under one of my listings."""
    return [
        CommandHandler(["need", "offer"], begin, filters=PRIVATE),
        CallbackQueryHandler(begin, pattern=r"^mn:(need|offer)$"),
        CallbackQueryHandler(begin_edit, pattern=r"^ml:e:\d+$"),
    ]


def steps() -> dict[object, list[BaseHandler[Any, Any, Any]]]:
    """The draft's states: text, then the preview. Fresh handler objects on every call, because
    each conversation that hosts them wraps their callbacks with its own name."""
    return {
        TEXT_STATE: [
            MessageHandler(TEXT, receive_text),
            CallbackQueryHandler(keep_text, pattern=r"^ls:keep$"),
            MessageHandler(NOT_TEXT, hint_text),
        ],
        PREVIEW: [
            CallbackQueryHandler(toggle_tag, pattern=r"^ls:t:\w+$"),
            CallbackQueryHandler(switch_kind, pattern=r"^ls:k$"),
            CallbackQueryHandler(confirm, pattern=r"^ls:ok$"),
            CallbackQueryHandler(back_to_text, pattern=r"^ls:edit$"),
            CallbackQueryHandler(discard, pattern=r"^ls:no$"),
            MessageHandler(TEXT, receive_text),
            MessageHandler(NOT_TEXT, hint_text),
        ],
    }


def build() -> ConversationHandler[Any]:
    return conversation(
        entry_points=entry_points(),
        states=steps(),
        fallbacks=[
            CommandHandler("cancel", cancel, filters=PRIVATE),
            CallbackQueryHandler(stale_button, pattern=r"^ls:"),
        ],
        name="listing",
        persistent=True,
        allow_reentry=True,
    )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the listing conversation and the /mylistings buttons."""
    application.add_handler(build())
    application.add_handler(CommandHandler("mylistings", my_listings, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(my_listings, pattern=r"^mn:mine$"))
    application.add_handler(CallbackQueryHandler(change_status, pattern=r"^ml:[prc]:\d+$"))
