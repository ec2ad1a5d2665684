"""`.env.example` documents every setting, each with a comment, and nothing else."""

from __future__ import annotations

from pathlib import Path

from kooperation.config import Settings


def test_env_example_lists_every_setting_with_a_comment(repo_root: Path) -> None:
    lines = (repo_root / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = {}
    for index, line in enumerate(lines):
        if line and not line.startswith("#"):
            name = line.split("=", 1)[0]
            documented[name] = lines[index - 1].startswith("#")
    assert set(documented) == {name.upper() for name in Settings.model_fields}
    assert all(documented.values()), [n for n, ok in documented.items() if not ok]
