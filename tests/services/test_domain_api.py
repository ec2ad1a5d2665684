"""The services and use cases speak the domain: only the identity module takes a Telegram id."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import kooperation.services as services
import usecases

TELEGRAM_IDS = {"telegram_user_id", "telegram_id", "actor_telegram_id", "user_id"}


def public_functions() -> list[tuple[str, inspect.Signature]]:
    """Every public function of `kooperation.services` and `usecases`, the API a front end
    calls, named `module.function`."""
    found = []
    modules = [
        (package, info.name)
        for package in (services, usecases)
        for info in pkgutil.iter_modules(package.__path__)
    ]
    for package, module_name in modules:
        module = importlib.import_module(f"{package.__name__}.{module_name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or function.__module__ != module.__name__:
                continue
            found.append((f"{module_name}.{name}", inspect.signature(function)))
    return found


def test_the_services_are_found() -> None:
    names = {name for name, _ in public_functions()}
    assert {
        "review.approve_match",
        "privacy.delete_member_data",
        "identity.seen",
        "rounds.match_posted_listing",
        "digest.weekly_digest",
    } <= names


def test_no_public_service_outside_identity_takes_a_telegram_id() -> None:
    offenders = [
        f"{name}({parameter})"
        for name, signature in public_functions()
        if not name.startswith("identity.")
        for parameter in signature.parameters
        if parameter in TELEGRAM_IDS
    ]
    assert offenders == []
