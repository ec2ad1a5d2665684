"""Renderers for outbox messages, one per `Outbox.kind`.

Services queue data (`kooperation.services.outbox.queue_message`); the sender renders it here
in the member's language at send time. A module that owns a kind registers its renderer:

    @renderer("intro_offer")
    def render_intro_offer(language: str, payload: dict) -> Rendered: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.render import Buttons


@dataclass(frozen=True)
class Rendered:
    text: str
    buttons: Buttons = field(default_factory=list)


Renderer = Callable[[str, dict[str, Any]], Rendered]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        if kind in RENDERERS and RENDERERS[kind] is not function:
            raise ValueError(f"two renderers for outbox kind {kind!r}")
        RENDERERS[kind] = function
        return function

    return register


def render(kind: str, language: str, payload: dict[str, Any]) -> Rendered:
    try:
        function = RENDERERS[kind]
    except KeyError:
        raise LookupError(f"no renderer for outbox kind {kind!r}") from None
    return function(language, payload)
