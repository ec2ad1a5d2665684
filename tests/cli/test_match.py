"""`matchbot match` shows how embedding goes: a bar with rate and time left, or log lines."""

from __future__ import annotations

import io
import time

from rich.console import Console

from bot.cli.match import embedding_progress


def test_on_a_terminal_a_bar_shows_count_rate_and_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=140, color_system=None)
    with embedding_progress(console) as progress:
        progress(0, 10_000)
        time.sleep(0.3)
        progress(2_000, 10_000)
        time.sleep(0.3)
        progress(4_000, 10_000)
        console.file.flush()
        time.sleep(0.2)  # the bar refreshes 10 times a second
        shown = out.getvalue()
    assert "Embedding" in shown and "4000/10000" in shown
    assert "texts/s" in shown and "left" in shown and "0:00:0" in shown


def test_in_a_log_a_line_reports_progress_rate_and_time_left() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=140)
    with embedding_progress(console) as progress:
        progress(0, 300)
        time.sleep(0.2)
        progress(100, 300)  # within the reporting interval: no line
        progress(300, 300)
    lines = out.getvalue().splitlines()
    assert lines[0] == "Embedding 0/300 texts, 0.0 texts/s, time left unknown"
    assert lines[-1].startswith("Embedding 300/300 texts, ") and lines[-1].endswith("0 s left")
    assert len(lines) == 2


def test_nothing_to_embed_prints_nothing() -> None:
    out = io.StringIO()
    with embedding_progress(Console(file=out, force_terminal=False)) as progress:
        progress(0, 0)
    assert out.getvalue() == ""
