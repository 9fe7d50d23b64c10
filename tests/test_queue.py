"""The work queue: order, exclusive claims with leases, compliance at claim time, scope."""

import datetime as dt
import json

import pytest

from config import load_settings
from db.activity import log_call, schedule_callback
from db.audit import Actor
from db.governor import OverrideError, check_call, grant_override
from db.models import Account, AuditEvent, Phone
from db.queue import (
    ClaimRefused, claim, claim_next, queue_depth, reap_due, refresh_all, release, renew, start_queue_maintenance,
    stop_queue_maintenance,
)
from tests import floor
from tests.conftest import PG_URL

SETTINGS = load_settings()
NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)  # 12:00 New York, 17:00 London
ADMIN = Actor("test", role="admin")


@pytest.fixture
def team(db):
    return floor.team()


@pytest.fixture
def alice(team):
    return floor.officer("alice", team)


@pytest.fixture
def bob(team):
    return floor.officer("bob", team)


def refresh(at=NOON_NY):
    refresh_all(SETTINGS, ADMIN, at)


def test_claims_best_first_and_never_twice(team, alice, bob):
    small = floor.account(team, balance=50_00, dpd=10)
    big = floor.account(team, balance=20_000_00, dpd=400)
    mid = floor.account(team, balance=2_000_00, dpd=200)
    refresh()
    first = claim_next(SETTINGS, alice, NOON_NY)
    second = claim_next(SETTINGS, bob, NOON_NY)
    third = claim_next(SETTINGS, alice, NOON_NY)
    assert [first.account_id, second.account_id, third.account_id] == [big.id, mid.id, small.id]
    assert Account.get_by_id(big.id).claimed_by_id == alice.id
    assert Account.get_by_id(mid.id).claimed_by_id == bob.id
    empty = claim_next(SETTINGS, bob, NOON_NY)
    assert not empty.claimed and "Queue empty" in empty.reason
    assert AuditEvent.select().where(AuditEvent.action == "queue.claim").count() == 3


def test_claim_refuses_naming_the_holder_and_lease_expires(team, alice, bob):
    acct = floor.account(team)
    refresh()
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == acct.id
    with pytest.raises(ClaimRefused, match="being worked by Alice"):
        claim(SETTINGS, bob, acct.id, NOON_NY)
    # alice's session dies; after the lease the account is free for others
    later = NOON_NY + dt.timedelta(minutes=SETTINGS.queue.lease_minutes + 1)
    result = claim_next(SETTINGS, bob, later)
    assert result.account_id == acct.id
    assert Account.get_by_id(acct.id).claimed_by_id == bob.id
    assert not renew(SETTINGS, alice, acct.id, later)  # alice lost it


def test_renew_keeps_the_claim(team, alice, bob):
    acct = floor.account(team)
    refresh()
    claim_next(SETTINGS, alice, NOON_NY)
    assert renew(SETTINGS, alice, acct.id, NOON_NY + dt.timedelta(minutes=10))
    assert not claim_next(SETTINGS, bob, NOON_NY + dt.timedelta(minutes=20)).claimed


def test_release_returns_the_account(team, alice, bob):
    acct = floor.account(team)
    refresh()
    claim_next(SETTINGS, alice, NOON_NY)
    assert release(SETTINGS, alice, acct.id, NOON_NY)
    assert claim_next(SETTINGS, bob, NOON_NY).account_id == acct.id


def test_outside_hours_is_not_handed_out(team, alice):
    floor.account(team, zone="America/Los_Angeles", region="CA", phones=(("+12135550100", "mobile", "good"),))
    refresh()
    early = dt.datetime(2026, 6, 10, 14, 30, tzinfo=dt.UTC)  # 07:30 in Los Angeles
    result = claim_next(SETTINGS, alice, early)
    assert not result.claimed and "outside call hours" in result.reason
    assert claim_next(SETTINGS, alice, early + dt.timedelta(minutes=30)).claimed


def test_holds_and_bad_phones_are_not_handed_out(team, alice):
    floor.account(team, cease=True)
    floor.account(team, phones=(("+12125550101", "mobile", "bad"),))
    floor.account(team, phones=())
    ok = floor.account(team, balance=10_00)
    refresh()
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == ok.id
    assert not claim_next(SETTINGS, alice, NOON_NY).claimed
    depth = queue_depth(ok.team_id)
    assert depth["held"] == 3 and depth["claimed"] == 1


