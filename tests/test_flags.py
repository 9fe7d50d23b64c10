"""Hold flags: audited with reasons, the queue follows them, vulnerable customers move to
the specialist team, breathing space freezes contact, interest and charges."""

import datetime as dt
import json

import pytest

from config import load_settings
from db.audit import Actor
from db.flags import FlagError, set_flag, start_breathing_space
from db.ledger import LedgerError, post
from db.models import Account, AuditEvent
from db.queue import claim_next, refresh_all
from tests import floor

SETTINGS = load_settings()
NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def setup(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    acct = floor.account(team)
    refresh_all(SETTINGS, Actor("t", role="admin"), NOON_NY)
    return team, alice, acct


def test_cease_takes_the_account_out_and_is_audited(setup):
    team, alice, acct = setup
    set_flag(SETTINGS, Actor.for_officer(alice), acct.id, "cease", True, reason="Letter from debtor", at=NOON_NY)
    assert Account.get_by_id(acct.id).queue_priority is None
    assert not claim_next(SETTINGS, alice, NOON_NY).claimed
    event = AuditEvent.get(AuditEvent.action == "flag.set")
    assert json.loads(event.changes) == {"cease": [False, True], "reason": "Letter from debtor"}
    with pytest.raises(FlagError, match="already set"):
        set_flag(SETTINGS, Actor.for_officer(alice), acct.id, "cease", True, reason="again", at=NOON_NY)
    with pytest.raises(FlagError, match="reason"):
        set_flag(SETTINGS, Actor.for_officer(alice), acct.id, "cease", False, reason=" ", at=NOON_NY)


def test_clearing_a_dispute_records_verification(setup):
    team, alice, acct = setup
    actor = Actor.for_officer(alice)
    set_flag(SETTINGS, actor, acct.id, "dispute", True, reason="Debtor disputes amount", at=NOON_NY)
    assert not claim_next(SETTINGS, alice, NOON_NY).claimed
    set_flag(SETTINGS, actor, acct.id, "dispute", False, reason="Verification sent", at=NOON_NY)
    back = Account.get_by_id(acct.id)
    assert back.dispute is False and back.dispute_verified_at is not None
    assert claim_next(SETTINGS, alice, NOON_NY).account_id == acct.id


def test_vulnerable_customers_move_to_the_specialist_team(setup):
    team, alice, acct = setup
    specialist = floor.team("Specialist")
    carol = floor.officer("carol", specialist)
    set_flag(SETTINGS, Actor.for_officer(alice), acct.id, "vulnerable", True, reason="Bereavement", at=NOON_NY)
    assert Account.get_by_id(acct.id).team_id == specialist.id
    assert not claim_next(SETTINGS, alice, NOON_NY).claimed
    assert claim_next(SETTINGS, carol, NOON_NY).account_id == acct.id


def test_breathing_space_freezes_contact_interest_and_charges(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    acct = floor.account(team, zone="Europe/London", country="GB", region="ENG", phones=(("+442079460123", "home", "good"),))
    actor = Actor.for_officer(alice)
    start_breathing_space(SETTINGS, actor, acct.id, dt.date(2026, 6, 1), reason="IS ref 123", at=NOON_NY)
    assert Account.get_by_id(acct.id).breathing_space_until == dt.date(2026, 7, 30)  # 60 days
    assert not claim_next(SETTINGS, alice, NOON_NY).claimed
    job = Actor.system("interest")  # interest and charges are posted by the floor's jobs
    with pytest.raises(LedgerError, match="breathing space"):
        post(job, acct.id, "interest", 500, bucket="interest", effective_date=dt.date(2026, 6, 10))
    post(job, acct.id, "payment", -500, effective_date=dt.date(2026, 6, 10))  # payments still welcome
    post(job, acct.id, "interest", 500, bucket="interest", effective_date=dt.date(2026, 7, 31))


def test_other_teams_cannot_change_flags(setup):
    team, alice, acct = setup
    outsider = floor.officer("zed", floor.team("Elsewhere"))
    with pytest.raises(PermissionError):
        set_flag(SETTINGS, Actor.for_officer(outsider), acct.id, "cease", True, reason="x", at=NOON_NY)
