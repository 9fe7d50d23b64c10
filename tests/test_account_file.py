"""What the account screen reads: the history names who did what and when, newest first,
and the file names who holds the account."""

from __future__ import annotations

import datetime as dt

from config import load_settings
from db.activity import add_note
from db.audit import Actor
from db.queue import claim
from db.worklist import account_file, history_of
from tests import floor

SETTINGS = load_settings()
AT = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


def test_the_history_names_each_rows_officer_and_the_file_names_the_holder(db):
    team = floor.team()
    alice, bob = floor.officer("alice", team), floor.officer("bob", team)
    acct = floor.account(team)
    add_note(Actor.for_officer(alice), acct.id, "first, by alice", at=AT)
    add_note(Actor.for_officer(bob), acct.id, "second, by bob", at=AT + dt.timedelta(minutes=5))
    alice_actor, bob_actor = Actor.for_officer(alice), Actor.for_officer(bob)

    rows = history_of(alice_actor, acct.id)
    assert [(r[1], r[3], r[4]) for r in rows] == [("note", "bob", "second, by bob"), ("note", "alice", "first, by alice")]
    assert rows[0][0] == dt.datetime(2026, 6, 10, 16, 5)  # stored UTC, read back as a datetime
    assert [r[3] for r in history_of(alice_actor, acct.id, ("call_attempt",))] == []

    assert account_file(SETTINGS, alice_actor, acct.id, AT).claimed_by is None
    claim(SETTINGS, bob, acct.id, AT)
    assert account_file(SETTINGS, alice_actor, acct.id, AT).claimed_by == "bob"  # another officer's claim
    assert account_file(SETTINGS, bob_actor, acct.id, AT).claimed_by == "bob"  # their own
    assert [r[3] for r in account_file(SETTINGS, bob_actor, acct.id, AT).history] == ["bob", "alice"]
