"""The quick road for plain North American numbers reads every string it takes exactly as
phonenumbers does, and leaves every other string to phonenumbers."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings, strategies as st

from db.phone_parse import parse_phone

REGIONS = st.sampled_from(["US", "CA", "PR", "GB", "IE", "DE", None])


def library(raw: str, region: str | None):
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type


def ours(raw: str, region: str | None):
    try:
        return parse_phone(raw, region)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type


@st.composite
def nanp_shaped(draw) -> str:
    """Strings near the quick road's shape: its punctuation, prefixes and digits, and
    near misses (a leading 0 or 1 in the area code, a digit short or over)."""
    digit = st.sampled_from("0123456789")
    sep = st.sampled_from(["", " ", "-", ".", "  ", "/", "--"])
    prefix = draw(st.sampled_from(["", "1", "+1", "+", "+44", "01", "011", "(1)"]))
    area = "".join(draw(st.lists(digit, min_size=2, max_size=4)))
    exchange = "".join(draw(st.lists(digit, min_size=3, max_size=3)))
    line = "".join(draw(st.lists(digit, min_size=3, max_size=5)))
    if draw(st.booleans()):
        area = f"({area})" if draw(st.booleans()) else f"({area}" if draw(st.booleans()) else f"{area})"
    tail = draw(st.sampled_from(["", "", "", " ", "x12", " ext. 7"]))
    return f"{prefix}{draw(sep)}{area}{draw(sep)}{exchange}{draw(sep)}{line}{tail}"


@settings(max_examples=3000, deadline=None)
@given(nanp_shaped(), REGIONS)
def test_plain_numbers_read_as_phonenumbers_reads_them(raw, region):
    assert ours(raw, region) == library(raw, region)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="0123456789 ()-.+x", max_size=20), REGIONS)
def test_any_string_of_those_characters_reads_the_same(raw, region):
    assert ours(raw, region) == library(raw, region)


@pytest.mark.parametrize("raw", ["(518) 555-1234", "518-555-1234", "518.555.1234", "5185551234", "1 518 555 1234",
                                 "1-518-555-1234", "+1 518 555 1234", "+15185551234", "+1 (518) 555-1234"])
def test_the_usual_ways_of_writing_a_us_number(raw):
    number = parse_phone(raw, "US")
    assert phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) == "+15185551234"
    assert phonenumbers.is_valid_number_for_region(number, "US")


def test_a_uk_number_and_a_us_number_from_a_uk_debtor():
    assert parse_phone("020 7946 0018", "GB") == phonenumbers.parse("020 7946 0018", "GB")
    assert parse_phone("+1 518 555 1234", "GB").country_code == 1
    # Without "+", a UK debtor's ten digits are a UK number, not an American one.
    assert parse_phone("2125551234", "GB") == phonenumbers.parse("2125551234", "GB")
