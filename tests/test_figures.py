"""The day's figures (db.figures, `arrears report daily`) against a day of activity worked
out by hand: New York's floor day on Sun 8 Mar 2026, when the clocks go forward, so the day
is 23 hours long (05:00 UTC to 04:00 UTC the next day)."""

import csv
import datetime as dt
import io
import os
import subprocess
import sys

import pytest

from config import load_settings
from db.activity import add_note
from db.audit import Actor, write_transaction
from db.figures import day_bounds, daily_figures
from db.models import Activity
from db.payments import post_payment, reverse_payment
from db.promises import record_promise
from tests import floor

SETTINGS = load_settings(locale={"time_zone": "America/New_York"})
DAY = dt.date(2026, 3, 8)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def call(officer, account, at: str, *, contact: bool = False) -> None:
    # Written directly: the edge-of-day calls fall outside calling hours, which log_call
    # would rightly refuse; what is counted is what matters here.
    with write_transaction(Actor.for_officer(officer)) as tx:
        row = Activity.create(account=account.id, officer=officer.id, started_at=utc(at).replace(tzinfo=None),
                              kind="conversation" if contact else "call_attempt", counts_as_attempt=True,
                              right_party_contact=contact, disposition="rpc_promise" if contact else "no_answer")
        tx.audit("activity.call", "activity", row.id, account_id=account.id)


@pytest.fixture
def day(db):
    recoveries, other = floor.team(), floor.team("Other")
    alice, bob = floor.officer("alice", recoveries), floor.officer("bob", recoveries)
    lina = floor.officer("lina", recoveries, role="team_lead")
    olga = floor.officer("olga", other)
    acct = floor.account(recoveries, balance=1000_00, today=dt.date(2026, 3, 1))
    theirs = floor.account(other, balance=100_00, today=dt.date(2026, 3, 1))
    a, b, lead = Actor.for_officer(alice), Actor.for_officer(bob), Actor.for_officer(lina)

    call(alice, acct, "2026-03-08T04:59:00")                 # Sat 23:59 EST: the day before
    call(alice, acct, "2026-03-08T05:00:00")                 # Sun 00:00 EST: counted
    call(alice, acct, "2026-03-08T15:00:00", contact=True)   # counted, a contact
    call(alice, acct, "2026-03-09T03:59:00", contact=True)   # Sun 23:59 EDT: counted, a contact
    call(alice, acct, "2026-03-09T04:00:00")                 # Mon 00:00 EDT: the day after
    add_note(a, acct.id, "not a call", at=utc("2026-03-08T15:05:00"))
    record_promise(SETTINGS, a, acct.id, 50_00, DAY + dt.timedelta(days=7), at=utc("2026-03-08T15:06:00"))
    record_promise(SETTINGS, a, acct.id, 70_00, DAY + dt.timedelta(days=9), at=utc("2026-03-09T04:30:00"))  # next day
    post_payment(SETTINGS, a, acct.id, 30_00, method="card", paid_on=DAY, key="p1", at=utc("2026-03-08T16:00:00"))
    post_payment(SETTINGS, a, acct.id, 20_00, method="card", paid_on=DAY, key="p2", at=utc("2026-03-08T17:00:00"))
    reverse_payment(SETTINGS, lead, "p2", reason="card declined", at=utc("2026-03-08T18:00:00"))
    post_payment(SETTINGS, a, acct.id, 10_00, method="cheque", paid_on=dt.date(2026, 3, 7), key="p0",
                 at=utc("2026-03-07T20:00:00"))  # Saturday's cheque...
    reverse_payment(SETTINGS, lead, "p0", reason="bounced", at=utc("2026-03-08T19:00:00"))  # ...bounces on Sunday
    call(bob, acct, "2026-03-08T12:00:00")
    post_payment(SETTINGS, b, acct.id, 5_00, method="cash", paid_on=DAY, key="p3", at=utc("2026-03-08T20:00:00"))
    call(olga, theirs, "2026-03-08T12:00:00", contact=True)
    return {"alice": a, "bob": b, "lina": lead, "olga": Actor.for_officer(olga)}


def figures_of(team_day) -> dict:
    return {row.username: (row.figures.calls, row.figures.contacts, row.figures.promises, row.figures.promised_minor,
                           row.figures.collected_minor) for row in team_day.officers}


def test_the_day_is_the_floors_calendar_day_across_dst():
    assert day_bounds(DAY, "America/New_York") == (dt.datetime(2026, 3, 8, 5), dt.datetime(2026, 3, 9, 4))