def test_frequency_cap_takes_the_account_out_until_the_window_slides(team, alice, bob):
    acct = floor.account(team)
    phone = Phone.get(Phone.debtor == acct.debtor_id)
    refresh()
    for day in range(7):
        at = NOON_NY + dt.timedelta(days=day)
        assert claim_next(SETTINGS, alice, at).account_id == acct.id, day
        log_call(SETTINGS, Actor.for_officer(alice), acct.id, phone.id, "no_answer", at=at)
        release(SETTINGS, alice, acct.id, at)
    day7 = NOON_NY + dt.timedelta(days=6, hours=2)
    result = claim_next(SETTINGS, bob, day7)
    assert not result.claimed and "next waiting account" in result.reason
    decision = check_call(SETTINGS, acct.id, phone.id, day7)
    assert not decision.allowed and decision.reasons[0].code == "frequency"
    day8 = dt.datetime(2026, 6, 17, 12, 0, tzinfo=dt.UTC)  # 08:00 New York on day 8
    assert decision.next_allowed_at == day8
    assert claim_next(SETTINGS, bob, day8).account_id == acct.id


def test_stale_queue_facts_are_rechecked_at_claim(team, alice, bob):
    acct = floor.account(team)
    phone = Phone.get(Phone.debtor == acct.debtor_id)
    refresh()
    # A conversation is logged straight into history (an import, another host) without
    # refreshing the account: the claim itself must notice.
    from db.models import Activity

    Activity.create(account=acct.id, kind="conversation", disposition="rpc_refused", phone=phone.id,
                    started_at=(NOON_NY - dt.timedelta(hours=1)).replace(tzinfo=None),
                    counts_as_attempt=True, right_party_contact=True)
    result = claim_next(SETTINGS, alice, NOON_NY)
    assert not result.claimed
    assert Account.get_by_id(acct.id).queue_priority is None
    assert "Spoke to the debtor" in Account.get_by_id(acct.id).queue_reason


def test_callbacks_wait_then_come_first(team, alice):
    big = floor.account(team, balance=20_000_00, dpd=800)
    small = floor.account(team, balance=30_00, dpd=5)
    refresh()
    when = NOON_NY + dt.timedelta(hours=2)
    schedule_callback(SETTINGS, Actor.for_officer(alice), small.id, when, at=NOON_NY)
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == big.id
    release(SETTINGS, alice, big.id, NOON_NY)
    assert reap_due(SETTINGS, when) == 1  # a session's maintenance tick
    assert claim_next(SETTINGS, alice, when).account_id == small.id


def test_maintenance_thread_returns_due_accounts(team, alice):
    import time

    acct = floor.account(team)
    now = dt.datetime.now(dt.UTC)
    refresh(now)
    schedule_callback(SETTINGS, Actor.for_officer(alice), acct.id, now + dt.timedelta(seconds=1), at=now)
    assert Account.get_by_id(acct.id).queue_priority is None
    start_queue_maintenance(SETTINGS, interval=0.2)
    try:
        deadline = time.monotonic() + 10
        while Account.get_by_id(acct.id).queue_priority is None and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop_queue_maintenance()
    back = Account.get_by_id(acct.id)
    assert back.queue_priority is not None and back.queue_priority >= 3 * 10**10  # callback tier


def test_assignments_and_team_scope(team, alice, bob):
    other_team = floor.team("Specialist")
    carol = floor.officer("carol", other_team)
    mine = floor.account(team, assigned_officer=bob, balance=99_000_00)
    theirs = floor.account(other_team, balance=99_000_00)
    pool = floor.account(team, balance=10_00)
    refresh()
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == pool.id  # not bob's, not carol's team
    assert claim_next(SETTINGS, bob, NOON_NY).account_id == mine.id
    assert claim_next(SETTINGS, carol, NOON_NY).account_id == theirs.id
    with pytest.raises(ClaimRefused, match="another team"):
        claim(SETTINGS, alice, theirs.id, NOON_NY)


