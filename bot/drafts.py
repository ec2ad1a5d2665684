"""What a conversation remembers between updates, typed: the listing draft, the sign-up and a
manager's /review session.

All live in `user_data`, which `bot.persistence` stores as JSON in `bot_state` and which
outlives a deploy. So the stored shape is the one earlier versions wrote (the draft as a dict
under "draft", the sign-up and the review under flat keys, "lang" also read by
`bot.members`): a restart in the middle of a conversation, onto a newer or an older version,
keeps it. Fields added later default when missing. Anything that does not read as a state
(garbled, hand-edited, from a future version) counts as no state: the handler takes its
"stale" path, nobody gets a traceback, and the next save writes a clean shape.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from kooperation.models import ID_MAX, Kind, Listing, Size

log = logging.getLogger(__name__)
T = TypeVar("T")

UserData = MutableMapping[str, Any]
"""`context.user_data`: JSON values under string keys."""


class Garbled(ValueError):
    """A stored value that is not what this version writes there."""


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Garbled(key)
    return value


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise Garbled(key)
    return value


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= ID_MAX


def _id(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or value == 0:  # 0 never named a listing: earlier versions read it as None
        return None
    if not _is_id(value):
        raise Garbled(key)
    return int(value)


def _texts(data: Mapping[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise Garbled(key)
    return list(value)


def _ids(data: Mapping[str, Any], key: str) -> list[int]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(_is_id(item) for item in value):
        raise Garbled(key)
    return list(value)


def _choice(data: Mapping[str, Any], key: str, allowed: set[str]) -> str:
    value = _text(data, key)
    if value and value not in allowed:
        raise Garbled(key)
    return value


def _put(user_data: UserData, key: str, value: object) -> None:
    """Stores `value`, or removes the key for an empty one (as earlier versions popped it)."""
    if value:
        user_data[key] = value
    else:
        user_data.pop(key, None)


# ---- the listing draft


@dataclass
class ListingDraft:
    """A need or offer being written (`listing_id` None) or a published one being edited."""

    kind: Kind = Kind.NEED
    text: str = ""
    tags: list[str] = field(default_factory=list)
    listing_id: int | None = None
    guess: bool = False
    """The first listing after sign-up: the kind follows the wording until the contact picks."""
    organization_id: int | None = None
    """The company a new listing is written for; None in drafts stored before it was kept."""

    KEY: ClassVar[str] = "draft"

    @classmethod
    def of_listing(cls, listing: Listing) -> ListingDraft:
        """A draft that edits `listing`: its text and tags, its kind fixed."""
        return cls(Kind(listing.kind), listing.text, list(listing.tags), listing.id)

    @property
    def editing(self) -> bool:
        return self.listing_id is not None

    @property
    def written(self) -> bool:
        """The text is in: the preview can be shown and the draft saved."""
        return bool(self.text)

    def written_for_another_company(self, organization_id: int | None) -> bool:
        """The contact now speaks for `organization_id`, not for the company this new listing
        was written for: publishing it would post one company's text in another's name. (No
        company now, or a draft that names none, is for the service to judge, as before.)"""
        if self.organization_id is None or organization_id is None:
            return False
        return self.organization_id != organization_id

    def switch_kind(self) -> None:
        """Need to offer or back; the contact's choice ends the guessing."""
        self.kind = Kind.OFFER if self.kind == Kind.NEED else Kind.NEED
        self.guess = False

    @classmethod
    def from_user_data(cls, user_data: Mapping[str, Any]) -> ListingDraft | None:
        """The stored draft, or None if there is none or it does not read as one."""
        stored = user_data.get(cls.KEY)
        if not stored:
            return None
        try:
            return cls._read(stored)
        except Garbled as error:
            log.warning("stored listing draft unreadable at %r; treated as none", str(error))
            return None

    @classmethod
    def _read(cls, stored: object) -> ListingDraft:
        if not isinstance(stored, Mapping):
            raise Garbled(cls.KEY)
        kind = _choice(stored, "kind", {kind.value for kind in Kind})
        if not kind:
            raise Garbled("kind")
        return cls(
            kind=Kind(kind),
            text=_text(stored, "text"),
            tags=_texts(stored, "tags"),
            listing_id=_id(stored, "listing_id"),
            guess=_flag(stored, "guess"),
            organization_id=_id(stored, "organization_id"),
        )

    def to_user_data(self, user_data: UserData) -> None:
        """Stores the draft with every key earlier versions wrote (they ignore the company)."""
        stored: dict[str, object] = {
            "kind": self.kind.value,
            "text": self.text,
            "tags": list(self.tags),
            "listing_id": self.listing_id,
            "guess": self.guess,
        }
        if self.organization_id is not None:
            stored["organization_id"] = self.organization_id
        user_data[self.KEY] = stored

    @classmethod
    def drop(cls, user_data: UserData) -> None:
        """Forgets the draft: saved, discarded or started over."""
        user_data.pop(cls.KEY, None)


