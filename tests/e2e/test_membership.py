"""Verified company membership over the emulator: nobody becomes a company's contact by typing
its name. Join requests decided by a contact or the manager, claims of imported companies,
single-use company invites, forged buttons from a pending requester, German and English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.models import (
    AuditLog,
    JoinRequest,
    Kind,
    Listing,
    Match,
    MatchStatus,
    Member,
    Organization,
    utcnow,
)
from tests import factories as seed
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import NO_MATCHING, Contact, running_bot

bot = running_bot(EMBEDDING_MODEL=NO_MATCHING)

NEED = "Wir suchen einen Partner für Prüfstände für Batteriezellen in Sachsen."
WAIT = 15.0  # outbox messages: the sender polls about every second


def _member(engine: Engine, contact: Contact) -> Member:
    with Session(engine) as fresh:
        return fresh.exec(
            select(Member).where(Member.telegram_user_id == contact.user.user_id)
        ).one()


def _with_data(contact: Contact, prefix: str, timeout: float = WAIT) -> Any:
    """The next message with a button whose callback data starts with `prefix`."""
    return contact.reply(
        timeout=timeout,
        predicate=lambda m: any(
            str(b.get("callback_data", "")).startswith(prefix) for b in m.buttons
        ),
    )


def _data(message: Any, prefix: str) -> str:
    return next(
        b["callback_data"]
        for b in message.buttons
        if str(b.get("callback_data", "")).startswith(prefix)
    )


def _ask_to_join(stranger: Contact, company: str) -> None:
    """/start, consent, the company's name, the hit: four steps to a request."""
    stranger.send("/start")
    stranger.tap(stranger.with_button("ob:ok"), data="ob:ok")
    stranger.send(company)
    hits = stranger.with_button("ob:cl:it")  # the hits, and "new in <cluster>" below them
    stranger.tap(hits, text=company)


@pytest.mark.usefixtures("bot")
def test_german_stranger_typing_a_company_name_gets_a_request_and_a_contact_approves(
    emulator, db, engine
) -> None:
    org = seed.organization(db, "Batteriewerk Ost GmbH", "automotive", invite_code="bwo1")
    anna_row = seed.contact(db, new_user_id(), org, name="Anna Berg", username="anna")
    anna = Contact(emulator.user(anna_row.telegram_user_id))
    stranger = Contact.new(emulator, new_user_id(), first_name="Erika", username="erika_s")

    _ask_to_join(stranger, "Batteriewerk Ost GmbH")  # 1–4
    sent = stranger.reply(contains="angefragt")
    assert "noch nicht Kontakt" in sent.text and "bwo1" not in sent.text
    stranger.tap(stranger.with_button("ob:tgname"), data="ob:tgname")  # 5
    waiting = stranger.with_button("mn:need")
    assert "Sobald Ihre Anfrage bestätigt ist" in waiting.text
    assert "?start=" not in waiting.text
    member = _member(engine, stranger)
    assert member.organization_id is None

    request = _with_data(anna, "jr:a:")
    assert "Erika" in request.text and "@erika_s" in request.text
    assert "Batteriewerk Ost GmbH" in request.text
    anna.tap(request, data=_data(request, "jr:a:"))
    assert "Bestätigt" in anna.reply(edited=True).text

    approved = stranger.with_button("mn:need", timeout=WAIT)
    assert "Sie sind jetzt Kontakt für <b>Batteriewerk Ost GmbH</b>" in approved.text
    stranger.tap(approved, data="mn:need")  # 6
    stranger.reply()  # what do you need?
    stranger.send(NEED)  # 7
    stranger.tap(stranger.with_button("ls:ok"), data="ls:ok")  # 8
    assert "veröffentlicht" in stranger.reply(edited=True).text
    assert stranger.actions <= 7 + 2, stranger.log  # search-and-join was 7 steps before
    member = _member(engine, stranger)
    assert member.organization_id == org.id
    with Session(engine) as fresh:
        [listing] = fresh.exec(select(Listing).where(Listing.member_id == member.id)).all()
    assert listing.organization_id == org.id and listing.text == NEED