def test_team_lead_override_is_audited_and_lifts_the_cooldown(team, alice):
    lead = floor.officer("lead", team, role="team_lead")
    acct = floor.account(team)
    phone = Phone.get(Phone.debtor == acct.debtor_id)
    log_call(SETTINGS, Actor.for_officer(alice), acct.id, phone.id, "rpc_callback", at=NOON_NY - dt.timedelta(days=1))
    assert not check_call(SETTINGS, acct.id, phone.id, NOON_NY).allowed
    with pytest.raises(PermissionError):
        grant_override(Actor.for_officer(alice), acct.id, ["conversation_cooldown"], "asked", at=NOON_NY)
    with pytest.raises(OverrideError, match="cannot be overridden"):
        grant_override(Actor.for_officer(lead), acct.id, ["cease"], "no", at=NOON_NY)
    grant_override(Actor.for_officer(lead), acct.id, ["conversation_cooldown"],
                   "Debtor asked us to ring back about the plan", at=NOON_NY)
    assert check_call(SETTINGS, acct.id, phone.id, NOON_NY).allowed
    event = AuditEvent.get(AuditEvent.action == "compliance.override")
    assert event.actor == "lead" and "ring back" in event.changes
    refresh()
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == acct.id


def test_a_claim_is_audited_with_its_lease(team, alice):
    acct = floor.account(team)
    refresh()
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == acct.id
    event = AuditEvent.get(AuditEvent.action == "queue.claim")
    assert (event.actor, event.officer_id, event.entity, event.entity_id, event.account_id) == (
        "alice", alice.id, "account", acct.id, acct.id)
    until = (NOON_NY + dt.timedelta(minutes=SETTINGS.queue.lease_minutes)).replace(tzinfo=None)
    assert json.loads(event.changes) == {"claimed_by": "alice", "until": until.isoformat()}
    held = Account.get_by_id(acct.id)
    assert held.claimed_by_id == alice.id and held.claim_expires_at == until and held.queue_priority is None


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL row locks")
def test_an_account_locked_by_another_claimer_is_skipped_for_the_next_best(team, alice, db_url):
    import psycopg2

    best = floor.account(team, balance=20_000_00, dpd=400)
    second = floor.account(team, balance=2_000_00, dpd=200)
    refresh()
    other = psycopg2.connect(db_url)  # another claimer, mid-claim, holding the best account
    try:
        with other.cursor() as cur:
            cur.execute("SELECT id FROM account WHERE id = %s FOR UPDATE", (best.id,))
            assert claim_next(SETTINGS, alice, NOON_NY).account_id == second.id
    finally:
        other.rollback()
        other.close()
    assert Account.get_by_id(best.id).claimed_by_id is None


@pytest.mark.skipif(not PG_URL, reason="the claim function is PostgreSQL's")
def test_the_installed_claim_function_is_the_current_one(db):
    from db import pg_claim

    names = [r[0] for r in db.execute_sql("SELECT proname FROM pg_proc WHERE proname LIKE %s", ("arrears_claim_%",))]
    assert pg_claim.function_name() in names, (
        "db/pg_claim.py changed: add a migration that runs pg_claim.install(db)")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's dead index entries")
