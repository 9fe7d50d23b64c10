"""The queue a page at a time: the officer's screen reads the first page, and the next as
the cursor nears the end; an account whose place changed between two reads is listed
once, and the rest of the queue still comes in."""

from __future__ import annotations

import datetime as dt

from textual.widgets import DataTable

from config import load_settings
from db.audit import Actor
from db.models import Account
from db.queue import claim, refresh_all
from db.worklist import queue_page
from tests import floor

SETTINGS = load_settings()
NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


def _floor(accounts: int):
    team = floor.team()
    alice = floor.officer("alice", team)
    made = [floor.account(team, balance=(i + 1) * 100_00, dpd=100) for i in range(accounts)]
    refresh_all(SETTINGS, Actor("t", role="admin"), NOON_NY)
    return alice, made


def test_an_account_read_as_the_officers_claim_and_as_ready_is_listed_once(db):
    # The page is read in several statements. When the officer's release commits between
    # the read of their claims and the read of the ready accounts, both see the account.
    alice, made = _floor(3)
    claimed = made[0]
    assert claim(SETTINGS, alice, claimed.id, NOON_NY).claimed_by_id == alice.id
    # What the ready read sees once the release has committed: the account ready again.
    Account.update(queue_priority=10**12).where(Account.id == claimed.id).execute()
    ids = [row.account_id for row in queue_page(SETTINGS, alice, NOON_NY)]
    assert sorted(ids) == sorted(a.id for a in made)
    assert ids[0] == claimed.id  # where it came first: the officer's own claim


def _references(table: DataTable) -> list[str]:
    return [str(table.get_row_at(i)[0]).split()[0] for i in range(table.row_count)]


async def test_the_queue_reads_a_page_at_a_time_and_a_row_that_moved_is_shown_once(db):
    from tests.test_tui import make_app, settle
    from tui.screens.queue import PAGE

    alice, made = _floor(PAGE + 12)
    app = make_app(alice)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        first = _references(table)
        assert len(first) == PAGE  # one page, not the whole queue
        assert "30+ accounts" in str(app.screen.query_one("#queue-status").render())
        # The best account on the first page drops to the bottom of the order before the
        # next page is read (its priority lowered, as a refresh does after a contact): the
        # next page lists it again.
        top = Account.get(Account.reference == first[0])
        Account.update(queue_priority=1).where(Account.id == top.id).execute()
        for _ in range(3):
            table.move_cursor(row=table.row_count - 1, animate=False)
            await settle(pilot)
        shown = _references(table)
        assert len(shown) == len(set(shown)) == PAGE + 12  # every account, each once
        assert shown[:PAGE] == first  # the rows already on screen stay where they are
        assert "42 accounts" in str(app.screen.query_one("#queue-status").render())
