"""Every outbox message as the member reads it: one renderer per `OutboxKind`.

Services queue typed payloads (`kooperation.messages`); the sender (`bot/delivery.py`) reads the
stored row back (`render`) and renders it here in the member's language at send time. The
buttons carry the callback data that the handlers in `bot/handlers/` answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.callbacks import (
    COMPANY_INVITE,
    DIGEST_PAUSE,
    EXTEND_LISTING,
    FEEDBACK,
    FOLLOWUP_ANSWER,
    INTRODUCTION_ANSWER,
    JOIN_DECISION,
    REVIEW_NEXT,
)
from bot.render import Buttons
from bot.texts import Markup, escape, language_of, plain, t
from bot.ui import new_listing_buttons
from kooperation.dates import format_date
from kooperation.messages import (
    CompanyOrphaned,
    ExpiryReminder,
    FollowupQuestion,
    IntroClosed,
    IntroContact,
    IntroOffer,
    IntroResult,
    JobFailed,
    JoinDecided,
    JoinRequested,
    ListingClosed,
    MembershipReview,
    NewProposals,
    OutboxKind,
    OutboxPayload,
    WeeklyDigest,
    from_payload,
)
from kooperation.models import JoinKind, JoinStatus, MatchStatus


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: Buttons = field(default_factory=list)


def username_shown(language: str, username: str) -> str:
    """ "@name", or the catalogue's word for a member without a Telegram username."""
    return f"@{username}" if username else plain(language, "membership.no_username")


def listing_block(title: str, text: str) -> Markup:
    """The other side's listing: its full text, under its title only when the title says more
    than the text's opening (a title made from the first 80 characters would repeat them)."""
    opening = title.rstrip("…").strip()
    if not opening or " ".join(text.split()).startswith(" ".join(opening.split())):
        return Markup(escape(text))
    return Markup(f"<b>{escape(title)}</b>\n{escape(text)}")


# ---------------------------------------------------------------------------- digest, listings
def render_digest(language: str, payload: WeeklyDigest) -> Rendered:
    """The weekly digest: sections only when they have something to say."""
    lang = language_of(language)
    lines: list[str] = [t(lang, "digest.title", week=payload.week)]
    if payload.waiting:
        lines += ["", t(lang, "digest.waiting_heading")]
        lines += [
            t(
                lang,
                "digest.waiting_item",
                own_title=item.own_title,
                other_title=item.other_title,
                cluster=item.other_cluster,
            )
            for item in payload.waiting
        ]
        lines.append(t(lang, "digest.waiting_hint"))
    if payload.introductions:
        lines += ["", t(lang, "digest.intro_heading")]
        lines += [
            t(
                lang,
                f"digest.intro_{item.state}",
                own_title=item.own_title,
                other_title=item.other_title,
                other_org=item.other_org,
            )
            for item in payload.introductions
        ]
    if payload.opportunities:
        lines += ["", t(lang, "digest.opportunities_heading")]
        for opportunity in payload.opportunities:
            lines.append(
                t(
                    lang,
                    "digest.opportunity_item",
                    kind=plain(lang, f"digest.kind_{opportunity.kind}"),
                    title=opportunity.title,
                    cluster=opportunity.cluster,
                    own_title=opportunity.own_title,
                )
            )
            reason = opportunity.reason_en if lang == "en" else opportunity.reason_de
            if reason:
                lines.append(t(lang, "digest.opportunity_reason", reason=reason))
        lines.append(t(lang, "digest.opportunities_hint"))
    return Rendered(
        text="\n".join(lines), buttons=[[(plain(lang, "digest.pause_button"), DIGEST_PAUSE.data())]]
    )


def render_followup(language: str, payload: FollowupQuestion) -> Rendered:
    lang = language_of(language)
    buttons = [
        [(plain(lang, f"followup.{answer.value}"), FOLLOWUP_ANSWER.data(payload.match_id, answer))]
        for answer in FEEDBACK.choices
    ]
    text = t(lang, "followup.ask", own_title=payload.own_title, other_org=payload.other_org)
    return Rendered(text=text, buttons=buttons)


