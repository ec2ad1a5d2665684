"""Reply latency and throughput of the real bot under concurrent contacts, against an echo bot.

    python bench/latency.py [--contacts 1,10,30,50] [--rounds 2] [--delay-ms 80]
                            [--delay-contacts 50] [--delay-rounds 1] [--memory-listings 10000]

Four bots run in the same run over the same Bot API emulator (tests/e2e/emulator), one after
the other at every level:

- "bot": the real `python -m bot run` on a fresh copy of the demo data (`matchbot demo`'s
  organizations, each with its consenting contact, plus a second contact per organization for
  up to 78 contacts), at TELEGRAM_MESSAGES_PER_SECOND's default (30, Telegram's limit), as in
  production;
- "echo limited": the emulator's sample echo bot (`sample_echo_bot.py`, a plain PTB
  application, one update at a time) under PTB's AIORateLimiter at the same 30 messages/s
  (bench/limited_echo_bot.py) — the fair baseline;
- "bot unthrottled": the real bot again (own copy of the data) at 1000 messages/s: what the
  update processing costs without Telegram's limit;
- "echo": the plain sample echo bot, no limit.

Each contact acts like a person: an action, then wait for the bot's whole answer, then the
next. The real bots' contacts send `/help`, `/mylistings`, `/matches`, `/menu` and press
"My matches" and "My listings" in the menu; the echo bots' send `/start`, press "Ping", write a
text and go through its two-step `/register` conversation. One contact also posts a listing
(`/need`, its text, "Publish") per real bot at every level.

Latency: from the contact's action to the bot's first message or edit in that chat, taken
from the emulator's call log (its timestamp, plus the emulated delay, is when Telegram would
show it). How many messages an action gets is learnt once per bot with one contact
(`calibrate`), so that each contact waits for its whole answer before acting again.

Printed per level: p50, p95, max, replies per second (answered actions per second) and
messages per second for every bot, and the ratios (a) bot ÷ echo, (b) bot ÷ echo under the
same limit, (c) unthrottled bot ÷ echo; a Markdown table of the pass at its end. Then the same
with an emulated network round trip per Bot API call (TGEMU_DELAY_MS), the time to match the
first and the second listing posted after a start, and the resident memory of the bot process
with `--memory-listings` listings after a matching round.
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from kooperation.config import Settings  # noqa: E402
from kooperation.db import engine_for, session_scope, upgrade  # noqa: E402
from kooperation.models import Member, Organization, Role, utcnow  # noqa: E402
from kooperation.services.listings import listings_of  # noqa: E402
from tests.e2e.conftest import install_emulator  # noqa: E402
from tests.e2e.tgemu import BotMessage, BotProcess, Emulator  # noqa: E402

REAL_TOKEN = "123456:LATENCY-REAL"
FREE_TOKEN = "123457:LATENCY-REAL-UNTHROTTLED"
ECHO_TOKEN = "654321:LATENCY-ECHO"
LIMITED_ECHO_TOKEN = "654322:LATENCY-ECHO-LIMITED"
EXTRA_CONTACTS = 900_000_000
ECHO_USERS = 950_000_000
ANSWERS = {"sendMessage", "editMessageText"}
TELEGRAM_LIMIT = Settings.model_fields["telegram_messages_per_second"].default  # 30, Telegram's
UNTHROTTLED = 1000.0  # messages per second: the limiter never waits
LISTING = (
    "Wir suchen einen Partner für die automatische optische Prüfung unserer Sensorgehäuse "
    "mit KI-Bildverarbeitung und Anbindung an unser MES."
)


# ---------------------------------------------------------------- the bots' answers


class Collector(threading.Thread):
    """Reads the emulator's call log and hands every message or edit to its chat's queue."""

    def __init__(self, emulator: Emulator, delay: float) -> None:
        super().__init__(daemon=True)
        self.emulator = emulator
        self.delay = delay
        self.queues: dict[tuple[str, int], queue.Queue[tuple[float, BotMessage]]] = defaultdict(
            queue.Queue
        )
        self.since = emulator.last_seq()
        self.running = True

    def inbox(self, token: str, chat_id: int) -> queue.Queue[tuple[float, BotMessage]]:
        return self.queues[(token, chat_id)]

    def run(self) -> None:
        while self.running:
            calls = self.emulator._post("/_calls", {"since": self.since}, timeout=10)
            for call in calls:
                self.since = max(self.since, call["seq"])
                params = call["params"]
                if call["method"] not in ANSWERS or "chat_id" not in params:
                    continue
                message = BotMessage.from_stored(
                    {
                        "messageId": call.get("message_id") or 0,
                        "message": params,
                        "edited": int(call["method"] != "sendMessage"),
                    }
                )
                shown = call["ts"] + self.delay  # the answer reaches the app one delay later
                self.inbox(call["token"], int(params["chat_id"])).put((shown, message))
            time.sleep(0.01)


@dataclass
class Contact:
    """One person in one private chat with one bot."""

    token: str  # the bot's; `emulator` is a handle with the same token
    user_id: int
    emulator: Emulator
    collector: Collector
    latencies: list[float] = field(default_factory=list)
    last: list[BotMessage] = field(default_factory=list)
    counts: list[int] | None = None  # answers per step, where they differ from the calibration
    messages: int = 0  # messages and edits received

    def _user(self):  # type: ignore[no-untyped-def]
        return self.emulator.user(self.user_id, first_name=f"Kontakt{self.user_id % 1000}")

    def act(self, action: Callable[[Contact], None], expect: int, timeout: float = 60) -> None:
        """Does `action`, records the time to the first answer, waits for all `expect`."""
        inbox = self.collector.inbox(self.token, self.user_id)
        started = time.time()
        action(self)
        self.last = []
        deadline = time.monotonic() + timeout
        while len(self.last) < expect:
            shown, message = inbox.get(timeout=max(0.01, deadline - time.monotonic()))
            if not self.last:
                self.latencies.append(max(0.0, shown - started))
            self.last.append(message)
            self.messages += 1

    def send(self, text: str) -> None:
        self._user().send(text)

    def press(self, data: str) -> None:
        holder = next((m for m in reversed(self.last) if _has(m, data)), None)
        self._user().press_data(data, holder)


def _has(message: BotMessage, data: str) -> bool:
    return any(b.get("callback_data") == data for b in message.buttons)


def _first_button(prefix: str) -> Callable[[Contact], None]:
    def press(contact: Contact) -> None:
        for message in reversed(contact.last):
            for button in message.buttons:
                if str(button.get("callback_data", "")).startswith(prefix):
                    contact.press(button["callback_data"])
                    return
        raise LookupError(f"no {prefix} button in {[m.text for m in contact.last]}")

    return press


Script = list[tuple[str, Callable[[Contact], None]]]

REAL_SCRIPT: Script = [
    ("/help", lambda c: c.send("/help")),
    ("/mylistings", lambda c: c.send("/mylistings")),
    ("/matches", lambda c: c.send("/matches")),
    ("/menu", lambda c: c.send("/menu")),
    ("press My matches", lambda c: c.press("mn:matches")),
    ("/menu again", lambda c: c.send("/menu")),
    ("press My listings", lambda c: c.press("mn:mine")),
]
POST_SCRIPT: Script = [
    ("/need", lambda c: c.send("/need")),
    ("listing text", lambda c: c.send(LISTING)),
    ("press Publish", lambda c: c.press("ls:ok")),
]
ECHO_SCRIPT: Script = [
    ("/start", lambda c: c.send("/start")),
    ("press Ping", lambda c: c.press("ping")),
    ("text", lambda c: c.send("Guten Tag")),
    ("/register", lambda c: c.send("/register")),
    ("name", lambda c: c.send("Erika")),
    ("age", lambda c: c.send("42")),
    ("/start again", lambda c: c.send("/start")),
]


def calibrate(contact: Contact, script: Script, settle: float = 1.5) -> list[int]:
    """How many messages each step of `script` gets (one contact, nothing else running)."""
    inbox = contact.collector.inbox(contact.token, contact.user_id)
    counts = []
    for _, action in script:
        action(contact)
        time.sleep(settle)
        got = []
        while not inbox.empty():
            got.append(inbox.get()[1])
        counts.append(len(got))
        contact.last = got
    return counts


# ---------------------------------------------------------------- a level


@dataclass
class Result:
    latencies: list[float]
    seconds: float
    cpu: float = 0.0  # the bot process's CPU seconds during the level
    messages: int = 0  # messages and edits the contacts received

    @property
    def replies_per_second(self) -> float:
        return len(self.latencies) / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_level(contacts: list[Contact], script: Script, counts: list[int], rounds: int) -> Result:
    """Every contact runs `script` `rounds` times, all at once."""
    for contact in contacts:
        contact.latencies = []
        contact.messages = 0
    errors: list[BaseException] = []

    def person(contact: Contact) -> None:
        try:
            for _ in range(rounds):
                for (_, action), expect in zip(script, contact.counts or counts, strict=True):
                    contact.act(action, expect)
        except BaseException as error:  # reported below, the level is void
            errors.append(error)

    threads = [threading.Thread(target=person, args=(c,)) for c in contacts]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    if errors:
        raise RuntimeError(f"{len(errors)} contacts failed, first: {errors[0]!r}")
    return Result(
        [x for c in contacts for x in c.latencies],
        seconds,
        messages=sum(c.messages for c in contacts),
    )


def post_listing(contact: Contact, counts: list[int]) -> float:
    """Posts a listing; returns the seconds from pressing "Publish" to the matching result."""
    *steps, (_, publish) = POST_SCRIPT
    for (_, action), expect in zip(steps, counts, strict=False):
        contact.act(action, expect)
    pressed = time.time()
    contact.act(publish, 1)  # "published", edited into the preview
    inbox = contact.collector.inbox(contact.token, contact.user_id)
    shown, _ = inbox.get(timeout=120)  # "I found N possible partners …"
    return shown - pressed


# ---------------------------------------------------------------- set-up


def demo_database(work: Path, name: str, contacts: int) -> tuple[str, list[int]]:
    """A copy of the demo database (made once by the real `matchbot demo`: sample data, a
    matching round) with a second contact per organization where `contacts` needs more."""
    demo = work / "demo.db"
    if not demo.exists():
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        subprocess.run(
            [sys.executable, "-m", "bot", "demo", "--database", str(demo)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=str(work),
        )
    copy = work / f"{name}.db"
    shutil.copyfile(demo, copy)
    url = f"sqlite:///{copy}"
    with session_scope(engine_for(url)) as session:
        members = session.exec(select(Member).where(Member.role == Role.MEMBER)).all()
        ids = [m.telegram_user_id for m in members if m.organization_id]
        organizations = session.exec(select(Organization).order_by(Organization.id)).all()
        now = utcnow()
        for index, organization in enumerate(organizations[: max(0, contacts - len(ids))]):
            telegram_id = EXTRA_CONTACTS + index
            session.add(  # as `load_demo` adds each organization's contact
                Member(
                    telegram_user_id=telegram_id,
                    chat_id=telegram_id,
                    display_name=f"Kontakt {index}",
                    language="de",
                    organization_id=organization.id,
                    consent_at=now,
                )
            )
            ids.append(telegram_id)
        session.commit()
    return url, ids


def with_listings(counts: list[int], url: str, telegram_id: int) -> list[int]:
    """The calibrated answers, with /mylistings and "My listings" answered by one message per
    open listing of this contact, the first with the title (or one "none yet")."""
    with session_scope(engine_for(url)) as session:
        member = session.exec(select(Member).where(Member.telegram_user_id == telegram_id)).one()
        assert member.id is not None
        mine = len(listings_of(session=session, member_id=member.id))
    adjusted = list(counts)
    for index, (name, _) in enumerate(REAL_SCRIPT):
        if "listings" in name.lower():
            adjusted[index] = max(1, mine)
    return adjusted


def start_real_bot(
    emulator: Emulator, url: str, log: Path, token: str = REAL_TOKEN, **env: str
) -> BotProcess:
    since = emulator.last_seq()
    process = BotProcess(
        [sys.executable, "-m", "bot", "run"],
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_API_BASE_URL": emulator.base_url,
            "DATABASE_URL": url,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "QUIET_HOURS": "",
            **env,
        },
        cwd=str(log.parent),
        log_path=log,
    )
    process.start()
    _wait_polling(emulator, token, since, process)
    return process


def start_echo_bot(emulator: Emulator, log: Path, token: str, limit: float | None) -> BotProcess:
    """The emulator's echo bot; with `limit` under PTB's AIORateLimiter at that many messages
    per second, as our bot runs (bench/limited_echo_bot.py)."""
    since = emulator.last_seq()
    script = ROOT / "tests/e2e/emulator/sample_echo_bot.py"
    env = {**os.environ, "TG_TOKEN": token, "TG_API": emulator.api_url}
    if limit is not None:
        script = ROOT / "bench/limited_echo_bot.py"
        env["TELEGRAM_MESSAGES_PER_SECOND"] = f"{limit:g}"
    process = BotProcess([sys.executable, str(script)], env=env, log_path=log)
    process.start()
    _wait_polling(emulator, token, since, process)
    return process


def _wait_polling(emulator: Emulator, token: str, since: int, process: BotProcess) -> None:
    deadline = time.monotonic() + 120
    while not emulator.calls("getUpdates", token=token, since=since):
        if process.proc is not None and process.proc.poll() is not None:
            raise RuntimeError(f"bot exited:\n{process.log_tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(process.log_tail())
        time.sleep(0.1)


def wait_for_log(process: BotProcess, text: str, timeout: float = 180) -> float:
    started = time.monotonic()
    while text not in process.log_tail(200_000):
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"no {text!r} in the bot's log")
        time.sleep(0.2)
    return time.monotonic() - started


def cpu_seconds(process: BotProcess) -> float:
    """User + system CPU time the process has used so far."""
    fields = Path(f"/proc/{process.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()  # type: ignore[union-attr]
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# ---------------------------------------------------------------- the runs


def fmt(result: Result) -> str:
    return (
        f"p50 {result.quantile(0.5) * 1000:6.0f} ms  p95 {result.quantile(0.95) * 1000:6.0f} ms"
        f"  max {max(result.latencies) * 1000:6.0f} ms  {result.replies_per_second:6.1f} replies/s"
        f" ({result.messages / result.seconds:5.1f} messages/s)"
        f"  CPU {result.cpu / len(result.latencies) * 1000:5.1f} ms/reply"
    )


@dataclass
class Side:
    """One bot of the comparison with its contacts and what its actions get."""

    name: str
    process: BotProcess
    contacts: list[Contact]
    script: Script
    counts: list[int]
    url: str = ""  # the real bots' database
    post_counts: list[int] = field(default_factory=list)


BOT, FREE, ECHO, LIMITED = "bot", "bot unthrottled", "echo", "echo limited"
COMPARISONS = [  # (label, numerator, denominator)
    ("(a) bot ÷ echo", BOT, ECHO),
    ("(b) bot ÷ echo under the same limit", BOT, LIMITED),
    ("(c) unthrottled bot ÷ echo", FREE, ECHO),
]


def _real_side(
    name: str,
    emu: Emulator,
    collector: Collector,
    work: Path,
    tag: str,
    contacts: int,
    *,
    token: str,
    limit: float,
) -> Side:
    url, ids = demo_database(work, f"{tag}-{token.split(':')[0]}", contacts)
    process = start_real_bot(
        emu,
        url,
        work / f"bot-{tag}-{limit:g}.log",
        token,
        TELEGRAM_MESSAGES_PER_SECOND=f"{limit:g}",
    )
    handle = Emulator(token=token, port=emu.port)  # the same emulator, this bot's chats
    people = [Contact(token, i, handle, collector) for i in ids]
    return Side(name, process, people, REAL_SCRIPT, [], url)


def _echo_side(
    name: str,
    emu: Emulator,
    collector: Collector,
    work: Path,
    tag: str,
    contacts: int,
    *,
    token: str,
    limit: float | None,
) -> Side:
    process = start_echo_bot(emu, work / f"echo-{tag}-{limit or 0:g}.log", token, limit)
    handle = Emulator(token=token, port=emu.port)
    people = [Contact(token, ECHO_USERS + i, handle, collector) for i in range(contacts)]
    return Side(name, process, people, ECHO_SCRIPT, [])


def _level(side: Side, level: int, rounds: int) -> Result:
    """`level` contacts of one bot at once; a real bot also gets one listing posted."""
    if side.url:
        for contact in side.contacts[:level]:
            contact.counts = with_listings(side.counts, side.url, contact.user_id)
        if level < len(side.contacts):  # one listing per level, posted while the others act
            threading.Thread(
                target=post_listing, args=(side.contacts[level], side.post_counts), daemon=True
            ).start()
    before = cpu_seconds(side.process)
    result = run_level(side.contacts[:level], side.script, side.counts, rounds)
    result.cpu = cpu_seconds(side.process) - before
    return result


def _ratios(results: dict[str, Result]) -> list[tuple[str, float, float, float]]:
    """(comparison, p95 ratio, replies/s ratio, messages/s ratio) for every comparison."""
    rows = []
    for label, top, bottom in COMPARISONS:
        a, b = results[top], results[bottom]
        rows.append(
            (
                label,
                a.quantile(0.95) / b.quantile(0.95),
                a.replies_per_second / b.replies_per_second,
                (a.messages / a.seconds) / (b.messages / b.seconds),
            )
        )
    return rows


def measure(
    levels: list[int], rounds: int, delay_ms: int, work: Path, post: bool
) -> dict[int, dict[str, Result]]:
    """Every level with four bots over one emulator, one after the other: our bot at
    Telegram's limit, the echo bot under the same limit, our bot unthrottled, the plain echo."""
    install_emulator()
    tag = f"delay{delay_ms}"
    contacts = max(levels) + 1  # +1: the poster
    results: dict[int, dict[str, Result]] = {}
    sides: list[Side] = []
    with Emulator(token=REAL_TOKEN, delay_ms=delay_ms, log_path=work / "emulator.log") as emu:
        collector = Collector(emu, delay_ms / 1000)
        collector.start()
        where = (emu, collector, work, tag, contacts)
        try:
            sides = [
                _real_side(BOT, *where, token=REAL_TOKEN, limit=TELEGRAM_LIMIT),
                _echo_side(LIMITED, *where, token=LIMITED_ECHO_TOKEN, limit=TELEGRAM_LIMIT),
                _real_side(FREE, *where, token=FREE_TOKEN, limit=UNTHROTTLED),
                _echo_side(ECHO, *where, token=ECHO_TOKEN, limit=None),
            ]
            bot, _, free, _ = sides
            warm = wait_for_log(bot.process, "matching warm-up:")
            wait_for_log(free.process, "matching warm-up:")
            for side in sides:
                side.counts = calibrate(side.contacts[-1], side.script)
                if side.url:
                    side.post_counts = calibrate(side.contacts[-2], POST_SCRIPT[:2])
                print(f"answers per step: {side.name} {side.counts} {side.post_counts or ''}")
            if post:
                first = post_listing(bot.contacts[0], bot.post_counts)
                second = post_listing(bot.contacts[1], bot.post_counts)
                print(
                    f"warm-up after start {warm:.1f} s (after polling began); first listing "
                    f"matched in {first:.2f} s, second in {second:.2f} s "
                    f"(ratio {first / second:.2f})"
                )
            for level in levels:
                results[level] = {side.name: _level(side, level, rounds) for side in sides}
                _print_level(level, results[level])
        finally:
            collector.running = False
            for side in sides:
                side.process.stop()
    _print_table(results, delay_ms)
    return results


