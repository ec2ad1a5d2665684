"""Managers over the Bot API emulator: /review cards, decisions, refusals that are logged."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.models import AuditLog, Match, MatchStatus, Member, Outbox
from tests import factories as seed
from tests.e2e.conftest import new_user_id


def proposal(db: Session, need_cluster: str = "automotive", offer_cluster: str = "logistics"):
    base = new_user_id()
    new_user_id()  # two_sided uses base and base + 1
    return seed.two_sided(db, base, need_cluster, offer_cluster)


def status(engine: Engine, match_id: int) -> str:
    with Session(engine) as fresh:
        return fresh.get(Match, match_id).status


def refusals(engine: Engine, telegram_user_id: int) -> list[AuditLog]:
    with Session(engine) as fresh:
        return list(
            fresh.exec(
                select(AuditLog).where(
                    AuditLog.actor_telegram_id == telegram_user_id, AuditLog.allowed.is_(False)
                )
            ).all()
        )


@pytest.mark.usefixtures("bot")
def test_review_card_shows_both_sides_score_reason_marks_and_counter(emulator, db) -> None:
    _, _, match = proposal(db)
    proposal(db)
    manager = seed.manager(db, new_user_id(), "logistics", name="Maria", language="en")
    user = emulator.user(manager.telegram_user_id, language_code="en")
    user.send("/review")
    card = user.wait_reply(timeout=10, contains="Proposal #")
    assert f"Proposal #{match.id}</b> · 2 pending for you" in card.text
    assert "Karosseriewerk" in card.text and "Kühllogistik" in card.text
    assert "Automotive Cluster Ostdeutschland, medium-sized company" in card.text
    assert "Score 0.71" in card.text and "semantic 0.62" in card.text
    assert "Both mention cold chain." in card.text and "cross-cluster" in card.text
    assert card.button_texts == ["✅ Approve", "❌ Reject", "⏭ Skip", "▶️ Next"]
    user.press(card, text="▶️ Next")
    following = user.wait_reply(timeout=10, edited=True)
    assert "Proposal #" in following.text and f"Proposal #{match.id}<" not in following.text


@pytest.mark.usefixtures("bot")
def test_member_pressing_a_forged_approve_button_is_refused_and_logged(
    emulator, db, engine
) -> None:
    need_contact, _, match = proposal(db)
    user = emulator.user(need_contact.telegram_user_id, language_code="de")
    user.press_data(f"rv:a:{match.id}")
    reply = user.wait_reply(timeout=10, contains="Rechte")
    assert "protokolliert" in reply.text
    assert status(engine, match.id) == MatchStatus.PROPOSED
    (logged,) = refusals(engine, need_contact.telegram_user_id)
    assert (logged.action, logged.target) == ("match.approve", f"match:{match.id}")
    with Session(engine) as fresh:
        assert fresh.exec(select(Outbox).where(Outbox.kind == "intro_offer")).first() is None


@pytest.mark.usefixtures("bot")
def test_it_manager_cannot_approve_an_automotive_logistics_proposal(emulator, db, engine) -> None:
    _, _, match = proposal(db, "automotive", "logistics")
    it_manager = seed.manager(db, new_user_id(), "it", name="Ingo")
    user = emulator.user(it_manager.telegram_user_id)
    user.send("/review")
    assert "Keine offenen Vorschläge" in user.wait_reply(timeout=10).text
    user.press_data(f"rv:a:{match.id}")
    assert "Rechte" in user.wait_reply(timeout=10).text
    assert status(engine, match.id) == MatchStatus.PROPOSED
    logged = refusals(engine, it_manager.telegram_user_id)
    assert [entry.detail["refused"] for entry in logged] == [
        "proposal outside the manager's clusters"
    ]


@pytest.mark.usefixtures("bot")
def test_second_manager_is_told_who_decided_first(emulator, db, engine) -> None:
    _, _, match = proposal(db)
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    jonas = seed.manager(db, new_user_id(), "automotive", name="Jonas")
    first, second = emulator.user(maria.telegram_user_id), emulator.user(jonas.telegram_user_id)
    first.send("/review")
    second.send("/review")
    card_first = first.wait_reply(timeout=10, contains="Vorschlag #")
    card_second = second.wait_reply(timeout=10, contains="Vorschlag #")
    first.press(card_first, data=f"rv:a:{match.id}")
    # Chats are processed concurrently: Jonas presses once Maria's decision is answered, so
    # "who decided first" is Maria (two presses at the same moment: tests/e2e/test_acceptance).
    assert "freigegeben" in first.wait_reply(timeout=10, edited=True).text
    second.press(card_second, data=f"rv:a:{match.id}")
    lost = second.wait_reply(timeout=10, edited=True).text
    assert "schon entschieden: freigegeben von Maria" in lost
    with Session(engine) as fresh:
        decided = fresh.get(Match, match.id)
        assert (decided.status, decided.decided_by_id) == (MatchStatus.APPROVED, maria.id)
        offers = fresh.exec(select(Outbox).where(Outbox.kind == "intro_offer")).all()
        assert len(offers) == 2


@pytest.mark.usefixtures("bot")
def test_reject_asks_for_a_reason_and_skip_moves_on(emulator, db, engine) -> None:
    _, _, best = proposal(db)
    _, _, second = proposal(db)
    second.score = 0.5
    db.add(second)
    db.commit()
    admin = seed.admin(db, new_user_id(), name="Ada")
    user = emulator.user(admin.telegram_user_id)
    user.send("/review")
    card = user.wait_reply(timeout=10, contains=f"Vorschlag #{best.id}")
    user.press(card, data=f"rv:s:{best.id}")
    card = user.wait_reply(timeout=10, edited=True)
    assert f"Vorschlag #{second.id}" in card.text
    user.press(card, data=f"rv:r:{second.id}")
    ask = user.wait_reply(timeout=10, edited=True)
    assert "Begründung" in ask.text
    user.send("Passt <nicht> zum Programm")
    done = user.wait_reply(timeout=10)
    assert "abgelehnt. Begründung: Passt &lt;nicht&gt; zum Programm" in done.text
    with Session(engine) as fresh:
        rejected = fresh.get(Match, second.id)
        assert (rejected.status, rejected.rejection_reason) == (
            MatchStatus.REJECTED,
            "Passt <nicht> zum Programm",
        )
        assert fresh.get(Match, best.id).status == MatchStatus.PROPOSED
    user.press(done, data="rv:n")
    assert "nur noch übersprungene" in user.wait_reply(timeout=10, edited=True).text.lower()


@pytest.mark.usefixtures("bot")
def test_plain_member_gets_no_statistics_and_the_attempt_is_logged(emulator, db, engine) -> None:
    need_contact, _, _ = proposal(db)
    user = emulator.user(need_contact.telegram_user_id)
    user.send("/stats")
    assert "protokolliert" in user.wait_reply(timeout=10).text
    assert [e.action for e in refusals(engine, need_contact.telegram_user_id)] == ["stats.view"]
    manager = seed.manager(db, new_user_id(), "logistics")
    staff = emulator.user(manager.telegram_user_id)
    staff.send("/stats")
    figures = staff.wait_reply(timeout=10).text
    assert "Statistik – Ihre Cluster" in figures and "Netzwerk Logistik" in figures
    assert "Automotive" not in figures
    with Session(engine) as fresh:
        assert fresh.exec(select(Member).where(Member.id == manager.id)).one().role == "manager"


def test_reject_reason_survives_a_crash_of_the_bot(emulator, bot, db, engine) -> None:
    _, _, match = proposal(db)
    admin = seed.admin(db, new_user_id(), name="Ada")
    user = emulator.user(admin.telegram_user_id)
    user.send("/review")
    card = user.wait_reply(timeout=10, contains=f"Vorschlag #{match.id}")
    user.press(card, data=f"rv:r:{match.id}")
    assert "Begründung" in user.wait_reply(timeout=10, edited=True).text
    bot.kill()
    bot.start()
    user.send("Kein KMU-Bezug")
    done = user.wait_reply(timeout=30)
    assert "Begründung: Kein KMU-Bezug" in done.text
    with Session(engine) as fresh:
        rejected = fresh.get(Match, match.id)
        assert (rejected.status, rejected.rejection_reason) == (
            MatchStatus.REJECTED,
            "Kein KMU-Bezug",
        )
