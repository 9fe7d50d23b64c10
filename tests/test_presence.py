"""Officer states for the live floor: what each session reports, away after no key for
`floor.away_minutes`, time in state past the limit, a dead session gone within its lease,
and only team leads (their team) and admins may look."""

import datetime as dt

import pytest

from config import load_settings
from db.audit import Actor
from db.models import AuditEvent
from db.presence import begin_session, end_session, floor_states, renew, report_state
from tests import floor

SETTINGS = load_settings(floor={"away_minutes": 10, "time_in_state_limit_minutes": 15, "presence_lease_seconds": 60})
T0 = dt.datetime(2026, 6, 10, 14, 0, tzinfo=dt.UTC)


def minutes(n: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=n)


@pytest.fixture
def office(db):
    recoveries, other = floor.team(), floor.team("Other")
    people = {name: Actor.for_officer(floor.officer(name, team, role)) for name, team, role in [
        ("alice", recoveries, "officer"), ("bob", recoveries, "officer"), ("cara", recoveries, "officer"),
        ("lina", recoveries, "team_lead"), ("olga", other, "officer")]}
    return people, floor.account(recoveries)


def shown(states):
    return {s.username: (s.state, s.account, s.minutes, s.over_limit) for s in states}


def test_states_as_the_floor_sees_them(office):
    people, acct = office
    alice = begin_session(SETTINGS, people["alice"], T0)
    bob = begin_session(SETTINGS, people["bob"], T0)
    report_state(SETTINGS, people["alice"], alice, "account", minutes(1), account_id=acct.id)
    report_state(SETTINGS, people["alice"], alice, "wrap_up", minutes(4), account_id=acct.id)
    report_state(SETTINGS, people["alice"], alice, "wrap_up", minutes(5), account_id=acct.id)  # no change: not restarted
    for m in range(0, 30, 1):  # both sessions stay alive; alice keeps typing, bob stops at minute 2
        renew(SETTINGS, alice, minutes(m), minutes(m))
        renew(SETTINGS, bob, minutes(m), minutes(min(m, 2)))
    lead = people["lina"]
    assert shown(floor_states(SETTINGS, lead, minutes(10))) == {
        "alice": ("wrap-up", acct.reference, 6, False),
        "bob": ("idle in queue", None, 10, False),  # 8 minutes without a key: not away yet
        "cara": ("logged out", None, 0, False),
        "lina": ("logged out", None, 0, False),
    }
    later = shown(floor_states(SETTINGS, lead, minutes(19)))
    assert later["alice"] == ("wrap-up", acct.reference, 15, True)  # past the 15-minute limit
    assert later["bob"] == ("away", None, 17, True)  # away since his last key at minute 2
    end_session(SETTINGS, people["alice"], alice, minutes(20))
    assert shown(floor_states(SETTINGS, lead, minutes(20)))["alice"] == ("logged out", None, 0, False)
    actions = [e.action for e in AuditEvent.select().where(AuditEvent.entity == "presence").order_by(AuditEvent.id)]
    assert actions == ["session.start", "session.start", "session.state", "session.state", "session.state"]


def test_a_dead_session_stops_showing_within_its_lease(office):
    people, acct = office
    token = begin_session(SETTINGS, people["alice"], T0)
    report_state(SETTINGS, people["alice"], token, "account", T0, account_id=acct.id)
    renew(SETTINGS, token, minutes(1), minutes(1))
    # The process is killed: no more renewals, no logout.
    assert shown(floor_states(SETTINGS, people["lina"], minutes(1.9)))["alice"][0] == "on account"
    assert shown(floor_states(SETTINGS, people["lina"], minutes(2)))["alice"][0] == "logged out"


def test_only_leads_and_admins_see_the_floor_and_leads_only_their_team(office):
    people, _ = office
    with pytest.raises(PermissionError):
        floor_states(SETTINGS, people["alice"], T0)
    assert set(shown(floor_states(SETTINGS, people["lina"], T0))) == {"alice", "bob", "cara", "lina"}
    assert set(shown(floor_states(SETTINGS, Actor("admin", role="admin"), T0, team="Other"))) == {"olga"}
    token = begin_session(SETTINGS, people["alice"], T0)
    with pytest.raises(LookupError):
        report_state(SETTINGS, people["bob"], token, "queue", T0)  # another officer's session
