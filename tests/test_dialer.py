"""Dialer files: the export holds exactly the numbers the governor allows at that instant
(hours at the debtor's location, holds, bad numbers, caps), best accounts first, without
numbers already reached today; the import records each disposition once as a call the
governor counts, attributed to the dialer's agent, and rejects what it cannot place."""

import csv
import datetime as dt
import subprocess
import sys

import pytest

from config import load_settings
from db.activity import log_call
from db.audit import Actor
from db.dialer import dialer_rows, import_dispositions
from db.figures import daily_figures
from db.models import Activity, Phone
from db.queue import refresh_all
from tests import floor

SETTINGS = load_settings()
NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
ADMIN = Actor("test-admin", role="admin")


@pytest.fixture
def office(db):
    team, other = floor.team(), floor.team("Other")
    alice = floor.officer("alice", team)
    floor.officer("olga", other)
    lina = floor.officer("lina", team, role="team_lead")
    two = (("+12125550100", "mobile", "good"), ("+12125550101", "home", "good"))
    accounts = {
        "both": floor.account(team, phones=two, balance=900_00),
        "reached": floor.account(team, phones=(("+12125550110", "mobile", "good"), ("+12125550111", "home", "good")),
                                 balance=800_00),
        "west": floor.account(team, zone="America/Los_Angeles", region="CA",
                              phones=(("+12135550120", "mobile", "good"),), balance=700_00),
        "cease": floor.account(team, cease=True, phones=(("+12125550130", "mobile", "good"),)),
        "bad": floor.account(team, phones=(("+12125550140", "mobile", "bad"),)),
        "theirs": floor.account(other, phones=(("+12125550150", "mobile", "good"),)),
    }
    refresh_all(SETTINGS, ADMIN, NOON_NY)
    # Earlier today a third party answered one of "reached"'s numbers.
    phone = Phone.get(Phone.number == "+12125550110")
    log_call(SETTINGS, Actor.for_officer(alice), accounts["reached"].id, phone.id, "third_party",
             at=NOON_NY - dt.timedelta(hours=2))
    return {"alice": alice, "lina": lina, **accounts}


def exported(at, **kw):
    rows = list(dialer_rows(SETTINGS, ADMIN, at, team="Recoveries", **kw))
    return rows[0], [(r[0], r[3]) for r in rows[1:]]


def test_the_export_holds_only_numbers_the_governor_allows_now(office):
    header, rows = exported(NOON_NY)
    assert header[:4] == ("reference", "client_reference", "debtor", "number")
    assert rows == [(office["both"].reference, "+12125550100"), (office["both"].reference, "+12125550101"),
                    (office["reached"].reference, "+12125550111"), (office["west"].reference, "+12135550120")]
    # 08:30 in New York is 05:30 in Los Angeles: the west coast waits.
    _, early = exported(dt.datetime(2026, 6, 10, 12, 30, tzinfo=dt.UTC))
    assert office["west"].reference not in {ref for ref, _n in early} and early
    _, top = exported(NOON_NY, limit=1)
    assert top == [(office["both"].reference, "+12125550100")]
    with pytest.raises(PermissionError):
        list(dialer_rows(SETTINGS, Actor.for_officer(office["alice"]), NOON_NY, team="Recoveries"))


def test_dispositions_are_recorded_once_counted_and_attributed(office, tmp_path):
    both = office["both"]
    path = tmp_path / "dispositions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["reference", "number", "started_at", "outcome", "duration", "agent"])
        writer.writerows([
            [both.reference, "+1 212-555-0100", "2026-06-10T15:00:00Z", "no_answer", "20", "alice"],
            [both.reference, "(212) 555-0101", "2026-06-10T11:05:00-04:00", "rpc_callback", "240", ""],
            ["NOPE", "+12125550100", "2026-06-10T15:00:00Z", "no_answer", "", ""],
            [both.reference, "+12125559999", "2026-06-10T15:00:00Z", "no_answer", "", ""],
            [both.reference, "+12125550100", "2026-06-10T15:10:00Z", "hung_up", "", ""],
            [both.reference, "+12125550100", "2026-06-10T15:20:00Z", "no_answer", "", "olga"],
            [both.reference, "+12125550100", "2026-06-10 15:30:00", "no_answer", "", ""],
            [both.reference, "+12125550100", "2026-06-10T17:00:00Z", "no_answer", "", ""],
        ])
    report = import_dispositions(SETTINGS, ADMIN, path, at=NOON_NY)
    assert (report.rows, report.recorded, report.already, report.rejected) == (8, 2, 0, 6)
    with report.reject_file.open(newline="") as handle:
        reasons = {row["line"]: row["reasons"] for row in csv.DictReader(handle)}
    assert reasons == {
        "4": "no account has the reference NOPE",
        "5": "number '+12125559999' is not on the account's file",
        "6": "outcome 'hung_up' is not a disposition code (busy, disconnected, no_answer, rpc_callback, rpc_dispute, "
             "rpc_promise, rpc_refused, third_party, voicemail_left, wrong_number)",
        "7": f"agent olga is not in the team that works {both.reference}",
        "8": "started_at '2026-06-10 15:30:00' needs a zone offset, e.g. +00:00",
        "9": "started_at 2026-06-10T17:00:00Z is in the future",
    }
    calls = list(Activity.select().where(Activity.account == both.id).order_by(Activity.started_at))
    assert [(c.disposition, c.officer_id, c.ended_at - c.started_at) for c in calls] == [
        ("no_answer", office["alice"].id, dt.timedelta(seconds=20)),
        ("rpc_callback", None, dt.timedelta(seconds=240))]
    again = import_dispositions(SETTINGS, ADMIN, path, at=NOON_NY)
    assert (again.recorded, again.already) == (0, 2)
    # The governor counts them: the conversation starts the 7-day cool-off, so "both" is
    # no longer exported; alice has the no-answer in her day's figures.
    _, rows = exported(NOON_NY + dt.timedelta(minutes=5))
    assert both.reference not in {ref for ref, _n in rows}
    day = daily_figures(SETTINGS, ADMIN, dt.date(2026, 6, 10), team="Recoveries")[0]
    assert {o.username: o.figures.calls for o in day.officers}["alice"] == 2  # the third party earlier, and this


def test_the_commands(office, tmp_path, db_url):
    out = subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "dialer", "export", "--team", "Recoveries",
                          "--at", "2026-06-10T16:00:00Z", "--csv", "-"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert [row["number"] for row in csv.DictReader(out.stdout.splitlines())] == [
        "+12125550100", "+12125550101", "+12125550111", "+12135550120"]
    missing = subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "dialer", "import",
                              str(tmp_path / "none.csv")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2
