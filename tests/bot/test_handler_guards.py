"""Handlers over a real database with Telegram's side recorded: what a press does when the
stored state no longer fits (the contact left their company, garbled user data)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from telegram import Update
from telegram.ext import Application

from bot import callbacks, ui
from bot.app import CONTEXT_TYPES
from bot.context import BotContext, Runtime
from bot.drafts import CompanyDraft, ListingDraft, ReviewState
from bot.handlers import managers, privacy, review
from bot.handlers import membership as membership_handlers
from bot.handlers.listings import posting
from bot.handlers.onboarding import common as onboarding
from bot.handlers.onboarding import company as onboarding_company
from bot.texts import t
from kooperation.config import Settings
from kooperation.models import (
    AuditLog,
    CompanyInvite,
    Kind,
    Listing,
    ManagerInvite,
    Match,
    MatchStatus,
    Organization,
)
from kooperation.services import audit, company_contacts, identity
from tests import factories as seed

App = Application[Any, Any, Any, Any, Any, Any]
TEXT = "Wir suchen einen Partner für die Wartung unserer CNC-Fräsen in Leipzig."


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts the handlers send or edit in (answers to a button are not texts)."""
    texts: list[str] = []

    async def send_html(_bot: object, _chat_id: int, text: str, *_: object, **__: object) -> None:
        texts.append(text)

    async def edit_now(_update: Update, text: str, _buttons: object) -> None:
        texts.append(text)

    async def answer_now(*_: object) -> None:
        return None

    monkeypatch.setattr(ui, "send_html", send_html)
    monkeypatch.setattr(ui, "_edit_now", edit_now)
    monkeypatch.setattr(ui, "_answer_now", answer_now)
    return texts


def _app(settings: Settings, engine: Engine) -> App:
    application = Application.builder().token("1:offline").context_types(CONTEXT_TYPES).build()
    application.bot_data["runtime"] = Runtime(settings=settings, engine=engine)
    return application


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "first_name": "Erika", "is_bot": False, "language_code": "de"}


def _message(user_id: int, text: str) -> dict[str, Any]:
    chat = {"id": user_id, "type": "private"}
    return {
        "message_id": 7,
        "date": 1_700_000_000,
        "chat": chat,
        "from": _user(user_id),
        "text": text,
    }


def _pressed(application: App, user_id: int, data: str) -> Update:
    query = {
        "id": "1",
        "from": _user(user_id),
        "chat_instance": "1",
        "data": data,
        "message": _message(user_id, "…"),
    }
    return Update.de_json({"update_id": 1, "callback_query": query}, application.bot)


def _typed(application: App, user_id: int, text: str) -> Update:
    return Update.de_json({"update_id": 1, "message": _message(user_id, text)}, application.bot)


def _context(application: App, update: Update, user_data: dict[str, Any]) -> BotContext:
    context = application.context_types.context.from_update(update, application)
    assert isinstance(context, BotContext)
    context.user_state.update(user_data)
    return context


async def test_confirming_a_draft_after_leaving_the_company_says_there_is_no_company(
    settings: Settings, engine: Engine, session: Session, sent: list[str]
) -> None:
    """The preview was shown while the contact spoke for a company; they left it (/settings)
    and then pressed "publish" on the old preview: nothing is posted, the contact hears why
    (as /need would tell them), and no traceback reaches the error handler."""
    member = seed.company(session, "Zellwerk GmbH")
    draft: dict[str, Any] = {}
    ListingDraft(Kind.NEED, TEXT).to_user_data(draft)
    company_contacts.leave_company(session=session, settings=settings, member=member)
    application = _app(settings, engine)
    update = _pressed(application, member.telegram_user_id, callbacks.DRAFT_CONFIRM.data())
    context = _context(application, update, draft)

    assert await posting.confirm(update, context) == posting.END

    assert sent == [t("de", "membership.no_company")]
    assert session.exec(select(Listing)).all() == []
    assert ListingDraft.from_user_data(context.user_state) is None


async def test_publishing_a_draft_written_for_a_former_company_publishes_nothing(
    settings: Settings, engine: Engine, session: Session, sent: list[str]
) -> None:
    """The contact wrote a need for Zellwerk, left it and joined Import GmbH, then pressed
    "publish" on the old preview: nothing is posted for either company, the draft is gone,
    and the contact hears why and how to start again."""
    member = seed.company(session, "Zellwerk GmbH")
    application = _app(settings, engine)
    user_id = member.telegram_user_id
    begun = _typed(application, user_id, "/need")
    assert await posting.begin(begun, _context(application, begun, {})) == posting.TEXT_STATE
    written = _typed(application, user_id, TEXT)
    assert (
        await posting.receive_text(written, _context(application, written, {})) == "listing.preview"
    )
    company_contacts.leave_company(session=session, settings=settings, member=member)
    other = seed.organization(session, "Import GmbH", "logistics")
    company_contacts.become_contact(session=session, member=member, organization=other)
    session.commit()
    pressed = _pressed(application, user_id, callbacks.DRAFT_CONFIRM.data())
    context = _context(application, pressed, {})

    assert await posting.confirm(pressed, context) == posting.END

    assert t("de", "listings.draft_other_company") in sent[-1]
    assert session.exec(select(Listing)).all() == []
    assert ListingDraft.from_user_data(context.user_state) is None


