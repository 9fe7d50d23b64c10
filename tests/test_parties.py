"""Related parties and linked debts: an attorney of record puts the debtor out of reach of
collection calls; the debtor's other accounts are found by the same record, national id,
or name and date of birth, within the team; a payment over them splits by the officer's
rule, sums exactly, never takes more than a balance, and posts once however often it is
sent."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config import load_settings
from db.audit import Actor, write_transaction
from db.ledger import ledger_sum, post
from db.models import Account, AuditEvent, Debtor, LedgerEntry
from db.parties import (
    PartyError, add_party, linked_accounts, parties_of, post_split_payment, remove_party, split,
)
from db.queue import refresh_all
from db.worklist import account_file
from tests import floor

SETTINGS = load_settings()
NOON_NY = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
ADMIN = Actor("test-admin", role="admin")

accounts_strategy = st.lists(
    st.tuples(st.integers(1, 10**9), st.integers(0, 10**7), st.dates(dt.date(2015, 1, 1), dt.date(2026, 1, 1))),
    min_size=1, max_size=6, unique_by=lambda t: t[0])


@given(accounts_strategy, st.integers(1, 10**8), st.sampled_from(["oldest", "largest", "proportional"]))
def test_a_split_sums_to_the_payment_and_fills_no_balance_past_full(accounts, amount, rule):
    if not any(b > 0 for _i, b, _d in accounts):
        with pytest.raises(PartyError):
            split(amount, accounts, rule)
        return
    parts = dict(split(amount, accounts, rule))
    assert sum(parts.values()) == amount and all(p > 0 for p in parts.values())
    balances = {i: b for i, b, _d in accounts}
    total = sum(b for b in balances.values() if b > 0)
    over = [i for i, p in parts.items() if p > balances[i]]
    if amount <= total:
        assert over == []
    else:  # everything is paid off, and the overpayment sits on exactly one account
        assert all(parts.get(i, 0) >= b for i, b in balances.items() if b > 0) and len(over) == 1


def test_split_rules_on_a_worked_example():
    rows = [(1, 100_00, dt.date(2024, 1, 1)), (2, 300_00, dt.date(2023, 1, 1)), (3, 50_00, dt.date(2022, 1, 1))]
    assert sorted(split(150_00, rows, "oldest")) == [(2, 100_00), (3, 50_00)]
    assert sorted(split(150_00, rows, "largest")) == [(2, 150_00)]
    assert sorted(split(100_00, rows, "proportional")) == [(1, 22_22), (2, 66_67), (3, 11_11)]


@pytest.fixture
def office(db):
    team, other = floor.team(), floor.team("Other")
    alice = floor.officer("alice", team)
    first = floor.account(team, balance=0, dpd=400)
    second = floor.account(team, balance=0, dpd=100)
    theirs = floor.account(other, balance=0, dpd=50)
    for acct, amount in ((first, 100_00), (second, 300_00), (theirs, 70_00)):
        post(ADMIN, acct.id, "charge", amount, effective_date=dt.date(2025, 1, 1))
    # The same person placed twice by different clients: another debtor record, same
    # national id (and the other team's copy must stay out of alice's view).
    with write_transaction(ADMIN) as tx:
        Debtor.update(national_id="123456789").where(Debtor.id.in_([first.debtor_id, second.debtor_id,
                                                                    theirs.debtor_id])).execute()
        tx.audit("test.setup", "debtor", None)
    refresh_all(SETTINGS, ADMIN, NOON_NY)
    return Actor.for_officer(alice), first, second, theirs


def test_an_attorney_of_record_sends_contact_to_the_attorney(office):
    alice, first, _second, _theirs = office
    with pytest.raises(PartyError, match="needs a phone, an e-mail or an address"):
        add_party(SETTINGS, alice, first.id, "attorney", "Jane Roe")
    with pytest.raises(PartyError, match="not a valid phone number"):
        add_party(SETTINGS, alice, first.id, "attorney", "Jane Roe", phone="12345")
    party = add_party(SETTINGS, alice, first.id, "attorney", "Jane Roe, Roe & Co", phone="(212) 555-0177",
                      reference="RC-2231", at=NOON_NY)
    assert party.phone == "+12125550177"
    account = Account.get_by_id(first.id)
    assert account.attorney_represented and account.queue_priority is None
    file = account_file(SETTINGS, alice, first.id, NOON_NY)
    assert "attorney" in file.flags or "ATTORNEY" in " ".join(file.flags).upper()
    assert all(not phone.allowed and "attorney" in phone.why.lower() for phone in file.phones)
    add_party(SETTINGS, alice, first.id, "guarantor", "Bob Doe", email="bob@example.com", at=NOON_NY)
    assert [p.role for p in parties_of(alice, first.id)] == ["attorney", "guarantor"]
    remove_party(SETTINGS, alice, party.id, reason="firm withdrew")
    assert [p.role for p in parties_of(alice, first.id)] == ["guarantor"]
    assert [e.action for e in AuditEvent.select().where(AuditEvent.action.startswith("party."))] == [
        "party.add", "party.add", "party.remove"]


def test_linked_accounts_and_a_split_payment_posted_once(office):
    alice, first, second, theirs = office
    assert [a.reference for a in linked_accounts(alice, first.id)] == [second.reference]  # not the other team's
    assert {a.reference for a in linked_accounts(ADMIN, first.id)} == {second.reference, theirs.reference}
    parts = post_split_payment(SETTINGS, alice, second.id, 150_00, rule="oldest", method="card",
                               paid_on=dt.date(2026, 6, 9), key="split-1", at=NOON_NY)
    assert dict(parts) == {first.id: 100_00, second.id: 50_00}  # first is the older debt
    again = post_split_payment(SETTINGS, alice, second.id, 150_00, rule="oldest", method="card",
                               paid_on=dt.date(2026, 6, 9), key="split-1", at=NOON_NY)
    assert sorted(again) == sorted(parts) and LedgerEntry.select().where(LedgerEntry.kind == "payment").count() == 2
    assert (ledger_sum(first.id), ledger_sum(second.id)) == (0, 250_00)
    with pytest.raises(PartyError, match="same debtor's accounts"):
        post_split_payment(SETTINGS, alice, second.id, 10_00, rule="oldest", method="card",
                           paid_on=dt.date(2026, 6, 9), key="split-2", with_accounts=[theirs.id], at=NOON_NY)


async def test_the_party_form_and_the_account_file(office):
    from textual.widgets import Input, Static

    from db.models import Officer
    from tests.test_tui import make_app, settle

    alice, first, second, _theirs = office
    app = make_app(Officer.get_by_id(alice.officer_id))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.open_account(first.id)
        await settle(pilot)
        text = "\n".join(str(s.render()) for s in app.screen.query(Static))
        assert f"Same debtor: {second.reference}" in text
        await pilot.press("y")
        await settle(pilot)
        await pilot.press("down", "down", "down")  # Attorney of record
        app.screen.query_one("#party-name", Input).value = "Jane Roe [b]Esq[/b]"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "needs a phone" in str(app.screen.query_one("#form-error", Static).render())
        app.screen.query_one("#party-phone", Input).value = "212 555 0177"
        await pilot.press("ctrl+s")
        await settle(pilot)
        text = "\n".join(str(s.render()) for s in app.screen.query(Static))
        assert "Attorney of record: Jane Roe [b]Esq[/b] +12125550177" in text  # shown literally
        assert Account.get_by_id(first.id).attorney_represented


def test_linked_accounts_match_by_name_and_date_of_birth_too(office):
    alice, first, second, _theirs = office
    team = Account.get_by_id(first.id).team
    twin = floor.account(team, balance=0, dpd=30)
    namesake = floor.account(team, balance=0, dpd=30)
    me = Debtor.get_by_id(first.debtor_id)
    with write_transaction(ADMIN) as tx:
        Debtor.update(date_of_birth=dt.date(1980, 5, 17)).where(Debtor.id == me.id).execute()
        # Same name and birthday, no national id: the same person.
        Debtor.update(search_name=me.search_name, date_of_birth=dt.date(1980, 5, 17)).where(
            Debtor.id == twin.debtor_id).execute()
        # Same name, another birthday: someone else.
        Debtor.update(search_name=me.search_name, date_of_birth=dt.date(1981, 5, 17)).where(
            Debtor.id == namesake.debtor_id).execute()
        tx.audit("test.setup", "debtor", None)
    assert {a.reference for a in linked_accounts(alice, first.id)} == {second.reference, twin.reference}
