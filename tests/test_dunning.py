"""The dunning run against a real database: thresholds, spacing, holds, eligibility, US
validation periods, dry runs, and nothing new on a second run the same day."""

import datetime as dt

import pytest

from config import load_settings
from db.audit import Actor, write_transaction
from db.dunning import dunning_run
from db.models import Account, Address, Letter, Promise
from tests import floor

DAY = dt.date(2026, 6, 10)
SYSTEM = Actor.system("dunning")


@pytest.fixture
def settings():
    return load_settings()


@pytest.fixture
def team(db):
    return floor.team()


def uk(team, dpd, **fields):
    return floor.account(team, country="GB", region="ENG", zone="Europe/London", jurisdiction="GB-ENG",
                         dpd=dpd, today=DAY, balance=300_00, **fields)


def letters_of(account) -> list[str]:
    return [l.template for l in Letter.select().where(Letter.account == account.id).order_by(Letter.id)]


def change(account, **fields):
    with write_transaction(Actor("test", role="admin")) as tx:
        Account.update(**fields).where(Account.id == account.id).execute()
        tx.audit("test.change", "account", account.id)


def test_each_account_gets_the_next_letter_once_its_threshold_is_reached(settings, team):
    early, due, later = uk(team, 3), uk(team, 10), uk(team, 30)
    result = dunning_run(settings, SYSTEM, DAY)
    assert dict(result.queued) == {"reminder": 2}
    assert letters_of(early) == [] and letters_of(due) == ["reminder"] and letters_of(later) == ["reminder"]
    # Same day again: nothing new.
    again = dunning_run(settings, SYSTEM, DAY)
    assert sum(again.queued.values()) == 0 and Letter.select().count() == 2
    # Two weeks on: the 10- and 30-day accounts are past 21 days (second notice), the
    # 3-day one is past 7 (reminder).
    fortnight = dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=14))
    assert dict(fortnight.queued) == {"second-notice": 2, "reminder": 1}
    assert letters_of(later) == ["reminder", "second-notice"]
    # A week later the letters are too close together for the final demand (needs 14 days' gap).
    assert sum(dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=21)).queued.values()) == 0
    month = dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=28))
    assert letters_of(later) == ["reminder", "second-notice", "final-demand"]
    assert letters_of(due) == ["reminder", "second-notice"]  # 38 days past due: not yet 45
    assert dict(month.queued) == {"final-demand": 1, "second-notice": 1}
    # Past 60 days a UK account gets the letter before claim; nothing comes after it.
    dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=42))
    assert letters_of(later)[-1] == "letter-before-claim"
    assert letters_of(early) == ["reminder", "second-notice", "final-demand"]


def test_holds_arrangements_promises_and_eligibility_keep_letters_back(settings, team):
    cease = uk(team, 30, cease=True)
    vulnerable = uk(team, 30, vulnerable=True)
    arrangement = uk(team, 30, status="arrangement")
    promised = uk(team, 30)
    with write_transaction(Actor("test", role="admin")) as tx:
        Promise.create(account=promised.id, amount_minor=50_00, due_on=DAY + dt.timedelta(days=3))
        tx.audit("test.promise", "account", promised.id)
    bad_address = uk(team, 30)
    with write_transaction(Actor("test", role="admin")) as tx:
        Address.update(status="bad").where(Address.debtor == bad_address.debtor_id).execute()
        tx.audit("test.address", "account", bad_address.id)
    closed = uk(team, 30, status="closed")
    paid_off = uk(team, 30)
    change(paid_off, balance_minor=0)
    bankrupt = uk(team, 30, bankruptcy=True)
    disputed = uk(team, 30, dispute=True)
    breathing = uk(team, 30, breathing_space_until=DAY + dt.timedelta(days=20))
    fine = uk(team, 30)

    dry = dunning_run(settings, SYSTEM, DAY, dry_run=True)
    assert Letter.select().count() == 0  # a dry run writes nothing
    result = dunning_run(settings, SYSTEM, DAY)
    assert dry.queued == result.queued == {"reminder": 1}
    assert letters_of(fine) == ["reminder"]
    assert dict(result.held) == {"cease": 1, "vulnerable": 1, "open arrangement": 1, "promise to pay pending": 1,
                                 "bad address": 1, "bankruptcy": 1, "dispute": 1, "breathing space": 1}
    for account in (cease, vulnerable, arrangement, promised, bad_address, closed, paid_off, bankrupt, disputed,
                    breathing):
        assert letters_of(account) == []


def test_time_barred_debts_are_never_threatened_with_court(settings, team):
    old = uk(team, 30)
    change(old, delinquency_date=dt.date(2019, 1, 1))  # over six years: statute-barred in England
    dunning_run(settings, SYSTEM, DAY)
    dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=14))
    assert letters_of(old) == ["reminder", "second-notice"]
    held = dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=28))
    assert held.held == {"time barred": 1} and letters_of(old) == ["reminder", "second-notice"]
    import json

    assert all(json.loads(l.inputs)["disclosures"] == ["time_barred"] for l in Letter.select())


def test_us_accounts_get_the_validation_notice_first_then_wait_out_its_period(settings, team):
    account = floor.account(team, dpd=30, today=DAY, balance=300_00)
    first = dunning_run(settings, SYSTEM, DAY)
    assert dict(first.queued) == {"validation-notice": 1}
    assert Account.get_by_id(account.id).validation_sent_at.date() == DAY
    # 30 days after assumed receipt (17 June): collection letters wait until after 17 July.
    during = dunning_run(settings, SYSTEM, DAY + dt.timedelta(days=30))
    assert during.held == {"validation period": 1}
    after = dunning_run(settings, SYSTEM, dt.date(2026, 7, 18))
    assert dict(after.queued) == {"reminder": 1}
    assert letters_of(account) == ["validation-notice", "reminder"]
