"""Money at the edges: text ⇄ integer minor units ⇄ `Decimal`, and formatting as Babel
(CLDR) says each locale writes each currency.

The database only ever holds integers of the currency's minor unit (cents, pence). Parsing
refuses what it would otherwise have to round.

Formatting needs a handful of strings per currency and locale from Babel (`MoneyStyle`),
asked once and kept (`config.babel_answers`): a session that keeps them never loads
Babel's locale data, about 5 MB and 25 ms on the way to the queue's first frame.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from config.babel_answers import answers

_PLAIN = re.compile(r"^\d+(?:\.(\d+))?$")
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.(\d+))?$")


class MoneyError(ValueError):
    """An amount that cannot be taken as it was typed; the message says what to fix."""


def exponent_of(currency: str) -> int:
    """Decimal places of the currency's minor unit (USD 2, JPY 0, BHD 3)."""
    currency = currency.upper()
    question = f"exponent {currency}"
    kept = answers.get(question, lambda: _babel_exponent(currency))
    if isinstance(kept, int) and not isinstance(kept, bool):
        return kept
    exponent = _babel_exponent(currency)  # what was kept is not an answer Babel gave
    answers.correct(question, exponent)
    return exponent


def _babel_exponent(currency: str) -> int:
    from babel.numbers import get_currency_precision

    return get_currency_precision(currency)


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


class MoneyStyle(NamedTuple):
    """How one locale writes amounts of one currency: its standard currency pattern's parts
    and the symbols Babel fills in (`apply` does what Babel's `NumberPattern.apply` does
    for such a pattern)."""

    prefix: tuple[str, str]  # before the number: positive, negative (with `¤` and quotes)
    suffix: tuple[str, str]
    min_digits: int  # integer digits always written (0.50 rather than .50)
    grouping: tuple[int, int]  # first group from the right, then the rest (2 in en_IN)
    group: str
    decimal: str
    exponent: int
    symbol: str
    code: str

    def apply(self, minor: int) -> str:
        negative = minor < 0
        whole, fraction = divmod(abs(minor), 10**self.exponent)
        digits = str(whole).rjust(self.min_digits, "0")
        size, grouped = self.grouping[0], ""
        while len(digits) > size:
            grouped = self.group + digits[-size:] + grouped
            digits = digits[:-size]
            size = self.grouping[1]
        number = digits + grouped
        if self.exponent:
            number += self.decimal + str(fraction).rjust(self.exponent, "0")
        text = self.prefix[negative] + number + self.suffix[negative]
        text = text.replace("¤¤", self.code).replace("¤", self.symbol)
        return re.sub(r"'([^']*)'", lambda m: m.group(1) or "'", text)


def babel_style(currency: str, locale: str) -> MoneyStyle | None:
    """The style from Babel itself; None for a pattern `MoneyStyle` does not cover (the
    currency's long name, significant digits, scientific notation, a scale), which Babel
    then formats each time."""
    from babel import Locale
    from babel.numbers import get_currency_precision, get_currency_symbol, get_decimal_symbol, get_group_symbol

    parsed = Locale.parse(locale)
    pattern = parsed.currency_formats["standard"]
    if (pattern.exp_prec or "@" in pattern.pattern or pattern.scale or not pattern.number_pattern
            or any("¤¤¤" in part for part in (*pattern.prefix, *pattern.suffix))):
        return None
    return MoneyStyle(tuple(pattern.prefix), tuple(pattern.suffix), pattern.int_prec[0], tuple(pattern.grouping),
                      get_group_symbol(parsed), get_decimal_symbol(parsed), get_currency_precision(currency),
                      get_currency_symbol(currency, parsed), currency.upper())


_styles: dict[tuple[str, str], MoneyStyle | None] = {}


def money_style(currency: str, locale: str) -> MoneyStyle | None:
    """The style for `currency` in `locale`, from the kept answers or else from Babel."""
    try:
        return _styles[currency, locale]
    except KeyError:
        pass
    question = f"money style {currency} {locale}"
    kept = answers.get(question, lambda: _as_answer(babel_style(currency, locale)))
    try:
        style = None if kept is None else MoneyStyle(
            tuple(map(str, kept["prefix"])), tuple(map(str, kept["suffix"])), int(kept["min_digits"]),
            tuple(map(int, kept["grouping"])), str(kept["group"]), str(kept["decimal"]), int(kept["exponent"]),
            str(kept["symbol"]), str(kept["code"]))
        if style is not None and (len(style.prefix) != 2 or len(style.suffix) != 2 or len(style.grouping) != 2
                                  or min(style.grouping) < 1):
            raise ValueError(style)
    except (KeyError, TypeError, ValueError):  # what was kept is not an answer Babel gave
        style = babel_style(currency, locale)
        answers.correct(question, _as_answer(style))
    if style is not None:
        # Kept too: the first screen that writes an amount then answers the account screen's
        # question (a session that first asked it when opening an account loaded Babel).
        answers.get(f"exponent {currency}", lambda: style.exponent)
    _styles[currency, locale] = style
    return style


def _as_answer(style: MoneyStyle | None):
    return None if style is None else style._asdict()


def format_money(minor: int, currency: str = "USD", locale: str = "en_US") -> str:
    """`123456, "USD", "en_US"` → `"$1,234.56"`; `"GBP", "en_GB"` → `"£1,234.56"`: what
    Babel's `format_currency` writes, from the style it gave (see the module's docstring)."""
    currency = currency.upper()
    style = money_style(currency, locale)
    if style is not None:
        return style.apply(minor)
    from babel.numbers import format_currency

    return format_currency(to_decimal(minor, exponent=exponent_of(currency)), currency, locale=locale)


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
