"""Drive a Telegram bot end-to-end against a local Bot API emulator (no real Telegram).

The emulator is the npm package ``telegram-test-api`` started by ``emulator.js`` (same folder;
run ``npm ci`` there once). Only the standard library and httpx are used.

    from tgemu import Emulator, BotProcess

    with Emulator(token="123456:TEST") as emu:                # starts node emulator.js
        bot = BotProcess([sys.executable, "my_bot.py"],
                         env={"TG_TOKEN": emu.token, "TG_API": emu.api_url})
        with bot:
            emu.wait_polling()                                 # bot called getUpdates
            alice = emu.user(1001, first_name="Alice")
            alice.send("/start")
            reply = alice.wait_reply(timeout=5)
            assert reply.text.startswith("Hello")
            alice.press(reply, text="Ping")                    # inline button -> callback_query
            edited = alice.wait_reply(edited=True)

In the bot: ``Application.builder().token(TOKEN).base_url(emu.base_url)``, where
``emu.base_url == "http://127.0.0.1:PORT/bot"`` (PTB appends ``TOKEN/method``).
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
DEFAULT_TOKEN = "123456:TEST-TOKEN"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- data


@dataclass
class BotMessage:
    """A message the bot sent (sendMessage) as the emulator stored it."""

    message_id: int
    chat_id: int
    text: str | None
    reply_markup: dict | None
    parse_mode: str | None
    edited: int  # 0 = original; >0 = re-delivered after editMessageText/ReplyMarkup
    raw: dict = field(repr=False)

    @classmethod
    def from_stored(cls, upd: dict) -> BotMessage:
        msg = dict(upd.get("message") or {})
        markup = msg.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        return cls(
            message_id=int(upd["messageId"]),
            chat_id=int(msg.get("chat_id")),
            text=msg.get("text"),
            reply_markup=markup or None,
            parse_mode=msg.get("parse_mode"),
            edited=int(upd.get("edited") or 0),
            raw=msg,
        )

    @property
    def inline_keyboard(self) -> list[list[dict]]:
        return list((self.reply_markup or {}).get("inline_keyboard") or [])

    @property
    def buttons(self) -> list[dict]:
        return [b for row in self.inline_keyboard for b in row]

    @property
    def button_texts(self) -> list[str]:
        return [b.get("text", "") for b in self.buttons]

    def button(self, text: str | None = None, data: str | None = None) -> dict:
        for b in self.buttons:
            if (text is None or b.get("text") == text) and (
                data is None or b.get("callback_data") == data
            ):
                return b
        raise LookupError(f"no button text={text!r} data={data!r} in {self.inline_keyboard}")

    def as_api_message(self, bot_id: int) -> dict:
        """This message as a Bot API Message object (used inside callback_query)."""
        m: dict[str, Any] = {
            "message_id": self.message_id,
            "date": int(time.time()),
            "chat": _chat_obj(self.chat_id),
            "from": {"id": bot_id, "is_bot": True, "first_name": "Test Bot"},
            "text": self.text or "",
        }
        if self.reply_markup:
            m["reply_markup"] = self.reply_markup
        return m


def _chat_obj(chat_id: int, user: dict | None = None, title: str | None = None) -> dict:
    if chat_id < 0:
        return {
            "id": chat_id,
            "type": "supergroup" if chat_id < -1_000_000_000_000 else "group",
            "title": title or f"Chat {chat_id}",
        }
    chat = {"id": chat_id, "type": "private"}
    if user:
        chat["first_name"] = user.get("first_name", "User")
        if user.get("username"):
            chat["username"] = user["username"]
    else:
        chat["first_name"] = "User"
    return chat


class _Inbox:
    """Bot messages for one (token, chat) pair, shared by all users of that chat."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: list[BotMessage] = []
        self.seen: list[BotMessage] = []  # everything ever taken, for diagnostics


# --------------------------------------------------------------------------- emulator


