"""The compliance governor: may this account be called on this phone now, may it get this
letter, may it go to legal action — with every reason in an officer's words and, where one
exists, the earliest time the answer becomes yes.

The rules are data (`Settings.compliance`, with per-jurisdiction overrides). The decisions
are pure functions over plain facts (`AccountFacts`, `PhoneFacts`, `CallEvent`), so the
queue can evaluate a million accounts in bulk and the screens one at a time, the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

UTC = dt.UTC

# Zones a debtor may be in when nothing narrower is known (the call must suit all of them).
COUNTRY_ZONES = {
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
           "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"),
    "GB": ("Europe/London",),
}

# Letters and what they are for: collection letters are stopped by holds; responses answer
# the debtor (a dispute, a request) and are allowed through most holds.
LETTER_PURPOSES = {
    "reminder": "dunning", "second-notice": "dunning", "final-demand": "legal-threat",
    "validation-notice": "validation", "arrears-notice": "statutory", "default-notice": "statutory",
    "letter-before-claim": "legal-threat", "plan-confirmation": "response", "broken-arrangement": "collection",
    "payment-receipt": "response", "statement": "response", "financial-statement": "response",
    "solicitor-referral": "legal-referral", "credit-agency-notice": "third-party", "insurer": "third-party",
    "employer": "third-party",
}
OVERRIDABLE = frozenset({"frequency", "home_mobile_frequency", "other_phone_frequency", "conversation_cooldown"})


# --- facts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountFacts:
    id: int
    jurisdiction: str = "US"
    status: str = "open"
    balance_minor: int = 0
    dispute: bool = False
    dispute_verified_at: dt.datetime | None = None
    cease: bool = False
    bankruptcy: bool = False
    deceased: bool = False
    vulnerable: bool = False
    attorney_represented: bool = False
    breathing_space_until: dt.date | None = None
    address_zone: str | None = None
    address_country: str | None = None
    address_bad: bool = False
    delinquency_date: dt.date | None = None
    last_payment_date: dt.date | None = None
    last_acknowledged_date: dt.date | None = None
    placed_on: dt.date | None = None
    validation_sent_at: dt.datetime | None = None


@dataclass(frozen=True)
class PhoneFacts:
    id: int
    number: str
    kind: str = "mobile"
    status: str = "good"
    employer_forbids_calls: bool = False


@dataclass(frozen=True)
class CallEvent:
    """A past call about the debt (naive UTC time, as stored)."""

    started_at: dt.datetime
    phone_id: int | None
    phone_kind: str | None
    counts_as_attempt: bool
    conversation: bool
    debtor_requested: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    overridable: bool = False


@dataclass
class Decision:
    allowed: bool
    reasons: list[Reason] = field(default_factory=list)
    next_allowed_at: dt.datetime | None = None
    """Aware UTC; None when allowed now or when nothing but a person can lift the block."""
    disclosures: list[str] = field(default_factory=list)
    zones: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "allowed": self.allowed,
            "reasons": [r.text for r in self.reasons],
            "codes": [r.code for r in self.reasons],
            "next_allowed_at": self.next_allowed_at.isoformat() if self.next_allowed_at else None,
        }

    def explain(self) -> str:
        if self.allowed:
            return "May call now"
        return "; ".join(r.text for r in self.reasons)


# --- rules -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rules:
    """The rules in force for one jurisdiction, defaults filled in."""

    call_start: dt.time
    call_end: dt.time
    max_attempts: int
    attempt_days: int
    home_mobile: tuple[int, int] | None
    other_phone: tuple[int, int] | None
    cooldown_days: int
    limitation_years: int
    breathing_space_days: int


_rules_cache: dict[tuple[int, str], tuple[object, Rules]] = {}


def rules_for(compliance, jurisdiction: str) -> Rules:
    """Rules for `US-MA`: the region's overrides, then the country's, then the defaults."""
    key = (id(compliance), jurisdiction)
    cached = _rules_cache.get(key)
    if cached is not None and cached[0] is compliance:
        return cached[1]
    rules = _resolve_rules(compliance, jurisdiction)
    _rules_cache[key] = (compliance, rules)
    return rules


def _resolve_rules(compliance, jurisdiction: str) -> Rules:
    country = jurisdiction.split("-")[0]
    layers = [compliance.jurisdictions.get(code) for code in (jurisdiction, country) if code]
    layers = [layer for layer in layers if layer is not None]

    def pick(name, default):
        for layer in layers:
            value = getattr(layer, name)
            if value is not None:
                return value
        return default

    hours = pick("call_hours", compliance.call_hours)
    attempts = pick("attempts", compliance.attempts)
    home = pick("home_mobile_attempts", None)
    other = pick("other_phone_attempts", None)
    return Rules(
        call_start=hours.start, call_end=hours.end,
        max_attempts=attempts.max_calls, attempt_days=attempts.days,
        home_mobile=(home.max_calls, home.days) if home else None,
        other_phone=(other.max_calls, other.days) if other else None,
        cooldown_days=pick("conversation_cooldown_days", compliance.conversation_cooldown_days),
        limitation_years=pick("limitation_years", compliance.limitation_years),
        breathing_space_days=pick("breathing_space_days", compliance.breathing_space_days),
    )


# --- time zones ------------------------------------------------------------------------------

@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=100_000)
def phone_zones(number: str) -> tuple[str, ...]:
    """IANA zones for a phone number (phonenumbers' geocoding); () when unknown."""
    import phonenumbers
    from phonenumbers import timezone as pn_timezone

    from db.phone_parse import parse_phone

    try:
        parsed = parse_phone(number, None)
    except phonenumbers.NumberParseException:
        return ()
    zones = tuple(z for z in pn_timezone.time_zones_for_number(parsed) if "/" in z and not z.startswith("Etc/"))
    # UK numbers list the Crown Dependencies beside London; they share London's clock.
    if set(zones) <= {"Europe/London", "Europe/Guernsey", "Europe/Isle_of_Man", "Europe/Jersey"} and zones:
        return ("Europe/London",)
    return tuple(sorted(zones))


def warm_up(regions: tuple[str, ...] = ("US", "GB", "CA")) -> None:
    """Load phonenumbers' numbering plans and zone tables for the floor's usual countries.
    Loading them costs 10-50 ms of CPU the first time a number of a region is looked up;
    a session's background thread pays it, so no claim does."""
    import phonenumbers
    from phonenumbers import timezone as pn_timezone

    for region in regions:
        example = phonenumbers.example_number(region)
        if example is not None:
            pn_timezone.time_zones_for_number(example)


def debtor_zones(account: AccountFacts, phone: PhoneFacts | None = None) -> tuple[str, ...]:
    """Where the debtor may be: the address's zone, else the phone's, else every zone of
    the country."""
    if account.address_zone:
        return (account.address_zone,)
    country = account.address_country or account.jurisdiction.split("-")[0]
    if phone is not None:
        zones = phone_zones(phone.number)
        # A non-geographic number maps to its whole numbering plan (all of NANP, Guam
        # included): keep the zones of the debtor's country where that narrows it.
        narrowed = tuple(z for z in zones if z in COUNTRY_ZONES.get(country, ()))
        if narrowed or zones:
            return narrowed or zones
    return COUNTRY_ZONES.get(country, ("UTC",))


def zone_key(zones: tuple[str, ...]) -> str:
    return "|".join(sorted(zones))


def zones_of_key(key: str) -> tuple[str, ...]:
    return tuple(key.split("|"))


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def naive_utc(at: dt.datetime) -> dt.datetime:
    return _aware(at).replace(tzinfo=None)


def local_date(at: dt.datetime, zone_name: str) -> dt.date:
    return _aware(at).astimezone(zone(zone_name)).date()


def within_hours(at: dt.datetime, zones: tuple[str, ...], rules: Rules) -> bool:
    at = _aware(at)
    for name in zones:
        t = at.astimezone(zone(name)).time()
        if not (rules.call_start <= t < rules.call_end):
            return False
    return True


def _start_of_window(day: dt.date, zone_name: str, rules: Rules) -> dt.datetime:
    """The first instant calls are allowed on a local calendar day, in UTC."""
    local = dt.datetime.combine(day, rules.call_start, tzinfo=zone(zone_name))
    return local.astimezone(UTC)


def next_within_hours(at: dt.datetime, zones: tuple[str, ...], rules: Rules) -> dt.datetime | None:
    """The earliest instant at or after `at` inside call hours in every zone."""
    at = _aware(at)
    if within_hours(at, zones, rules):
        return at
    candidates = []
    for name in zones:
        today = at.astimezone(zone(name)).date()
        for offset in range(0, 4):
            start = _start_of_window(today + dt.timedelta(days=offset), name, rules)
            if start > at:
                candidates.append(start)
    for candidate in sorted(candidates):
        if within_hours(candidate, zones, rules):
            return candidate
    return None  # the zones' windows never overlap


def when(at: dt.datetime, zone_name: str) -> str:
    """`Tue 5 Mar 09:00`, in the zone given."""
    local = _aware(at).astimezone(zone(zone_name))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


# --- calls -----------------------------------------------------------------------------------

def _holds(account: AccountFacts, today: dt.date) -> list[Reason]:
    reasons = []
    if account.cease:
        reasons.append(Reason("cease", "Cease communication requested: no collection calls"))
    if account.dispute and account.dispute_verified_at is None:
        reasons.append(Reason("dispute", "Debt disputed: no collection calls until verification is sent"))
    if account.bankruptcy:
        reasons.append(Reason("bankruptcy", "Debtor in bankruptcy: no collection calls"))
    if account.deceased:
        reasons.append(Reason("deceased", "Debtor deceased: no collection calls (deal with the estate)"))
    if account.attorney_represented:
        reasons.append(Reason("attorney", "Debtor represented by an attorney: contact the attorney, not the debtor"))
    if account.breathing_space_until and today <= account.breathing_space_until:
        reasons.append(Reason("breathing_space",
                              f"Breathing space until {account.breathing_space_until:%d %b %Y}: no contact"))
    if account.status in ("settled", "paid", "closed", "recalled"):
        reasons.append(Reason("closed", f"Account is {account.status}: nothing to collect"))
    return reasons


def _window_block(dates: list[dt.date], limit: int, days: int, today: dt.date) -> dt.date | None:
    """With calls on `dates` (local), is another today over `limit` in `days` consecutive
    days? Returns the first day another is allowed, or None if allowed today."""
    inside = sorted(d for d in dates if today - dt.timedelta(days=days - 1) <= d <= today)
    if len(inside) < limit:
        return None
    if limit == 0:
        return None if not inside else inside[-1] + dt.timedelta(days=days)
    # The window must slide past the oldest call that keeps the count at the limit.
    return inside[len(inside) - limit] + dt.timedelta(days=days)


def may_call(
    account: AccountFacts,
    phone: PhoneFacts,
    at: dt.datetime,
    history: list[CallEvent],
    rules: Rules,
    *,
    debtor_requested: bool = False,
    overrides: frozenset[str] = frozenset(),
) -> Decision:
    """May `phone` be called about `account` at `at`?

    `history` holds the account's calls of the last weeks; `overrides` the reason codes a
    team lead has lifted for this account. A call the debtor asked for is neither counted
    nor blocked by the frequency rules.
    """
    at = _aware(at)
    zones = debtor_zones(account, phone)
    home = zones[0]
    today = local_date(at, home)
    reasons: list[Reason] = list(_holds(account, today))
    later: list[dt.datetime] = []

    if phone.status == "bad":
        reasons.append(Reason("phone_bad", "Number marked bad"))
    elif phone.status == "wrong_number":
        reasons.append(Reason("phone_wrong", "Wrong number: not the debtor's"))
    if phone.kind == "work" and phone.employer_forbids_calls:
        reasons.append(Reason("employer_forbids", "Employer forbids calls at work"))

    if not within_hours(at, zones, rules):
        nxt = next_within_hours(at, zones, rules)
        local = _aware(at).astimezone(zone(home))
        where = "debtor's time" if len(zones) == 1 else f"debtor's time, unsure between {len(zones)} zones"
        text = (f"Outside call hours ({rules.call_start:%H:%M}-{rules.call_end:%H:%M}): "
                f"{local:%a %H:%M} {where}")
        if nxt:
            text += f"; next allowed {when(nxt, home)} debtor's time"
            later.append(nxt)
        reasons.append(Reason("call_hours", text))

    if not debtor_requested:
        counted = [e for e in history if e.counts_as_attempt and not e.debtor_requested and _aware(e.started_at) <= at]
        dates = [local_date(e.started_at, home) for e in counted]
        first_allowed = _window_block(dates, rules.max_attempts, rules.attempt_days, today)
        if first_allowed:
            since = min((e.started_at for e in counted
                         if local_date(e.started_at, home) >= today - dt.timedelta(days=rules.attempt_days - 1)))
            nxt = next_within_hours(_start_of_window(first_allowed, home, rules), zones, rules)
            reasons.append(Reason(
                "frequency",
                f"{rules.max_attempts} call attempts in {rules.attempt_days} days since {when(since, home)}; "
                f"next allowed {when(nxt, home)} debtor's time", overridable=True))
            later.append(nxt)
        for code, cap, kinds in (("home_mobile_frequency", rules.home_mobile, {"home", "mobile"}),
                                 ("other_phone_frequency", rules.other_phone, None)):
            if cap is None:
                continue
            applies = phone.kind in kinds if kinds else phone.kind not in {"home", "mobile"}
            if not applies:
                continue
            same = [local_date(e.started_at, home) for e in counted
                    if (e.phone_kind in kinds if kinds else e.phone_kind not in {"home", "mobile"})]
            first_allowed = _window_block(same, cap[0], cap[1], today)
            if first_allowed:
                nxt = next_within_hours(_start_of_window(first_allowed, home, rules), zones, rules)
                label = "home and mobile numbers" if kinds else "numbers other than home and mobile"
                reasons.append(Reason(code, f"{account.jurisdiction} allows {cap[0]} calls in {cap[1]} days to {label}; "
                                            f"next allowed {when(nxt, home)} debtor's time", overridable=True))
                later.append(nxt)
        talks = [local_date(e.started_at, home) for e in history if e.conversation and _aware(e.started_at) <= at]
        if talks and rules.cooldown_days:
            last_talk = max(talks)
            first_allowed = last_talk + dt.timedelta(days=rules.cooldown_days)
            if today < first_allowed:
                nxt = next_within_hours(_start_of_window(first_allowed, home, rules), zones, rules)
                reasons.append(Reason("conversation_cooldown",
                                      f"Spoke to the debtor on {last_talk:%a %d %b}; no call for {rules.cooldown_days} days: "
                                      f"next allowed {when(nxt, home)} debtor's time", overridable=True))
                later.append(nxt)

    reasons = [r for r in reasons if not (r.overridable and r.code in overrides)]
    allowed = not reasons
    next_at = None
    if not allowed and all(r.code in OVERRIDABLE | {"call_hours"} for r in reasons):
        # Only time-bound reasons: the block lifts when the last of them does (and inside hours).
        candidate = max(later) if later else None
        if candidate is not None:
            candidate = next_within_hours(candidate, zones, rules)
            # Lifting one rule may leave another binding: re-check at that instant.
            if candidate is not None and candidate > at:
                again = may_call(account, phone, candidate, history, rules,
                                 debtor_requested=debtor_requested, overrides=overrides)
                candidate = candidate if again.allowed else again.next_allowed_at
        next_at = candidate
    return Decision(allowed, reasons, next_at, zones=zones)


# --- limitation, letters, legal --------------------------------------------------------------

def limitation_start(account: AccountFacts) -> dt.date | None:
    """Limitation runs from the last payment or written acknowledgement, else from the
    date of first delinquency."""
    dates = [d for d in (account.last_payment_date, account.last_acknowledged_date) if d]
    if dates:
        return max(dates)
    return account.delinquency_date or account.placed_on


def limitation_ends(account: AccountFacts, rules: Rules) -> dt.date | None:
    start = limitation_start(account)
    return _years_after(start, rules.limitation_years) if start else None


@lru_cache(maxsize=8192)
def _years_after(start: dt.date, years: int) -> dt.date:
    # Cached: a placement file's million rows share a few thousand dates.
    return start + relativedelta(years=years)


def is_time_barred(account: AccountFacts, rules: Rules, on: dt.date) -> bool:
    """True at and past the end of the limitation period."""
    ends = limitation_ends(account, rules)
    return ends is not None and on >= ends


def may_escalate(account: AccountFacts, at: dt.datetime, rules: Rules) -> Decision:
    """May the account go to legal action (referral, claim, enforcement)?"""
    today = local_date(at, debtor_zones(account)[0])
    reasons = []
    if is_time_barred(account, rules, today):
        reasons.append(Reason("time_barred", f"Time-barred since {limitation_ends(account, rules):%d %b %Y} "
                                             f"({rules.limitation_years}-year limitation): no legal action"))
    if account.dispute and account.dispute_verified_at is None:
        reasons.append(Reason("dispute", "Debt disputed and not yet verified: no legal action"))
    if account.bankruptcy:
        reasons.append(Reason("bankruptcy", "Debtor in bankruptcy: the stay forbids legal action"))
    if account.deceased:
        reasons.append(Reason("deceased", "Debtor deceased: claim against the estate instead"))
    if account.breathing_space_until and today <= account.breathing_space_until:
        reasons.append(Reason("breathing_space", f"Breathing space until {account.breathing_space_until:%d %b %Y}"))
    if account.balance_minor <= 0:
        reasons.append(Reason("nothing_owed", "Nothing is owed"))
    return Decision(not reasons, reasons)


COLLECTING = frozenset({"dunning", "legal-threat", "collection", "statutory"})
TO_DEBTOR = frozenset({"dunning", "legal-threat", "collection", "statutory", "validation", "response"})

# Each rule that can stop a letter: its code, the letter purposes it applies to, and the
# test. Kept as one table so that listing a template's holds and judging a letter agree.
_LETTER_RULES: tuple[tuple[str, frozenset[str], Callable[[AccountFacts, dt.date], str | None]], ...] = (
    ("bad_address", TO_DEBTOR,
     lambda a, today: "Address marked bad: letters would not arrive" if a.address_bad else None),
    ("deceased", TO_DEBTOR - {"response"},
     lambda a, today: "Debtor deceased: write to the estate, not the debtor" if a.deceased else None),
    ("cease", COLLECTING,
     lambda a, today: "Cease communication requested: no collection letters" if a.cease else None),
    ("dispute", COLLECTING,
     lambda a, today: ("Debt disputed: no collection letters until verification is sent"
                       if a.dispute and a.dispute_verified_at is None else None)),
    ("bankruptcy", COLLECTING,
     lambda a, today: "Debtor in bankruptcy: no collection letters" if a.bankruptcy else None),
    ("breathing_space", COLLECTING,
     lambda a, today: ("Breathing space: no collection letters"
                       if a.breathing_space_until and today <= a.breathing_space_until else None)),
    ("nothing_owed", COLLECTING | {"legal-referral"},
     lambda a, today: "Nothing is owed" if a.balance_minor <= 0 else None),
    ("closed", COLLECTING | {"legal-referral"},
     lambda a, today: (f"Account is {a.status}" if a.status in ("settled", "paid", "closed", "recalled")
                       else None)),
    ("vulnerable", frozenset({"dunning"}),
     lambda a, today: "Vulnerable customer: no automated dunning letters" if a.vulnerable else None),
    ("bankruptcy_stay", frozenset({"legal-referral"}),
     lambda a, today: "Debtor in bankruptcy: the stay forbids legal action" if a.bankruptcy else None),
    ("dispute_unverified", frozenset({"legal-referral"}),
     lambda a, today: ("Debt disputed and not yet verified: no legal action"
                       if a.dispute and a.dispute_verified_at is None else None)),
)


def letter_holds(template: str) -> list[str]:
    """The codes of the rules that can stop this letter (for listing templates)."""
    purpose = LETTER_PURPOSES.get(template)
    codes = [code for code, purposes, _ in _LETTER_RULES if purpose in purposes]
    if purpose in ("legal-threat", "legal-referral"):
        codes.append("time_barred")
    return codes


def may_send_letter(account: AccountFacts, template: str, at: dt.datetime, rules: Rules) -> Decision:
    """May this letter go to this account now? Letters to a time-barred debtor carry the
    time-barred disclosure; letters threatening or starting legal action are refused."""
    purpose = LETTER_PURPOSES.get(template)
    if purpose is None:
        return Decision(False, [Reason("unknown_template", f"No letter template named {template!r}")])
    today = local_date(at, debtor_zones(account)[0])
    reasons = []
    for code, purposes, test in _LETTER_RULES:
        if purpose in purposes and (text := test(account, today)):
            reasons.append(Reason(code, text))
    barred = is_time_barred(account, rules, today)
    if purpose in ("legal-threat", "legal-referral") and barred:
        reasons.append(Reason("time_barred", "Time-barred debt: no letter that threatens or starts legal action"))
    disclosures = ["time_barred"] if barred and purpose in TO_DEBTOR else []
    return Decision(not reasons, reasons, disclosures=disclosures)
