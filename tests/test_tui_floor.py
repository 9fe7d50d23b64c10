"""The live floor, driven as a team lead would: two app sessions on one database (an
officer working, the lead watching), panels moving within a second of a commit, the keys
(officer's day, reassign, strategy, approvals), and the KPI definitions in the help screen
checked against the hand-computed day of `tests/test_figures.py`."""

import asyncio
import datetime as dt
import time

import pytest
from textual.widgets import DataTable, Static

from config import load_settings
from db.audit import Actor
from db.models import Account, Officer, Team
from db.queue import refresh_all
from tests import floor
from tests.test_figures import DAY, SETTINGS as NY_SETTINGS, day  # noqa: F401 - the hand-computed day

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def office(db):
    team = floor.team()
    people = {name: floor.officer(name, team, role) for name, role in
              [("alice", "officer"), ("bob", "officer"), ("lina", "team_lead")]}
    accounts = [floor.account(team, balance=(i + 1) * 100_00, dpd=dpd) for i, dpd in enumerate((10, 45, 200, 200))]
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    return people, accounts


def make_app(officer, settings=None, clock=None):
    from tui.app import ArrearsApp

    return ArrearsApp(settings or load_settings(), officer, clock=clock or (lambda: NOON_NY), background=False)


async def settle(pilot):
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def cells(app, table_id: str) -> list[list[str]]:
    table = app.screen.query_one(f"#{table_id}", DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def officer_row(app, username: str) -> list[str]:
    return next(row for row in cells(app, "floor-officers") if row[0] == username)


async def until(pilot, predicate, timeout: float = 10.0):
    """Let the lead's app run until the predicate holds (the feed delivers on its own thread)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if predicate():
            return time.monotonic()
    raise AssertionError("the floor did not show the change in time")


async def test_the_lead_lands_on_the_floor_and_sees_an_officers_promise_within_a_second(office):
    people, accounts = office
    officer_app, lead_app = make_app(people["alice"]), make_app(people["lina"])
    async with lead_app.run_test(size=(80, 24)) as lead, officer_app.run_test(size=(80, 24)) as officer:
        await settle(lead)
        assert type(lead_app.screen).__name__ == "FloorScreen"
        assert type(officer_app.screen).__name__ == "QueueScreen"
        assert officer_row(lead_app, "alice")[4:9] == ["0", "0", "0", "$0.00", "$0.00"]
        queue = {row[0]: row[1:] for row in cells(lead_app, "floor-queue")}
        assert queue["0-30"] == ["1", "0", "0", "1"] and queue["180+"] == ["2", "0", "0", "2"]
        assert queue["All"] == ["4", "0", "0", "4"]

        # Alice takes the next account and records a promise of $25 on it.
        await settle(officer)
        await officer.press("n")
        await settle(officer)
        assert type(officer_app.screen).__name__ == "AccountScreen"
        await officer.press("w")
        await settle(officer)
        await officer.press(*"25")
        committed = time.monotonic()
        await officer.press("ctrl+s")
        await settle(officer)

        shown = await until(lead, lambda: officer_row(lead_app, "alice")[6:8] == ["1", "$25.00"])
        assert shown - committed < 1.5  # the feed's doorbell, not a timer, brought it
        # The queue panel is throttled (db.floor.queue_interval: 20x its last load, at most
        # 30 s), so on a busy machine its first reload may come after the 10 s default.
        worked = await until(lead, lambda: sum(int(r[2]) for r in cells(lead_app, "floor-queue")[:5]) == 1,
                             timeout=31.0)
        assert worked
        trend = str(lead_app.screen.query_one("#trend-promises-value", Static).render())
        assert trend.split() == ["Prom", "1"]


async def test_officer_day_reassign_and_strategy_from_the_floor(office):
    people, accounts = office
    app = make_app(people["lina"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # enter on alice: her day.
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "OfficerDayScreen"
        assert "Alice (alice)" in str(app.screen.query_one("#day-status", Static).render())
        await pilot.press("escape")
        await settle(pilot)

        # The queue panel: the 180+ bucket, reassigned to bob, one account only.
        await pilot.press("tab")
        for _ in range(4):
            await pilot.press("down")
        await pilot.press("g")
        await settle(pilot)
        assert app.screen.query_one("#reassign-bucket").value == "180+"
        assert "alice, bob, lina" in str(app.screen.query_one("#reassign-officers", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Move to" in str(app.screen.query_one("#form-error", Static).render())
        app.screen.query_one("#reassign-count").value = "1"
        app.screen.query_one("#reassign-to").value = "bob"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "FloorScreen"
        bob = Officer.get(Officer.username == "bob")
        assert [a.reference for a in Account.select().where(Account.assigned_officer == bob.id)] == [
            accounts[3].reference]  # the larger balance of the two

        # Strategy: pick high-balance; the team's accounts are re-scored.
        await pilot.press("t")
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        await until(pilot, lambda: Team.get(Team.name == "Recoveries").queue_strategy == "high-balance")
        await settle(pilot)
        assert "high-balance" in str(app.screen.query_one("#floor-status", Static).render())


async def test_officers_have_no_floor(office):
    people, _ = office
    app = make_app(people["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert type(app.screen).__name__ == "QueueScreen"


async def test_help_defines_each_figure_and_the_floor_shows_the_hand_computed_day(day):  # noqa: F811
    from db.figures import KPI_DEFINITIONS
    from db.models import Officer

    lina = Officer.get(Officer.username == "lina")
    last_minute = lambda: dt.datetime(2026, 3, 9, 3, 59, 30, tzinfo=dt.UTC)  # noqa: E731 - Sun 23:59:30 EDT
    app = make_app(lina, settings=NY_SETTINGS, clock=last_minute)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # The figures as tests/test_figures.py works them out by hand for Sun 8 Mar 2026.
        assert officer_row(app, "alice")[4:9] == ["3", "2", "1", "$50.00", "$20.00"]
        assert officer_row(app, "bob")[4:9] == ["1", "0", "0", "$0.00", "$5.00"]
        assert [r[0] for r in cells(app, "floor-officers")] == ["alice", "bob", "lina"]  # not olga: another team
        await pilot.press("question_mark")
        await settle(pilot)
        notes = str(app.screen.query_one("#help-notes", Static).render())
        for name, meaning in KPI_DEFINITIONS:
            assert name in notes and meaning.split()[0] in notes
        assert "Reassign" in str(app.screen.query_one("#help-body").query(Static).first().render())
