"""The dates a letter states, counted from its mailing date: when a US validation period
ends, when a UK notice is served and its remedy date, when payment is asked for.

Every date a letter prints is derived here from the `sent_on` date fixed when the letter
was asked for, so a letter rendered tomorrow says what it would have said today.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

# Regulation F, 12 CFR 1006.34(b)(5) and 1006.34(b)(4)'s assumed receipt: a debt collector
# may assume a notice mailed is received five days after mailing, excluding legal public
# holidays (5 U.S.C. 6103(a)), Saturdays and Sundays; the validation period ends 30 days
# after that receipt.
US_RECEIPT_BUSINESS_DAYS = 5
US_VALIDATION_DAYS = 30

# CPR 6.26: first-class post is deemed served on the second business day after posting.
UK_SERVICE_BUSINESS_DAYS = 2
# Consumer Credit Act 1974 s.88(2): the remedy date is not less than 14 days after service;
# counted as clear days (neither the day of service nor the remedy date itself), so the
# customer always has the full fourteen.
UK_REMEDY_CLEAR_DAYS = 14
# Pre-Action Protocol for Debt Claims, para 5.1: 30 days to reply to a letter before claim.
UK_LETTER_BEFORE_CLAIM_REPLY_DAYS = 30


@lru_cache(maxsize=64)
def _us_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.US(years=year, observed=True))


@lru_cache(maxsize=64)
def _uk_holidays(year: int, subdivision: str) -> frozenset[dt.date]:
    return frozenset(holidays.UK(years=year, subdiv=subdivision))


def _add_business_days(start: dt.date, days: int, is_holiday) -> dt.date:
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and not is_holiday(day):
            left -= 1
    return day


def us_assumed_receipt(sent_on: dt.date) -> dt.date:
    """Five days after mailing, not counting Saturdays, Sundays and US federal holidays."""
    return _add_business_days(sent_on, US_RECEIPT_BUSINESS_DAYS, lambda d: d in _us_holidays(d.year))


def validation_period_ends(sent_on: dt.date, days: int = US_VALIDATION_DAYS) -> dt.date:
    """The last day to dispute: 30 days after the assumed receipt (sent 2024-01-08 →
    received 2024-01-16 → ends 2024-02-15)."""
    return us_assumed_receipt(sent_on) + dt.timedelta(days=days)


def uk_subdivision(jurisdiction: str) -> str:
    """The `holidays` subdivision for a UK jurisdiction code (`GB-SCT` → `SCT`)."""
    region = jurisdiction.partition("-")[2].upper()
    return region if region in ("ENG", "NIR", "SCT", "WLS") else "ENG"


def uk_deemed_service(sent_on: dt.date, jurisdiction: str = "GB") -> dt.date:
    """Second business day after first-class posting (bank holidays of the nation)."""
    sub = uk_subdivision(jurisdiction)
    return _add_business_days(sent_on, UK_SERVICE_BUSINESS_DAYS, lambda d: d in _uk_holidays(d.year, sub))


def uk_remedy_date(sent_on: dt.date, jurisdiction: str = "GB") -> dt.date:
    """A default notice's remedy date: 14 clear days after deemed service."""
    return uk_deemed_service(sent_on, jurisdiction) + dt.timedelta(days=UK_REMEDY_CLEAR_DAYS + 1)


def reply_by(sent_on: dt.date, days: int = UK_LETTER_BEFORE_CLAIM_REPLY_DAYS) -> dt.date:
    """The date a reply is asked for: `days` after the letter's date."""
    return sent_on + dt.timedelta(days=days)
