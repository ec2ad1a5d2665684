"""The lexical component: German-aware word features, TF-IDF over the pool, shared key terms.

Why words and not only embeddings: exact technical terms (TISAX, AUTOSAR, ADR, SAP S/4HANA,
IATF 16949) carry the match, and small sentence encoders blur them. Features per text:

- words, lower-cased, umlauts folded (ä→ae, ß→ss), filler words of both languages dropped,
  a light suffix stemmer (Batterien/Batterie, systems/system);
- compound parts: a long German word also yields its head (and modifier) when that part occurs
  as a word of its own elsewhere in the pool (Batterierecycling → recycling, batterie);
- joined forms of technical tokens (S/4HANA → s4hana, IATF 16949 → iatf16949);
- concepts from a small bilingual glossary of the clusters' vocabulary (Kühlkette = cold chain),
  so a German need and an English offer can share a term and the reason can name it in the
  reader's language.

Rows are sublinear TF-IDF, L2-normalised: a need×offer dot product is their cosine.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import sparse

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_TOKEN = re.compile(r"[a-z0-9]+(?:[/\-.][a-z0-9]+)*")
_NUMBER_ONLY = re.compile(r"^[0-9.]+$")

_STOPWORD_TEXT = """
    der die das den dem des ein eine einen einem einer eines und oder aber auch als am an auf aus
    bei bis durch fuer gegen im in ins ist sind mit nach ohne seit ueber um unter von vor zu zum
    zur wir uns unser unsere unseren unserer ihr ihre ihren sie es er man sich wer was wie wo
    wird werden wurde kann koennen soll sollen moechten mochten muss muessen nicht kein keine
    sowie etwa z.b zb bzw ca inkl u.a dass damit diese dieser dieses jede jeden jeder mehr sehr
    neue neuen neuer neues gerne schnell gut hier dort dafuer davon dazu
    suchen suche sucht gesucht bieten biete bietet angebot anbieten benoetigen brauchen
    partner partnerin partnern unternehmen firma firmen kunden kunde projekt projekte
    unterstuetzung unterstuetzen erfahrung erfahrene erfahrenen hilfe loesung loesungen
    bereich thema themen jahr jahre jahren leipzig raum region mitteldeutschland sachsen
    the a an and or but also as at by for from in into of on to with without we us our ours
    you your they their it its is are was be been can could will would should may must not no
    this that these those which who what how where any all some more very new well here
    looking look seek seeking need needs needed offer offers offering provide provides providing
    partner partners company companies customer customers project projects support supporting
    help solution solutions experience experienced area topic year years region leipzig
    germany central eastern
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())