def test_figures_match_the_hand_computed_day(day):
    other, recoveries = daily_figures(SETTINGS, Actor("report", role="admin"), DAY)  # teams by name
    assert recoveries.team == "Recoveries" and other.team == "Other"
    # alice: 3 calls (not the two outside the day, not the note), 2 contacts, 1 promise of
    # $50 (Monday's is Monday's), collected $30 + $20 - $20 (declined) - $10 (Saturday's cheque bounced today).
    assert figures_of(recoveries) == {"alice": (3, 2, 1, 50_00, 20_00), "bob": (1, 0, 0, 0, 5_00),
                                      "lina": (0, 0, 0, 0, 0)}
    total = recoveries.total
    assert (total.calls, total.contacts, total.promises, total.promised_minor, total.collected_minor) == (
        4, 2, 1, 50_00, 25_00)
    assert figures_of(other) == {"olga": (1, 1, 0, 0, 0)}
    # Saturday: only the cheque, and the call a minute before midnight.
    saturday = daily_figures(SETTINGS, Actor("report", role="admin"), DAY - dt.timedelta(days=1), team="Recoveries")
    assert figures_of(saturday[0])["alice"] == (1, 0, 0, 0, 10_00)


def test_who_sees_whose_figures(day):
    mine = daily_figures(SETTINGS, day["alice"], DAY)
    assert [[r.username for r in t.officers] for t in mine] == [["alice"]]
    lead = daily_figures(SETTINGS, day["lina"], DAY)
    assert [[r.username for r in t.officers] for t in lead] == [["alice", "bob", "lina"]]
    with pytest.raises(PermissionError):
        daily_figures(SETTINGS, day["lina"], DAY, team="Other")


def test_the_report_command(day, db_url, tmp_path):
    env_args = [sys.executable, "-m", "tui.cli", "--db", db_url]
    env = {**os.environ, "ARREARS_LOCALE__TIME_ZONE": "America/New_York"}
    shown = subprocess.run([*env_args, "report", "daily", "--date", "2026-03-08", "--team", "Recoveries"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "Daily figures for Sun 08 Mar 2026 (America/New_York)"
    assert lines[2].split() == ["Recoveries", "alice", "Alice", "3", "2", "1", "$50.00", "$20.00"]
    assert lines[-1].split() == ["Recoveries", "(team)", "4", "2", "1", "$50.00", "$25.00"]

    out = tmp_path / "day.csv"
    written = subprocess.run([*env_args, "report", "daily", "--date", "2026-03-08", "--csv", str(out)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert written.returncode == 0, written.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["team"], r["officer"], r["collected"]) for r in rows] == [
        ("Other", "olga", "0.00"), ("Other", "(team)", "0.00"), ("Recoveries", "alice", "20.00"),
        ("Recoveries", "bob", "5.00"), ("Recoveries", "lina", "0.00"), ("Recoveries", "(team)", "25.00")]
    bad = subprocess.run([*env_args, "report", "daily", "--date", "8/3/2026"], capture_output=True, text=True,
                         env=env, timeout=60)
    assert bad.returncode == 2 and bad.stderr.strip() == "arrears: --date '8/3/2026' is not a date: use YYYY-MM-DD"


def test_the_14_day_series_counts_each_day_as_the_day_figures_do(day):
    from db.figures import team_series

    series = team_series(SETTINGS, day["lina"], DAY + dt.timedelta(days=1), days=3)
    assert [d for d, _f in series] == [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(days=1)]
    assert [(f.calls, f.contacts, f.promises, f.promised_minor, f.collected_minor) for _d, f in series] == [
        (1, 0, 0, 0, 10_00),        # Saturday: the call at 23:59 and the cheque
        (4, 2, 1, 50_00, 25_00),    # Sunday, as the hand-computed day above
        (1, 0, 1, 70_00, 0)]        # Monday: the call at midnight and the $70 promise


def test_an_officers_day_lists_what_they_did_newest_first(day):
    from db.figures import officer_day

    officer, entries = officer_day(SETTINGS, day["lina"], "alice", DAY)
    assert (officer.figures.calls, officer.figures.contacts, officer.figures.collected_minor) == (3, 2, 20_00)
    assert [(e.at.strftime("%H:%M"), e.kind, e.what) for e in entries if e.kind != "payment"] == [
        ("03:59", "conversation", "Spoke to debtor: promise to pay"),
        ("15:06", "promise", "$50.00 due 15 Mar (open)"),
        ("15:05", "note", "not a call"),
        ("15:00", "conversation", "Spoke to debtor: promise to pay"),
        ("05:00", "call attempt", "No answer")]
    with pytest.raises(PermissionError):
        officer_day(SETTINGS, day["lina"], "olga", DAY)
    with pytest.raises(PermissionError):
        officer_day(SETTINGS, day["bob"], "alice", DAY)


def test_the_readme_defines_each_figure_as_the_help_screen_does():
    from pathlib import Path

    from db.figures import KPI_DEFINITIONS

    readme = Path(__file__).resolve().parents[1].joinpath("README.md").read_text()
    for name, meaning in KPI_DEFINITIONS:
        assert f"- **{name}**: {meaning}." in readme
