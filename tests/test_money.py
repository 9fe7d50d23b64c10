"""Money: parsing refuses what it would have to round; formatting follows currency and locale."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.money import MoneyError, format_money, format_money_within, from_decimal, parse_amount, plain, to_decimal


@pytest.mark.parametrize("text, minor", [
    ("1,234.56", 123456), ("1234.56", 123456), ("0.5", 50), ("12", 1200), ("1,000,000", 100000000),
    (" 7.00 ", 700),
])
def test_parse_accepts(text, minor):
    assert parse_amount(text) == minor


@pytest.mark.parametrize("text, message", [
    ("12.345", "more than 2 decimal places"),
    ("-5", "negative"),
    ("abc", "not an amount"),
    ("", "enter an amount"),
    ("1,23", "not an amount"),
    ("1.2.3", "not an amount"),
    ("1e5", "not an amount"),
])
def test_parse_refuses_with_a_clear_message(text, message):
    with pytest.raises(MoneyError, match=message):
        parse_amount(text)


def test_zero_decimal_currency():
    assert parse_amount("1,500", exponent=0) == 1500
    with pytest.raises(MoneyError, match="has decimals"):
        parse_amount("1.5", exponent=0)


@given(st.integers(min_value=0, max_value=10**13))
def test_plain_round_trips(minor):
    assert parse_amount(plain(minor)) == minor
    assert from_decimal(to_decimal(minor)) == minor


@given(st.integers(min_value=0, max_value=10**13))
def test_grouped_format_round_trips(minor):
    text = f"{to_decimal(minor):,.2f}"
    assert parse_amount(text) == minor


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False, allow_infinity=False))
def test_three_places_refused_unless_exact(value):
    if value == value.quantize(Decimal("0.01")):
        assert from_decimal(value) == int(value * 100)
    else:
        with pytest.raises(MoneyError):
            parse_amount(str(value))


@given(st.integers(min_value=0, max_value=10**12))
def test_format_has_the_exact_digits(minor):
    text = format_money(minor, "USD", "en_US")
    assert text.startswith("$")
    assert parse_amount(text[1:]) == minor


def test_format_by_currency_and_locale():
    assert format_money(123456, "USD", "en_US") == "$1,234.56"
    assert format_money(123456, "GBP", "en_GB") == "£1,234.56"
    assert format_money(1500, "JPY", "ja_JP") == "￥1,500"
    assert "1.234,56" in format_money(123456, "EUR", "de_DE")


def test_an_amount_too_wide_for_its_column_is_shortened_not_cut():
    # A floor column 9 wide: the whole amount while it fits, else the locale's short form.
    assert format_money_within(99_999, 9, "USD", "en_US") == "$999.99"
    assert format_money_within(1_178_696, 9, "USD", "en_US") == "$11.8K"
    assert format_money_within(1_178_696, 9, "GBP", "en_GB") == "£11.8k"
    assert format_money_within(123_456_700, 9, "USD", "en_US") == "$1.2M"
    assert format_money_within(1_178_696, 10, "USD", "en_US") == "$11,786.96"
