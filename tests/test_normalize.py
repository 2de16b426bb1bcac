"""Value normalisation: property tests over the forms Excel and LibreOffice produce."""

from __future__ import annotations

import datetime as dt
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from panorama_xl.normalize import (
    display_text,
    is_blank,
    looks_like_formula,
    normalize_text,
    parse_date,
    parse_email,
    parse_integer,
    parse_year,
    parse_yes_no,
    serial_to_date,
)

SPACES = st.sampled_from([" ", "  ", "\u00a0", "\u202f", "\t", " \u00a0 "])


def strip_accents(text: str) -> str:
    return "".join(
        ch
        for ch in unicodedata.normalize("NFKD", text)
        if not unicodedata.combining(ch)
    )


def random_case(text: str, flips: list[bool]) -> str:
    return "".join(
        ch.upper() if flip else ch.lower()
        for ch, flip in zip(text, flips + [False] * len(text))
    )


@given(st.text(max_size=40))
def test_normalize_idempotent(text):
    assert normalize_text(normalize_text(text)) == normalize_text(text)


@given(st.text(max_size=40))
def test_normalize_has_no_edge_or_double_spaces(text):
    key = normalize_text(text)
    assert key == key.strip()
    assert "  " not in key


@settings(max_examples=200)
@given(st.data())
def test_every_label_found_whatever_the_spelling(survey, data):
    vocabulary = survey.vocabularies[
        data.draw(
            st.sampled_from(
                [
                    "domains",
                    "subdomains",
                    "vendors",
                    "products",
                    "hosting",
                    "renewal",
                    "respondents",
                ]
            )
        )
    ]
    entry = data.draw(st.sampled_from(vocabulary.entries))
    label = entry.label
    flips = data.draw(st.lists(st.booleans(), min_size=len(label), max_size=len(label)))
    spelled = random_case(label, flips)
    if data.draw(st.booleans()):
        spelled = strip_accents(spelled)
    words = spelled.split(" ")
    spelled = data.draw(SPACES).join(words)
    spelled = data.draw(SPACES) + spelled + data.draw(SPACES)
    assert vocabulary.lookup(spelled) is entry


@given(st.integers(min_value=0, max_value=10**6))
def test_integer_forms(number):
    for form in (
        number,
        float(number),
        str(number),
        f" {number} ",
        f"{number},0",
        f"{number}.00",
        f"+{number}",
    ):
        parsed = parse_integer(form)
        assert parsed.ok, form
        assert parsed.value == number, form


@given(st.integers(min_value=0, max_value=5))
def test_score_out_of_five(score):
    assert parse_integer(f"{score}/5", maximum=5).value == score
    assert parse_integer(f"{score} / 5", maximum=5).value == score
    assert not parse_integer(f"{score}/10", maximum=5).ok


@given(
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda value: not value.is_integer()
    )
)
def test_fractions_are_not_whole(value):
    assert parse_integer(value).error == "not-whole"


@given(st.one_of(st.booleans(), st.dates(), st.just("quatre"), st.just("4 ans")))
def test_not_integers(value):
    assert not parse_integer(value).ok


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)))
def test_date_round_trips(day):
    serial_1900 = (day - dt.date(1899, 12, 30)).days
    assert parse_date(float(serial_1900)).value == day
    assert parse_date(day.strftime("%d/%m/%Y")).value == day
    assert parse_date(day.isoformat()).value == day
    assert parse_date(dt.datetime.combine(day, dt.time(13, 5))).value == day


@given(st.dates(min_value=dt.date(1904, 1, 2), max_value=dt.date(9999, 12, 31)))
def test_1904_serials(day):
    serial = (day - dt.date(1904, 1, 1)).days
    assert serial_to_date(serial, date1904=True) == day
    assert parse_date(serial, date1904=True).value == day


@given(st.floats(min_value=2_958_466, max_value=1e12))
def test_serials_beyond_year_9999(serial):
    assert parse_date(serial).error == "date-out-of-range"


def test_text_dates_read_day_first():
    assert parse_date("03/04/2025").value == dt.date(2025, 4, 3)
    assert parse_date("3.4.25").value == dt.date(2025, 4, 3)
    assert parse_date("03/04/2025").note == "date-from-text"
    assert parse_date("31/02/2025").error == "not-a-date"
    assert parse_date("mars 2025").error == "not-a-date"


@given(st.integers(min_value=1000, max_value=2999))
def test_year_forms(year):
    for form in (year, float(year), str(year), f"{year}.0"):
        assert parse_year(form).value == year
    assert parse_year(dt.date(year, 6, 1)).note == "year-from-date"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("oui", True),
        ("OUI", True),
        (" Oui ", True),
        ("o", True),
        (True, True),
        (1, True),
        ("non", False),
        ("Non", False),
        ("FAUX", False),
        (False, False),
        (0.0, False),
    ],
)
def test_yes_no(value, expected):
    assert parse_yes_no(value).value is expected


@pytest.mark.parametrize("value", ["peut-être", 2, "", "ouiii"])
def test_yes_no_rejected(value):
    assert not parse_yes_no(value).ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a.b@dep.fr", "a.b@dep.fr"),
        (" a.b@dep.fr ", "a.b@dep.fr"),
        ("mailto:a@b.fr", "a@b.fr"),
        ("a b@dep.fr", None),
        ("a@dep", None),
        ("@dep.fr", None),
        ("a@@dep.fr", None),
    ],
)
def test_email(value, expected):
    parsed = parse_email(value)
    assert (parsed.value if parsed.ok else None) == expected


@given(st.text(alphabet=" \t\u00a0\u202f\u200b\ufeff", max_size=10))
def test_spaces_only_is_blank(text):
    assert is_blank(text)


@given(st.text(min_size=1, max_size=20))
def test_formula_prefix(text):
    assume(
        text[0] not in "=+-@\t\r\n"
        and not text.lstrip().startswith(("=", "+", "-", "@"))
    )
    assert not looks_like_formula(text)
    for prefix in ("=", "+", "-", "@", "\t", " ="):
        assert looks_like_formula(prefix + text)


@given(st.integers(min_value=-(10**14), max_value=10**14))
def test_integral_floats_display_without_decimals(number):
    assert display_text(float(number)) == str(number)
