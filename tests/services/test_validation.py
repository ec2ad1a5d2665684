"""Free-text limits: what a contact may type as a listing, name, region or e-mail."""

from __future__ import annotations

import pytest

from kooperation import validation
from kooperation.validation import (
    InvalidInput,
    clean_email,
    clean_listing_text,
    clean_organization_name,
    clean_person_name,
    clean_region,
    title_for,
)


def code_of(function, value) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        function(value)
    return caught.value.code


def test_listing_text_keeps_a_normal_description_with_line_breaks() -> None:
    text = "  Wir suchen einen Partner\r\nfür Prüfstände   in Leipzig.  "
    assert clean_listing_text(text) == "Wir suchen einen Partner\nfür Prüfstände in Leipzig."


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("zu kurz", "too_short"),
        ("x" * 1001, "too_long"),
        ("🚀🔋⚡️" * 10, "no_words"),
        ("https://example.com/a-very-long-link-path", "no_words"),
        ("siehe www.example.de und https://foo.de/bar 🚀🚀🚀", "no_words"),
    ],
)
def test_listing_text_outside_the_limits_is_refused_with_its_reason(value: str, code: str) -> None:
    assert code_of(clean_listing_text, value) == code


def test_listing_text_limits_are_20_and_1000_characters() -> None:
    assert clean_listing_text("a" * 20) == "a" * 20
    assert clean_listing_text("a" * 1000) == "a" * 1000
    assert code_of(clean_listing_text, "a" * 19) == "too_short"


def test_too_long_reports_the_length_and_the_limit() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_listing_text("Wort " * 300)
    assert caught.value.params == {"max": 1000, "length": 1499}


def test_invisible_control_characters_are_dropped() -> None:
    assert clean_person_name("Erika\u200b Mus\u0007ter") == "Erika Muster"
    assert code_of(clean_person_name, "Erika Mus\u0000ter") == "nul"  # refused, not dropped


def test_names_and_regions_have_their_own_limits() -> None:
    assert code_of(clean_person_name, "x" * 101) == "too_long"
    assert code_of(clean_person_name, "🙂") == "too_short"
    assert code_of(clean_organization_name, "y" * 201) == "too_long"
    assert clean_region("04109") == "04109"
    assert clean_region(" Leipzig ") == "Leipzig"
    assert code_of(clean_region, "z" * 101) == "too_long"


def test_email_is_checked_and_a_dash_clears_it() -> None:
    assert clean_email(" erika@firma.de ") == "erika@firma.de"
    assert clean_email("-") == ""
    assert code_of(clean_email, "erika(at)firma.de") == "bad_email"
    assert code_of(clean_email, "<script>@x.de") == "bad_email"
    assert code_of(clean_email, "a@" + "b" * 200 + ".de") == "too_long"


def test_title_is_the_first_line_cut_at_a_word() -> None:
    assert title_for("Erste Zeile\nzweite") == "Erste Zeile"
    long = "Wort " * 40
    title = title_for(long)
    assert len(title) <= 120 and title.endswith("…") and " Wor…" not in title


@pytest.mark.parametrize(
    "clean",
    [
        validation.clean_listing_text,
        validation.clean_person_name,
        validation.clean_organization_name,
        validation.clean_region,
        validation.clean_email,
        validation.clean_search,
    ],
)
def test_text_with_a_nul_character_is_refused_not_silently_changed(clean) -> None:
    with pytest.raises(validation.InvalidInput) as error:
        clean("Wir suchen\x00 einen Partner für Prüfstände")
    assert error.value.code == "nul"


@pytest.mark.parametrize("raw", ["0", "-5", "1e9", "²", "12 34", "9" * 30, str(2**53), ""])
def test_absurd_telegram_ids_are_refused(raw: str) -> None:
    with pytest.raises(validation.InvalidInput):
        validation.parse_telegram_id(raw)


def test_a_real_telegram_id_is_accepted() -> None:
    assert validation.parse_telegram_id(" 123456789 ") == 123456789
