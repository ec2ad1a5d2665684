"""/review: one card per pending proposal; Approve / Reject (optional reason) / Skip / Next.

Every press is checked again on the server (`kooperation.services.review`): a member, a
manager of another cluster or a forged button changes nothing, is answered and audit-logged.

    /review ─► card ─rv:a:<id>─► approved (introduction starts) ─rv:n─► next card
                 ├──rv:s:<id>─► next card (this one comes back with the next /review)
                 ├──rv:n:<id>─► the card after this one (this one stays in the queue)
                 └──rv:r:<id>─► REASON ─text | rv:x:<id>─► rejected ─rv:n─► next card
                                       └──rv:c | /cancel─► nothing decided
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.callbacks import (
    REVIEW,
    REVIEW_APPROVE,
    REVIEW_CANCEL,
    REVIEW_NEXT,
    REVIEW_NEXT_AFTER,
    REVIEW_REJECT,
    REVIEW_REJECT_NOW,
    REVIEW_SKIP,
    any_of,
    data_of,
    shown,
)
from bot.context import BotContext
from bot.drafts import ReviewState
from bot.members import Who
from bot.render import Buttons
from bot.texts import Markup, language_of, plain, t
from bot.ui import PRIVATE, answer, conversation, edit
from kooperation import validation
from kooperation.dates import format_datetime
from kooperation.services import audit, review, roles
from kooperation.services.review import QueuePosition, ReviewCard

REASON = 0
END = ConversationHandler.END


def _number(value: float) -> str:
    return f"{value:.2f}"


def render_card(language: str, card: ReviewCard, pending: int) -> tuple[Markup, Buttons]:
    """The card text and its buttons."""
    marks = []
    if card.cross_cluster:
        marks.append(t(language, "review.mark_cross_cluster"))
    if card.reciprocal:
        marks.append(t(language, "review.mark_reciprocal"))
    params: dict[str, object] = {
        "match_id": card.match_id,
        "pending": pending,
        "score": _number(card.score),
        "reason": card.reason(language),
        "marks": Markup("".join(f"\n{mark}" for mark in marks)),
        **{name: _number(value) for name, value in card.components.items()},
    }
    for side_name, side in (("need", card.need), ("offer", card.offer)):
        params[f"{side_name}_organization"] = side.organization
        params[f"{side_name}_cluster"] = side.cluster_name
        params[f"{side_name}_size"] = plain(language, f"review.size_{side.size}")
        params[f"{side_name}_text"] = side.text
    buttons = [
        [
            (plain(language, "review.button_approve"), REVIEW_APPROVE.data(card.match_id)),
            (plain(language, "review.button_reject"), REVIEW_REJECT.data(card.match_id)),
        ],
        [
            (plain(language, "review.button_skip"), REVIEW_SKIP.data(card.match_id)),
            (plain(language, "review.button_next"), REVIEW_NEXT_AFTER.data(card.match_id)),
        ],
    ]
    return t(language, "review.card", **params), buttons


def _next_button(language: str) -> Buttons:
    return [[(plain(language, "review.button_next"), REVIEW_NEXT.data())]]


async def _refused(update: Update, who: Who) -> None:
    await answer(update, plain(who.language, "review.not_allowed"), alert=True)
    await edit(update, t(who.language, "review.not_allowed"))


def _state(context: BotContext) -> ReviewState:
    return ReviewState.from_user_data(context.user_state)


def _keep(context: BotContext, state: ReviewState) -> None:
    state.to_user_data(context.user_state)


async def _show_next(
    update: Update, context: BotContext, who: Who, after: int | None = None
) -> None:
    """Shows the best pending proposal not skipped in this review session (or the one
    following `after`)."""
    skipped = _state(context).skipped
    try:
        with context.acting_session() as session:
            position: QueuePosition = review.next_card(
                session=session,
                settings=context.runtime.settings,
                member=who.member,
                skipped=skipped,
                after=after,
            )
    except roles.NotAllowed:
        await _refused(update, who)
        return
    await answer(update)
    if position.card is None:
        key = "review.only_skipped" if position.skipped else "review.empty"
        await edit(update, t(who.language, key, skipped=position.skipped))
        return
    text, buttons = render_card(who.language, position.card, position.pending)
    await edit(update, text, buttons)


async def review_command(update: Update, context: BotContext) -> None:
    """/review: a fresh session through the queue, starting with the best proposal."""
    state = _state(context)
    state.skipped = []
    _keep(context, state)
    await _show_next(update, context, context.staff_actor())


async def next_pressed(update: Update, context: BotContext) -> None:
    """rv:n – the best card; rv:n:<id> – the card after that one; in place of this message."""
    after = REVIEW_NEXT_AFTER.pressed(update)
    await _show_next(update, context, context.staff_actor(), after=after)


async def skip_pressed(update: Update, context: BotContext) -> None:
    """rv:s:<id> – put this proposal back for now and show the next one."""
    match_id = REVIEW_SKIP.pressed(update)
    state = _state(context)
    if match_id is not None and match_id not in state.skipped:
        state.skipped.append(match_id)
        _keep(context, state)
    await _show_next(update, context, context.staff_actor())


async def _decision_error(
    update: Update, context: BotContext, who: Who, error: Exception, match_id: int
) -> None:
    if isinstance(error, roles.NotAllowed):
        await _refused(update, who)
        return
    await answer(update)
    if isinstance(error, review.MatchAlreadyDecided):
        tz = context.runtime.settings.tz
        at = format_datetime(error.at, language_of(who.language), tz) if error.at else "?"
        text = t(
            who.language,
            "review.already_decided",
            match_id=match_id,
            status=plain(who.language, f"review.status_{error.status}"),
            by=error.by,
            at=at,
        )
        await edit(update, text, _next_button(who.language))
        return
    await edit(update, t(who.language, "review.not_found"), _next_button(who.language))


async def approve_pressed(update: Update, context: BotContext) -> None:
    """rv:a:<id> – approve; the introduction opt-in starts in the same transaction."""
    who = context.staff_actor()
    match_id = REVIEW_APPROVE.pressed(update) or 0
    try:
        with context.acting_session() as session:
            decision = review.approve_match(
                session=session,
                settings=context.runtime.settings,
                member=who.member,
                match_id=match_id,
            )
            card = review.card(session=session, match=decision.match)
    except (roles.NotAllowed, review.ReviewError) as error:
        await _decision_error(update, context, who, error, match_id)
        return
    await answer(update)
    text = t(
        who.language,
        "review.approved",
        match_id=match_id,
        need_organization=card.need.organization,
        offer_organization=card.offer.organization,
    )
    if decision.unreachable:
        note = t(
            who.language,
            "review.approved_unreachable",
            organizations=", ".join(decision.unreachable),
        )
        text = Markup(f"{text}\n\n{note}")
    await edit(update, text, _next_button(who.language))


async def reject_pressed(update: Update, context: BotContext) -> int:
    """rv:r:<id> – check that it may still be rejected, then ask for an optional reason."""
    who = context.staff_actor()
    match_id = REVIEW_REJECT.pressed(update) or 0
    try:
        with context.acting_session() as session:
            review.check_reviewable(
                session=session,
                settings=context.runtime.settings,
                member=who.member,
                match_id=match_id,
            )
    except (roles.NotAllowed, review.ReviewError) as error:
        await _decision_error(update, context, who, error, match_id)
        return END
    await answer(update)
    state = _state(context)
    state.rejecting = match_id
    _keep(context, state)
    buttons = [
        [(plain(who.language, "review.button_reject_now"), REVIEW_REJECT_NOW.data(match_id))],
        [(plain(who.language, "review.button_cancel"), REVIEW_CANCEL.data())],
    ]
    await edit(update, t(who.language, "review.ask_reason", match_id=match_id), buttons)
    return REASON


async def _reject(update: Update, context: BotContext, match_id: int, reason: str) -> int:
    who = context.staff_actor()
    try:
        with context.acting_session() as session:
            review.reject_match(
                session=session,
                settings=context.runtime.settings,
                member=who.member,
                match_id=match_id,
                reason=reason,
            )
    except review.ReasonTooLong:
        await edit(update, t(who.language, "review.reason_too_long"))
        return REASON
    except (roles.NotAllowed, review.ReviewError) as error:
        await _decision_error(update, context, who, error, match_id)
        return END
    await answer(update)
    _forget_rejection(context)
    key = "review.rejected_with_reason" if reason.strip() else "review.rejected"
    await edit(
        update, t(who.language, key, match_id=match_id, reason=reason), _next_button(who.language)
    )
    return END


def _forget_rejection(context: BotContext) -> None:
    state = _state(context)
    state.rejecting = None
    _keep(context, state)


async def reason_given(update: Update, context: BotContext) -> int:
    """Text in REASON – reject with this reason."""
    match_id = _state(context).rejecting
    text = update.effective_message.text if update.effective_message else ""
    if match_id is None:
        return END
    try:
        reason = validation.reject_nul(text)
    except validation.InvalidInput as error:
        who = context.staff_actor()
        await edit(update, t(who.language, f"common.invalid.{error.code}"))
        return REASON
    return await _reject(update, context, match_id, reason)


async def reason_not_text(update: Update, context: BotContext) -> int:
    """A sticker, photo … in REASON – ask for text."""
    who = context.staff_actor()
    await edit(update, t(who.language, "review.reason_text_only"))
    return REASON


async def reject_now_pressed(update: Update, context: BotContext) -> int:
    """rv:x:<id> – reject without a reason (works from any old prompt too)."""
    return await _reject(update, context, REVIEW_REJECT_NOW.pressed(update) or 0, "")


async def cancel_reject(update: Update, context: BotContext) -> int:
    """rv:c or /cancel while asking for the reason – decide nothing."""
    who = context.staff_actor()
    _forget_rejection(context)
    await answer(update)
    await edit(update, t(who.language, "review.reject_cancelled"), _next_button(who.language))
    return END


async def command_while_rejecting(update: Update, context: BotContext) -> int:
    """Any command while the reason is awaited ends the rejection; /review goes on."""
    await cancel_reject(update, context)
    text = update.effective_message.text if update.effective_message else ""
    if (text or "").split(maxsplit=1)[0].split("@")[0] == "/review":
        await review_command(update, context)
    return END


async def forged_pressed(update: Update, context: BotContext) -> None:
    """Any other `rv:` data: not a button we ever sent. Logged, answered, nothing changed."""
    who = context.staff_actor()
    with context.acting_session() as session:
        audit.record_refusal(
            session=session,
            actor=who.member,
            action="review.button",
            target=shown(data_of(update)),
            reason="malformed button data",
        )
    await answer(update, plain(who.language, "review.stale"), alert=True)
    await edit(update, t(who.language, "review.stale"))


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds /review, its buttons and the reject-reason conversation."""
    reject_now = CallbackQueryHandler(reject_now_pressed, pattern=REVIEW_REJECT_NOW.pattern)
    application.add_handler(
        conversation(
            entry_points=[CallbackQueryHandler(reject_pressed, pattern=REVIEW_REJECT.pattern)],
            states={
                REASON: [
                    MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, reason_given),
                    reject_now,
                    MessageHandler(PRIVATE & ~filters.TEXT & ~filters.COMMAND, reason_not_text),
                ]
            },
            fallbacks=[
                CallbackQueryHandler(cancel_reject, pattern=REVIEW_CANCEL.pattern),
                CommandHandler("cancel", cancel_reject),
                MessageHandler(filters.COMMAND, command_while_rejecting),
            ],
            name="review_reject",
            allow_reentry=True,
        )
    )
    application.add_handler(CommandHandler("review", review_command, filters=PRIVATE))
    next_ = any_of(REVIEW_NEXT, REVIEW_NEXT_AFTER)
    application.add_handler(CallbackQueryHandler(approve_pressed, pattern=REVIEW_APPROVE.pattern))
    application.add_handler(CallbackQueryHandler(skip_pressed, pattern=REVIEW_SKIP.pattern))
    application.add_handler(CallbackQueryHandler(next_pressed, pattern=next_))
    application.add_handler(reject_now)
    application.add_handler(CallbackQueryHandler(cancel_reject, pattern=REVIEW_CANCEL.pattern))
    application.add_handler(CallbackQueryHandler(forged_pressed, pattern=REVIEW.pattern))
