"""The reason sentence stored with every match, in German and English.

Plain text (no HTML): the bot shows it through its message catalogue, which escapes it.
It names the shared key terms and both clusters, and says when the pair is cross-cluster,
cross-language or reciprocal.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def reason_de(facts: ReasonFacts) -> str:
    if facts.terms_de:
        parts = [f"Beide nennen {_join(facts.terms_de, 'und')}."]
    elif facts.need_language != facts.offer_language:
        parts = ["Bedarf und Angebot beschreiben dasselbe Thema (Deutsch ↔ Englisch)."]
    else:
        parts = ["Bedarf und Angebot beschreiben dasselbe Thema."]
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
    if facts.terms_en:
        parts = [f"Both mention {_join(facts.terms_en, 'and')}."]
    elif facts.need_language != facts.offer_language:
        parts = ["The need and the offer describe the same topic (German ↔ English)."]
    else:
        parts = ["The need and the offer describe the same topic."]
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
