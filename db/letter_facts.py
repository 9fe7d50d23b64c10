"""What a letter says about an account, read from the database in one go: the debtor and
their address, the balance by bucket, every ledger entry with its running balance, the
plan and its installments, a payment, the income and expenditure statement.

Plain values only (money in minor units): the letters package formats them, and a
letter rendered later from the same rows says the same thing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from db.models import Account, Address, Client, Debtor, Installment, LedgerEntry, Letter, Officer, Plan


@dataclass(frozen=True)
class Entry:
    id: int
    effective_date: dt.date
    kind: str
    bucket: str
    amount_minor: int
    """Signed: positive adds to what is owed."""
    balance_minor: int
    """The running balance after this entry."""
    description: str
    batch: str | None = None
    """Entries posted together (one payment split over buckets) share it."""


@dataclass(frozen=True)
class InstallmentLine:
    number: int
    due_on: dt.date
    amount_minor: int
    paid_minor: int
    status: str


@dataclass(frozen=True)
class PlanFacts:
    id: int
    status: str
    frequency: str
    amount_due_minor: int
    deposit_minor: int
    settled_minor: int | None
    created_on: dt.date
    installments: list[InstallmentLine]
    statement: dict | None


@dataclass(frozen=True)
class Itemisation:
    """Regulation F's itemisation of the debt since a reference date."""

    date: dt.date
    owed_then_minor: int
    interest_minor: int
    fees_minor: int
    credits_minor: int
    """Payments and credits since the date (a positive figure, taken off)."""
    owed_now_minor: int


@dataclass(frozen=True)
class LetterFacts:
    letter_id: int | None
    account_id: int
    reference: str
    client_reference: str
    client_name: str
    original_creditor: str
    currency: str
    jurisdiction: str
    placed_on: dt.date
    delinquency_date: dt.date | None
    last_payment_date: dt.date | None
    status: str
    debtor_name: str
    debtor_first_name: str
    address: list[str]
    balance_minor: int
    buckets: dict[str, int]
    entries: list[Entry]
    itemisation: Itemisation
    plan: PlanFacts | None
    payment: list[Entry] = field(default_factory=list)
    """The payment a receipt is for (one entry per balance bucket it cleared)."""
    statement: dict | None = None
    officer_name: str | None = None


_KIND_WORDS = {
    "charge": "Balance", "interest": "Interest", "fee": "Fee", "payment": "Payment", "reversal": "Reversal",
    "adjustment": "Adjustment", "write_off": "Written off", "settlement": "Settlement discount",
}


def _description(row) -> str:
    words = _KIND_WORDS.get(row.kind, row.kind)
    if row.kind == "payment" and row.method:
        words += f" ({row.method.replace('_', ' ')})"
    if row.bucket != "principal" and row.kind not in ("interest", "fee"):
        words += f", {row.bucket}"
    if row.memo:
        words += f": {row.memo}"
    return words


def _address_lines(debtor: Debtor) -> list[str]:
    address = (Address.select().where(Address.debtor == debtor.id)
               .order_by(Address.is_primary.desc(), Address.id).first())
    if address is None:
        return []
    lines = [address.line1]
    if address.line2:
        lines.append(address.line2)
    town = " ".join(part for part in (address.city, address.region, address.postcode) if part)
    lines.append(town)
    return lines


def itemise(entries: list[Entry], since: dt.date) -> Itemisation:
    """Split the ledger at `since`: owed then, and interest, fees and credits since, so that
    then + interest + fees − credits = now."""
    then = sum(e.amount_minor for e in entries if e.effective_date <= since)
    later = [e for e in entries if e.effective_date > since]
    interest = sum(e.amount_minor for e in later if e.kind == "interest")
    fees = sum(e.amount_minor for e in later if e.kind != "interest" and e.amount_minor > 0)
    credits = -sum(e.amount_minor for e in later if e.kind != "interest" and e.amount_minor < 0)
    return Itemisation(since, then, interest, fees, credits, then + interest + fees - credits)