# Concepts that German and English texts of the three clusters name differently. Each entry:
# (feature, German label, English label, patterns matched in the folded text). German
# patterns match inside compounds; English patterns match at a word start.
GLOSSARY: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("~battery", "Batterie", "battery", ("batteri", "akku", r"\bbattery", r"\bbatteries")),
    ("~recycling", "Recycling", "recycling", ("recycl", "wiederverwert")),
    ("~secondlife", "Second Life", "second life", ("second.life", "zweitnutzung", "weiterverwend")),
    (
        "~coldchain",
        "Kühlkette",
        "cold chain",
        (
            "kuehlkette",
            "cold.chain",
            "temperaturgefuehrt",
            "temperature.controlled",
            "gekuehlt",
            "refrigerat",
        ),
    ),
    (
        "~dangerousgoods",
        "Gefahrgut",
        "dangerous goods",
        ("gefahrgut", "dangerous.goods", "hazardous.goods", "hazmat", r"\badr\b"),
    ),
    (
        "~emobility",
        "E-Mobilität",
        "e-mobility",
        ("e-mobil", "elektromobil", "electric.vehicle", r"\bev\b", "elektrofahrzeug"),
    ),
    (
        "~charging",
        "Ladeinfrastruktur",
        "charging",
        ("ladeinfrastruktur", "ladesaeul", "wallbox", "charging", "ladepunkt", "ladestation"),
    ),
    (
        "~machinevision",
        "Bildverarbeitung",
        "machine vision",
        (
            "bildverarbeitung",
            "machine.vision",
            "computer.vision",
            "kamerabasiert",
            "camera-based",
            "optische.pruefung",
            "visual.inspection",
        ),
    ),
    (
        "~inspection",
        "Prüfung",
        "inspection",
        ("pruefung", "inspektion", "inspection", "qualitaetskontrolle", "quality.control"),
    ),
    (
        "~training",
        "Weiterbildung",
        "training",
        (
            "weiterbildung",
            "qualifizierung",
            "umschulung",
            "schulung",
            "training",
            "upskilling",
            "reskilling",
            "retraining",
        ),
    ),
    (
        "~university",
        "Hochschule",
        "university",
        (
            "hochschule",
            "universitaet",
            "university",
            "fraunhofer",
            "forschungsinstitut",
            "research.institute",
        ),
    ),
    ("~funding", "Förderung", "funding", ("foerder", "funding", "grant", "zuschuss")),
    (
        "~warehouse",
        "Lager",
        "warehouse",
        ("lagerflaeche", "lagerhalle", "lagerlogistik", "warehous", "hochregallager"),
    ),
    (
        "~transport",
        "Transport",
        "transport",
        ("transport", "spedition", "freight", "fracht", "haulage", "shipping"),
    ),
    (
        "~security",
        "Informationssicherheit",
        "information security",
        (
            "informationssicherheit",
            "cybersicherheit",
            "cyber.security",
            "cybersecurity",
            "information.security",
            "it-sicherheit",
            "penetrationstest",
            "pentest",
        ),
    ),
    (
        "~quality",
        "Qualitätsmanagement",
        "quality management",
        ("qualitaetsmanagement", "quality.management", "qm-system", r"\bqms\b"),
    ),
    ("~erp", "ERP", "ERP", (r"\berp\b", "s/4hana", r"\bsap\b")),
    ("~mes", "MES", "MES", (r"\bmes\b", "manufacturing.execution", "fertigungssteuerung")),
    ("~welding", "Schweißen", "welding", ("schweiss", "welding", r"\bweld")),
    ("~casting", "Guss", "casting", ("druckguss", "giesserei", "die.casting", "foundry")),
    (
        "~plastics",
        "Kunststoff",
        "plastics",
        ("kunststoff", "plastic", "spritzguss", "injection.mould", "injection.mold"),
    ),
    (
        "~hydrogen",
        "Wasserstoff",
        "hydrogen",
        ("wasserstoff", "hydrogen", "brennstoffzell", "fuel.cell"),
    ),
    ("~lightweight", "Leichtbau", "lightweight design", ("leichtbau", "lightweight")),
    (
        "~skilledworkers",
        "Fachkräfte",
        "skilled workers",
        ("fachkraefte", "fachkraft", "skilled.worker", "recruit", "azubi", "apprentice"),
    ),
    (
        "~ai",
        "KI",
        "AI",
        (
            r"\bki\b",
            r"\bai\b",
            "kuenstliche.intelligenz",
            "artificial.intelligence",
            "machine.learning",
            "maschinelles.lernen",
            "deep.learning",
        ),
    ),
    ("~cloud", "Cloud", "cloud", ("cloud",)),
    ("~sensor", "Sensorik", "sensors", ("sensor",)),
    (
        "~lastmile",
        "letzte Meile",
        "last mile",
        ("letzte.meile", "last.mile", "lastenrad", "cargo.bike", "paketzustell", "parcel.deliver"),
    ),
    ("~customs", "Zoll", "customs", ("zoll", "customs", "export.control", "exportkontrolle")),
    ("~energy", "Energie", "energy", ("energie", "energy", "photovoltai", "solar", "strom")),
    (
        "~digitaltwin",
        "digitaler Zwilling",
        "digital twin",
        ("digitaler.zwilling", "digitalen.zwilling", "digital.twin", "simulation"),
    ),
    (
        "~sustainability",
        "Nachhaltigkeit",
        "sustainability",
        ("nachhaltig", "sustainab", r"\bco2", "klimabilanz", "carbon.footprint", "emission"),
    ),
)
_GLOSSARY_PATTERNS = [
    (feature, re.compile("|".join(patterns))) for feature, _, _, patterns in GLOSSARY
]
GLOSSARY_LABELS = {feature: (de, en) for feature, de, en, _ in GLOSSARY}
GLOSSARY_MATCHERS = dict(_GLOSSARY_PATTERNS)

TECHNICAL_WEIGHT = 3  # an acronym or standard number counts like three ordinary words
COMMON_SHARE = 0.01
COMMON_FLOOR = 50
# texts whose terms stay cached: a programme's listings several times over (a cached text is a
# tuple of references to shared terms: ≈ 0.8 kB for 170 characters, 16 MB for 20k texts)
TERMS_CACHE = 32_768
SHARED_TERMS = 262_144  # distinct (feature, written form) pairs kept as shared objects
_SUFFIXES = ("ungen", "ies", "en", "er", "es", "e", "s", "n")


def fold(text: str) -> str:
    """Lower case, NFKC, umlauts and ß written out: 'Kühlkette' and 'Kuehlkette' agree."""
    return unicodedata.normalize("NFKC", text).lower().translate(_FOLD)


def stem(word: str) -> str:
    """Cuts one inflection suffix from words longer than five letters."""
    if len(word) <= 5 or not word.isalpha():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 5:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


