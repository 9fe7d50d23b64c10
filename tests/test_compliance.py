"""The compliance governor's rules, at exact instants (Regulation F / FDCPA, FCA CONC 7,
Massachusetts), including both DST change days of 2026."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from config import load_settings
from db.compliance import (
    AccountFacts, CallEvent, PhoneFacts, is_time_barred, limitation_ends, may_call, may_escalate,
    may_send_letter, rules_for,
)

SETTINGS = load_settings()
US = rules_for(SETTINGS.compliance, "US-NY")
UK = rules_for(SETTINGS.compliance, "GB-ENG")
MA = rules_for(SETTINGS.compliance, "US-MA")
MOBILE = PhoneFacts(1, "+12125550142", "mobile")
HOME = PhoneFacts(2, "+12125550143", "home")
WORK = PhoneFacts(3, "+12125550144", "work")


def local(zone, *args):
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


def acct(zone="America/New_York", **kw):
    return AccountFacts(id=1, address_zone=zone, balance_minor=10_000, **kw)


def call(at, phone=MOBILE, conversation=False, requested=False):
    return CallEvent(at.astimezone(dt.UTC).replace(tzinfo=None), phone.id, phone.kind, True, conversation, requested)


DAYS = {
    "America/New_York": [(2026, 6, 10), (2026, 3, 8), (2026, 11, 1)],
    "America/Los_Angeles": [(2026, 6, 10), (2026, 3, 8), (2026, 11, 1)],
    "Europe/London": [(2026, 6, 10), (2026, 3, 29), (2026, 10, 25)],
}


@pytest.mark.parametrize("zone", list(DAYS))
@pytest.mark.parametrize("which", ["ordinary day", "DST starts", "DST ends"])
@pytest.mark.parametrize("hm, allowed", [((7, 59), False), ((8, 0), True), ((20, 59), True), ((21, 0), False)])
def test_call_hours_at_the_debtors_location(zone, which, hm, allowed):
    day = DAYS[zone][["ordinary day", "DST starts", "DST ends"].index(which)]
    at = local(zone, *day, *hm)
    rules = UK if zone == "Europe/London" else US
    decision = may_call(acct(zone), MOBILE, at, [], rules)
    assert decision.allowed is allowed, decision.explain()
    if not allowed:
        assert [r.code for r in decision.reasons] == ["call_hours"]
        nxt = decision.next_allowed_at.astimezone(ZoneInfo(zone))
        assert (nxt.hour, nxt.minute) == (8, 0)
        assert nxt.date() == (dt.date(*day) if hm < (8, 0) else dt.date(*day) + dt.timedelta(days=1))


def test_dst_day_instants_are_right_in_utc():
    # 2026-03-08: New York jumps from EST to EDT at 02:00, so 08:00 local is 12:00 UTC.
    assert not may_call(acct(), MOBILE, dt.datetime(2026, 3, 8, 11, 59, tzinfo=dt.UTC), [], US).allowed
    assert may_call(acct(), MOBILE, dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC), [], US).allowed
    # 2026-11-01: back to EST, 08:00 local is 13:00 UTC.
    assert not may_call(acct(), MOBILE, dt.datetime(2026, 11, 1, 12, 59, tzinfo=dt.UTC), [], US).allowed
    assert may_call(acct(), MOBILE, dt.datetime(2026, 11, 1, 13, 0, tzinfo=dt.UTC), [], US).allowed


def test_zone_from_phone_number_when_no_address():
    la_phone = PhoneFacts(9, "+12135550100", "mobile")
    at = local("America/Los_Angeles", 2026, 6, 10, 7, 30)  # 10:30 in New York
    decision = may_call(acct(zone=None), la_phone, at, [], US)
    assert not decision.allowed and decision.zones == ("America/Los_Angeles",)


def test_unknown_zone_must_suit_every_candidate_zone():
    unknown = PhoneFacts(9, "+15005550100", "mobile")  # non-geographic: no zone
    noon_ny = local("America/New_York", 2026, 6, 10, 12, 0)  # 06:00 in Honolulu
    decision = may_call(acct(zone=None, address_country="US"), unknown, noon_ny, [], US)
    assert not decision.allowed and "unsure between" in decision.explain()
    assert len(decision.zones) > 3
    nxt = decision.next_allowed_at
    assert nxt.astimezone(ZoneInfo("Pacific/Honolulu")).hour == 8
    assert may_call(acct(zone=None, address_country="US"), unknown, nxt, [], US).allowed


def test_seven_in_seven_window_slides():
    day1 = local("America/New_York", 2024, 3, 4, 10, 0)
    calls = [call(day1 + dt.timedelta(days=i)) for i in range(7)]  # days 1-7
    day7_later = day1 + dt.timedelta(days=6, hours=5)
    decision = may_call(acct(), MOBILE, day7_later, calls, US)
    assert not decision.allowed and decision.reasons[0].code == "frequency"
    assert "7 call attempts in 7 days since Mon 4 Mar 10:00" in decision.explain()
    # Day 8: the day-1 call has left the window.
    assert decision.next_allowed_at == local("America/New_York", 2024, 3, 11, 8, 0)
    assert may_call(acct(), MOBILE, local("America/New_York", 2024, 3, 11, 8, 0), calls, US).allowed
    # Six calls: a seventh is fine.
    assert may_call(acct(), MOBILE, day7_later, calls[:6], US).allowed


def test_seven_in_one_day_counts_all_numbers_together():
    start = local("America/New_York", 2024, 3, 4, 9, 0)
    calls = [call(start + dt.timedelta(minutes=10 * i), MOBILE if i % 2 else HOME) for i in range(7)]
    decision = may_call(acct(), WORK, start + dt.timedelta(hours=3), calls, US)
    assert not decision.allowed
    assert decision.next_allowed_at == local("America/New_York", 2024, 3, 11, 8, 0)


def test_no_call_for_seven_days_after_a_conversation():
    talk = local("America/New_York", 2024, 3, 4, 15, 0)  # Monday 4 March 2024
    history = [call(talk, conversation=True)]
    assert not may_call(acct(), MOBILE, local("America/New_York", 2024, 3, 4, 16, 0), history, US).allowed
    for day in range(5, 11):
        assert not may_call(acct(), MOBILE, local("America/New_York", 2024, 3, day, 12, 0), history, US).allowed
    decision = may_call(acct(), MOBILE, local("America/New_York", 2024, 3, 10, 20, 0), history, US)
    assert decision.next_allowed_at == local("America/New_York", 2024, 3, 11, 8, 0)
    assert may_call(acct(), MOBILE, local("America/New_York", 2024, 3, 11, 8, 0), history, US).allowed


def test_calls_the_debtor_asked_for_are_not_blocked_or_counted():
    talk = local("America/New_York", 2024, 3, 4, 15, 0)
    history = [call(talk, conversation=True)] + [call(talk + dt.timedelta(minutes=m), requested=True) for m in range(1, 9)]
    at = local("America/New_York", 2024, 3, 5, 10, 0)
    assert may_call(acct(), MOBILE, at, history, US, debtor_requested=True).allowed
    # the requested calls did not count towards 7-in-7: only the conversation blocks
    codes = [r.code for r in may_call(acct(), MOBILE, at, history, US).reasons]
    assert codes == ["conversation_cooldown"]


@pytest.mark.parametrize("flag, code", [
    ({"cease": True}, "cease"), ({"dispute": True}, "dispute"), ({"bankruptcy": True}, "bankruptcy"),
    ({"deceased": True}, "deceased"), ({"attorney_represented": True}, "attorney"),
    ({"breathing_space_until": dt.date(2026, 6, 30)}, "breathing_space"), ({"status": "closed"}, "closed"),
])
def test_every_hold_blocks_collection_calls(flag, code):
    decision = may_call(acct(**flag), MOBILE, local("America/New_York", 2026, 6, 10, 12, 0), [], US)
    assert not decision.allowed and [r.code for r in decision.reasons] == [code]
    assert decision.next_allowed_at is None


def test_holds_that_lift():
    at = local("America/New_York", 2026, 6, 10, 12, 0)
    assert may_call(acct(dispute=True, dispute_verified_at=dt.datetime(2026, 6, 1)), MOBILE, at, [], US).allowed
    assert may_call(acct(breathing_space_until=dt.date(2026, 6, 9)), MOBILE, at, [], US).allowed
    assert may_call(acct(vulnerable=True), MOBILE, at, [], US).allowed  # routed, not blocked


@pytest.mark.parametrize("phone, code", [
    (PhoneFacts(1, "+12125550142", "mobile", "bad"), "phone_bad"),
    (PhoneFacts(1, "+12125550142", "home", "wrong_number"), "phone_wrong"),
    (PhoneFacts(1, "+12125550142", "work", "good", True), "employer_forbids"),
])
def test_phone_blocks(phone, code):
    decision = may_call(acct(), phone, local("America/New_York", 2026, 6, 10, 12, 0), [], US)
    assert [r.code for r in decision.reasons] == [code]


def test_massachusetts_override():
    ma = acct(jurisdiction="US-MA")
    monday = local("America/New_York", 2026, 6, 8, 10, 0)
    two_home = [call(monday, HOME), call(monday + dt.timedelta(days=1), MOBILE)]
    wed = monday + dt.timedelta(days=2)
    decision = may_call(ma, HOME, wed, two_home, MA)
    assert not decision.allowed and decision.reasons[0].code == "home_mobile_frequency"
    assert decision.next_allowed_at == local("America/New_York", 2026, 6, 15, 8, 0)
    # the same history in New York is fine (7 in 7)
    assert may_call(acct(), HOME, wed, two_home, US).allowed
    # work numbers: 2 in 30 days
    two_work = [call(monday, WORK), call(monday + dt.timedelta(days=10), WORK)]
    later = monday + dt.timedelta(days=20)
    decision = may_call(ma, WORK, later, two_work, MA)
    assert decision.reasons[0].code == "other_phone_frequency"
    assert decision.next_allowed_at == local("America/New_York", 2026, 7, 8, 8, 0)
    assert may_call(ma, HOME, later, two_work, MA).allowed


def test_overrides_lift_only_overridable_blocks():
    talk = local("America/New_York", 2024, 3, 4, 15, 0)
    at = local("America/New_York", 2024, 3, 5, 10, 0)
    history = [call(talk, conversation=True)]
    assert may_call(acct(), MOBILE, at, history, US, overrides=frozenset({"conversation_cooldown"})).allowed
    night = local("America/New_York", 2024, 3, 5, 22, 0)
    assert not may_call(acct(), MOBILE, night, [], US, overrides=frozenset({"call_hours"})).allowed
    assert not may_call(acct(cease=True), MOBILE, at, [], US, overrides=frozenset({"cease"})).allowed


@pytest.mark.parametrize("jurisdiction, years", [("GB-ENG", 6), ("GB-SCT", 5), ("US-CA", 4), ("US-NY", 3), ("US", 6)])
def test_time_barred_at_and_past_the_limit(jurisdiction, years):
    rules = rules_for(SETTINGS.compliance, jurisdiction)
    facts = AccountFacts(id=1, jurisdiction=jurisdiction, balance_minor=100, last_payment_date=dt.date(2018, 2, 28),
                         delinquency_date=dt.date(2017, 1, 1))
    end = dt.date(2018 + years, 2, 28)
    assert limitation_ends(facts, rules) == end
    assert not is_time_barred(facts, rules, end - dt.timedelta(days=1))
    assert is_time_barred(facts, rules, end)
    assert is_time_barred(facts, rules, end + dt.timedelta(days=400))


def test_acknowledgement_restarts_limitation():
    facts = AccountFacts(id=1, jurisdiction="GB-ENG", last_payment_date=dt.date(2015, 1, 1),
                         last_acknowledged_date=dt.date(2020, 5, 1))
    assert limitation_ends(facts, UK) == dt.date(2026, 5, 1)


def test_time_barred_debts_cannot_be_escalated_and_letters_disclose():
    barred = AccountFacts(id=1, jurisdiction="GB-ENG", address_zone="Europe/London", balance_minor=5000,
                          last_payment_date=dt.date(2019, 1, 1))
    at = local("Europe/London", 2026, 6, 10, 12, 0)
    escalate = may_escalate(barred, at, UK)
    assert not escalate.allowed and escalate.reasons[0].code == "time_barred"
    reminder = may_send_letter(barred, "reminder", at, UK)
    assert reminder.allowed and reminder.disclosures == ["time_barred"]
    lbc = may_send_letter(barred, "letter-before-claim", at, UK)
    assert not lbc.allowed and "time_barred" in [r.code for r in lbc.reasons]
    fresh = AccountFacts(id=1, jurisdiction="GB-ENG", address_zone="Europe/London", balance_minor=5000,
                         last_payment_date=dt.date(2025, 1, 1))
    assert may_escalate(fresh, at, UK).allowed


@pytest.mark.parametrize("flags, template, allowed", [
    ({"cease": True}, "reminder", False), ({"cease": True}, "statement", True),
    ({"dispute": True}, "final-demand", False), ({"vulnerable": True}, "reminder", False),
    ({"vulnerable": True}, "plan-confirmation", True), ({"bankruptcy": True}, "second-notice", False),
    ({"address_bad": True}, "statement", False), ({"deceased": True}, "solicitor-referral", True),
    ({}, "no-such-letter", False),
])
def test_letter_holds(flags, template, allowed):
    facts = AccountFacts(id=1, address_zone="America/New_York", balance_minor=5000,
                         last_payment_date=dt.date(2025, 1, 1), **flags)
    assert may_send_letter(facts, template, local("America/New_York", 2026, 6, 10, 12), US).allowed is allowed


@pytest.mark.parametrize("flags, code", [
    ({"dispute": True}, "dispute"), ({"bankruptcy": True}, "bankruptcy"), ({"deceased": True}, "deceased"),
])
def test_escalation_holds(flags, code):
    facts = AccountFacts(id=1, address_zone="America/New_York", balance_minor=5000,
                         last_payment_date=dt.date(2025, 1, 1), **flags)
    decision = may_escalate(facts, local("America/New_York", 2026, 6, 10, 12), US)
    assert [r.code for r in decision.reasons] == [code]