def _extend_button(lang: str, payload: ExpiryReminder) -> Buttons:
    label = plain(lang, "expiry.extend_button", days=payload.extend_days)
    return [[(label, EXTEND_LISTING.data(payload.listing_id))]]


def render_expiry_reminder(language: str, payload: ExpiryReminder) -> Rendered:
    lang = language_of(language)
    day = format_date(payload.expires_on, lang)  # already a local day
    text = t(lang, "expiry.reminder", title=payload.title, date=day)
    return Rendered(text=text, buttons=_extend_button(lang, payload))


def render_listing_closed(language: str, payload: ListingClosed) -> Rendered:
    lang = language_of(language)
    text = t(lang, "expiry.closed", title=payload.title)
    return Rendered(text=text, buttons=_extend_button(lang, payload))


# ---------------------------------------------------------------------------- introductions
def render_offer(language: str, payload: IntroOffer) -> Rendered:
    """To one side: the other listing and why it fits; contact details only after both agree."""
    reason = (payload.reason_en if language == "en" else "") or payload.reason_de
    text = t(
        language,
        "introductions.offer",
        other_organization=payload.other_organization,
        other_cluster=payload.other_cluster,
        other_kind=plain(language, f"introductions.kind_{payload.other_kind}"),
        other_listing=listing_block(payload.other_title, payload.other_text),
        reason=reason,
        own_title=payload.own_title,
    )
    buttons = [
        [
            (
                plain(language, "introductions.button_accept"),
                INTRODUCTION_ANSWER.data(True, payload.match_id),
            ),
            (
                plain(language, "introductions.button_decline"),
                INTRODUCTION_ANSWER.data(False, payload.match_id),
            ),
        ]
    ]
    return Rendered(text, buttons)


def render_contact(language: str, payload: IntroContact) -> Rendered:
    details = []
    if payload.username:
        details.append(t(language, "introductions.contact_username", username=payload.username))
    if payload.email:
        details.append(t(language, "introductions.contact_email", email=payload.email))
    if not details:
        details.append(t(language, "introductions.contact_none"))
    text = t(
        language,
        "introductions.contact",
        organization=payload.organization,
        cluster=payload.cluster,
        name=payload.name,
        details=Markup("\n".join(details)),
        other_title=payload.other_title,
        own_title=payload.own_title,
    )
    return Rendered(text)


def render_closed(language: str, payload: IntroClosed) -> Rendered:
    return Rendered(
        t(
            language,
            "introductions.closed_neutral",
            other_organization=payload.other_organization,
            own_title=payload.own_title,
        )
    )


def render_result(language: str, payload: IntroResult) -> Rendered:
    key = (
        "introductions.result_introduced"
        if payload.outcome == MatchStatus.INTRODUCED
        else "introductions.result_declined"
    )
    return Rendered(
        t(
            language,
            key,
            match_id=payload.match_id,
            need_organization=payload.need_organization,
            offer_organization=payload.offer_organization,
            declined_by=payload.declined_by or "",
        )
    )


def render_new_proposals(language: str, payload: NewProposals) -> Rendered:
    key = "review.new_proposal_one" if payload.count == 1 else "review.new_proposals"
    return Rendered(
        t(language, key, count=payload.count, pending=payload.pending),
        [[(plain(language, "review.button_review_now"), REVIEW_NEXT.data())]],
    )


# ---------------------------------------------------------------------------- membership
def _invite_button(language: str, organization_id: int, name: str) -> list[tuple[str, str]]:
    label = plain(language, "membership.button_invite", organization=name[:40])
    return [(label, COMPANY_INVITE.data(organization_id))]


def decision_buttons(language: str, request_id: int) -> list[tuple[str, str]]:
    """Approve and decline a join request or claim: one row."""
    return [
        (plain(language, "membership.button_approve"), JOIN_DECISION.data(True, request_id)),
        (plain(language, "membership.button_decline"), JOIN_DECISION.data(False, request_id)),
    ]


