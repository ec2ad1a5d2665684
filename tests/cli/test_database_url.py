"""A DATABASE_URL that cannot be used ends every command with one line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

BAD_URLS = {
    "bad port": "postgresql+psycopg://postgres@127.0.0.1:1/matchbot",
    "unknown host": "postgresql://postgres:s3cret@no-such-host.invalid:5432/matchbot",
    "database does not exist": "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_db_4711",
    "sqlite folder does not exist": "sqlite:////nonexistent-folder-4711/matchbot.db",
    "garbage": "not a url",
    "empty": "",
    "driver not installed": "mysql://user@localhost/matchbot",
}


def matchbot(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TELEGRAM_BOT_TOKEN": "123:TOKEN",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,  # no .env of the developer's
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: setting DATABASE_URL is invalid: "), lines[0]
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_a_bad_database_url_ends_the_command_with_one_line(tmp_path: Path, url: str) -> None:
    result = matchbot(tmp_path, url, "stats")
    assert_one_line_exit_2(result)
    assert "s3cret" not in result.stderr  # the password stays hidden


@pytest.mark.parametrize(
    "args",
    [
        ("run",),
        ("db", "upgrade"),
        ("db", "downgrade", "base"),
        ("import", "listings.csv"),
        ("export",),
        ("export", "introductions", "--csv"),
        ("match",),
        ("digest", "--dry-run", "--no-opportunities"),
        ("outbox",),
        ("audit",),
        ("manager", "add", "4242", "it"),
        ("admin", "add", "4242"),
    ],
    ids=lambda args: " ".join(args),
)
def test_every_command_and_the_bot_itself_name_the_setting(tmp_path: Path, args) -> None:
    (tmp_path / "listings.csv").write_text("organization,cluster,kind,text\n", encoding="utf-8")
    result = matchbot(tmp_path, BAD_URLS["bad port"], *args)
    assert_one_line_exit_2(result)
    assert "port 1 failed" in result.stderr
