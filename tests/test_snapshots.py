"""Snapshots of the main screens at 80x24 on a seeded demo floor with a frozen clock.

Update after reviewing a change on purpose: `pytest tests/test_snapshots.py --snapshot-update`.
"""

import datetime as dt

import pytest

from config import load_settings
from db.demo import generate
from db.models import Officer

NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def app(db, admin):
    from tui.app import ArrearsApp

    generate(admin, accounts=40, seed=3, as_of=dt.date(2026, 6, 10), settings=load_settings())
    officer = Officer.get(Officer.username == "alice")
    return ArrearsApp(load_settings(), officer, clock=lambda: NOON_NY, background=False)


async def settle(pilot):
    from textual.widgets import Input

    # Wait until the workers are done and stay done: a worker's result is posted back to
    # the screen, which may start another (the queue page after the screen resumes).
    quiet = 0
    for _ in range(20):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
        quiet = quiet + 1 if not any(w.is_running for w in pilot.app.workers) else 0
        if quiet >= 3:
            break
    for widget in pilot.app.screen.query(Input):
        widget.cursor_blink = False
    # Tables lay out their rows after the data arrives: let that settle too before the picture.
    await pilot.wait_for_scheduled_animations()
    for _ in range(3):
        await pilot.pause(0.05)


def test_queue_screen(snap_compare, app):
    # Down and back up: the cursor row is drawn afresh once every row is in (the first
    # paint can race the rows arriving, leaving the highlight half drawn).
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("down", "up"))


def keys(*presses):
    """Settle, then press each key and settle again."""
    async def run(pilot):
        await settle(pilot)
        for key in presses:
            await pilot.press(key)
            await settle(pilot)
    return run


def test_account_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("n"))


def test_search_screen(snap_compare, app):
    async def search(pilot):
        await settle(pilot)
        await pilot.press("slash", *"a0000001")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=search)


def test_help_screen(snap_compare, app):
    async def help_(pilot):
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=help_)


def test_plan_calculator_screen(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("n", "p"))


def test_letter_form(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("n", "l"))


def test_payment_form(snap_compare, app):
    assert snap_compare(app, terminal_size=(80, 24), run_before=keys("n", "dollar_sign"))


def test_approvals_screen(snap_compare, db, admin):
    from decimal import Decimal

    from db.arrangements import save_plan
    from db.audit import Actor
    from db.models import Account
    from db.plans import PlanRequest
    from tui.app import ArrearsApp

    settings = load_settings()
    generate(admin, accounts=40, seed=3, as_of=dt.date(2026, 6, 10), settings=settings)
    alice = Officer.get(Officer.username == "alice")
    account = Account.select().where(Account.team == alice.team_id, Account.status == "open").order_by(Account.id).first()
    save_plan(settings, Actor.for_officer(alice), account.id,
              PlanRequest(account.balance_minor, dt.date(2026, 6, 20), "monthly", count=3,
                          discount_percent=Decimal(45)), at=NOON_NY)
    lead = ArrearsApp(settings, Officer.get(Officer.username == "lead"), clock=lambda: NOON_NY, background=False)

    assert snap_compare(lead, terminal_size=(80, 24), run_before=keys("v"))


def test_account_screen_with_hold_banners(snap_compare, app):
    from db.audit import Actor, write_transaction
    from db.models import Account

    account = (Account.select().where(Account.team == app.officer.team_id, Account.claimed_by.is_null())
               .order_by(Account.id).first())
    with write_transaction(Actor("test", role="admin")) as tx:
        Account.update(dispute=True, cease=True).where(Account.id == account.id).execute()
        tx.audit("test.hold", "account", account.id)

    async def open_it(pilot):
        await settle(pilot)
        pilot.app.open_account(account.id)
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_it)


@pytest.fixture
def lead_on_the_floor(db, admin):
    """The demo floor seen by its team lead at noon in New York: alice on an account for 20
    minutes (past the 15-minute limit), bob idle in the queue, a plan waiting for approval."""
    from decimal import Decimal

    from db.arrangements import save_plan
    from db.audit import Actor
    from db.models import Account
    from db.plans import PlanRequest
    from db.presence import begin_session, renew, report_state
    from tui.app import ArrearsApp

    settings = load_settings()
    generate(admin, accounts=40, seed=3, as_of=dt.date(2026, 6, 10), settings=settings)
    alice, bob = (Officer.get(Officer.username == name) for name in ("alice", "bob"))
    account = Account.select().where(Account.team == alice.team_id, Account.status == "open").order_by(Account.id).first()
    save_plan(settings, Actor.for_officer(alice), account.id,
              PlanRequest(account.balance_minor, dt.date(2026, 6, 20), "monthly", count=3,
                          discount_percent=Decimal(45)), at=NOON_NY - dt.timedelta(minutes=30))
    earlier = NOON_NY - dt.timedelta(minutes=20)
    token = begin_session(settings, Actor.for_officer(alice), earlier)
    report_state(settings, Actor.for_officer(alice), token, "account", earlier, account_id=account.id)
    bobs = begin_session(settings, Actor.for_officer(bob), NOON_NY - dt.timedelta(minutes=3))
    renew(settings, token, NOON_NY, NOON_NY - dt.timedelta(minutes=1))  # both sessions alive at noon
    renew(settings, bobs, NOON_NY, NOON_NY)
    return ArrearsApp(settings, Officer.get(Officer.username == "lead"), clock=lambda: NOON_NY, background=False)


def test_floor_screen(snap_compare, lead_on_the_floor):
    assert snap_compare(lead_on_the_floor, terminal_size=(80, 24), run_before=keys())


def test_floor_screen_large(snap_compare, lead_on_the_floor):
    assert snap_compare(lead_on_the_floor, terminal_size=(120, 40), run_before=keys())
