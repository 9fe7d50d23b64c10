"""A team lead's floor actions in db: reassigning accounts (by reference, by bucket, by
whose they are now), setting the team's queue strategy and re-scoring the queue with it,
and who may do which. Each is checked in what the database holds afterwards."""

import datetime as dt
import json

import pytest

from config import load_settings
from db.assignments import (
    AssignmentError, assignable_officers, reassign, rescore_team, select_accounts, set_strategy,
)
from db.audit import Actor, write_transaction
from db.models import Account, AuditEvent, Officer, Team
from db.queue import claim, claim_next, refresh_all
from tests import floor

SETTINGS = load_settings()
NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
ADMIN = Actor("test-admin", role="admin")


@pytest.fixture
def office(db):
    recoveries, other = floor.team(), floor.team("Other")
    specialist = floor.team("Specialist")
    Team.update(specialist=True).where(Team.id == specialist.id).execute()
    people = {name: floor.officer(name, team, role) for name, team, role in [
        ("alice", recoveries, "officer"), ("bob", recoveries, "officer"), ("lina", recoveries, "team_lead"),
        ("olga", other, "officer"), ("sam", specialist, "officer")]}
    # dpd 10 (0-30), 45 (31-60) and three at 200 (180+), balances rising.
    accounts = [floor.account(recoveries, dpd=dpd, balance=balance) for dpd, balance in
                [(10, 100_00), (45, 200_00), (200, 300_00), (200, 400_00), (200, 500_00)]]
    theirs = floor.account(other, dpd=200)
    refresh_all(SETTINGS, ADMIN, NOON_NY)
    return people, accounts, theirs


def owner_of(account) -> str | None:
    row = Account.get_by_id(account.id)
    return Officer.get_by_id(row.assigned_officer_id).username if row.assigned_officer_id else None


def lead(people):
    return Actor.for_officer(people["lina"])


def test_reassign_by_reference_moves_and_audits_each_account(office):
    people, accounts, _ = office
    ids, refused = select_accounts(SETTINGS, lead(people), NOON_NY,
                                   references=[accounts[0].reference, accounts[1].reference, "NOPE1"])
    assert refused == ["NOPE1: no such account"]
    result = reassign(SETTINGS, lead(people), ids, "bob", NOON_NY)
    assert (result.moved, result.already, result.refused) == (2, 0, [])
    assert [owner_of(a) for a in accounts] == ["bob", "bob", None, None, None]
    events = list(AuditEvent.select().where(AuditEvent.action == "account.assign").order_by(AuditEvent.id))
    assert [(e.account_id, e.actor, json.loads(e.changes)) for e in events] == [
        (accounts[0].id, "lina", {"assigned_officer": [None, people["bob"].id]}),
        (accounts[1].id, "lina", {"assigned_officer": [None, people["bob"].id]})]
    # Again: nothing changes, and it says so.
    again = reassign(SETTINGS, lead(people), ids, "bob", NOON_NY)
    assert (again.moved, again.already) == (0, 2)
    # Bob's accounts are his alone: alice's claims take only the pool's three.
    alice_got = {claim_next(SETTINGS, people["alice"], NOON_NY).account_id for _ in range(4)}
    assert alice_got == {accounts[2].id, accounts[3].id, accounts[4].id, None}
    reassign(SETTINGS, lead(people), ids, "pool", NOON_NY)
    assert [owner_of(a) for a in accounts[:2]] == [None, None]


def test_reassign_by_bucket_and_owner_best_first_with_a_limit(office):
    people, accounts, _ = office
    ids, _ = select_accounts(SETTINGS, lead(people), NOON_NY, bucket="180+", limit=2)
    # Best first: the two largest balances of the three 180+ accounts.
    assert ids == [accounts[4].id, accounts[3].id]
    reassign(SETTINGS, lead(people), ids, "alice", NOON_NY)
    # Alice is off sick: everything of hers goes to bob.
    hers, _ = select_accounts(SETTINGS, lead(people), NOON_NY, owner="alice")
    assert sorted(hers) == sorted(ids)
    reassign(SETTINGS, lead(people), hers, "bob", NOON_NY)
    assert [owner_of(a) for a in accounts] == [None, None, None, "bob", "bob"]
    pool, _ = select_accounts(SETTINGS, lead(people), NOON_NY, bucket="180+", owner="pool")
    assert pool == [accounts[2].id]
    with pytest.raises(AssignmentError, match="unknown bucket"):
        select_accounts(SETTINGS, lead(people), NOON_NY, bucket="1-2")
    with pytest.raises(AssignmentError, match="say which accounts"):
        select_accounts(SETTINGS, lead(people), NOON_NY)


def test_a_claimed_account_moves_but_its_holder_keeps_the_claim(office):
    people, accounts, _ = office
    claim(SETTINGS, people["alice"], accounts[0].id, NOON_NY)
    reassign(SETTINGS, lead(people), [accounts[0].id], "bob", NOON_NY)
    row = Account.get_by_id(accounts[0].id)
    assert row.claimed_by_id == people["alice"].id and owner_of(accounts[0]) == "bob"