@pytest.mark.usefixtures("bot")
def test_english_decline_by_the_manager_is_neutral_and_shows_nothing_of_the_company(
    emulator, db, engine
) -> None:
    org = seed.organization(
        db,
        "Kühlkette Nord GmbH",
        "logistics",
        invite_code="kkn1",
        contact_name="Jana Import",
        contact_email="jana@kkn.test",
    )
    anna_row = seed.contact(db, new_user_id(), org, name="Anna Nord")
    seed.listing(db, org, Kind.NEED, "Wir suchen Kühlcontainer für Batteriezellen.", anna_row)
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    manager = Contact(emulator.user(maria.telegram_user_id))
    anna = Contact(emulator.user(anna_row.telegram_user_id))
    stranger = Contact.new(emulator, new_user_id(), language="en", first_name="John")

    _ask_to_join(stranger, "Kühlkette Nord GmbH")
    assert "Until then you are not a contact" in stranger.reply(contains="I have asked").text
    stranger.send("John Stranger")
    stranger.with_button("mn:need")

    request = _with_data(manager, "jr:d:")
    assert "Join request" in request.text or "Beitrittsanfrage" in request.text
    manager.tap(request, data=_data(request, "jr:d:"))
    manager.reply(edited=True)
    told = stranger.reply(timeout=WAIT, contains="not confirmed")
    for secret in ("Maria", "Anna", "declined", "Jana", "kkn.test"):
        assert secret not in told.text

    late = _with_data(anna, "jr:a:")  # Anna's copy of the request: somebody decided first
    anna.tap(late, data=_data(late, "jr:a:"))
    assert "schon entschieden: abgelehnt" in anna.reply(edited=True).text
    assert _member(engine, stranger).organization_id is None

    stranger.send("/settings")
    settings_view = stranger.with_button("st:name")
    assert "Kühlkette" not in settings_view.text and "?start=" not in settings_view.text
    assert "st:leave" not in str(settings_view.buttons)
    stranger.send("/mylistings")
    stranger.reply(contains="not registered for any company")
    stranger.send("/matches")
    stranger.reply(contains="not registered for any company")


@pytest.mark.usefixtures("bot")
def test_imported_company_is_claimed_and_the_manager_sees_the_imported_contact(
    emulator, db, engine
) -> None:
    org = seed.organization(
        db,
        "Importwerk Zwickau AG",
        "automotive",
        contact_name="Jana Import",
        contact_email="jana@import.test",
    )
    maria = seed.manager(db, new_user_id(), "automotive", name="Maria")
    manager = Contact(emulator.user(maria.telegram_user_id))
    claimant = Contact.new(emulator, new_user_id(), first_name="Jana", username="jana_i")

    _ask_to_join(claimant, "Importwerk Zwickau AG")
    sent = claimant.reply(contains="noch keinen Kontakt")
    assert "jana@import.test" not in sent.text
    claimant.tap(claimant.with_button("ob:tgname"), data="ob:tgname")
    claimant.with_button("mn:need")

    claim = _with_data(manager, "jr:a:")
    assert "Übernahme" in claim.text
    for shown in ("Jana Import", "jana@import.test", "@jana_i", "Importwerk Zwickau AG"):
        assert shown in claim.text
    assert f"co:inv:{org.id}" in str(claim.buttons)
    manager.tap(claim, data=_data(claim, "jr:a:"))
    assert "Bestätigt" in manager.reply(edited=True).text
    claimant.reply(timeout=WAIT, contains="Sie sind jetzt Kontakt")
    assert _member(engine, claimant).organization_id == org.id


@pytest.mark.usefixtures("bot")
def test_company_invite_link_works_once_and_then_is_refused(emulator, db, engine) -> None:
    org = seed.organization(
        db, "Einladung Logistik KG", "logistics", contact_email="kontakt@einladung.test"
    )
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    manager = emulator.user(maria.telegram_user_id)
    manager.press_data(f"co:inv:{org.id}")
    created = manager.wait_reply(timeout=10, contains="Einladungslink")
    assert "kontakt@einladung.test" in created.text
    payload = re.search(r"start=(co-[\w-]+)", created.text).group(1)

    invited = Contact.new(emulator, new_user_id(), first_name="Kai")
    invited.send(f"/start {payload}")  # 1
    invited.tap(invited.with_button("ob:ok"), data="ob:ok")  # 2
    invited.reply()  # consent saved
    assert "Einladung Logistik KG" in invited.reply().text
    invited.tap(invited.with_button("ob:tgname"), data="ob:tgname")  # 3
    invitation = invited.with_button("ob:later")
    invited.send("Wir bieten Lagerfläche für Batteriemodule in Magdeburg an.")  # 4
    invited.tap(invited.with_button("ls:ok"), data="ls:ok")  # 5
    assert "veröffentlicht" in invited.reply(edited=True).text
    assert invitation is not None and invited.actions == 5, invited.log
    assert _member(engine, invited).organization_id == org.id

    second = Contact.new(emulator, new_user_id(), first_name="Mallory")
    second.send(f"/start {payload}")
    second.tap(second.with_button("ob:ok"), data="ob:ok")
    second.reply()
    assert "schon benutzt" in second.reply().text
    assert "Für welche Firma" in second.reply().text
    assert _member(engine, second).organization_id is None


