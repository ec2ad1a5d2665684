"""The loop in real operation (issue 13): a posting reaches the manager, a crash between an
answer and its consequences is repaired at the next start, and `matchbot match` in a second
process runs while the bot matches a posted listing. The real model, so real matching."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kooperation.config import Settings
from kooperation.models import Embedding, Kind, Listing, Match, MatchRound, MatchStatus, utcnow
from kooperation.services import review
from tests import factories as seed
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import Contact, register_new_company, running_bot

bot = running_bot()

NEED = (
    "Wir suchen einen Logistikpartner für temperaturgeführte Transporte von Batteriezellen "
    "(Kühlkette, ADR-Gefahrgut) zwischen Leipzig und Zwickau."
)
OFFER = (
    "Wir bieten temperaturgeführte Gefahrguttransporte nach ADR für Lithium-Batteriezellen "
    "mit lückenloser Kühlkette ab Leipzig, auch kurzfristig."
)
FOUND = "möglichen Partner gefunden"
FAILED = "nicht geklappt"
TOPICS = (
    "Lohnfertigung von Drehteilen",
    "Schulungen zur Arbeitssicherheit",
    "Übersetzungen technischer Dokumentation",
    "Wartung von Druckluftanlagen",
    "Entsorgung von Spänen und Kühlschmierstoffen",
    "Prüfung elektrischer Betriebsmittel nach DGUV V3",
)


def counterpart(db: Session) -> None:
    """An offer in logistics that fits NEED, posted by its contact."""
    org = seed.organization(db, "KühlTrans Leipzig", "logistics")
    ben = seed.contact(db, new_user_id(), org, "Ben Kurz")
    seed.listing(db, org, Kind.OFFER, OFFER, ben)


def preview_of_first_need(contact: Contact, company: str) -> object:
    """Registers a company over the bot and types NEED; returns the preview to publish."""
    invitation = register_new_company(contact, company=company, cluster="automotive")
    assert any(b.get("callback_data") == "ob:later" for b in invitation.buttons)
    contact.send(NEED)
    return contact.with_button("ls:ok")


@pytest.mark.usefixtures("bot")
def test_a_manager_hears_of_the_proposal_a_contact_makes_by_posting(
    emulator, db: Session, engine: Engine
) -> None:
    counterpart(db)
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    anna = Contact.new(emulator, new_user_id())
    anna.tap(preview_of_first_need(anna, "Zellwerk Sachsen GmbH"), data="ls:ok")
    anna.reply(edited=True)  # published
    assert FOUND in anna.reply(timeout=60).text

    notice = emulator.user(maria.telegram_user_id).wait_reply(timeout=20, contains="zu prüfen")
    assert "<b>1 neuer Vorschlag</b>" in notice.text
    with Session(engine) as fresh:
        (match,) = fresh.exec(select(Match)).all()
        assert fresh.get(MatchRound, match.round_id).mode == "listing"
        assert match.announced_at is not None


def test_a_decline_a_crash_left_half_written_is_finished_at_the_next_start(
    emulator, bot, db: Session, engine: Engine, settings: Settings
) -> None:
    need_contact, offer_contact, match = seed.two_sided(db, new_user_id())
    new_user_id()  # two_sided gives the offer's contact the next id
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    review.approve_match(session=db, settings=settings, member=maria, match_id=match.id)
    need_side = emulator.user(need_contact.telegram_user_id)
    offer_side = emulator.user(offer_contact.telegram_user_id)
    offer_to_need = need_side.wait_reply(timeout=15, contains="Vorstellung")
    offer_to_offer = offer_side.wait_reply(timeout=15, contains="Vorstellung")
    need_side.press(offer_to_need, data=f"in:a:{match.id}")
    need_side.wait_reply(timeout=10, edited=True)

    # The offer side declines; the old code committed the answer, and the process died
    # before its second commit moved the match and queued the messages.
    bot.kill()
    db.execute(
        update(Match)
        .where(
            col(Match.id) == match.id,
            col(Match.status) == MatchStatus.APPROVED,
            col(Match.offer_answer).is_(None),
        )
        .values(offer_answer="declined", offer_answered_at=utcnow())
    )
    db.commit()
    bot.start()

    told = need_side.wait_reply(timeout=30, contains="kommt diesmal nicht zustande").text
    assert "abgelehnt" not in told
    result = emulator.user(maria.telegram_user_id).wait_reply(timeout=15).text
    assert "hat die Vorstellung abgelehnt" in result
    offer_side.press(offer_to_offer, data=f"in:d:{match.id}")
    again = offer_side.wait_reply(timeout=10, edited=True).text
    assert "erfährt nicht" in again and "schon geantwortet" not in again
    with Session(engine) as fresh:
        assert fresh.get(Match, match.id).status == MatchStatus.DECLINED


def test_matchbot_match_in_a_second_process_while_the_bot_matches_a_posted_listing(
    emulator, bot, db: Session, engine: Engine, tmp_path: Path
) -> None:
    counterpart(db)
    for n in range(30):  # a freshly imported pool: both processes embed it at the same time
        org = seed.organization(db, f"Zulieferer {n}", ("it", "automotive", "logistics")[n % 3])
        for m, topic in enumerate(TOPICS):
            kind = Kind.OFFER if (n + m) % 2 else Kind.NEED
            seed.listing(db, org, kind, f"{topic} – Standort {n}, Variante {m}.")
    anna = Contact.new(emulator, new_user_id())
    preview = preview_of_first_need(anna, "Zellwerk Chemnitz GmbH")

    out = tmp_path / "match.out"  # a file: the table of proposals may outgrow a pipe
    cli = subprocess.Popen(
        [sys.executable, "-m", "bot", "match"],
        env={**os.environ, **bot.env},
        stdout=out.open("w"),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert cli.stderr is not None
        first = ""
        while not first.startswith("Embedding 0/"):  # printed when embedding starts
            first = cli.stderr.readline()
            assert first, "matchbot match ended before embedding"
        anna.tap(preview, data="ls:ok")  # the bot now matches (and embeds) too
        anna.reply(edited=True)
        result = anna.reply(timeout=120).text
        _, stderr = cli.communicate(timeout=240)
    finally:
        if cli.poll() is None:
            cli.kill()
    assert cli.returncode == 0, out.read_text() + first + stderr
    assert "Traceback" not in stderr
    assert "texts/s" in first + stderr
    log = bot.process.log_path.read_text(errors="replace")
    assert FAILED not in result and FOUND in result, log[-6000:]
    with Session(engine) as fresh:
        listings = fresh.exec(select(func.count()).select_from(Listing)).one()
        vectors = fresh.exec(
            select(Embedding.model, func.count()).group_by(col(Embedding.model))
        ).all()
    assert vectors and all(count == listings for _, count in vectors), (listings, vectors)