def test_who_may_reassign_what(office):
    people, accounts, theirs = office
    with pytest.raises(PermissionError):
        reassign(SETTINGS, Actor.for_officer(people["alice"]), [accounts[0].id], "bob", NOON_NY)
    with pytest.raises(AssignmentError, match="another team"):
        reassign(SETTINGS, lead(people), [accounts[0].id], "olga", NOON_NY)
    with pytest.raises(AssignmentError, match="no officer"):
        reassign(SETTINGS, lead(people), [accounts[0].id], "zed", NOON_NY)
    ids, refused = select_accounts(SETTINGS, lead(people), NOON_NY, references=[theirs.reference])
    assert ids == [] and refused == [f"{theirs.reference}: closed, or not your team's"]
    # Even given the id, another team's account is left alone.
    result = reassign(SETTINGS, lead(people), [theirs.id], "bob", NOON_NY)
    assert result.moved == 0 and result.refused == [f"{theirs.reference}: not your team's"]
    with write_transaction(ADMIN) as tx:
        Officer.update(active=False).where(Officer.username == "bob").execute()
        tx.audit("officer.disable", "officer", people["bob"].id)
    with pytest.raises(AssignmentError, match="disabled"):
        reassign(SETTINGS, lead(people), [accounts[0].id], "bob", NOON_NY)
    assert assignable_officers(lead(people)) == ["alice", "lina"]
    assert AuditEvent.select().where(AuditEvent.action == "account.assign").count() == 0


def test_an_admin_moves_accounts_across_teams_but_not_a_vulnerable_customer_out_of_specialists(office):
    people, accounts, theirs = office
    result = reassign(SETTINGS, ADMIN, [theirs.id], "alice", NOON_NY)
    row = Account.get_by_id(theirs.id)
    assert result.moved == 1 and row.team_id == people["alice"].team_id and owner_of(theirs) == "alice"
    # Alice's team's queue hands it out now.
    assert row.queue_priority is not None and row.callable_zone == "America/New_York"
    with write_transaction(ADMIN) as tx:
        Account.update(vulnerable=True, team=people["sam"].team_id).where(Account.id == accounts[0].id).execute()
        tx.audit("flag.set", "account", accounts[0].id, account_id=accounts[0].id)
    kept = reassign(SETTINGS, ADMIN, [accounts[0].id], "alice", NOON_NY)
    assert kept.moved == 0 and "vulnerable" in kept.refused[0]
    assert reassign(SETTINGS, ADMIN, [accounts[0].id], "sam", NOON_NY).moved == 1


def test_strategy_is_the_leads_own_teams_and_reorders_the_queue(office):
    people, accounts, _ = office
    # A large, young debt against a small, old one: the balanced strategy weighs age and
    # balance alike and prefers the old one; high-balance prefers the large one.
    with write_transaction(ADMIN) as tx:
        Account.update(balance_minor=100_000_00, delinquency_date=dt.date(2026, 5, 11)) \
            .where(Account.id == accounts[0].id).execute()
        Account.update(balance_minor=50_00, delinquency_date=dt.date(2024, 3, 1)) \
            .where(Account.id == accounts[1].id).execute()
        tx.audit("test.setup", "account", None)
    refresh_all(SETTINGS, ADMIN, NOON_NY)
    young, old = (Account.get_by_id(a.id) for a in accounts[:2])
    assert old.priority > young.priority
    claim(SETTINGS, people["alice"], accounts[2].id, NOON_NY)  # claimed: stays out of the claim index

    team = set_strategy(SETTINGS, lead(people), None, "high-balance", NOON_NY)
    assert team.queue_strategy == "high-balance"
    assert rescore_team(SETTINGS, lead(people), None, NOON_NY) == 5
    young, old, held = (Account.get_by_id(a.id) for a in accounts[:3])
    assert young.priority > old.priority
    assert young.queue_priority == young.priority and held.queue_priority is None
    event = AuditEvent.get(AuditEvent.action == "team.strategy")
    assert json.loads(event.changes) == {"queue_strategy": ["balanced", "high-balance"]}

    with pytest.raises(AssignmentError, match="unknown strategy"):
        set_strategy(SETTINGS, lead(people), None, "fastest", NOON_NY)
    with pytest.raises(AssignmentError, match="only your own team"):
        set_strategy(SETTINGS, lead(people), "Other", "balanced", NOON_NY)
    with pytest.raises(PermissionError):
        set_strategy(SETTINGS, Actor.for_officer(people["alice"]), None, "balanced", NOON_NY)
    with pytest.raises(AssignmentError):
        rescore_team(SETTINGS, lead(people), "Other", NOON_NY)
    assert set_strategy(SETTINGS, ADMIN, "Other", "early-stage", NOON_NY).queue_strategy == "early-stage"


def test_the_commands_for_admins_and_scripts(office, db_url):
    import subprocess
    import sys

    people, accounts, _ = office
    run = lambda *args: subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, *args],  # noqa: E731
                                       capture_output=True, text=True, timeout=60)
    moved = run("accounts", "assign", "--to", "bob", "--bucket", "180+", "--count", "2", "--team", "Recoveries",
                "--at", "2026-06-10T16:00:00Z")
    assert moved.returncode == 0, moved.stderr
    assert moved.stdout.strip() == "moved 2 account(s) to bob"
    assert [owner_of(a) for a in accounts] == [None, None, None, "bob", "bob"]
    partly = run("accounts", "assign", "--to", "pool", "--ref", accounts[3].reference, "--ref", "NOPE")
    assert partly.returncode == 1
    assert partly.stderr.splitlines() == ["not moved: NOPE: no such account", "arrears: 1 account(s) not moved"]
    assert partly.stdout.strip() == "moved 1 account(s) to pool"
    assert run("accounts", "assign", "--to", "bob").returncode == 2
    assert run("team", "strategy", "Recoveries").stdout.startswith("Recoveries: balanced (strategies: balanced,")
    changed = run("team", "strategy", "Recoveries", "high-balance")
    assert changed.returncode == 0 and changed.stdout.strip() == "Recoveries: high-balance; 5 account(s) re-scored"
    wrong = run("team", "strategy", "Recoveries", "fastest")
    assert wrong.returncode == 1 and "unknown strategy 'fastest'" in wrong.stderr
