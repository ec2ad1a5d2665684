"""The full loop over the emulator: round → manager notified → approval → double opt-in.

Listings are seeded through the models (as the CSV import leaves them); the matching round is
the scheduled job's own function (`bot.jobs.run_matching`), run in the test process against
the database the bot uses; every message then reaches the users through the bot's outbox
sender, as in production.
"""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kooperation.config import Settings
from kooperation.models import Kind, Match, MatchStatus, Outbox, Size
from tests import factories as seed
from tests.e2e.conftest import new_user_id

NEED = (
    "Wir suchen einen Logistikpartner für temperaturgeführte Transporte von Batteriezellen "
    "(Kühlkette, ADR-Gefahrgut) zwischen Leipzig und Zwickau."
)
OFFER = (
    "Wir bieten temperaturgeführte Gefahrguttransporte nach ADR für Lithium-Batteriezellen "
    "mit lückenloser Kühlkette ab Leipzig, auch kurzfristig."
)
CONTACT_SHARED = "Sie sind verbunden"


def two_companies(db: Session):
    need_org = seed.organization(db, "Zellwerk Sachsen GmbH", "automotive", Size.MEDIUM)
    offer_org = seed.organization(db, "KühlTrans Leipzig", "logistics", Size.SMALL)
    anna = seed.contact(
        db, new_user_id(), need_org, "Anna Berg", username="anna_berg", email="anna@zw.test"
    )
    ben = seed.contact(db, new_user_id(), offer_org, "Ben Kurz", email="ben@kt.test")
    seed.listing(db, need_org, Kind.NEED, NEED, anna)
    seed.listing(db, offer_org, Kind.OFFER, OFFER, ben)
    return anna, ben


def contact_messages(engine: Engine) -> list[Outbox]:
    with Session(engine) as fresh:
        return list(fresh.exec(select(Outbox).where(Outbox.kind == "intro_contact")).all())


@pytest.mark.usefixtures("bot")
def test_round_to_introduction_full_loop(emulator, db, engine, settings: Settings) -> None:
    from bot.context import Runtime
    from bot.jobs import run_matching

    anna, ben = two_companies(db)
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    round_id = run_matching(Runtime(settings=settings, engine=engine))
    assert round_id is not None
    with Session(engine) as fresh:
        (match,) = fresh.exec(select(Match).where(Match.round_id == round_id)).all()

    manager = emulator.user(maria.telegram_user_id)
    notice = manager.wait_reply(timeout=15, contains="zu prüfen")
    assert "<b>1 neuer Vorschlag</b>" in notice.text
    manager.press(notice, data="rv:n")
    card = manager.wait_reply(timeout=10, edited=True)
    assert "Zellwerk Sachsen GmbH" in card.text and "KühlTrans Leipzig" in card.text
    manager.press(card, data=f"rv:a:{match.id}")
    assert "freigegeben" in manager.wait_reply(timeout=10, edited=True).text

    need_side = emulator.user(anna.telegram_user_id)
    offer_side = emulator.user(ben.telegram_user_id)
    offer_to_need = need_side.wait_reply(timeout=15, contains="Vorstellung")
    offer_to_offer = offer_side.wait_reply(timeout=15, contains="Vorstellung")
    assert "KühlTrans Leipzig" in offer_to_need.text
    assert "Zellwerk Sachsen GmbH" in offer_to_offer.text
    for message in (offer_to_need, offer_to_offer):
        for secret in ("ben@kt.test", "anna@zw.test", "anna_berg", "Ben Kurz", "Anna Berg"):
            assert secret not in message.text

    need_side.press(offer_to_need, data=f"in:a:{match.id}")
    assert "ebenfalls zustimmt" in need_side.wait_reply(timeout=10, edited=True).text
    need_side.expect_silence(1.5)  # the sender polls every second: nothing may arrive yet
    assert contact_messages(engine) == []

    offer_side.press(offer_to_offer, data=f"in:a:{match.id}")
    assert "Beide Seiten" in offer_side.wait_reply(timeout=10, edited=True).text
    to_need = need_side.wait_reply(timeout=15, contains=CONTACT_SHARED).text
    to_offer = offer_side.wait_reply(timeout=15, contains=CONTACT_SHARED).text
    assert "Ben Kurz" in to_need and "ben@kt.test" in to_need and "KühlTrans" in to_need
    assert "Anna Berg" in to_offer and "@anna_berg" in to_offer and "anna@zw.test" in to_offer
    assert "haben beide zugestimmt" in manager.wait_reply(timeout=15).text
    with Session(engine) as fresh:
        assert fresh.get(Match, match.id).status == MatchStatus.INTRODUCED


@pytest.mark.usefixtures("bot")
def test_a_decline_reaches_the_other_side_only_as_not_coming_about(
    emulator, db, engine, settings: Settings
) -> None:
    from kooperation.services import review

    need_contact, offer_contact, match = seed.two_sided(db, new_user_id())
    new_user_id()
    maria = seed.manager(db, new_user_id(), "logistics", name="Maria")
    review.approve_match(session=db, settings=settings, member=maria, match_id=match.id)

    need_side = emulator.user(need_contact.telegram_user_id)
    offer_side = emulator.user(offer_contact.telegram_user_id)
    offer_to_need = need_side.wait_reply(timeout=15, contains="Vorstellung")
    offer_to_offer = offer_side.wait_reply(timeout=15, contains="Vorstellung")
    need_side.press(offer_to_need, data=f"in:a:{match.id}")
    need_side.wait_reply(timeout=10, edited=True)
    offer_side.press(offer_to_offer, data=f"in:d:{match.id}")
    assert "erfährt nicht" in offer_side.wait_reply(timeout=10, edited=True).text

    told = need_side.wait_reply(timeout=15, contains="kommt diesmal nicht zustande").text
    assert "abgelehnt" not in told and "Ben" not in told
    assert (
        "hat die Vorstellung abgelehnt"
        in emulator.user(maria.telegram_user_id).wait_reply(timeout=15).text
    )
    # the old offer's button now changes nothing
    need_side.press(offer_to_need, data=f"in:a:{match.id}")
    assert "nicht mehr offen" in need_side.wait_reply(timeout=10, edited=True).text
    assert contact_messages(engine) == []


@pytest.mark.usefixtures("bot")
def test_a_stranger_pressing_accept_changes_nothing(emulator, db, engine, settings) -> None:
    from kooperation.services import review

    _, _, match = seed.two_sided(db, new_user_id())
    new_user_id()
    admin = seed.admin(db, new_user_id())
    review.approve_match(session=db, settings=settings, member=admin, match_id=match.id)
    stranger_org = seed.organization(db, "Fremdfirma", "it")
    stranger = seed.contact(db, new_user_id(), stranger_org, "Eve")
    user = emulator.user(stranger.telegram_user_id)
    user.press_data(f"in:a:{match.id}")
    assert "nicht mehr gültig" in user.wait_reply(timeout=10).text
    with Session(engine) as fresh:
        assert fresh.get(Match, match.id).need_answer is None
        assert fresh.get(Match, match.id).offer_answer is None
