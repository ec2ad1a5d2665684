"""Reference data that lives in `kooperation/data/*.toml`, not in code."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class ClusterSpec:
    slug: str
    name: str
    short_name: str


@dataclass(frozen=True)
class Category:
    slug: str
    de: str
    en: str

    def label(self, language: str) -> str:
        return self.en if language == "en" else self.de


@lru_cache(maxsize=1)
def cluster_specs() -> tuple[ClusterSpec, ...]:
    data = tomllib.loads((DATA_DIR / "clusters.toml").read_text(encoding="utf-8"))
    return tuple(ClusterSpec(**row) for row in data["cluster"])


@lru_cache(maxsize=1)
def categories() -> tuple[Category, ...]:
    data = tomllib.loads((DATA_DIR / "categories.toml").read_text(encoding="utf-8"))
    return tuple(Category(**row) for row in data["category"])


def category(slug: str) -> Category | None:
    return next((c for c in categories() if c.slug == slug), None)
