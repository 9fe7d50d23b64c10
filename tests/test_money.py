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


# --- written as Babel writes it, without Babel in the session ---------------------------

LOCALES = ["en_US", "en_GB", "en_IN", "de_DE", "de_CH", "fr_FR", "nl_NL", "sv_SE", "ja_JP", "he_IL", "ar_EG",
           "fa_IR", "pt_BR", "es_MX", "hi_IN", "pl_PL"]
CURRENCIES = ["USD", "GBP", "EUR", "JPY", "BHD", "INR", "CHF", "SEK", "CLP", "XAF"]


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(CURRENCIES), st.sampled_from(LOCALES))
def test_money_is_written_as_babel_writes_it(minor, currency, locale):
    from babel.numbers import format_currency

    from db.money import exponent_of

    expected = format_currency(to_decimal(minor, exponent=exponent_of(currency)), currency, locale=locale)
    assert format_money(minor, currency, locale) == expected


def test_every_locale_writes_a_large_amount_as_babel_does():
    # Each of Babel's ~1,150 locales once: their patterns differ (grouping, quotes, where
    # the symbol goes), and the style kept must reproduce every one.
    from babel import localedata
    from babel.numbers import format_currency

    for locale in localedata.locale_identifiers():
        assert format_money(-123_456_789_01, "EUR", locale) == format_currency(
            Decimal("-123456789.01"), "EUR", locale=locale), locale


def _session(directory, code: str) -> list[str]:
    """What a fresh process prints after keeping Babel's answers in `directory`."""
    import subprocess
    import sys

    script = ("import sys\nfrom pathlib import Path\nfrom config.babel_answers import keep_answers\n"
              f"keep_answers(Path({str(directory)!r}))\n"
              "from config import load_settings\nfrom db.money import exponent_of, format_money\n" + code)
    return subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout.split()


def test_a_session_with_kept_answers_never_loads_babel(tmp_path):
    # A UK floor: its settings name the currency and locale, which are checked with Babel.
    shown = ("s = load_settings(locale={'currency': 'gbp', 'locale': 'en_GB'})\n"
             "print(s.locale.currency, format_money(123456, 'USD', 'en_US'), format_money(-7, 'GBP', 'en_GB'),"
             " exponent_of('GBP'), 'babel' in sys.modules)")
    assert _session(tmp_path, shown) == ["GBP", "$1,234.56", "-£0.07", "2", "True"]  # asked Babel, kept it
    assert len(list(tmp_path.glob("babel-answers-*.json"))) == 1
    assert _session(tmp_path, shown) == ["GBP", "$1,234.56", "-£0.07", "2", "False"]  # read what was kept
    # What was not asked before is asked of Babel, and kept beside the rest.
    assert _session(tmp_path, "print(format_money(1500, 'JPY', 'ja_JP'))") == ["￥1,500"]
    assert _session(tmp_path, shown + "\nprint(format_money(1500, 'JPY', 'ja_JP'))")[-2:] == ["False", "￥1,500"]
    # The queue only writes amounts; the account screen then asks for the currency's digits,
    # which writing the first amount has kept.
    assert _session(tmp_path, "format_money(1, 'CHF', 'de_CH')\nprint('babel' in sys.modules)") == ["True"]
    assert _session(tmp_path, "print(exponent_of('CHF'), 'babel' in sys.modules)") == ["2", "False"]
    # A wrong setting is refused from the kept answer as from Babel's.
    refused = ("from config import SettingsError\ntry:\n    load_settings(locale={'currency': 'GPB'})\n"
               "except SettingsError as e:\n"
               "    print(str(e).startswith('setting locale.currency') and 'ISO 4217' in str(e),"
               " 'babel' in sys.modules)")
    assert _session(tmp_path, refused) == ["True", "True"]
    assert _session(tmp_path, refused) == ["True", "False"]


def test_a_session_keeps_its_answers_in_the_data_directory(tmp_path):
    import subprocess
    import sys

    script = ("import sys\nfrom config.babel_answers import keep_answers\nkeep_answers()\n"
              "from config import load_settings\nfrom db.money import format_money\n"
              f"s = load_settings(data_dir={str(tmp_path / 'data')!r},"
              " locale={'currency': 'EUR', 'locale': 'de_DE'})\n"
              "text = format_money(123456, s.locale.currency, s.locale.locale)\n"
              "print(text.replace(chr(160), '_'), 'babel' in sys.modules)")
    run = lambda: subprocess.run([sys.executable, "-c", script], check=True, capture_output=True,  # noqa: E731
                                 text=True).stdout.split()
    assert run() == ["1.234,56_€", "True"]
    assert [p.parent for p in (tmp_path / "data").rglob("babel-answers-*.json")] == [tmp_path / "data" / "cache"]
    assert run() == ["1.234,56_€", "False"]


def test_answers_from_another_babel_or_damaged_are_not_used(tmp_path, monkeypatch):
    import json

    import db.money
    from config.babel_answers import BabelAnswers, babel_data_key

    def fresh() -> BabelAnswers:
        answers = BabelAnswers()
        answers.keep_in(tmp_path)
        monkeypatch.setattr(db.money, "answers", answers)
        monkeypatch.setattr(db.money, "_styles", {})
        return answers

    forged = {"prefix": ["X", "-X"], "suffix": ["", ""], "min_digits": 1, "grouping": [3, 3], "group": ",",
              "decimal": ".", "exponent": 2, "symbol": "X", "code": "USD"}
    # Answers of another Babel are in a file of another name, never read.
    (tmp_path / "babel-answers-another.json").write_text(json.dumps({"money style USD en_US": forged}))
    ours = fresh().file
    assert ours.name == f"babel-answers-{babel_data_key()}.json"
    assert format_money(123456, "USD", "en_US") == "$1,234.56"
    assert json.loads(ours.read_text())["money style USD en_US"]["symbol"] == "$"

    # A damaged file, or a damaged answer in it: Babel answers, and the file is put right.
    for damaged in ("{not json", json.dumps({"money style USD en_US": {"prefix": 1}, "exponent USD": "two"})):
        ours.write_text(damaged)
        fresh()
        assert format_money(-5, "USD", "en_US") == "-$0.05"
        assert db.money.exponent_of("USD") == 2
        kept = json.loads(ours.read_text())
        assert kept["money style USD en_US"]["prefix"] == ["¤", "-¤"] and kept["exponent USD"] == 2
