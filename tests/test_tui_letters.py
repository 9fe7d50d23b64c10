"""The letter form on the account screen, driven with Pilot at 80x24: the officer reads the
letter as text before asking for it, held templates say why and cannot be queued, and
third-party letters ask for their recipient. Nothing is rendered in the session."""

import datetime as dt
import json
import subprocess
import sys

import pytest
from textual.widgets import OptionList, Static

from config import load_settings
from db.audit import Actor
from db.ledger import post
from db.models import Letter
from db.queue import refresh_all
from tests import floor
from tests.test_tui import NOON_NY, make_app, settle
from tests.test_tui_money import open_account


@pytest.fixture
def office(db):
    team = floor.team()
    alice = floor.officer("alice", team)
    account = floor.account(team, balance=0, dpd=120, today=dt.date(2026, 6, 10), vulnerable=False)
    post(Actor("t", role="admin"), account.id, "charge", 1200_00, effective_date=dt.date(2026, 1, 1))
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    return {"alice": alice, "account": account}


def preview(screen) -> str:
    return str(screen.query_one("#letter-text", Static).render())


def pick(screen, template: str) -> None:
    options = screen.query_one("#letter-template", OptionList)
    options.highlighted = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == template)


async def test_an_officer_reads_the_letter_then_queues_it(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        assert type(screen).__name__ == "LetterForm"
        assert "Dear Debtor" in preview(screen) and "$1,200.00" in preview(screen)
        pick(screen, "statement")
        await settle(pilot)
        assert "Statement of account" in preview(screen) and "Balance" in preview(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
        letter = Letter.get()
        assert (letter.template, letter.status, letter.requested_by_id) == ("statement", "queued", office["alice"].id)
        assert "Letter statement" in str(app.screen.query_one("#money", Static).render())


def test_the_officer_session_never_imports_weasyprint_or_faker():
    code = ("import sys, tui.app, tui.screens.account, tui.screens.letter_form, letters.render, letters.catalogue;"
            "sys.exit('weasyprint' in sys.modules or 'faker' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


async def test_held_letters_say_why_and_third_party_letters_need_a_recipient(office):
    from db.audit import write_transaction
    from db.models import Account

    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        with write_transaction(Actor("t", role="admin")) as tx:
            Account.update(cease=True).where(Account.id == office["account"].id).execute()
            tx.audit("test.cease", "account", office["account"].id)
        await pilot.press("l")
        await settle(pilot)
        screen = app.screen
        options = screen.query_one("#letter-template", OptionList)
        reminder = str(options.get_option_at_index(0).prompt)
        assert "held:" in reminder and "Cease communication" in reminder
        assert options.get_option_at_index(options.highlighted).id == "validation-notice"  # first allowed
        pick(screen, "reminder")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "may not be sent" in str(screen.query_one("#form-error", Static).render())
        pick(screen, "employer")
        await settle(pilot)
        assert screen.query_one("#letter-to-name").display
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Give the recipient's name" in str(screen.query_one("#form-error", Static).render())
        screen.query_one("#letter-to-name").value = "Globex <b>Corp</b>"
        screen.query_one("#letter-to-address").value = "1 Works Road, Springfield"
        await settle(pilot)
        assert "Globex <b>Corp</b>" in preview(screen)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert type(app.screen).__name__ == "AccountScreen"
    letter = Letter.get()
    assert letter.template == "employer" and letter.recipient_kind == "employer"
    assert json.loads(letter.inputs)["recipient"] == {"name": "Globex <b>Corp</b>",
                                                      "address": ["1 Works Road", "Springfield"]}
