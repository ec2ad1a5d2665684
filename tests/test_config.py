"""A bad setting ends every command with one line naming it and exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kooperation.config import SettingsError, load_settings


def matchbot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TIMEZONE", "Mars/Olympus"),
        ("ADMIN_TELEGRAM_IDS", "12,abc"),
        ("DIGEST_SCHEDULE", "every monday"),
        ("QUIET_HOURS", "nachts"),
        ("MATCH_MIN_SCORE", "high"),
        ("LOG_LEVEL", "LOUD"),
    ],
)
def test_malformed_setting_is_one_line_naming_it_with_exit_code_2(
    tmp_path: Path, name: str, value: str
) -> None:
    result = matchbot("db", "upgrade", env={name: value}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_run_without_token_says_which_setting_is_missing(tmp_path: Path) -> None:
    result = matchbot("run", env={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_read_lists_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", "11, 22;33")
    settings = load_settings(_env_file=None)
    assert settings.admin_telegram_ids == [11, 22, 33]
    assert settings.timezone == "Europe/Berlin"
    assert settings.database_url == "sqlite:///matchbot.db"


def test_settings_error_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCH_MAX_PER_NEED", "many")
    with pytest.raises(SettingsError, match="MATCH_MAX_PER_NEED"):
        load_settings(_env_file=None)
