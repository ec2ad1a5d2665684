"""The terms cache: texts share their vocabulary's term objects, and weights stay right."""

from __future__ import annotations

from matching.lexical import LexicalIndex, base_terms


def test_cached_texts_share_the_objects_of_their_common_terms():
    first = {t.feature: t for t in base_terms("Wir suchen TISAX-Beratung für Kühlkette")}
    second = {t.feature: t for t in base_terms("TISAX audit support for our cold chain")}
    assert first["tisax"] is second["tisax"]
    assert first["tisax"].technical and not first["~coldchain"].technical


def test_a_technical_term_weighs_more_than_an_ordinary_word_after_caching():
    texts = ["TISAX Beratung Logistik", "TISAX Beratung Logistik", "Kartons Paletten Folie"]
    for _ in range(2):  # the second index comes from the cache
        index = LexicalIndex(texts)
        row = index.matrix.getrow(0).toarray().ravel()
        assert row[index.index["tisax"]] > row[index.index["logistik"]]
