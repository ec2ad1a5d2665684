"""`matchbot demo` on a fresh folder: no token, no network, real proposals and a digest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import cli


@pytest.fixture(scope="module")
def demo_output(tmp_path_factory: pytest.TempPathFactory) -> str:
    cli._register()
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    result = CliRunner().invoke(
        cli.app,
        ["demo", "--database", str(database)],
        env={"TELEGRAM_BOT_TOKEN": "", "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert Path(database).exists()
    return result.output


def test_demo_loads_the_regional_sample(demo_output: str) -> None:
    assert "64 listings imported from the bundled CSV, 39 company contacts" in demo_output


def test_demo_proposes_matches_with_reasons_across_clusters(demo_output: str) -> None:
    found = re.search(r"(\d+) proposals \((\d+) across cluster borders\)", demo_output)
    assert found, demo_output[:2000]
    proposals, cross = int(found[1]), int(found[2])
    assert proposals >= 10
    assert cross >= proposals // 2
    assert "Beide nennen" in demo_output


def test_demo_walks_one_proposal_from_review_to_introduction(demo_output: str) -> None:
    for section in ("Review queue of", "Approval → both sides agree → introduction"):
        assert section in demo_output
    assert "(intro_offer)" in demo_output
    assert "(intro_contact)" in demo_output
    assert demo_output.index("(intro_offer)") < demo_output.index("(intro_contact)")


def test_demo_shows_a_weekly_digest_as_sent(demo_output: str) -> None:
    assert "Weekly digest of" in demo_output
    assert re.search(r"Wochenüberblick|weekly digest", demo_output, re.IGNORECASE)