@pytest.mark.filterwarnings("ignore:Tasks created via `Application.create_task`")
async def test_a_draft_stored_before_drafts_knew_their_company_is_published_as_before(
    settings: Settings,
    engine: Engine,
    session: Session,
    sent: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A draft kept over the deploy names no company: it is published for the contact's."""
    matched: list[int] = []

    async def match_in_background(*args: object) -> None:
        matched.append(int(str(args[-1])))

    monkeypatch.setattr(posting, "match_in_background", match_in_background)
    member = seed.company(session, "Zellwerk GmbH")
    draft: dict[str, Any] = {}
    ListingDraft(Kind.NEED, TEXT).to_user_data(draft)
    application = _app(settings, engine)
    update = _pressed(application, member.telegram_user_id, callbacks.DRAFT_CONFIRM.data())

    assert await posting.confirm(update, _context(application, update, draft)) == posting.END

    await asyncio.sleep(0)  # the matching task starts
    listing = session.exec(select(Listing)).one()
    assert listing.organization_id == member.organization_id
    assert sent == [t("de", "listings.published_need", title=listing.title)]
    assert matched == [listing.id]


@pytest.mark.usefixtures("sent")
@pytest.mark.parametrize("garbled", [True, "12", 1.0, [12]])
async def test_a_garbled_pending_rejection_rejects_nothing(
    settings: Settings, engine: Engine, session: Session, garbled: object
) -> None:
    """The match a manager is rejecting is kept in user_data between the button and the
    reason; a stored value the bot never wrote there is no match to reject."""
    admin = seed.admin(session, seed.new_telegram_id(), "Ada Admin")
    _, _, match = seed.two_sided(session, seed.new_telegram_id())
    assert match.id == 1  # what True (or 1.0) would have been read as
    application = _app(settings.model_copy(update={"admin_telegram_ids": []}), engine)
    update = _typed(application, admin.telegram_user_id, "passt nicht")
    context = _context(application, update, {ReviewState.REJECTING: garbled})

    assert await review.reason_given(update, context) == review.END

    session.refresh(match)
    assert match.status == MatchStatus.PROPOSED
    assert session.exec(select(Match).where(Match.status != MatchStatus.PROPOSED)).all() == []


@pytest.mark.parametrize("cluster", ["energy", "../it", ""])
async def test_a_new_company_whose_stored_cluster_is_unknown_is_asked_for_again(
    settings: Settings, engine: Engine, session: Session, sent: list[str], cluster: str
) -> None:
    """The sign-up keeps the chosen cluster in user_data; one the reference data does not
    know (garbled, or a cluster removed by a deploy) registers nothing and starts the company
    over, as a missing name does, instead of the error apology."""
    user_id = seed.new_telegram_id()
    identity.give_consent(
        session=session, telegram_user_id=user_id, chat_id=user_id, username=None, language="de"
    )
    stored = {"org_name": "Zellwerk GmbH", "org_cluster": cluster, "org_size": "small"}
    application = _app(settings, engine)
    update = _typed(application, user_id, "04356 Leipzig")
    context = _context(application, update, stored)

    assert await onboarding_company.region(update, context) == onboarding.ORG_SEARCH

    assert sent == [t("de", "onboarding.ask_organization")]
    assert session.exec(select(Organization)).all() == []
    assert onboarding.state_of(context).company == CompanyDraft()


@pytest.mark.parametrize("garbled", [True, {"4": 1}, [[4]], [True], "12"])
async def test_skipping_with_a_garbled_skip_list_starts_the_list_afresh(
    settings: Settings, engine: Engine, session: Session, sent: list[str], garbled: object
) -> None:
    """The proposals skipped in a review session are kept in user_data; a stored value the
    bot never wrote there is an empty list, not a traceback."""
    admin = seed.admin(session, seed.new_telegram_id(), "Ada Admin")
    _, _, match = seed.two_sided(session, seed.new_telegram_id())
    assert match.id is not None
    application = _app(settings, engine)
    update = _pressed(application, admin.telegram_user_id, callbacks.REVIEW_SKIP.data(match.id))
    context = _context(application, update, {ReviewState.SKIPPED: garbled})

    await review.skip_pressed(update, context)

    assert context.user_state[ReviewState.SKIPPED] == [match.id]
    assert sent == [t("de", "review.only_skipped", skipped=1)]


def _refusals_of(session: Session, telegram_user_id: int) -> list[AuditLog]:
    query = select(AuditLog).where(
        AuditLog.actor_telegram_id == telegram_user_id, col(AuditLog.allowed).is_(False)
    )
    return list(session.exec(query).all())


async def test_a_stranger_pressing_a_forged_manager_invite_button_gets_no_invite(
    settings: Settings, engine: Engine, session: Session, sent: list[str]
) -> None:
    """Someone who never agreed (no member row) forges `mg:i:<cluster>`: no manager invite
    (whose link would make them a cluster's manager), the refusal under their Telegram id."""
    stranger = seed.new_telegram_id()
    cluster = seed.cluster(session, "it")
    assert cluster.id is not None
    application = _app(settings, engine)
    update = _pressed(application, stranger, callbacks.MANAGERS_INVITE.data(cluster.id))

    await managers.invite_pressed(update, _context(application, update, {}))

    assert session.exec(select(ManagerInvite)).all() == []
    assert sent == [t("de", "managers.not_allowed")]
    assert [r.action for r in _refusals_of(session, stranger)] == [audit.Action.CREATE_INVITE]


async def test_a_stranger_pressing_a_forged_company_invite_button_gets_no_invite(
    settings: Settings, engine: Engine, session: Session, sent: list[str]
) -> None:
    """The same for `co:inv:<company>`: the link would make them a verified contact of any
    company, without its contacts or its manager confirming."""
    stranger = seed.new_telegram_id()
    organization = seed.organization(session, "Import GmbH", "logistics")
    assert organization.id is not None
    application = _app(settings, engine)
    update = _pressed(application, stranger, callbacks.COMPANY_INVITE.data(organization.id))

    await membership_handlers.invite_pressed(update, _context(application, update, {}))

    assert session.exec(select(CompanyInvite)).all() == []
    assert sent == [t("de", "membership.not_allowed")]
    refused = [r.action for r in _refusals_of(session, stranger)]
    assert refused == [company_contacts.Action.COMPANY_INVITE]


@pytest.mark.parametrize("verb", ["add", "remove"])
async def test_a_stranger_changing_managers_is_refused_under_their_telegram_id(
    settings: Settings, engine: Engine, session: Session, sent: list[str], verb: str
) -> None:
    """`/managers add|remove ID CLUSTER` from someone without a member row: refused like the
    overview, and the audit names who tried (as for every other staff command)."""
    stranger, named = seed.new_telegram_id(), seed.new_telegram_id()
    application = _app(settings, engine)
    update = _typed(application, stranger, f"/managers {verb} {named} it")
    context = _context(application, update, {})
    context.args = [verb, str(named), "it"]

    await managers.managers_command(update, context)

    assert sent == [t("de", "managers.not_allowed")]
    assert identity.member_by_telegram_id(session=session, telegram_user_id=named) is None
    assert len(_refusals_of(session, stranger)) == 1


async def test_a_stranger_pressing_reject_is_refused_under_their_telegram_id(
    settings: Settings, engine: Engine, session: Session, sent: list[str]
) -> None:
    """`rv:r:<id>` (which asks for a reason first) is audited like approve for a stranger."""
    stranger = seed.new_telegram_id()
    _, _, match = seed.two_sided(session, seed.new_telegram_id())
    assert match.id is not None
    application = _app(settings, engine)
    update = _pressed(application, stranger, callbacks.REVIEW_REJECT.data(match.id))

    assert await review.reject_pressed(update, _context(application, update, {})) == review.END

    assert sent == [t("de", "review.not_allowed")]
    assert len(_refusals_of(session, stranger)) == 1
    session.refresh(match)
    assert match.status == MatchStatus.PROPOSED


@pytest.mark.parametrize("garbled", ["no", 1, [False], {"asked": False}])
async def test_a_garbled_delete_question_deletes_nothing(
    settings: Settings, engine: Engine, session: Session, sent: list[str], garbled: object
) -> None:
    """Only a confirmation after the question deletes (the question leaves True in
    user_data); a stored value the bot never wrote is no question, and deleting cannot be
    undone."""
    member = seed.company(session, "Zellwerk GmbH")
    application = _app(settings, engine)
    update = _pressed(application, member.telegram_user_id, callbacks.PRIVACY_DELETE_YES.data())

    await privacy.delete(update, _context(application, update, {privacy.DELETE_ASKED: garbled}))

    assert sent == [t("de", "common.stale_button")]
    assert identity.member_by_telegram_id(session=session, telegram_user_id=member.telegram_user_id)
