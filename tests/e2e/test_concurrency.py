"""Chats in parallel, each chat in order — the real bot over an emulator that answers every
Bot API call 100 ms late, as Telegram does from a server 100 ms away.

With one update at a time (the old `concurrent_updates(False)`), 20 contacts asking for /help
at once need at least 20 × 100 ms, because each /help sends a message (the help text with the
menu's buttons) and every call waits for the one before. With chats in parallel they all have
their answer within a few round trips. And one chat firing a whole conversation without waiting
gets it answered step by step, in the order it was typed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import BotState, Cluster
from tests import factories as seed
from tests.e2e.conftest import TOKEN, BotRunner, install_emulator, new_user_id
from tests.e2e.flows import NO_MATCHING, Contact
from tests.e2e.tgemu import Emulator

DELAY_MS = 100


@pytest.fixture(scope="module")
def slow_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    install_emulator()
    log = tmp_path_factory.mktemp("slow-emulator") / "emulator.log"
    with Emulator(token=TOKEN, log_path=log, delay_ms=DELAY_MS) as emu:
        yield emu


@pytest.fixture(scope="module")
def bot(
    slow_emulator: Emulator, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BotRunner]:
    runner = BotRunner(slow_emulator, database_url, tmp_path_factory.mktemp("bot"))
    runner.start(EMBEDDING_MODEL=NO_MATCHING)
    yield runner
    runner.kill()


def registered_contacts(database_url: str, count: int) -> list[int]:
    """Contacts who signed up: a consenting verified contact with a name, each of their own
    organization."""
    ids = [new_user_id() for _ in range(count)]
    with Session(engine_for(database_url)) as session:
        cluster = session.exec(select(Cluster)).first()
        assert cluster is not None
        for telegram_id in ids:
            seed.company(
                session,
                f"Parallel {telegram_id} GmbH",
                cluster.slug,
                telegram_user_id=telegram_id,
                contact_name=f"Kontakt {telegram_id}",
            )
    return ids


def most_in_flight(calls: list[dict], delay: float) -> int:
    """The most Bot API calls that were waiting for their answer at the same moment."""
    starts = sorted(call["ts"] for call in calls)
    return max(sum(1 for t in starts if s <= t < s + delay) for s in starts)


def test_twenty_contacts_asking_at_once_are_answered_in_parallel(
    slow_emulator: Emulator, bot: BotRunner, database_url: str
) -> None:
    contacts = [
        Contact.new(slow_emulator, user_id) for user_id in registered_contacts(database_url, 20)
    ]
    answers: dict[int, list[str]] = {}
    since = slow_emulator.last_seq()

    def ask(contact: Contact) -> None:
        contact.send("/help")
        help_with_menu = contact.with_button("mn:need", timeout=30)
        answers[contact.user.user_id] = [help_with_menu.text or ""]

    started = time.monotonic()
    threads = [threading.Thread(target=ask, args=(contact,)) for contact in contacts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started

    assert len(answers) == 20, bot.log()  # each got the help text with the menu's buttons
    assert all("So funktioniert" in text and "Hauptmenü" in text for [text] in answers.values())
    chats = {str(contact.user.chat_id) for contact in contacts}
    sent = [
        c
        for c in slow_emulator.calls("sendMessage", since=since)
        if c["params"]["chat_id"] in chats
    ]
    assert len(sent) == 20  # one message per /help
    # One update at a time means one call at a time: each waits for the answer of the last.
    overlap = most_in_flight(sent, DELAY_MS / 1000)
    assert overlap >= 5, f"at most {overlap} calls at once; all answered after {seconds:.1f} s"


@pytest.mark.usefixtures("bot")
def test_a_conversation_typed_without_waiting_is_answered_in_the_order_it_was_typed(
    slow_emulator: Emulator, database_url: str
) -> None:
    (user_id,) = registered_contacts(database_url, 1)
    erika = Contact.new(slow_emulator, user_id)
    need = "Wir suchen einen Prüfstand für Batteriezellen mit Klimakammer in Sachsen."
    offer = "Wir bieten Lagerfläche mit Gefahrgutzulassung für Lithium-Batterien in Leipzig."
    for text in ("/need", need, "/cancel", "/offer", offer, "/cancel"):
        erika.send(text)  # all six at once, as fast as a person with a flaky connection

    assert "Neuer Bedarf" in erika.reply().text  # type: ignore[operator]
    preview = erika.with_button("ls:ok")
    assert "Vorschau – Bedarf" in (preview.text or "") and need in (preview.text or "")
    assert "Abgebrochen." in (erika.with_button("mn:need").text or "")
    assert "Neues Angebot" in (erika.reply().text or "")
    preview = erika.with_button("ls:ok")
    assert "Vorschau – Angebot" in (preview.text or "") and offer in (preview.text or "")
    assert "Abgebrochen." in (erika.with_button("mn:need").text or "")
    erika.user.expect_silence(0.5)
    with Session(engine_for(database_url)) as session:
        states = session.exec(select(BotState).where(BotState.key == f"{user_id},{user_id}"))
        assert [row.data for row in states] == []  # the conversation ended and is stored so
