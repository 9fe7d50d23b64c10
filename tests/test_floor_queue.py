"""The team's queue as the live floor shows it, against accounts set up by hand: buckets
(with their edges), callable now / being worked / blocked, callbacks due within the hour,
promises due and broken today; leads see their own team only."""

import datetime as dt

import pytest

from config import load_settings
from db.audit import Actor
from db.floor_queue import queue_summary
from db.models import Account, Promise
from db.worklist import dpd_bucket
from tests import floor

SETTINGS = load_settings()
AT = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
TODAY = AT.date()
NOW = AT.replace(tzinfo=None)


def make(team, dpd, *, callable_now=False, claimed_by=None, expires=None, **fields):
    acct = floor.account(team, dpd=dpd, today=TODAY)
    Account.update(queue_priority=100 if callable_now else None, claimed_by=claimed_by, claim_expires_at=expires,
                   **fields).where(Account.id == acct.id).execute()
    return acct


@pytest.fixture
def office(db):
    team, other = floor.team(), floor.team("Other")
    alice = floor.officer("alice", team)
    lead = Actor.for_officer(floor.officer("lina", team, role="team_lead"))
    hour = dt.timedelta(hours=1)
    make(team, 10, callable_now=True)
    make(team, 30, callable_now=True, callback_at=NOW + hour / 2)       # callback within the hour
    make(team, 31, claimed_by=alice.id, expires=NOW + hour)              # being worked
    make(team, 45, claimed_by=alice.id, expires=NOW - hour / 60)         # a lapsed claim: blocked until re-checked
    make(team, 75, callback_at=NOW + hour * 1.5)                         # blocked; callback later than the hour
    make(team, 180, callable_now=True)
    make(team, 181)
    make(team, 900, callable_now=True)
    make(team, 10, callable_now=True, status="closed")                  # closed: not in the queue
    theirs = make(other, 10, callable_now=True)
    promised = make(team, 100)
    for due, status, evaluated in [(TODAY, "open", None), (TODAY + dt.timedelta(days=1), "open", None),
                                   (TODAY - dt.timedelta(days=5), "broken", NOW - hour),
                                   (TODAY - dt.timedelta(days=6), "broken", NOW - hour * 24)]:
        Promise.create(account=promised.id, amount_minor=10_00, due_on=due, status=status, evaluated_at=evaluated)
    Promise.create(account=theirs.id, amount_minor=10_00, due_on=TODAY, status="open")
    return lead


def test_the_floor_queue_matches_the_accounts_set_up(office):
    summary = queue_summary(SETTINGS, office, AT)
    counts = {label: (b.callable_now, b.being_worked, b.blocked) for label, b in summary.buckets.items()}
    assert counts == {"0-30": (2, 0, 0), "31-60": (0, 1, 1), "61-90": (0, 0, 1), "91-180": (1, 0, 1),
                      "180+": (1, 0, 1)}
    # The buckets agree with the queue screen's own.
    assert [dpd_bucket(d) for d in (30, 31, 180, 181)] == ["0-30", "31-60", "91-180", "180+"]
    assert (summary.callbacks_next_hour, summary.promises_due_today, summary.broken_today) == (1, 1, 1)


def test_leads_see_only_their_team(office):
    with pytest.raises(PermissionError):
        queue_summary(SETTINGS, office, AT, team="Other")
    with pytest.raises(PermissionError):
        queue_summary(SETTINGS, Actor("alice", role="officer", team_id=office.team_id), AT)
    other = queue_summary(SETTINGS, Actor("admin", role="admin"), AT, team="Other")
    assert other.buckets["0-30"].callable_now == 1 and other.promises_due_today == 1
    everyone = queue_summary(SETTINGS, Actor("admin", role="admin"), AT)
    assert sum(b.total for b in everyone.buckets.values()) == 10  # nine of this team, one of Other; not the closed one
