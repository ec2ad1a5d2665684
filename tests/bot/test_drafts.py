"""The listing draft, the sign-up and the review state read back what was stored, also by
older versions, and anything garbled reads as no state instead of breaking the conversation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.drafts import CompanyDraft, ListingDraft, OnboardingState, ReviewState
from kooperation.models import Kind, Listing, Size


def _through_json(user_data: dict[str, Any]) -> dict[str, Any]:
    """What `bot.persistence` hands back after a restart: the JSON column's round trip."""
    stored: dict[str, Any] = json.loads(json.dumps(user_data))
    return stored


def test_a_draft_reads_back_what_it_stored() -> None:
    draft = ListingDraft(Kind.OFFER, "Wir bieten Prüfstände.", ["research"], 12, guess=False)
    user_data: dict[str, Any] = {"lang": "de"}
    draft.to_user_data(user_data)
    assert ListingDraft.from_user_data(_through_json(user_data)) == draft
    assert user_data["lang"] == "de"


def test_a_draft_is_stored_in_the_shape_earlier_versions_read() -> None:
    user_data: dict[str, Any] = {}
    ListingDraft(Kind.NEED, "Gesucht: Partner", ["ai"], guess=True).to_user_data(user_data)
    assert user_data == {
        "draft": {
            "kind": "need",
            "text": "Gesucht: Partner",
            "tags": ["ai"],
            "listing_id": None,
            "guess": True,
        }
    }


def test_a_draft_keeps_the_company_it_was_written_for() -> None:
    draft = ListingDraft(Kind.NEED, "Gesucht: Partner", organization_id=4)
    user_data: dict[str, Any] = {}
    draft.to_user_data(user_data)
    assert user_data["draft"]["organization_id"] == 4
    assert ListingDraft.from_user_data(_through_json(user_data)) == draft


def test_a_draft_stored_before_it_named_its_company_reads_without_one() -> None:
    older = {"draft": {"kind": "need", "text": "x", "tags": [], "listing_id": None}}
    draft = ListingDraft.from_user_data(older)
    assert draft is not None and draft.organization_id is None


@pytest.mark.parametrize(
    ("written_for", "now", "refused"),
    [(4, 4, False), (4, 9, True), (None, 9, False), (4, None, False)],
)
def test_a_draft_is_for_another_company_only_when_both_are_known_and_differ(
    written_for: int | None, now: int | None, refused: bool
) -> None:
    draft = ListingDraft(Kind.NEED, "x", organization_id=written_for)
    assert draft.written_for_another_company(now) is refused


def test_a_draft_written_before_the_kind_was_guessed_still_reads() -> None:
    older = {"draft": {"kind": "offer", "text": "Wir bieten", "tags": [], "listing_id": 7}}
    assert ListingDraft.from_user_data(older) == ListingDraft(Kind.OFFER, "Wir bieten", [], 7)


def test_the_draft_the_first_listing_starts_with_reads_as_an_unwritten_guess() -> None:
    stored = {"draft": {"kind": "need", "text": "", "tags": [], "listing_id": None, "guess": True}}
    draft = ListingDraft.from_user_data(stored)
    assert draft is not None and draft.guess and not draft.written and not draft.editing


@pytest.mark.parametrize("user_data", [{}, {"draft": {}}, {"draft": None}, {"lang": "de"}])
def test_no_draft_reads_as_none(user_data: dict[str, Any]) -> None:
    assert ListingDraft.from_user_data(user_data) is None


@pytest.mark.parametrize(
    "stored",
    [
        "a draft",
        ["need", "text"],
        42,
        {"text": "no kind"},
        {"kind": "wish", "text": "x"},
        {"kind": "need", "text": 5},
        {"kind": "need", "text": "x", "tags": "ai"},
        {"kind": "need", "text": "x", "tags": [1, 2]},
        {"kind": "need", "text": "x", "listing_id": "12"},
        {"kind": "need", "text": "x", "listing_id": -3},
        {"kind": "need", "text": "x", "listing_id": True},
        {"kind": "need", "text": "x", "guess": "yes"},
        {"kind": "need", "text": "x", "organization_id": "4"},
        {"kind": "need", "text": "x", "organization_id": -4},
    ],
)
def test_a_garbled_draft_reads_as_none(stored: object) -> None:
    assert ListingDraft.from_user_data({"draft": stored}) is None


def test_an_edit_draft_takes_the_listings_text_tags_and_id() -> None:
    listing = Listing(id=3, kind="offer", text="Wir bieten Prüfstände.", tags=["research"])
    draft = ListingDraft.of_listing(listing)
    assert draft == ListingDraft(Kind.OFFER, "Wir bieten Prüfstände.", ["research"], 3)
    assert draft.editing and draft.tags is not listing.tags


def test_switching_the_kind_ends_the_guessing() -> None:
    draft = ListingDraft(Kind.NEED, "x", guess=True)
    draft.switch_kind()
    assert draft == ListingDraft(Kind.OFFER, "x")


