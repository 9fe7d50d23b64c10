"""Files out to creditor clients, for remittance and reconciliation: accounts (their state
now), activities (the contact history) and payments (ledger payments and their reversals),
each since a date, optionally for one client. Rows are read a batch at a time, so a whole
floor streams out without being held in memory. Money is a plain decimal in the account's
currency; times are UTC in ISO 8601."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from peewee import JOIN

from db.audit import Actor
from db.models import Account, Activity, AuditEvent, Client, Debtor, LedgerEntry, Officer, Team
from db.money import exponent_of, plain
from db.scope import require_role

BATCH = 5000
KINDS = ("accounts", "activities", "payments")
HEADERS = {
    "accounts": ("reference", "client", "client_reference", "debtor", "status", "balance", "currency", "placed_on",
                 "delinquency_date", "last_payment_date", "last_contact_at", "team", "assigned_to", "holds"),
    "activities": ("at", "reference", "client", "client_reference", "kind", "outcome", "direction", "officer",
                   "right_party_contact", "note"),
    "payments": ("posted_at", "reference", "client", "client_reference", "kind", "bucket", "amount", "currency",
                 "effective_date", "method", "transaction", "reverses"),
}
HOLDS = ("dispute", "cease", "bankruptcy", "deceased", "vulnerable", "attorney_represented")


def _iso(value) -> str:
    return "" if value is None else value.isoformat()


def _start(since: dt.date) -> dt.datetime:
    return dt.datetime.combine(since, dt.time(0))


def export_rows(actor: Actor, kind: str, since: dt.date | None = None, *,
                client: str | None = None) -> Iterator[tuple]:
    """The header, then every row of the export (admins and system jobs)."""
    require_role(actor, "admin", "system")
    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r}: use {', '.join(KINDS)}")
    client_id = None
    if client is not None:
        row = Client.get_or_none(Client.code == client)
        if row is None:
            raise LookupError(f"there is no client {client!r}")
        client_id = row.id
    yield HEADERS[kind]
    yield from {"accounts": _accounts, "activities": _activities, "payments": _payments}[kind](since, client_id)


def _accounts(since: dt.date | None, client_id: int | None) -> Iterator[tuple]:
    assigned = Officer.alias()
    where = Account.id > 0
    if client_id is not None:
        where &= Account.client == client_id
    if since is not None:
        # Accounts that changed since the date: anything written to them is in the audit log.
        changed = AuditEvent.select(AuditEvent.account).where(AuditEvent.at >= _start(since),
                                                               AuditEvent.account.is_null(False))
        where &= Account.id.in_(changed) | (Account.placed_on >= since)
    columns = (Account.id, Account.reference, Client.code, Account.client_reference, Debtor.first_name,
               Debtor.last_name, Account.status, Account.balance_minor, Account.currency, Account.placed_on,
               Account.delinquency_date, Account.last_payment_date, Account.last_contact_at, Team.name,
               assigned.username, *(getattr(Account, h) for h in HOLDS))
    last = 0
    while True:
        rows = list(Account.select(*columns)
                    .join(Client, on=(Account.client == Client.id))
                    .join_from(Account, Debtor, on=(Account.debtor == Debtor.id))
                    .join_from(Account, Team, JOIN.LEFT_OUTER, on=(Account.team == Team.id))
                    .join_from(Account, assigned, JOIN.LEFT_OUTER, on=(Account.assigned_officer == assigned.id))
                    .where(where, Account.id > last).order_by(Account.id).limit(BATCH).tuples())
        if not rows:
            return
        for (_id, ref, code, client_ref, first, last_name, status, balance, currency, placed, delinquent, paid,
             contact, team, owner, *holds) in rows:
            yield (ref, code, client_ref, f"{first} {last_name}", status, plain(balance, exponent=exponent_of(currency)),
                   currency, _iso(placed), _iso(delinquent), _iso(paid), _iso(contact), team or "", owner or "",
                   " ".join(h for h, on in zip(HOLDS, holds) if on))
        last = rows[-1][0]


def _activities(since: dt.date | None, client_id: int | None) -> Iterator[tuple]:
    where = Activity.id > 0
    if client_id is not None:
        where &= Account.client == client_id
    if since is not None:
        where &= Activity.started_at >= _start(since)
    last = 0
    while True:
        rows = list(Activity.select(Activity.id, Activity.started_at, Account.reference, Client.code,
                                    Account.client_reference, Activity.kind, Activity.disposition, Activity.direction,
                                    Officer.username, Activity.right_party_contact, Activity.note)
                    .join(Account, on=(Activity.account == Account.id))
                    .join(Client, on=(Account.client == Client.id))
                    .join_from(Activity, Officer, JOIN.LEFT_OUTER, on=(Activity.officer == Officer.id))
                    .where(where, Activity.id > last).order_by(Activity.id).limit(BATCH).tuples())
        if not rows:
            return
        for _id, started, ref, code, client_ref, kind, outcome, direction, officer, rpc, note in rows:
            yield (_iso(started), ref, code, client_ref, kind, outcome or "", direction, officer or "",
                   "yes" if rpc else "no", note or "")
        last = rows[-1][0]


def _payments(since: dt.date | None, client_id: int | None) -> Iterator[tuple]:
    original = LedgerEntry.alias()
    where = (LedgerEntry.kind == "payment") | ((LedgerEntry.kind == "reversal") & (original.kind == "payment"))
    if client_id is not None:
        where &= Account.client == client_id
    if since is not None:
        where &= LedgerEntry.posted_at >= _start(since)
    last = 0
    while True:
        rows = list(LedgerEntry.select(
            LedgerEntry.id, LedgerEntry.posted_at, Account.reference, Client.code, Account.client_reference,
            LedgerEntry.kind, LedgerEntry.bucket, LedgerEntry.amount_minor, Account.currency, LedgerEntry.effective_date,
            LedgerEntry.method, LedgerEntry.reference, LedgerEntry.idempotency_key, original.reference,
            original.idempotency_key)
            .join(Account, on=(LedgerEntry.account == Account.id))
            .join(Client, on=(Account.client == Client.id))
            .join_from(LedgerEntry, original, JOIN.LEFT_OUTER, on=(LedgerEntry.reverses == original.id))
            .where(where, LedgerEntry.id > last).order_by(LedgerEntry.id).limit(BATCH).tuples())
        if not rows:
            return
        for (_id, posted, ref, code, client_ref, kind, bucket, amount, currency, effective, method, txn, key, reversed_txn,
             reversed_key) in rows:
            # Money in as clients read remittance: a payment positive, its reversal negative.
            yield (_iso(posted), ref, code, client_ref, kind, bucket, plain(-amount, exponent=exponent_of(currency)), currency,
                   _iso(effective), method or "", txn or key or "", reversed_txn or reversed_key or "")
        last = rows[-1][0]
