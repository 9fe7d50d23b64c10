"""The money screens, driven with Pilot at 80x24: the plan calculator re-plans as the
officer types and saves an arrangement, payments post once however often ctrl+s is
pressed, promises are recorded, and a team lead decides what waits for approval."""

import datetime as dt

import pytest
from textual.widgets import DataTable, Static

from db.audit import Actor
from db.ledger import ledger_sum, post
from db.models import Account, Approval, Installment, LedgerEntry, Letter, Plan, Promise
from db.queue import refresh_all
from config import load_settings
from tests import floor
from tests.test_tui import NOON_NY, make_app, settle


@pytest.fixture
def office(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    lead = floor.officer("lead", team, role="team_lead")
    account = floor.account(team, balance=0, dpd=120, today=dt.date(2026, 6, 10))
    post(Actor("t", role="admin"), account.id, "charge", 1200_00, effective_date=dt.date(2026, 1, 1))
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    return {"alice": alice, "lead": lead, "account": account}


def text_of(screen) -> str:
    return "\n".join(str(s.render()) for s in screen.query(Static))


async def open_account(pilot):
    await settle(pilot)
    await pilot.press("n")
    await settle(pilot)
    assert type(pilot.app.screen).__name__ == "AccountScreen"


async def test_plan_calculator_replans_as_you_type_and_saves(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        await pilot.press("p")
        await settle(pilot)
        screen = app.screen
        assert type(screen).__name__ == "PlanScreen"
        table = screen.query_one("#plan-schedule", DataTable)
        assert table.row_count == 12  # the balance over 12 months to start with
        assert "12 x $100.00 monthly" in str(screen.query_one("#plan-summary").render())
        screen.query_one("#plan-count").value = ""
        await pilot.pause()
        assert "Fill in Count or Installment" in str(screen.query_one("#plan-summary").render())
        screen.query_one("#plan-installment").focus()
        await pilot.press(*"12.345")
        assert "more than 2 decimal places" in str(screen.query_one("#plan-summary").render())
        await pilot.press("backspace")
        await pilot.pause()
        assert table.row_count == 98  # 1200.00 / 12.34: 97 then the rest
        assert "policy" not in text_of(screen).lower() or "Needs a team lead" in text_of(screen)
        screen.query_one("#plan-installment").value = ""
        screen.query_one("#plan-count").value = "6"
        await pilot.pause()
        assert table.row_count == 6 and "Inside the client's policy" in text_of(screen)
        # Income and expenditure: the plan is checked against what is left each month.
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert type(app.screen).__name__ == "StatementForm"
        await pilot.press(*"1500")
        app.screen.query_one("#st-home_and_contents").value = "800"
        app.screen.query_one("#st-food_and_housekeeping").value = "450.00"
        await pilot.pause()
        assert "left $250.00" in str(app.screen.query_one("#statement-totals").render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        side = text_of(screen)
        assert "A month: $200.00 of $250.00 left" in side and "Fits the budget" in side
        assert "Food and housekeeping $450.00 is above the guideline of $320.00" in side
        await pilot.press("ctrl+s", "ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
    plans = list(Plan.select())
    assert len(plans) == 1 and plans[0].status == "active" and plans[0].statement
    assert Installment.select().count() == 6
    assert [l.template for l in Letter.select()] == ["plan-confirmation"]


async def test_payment_posts_once_and_bad_input_says_what_to_fix(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        await pilot.press("dollar_sign")
        await settle(pilot)
        assert type(app.screen).__name__ == "PaymentForm"
        await pilot.press(*"-5", "ctrl+s")
        await settle(pilot)
        assert "negative" in str(app.screen.query_one("#form-error").render())
        app.screen.query_one("#pay-amount").value = "150.00"
        app.screen.query_one("#pay-date").value = "2026-06-20"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "in the future" in str(app.screen.query_one("#form-error").render())
        app.screen.query_one("#pay-date").value = "2026-06-10"
        await pilot.press("ctrl+s", "ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
    account = Account.get_by_id(office["account"].id)
    assert LedgerEntry.select().where(LedgerEntry.kind == "payment").count() == 1
    assert account.balance_minor == 1050_00 == ledger_sum(account.id)


async def test_promise_from_a_conversation(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.press("v", "7", "ctrl+s")  # identity verified; spoke to debtor: promise to pay
        await settle(pilot)
        assert type(app.screen).__name__ == "PromiseForm"  # straight on to the promise
        await pilot.press(*"75.50", "ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        assert "Promise $75.50 due 17 Jun 2026: open" in text_of(app.screen)
    promise = Promise.get()
    assert (promise.amount_minor, promise.due_on, promise.status) == (75_50, dt.date(2026, 6, 17), "open")


async def test_settlement_goes_to_the_team_lead_who_approves_it(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        await pilot.press("s")
        await settle(pilot)
        app.screen.query_one("#settle-amount").value = "600.00"
        app.screen.query_one("#settle-reason").value = "lump sum from family"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        await pilot.press("ctrl+q")
    approval = Approval.get()
    assert approval.kind == "settlement" and approval.status == "pending"
    lead = make_app(office["lead"])
    async with lead.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert type(lead.screen).__name__ == "ApprovalsScreen"
        assert lead.screen.query_one(DataTable).row_count == 1
        assert "below the client's floor of 60%" in text_of(lead.screen)
        await pilot.press("d")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Give a reason" in str(lead.screen.query_one("#form-error").render())
        await pilot.press("escape", "a")
        await settle(pilot)
        await pilot.press(*"hardship confirmed", "ctrl+s")
        await settle(pilot)
        assert type(lead.screen).__name__ == "ApprovalsScreen"
        assert lead.screen.query_one(DataTable).row_count == 0
    assert Approval.get().status == "approved"
    assert Plan.get().status == "active" and Plan.get().settled_minor == 600_00


async def test_officers_do_not_see_approvals(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        assert type(app.screen).__name__ == "QueueScreen"
