"""The introduction opt-in: Accept / Decline on the offer message, and the messages around it.

Offers, contact details, the neutral "not this time" and the manager's result are queued by
`kooperation.services.introductions` and rendered here at send time, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.callbacks import data_of
from bot.context import runtime
from bot.outbox_render import Rendered, renderer
from bot.staff import Context, answer_query, callback_id, edit_or_reply
from bot.texts import Markup, escape, language_of, plain, t
from kooperation.models import MatchStatus
from kooperation.services import introductions
from kooperation.services.identity import member_by_telegram_id


async def answer_pressed(update: Update, context: Context) -> None:
    """in:a:<id> / in:d:<id> – this side accepts or declines; the buttons go away."""
    query = update.callback_query
    user = update.effective_user
    if query is None or user is None:
        return
    accept = data_of(update).startswith("in:a:")
    match_id = callback_id(update) or 0
    with runtime(context).session() as session:
        member = member_by_telegram_id(session=session, telegram_user_id=user.id)
        language = language_of(member.language if member else user.language_code)
        try:
            if member is None:
                raise introductions.NotASide(str(match_id))
            result = introductions.answer_introduction(
                session=session, member=member, match_id=match_id, accept=accept
            )
        except introductions.AlreadyAnswered as error:
            answer = plain(language, f"introductions.answer_{error.answer}")
            await answer_query(update)
            await edit_or_reply(
                update, t(language, "introductions.already_answered", answer=answer)
            )
            return
        except introductions.IntroductionClosed:
            await answer_query(update)
            await edit_or_reply(update, t(language, "introductions.closed"))
            return
        except introductions.IntroductionError:
            await answer_query(update, plain(language, "introductions.stale"), alert=True)
            await edit_or_reply(update, t(language, "introductions.stale"))
            return
    if not accept:
        key = "introductions.declined"
    elif result.status == MatchStatus.INTRODUCED:
        key = "introductions.accepted_done"
    else:
        key = "introductions.accepted_waiting"
    await answer_query(update)
    await edit_or_reply(update, t(language, key, other_organization=result.other_organization))


def listing_block(title: str, text: str) -> Markup:
    """The other side's listing: its full text, under its title only when the title says more
    than the text's opening (a title made from the first 80 characters would repeat them)."""
    opening = title.rstrip("…").strip()
    if not opening or " ".join(text.split()).startswith(" ".join(opening.split())):
        return Markup(escape(text))
    return Markup(f"<b>{escape(title)}</b>\n{escape(text)}")


@renderer("intro_offer")
def render_offer(language: str, payload: dict[str, Any]) -> Rendered:
    reason = payload.get(f"reason_{language}") or payload.get("reason_de") or ""
    text = t(
        language,
        "introductions.offer",
        other_organization=payload["other_organization"],
        other_cluster=payload["other_cluster"],
        other_kind=plain(language, f"introductions.kind_{payload['other_kind']}"),
        other_listing=listing_block(payload["other_title"], payload["other_text"]),
        reason=reason,
        own_title=payload["own_title"],
    )
    match_id = payload["match_id"]
    buttons = [
        [
            (plain(language, "introductions.button_accept"), f"in:a:{match_id}"),
            (plain(language, "introductions.button_decline"), f"in:d:{match_id}"),
        ]
    ]
    return Rendered(text, buttons)


@renderer("intro_contact")
def render_contact(language: str, payload: dict[str, Any]) -> Rendered:
    details = []
    if payload.get("username"):
        details.append(t(language, "introductions.contact_username", username=payload["username"]))
    if payload.get("email"):
        details.append(t(language, "introductions.contact_email", email=payload["email"]))
    if not details:
        details.append(t(language, "introductions.contact_none"))
    text = t(
        language,
        "introductions.contact",
        organization=payload["organization"],
        cluster=payload["cluster"],
        name=payload["name"],
        details=Markup("\n".join(details)),
        other_title=payload["other_title"],
        own_title=payload["own_title"],
    )
    return Rendered(text)


@renderer("intro_closed")
def render_closed(language: str, payload: dict[str, Any]) -> Rendered:
    return Rendered(
        t(
            language,
            "introductions.closed_neutral",
            other_organization=payload["other_organization"],
            own_title=payload["own_title"],
        )
    )


@renderer("intro_result_manager")
def render_result(language: str, payload: dict[str, Any]) -> Rendered:
    key = (
        "introductions.result_introduced"
        if payload["outcome"] == MatchStatus.INTRODUCED
        else "introductions.result_declined"
    )
    return Rendered(
        t(
            language,
            key,
            match_id=payload["match_id"],
            need_organization=payload["need_organization"],
            offer_organization=payload["offer_organization"],
            declined_by=payload.get("declined_by", ""),
        )
    )


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Adds the Accept / Decline buttons of introduction offers."""
    application.add_handler(CallbackQueryHandler(answer_pressed, pattern=r"^in:[ad]:\d+$"))
