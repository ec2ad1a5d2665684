"""`matchbot stats | audit | admin add | manager add | export introductions --csv`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import typer
from sqlmodel import Session, select
from typer.testing import CliRunner

from bot import cli
from kooperation.config import Settings
from kooperation.models import ManagerCluster, Member, Role
from kooperation.services import introductions, review, roles
from tests import factories as seed

_registered = False


@pytest.fixture
def matchbot(monkeypatch: pytest.MonkeyPatch, database_url: str, engine) -> typer.Typer:  # noqa: ARG001  (empties the tables)
    global _registered
    monkeypatch.setenv("DATABASE_URL", database_url)
    if not _registered:
        cli._register()
        _registered = True
    return cli.app


def run(app: typer.Typer, *args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.usefixtures("settings")
def test_manager_add_for_an_unknown_telegram_id_creates_a_recognisable_member(
    matchbot: typer.Typer, session: Session
) -> None:
    result = run(matchbot, "manager", "add", "424242", "logistics")
    assert result.exit_code == 0, result.output
    assert "is now a manager of logistics" in result.output
    member = session.exec(select(Member).where(Member.telegram_user_id == 424242)).one()
    assert (member.role, member.chat_id) == (Role.MANAGER, 424242)
    assert session.exec(select(ManagerCluster)).one().member_id == member.id
    again = run(matchbot, "manager", "add", "424242", "logistics")
    assert "already was" in again.output


def test_manager_add_with_an_unknown_cluster_fails_with_one_line(matchbot: typer.Typer) -> None:
    result = run(matchbot, "manager", "add", "1", "food")
    assert result.exit_code == 1
    assert "unknown cluster 'food'" in result.output


def test_admin_add_makes_an_admin(
    matchbot: typer.Typer, session: Session, settings: Settings
) -> None:
    assert run(matchbot, "admin", "add", "77").exit_code == 0
    member = session.exec(select(Member).where(Member.telegram_user_id == 77)).one()
    assert roles.is_admin(settings=settings, member=member)


def test_stats_audit_and_introductions_export_show_a_decision(
    matchbot: typer.Typer, session: Session, settings: Settings, tmp_path: Path
) -> None:
    need_contact, offer_contact, match = seed.two_sided(session, 1000)
    manager = seed.manager(session, 50, "logistics", name="Maria")
    review.approve_match(session=session, settings=settings, member=manager, match_id=match.id)
    for member in (need_contact, offer_contact):
        introductions.answer_introduction(
            session=session, member=member, match_id=match.id, accept=True
        )

    stats = run(matchbot, "stats")
    assert stats.exit_code == 0
    assert "introductions" in stats.output and "100%" in stats.output
    only_it = run(matchbot, "stats", "--cluster", "it")
    assert "automotive" not in only_it.output

    log = run(matchbot, "audit")
    assert "Maria" in log.output and "match.approve" in log.output

    out = tmp_path / "intros.csv"
    result = run(matchbot, "export", "introductions", "--csv", "--output", str(out))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert (rows[0]["status"], rows[0]["decided_by"], rows[0]["cross_cluster"]) == (
        "introduced",
        "Maria",
        "True",
    )


@pytest.mark.parametrize("raw", ["99999999999999999999999", "0"])
def test_manager_and_admin_add_with_an_absurd_id_end_with_one_line(
    matchbot: typer.Typer, session: Session, raw: str
) -> None:
    for args in (["manager", "add", raw, "it"], ["admin", "add", raw]):
        result = run(matchbot, *args)
        assert result.exit_code == 2, result.output
        assert "is not a Telegram user id" in result.output
    assert session.exec(select(Member)).all() == []