class Emulator:
    """Starts/stops ``node emulator.js`` by PID and talks to its HTTP API."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        compat: bool = True,
        node: str | None = None,
        script: str | os.PathLike | None = None,
        log_path: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        poll_interval: float = 0.05,
        delay_ms: int = 0,
    ) -> None:
        """`delay_ms`: every Bot API call of the bot is answered that much later (an emulated
        network round trip, TGEMU_DELAY_MS); the driver's own calls are not delayed."""
        self.token = token
        self.delay_ms = int(delay_ms)
        self.host = host
        self.port = port or free_port(host)
        self.compat = compat
        self.node = node or shutil.which("node") or "node"
        self.script = Path(script) if script else HERE / "emulator" / "emulator.js"
        self.log_path = Path(log_path) if log_path else None
        self.extra_env = dict(env or {})
        self.poll_interval = poll_interval
        self.proc: subprocess.Popen | None = None
        self._log_file = None
        self._inboxes: dict[tuple[str, int], _Inbox] = {}
        self._inbox_lock = threading.Lock()
        self._tls = threading.local()

    # ---- urls
    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For PTB ``ApplicationBuilder.base_url`` (PTB appends the token)."""
        return f"{self.api_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``base_file_url``; the emulator serves no files (getFile unsupported)."""
        return f"{self.api_url}/file/bot"

    @property
    def bot_id(self) -> int:
        head = self.token.split(":", 1)[0]
        return int(head) if head.isdigit() and int(head) > 0 else 666

    # ---- process
    def start(self, timeout: float = 20.0) -> Emulator:
        if self.proc is not None:
            return self
        if not (self.script.parent / "node_modules" / "telegram-test-api").is_dir():
            raise RuntimeError(
                f"telegram-test-api not installed: run `npm ci` in {self.script.parent}"
            )
        env = dict(os.environ)
        env.update(self.extra_env)
        env.update(PORT=str(self.port), HOST=self.host, TGEMU_COMPAT="1" if self.compat else "0")
        env["TGEMU_DELAY_MS"] = str(self.delay_ms)
        if self.log_path:
            self._log_file = open(self.log_path, "ab")
            out = self._log_file
        else:
            out = subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [self.node, str(self.script)],
            cwd=str(self.script.parent),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise RuntimeError(f"emulator exited early (rc={rc}); see {self.log_path}")
            try:
                self._post("/_calls", {"token": "__probe__"}, timeout=1.0)
                return self
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"emulator not up on {self.api_url} after {timeout}s")
                time.sleep(0.05)

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # by PID only
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- http
    def _client(self) -> httpx.Client:
        c = getattr(self._tls, "client", None)
        if c is None:
            c = self._tls.client = httpx.Client(timeout=5.0)
        return c

    def _post(self, path: str, payload: dict, timeout: float = 5.0) -> Any:
        r = self._client().post(self.api_url + path, json=payload, timeout=timeout)
        r.raise_for_status()
        data = r.json()
        if not data.get("ok", False):
            raise RuntimeError(f"emulator {path} failed: {data}")
        return data.get("result")

    # ---- test endpoints (emulator.js)
    def reset(self) -> None:
        """Forget all messages, recorded calls and faults (all tokens)."""
        self._post("/_reset", {})
        with self._inbox_lock:
            self._inboxes.clear()

    def calls(
        self, method: str | None = None, token: str | None = None, since: int = 0
    ) -> list[dict]:
        """Bot API calls the bot made: [{seq, ts, token, method, params}], oldest first."""
        return self._post(
            "/_calls", {"token": token or self.token, "method": method or "", "since": since}
        )

    def wait_call(
        self,
        method: str,
        timeout: float = 5.0,
        predicate: Callable[[dict], bool] | None = None,
        since: int = 0,
    ) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for c in self.calls(method, since=since):
                if predicate is None or predicate(c["params"]):
                    return c
            if time.monotonic() > deadline:
                raise TimeoutError(f"bot made no matching {method} call within {timeout}s")
            time.sleep(self.poll_interval)

    def last_seq(self) -> int:
        calls = self.calls()
        return calls[-1]["seq"] if calls else 0

    def wait_polling(
        self, timeout: float = 20.0, bot: BotProcess | None = None, since: int = 0
    ) -> None:
        """Block until the bot has called getUpdates after call `since` (it is up and polling)."""
        deadline = time.monotonic() + timeout
        while not self.calls("getUpdates", since=since):
            if bot is not None and bot.proc is not None and bot.proc.poll() is not None:
                raise RuntimeError(f"bot exited (rc={bot.proc.returncode}):\n{bot.log_tail()}")
            if time.monotonic() > deadline:
                tail = bot.log_tail() if bot else ""
                raise TimeoutError(f"bot did not start polling within {timeout}s\n{tail}")
            time.sleep(self.poll_interval)

    def inject_fault(
        self,
        method: str,
        error_code: int = 429,
        retry_after: int | None = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next `count` calls of `method` fail (default: 429 retry_after=1)."""
        self._post(
            "/_fault",
            {
                "method": method,
                "token": self.token,
                "error_code": error_code,
                "retry_after": retry_after,
                "count": count,
                "description": description,
            },
        )

    def send_update(self, update: dict) -> None:
        """Inject any raw Bot API Update (update_id is assigned by the emulator).

        For update types the upstream client API cannot produce: edited_message,
        inline_query, my_chat_member, pre_checkout_query, ... (needs compat=True).
        """
        self._post("/_sendUpdate", {"token": self.token, "update": update})

    def history(self) -> list[dict]:
        """Raw upstream /getUpdatesHistory: all stored user and bot updates for the token."""
        return self._post("/getUpdatesHistory", {"token": self.token})

    # ---- users
    def user(
        self,
        user_id: int,
        chat_id: int | None = None,
        first_name: str | None = None,
        username: str | None = None,
        *,
        chat_title: str | None = None,
        language_code: str | None = "en",
    ) -> User:
        return User(
            self,
            user_id,
            chat_id if chat_id is not None else user_id,
            first_name or f"User{user_id}",
            username,
            chat_title,
            language_code,
        )

    def _inbox(self, chat_id: int) -> _Inbox:
        key = (self.token, int(chat_id))
        with self._inbox_lock:
            box = self._inboxes.get(key)
            if box is None:
                box = self._inboxes[key] = _Inbox()
            return box

    def _fetch(self, chat_id: int) -> None:
        box = self._inbox(chat_id)
        with box.lock:
            for upd in self._post("/getUpdates", {"token": self.token, "chatId": chat_id}):
                box.items.append(BotMessage.from_stored(upd))


class User:
    """A Telegram user typing into one chat (private by default; chat_id<0 = group)."""

    def __init__(
        self,
        emu: Emulator,
        user_id: int,
        chat_id: int,
        first_name: str,
        username: str | None,
        chat_title: str | None,
        language_code: str | None,
    ):
        self.emu = emu
        self.user_id = int(user_id)
        self.chat_id = int(chat_id)
        self.first_name = first_name
        self.username = username
        self.chat_title = chat_title
        self.language_code = language_code

    def __repr__(self) -> str:
        return f"User({self.user_id}, chat={self.chat_id}, {self.first_name!r})"

    @property
    def from_obj(self) -> dict:
        u: dict[str, Any] = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            u["username"] = self.username
        if self.language_code:
            u["language_code"] = self.language_code
        return u

    def _message(self, text: str) -> dict:
        return {
            "botToken": self.emu.token,  # upstream routing field (stripped by compat layer)
            "from": self.from_obj,
            "chat": _chat_obj(self.chat_id, self.from_obj, self.chat_title),
            "date": int(time.time()),
            "text": text,
        }

    # ---- acting
    def send(self, text: str, **extra: Any) -> None:
        """Send a text message; text starting with '/' is sent as a command (bot_command)."""
        msg = self._message(text)
        msg.update(extra)
        if text.startswith("/"):
            cmd_len = len(text.split(None, 1)[0])
            msg["entities"] = [{"offset": 0, "length": cmd_len, "type": "bot_command"}]
            self.emu._post("/sendCommand", msg)
        else:
            self.emu._post("/sendMessage", msg)

    def send_raw(self, **fields: Any) -> None:
        """Send a message with arbitrary Message fields (contact, location, ...; no text)."""
        msg = self._message("")
        del msg["text"]
        msg.update(fields)
        self.emu._post("/sendMessage", msg)

    def edit(self, message_id: int, new_text: str) -> None:
        """Send an `edited_message` update, as if the user edited one of their messages."""
        msg = self._message(new_text)
        del msg["botToken"]
        msg["message_id"] = message_id
        msg["edit_date"] = int(time.time())
        self.emu.send_update({"edited_message": msg})

    def command(self, name: str, args: str = "") -> None:
        self.send(f"/{name.lstrip('/')}" + (f" {args}" if args else ""))

    def press(self, message: BotMessage, text: str | None = None, data: str | None = None) -> str:
        """Press an inline button of `message` (by its text and/or callback_data).

        Returns the callback_data sent. Raises LookupError if no such button exists.
        """
        if text is None and data is None:
            raise ValueError("give the button text or data")
        btn = message.button(text=text, data=data)
        if "callback_data" not in btn:
            raise LookupError(f"button {btn} has no callback_data (url/other buttons unsupported)")
        self.press_data(btn["callback_data"], message)
        return btn["callback_data"]

    def press_data(self, data: str, message: BotMessage | None = None) -> None:
        """Send a raw callback_query with `data` (optionally attached to `message`)."""
        cq: dict[str, Any] = {
            "botToken": self.emu.token,
            "from": self.from_obj,
            "data": data,
            "chat_instance": f"ci{self.chat_id}",
        }
        if message is not None:
            cq["message"] = message.as_api_message(self.emu.bot_id)
        else:
            cq["message"] = {
                "message_id": 0,
                "date": int(time.time()),
                "chat": _chat_obj(self.chat_id, self.from_obj, self.chat_title),
                "text": "",
            }
        self.emu._post("/sendCallback", cq)

    # ---- observing
    def replies(self) -> list[BotMessage]:
        """Take all bot messages that arrived in this chat so far (non-blocking)."""
        self.emu._fetch(self.chat_id)
        box = self.emu._inbox(self.chat_id)
        with box.lock:
            out, box.items = box.items, []
            box.seen.extend(out)
        return out

    def wait_reply(
        self,
        timeout: float = 5.0,
        predicate: Callable[[BotMessage], bool] | None = None,
        *,
        edited: bool | None = None,
        text: str | None = None,
        contains: str | None = None,
    ) -> BotMessage:
        """Wait for the oldest bot message in this chat matching the filters and take it.

        Messages that do not match stay queued. `edited=True` only matches re-deliveries
        after editMessageText/ReplyMarkup, `edited=False` only original messages.
        """

        def ok(m: BotMessage) -> bool:
            return (
                (edited is None or bool(m.edited) == edited)
                and (text is None or m.text == text)
                and (contains is None or (m.text or "").find(contains) >= 0)
                and (predicate is None or predicate(m))
            )

        box = self.emu._inbox(self.chat_id)
        deadline = time.monotonic() + timeout
        while True:
            self.emu._fetch(self.chat_id)
            with box.lock:
                for i, m in enumerate(box.items):
                    if ok(m):
                        box.seen.append(box.items.pop(i))
                        return m
                pending = list(box.items)
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self}: no matching bot reply within {timeout}s "
                    f"(edited={edited}, text={text!r}, contains={contains!r}); "
                    f"queued: {[m.text for m in pending]}; "
                    f"taken earlier: {[m.text for m in box.seen[-5:]]}"
                )
            time.sleep(self.emu.poll_interval)

    def wait_replies(self, n: int, timeout: float = 5.0) -> list[BotMessage]:
        deadline = time.monotonic() + timeout
        return [self.wait_reply(max(0.0, deadline - time.monotonic())) for _ in range(n)]

    def ask(self, text: str, timeout: float = 5.0) -> BotMessage:
        """send(text) then wait_reply()."""
        self.send(text)
        return self.wait_reply(timeout)

    def expect_silence(self, duration: float = 0.5) -> None:
        """Assert the bot sends nothing to this chat for `duration` seconds."""
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            got = self.replies()
            if got:
                raise AssertionError(f"{self}: expected no reply, got {[m.text for m in got]}")
            time.sleep(self.emu.poll_interval)


# --------------------------------------------------------------------------- bot process


class BotProcess:
    """Runs the bot under test as a child process; stops it by PID (SIGINT, then SIGKILL)."""

    def __init__(
        self,
        argv: Iterable[str],
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None,
        log_path: str | os.PathLike | None = None,
    ):
        self.argv = list(argv)
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.cwd = str(cwd) if cwd else None
        self.log_path = (
            Path(log_path)
            if log_path
            else Path(os.environ.get("TMPDIR", "/tmp")) / f"tgemu-bot-{os.getpid()}-{id(self)}.log"
        )
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> BotProcess:
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        return self

    def stop(self, timeout: float = 10.0) -> int | None:
        proc, self.proc = self.proc, None
        rc = None
        if proc is not None:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # PTB run_polling stops cleanly on SIGINT
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout)
            rc = proc.returncode
        if self._log:
            self._log.close()
            self._log = None
        return rc

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