def test_dropping_the_draft_leaves_the_rest() -> None:
    user_data: dict[str, Any] = {"draft": {"kind": "need"}, "lang": "en"}
    ListingDraft.drop(user_data)
    ListingDraft.drop(user_data)
    assert user_data == {"lang": "en"}


def test_the_sign_up_reads_back_what_it_stored() -> None:
    state = OnboardingState(
        start_payload="co-abc",
        language="en",
        company=CompanyDraft("Zellwerk GmbH", "Leipzig", "logistics", Size.MEDIUM, [4, 9]),
    )
    user_data: dict[str, Any] = {"draft": {"kind": "need"}}
    state.to_user_data(user_data)
    assert OnboardingState.from_user_data(_through_json(user_data)) == state
    assert user_data["draft"] == {"kind": "need"}


def test_the_sign_up_is_stored_under_the_keys_earlier_versions_wrote() -> None:
    user_data: dict[str, Any] = {}
    OnboardingState(
        "co-abc", "en", CompanyDraft("Zellwerk", "Leipzig", "logistics", Size.MICRO, [4])
    ).to_user_data(user_data)
    assert user_data == {
        "start_payload": "co-abc",
        "lang": "en",
        "org_name": "Zellwerk",
        "org_region": "Leipzig",
        "org_cluster": "logistics",
        "org_size": "micro",
        "org_choices": [4],
    }


def test_an_emptied_sign_up_leaves_no_keys_behind() -> None:
    user_data: dict[str, Any] = {"org_name": "Zellwerk", "org_choices": [4], "start_payload": "x"}
    state = OnboardingState.from_user_data(user_data)
    state.company, state.start_payload = CompanyDraft(), ""
    state.to_user_data(user_data)
    assert user_data == {}


def test_a_sign_up_stored_by_an_earlier_version_reads() -> None:
    older = {"lang": "en", "org_name": "Zellwerk", "org_region": "", "org_cluster": "energy"}
    state = OnboardingState.from_user_data(older)
    assert state == OnboardingState(language="en", company=CompanyDraft("Zellwerk", "", "energy"))


def test_a_garbled_company_starts_fresh_and_keeps_the_rest() -> None:
    garbled = {"start_payload": "co-abc", "org_name": "Zellwerk", "org_size": "huge"}
    assert OnboardingState.from_user_data(garbled) == OnboardingState(start_payload="co-abc")


@pytest.mark.parametrize(
    "garbled",
    [
        {"org_choices": "4"},
        {"org_choices": [4, "5"]},
        {"org_choices": [True]},
        {"org_name": ["Zellwerk"]},
        {"org_region": 4},
    ],
)
def test_a_garbled_company_reads_as_none_chosen(garbled: dict[str, Any]) -> None:
    assert OnboardingState.from_user_data(garbled).company == CompanyDraft()


def test_a_garbled_payload_or_language_reads_as_none() -> None:
    state = OnboardingState.from_user_data({"start_payload": 5, "lang": {"de": 1}})
    assert state == OnboardingState()
    assert OnboardingState.from_user_data({}) == OnboardingState()


def test_a_review_session_reads_back_what_it_stored() -> None:
    state = ReviewState(skipped=[4, 9], rejecting=12)
    user_data: dict[str, Any] = {"lang": "de"}
    state.to_user_data(user_data)
    assert ReviewState.from_user_data(_through_json(user_data)) == state
    assert user_data["lang"] == "de"


def test_a_review_session_is_stored_under_the_keys_earlier_versions_wrote() -> None:
    user_data: dict[str, Any] = {}
    ReviewState(skipped=[4], rejecting=7).to_user_data(user_data)
    assert user_data == {"rv_skipped": [4], "rv_rejecting": 7}


def test_a_review_session_stored_by_an_earlier_version_reads() -> None:
    """Earlier versions kept an empty list after /review and popped the rejection when done."""
    assert ReviewState.from_user_data({"rv_skipped": []}) == ReviewState()
    older = {"rv_skipped": [3, 5], "rv_rejecting": 5}
    assert ReviewState.from_user_data(older) == ReviewState([3, 5], 5)


def test_a_finished_review_session_leaves_no_keys_behind() -> None:
    user_data: dict[str, Any] = {"rv_skipped": [3], "rv_rejecting": 5, "lang": "en"}
    ReviewState().to_user_data(user_data)
    assert user_data == {"lang": "en"}


@pytest.mark.parametrize("garbled", [True, {"4": 1}, [[4]], [True], "12", [4, 0], [2**31]])
def test_a_garbled_skip_list_starts_empty_and_keeps_the_pending_rejection(
    garbled: object,
) -> None:
    state = ReviewState.from_user_data({"rv_skipped": garbled, "rv_rejecting": 5})
    assert state == ReviewState(rejecting=5)


@pytest.mark.parametrize("garbled", [True, "12", 1.0, [12], -3, 2**31])
def test_a_garbled_pending_rejection_reads_as_none_and_keeps_the_skip_list(
    garbled: object,
) -> None:
    state = ReviewState.from_user_data({"rv_skipped": [4], "rv_rejecting": garbled})
    assert state == ReviewState(skipped=[4])
