"""Identity on the account screen (`i`), with Pilot at 80x24: the file shows only masked
details; an officer checks a caller's date of birth without seeing it; a team lead sees
the full details only after giving a reason, and the view is audited."""

import datetime as dt

import pytest
from textual.widgets import Input, Static

from config import load_settings
from db.audit import Actor
from db.models import AuditEvent, Debtor
from db.queue import refresh_all
from tests import floor
from tests.test_tui import NOON_NY, make_app, settle
from tests.test_tui_money import open_account


@pytest.fixture
def office(db):
    team = floor.team()
    people = {"alice": floor.officer("alice", team), "lina": floor.officer("lina", team, role="team_lead")}
    account = floor.account(team)
    Debtor.update(date_of_birth=dt.date(1984, 3, 7), national_id="123-45-6789").where(
        Debtor.id == account.debtor_id).execute()
    refresh_all(load_settings(), Actor("t", role="admin"), NOON_NY)
    return people


def shown(screen, selector) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_an_officer_checks_a_date_of_birth_without_seeing_it(office):
    app = make_app(office["alice"])
    async with app.run_test(size=(80, 24)) as pilot:
        await open_account(pilot)
        assert "Born **/**/1984 · ID *****6789" in shown(app.screen, "#addresses")
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        assert type(form).__name__ == "IdentityForm" and not form.query("#identity-reason")
        form.query_one("#identity-dob", Input).value = "7 March 84"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "is not a date: type it as YYYY-MM-DD" in shown(form, "#form-error")
        form.query_one("#identity-dob", Input).value = "1984-03-07"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert shown(form, "#identity-result") == "Matches the file: identity confirmed"
        form.query_one("#identity-dob", Input).value = "1984-07-03"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert shown(form, "#identity-result") == "Does not match the file: do not discuss the account"
        assert "123-45" not in "".join(str(w.render()) for w in form.query(Static))
    assert AuditEvent.select().where(AuditEvent.action == "identity.verify").count() == 2


async def test_a_team_lead_sees_the_details_after_giving_a_reason(office):
    app = make_app(office["lina"])
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("w")  # from the floor, where team leads land, to the queue
        await open_account(pilot)
        await pilot.press("i")
        await settle(pilot)
        form = app.screen
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "Say why" in shown(form, "#form-error") and shown(form, "#identity-result") == ""
        await pilot.press(*"complaint")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert shown(form, "#identity-result").startswith("Born 1984-03-07 · ID 123-45-6789")
    reveal = AuditEvent.get(AuditEvent.action == "pii.reveal")
    assert reveal.actor == "lina" and "complaint" in reveal.changes
