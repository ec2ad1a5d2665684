"""Reasons name only words both texts write, or call a concept a shared topic."""

from __future__ import annotations

import csv
import re

import pytest

from bench.quality import DATA
from matching.lexical import LexicalIndex, Topic, written_cut, written_in_both
from matching.reasons import ReasonFacts, reason_de, reason_en

NEED = "Wir suchen eine Inline-Qualitätsprüfung mit KI für Gussteile."
OFFER = "KI-gestützte Inline-Prüfung von Bauteilen direkt an der Linie."
CYBER = "Cybersicherheit für OT-Netze in der Produktion, Penetrationstests inklusive."
OT_SECURITY = "We offer OT cyber security assessments for plants."


def _facts(terms_de: list[str], terms_en: list[str], languages=("de", "de")) -> ReasonFacts:
    return ReasonFacts(
        terms_de=terms_de,
        terms_en=terms_en,
        need_cluster="Automotive Cluster Ostdeutschland",
        offer_cluster="Cluster IT Mitteldeutschland",
        need_language=languages[0],
        offer_language=languages[1],
        reciprocal=False,
    )


def _quoted(reason: str) -> list[str]:
    return re.findall(r"„([^“]+)“", reason) + re.findall(r"“([^”]+)”", reason)


def test_a_compound_head_is_cut_where_the_written_word_has_it_umlauts_included() -> None:
    assert written_cut("Qualitätsprüfung", len("qualitaets")) == len("Qualitäts")
    assert written_cut("Straßenbahn", len("strassen")) == len("Straßen")
    assert written_cut("Qualitätsprüfung", len("qualita")) is None  # inside the ä


def test_the_head_of_a_compound_with_umlauts_is_named_as_a_whole_word() -> None:
    index = LexicalIndex([NEED, OFFER])
    terms = index.shared_terms(0, 1, "de")
    assert "Prüfung" in terms and "Rüfung" not in terms
    reason = reason_de(_facts(terms, index.shared_terms(0, 1, "en")))
    assert reason.startswith("Beide nennen ") and "„Prüfung“" in reason
    assert "Rüfung" not in reason and "Qualitätsp" not in reason


def test_a_glossary_label_neither_text_uses_is_a_shared_topic_not_a_word() -> None:
    index = LexicalIndex([CYBER, OT_SECURITY])
    de, en = index.shared_terms(0, 1, "de"), index.shared_terms(0, 1, "en")
    assert "Informationssicherheit" in de and isinstance(
        de[de.index("Informationssicherheit")], Topic
    )
    facts = _facts(de, en, ("de", "en"))
    assert "„Informationssicherheit“" not in reason_de(facts)
    assert "Gemeinsames Thema (Deutsch ↔ Englisch): Informationssicherheit" in reason_de(facts)
    assert "Shared topic (German ↔ English): information security" in reason_en(facts)


def test_words_and_topics_together_read_as_one_sentence() -> None:
    facts = _facts(["ADR", Topic("Gefahrgut")], ["ADR", Topic("dangerous goods")])
    assert reason_de(facts).startswith("Beide nennen „ADR“; gemeinsames Thema: Gefahrgut. ")
    assert reason_en(facts).startswith("Both mention “ADR”; shared topic: dangerous goods. ")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Recycling", True), ("Batterie", False), ("Rüfung", False), ("KI", True)],
)
def test_written_in_both_wants_a_word_of_its_own_on_one_side(name: str, expected: bool) -> None:
    a = "Wir suchen Hilfe beim Batterierecycling mit KI."
    b = "Recycling von Batterien, KI-gestützt, Prüfung inklusive."
    assert written_in_both(name, a.casefold(), b.casefold()) is expected


def test_every_word_a_reason_names_on_the_benchmark_set_is_written_in_both_texts() -> None:
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    texts = [row["text"] for row in rows]
    index = LexicalIndex(texts)
    position = {row["ref"]: i for i, row in enumerate(rows)}
    named = 0
    for i, row in enumerate(rows):
        if row["kind"] != "need" or not row.get("gold"):
            continue
        j = position[row["gold"]]
        for language, reason in (("de", reason_de), ("en", reason_en)):
            terms = index.shared_terms(i, j, language)
            facts = _facts(terms, terms, (row["language"], rows[j]["language"]))
            for word in _quoted(reason(facts)):
                named += 1
                assert written_in_both(word, texts[i].casefold(), texts[j].casefold()), (
                    word,
                    texts[i],
                    texts[j],
                )
    assert named > 40  # the set does name words, so the check above has something to check