@dataclass(frozen=True, slots=True)
class Term:
    feature: str
    surface: str

    @property
    def technical(self) -> bool:
        """An acronym or a name with digits as written (ADR, TISAX, S/4HANA, IATF 16949)."""
        return _technical(self.surface)


@lru_cache(maxsize=SHARED_TERMS)
def _technical(surface: str) -> bool:
    letters = [ch for ch in surface if ch.isalpha()]
    return len(surface) >= 2 and (
        (bool(letters) and all(ch.isupper() for ch in letters) and len(letters) >= 2)
        or (any(ch.isdigit() for ch in surface) and bool(letters))
    )


@lru_cache(maxsize=SHARED_TERMS)
def _term(feature: str, surface: str) -> Term:
    """One shared object per distinct term: the texts in the terms cache hold references to
    their vocabulary's terms instead of copies of them."""
    return Term(feature, surface)


@lru_cache(maxsize=TERMS_CACHE)
def base_terms(text: str) -> tuple[Term, ...]:
    """Word terms of a text (before compound splitting), each with the word as written.

    Cached by text: tokenising is ~⅔ of building a pool, and a running bot builds one for every
    posted listing and every digest run over mostly unchanged texts.
    """
    return tuple(_base_terms(text))


def _base_terms(text: str) -> list[Term]:
    original = unicodedata.normalize("NFKC", text)
    folded = fold(text)
    terms: list[Term] = []
    # folding keeps positions except for ä/ö/ü/ß → two letters; map surfaces via a word list
    surfaces = re.findall(r"[\wÄÖÜäöüß]+(?:[/\-.][\wÄÖÜäöüß]+)*", original)
    surface_by_folded = {fold(word): word for word in surfaces}
    for match in _TOKEN.finditer(folded):
        token = match.group(0).strip(".")
        surface = surface_by_folded.get(token, token)
        parts = re.split(r"[/\-.]", token)
        written = re.split(r"[/\-.]", surface)
        if len(written) != len(parts):
            written = parts
        if len(parts) > 1:
            joined = "".join(parts)
            if len(joined) >= 3:
                terms.append(_term(joined, surface))
        for part, part_written in zip(parts, written, strict=True):
            if part in STOPWORDS or len(part) < 2 or (_NUMBER_ONLY.match(part) and len(part) < 3):
                continue
            if len(part) == 2 and not any(ch.isdigit() for ch in part) and len(parts) == 1:
                continue
            terms.append(_term(stem(part), part_written))
    # adjacent pair of a standard name and its number: "IATF 16949", "ISO 26262"
    tokens = _TOKEN.findall(folded)
    for first, second in itertools.pairwise(tokens):
        if first.isalpha() and second.isdigit() and len(second) >= 3:
            terms.append(_term(first + second, f"{first.upper()} {second}"))
    for feature, pattern in _GLOSSARY_PATTERNS:
        if pattern.search(folded):
            terms.append(_term(feature, feature))
    return terms


def written_cut(surface: str, cut: int) -> int | None:
    """Where the folded form's index `cut` falls in the word as written: folding writes ä, ö, ü
    and ß as two letters, so "Qualitätsprüfung" is cut at 9, not at the folded form's 10.
    None when `cut` falls inside a folded letter or the surface is not the folded word's."""
    folded = 0
    for index, char in enumerate(surface):
        if folded == cut:
            return index
        if folded > cut:
            return None
        folded += len(fold(char))
    return len(surface) if folded == cut else None


def split_compounds(terms: Sequence[Term], vocabulary: set[str]) -> list[Term]:
    """Adds the longest known head (and its modifier) of each long word: German compounds."""
    extra: list[Term] = []
    for term in terms:
        word = term.feature
        if len(word) < 9 or not word.isalpha() or word.startswith("~"):
            continue
        for cut in range(4, len(word) - 3):
            head = word[cut:]
            if head in vocabulary:
                at = written_cut(term.surface, cut)
                written = term.surface[at:].capitalize() if at is not None else ""
                extra.append(Term(head, written or head))
                modifier = word[:cut]
                for candidate in (modifier, modifier.removesuffix("s"), modifier + "e"):
                    if len(candidate) >= 4 and stem(candidate) in vocabulary:
                        front = term.surface[:at].rstrip("s") if at is not None else ""
                        extra.append(Term(stem(candidate), front or stem(candidate)))
                        break
                break
    return [*terms, *extra]


class Topic(str):
    """A shared term that is not written the same way in both texts (a glossary concept across
    languages, or a part of two different compounds): a reason names it as a shared topic,
    never as a word both texts use."""


