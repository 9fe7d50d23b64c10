"""The ledger: insert-only in the database itself, reversed at most once, idempotent
posting, and balances that always equal the sum of the entries."""

import datetime as dt

import pytest
from peewee import DatabaseError, IntegrityError

from db.audit import write_transaction
from db.database import database
from db.ledger import LedgerError, accounts_out_of_balance, balance_by_bucket, ledger_sum, post, reverse
from db.models import Account, AuditEvent, Client, Debtor, LedgerEntry


@pytest.fixture
def account(db, admin):
    with write_transaction(admin) as tx:
        client = Client.create(code="NBK", name="Northern Bank")
        debtor = Debtor.create(first_name="Ann", last_name="Lee", search_name="lee ann")
        acct = Account.create(reference="A1", client=client, client_reference="N-1", debtor=debtor,
                              placed_on=dt.date(2026, 1, 1))
        tx.audit("account.create", "account", acct.id, account_id=acct.id)
    return acct


def test_balance_follows_postings_and_reversals(account, admin):
    post(admin, account.id, "charge", 100_00, effective_date=dt.date(2026, 1, 1))
    post(admin, account.id, "interest", 5_55, bucket="interest")
    pay = post(admin, account.id, "payment", -40_00, method="cheque", reference="CHQ1")
    assert Account.get_by_id(account.id).balance_minor == 65_55 == ledger_sum(account.id)
    rev = reverse(admin, pay.id, reason="cheque bounced")
    assert rev.amount_minor == 40_00 and rev.reverses_id == pay.id
    assert Account.get_by_id(account.id).balance_minor == 105_55 == ledger_sum(account.id)
    assert balance_by_bucket(account.id) == {"principal": 100_00, "interest": 5_55, "fees": 0, "costs": 0}
    assert accounts_out_of_balance() == []


def test_reversed_at_most_once(account, admin):
    pay = post(admin, account.id, "charge", 10_00)
    reverse(admin, pay.id, reason="posted to the wrong account")
    with pytest.raises(LedgerError, match="already been reversed"):
        reverse(admin, pay.id, reason="again")
    # The database refuses it too, whatever code tries.
    with pytest.raises(IntegrityError):
        with database.atomic():
            LedgerEntry.create(account=account.id, kind="reversal", amount_minor=-10_00,
                               effective_date=dt.date.today(), reverses=pay.id)


def test_database_refuses_update_and_delete(account, admin):
    entry = post(admin, account.id, "charge", 10_00)
    for sql in (f"UPDATE ledger_entry SET amount_minor = 1 WHERE id = {entry.id}",
                f"DELETE FROM ledger_entry WHERE id = {entry.id}"):
        with pytest.raises(DatabaseError, match="append-only"):
            with database.atomic():
                database.execute_sql(sql)
    assert LedgerEntry.get_by_id(entry.id).amount_minor == 10_00


def test_idempotent_posting(account, admin):
    first = post(admin, account.id, "payment", -5_00, idempotency_key="bank:TX1")
    second = post(admin, account.id, "payment", -5_00, idempotency_key="bank:TX1")
    assert first.id == second.id
    assert LedgerEntry.select().where(LedgerEntry.account == account.id).count() == 1
    assert Account.get_by_id(account.id).balance_minor == -5_00


@pytest.mark.parametrize("kind, amount, message", [
    ("payment", 5_00, "must lower"), ("charge", -5_00, "must raise"), ("charge", 0, "zero"),
    ("gift", 1, "unknown ledger entry kind"),
])
def test_refused_postings_write_nothing(account, admin, kind, amount, message):
    before = AuditEvent.select().count()
    with pytest.raises(LedgerError, match=message):
        post(admin, account.id, kind, amount)
    assert LedgerEntry.select().count() == 0
    assert AuditEvent.select().count() == before


def test_every_posting_is_audited(account, admin):
    entry = post(admin, account.id, "fee", 25_00, bucket="fees")
    event = AuditEvent.get(AuditEvent.entity == "ledger_entry", AuditEvent.entity_id == entry.id)
    assert event.action == "ledger.fee" and event.account_id == account.id and event.actor == "test-admin"
    assert '"amount_minor": 2500' in event.changes
