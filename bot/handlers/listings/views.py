"""How a draft and a listing look: the preview with its tag buttons, one of my listings."""

from __future__ import annotations

from datetime import tzinfo

from bot import callbacks
from bot.drafts import ListingDraft
from bot.render import Buttons
from bot.texts import plain, t
from kooperation.dates import format_date
from kooperation.models import Kind, Listing, ListingStatus
from kooperation.reference import categories
from kooperation.validation import LISTING_MAX, LISTING_MIN

TAGS_PER_ROW = 2


def tag_labels(language: str, tags: list[str]) -> str:
    labels = [c.label(language) for c in categories() if c.slug in tags]
    return ", ".join(labels) if labels else plain(language, "listings.no_tags")


def _other_kind(kind: Kind) -> Kind:
    return Kind.OFFER if kind == Kind.NEED else Kind.NEED


def _tag_buttons(language: str, tags: list[str]) -> list[list[tuple[str, str]]]:
    buttons = [
        (f"{'✅ ' if c.slug in tags else ''}{c.label(language)}", callbacks.DRAFT_TAG.data(c.slug))
        for c in categories()
    ]
    return [buttons[i : i + TAGS_PER_ROW] for i in range(0, len(buttons), TAGS_PER_ROW)]


def preview(language: str, draft: ListingDraft) -> tuple[str, Buttons]:
    """The draft as it will be published, with a button per category, switch, save, edit and
    discard."""
    text: str = t(
        language,
        "listings.preview",
        kind=plain(language, f"listings.kind.{draft.kind}"),
        text=draft.text,
        tags=tag_labels(language, draft.tags),
    )
    if draft.guess:
        text += "\n\n" + t(language, f"listings.guessed_{draft.kind}")
    rows = _tag_buttons(language, draft.tags)
    if not draft.editing:  # a published listing keeps its kind
        other = _other_kind(draft.kind)
        switch = callbacks.DRAFT_SWITCH_KIND.data()
        rows.append([(plain(language, f"listings.switch_to.{other}"), switch)])
    rows.append(
        [
            (plain(language, "listings.button_confirm"), callbacks.DRAFT_CONFIRM.data()),
            (plain(language, "listings.button_edit"), callbacks.DRAFT_EDIT.data()),
            (plain(language, "listings.button_cancel"), callbacks.DRAFT_DISCARD.data()),
        ]
    )
    return text, rows


def ask_first(language: str) -> str:
    """The invitation to a first listing of either kind (shown after sign-up)."""
    return t(language, "listings.ask_any", min=LISTING_MIN, max=LISTING_MAX)


def listing_view(language: str, listing: Listing, tz: tzinfo) -> tuple[str, Buttons]:
    """One of my listings with edit, pause or resume, and close (none once closed)."""
    text = t(
        language,
        "listings.item",
        kind=plain(language, f"listings.kind.{listing.kind}"),
        status=plain(language, f"listings.status.{listing.status}"),
        text=listing.text,
        tags=tag_labels(language, listing.tags),
        expires=format_date(listing.expires_at, language, tz),
    )
    if listing.status == ListingStatus.CLOSED or listing.id is None:
        return text, []
    toggle = "pause" if listing.status == ListingStatus.ACTIVE else "resume"
    status = callbacks.MY_LISTING_STATUS
    return text, [
        [
            (
                plain(language, "listings.button_edit_listing"),
                callbacks.MY_LISTING_EDIT.data(listing.id),
            ),
            (plain(language, f"listings.button_{toggle}"), status.data(toggle, listing.id)),
            (plain(language, "listings.button_close"), status.data("close", listing.id)),
        ]
    ]