@pytest.mark.usefixtures("bot")
def test_an_old_colleague_link_starting_like_a_company_invite_still_joins(
    emulator, db, engine
) -> None:
    """Colleague codes were once drawn with any start, `co-` too: such a link, handed on
    before that stopped, joins its company at once like every colleague link."""
    code = f"co-alt{new_user_id()}"
    org = seed.organization(db, "Altcode Sensorik GmbH", "it", invite_code=code)
    colleague = Contact.new(emulator, new_user_id(), first_name="Kai")
    colleague.send(f"/start {code}")
    colleague.tap(colleague.with_button("ob:ok"), data="ob:ok")
    colleague.reply()  # consent saved
    assert "Sie sind jetzt Kontakt für <b>Altcode Sensorik GmbH</b>" in colleague.reply().text
    assert _member(engine, colleague).organization_id == org.id


def _snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables a company action could change."""
    tables = ("member", "organization", "listing", "match", "join_request")
    snapshot = {}
    with engine.connect() as connection:
        for name in tables:
            columns = [c["name"] for c in inspect(engine).get_columns(name)]
            rows = connection.exec_driver_sql(
                f'SELECT {", ".join(columns)} FROM "{name}" ORDER BY 1'
            ).all()
            snapshot[name] = [tuple(row) for row in rows]
    return snapshot


@pytest.mark.usefixtures("bot")
def test_forged_buttons_from_a_pending_requester_change_nothing(emulator, db, engine) -> None:
    org = seed.organization(db, "Zielfirma Sensorik GmbH", "it", invite_code="zs1")
    anna = seed.contact(db, new_user_id(), org, name="Anna")
    partner_org = seed.organization(db, "Partner Logistik AG", "logistics")
    ben = seed.contact(db, new_user_id(), partner_org, name="Ben")
    need = seed.listing(db, org, Kind.NEED, "Wir suchen Sensorik-Tests.", anna)
    offer = seed.listing(db, partner_org, Kind.OFFER, "Wir bieten Sensorik-Tests.", ben)
    other_need = seed.listing(db, org, Kind.NEED, "Wir suchen Kalibrierung.", anna)
    approved = seed.proposal(db, need, offer)
    approved.status = MatchStatus.APPROVED
    introduced = seed.proposal(db, other_need, offer)
    introduced.status, introduced.introduced_at = MatchStatus.INTRODUCED, utcnow()
    db.add_all([approved, introduced])
    db.commit()

    mallory = Contact.new(emulator, new_user_id(), language="en", first_name="Mallory")
    _ask_to_join(mallory, "Zielfirma Sensorik GmbH")
    mallory.reply(contains="I have asked")
    mallory.send("Mallory")
    mallory.with_button("mn:need")
    with Session(engine) as fresh:
        request = fresh.exec(select(JoinRequest).where(JoinRequest.organization_id == org.id)).one()
    before = _snapshot(engine)

    forged = [
        f"in:a:{approved.id}",
        f"in:d:{approved.id}",
        f"fu:{introduced.id}:c",
        f"ex:{need.id}",
        f"ml:p:{need.id}",
        f"ml:c:{need.id}",
        f"ml:e:{need.id}",
        f"jr:a:{request.id}",  # approving one's own request
    ]
    for data in forged:
        mallory.user.press_data(data)
        answer = mallory.reply(timeout=10)
        assert "Traceback" not in answer.text
        for secret in ("Ben", "Partner Logistik", "Sensorik-Tests"):
            assert secret not in answer.text, (data, answer.text)
    mallory.send("/matches")
    assert "Partner Logistik" not in mallory.reply().text
    assert _snapshot(engine) == before
    with Session(engine) as fresh:
        refusals = fresh.exec(
            select(AuditLog).where(
                AuditLog.actor_telegram_id == mallory.user.user_id,
                AuditLog.allowed.is_(False),  # type: ignore[union-attr]
            )
        ).all()
        assert len(refusals) >= 4
        assert fresh.get(Match, approved.id).need_answer is None
        assert fresh.get(Organization, org.id) is not None


@pytest.mark.usefixtures("bot")
def test_bad_start_payload_and_a_question_answered_after_delete_me(emulator) -> None:
    contact = Contact.new(emulator, new_user_id(), first_name="Nul")
    contact.send("/start abc\x00def")
    contact.tap(contact.with_button("ob:ok"), data="ob:ok")
    contact.reply()  # consent saved
    assert "passt zu keiner Firma" in contact.reply().text
    contact.reply(contains="Für welche Firma")
    contact.send("/delete_me")
    contact.tap(contact.with_button("pv:del:yes"), data="pv:del:yes")
    contact.reply(edited=True)
    contact.send("Nachgereicht GmbH, 04109 Leipzig")  # the old question, answered too late
    assert "/start" in contact.reply().text
    contact.send("/start")
    assert contact.with_button("ob:ok")


@pytest.mark.usefixtures("bot")
def test_manager_merges_a_duplicate_typed_slightly_differently(emulator, db, engine) -> None:
    existing = seed.organization(db, "Zellwerk Sachsen GmbH", "automotive", invite_code="zws1")
    maria = seed.manager(db, new_user_id(), "automotive", name="Maria")
    manager = Contact(emulator.user(maria.telegram_user_id))
    erika = Contact.new(emulator, new_user_id(), first_name="Erika")
    erika.send("/start")
    erika.tap(erika.with_button("ob:ok"), data="ob:ok")
    erika.send("Zellwerk Sachsen, 04109 Leipzig")  # registers a new one instead of asking
    erika.tap(erika.with_button("ob:cl:automotive"), data="ob:cl:automotive")
    erika.tap(erika.with_button("ob:sz:small"), data="ob:sz:small")
    erika.reply(contains="ist angelegt")
    duplicate_id = _member(engine, erika).organization_id
    assert duplicate_id not in (None, existing.id)

    manager.send("/companies")
    listed = _with_data(manager, f"co:m:{duplicate_id}", timeout=10)
    assert "Zellwerk Sachsen" in listed.text and "Neu angelegte Firmen" in listed.text
    manager.tap(listed, data=f"co:m:{duplicate_id}")
    pick = manager.reply(edited=True)
    manager.tap(pick, data=f"co:mt:{duplicate_id}:{existing.id}")
    assert "zusammengeführt" in manager.reply(edited=True).text
    assert _member(engine, erika).organization_id == existing.id
    with Session(engine) as fresh:
        assert fresh.get(Organization, duplicate_id) is None


@pytest.mark.usefixtures("bot")
def test_a_manager_without_company_gets_the_staff_menu_and_how_to_join(emulator, db) -> None:
    maria = seed.manager(db, new_user_id(), "it")
    manager = Contact(emulator.user(maria.telegram_user_id, first_name="Maria"))
    manager.send("/start")
    manager.tap(manager.with_button("ob:ok"), data="ob:ok")
    ask = manager.with_button("ob:tgname")
    assert "im Protokoll" in ask.text  # the name prompt fits staff
    manager.tap(ask, data="ob:tgname")
    menu = manager.with_button("mn:settings")
    assert "/review" in menu.text and "Einladungslink der Firma" in menu.text
    assert "mn:need" not in str(menu.buttons)
    manager.send("/need")
    manager.reply(contains="Einladungslink der Firma")


@pytest.mark.usefixtures("bot")
def test_the_last_contact_leaves_in_settings_listings_pause_and_the_manager_hears(
    emulator, db, engine
) -> None:
    org = seed.organization(db, "Abschied Technik GmbH", "it", invite_code="abs1")
    kim_row = seed.contact(db, new_user_id(), org, name="Kim", language="en")
    need = seed.listing(db, org, Kind.NEED, "We look for test benches for sensors.", kim_row)
    maria = seed.manager(db, new_user_id(), "it", name="Maria")
    manager = Contact(emulator.user(maria.telegram_user_id))
    kim = Contact(emulator.user(kim_row.telegram_user_id))

    kim.send("/settings")
    view = kim.with_button("st:leave")
    assert "Abschied Technik GmbH" in view.text and "?start=abs1" in view.text
    kim.tap(view, data="st:leave")
    confirm = kim.reply(edited=True)
    assert "Really leave" in confirm.text
    kim.tap(confirm, data="st:leave:yes")
    left = kim.reply(edited=True)
    assert "no longer a contact" in left.text and "1 listings" in left.text
    notice = manager.reply(timeout=WAIT, contains="Abschied Technik GmbH")
    assert "pausiert" in notice.text and f"co:inv:{org.id}" in str(notice.buttons)
    with Session(engine) as fresh:
        assert fresh.get(Listing, need.id).status == "paused"
        assert fresh.get(Member, kim_row.id).organization_id is None
    kim.user.press_data(f"ml:c:{need.id}")  # a former contact's old button: not theirs
    kim.reply(timeout=10)
    with Session(engine) as fresh:
        assert fresh.get(Listing, need.id).status == "paused"
