"""Reading a phone number as written in a file: phonenumbers' `parse`, with a quick road for
the one shape that fills placement files, a plain North American number.

`phonenumbers.parse` weighs every way a string could be a number (international and
national prefixes, carrier codes, extensions, letters); that is most of the cost of
checking a placement row. A string that is nothing but a ten-digit NANP number, with
the usual punctuation and an optional leading `1` or `+1`, has one reading, built here
directly. Anything else goes to `phonenumbers.parse`. Tests hold the quick road to the
same answer as the library on every string it takes.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import PhoneNumber

NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])
"""Regions sharing +1: a number without `+` reads as NANP only with one of these as home."""

_PLAIN_NANP = re.compile(r"(\+)?(1[ .-]?)?\(?([2-9]\d\d)\)?[ .-]?(\d{3})[ .-]?(\d{4})", re.ASCII)
"""`(518) 555-1234`, `518-555-1234`, `518.555.1234`, `5185551234`, `1 518 555 1234`,
`+1 518 555 1234`, `+15185551234`: an area code that cannot start with 0 or 1."""


def parse_phone(raw: str, region: str | None) -> PhoneNumber:
    """`phonenumbers.parse(raw, region)` (raises `NumberParseException` the same way)."""
    match = _PLAIN_NANP.fullmatch(raw)
    if match is not None:
        plus, one, area, exchange, line = match.groups()
        # "+" needs the country code after it; without "+" the home region must be NANP's.
        if (one if plus else region in NANP_REGIONS):
            return PhoneNumber(country_code=1, national_number=int(area + exchange + line))
    return phonenumbers.parse(raw, region)