def render_join_request(language: str, payload: JoinRequested) -> Rendered:
    """To the company's contacts (join) and its cluster's managers (join, claim)."""
    unknown = plain(language, "membership.unknown")
    params = {
        "requester": payload.requester or unknown,
        "username": username_shown(language, payload.username),
        "organization": payload.organization,
        "cluster": payload.cluster,
    }
    claim = bool(payload.for_staff) and payload.kind == JoinKind.CLAIM
    if not payload.for_staff:
        key = "membership.request"
    elif claim:
        key = "membership.claim_staff"
        params["contact_name"] = payload.contact_name or unknown
        params["contact_email"] = payload.contact_email or unknown
    else:
        key = "membership.request_staff"
    buttons = [decision_buttons(language, payload.request_id)]
    if claim and payload.organization_id is not None:
        buttons.append(_invite_button(language, payload.organization_id, payload.organization))
    return Rendered(text=t(language, key, **params), buttons=buttons)


def render_join_decided(language: str, payload: JoinDecided) -> Rendered:
    """To the requester: welcome with the first step, or a neutral "not confirmed"."""
    if payload.status == JoinStatus.APPROVED:
        buttons: Buttons = [new_listing_buttons(language)]
        text = t(language, "membership.decided_approved", organization=payload.organization)
        return Rendered(text=text, buttons=buttons)
    return Rendered(
        text=t(language, "membership.decided_closed", organization=payload.organization)
    )


def render_orphaned(language: str, payload: CompanyOrphaned) -> Rendered:
    text = t(
        language, "membership.orphaned", organization=payload.organization, paused=payload.paused
    )
    buttons = [_invite_button(language, payload.organization_id, payload.organization)]
    return Rendered(text=text, buttons=buttons)


def render_membership_review(language: str, payload: MembershipReview) -> Rendered:
    lines = [
        t(
            language,
            "membership.review_line",
            organization=company.organization,
            contacts=", ".join(company.contacts) or "–",
        )
        for company in payload.companies
    ]
    return Rendered(text=t(language, "membership.review_list", lines=Markup("\n".join(lines))))


# ---------------------------------------------------------------------------- operations
def render_job_failed(language: str, payload: JobFailed) -> Rendered:
    return Rendered(
        t(
            language,
            "jobs.failed",
            job=plain(language, f"jobs.name_{payload.job}"),
            slot=payload.slot,
            attempts=payload.attempts,
            error=payload.error,
        )
    )


RENDERERS: Mapping[OutboxKind, Callable[[str, Any], Rendered]] = {
    OutboxKind.DIGEST: render_digest,
    OutboxKind.FOLLOWUP: render_followup,
    OutboxKind.EXPIRY_REMINDER: render_expiry_reminder,
    OutboxKind.LISTING_CLOSED: render_listing_closed,
    OutboxKind.INTRO_OFFER: render_offer,
    OutboxKind.INTRO_CONTACT: render_contact,
    OutboxKind.INTRO_CLOSED: render_closed,
    OutboxKind.INTRO_RESULT_MANAGER: render_result,
    OutboxKind.MANAGER_NEW_PROPOSALS: render_new_proposals,
    OutboxKind.JOIN_REQUEST: render_join_request,
    OutboxKind.JOIN_DECIDED: render_join_decided,
    OutboxKind.COMPANY_ORPHANED: render_orphaned,
    OutboxKind.MEMBERSHIP_REVIEW: render_membership_review,
    OutboxKind.JOB_FAILED: render_job_failed,
}
"""Each renderer takes the payload class of its kind (`kooperation.messages.PAYLOAD_TYPES`)."""


def render_message(language: str, payload: OutboxPayload) -> Rendered:
    """A typed payload as the member reads it."""
    return RENDERERS[payload.KIND](language, payload)


def render(kind: str, language: str, data: Mapping[str, Any]) -> Rendered:
    """A stored row (`Outbox.kind`, `Outbox.payload`), also one an older version queued.

    Raises `kooperation.messages.PayloadError` for a payload no payload class reads.
    """
    return render_message(language, from_payload(kind, data))