def _print_level(level: int, results: dict[str, Result]) -> None:
    for index, (name, result) in enumerate(results.items()):
        head = f"{level:3d} contacts" if index == 0 else ""
        print(f"{head:13s}{name:16s}{fmt(result)}")
    for label, p95, replies, messages in _ratios(results):
        print(
            f"{'':13s}{label:38s} p95 {p95:5.2f}×  replies/s {replies:5.2f}×  "
            f"messages/s {messages:5.2f}×"
        )
    bot = results[BOT]
    per_reply = bot.messages / len(bot.latencies)
    print(
        f"{'':13s}at {per_reply:.2f} messages per reply the limit of {TELEGRAM_LIMIT:g} "
        f"messages/s caps the bot at {TELEGRAM_LIMIT / per_reply:.1f} replies/s  "
        f"(load {os.getloadavg()[0]:.2f})"
    )


def _print_table(results: dict[int, dict[str, Result]], delay_ms: int) -> None:
    """The pass as a Markdown table (README): figures per bot, then the three comparisons."""
    print(
        f"\n| contacts{f', {delay_ms} ms per call' if delay_ms else ''} | bot | p50 / p95 / max |"
        " replies/s (messages/s) | CPU per reply |"
    )
    print("|---|---|---|---|---|")
    for level, row in results.items():
        for name, r in row.items():
            print(
                f"| {level} | {name} | {r.quantile(0.5) * 1000:.0f} / {r.quantile(0.95) * 1000:.0f}"
                f" / {max(r.latencies) * 1000:.0f} ms | {r.replies_per_second:.1f} "
                f"({r.messages / r.seconds:.1f}) | {r.cpu / len(r.latencies) * 1000:.1f} ms |"
            )
    print("\n| contacts | comparison | p95 ratio | replies/s ratio | messages/s ratio |")
    print("|---|---|---|---|---|")
    for level, row in results.items():
        for label, p95, replies, messages in _ratios(row):
            print(f"| {level} | {label} | {p95:.2f}× | {replies:.2f}× | {messages:.2f}× |")
    print()