def _words_of(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _written_in(name: str, text: str, *, whole: bool) -> bool:
    """Whether `name` stands in `text` as a word of its own, or (`whole=False`) also as the
    start or end of a longer word (a compound part: Recycling in Batterierecycling)."""
    escaped = re.escape(_words_of(name)).replace(r"\ ", r"\s+")
    pattern = rf"(?<!\w){escaped}(?!\w)" if whole else rf"(?<!\w){escaped}|{escaped}(?!\w)"
    return re.search(pattern, text) is not None


def written_in_both(name: str, text_a: str, text_b: str) -> bool:
    """A word both texts use as written: a word of its own in one of them, and a word or the
    start or end of a compound in the other."""
    return (
        _written_in(name, text_a, whole=False)
        and _written_in(name, text_b, whole=False)
        and (_written_in(name, text_a, whole=True) or _written_in(name, text_b, whole=True))
    )


class LexicalIndex:
    """TF-IDF rows over the pool's word features; built once per round."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = list(texts)
        base = [base_terms(text) for text in self.texts]
        vocabulary = {t.feature for terms in base for t in terms if len(t.feature) >= 4}
        self.docs = [split_compounds(terms, vocabulary) for terms in base]
        index: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        counts: list[int] = []
        for row, terms in enumerate(self.docs):
            counted: dict[int, int] = {}
            for term in terms:
                column = index.setdefault(term.feature, len(index))
                weight = TECHNICAL_WEIGHT if term.technical else 1
                counted[column] = counted.get(column, 0) + weight
            rows.extend([row] * len(counted))
            cols.extend(counted.keys())
            counts.extend(counted.values())
        self.features = list(index)
        self.index = index
        shape = (len(self.docs), max(len(index), 1))
        tf = sparse.csr_matrix(
            (np.asarray(counts, dtype=np.float32), (rows, cols)), shape=shape, dtype=np.float32
        )
        df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=shape[1]).astype(np.float32)
        self.idf = (np.log((1.0 + shape[0]) / (1.0 + df)) + 1.0).astype(np.float32)
        # words in more than 1 % of a large pool are domain filler, not key terms: dropping
        # them keeps the need × offer product sparse (and changes rankings very little)
        self.idf[df > max(COMMON_FLOOR, COMMON_SHARE * shape[0])] = 0.0
        tf.data = (1.0 + np.log(tf.data)).astype(np.float32)
        weighted = tf @ sparse.diags(self.idf, format="csr")
        weighted.eliminate_zeros()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.matrix: sparse.csr_matrix = sparse.csr_matrix(
            sparse.diags(1.0 / norms).astype(np.float32) @ weighted, dtype=np.float32
        )

    def rows(self, positions: np.ndarray) -> sparse.csr_matrix:
        return self.matrix[positions]

    def shared_terms(self, a: int, b: int, language: str, limit: int = 4) -> list[str]:
        """Key terms both texts name, strongest first, in the reader's language.

        A term is named as written when both texts use that word (`written_in_both`); a
        glossary concept or a compound part the two texts write differently comes back as a
        `Topic`, which a reason calls a shared topic (at most two of them).
        """
        row_a, row_b = self.matrix.getrow(a), self.matrix.getrow(b)
        weights_b = dict(zip(row_b.indices.tolist(), row_b.data.tolist(), strict=True))
        scored = sorted(
            (
                (weight * weights_b[column], column)
                for column, weight in zip(row_a.indices.tolist(), row_a.data.tolist(), strict=True)
                if column in weights_b
            ),
            reverse=True,
        )
        text_a, text_b = _words_of(self.texts[a]), _words_of(self.texts[b])
        names: list[str] = []
        topics = 0
        seen: set[str] = set()
        for _, column in scored:
            feature = self.features[column]
            name = self._name(feature, a, b, language, text_a, text_b)
            key = fold(name).replace(" ", "")
            if any(key in other or other in key for other in seen):
                continue
            concept = GLOSSARY_MATCHERS.get(feature)
            if concept is not None and any(concept.search(fold(shown)) for shown in names):
                continue  # the concept of a word already named (Prüfung → inspection)
            if isinstance(name, Topic):
                if topics == 2:
                    continue
                topics += 1
            seen.add(key)
            names.append(name)
            if len(names) == limit:
                break
        return names

    def _name(self, feature: str, a: int, b: int, language: str, text_a: str, text_b: str) -> str:
        """How a reason names one shared feature: a word both texts write, else a Topic."""
        if feature.startswith("~"):
            de, en = GLOSSARY_LABELS[feature]
            label = en if language == "en" else de
            return label if written_in_both(label, text_a, text_b) else Topic(label)
        written = [t.surface for t in self.docs[a] if t.feature == feature]
        written += [t.surface for t in self.docs[b] if t.feature == feature]
        for surface in dict.fromkeys(written):
            if written_in_both(surface, text_a, text_b):
                return surface
        return Topic(written[0] if written else feature)
