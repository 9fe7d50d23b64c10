"""Money at the edges: text ⇄ integer minor units ⇄ `Decimal`, and formatting with Babel.

The database only ever holds integers of the currency's minor unit (cents, pence). Parsing
refuses what it would otherwise have to round.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_PLAIN = re.compile(r"^\d+(?:\.(\d+))?$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.(\d+))?$")


class MoneyError(ValueError):
    """An amount that cannot be taken as it was typed; the message says what to fix."""


def exponent_of(currency: str) -> int:
    """Decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3)."""
    from babel.numbers import get_currency_precision

    return get_currency_precision(currency.upper())


def parse_amount(text: str, *, exponent: int = 2, allow_zero: bool = True) -> int:
    """`"1,234.56"` → `123456`. Refuses negatives, too many decimals and anything that is
    not a plain amount, with a message that says which."""
    raw = (text or "").strip()
    if not raw:
        raise MoneyError("enter an amount, e.g. 1,234.56")
    if raw.startswith("-") or raw.startswith("("):
        raise MoneyError(f"{raw!r} is negative: enter the amount without a minus sign")
    match = _PLAIN.match(raw) or _GROUPED.match(raw)
    if not match:
        raise MoneyError(f"{raw!r} is not an amount: use digits with an optional decimal point, e.g. 1,234.56")
    decimals = match.group(1) or ""
    if len(decimals) > exponent:
        if exponent == 0:
            raise MoneyError(f"{raw!r} has decimals; this currency has none")
        raise MoneyError(f"{raw!r} has more than {exponent} decimal places")
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the regexes admit only valid decimals
        raise MoneyError(f"{raw!r} is not an amount") from None
    minor = int(value.scaleb(exponent))
    if minor == 0 and not allow_zero:
        raise MoneyError("the amount must be more than zero")
    return minor


def to_decimal(minor: int, *, exponent: int = 2) -> Decimal:
    return Decimal(minor).scaleb(-exponent)


def from_decimal(value: Decimal, *, exponent: int = 2) -> int:
    """A `Decimal` with at most `exponent` places → minor units (refuses to round)."""
    scaled = value.scaleb(exponent)
    if scaled != scaled.to_integral_value():
        raise MoneyError(f"{value} has more than {exponent} decimal places")
    return int(scaled)


def plain(minor: int, *, exponent: int = 2) -> str:
    """`123456` → `"1234.56"`: for files, JSON and forms (no grouping, no symbol)."""
    return f"{to_decimal(minor, exponent=exponent):.{exponent}f}"


@lru_cache(maxsize=32)
def _currency_pattern(locale: str):
    from babel import Locale

    parsed = Locale.parse(locale)
    return parsed, parsed.currency_formats["standard"]


def format_money(minor: int, currency: str = "USD", locale: str = "en_US") -> str:
    """`123456, "USD", "en_US"` → `"$1,234.56"`; `"GBP", "en_GB"` → `"£1,234.56"`.

    Babel's `format_currency`, with the locale's pattern parsed once: a statement writes
    hundreds of amounts, and parsing the pattern each time was most of the work."""
    parsed, pattern = _currency_pattern(locale)
    return pattern.apply(to_decimal(minor, exponent=exponent_of(currency)), parsed, currency=currency,
                         currency_digits=True)


def format_money_within(minor: int, width: int, currency: str = "USD", locale: str = "en_US") -> str:
    """`format_money`, or, when that is wider than `width` characters, the amount in the
    locale's short form (`"$11.8K"`): a narrow column would otherwise cut `$11,786.96` to
    `$11,786.9`, which reads as another amount."""
    full = format_money(minor, currency, locale)
    if len(full) <= width:
        return full
    from babel.numbers import format_compact_currency

    return format_compact_currency(to_decimal(minor, exponent=exponent_of(currency)), currency, locale=locale,
                                   fraction_digits=1)