# ---- the sign-up


@dataclass
class CompanyDraft:
    """The company a new contact searched for, and what they told about a new one."""

    name: str = ""
    region: str = ""
    cluster: str = ""
    size: Size | None = None
    choices: list[int] = field(default_factory=list)
    """Ids of the search hits just offered: the only ones a pick may ask to join."""

    @classmethod
    def _read(cls, data: Mapping[str, Any]) -> CompanyDraft:
        size = _choice(data, "org_size", {size.value for size in Size})
        return cls(
            name=_text(data, "org_name"),
            region=_text(data, "org_region"),
            cluster=_text(data, "org_cluster"),
            size=Size(size) if size else None,
            choices=_ids(data, "org_choices"),
        )

    def _write(self, user_data: UserData) -> None:
        _put(user_data, "org_name", self.name)
        _put(user_data, "org_region", self.region)
        _put(user_data, "org_cluster", self.cluster)
        _put(user_data, "org_size", self.size.value if self.size else "")
        _put(user_data, "org_choices", list(self.choices))


@dataclass
class OnboardingState:
    """What /start keeps until the member row holds it (or the sign-up ends)."""

    start_payload: str = ""
    """The deep link's payload, kept from /start until consent (then redeemed)."""
    language: str = ""
    """Chosen on the welcome screen, before there is a member to store it on."""
    company: CompanyDraft = field(default_factory=CompanyDraft)

    @classmethod
    def from_user_data(cls, user_data: Mapping[str, Any]) -> OnboardingState:
        """The stored state; a part that does not read starts fresh."""
        return cls(
            start_payload=_part(lambda: _text(user_data, "start_payload"), ""),
            language=_part(lambda: _text(user_data, "lang"), ""),
            company=_part(lambda: CompanyDraft._read(user_data), CompanyDraft()),
        )

    def to_user_data(self, user_data: UserData) -> None:
        """Stores the state; empty fields leave no key behind (nothing is kept before consent
        that was not asked for)."""
        _put(user_data, "start_payload", self.start_payload)
        _put(user_data, "lang", self.language)
        self.company._write(user_data)


def _part(read: Callable[[], T], fresh: T) -> T:
    try:
        return read()
    except Garbled as error:
        log.warning(
            "stored conversation state unreadable at %r; that part starts fresh", str(error)
        )
        return fresh


# ---- a manager's /review session


@dataclass
class ReviewState:
    """The proposals skipped since /review, and the match whose rejection waits for a reason."""

    skipped: list[int] = field(default_factory=list)
    """Shown again only with the next /review."""
    rejecting: int | None = None

    SKIPPED: ClassVar[str] = "rv_skipped"
    REJECTING: ClassVar[str] = "rv_rejecting"

    @classmethod
    def from_user_data(cls, user_data: Mapping[str, Any]) -> ReviewState:
        """The stored state; a part that does not read starts fresh (a garbled skip list does
        not cancel a pending rejection, nor the other way round)."""
        return cls(
            skipped=_part(lambda: _ids(user_data, cls.SKIPPED), []),
            rejecting=_part(lambda: _id(user_data, cls.REJECTING), None),
        )

    def to_user_data(self, user_data: UserData) -> None:
        """Stores the state; an empty skip list or no pending rejection leaves no key (earlier
        versions read a missing key as exactly that)."""
        _put(user_data, self.SKIPPED, list(self.skipped))
        _put(user_data, self.REJECTING, self.rejecting)