def _plan_facts(account_id: int, plan_id: int | None) -> PlanFacts | None:
    query = Plan.select().where(Plan.account == account_id)
    plan = (query.where(Plan.id == plan_id).first() if plan_id
            else query.order_by(Plan.created_at.desc(), Plan.id.desc()).first())
    if plan is None:
        return None
    lines = [InstallmentLine(i.number, i.due_on, i.amount_minor + i.carried_minor, i.paid_minor, i.status)
             for i in Installment.select().where(Installment.plan == plan.id).order_by(Installment.number)]
    return PlanFacts(plan.id, plan.status, plan.frequency, plan.amount_due_minor, plan.deposit_minor,
                     plan.settled_minor, plan.created_at.date(), lines,
                     json.loads(plan.statement) if plan.statement else None)


def _payment_key(row) -> str:
    return row.batch or row.idempotency_key or f"#{row.id}"


def _payment(rows: list, entries: list[Entry], key: str | None) -> list[Entry]:
    """The entries of one payment (by its batch or idempotency key; default the latest)."""
    payments = [row for row in rows if row.kind == "payment"]
    if not payments:
        return []
    if not key:
        key = _payment_key(max(payments, key=lambda r: (r.effective_date, r.id)))
    ids = {row.id for row in payments if _payment_key(row) == key}
    return [e for e in entries if e.id in ids]


def letter_facts(account_id: int, inputs: dict | None = None, letter_id: int | None = None, *,
                 with_plan: bool = True) -> LetterFacts:
    """Everything a letter to (or about) this account may print; `with_plan=False` leaves
    out the plan, its installments and the income and expenditure statement."""
    inputs = inputs or {}
    account = (Account.select(Account, Client, Debtor).join(Client).switch(Account).join(Debtor)
               .where(Account.id == account_id).get())
    client, debtor = account.client, account.debtor
    # Named tuples, not model instances: a long statement reads hundreds of rows.
    L = LedgerEntry
    rows = list(L.select(L.id, L.effective_date, L.kind, L.bucket, L.amount_minor, L.method, L.memo, L.batch,
                         L.idempotency_key).where(L.account == account_id).order_by(L.effective_date, L.id)
                .namedtuples())
    entries, running = [], 0
    for row in rows:
        running += row.amount_minor
        entries.append(Entry(row.id, row.effective_date, row.kind, row.bucket, row.amount_minor, running,
                             _description(row), row.batch))
    buckets: dict[str, int] = {}
    for row in rows:
        buckets[row.bucket] = buckets.get(row.bucket, 0) + row.amount_minor
    payment = _payment(rows, entries, inputs.get("payment"))
    # Only the letters about an arrangement read the plan tables (most letters are not).
    plan = statement = None
    if with_plan:
        plan = _plan_facts(account_id, inputs.get("plan_id"))
        with_statement = (Plan.select(Plan.statement).where(Plan.account == account_id, Plan.statement.is_null(False))
                          .order_by(Plan.created_at.desc(), Plan.id.desc()).first())
        if with_statement is not None:
            statement = json.loads(with_statement.statement)
    officer_name = None
    if letter_id is not None:
        officer = (Officer.select(Officer.name).join(Letter, on=(Letter.requested_by == Officer.id))
                   .where(Letter.id == letter_id).first())
        officer_name = officer.name if officer else None
    return LetterFacts(
        letter_id=letter_id, account_id=account.id, reference=account.reference,
        client_reference=account.client_reference, client_name=client.name,
        original_creditor=account.original_creditor or client.name, currency=account.currency,
        jurisdiction=account.jurisdiction, placed_on=account.placed_on, delinquency_date=account.delinquency_date,
        last_payment_date=account.last_payment_date, status=account.status,
        debtor_name=f"{debtor.first_name} {debtor.last_name}".strip(), debtor_first_name=debtor.first_name,
        address=_address_lines(debtor), balance_minor=account.balance_minor, buckets=buckets, entries=entries,
        itemisation=itemise(entries, account.placed_on), plan=plan, payment=payment, statement=statement,
        officer_name=officer_name,
    )