def memory(listings: int, work: Path) -> None:
    """RSS of `python -m bot run` with `listings` stored listings after a matching round."""
    from bench.import_speed import make_csv

    url = f"sqlite:///{work / 'memory.db'}"
    upgrade(url)
    csv_path = work / "listings.csv"
    csv_path.write_bytes(make_csv(listings, broken_every=listings + 100))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url}
    # exit code 1: make_csv breaks a few rows on purpose (bench/import_speed.py)
    subprocess.run([sys.executable, "-m", "bot", "import", str(csv_path)], env=env, check=False)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bot", "match"], env=env, check=True)
    print(
        f"{listings} listings imported and matched once (embeddings cached) in "
        f"{time.monotonic() - started:.0f} s"
    )
    with Emulator(token=REAL_TOKEN, log_path=work / "emulator-memory.log") as emu:
        bot = start_real_bot(emu, url, work / "bot-memory.log", MATCH_SCHEDULE="* * * * *")
        try:
            idle = rss_mb(bot.proc.pid)  # type: ignore[union-attr]
            wait_for_log(bot, "matching warm-up:")
            warm = rss_mb(bot.proc.pid)  # type: ignore[union-attr]
            wait_for_log(bot, "matching finished", timeout=240)
            time.sleep(2)
            after = rss_mb(bot.proc.pid)  # type: ignore[union-attr]
        finally:
            bot.stop()
    print(
        f"resident memory of the bot: {idle:.0f} MB polling, {warm:.0f} MB after the warm-up, "
        f"{after:.0f} MB after a matching round over {listings} listings"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", default="1,10,30,50")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--delay-ms", type=int, default=80)
    parser.add_argument("--delay-contacts", default="50")
    parser.add_argument("--delay-rounds", type=int, default=1)
    parser.add_argument("--memory-listings", type=int, default=10_000, help="0 = skip")
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="latency-") as directory:
        work = Path(directory)
        if args.contacts:
            print("== no emulated delay")
            levels = [int(x) for x in args.contacts.split(",")]
            measure(levels, args.rounds, 0, work, post=True)
        if args.delay_ms:
            print(f"== {args.delay_ms} ms emulated network delay per Bot API call")
            levels = [int(x) for x in args.delay_contacts.split(",")]
            measure(levels, args.delay_rounds, args.delay_ms, work, post=False)
        if args.memory_listings:
            print("== memory")
            memory(args.memory_listings, work)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
