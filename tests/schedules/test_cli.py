"""`matchbot digest --dry-run | --send-now` and `matchbot outbox`."""

from __future__ import annotations

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot import cli
from kooperation.messages import WeeklyDigest
from kooperation.models import MatchStatus, Outbox, utcnow
from kooperation.services.outbox import (
    blocked_error,
    claim_message,
    due_messages,
    mark_failed,
    queue_message,
)
from tests import factories as seed


@pytest.fixture
def matchbot(monkeypatch: pytest.MonkeyPatch, database_url: str, engine) -> typer.Typer:  # noqa: ARG001  (empties the tables)
    monkeypatch.setenv("DATABASE_URL", database_url)
    if not cli.app.registered_commands:
        cli._register()
    return cli.app


def run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_dry_run_prints_the_digest_of_one_member_and_queues_nothing(
    matchbot: typer.Typer,
    session: Session,
) -> None:
    need_side = seed.company(session, "Spedition & Söhne", "logistics", language="en")
    offer_side = seed.company(session, "Software", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="Kühlkette <live>"),
        seed.listing(session, offer_side, "offer", title="Telematik"),
        status=MatchStatus.APPROVED,
    )
    result = run(
        matchbot, "digest", "--dry-run", "--member", str(need_side.id), "--no-opportunities"
    )
    assert result.exit_code == 0, result.output
    assert "Your weekly Kooperationsbörse digest" in result.output
    assert "“Kühlkette <live>” ↔ “Telematik”" in result.output
    assert "1 digests would go out" in result.output
    assert session.exec(select(Outbox)).first() is None


@pytest.mark.usefixtures("session")
def test_send_now_queues_this_weeks_digests_once(matchbot: typer.Typer, session: Session) -> None:
    need_side = seed.company(session, "Spedition", "logistics")
    offer_side = seed.company(session, "Software", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status=MatchStatus.APPROVED,
    )
    first = run(matchbot, "digest", "--send-now", "--no-opportunities")
    second = run(matchbot, "digest", "--send-now", "--no-opportunities")
    assert "2 digests queued" in first.output
    assert "0 digests queued" in second.output and "2 already queued" in second.output


def test_digest_needs_exactly_one_mode(matchbot: typer.Typer) -> None:
    result = CliRunner().invoke(matchbot, ["digest"])
    assert result.exit_code == 2
    assert "--dry-run or --send-now" in result.output


def test_outbox_lists_pending_and_failed_messages_with_their_error(
    matchbot: typer.Typer,
    session: Session,
) -> None:
    member = seed.company(session, "Firma", "it")
    for key in ("a", "b"):
        queue_message(session=session, member=member, payload=WeeklyDigest(), dedupe_key=key)
    session.commit()
    due = due_messages(session=session, now=utcnow())[0]
    claim_message(session=session, due=due)
    mark_failed(
        session=session, message_id=due.id, error="BadRequest: chat not found", retry_at=None
    )

    result = run(matchbot, "outbox")
    assert result.exit_code == 1  # failures exist: a monitoring script notices
    assert "1 pending, 1 failed, 0 sent" in result.output
    assert "chat not found" in result.output

    retried = run(matchbot, "outbox", "--retry-failed")
    assert retried.exit_code == 0
    assert "1 failed messages queued again" in retried.output
    assert "2 pending, 0 failed" in retried.output


def test_outbox_does_not_alarm_when_a_member_only_blocked_the_bot(
    matchbot: typer.Typer,
    session: Session,
) -> None:
    member = seed.company(session, "Firma", "it")
    queue_message(session=session, member=member, payload=WeeklyDigest(), dedupe_key="a")
    session.commit()
    due = due_messages(session=session, now=utcnow())[0]
    claim_message(session=session, due=due)
    mark_failed(
        session=session,
        message_id=due.id,
        error=blocked_error("Forbidden: bot was blocked by the user"),
        retry_at=None,
    )
    result = run(matchbot, "outbox")
    assert result.exit_code == 0, result.output
    assert "1 failed (1 of them: the member blocked the bot)" in result.output


@pytest.mark.usefixtures("session")
def test_dry_run_after_the_weeks_digests_went_out_counts_them_as_already_queued(
    matchbot: typer.Typer, session: Session
) -> None:
    need_side = seed.company(session, "Spedition", "logistics")
    offer_side = seed.company(session, "Software", "it")
    seed.proposal(
        session,
        seed.listing(session, need_side, "need", title="A"),
        seed.listing(session, offer_side, "offer", title="B"),
        status=MatchStatus.APPROVED,
    )
    sent = run(matchbot, "digest", "--send-now", "--no-opportunities")
    assert "2 digests queued" in sent.output and "The running bot sends them" in sent.output
    seed.listing(
        session, seed.company(session, "Neu", "it"), "offer", title="C"
    )  # something new since
    dry = run(matchbot, "digest", "--dry-run", "--no-opportunities")
    assert "0 digests would go out" in dry.output, dry.output
    assert "1 members with nothing to say, 2 already queued this week" in dry.output  # "Neu"
    again = run(matchbot, "digest", "--send-now", "--no-opportunities")
    assert "0 digests queued" in again.output
    assert "The running bot sends them" not in again.output
    assert "Nothing new was queued" in again.output
