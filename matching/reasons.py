"""The reason sentence stored with every match, in German and English.

Plain text (no HTML): the bot shows it through its message catalogue, which escapes it.
It names the shared key terms and both clusters, and says when the pair is cross-cluster,
cross-language or reciprocal. "Both mention" names only words both texts use as written;
a term the two texts write differently (a glossary concept across languages, a part of two
different compounds) arrives as a `Topic` and is named as a shared topic.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.lexical import Topic


@dataclass(frozen=True)
class ReasonFacts:
    terms_de: list[str]
    terms_en: list[str]
    need_cluster: str
    offer_cluster: str
    need_language: str
    offer_language: str
    reciprocal: bool


def _join(terms: list[str], conjunction: str) -> str:
    quoted = [f"„{t}“" if conjunction == "und" else f"“{t}”" for t in terms]
    if len(quoted) <= 1:
        return "".join(quoted)
    return f"{', '.join(quoted[:-1])} {conjunction} {quoted[-1]}"


def _split(terms: list[str]) -> tuple[list[str], list[str]]:
    words = [term for term in terms if not isinstance(term, Topic)]
    return words, [term for term in terms if isinstance(term, Topic)]


def _topics(topics: list[str], conjunction: str) -> str:
    if len(topics) <= 1:
        return "".join(topics)
    return f"{', '.join(topics[:-1])} {conjunction} {topics[-1]}"


def _opening_de(facts: ReasonFacts) -> str:
    words, topics = _split(facts.terms_de)
    label = "gemeinsames Thema" if len(topics) == 1 else "gemeinsame Themen"
    if words and topics:
        return f"Beide nennen {_join(words, 'und')}; {label}: {_topics(topics, 'und')}."
    if words:
        return f"Beide nennen {_join(words, 'und')}."
    crossing = " (Deutsch ↔ Englisch)" if facts.need_language != facts.offer_language else ""
    if topics:
        return f"{label[0].upper()}{label[1:]}{crossing}: {_topics(topics, 'und')}."
    return f"Bedarf und Angebot beschreiben dasselbe Thema{crossing}."


def _opening_en(facts: ReasonFacts) -> str:
    words, topics = _split(facts.terms_en)
    label = "shared topic" if len(topics) == 1 else "shared topics"
    if words and topics:
        return f"Both mention {_join(words, 'and')}; {label}: {_topics(topics, 'and')}."
    if words:
        return f"Both mention {_join(words, 'and')}."
    crossing = " (German ↔ English)" if facts.need_language != facts.offer_language else ""
    if topics:
        return f"{label[0].upper()}{label[1:]}{crossing}: {_topics(topics, 'and')}."
    return f"The need and the offer describe the same topic{crossing}."


def reason_de(facts: ReasonFacts) -> str:
    parts = [_opening_de(facts)]
    if facts.need_cluster != facts.offer_cluster:
        parts.append(
            f"Der Bedarf kommt aus dem {facts.need_cluster}, das Angebot aus dem "
            f"{facts.offer_cluster} – eine clusterübergreifende Kooperation."
        )
    else:
        parts.append(f"Bedarf und Angebot kommen beide aus dem {facts.need_cluster}.")
    if facts.reciprocal:
        parts.append(
            "Es passt auch umgekehrt: die anbietende Organisation sucht etwas, "
            "das die andere anbietet."
        )
    return " ".join(parts)


def reason_en(facts: ReasonFacts) -> str:
    parts = [_opening_en(facts)]
    if facts.need_cluster != facts.offer_cluster:
        parts.append(
            f"The need comes from {facts.need_cluster}, the offer from "
            f"{facts.offer_cluster} – a cross-cluster cooperation."
        )
    else:
        parts.append(f"Need and offer both come from {facts.need_cluster}.")
    if facts.reciprocal:
        parts.append(
            "It also works the other way round: the offering organization is looking "
            "for something the other one offers."
        )
    return " ".join(parts)
