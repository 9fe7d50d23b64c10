"""Queue status filter, contact-history filter and a team lead's override from the account
screen, driven with Pilot at 80x24 against a real database."""

import datetime as dt

import pytest
from textual.widgets import DataTable, Static

from config import load_settings
from db.activity import add_note, log_call
from db.audit import Actor
from db.models import Approval, AuditEvent, Phone
from db.queue import refresh_all
from tests import floor
from tests.test_snapshots import settle
from tests.test_tui import NOON_NY, make_app


@pytest.fixture
def office(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    lead = floor.officer("lead", team, role="team_lead")
    big = floor.account(team, balance=9_000_00, dpd=300)
    small = floor.account(team, balance=50_00, dpd=20, phones=(("+12125550199", "home", "good"),))
    settings = load_settings()
    # An hour ago someone spoke to the small account's debtor: no more calls for 7 days.
    phone = Phone.get(Phone.debtor == small.debtor_id)
    log_call(settings, Actor.for_officer(alice), small.id, phone.id, "rpc_refused",
             at=NOON_NY - dt.timedelta(hours=1), note="Said they would think about it")
    add_note(Actor.for_officer(alice), small.id, "Prefers mornings", at=NOON_NY - dt.timedelta(minutes=50))
    refresh_all(settings, Actor("t", role="admin"), NOON_NY)
    return {"alice": alice, "lead": lead, "big": big, "small": small}


def rows(app) -> list[str]:
    table = app.screen.query_one("#queue-table", DataTable)
    return [str(table.get_row_at(i)[0]).split()[0] for i in range(table.row_count)]  # the references


async def test_the_queue_filters_by_status(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert sorted(rows(app)) == sorted([office["big"].reference, office["small"].reference])
        await pilot.press("s")
        await settle(pilot)
        assert rows(app) == [office["big"].reference]
        assert "ready to call" in str(app.screen.query_one("#queue-status", Static).render())
        await pilot.press("s")
        await settle(pilot)
        assert rows(app) == [office["small"].reference]
        await pilot.press("s")  # callbacks: none
        await settle(pilot)
        assert rows(app) == []
        assert "Nothing in your queue (bucket all, callbacks)" in str(app.screen.query_one("#queue-status",
                                                                                             Static).render())


async def test_the_contact_history_filters_by_kind(office):
    app = make_app(office["lead"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(office["small"].id)
        await settle(pilot)
        history = app.screen.query_one("#history", DataTable)
        kinds = lambda: [str(history.get_row_at(i)[1]) for i in range(history.row_count)]  # noqa: E731
        assert kinds() == ["note", "conversation"]
        await pilot.press("h")
        await settle(pilot)
        assert kinds() == ["conversation"]
        assert "calls" in str(app.screen.query_one("#history-title", Static).render())
        await pilot.press("h")
        await settle(pilot)
        assert kinds() == ["note"]
        await pilot.press("h")  # letters: none yet
        await settle(pilot)
        assert kinds() == ["no letters"]


async def test_a_team_lead_overrides_the_cool_off_from_the_account(office):
    app = make_app(office["lead"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(office["small"].id)
        await settle(pilot)
        assert "no call for 7 days" in str(app.screen.query_one("#account-header", Static).render())
        await pilot.press("c")  # the call form says the number is blocked and how to lift it
        await settle(pilot)
        await pilot.press("1", "ctrl+s")
        await settle(pilot)
        assert "press escape, then o to override" in str(app.screen.query_one("#form-error", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert type(app.screen).__name__ == "OverrideForm"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Give a reason" in str(app.screen.query_one("#form-error", Static).render())
        await pilot.press(*"Debtor asked us to call back today")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        assert app.screen.file.phones[0].allowed
    override = Approval.get(Approval.kind == "override")
    assert override.decided_by_id == office["lead"].id and override.reason == "Debtor asked us to call back today"
    assert AuditEvent.select().where(AuditEvent.action == "compliance.override").count() == 1


async def test_officers_are_not_offered_the_override(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(office["small"].id)
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("1", "ctrl+s")
        await settle(pilot)
        assert "a team lead can override this" in str(app.screen.query_one("#form-error", Static).render())
    assert Approval.select().count() == 0


async def test_a_long_history_is_read_a_page_at_a_time(office):
    from db.audit import write_transaction
    from db.models import Activity
    from db.worklist import HISTORY_PAGE

    with write_transaction(Actor("t", role="admin")) as tx:
        Activity.insert_many([{"account": office["big"].id, "kind": "note", "note": f"row {i}",
                               "started_at": NOON_NY.replace(tzinfo=None) - dt.timedelta(minutes=i)}
                              for i in range(120)]).execute()
        tx.audit("test.history", "account", office["big"].id)
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(office["big"].id)
        await settle(pilot)
        history = app.screen.query_one("#history", DataTable)
        assert history.row_count == HISTORY_PAGE  # the first page only
        history.focus()
        for _ in range(120 // HISTORY_PAGE + 1):
            history.move_cursor(row=history.row_count - 1)
            await settle(pilot)
        assert history.row_count == 120
        assert str(history.get_row_at(119)[4]) == "row 119"
