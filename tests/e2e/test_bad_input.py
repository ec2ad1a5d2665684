"""Forged and repeated button presses: refused like any unknown id, no traceback, nothing sent
into a group; a second tap that Telegram answers with "message is not modified" is harmless."""

from __future__ import annotations

import time

from sqlmodel import Session, select

from kooperation.db import engine_for
from kooperation.models import Listing, Match, MatchStatus, Member, utcnow
from tests import factories as seed
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import NO_MATCHING, Contact, onboard_new_company, post_listing, running_bot

bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)

HUGE = "9" * 40  # beyond every database integer (SQLite's 64 bits and PostgreSQL's INTEGER)
BEYOND_INT32 = str(2**31)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def _session(bot) -> Session:  # type: ignore[no-untyped-def]
    return Session(engine_for(bot.env["DATABASE_URL"]), expire_on_commit=False)


def _no_failure_logged(bot) -> None:  # type: ignore[no-untyped-def]
    log = bot.log()
    assert "handler failed" not in log and "Traceback" not in log, log


def _listing_of(bot, contact: Contact) -> Listing:  # type: ignore[no-untyped-def]
    with _session(bot) as session:
        member = session.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()
        return session.exec(select(Listing).where(Listing.member_id == member.id)).one()


def test_button_ids_beyond_the_database_range_are_refused_like_unknown_ids(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(erika, company="Riesen Id GmbH")
    forged = [
        f"ml:c:{HUGE}",
        f"ml:p:{BEYOND_INT32}",
        f"ml:e:{HUGE}",
        f"rv:a:{HUGE}",
        f"rv:r:{HUGE}",
        f"rv:x:{HUGE}",
        f"rv:n:{HUGE}",
        f"in:a:{HUGE}",
        f"in:d:{BEYOND_INT32}",
        f"fu:{HUGE}:c",
        f"fu:{BEYOND_INT32}:t",
        f"ex:{HUGE}",
        f"mg:i:{HUGE}",
        "ml:c:²",
        "rv:a:\x00",
        "",
    ]
    for data in forged:
        since = emulator.last_seq()
        erika.user.press_data(data)
        answered = emulator.wait_call("answerCallbackQuery", since=since)["params"]
        said = [] if answered.get("text") else [erika.reply().text]
        time.sleep(0.2)
        said += [m.text for m in erika.user.replies()]
        assert answered.get("text") or said, data  # refused in words, never silence
        assert not any("schiefgegangen" in text for text in said), (data, said)
    _no_failure_logged(bot)


def test_buttons_attached_to_a_group_message_send_nothing_into_the_group(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    onboard_new_company(erika, company="Gruppen Knopf GmbH")
    in_group = emulator.user(erika.user.user_id, chat_id=-100_777, language_code="de")
    for data in ("mn:need", "mn:mine", "pv:del:yes", "rv:n", f"ml:c:{HUGE}", "dg:p"):
        since = emulator.last_seq()
        in_group.press_data(data)
        call = emulator.wait_call("answerCallbackQuery", since=since)
        assert "privaten Chat" in call["params"]["text"], data
    in_group.expect_silence(1.0)
    erika.user.expect_silence(0.2)
    assert emulator.calls("sendMessage", since=since) == []
    with _session(bot) as session:  # pv:del:yes from the group deleted nothing
        member = session.exec(
            select(Member).where(Member.telegram_user_id == erika.user.user_id)
        ).one()
        assert member.display_name
    _no_failure_logged(bot)


def test_a_second_tap_answered_not_modified_is_no_error(emulator, bot):
    anna = Contact.new(emulator, new_user_id(), language="de", first_name="Anna")
    menu = onboard_new_company(anna, company="Doppeltipp Bedarf GmbH")
    published = post_listing(
        anna, menu, "need", "Wir suchen einen Partner für die Wartung von Industrierobotern."
    )
    thomas = Contact.new(emulator, new_user_id(), language="en", first_name="Thomas")
    menu = onboard_new_company(thomas, company="Double Tap Offer Ltd", cluster="automotive")
    post_listing(thomas, menu, "offer", "We offer maintenance of industrial robots in Saxony.")
    need, offer = _listing_of(bot, anna), _listing_of(bot, thomas)
    with _session(bot) as session:
        match = seed.proposal(
            session, need, offer, 0.8, status=MatchStatus.INTRODUCED, introduced_at=utcnow()
        )
        match_id = match.id
    anna.reply(timeout=30)  # "matching failed, the nightly round …"
    for data in (f"fu:{match_id}:c", f"ex:{need.id}", "dg:r"):
        anna.user.press_data(data, message=published)
        first = anna.reply(edited=True)
        emulator.inject_fault(
            "editMessageText", error_code=400, retry_after=None, description=NOT_MODIFIED
        )
        since = emulator.last_seq()
        anna.user.press_data(data, message=first)  # the same tap again
        emulator.wait_call("answerCallbackQuery", since=since)
        time.sleep(0.3)
        anna.user.expect_silence(0.7)
    _no_failure_logged(bot)


def test_managers_add_with_an_absurd_id_gets_a_clear_answer(emulator, bot):

    with _session(bot) as session:
        admin = seed.admin(session, new_user_id(), name="Ada")
    user = emulator.user(admin.telegram_user_id, language_code="de")
    for raw in ("9" * 30, "0", "-5", "１２３"):
        user.send(f"/managers add {raw} it")
        answer = user.wait_reply(timeout=10)
        assert "keine Telegram-ID" in answer.text, (raw, answer.text)
    _no_failure_logged(bot)


def test_a_reject_reason_with_a_nul_character_is_refused_with_a_clear_answer(emulator, bot):

    with _session(bot) as session:
        base = new_user_id()
        new_user_id()  # two_sided uses base and base + 1
        _, _, match = seed.two_sided(session, base)
        manager = seed.manager(session, new_user_id(), "logistics", name="Maria")
    user = emulator.user(manager.telegram_user_id, language_code="de")
    user.press_data(f"rv:r:{match.id}")
    user.wait_reply(timeout=10, contains="Begründung")
    user.send("Passt nicht\x00 zu uns")
    assert "Steuerzeichen" in user.wait_reply(timeout=10).text
    user.send("Passt nicht zu uns")
    assert "Passt nicht zu uns" in user.wait_reply(timeout=10).text
    with _session(bot) as session:
        decided = session.get(Match, match.id)
        assert (decided.status, decided.rejection_reason) == ("rejected", "Passt nicht zu uns")
    _no_failure_logged(bot)


def test_a_listing_text_with_a_nul_character_is_refused_and_nothing_is_saved(emulator, bot):
    erika = Contact.new(emulator, new_user_id(), language="de")
    menu = onboard_new_company(erika, company="Nullbyte GmbH")
    erika.tap(menu, data="mn:need")
    erika.reply()
    erika.send("Wir suchen einen Partner\x00 für die Wartung von Transportsystemen.")
    assert "Steuerzeichen" in erika.reply().text
    erika.send("Wir suchen einen Partner für die Wartung von Transportsystemen.")
    assert "Vorschau" in erika.with_button("ls:ok").text
    _no_failure_logged(bot)
