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


@dataclass(frozen=True)
class _Phrases:
    """The words of a reason in one language: the opening's words, then the clusters'
    sentences (`{need}`, `{offer}`, `{cluster}` are cluster names) and the reciprocal one."""

    mention: str
    conjunction: str
    topic: str
    topics: str
    crossing: str
    same_topic: str
    cross_cluster: str
    same_cluster: str
    reciprocal: str


_DE = _Phrases(
    mention="Beide nennen",
    conjunction="und",
    topic="gemeinsames Thema",
    topics="gemeinsame Themen",
    crossing=" (Deutsch ↔ Englisch)",
    same_topic="Bedarf und Angebot beschreiben dasselbe Thema",
    cross_cluster=(
        "Der Bedarf kommt aus dem {need}, das Angebot aus dem {offer} – eine "
        "clusterübergreifende Kooperation."
    ),
    same_cluster="Bedarf und Angebot kommen beide aus dem {cluster}.",
    reciprocal=(
        "Es passt auch umgekehrt: die anbietende Organisation sucht etwas, das die andere anbietet."
    ),
)
_EN = _Phrases(
    mention="Both mention",
    conjunction="and",
    topic="shared topic",
    topics="shared topics",
    crossing=" (German ↔ English)",
    same_topic="The need and the offer describe the same topic",
    cross_cluster=(
        "The need comes from {need}, the offer from {offer} – a cross-cluster cooperation."
    ),
    same_cluster="Need and offer both come from {cluster}.",
    reciprocal=(
        "It also works the other way round: the offering organization is looking "
        "for something the other one offers."
    ),
)


def _opening(facts: ReasonFacts, terms: list[str], words_of: _Phrases) -> str:
    words, topics = _split(terms)
    conjunction = words_of.conjunction
    label = words_of.topic if len(topics) == 1 else words_of.topics
    if words and topics:
        named = _join(words, conjunction)
        return f"{words_of.mention} {named}; {label}: {_topics(topics, conjunction)}."
    if words:
        return f"{words_of.mention} {_join(words, conjunction)}."
    crossing = words_of.crossing if facts.need_language != facts.offer_language else ""
    if topics:
        return f"{label[0].upper()}{label[1:]}{crossing}: {_topics(topics, conjunction)}."
    return f"{words_of.same_topic}{crossing}."


def _reason(facts: ReasonFacts, terms: list[str], words_of: _Phrases) -> str:
    parts = [_opening(facts, terms, words_of)]
    if facts.need_cluster != facts.offer_cluster:
        parts.append(
            words_of.cross_cluster.format(need=facts.need_cluster, offer=facts.offer_cluster)
        )
    else:
        parts.append(words_of.same_cluster.format(cluster=facts.need_cluster))
    if facts.reciprocal:
        parts.append(words_of.reciprocal)
    return " ".join(parts)


def reason_de(facts: ReasonFacts) -> str:
    return _reason(facts, facts.terms_de, _DE)


def reason_en(facts: ReasonFacts) -> str:
    return _reason(facts, facts.terms_en, _EN)
