"""Managers and admins find their commands in Telegram's menu: a command list for their own chat
(BotCommandScopeChat), in their language, set at start-up and whenever their role changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import Session

from kooperation.db import engine_for
from kooperation.models import utcnow
from kooperation.services import appointments, identity
from tests import factories as seed
from tests.e2e.conftest import new_user_id
from tests.e2e.flows import NO_MATCHING, Contact

ADMIN_ID = new_user_id()
MANAGER_ID = new_user_id()


@pytest.fixture(scope="module")
def bot(bot_runner: Any, database_url: str) -> Iterator[Any]:
    """Staff seeded before the bot starts, so the start-up menus must include them."""
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        seed.admin(session, ADMIN_ID, name="Ada")
        seed.manager(session, MANAGER_ID, "it", name="Mia", language="en")
    bot_runner.start(EMBEDDING_MODEL=NO_MATCHING, STAFF_MENU_REFRESH_SECONDS="5")
    yield bot_runner
    bot_runner.kill()


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _chat_menus(emulator: Any, chat_id: int, method: str = "setMyCommands", since: int = 0):
    """{command: description} of each call for this chat's own scope, oldest first."""
    menus = []
    for call in emulator.calls(method, since=since):
        scope = _json(call["params"].get("scope")) or {}
        if scope.get("type") == "chat" and int(scope.get("chat_id", 0)) == chat_id:
            commands = _json(call["params"].get("commands")) or []
            menus.append({c["command"]: c["description"] for c in commands})
    return menus


@pytest.mark.usefixtures("bot")
def test_start_up_sets_the_staff_commands_for_each_manager_and_admin_in_their_language(emulator):
    [admin_menu] = _chat_menus(emulator, ADMIN_ID)[-1:]
    assert {"review", "stats", "managers", "need", "start"} <= set(admin_menu)
    assert admin_menu["review"] == "Vorschläge prüfen (Clustermanager)"  # German: Ada's language
    [manager_menu] = _chat_menus(emulator, MANAGER_ID)[-1:]
    assert {"review", "stats", "need"} <= set(manager_menu) and "managers" not in manager_menu
    assert manager_menu["review"] == "Check proposals (cluster managers)"  # Mia chose English

    public = [
        _json(c["params"]["commands"])
        for c in emulator.calls("setMyCommands")
        if not c["params"].get("scope")
    ]
    assert public and all("review" not in str(commands) for commands in public)


@pytest.mark.usefixtures("bot")
def test_a_redeemed_manager_invite_puts_the_staff_commands_into_the_new_managers_menu(
    emulator, database_url
):
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        invite = appointments.create_manager_invite(
            session=session,
            settings=None,
            actor=None,
            cluster=seed.cluster(session, "logistics"),
            operator=True,
        )
    nora = Contact.new(emulator, new_user_id(), language="en", first_name="Nora")
    since = emulator.last_seq()
    nora.send(f"/start {appointments.invite_payload(invite)}")
    nora.tap(nora.with_button("ob:ok"), data="ob:ok")
    nora.reply(contains="You are now a cluster manager")
    emulator.wait_call("setMyCommands", since=since)
    [menu] = _chat_menus(emulator, nora.user.user_id, since=since)
    assert {"review", "stats"} <= set(menu) and "managers" not in menu
    assert menu["stats"] == "Statistics (cluster managers)"


@pytest.mark.usefixtures("bot")
def test_appointing_and_removing_a_manager_sets_and_clears_their_menu(emulator):
    admin = emulator.user(ADMIN_ID)
    future = new_user_id()
    since = emulator.last_seq()
    admin.send(f"/managers add {future} automotive")
    admin.wait_reply(timeout=10, contains="ist jetzt Manager")
    [menu] = _chat_menus(emulator, future, since=since)
    assert {"review", "stats"} <= set(menu) and "managers" not in menu

    since = emulator.last_seq()
    admin.send(f"/managers remove {future} automotive")
    admin.wait_reply(timeout=10, contains="nicht mehr Manager")
    assert len(_chat_menus(emulator, future, "deleteMyCommands", since=since)) == 1
    assert _chat_menus(emulator, future, since=since) == []


@pytest.mark.usefixtures("bot")
def test_a_manager_who_switches_language_gets_the_menu_in_the_new_language(emulator, database_url):
    leo_id = new_user_id()
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        leo = seed.manager(session, leo_id, "it", name="Leo", language="en")
        leo.consent_at = utcnow()  # signed up: /settings is open to him
        session.add(leo)
        session.commit()
    user = emulator.user(leo_id)
    user.send("/settings")
    view = user.wait_reply(timeout=10, contains="Settings")
    since = emulator.last_seq()
    user.press(view, data="st:lang:de")
    emulator.wait_call("setMyCommands", since=since)
    [menu] = _chat_menus(emulator, leo_id, since=since)
    assert menu["review"] == "Vorschläge prüfen (Clustermanager)"


@pytest.mark.usefixtures("bot")
def test_a_manager_appointed_outside_the_bot_gets_the_menu_without_a_restart(
    emulator, database_url
):
    kim_id = new_user_id()
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        kim = seed.contact(session, kim_id, None)  # already chats with the bot
    assert kim.chat_id == kim_id
    since = emulator.last_seq()
    with Session(engine_for(database_url), expire_on_commit=False) as session:
        # what `matchbot manager add` does, in another process
        member = identity.ensure_member(session=session, telegram_user_id=kim_id)
        appointments.appoint_manager(
            session=session, member=member, cluster=seed.cluster(session, "it")
        )
    emulator.wait_call("setMyCommands", since=since, timeout=15)
    [menu] = _chat_menus(emulator, kim_id, since=since)
    assert {"review", "stats"} <= set(menu)
