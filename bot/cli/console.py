"""Showing Telegram messages on a terminal as a member would see them."""

from __future__ import annotations

import html
from html.parser import HTMLParser

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from bot.outbox_render import Rendered
from bot.render import Buttons

STYLES = {"b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline"}
STYLES |= {"s": "strike", "code": "cyan", "pre": "cyan", "a": "underline blue"}


class _TelegramHtml(HTMLParser):
    """Turns the HTML subset Telegram understands into rich Text (it cannot nest wrongly:
    every rendered text comes from the catalogue with escaped parameters)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = Text()
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, _attrs: list[tuple[str, str | None]]) -> None:
        self.styles.append(STYLES.get(tag, ""))

    def handle_endtag(self, _tag: str) -> None:
        if self.styles:
            self.styles.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data, style=" ".join(s for s in self.styles if s) or None)


def telegram_text(rendered_html: str) -> Text:
    parser = _TelegramHtml()
    parser.feed(rendered_html)
    parser.close()
    return parser.text


def plain_text(rendered_html: str) -> str:
    """The text without markup, e.g. for logs and `--dry-run` output piped to a file."""
    return html.unescape(telegram_text(rendered_html).plain)


def buttons_text(buttons: Buttons) -> Text:
    line = Text()
    for row in buttons:
        for label, _ in row:
            line.append(f"[ {label} ]", style="bold green")
            line.append(" ")
        line.append("\n")
    return line


def message_panel(rendered: Rendered, title: str) -> Panel:
    """One Telegram message with its inline buttons, framed like a chat bubble."""
    parts: list[Text] = [telegram_text(rendered.text)]
    if rendered.buttons:
        parts.append(buttons_text(rendered.buttons))
    return Panel(Group(*parts), title=title, title_align="left", expand=False, width=88)