def test_claims_vacuum_the_account_table_when_autovacuum_is_off(team, alice, db, monkeypatch):
    from db import queue

    floor.account(team)
    refresh()
    claim_next(SETTINGS, alice, NOON_NY)
    monkeypatch.setattr(queue, "VACUUM_DEAD_ROWS", 0)
    autovacuum = db.execute_sql("SHOW autovacuum").fetchone()[0]
    assert queue.vacuum_if_needed() is (autovacuum == "off")
    if autovacuum == "off":
        last = db.execute_sql("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'account'").fetchone()[0]
        assert last is not None


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's planner statistics")
def test_upkeep_takes_statistics_of_changed_tables_when_autovacuum_is_off(team, alice, db, monkeypatch):
    from db import queue

    floor.account(team)
    refresh()
    monkeypatch.setattr(queue, "ANALYZE_CHANGED_ROWS", 0)
    autovacuum = db.execute_sql("SHOW autovacuum").fetchone()[0]
    assert queue.vacuum_if_needed() is (autovacuum == "off")
    if autovacuum == "off":
        analysed = dict(db.execute_sql("SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                                       "WHERE relname IN ('account', 'audit_event')").fetchall())
        assert analysed == {"account": True, "audit_event": True}


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL's planner statistics")
def test_a_bulk_refresh_takes_statistics_and_a_small_one_does_not(db, monkeypatch):
    from db import database as database_module

    assert database_module.refresh_statistics(database_module.STATISTICS_AFTER_ROWS - 1) is False
    assert database_module.refresh_statistics(database_module.STATISTICS_AFTER_ROWS) is True
    last = db.execute_sql("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'account'").fetchone()[0]
    assert last is not None


def test_call_hours_open_on_the_minute_for_claims(team, alice):
    """The open zones are kept for the rest of a minute: 07:59:59 in New York is closed and
    08:00:00 is open, as the governor says (EDT: 11:59:59 and 12:00:00 UTC)."""
    account = floor.account(team, zone="America/New_York")
    refresh(dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC))
    before = claim_next(SETTINGS, alice, dt.datetime(2026, 6, 10, 11, 59, 0, tzinfo=dt.UTC))
    assert not before.claimed and "outside call hours" in before.reason
    again = claim_next(SETTINGS, alice, dt.datetime(2026, 6, 10, 11, 59, 59, tzinfo=dt.UTC))
    assert not again.claimed
    on_time = claim_next(SETTINGS, alice, dt.datetime(2026, 6, 10, 12, 0, 0, tzinfo=dt.UTC))
    assert on_time.account_id == account.id


def test_a_refresh_writes_only_accounts_whose_facts_changed(team, alice):
    first = floor.account(team, balance=50_00, dpd=10)
    second = floor.account(team, balance=20_000_00, dpd=400)
    assert refresh_all(SETTINGS, ADMIN, NOON_NY) == 2
    assert refresh_all(SETTINGS, ADMIN, NOON_NY) == 0  # nothing changed: nothing written
    log_call(SETTINGS, Actor.for_officer(alice), first.id, Phone.get(Phone.debtor == first.debtor_id).id,
             "no_answer", at=NOON_NY)
    claim(SETTINGS, alice, second.id, NOON_NY)
    # A day on: the call counts in the first account's window, the claim has lapsed.
    assert refresh_all(SETTINGS, ADMIN, NOON_NY + dt.timedelta(days=1)) == 2
    assert Account.get_by_id(second.id).claimed_by_id is None
    assert Account.get_by_id(first.id).attempts_in_window == 1


def test_next_for_officer_releases_claims_audits_and_tells_the_floor(team, alice, bob):
    """An officer's `n`: the next account is claimed, the one left goes back (after the claim:
    `n` never hands back the same account), the opening is audited and the floor shows the
    officer on it; on SQLite as one write."""
    from db.models import Presence
    from db.presence import begin_session
    from db.queue import next_for_officer

    big = floor.account(team, balance=20_000_00, dpd=400)
    mid = floor.account(team, balance=2_000_00, dpd=200)
    refresh()
    session = begin_session(SETTINGS, Actor.for_officer(alice), NOON_NY)
    first = next_for_officer(SETTINGS, alice, NOON_NY, session=session)
    assert first.account_id == big.id
    before = AuditEvent.select().count()
    second = next_for_officer(SETTINGS, alice, NOON_NY, leaving=big.id, session=session)
    assert second.account_id == mid.id
    assert Account.get_by_id(big.id).claimed_by_id is None
    assert Account.get_by_id(big.id).queue_priority is not None  # back in the queue
    assert Account.get_by_id(mid.id).claimed_by_id == alice.id
    events = [(e.action, e.account_id) for e in AuditEvent.select().where(AuditEvent.id > 0).order_by(AuditEvent.id)
              ][before:]
    assert sorted((a, i) for a, i in events if a != "queue.requeue") == sorted([
        ("queue.claim", mid.id), ("queue.release", big.id), ("account.view", mid.id), ("session.state", mid.id)])
    presence = Presence.get(Presence.session == session)
    assert (presence.state, presence.account_id) == ("account", mid.id)
    # Bob's session has left the floor: his claim stands all the same.
    third = next_for_officer(SETTINGS, bob, NOON_NY, session="gone:1:0")
    assert third.account_id == big.id and Account.get_by_id(big.id).claimed_by_id == bob.id
    # Nothing left: the officer keeps the account they were on, nothing is audited as opened.
    views = AuditEvent.select().where(AuditEvent.action == "account.view").count()
    assert not next_for_officer(SETTINGS, alice, NOON_NY, leaving=mid.id, session=session).claimed
    assert Account.get_by_id(mid.id).claimed_by_id == alice.id
    assert AuditEvent.select().where(AuditEvent.action == "account.view").count() == views
    presence = Presence.get(Presence.session == session)
    assert (presence.state, presence.account_id) == ("account", mid.id)
