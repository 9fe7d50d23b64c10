"""The ledger: the only way an account's balance changes.

Entries are inserted, never edited or deleted (the database refuses); a mistake is undone
by a reversal that points at the entry it reverses, at most once. The account's
`balance_minor` is updated in the same transaction, so it always equals the ledger's sum.
"""

from __future__ import annotations

import datetime as dt

from peewee import JOIN, IntegrityError, fn

from db.audit import Actor, write_transaction
from db.models import BUCKETS, Account, LedgerEntry
from db.scope import account_for, require_role

# The sign each kind of entry must have: +1 raises the debt, -1 lowers it, 0 either.
SIGNS = {
    "charge": 1, "interest": 1, "fee": 1,
    "payment": -1, "write_off": -1, "settlement": -1,
    "adjustment": 0, "reversal": 0,
}


class LedgerError(ValueError):
    """A posting the ledger refuses; the message says why."""


def _check(kind: str, bucket: str, amount_minor: int) -> None:
    if kind not in SIGNS:
        raise LedgerError(f"unknown ledger entry kind {kind!r}")
    if bucket not in BUCKETS:
        raise LedgerError(f"unknown balance bucket {bucket!r}")
    if amount_minor == 0:
        raise LedgerError("a ledger entry cannot be for zero")
    sign = SIGNS[kind]
    if sign and (amount_minor > 0) != (sign > 0):
        direction = "raise" if sign > 0 else "lower"
        raise LedgerError(f"a {kind.replace('_', '-')} must {direction} the balance")


def insert_entry(
    tx,
    account: Account,
    kind: str,
    amount_minor: int,
    *,
    bucket: str = "principal",
    effective_date: dt.date,
    reference: str | None = None,
    idempotency_key: str | None = None,
    method: str | None = None,
    memo: str | None = None,
    reverses: LedgerEntry | None = None,
    batch: str | None = None,
    posted_at: dt.datetime | None = None,
) -> LedgerEntry:
    """Insert one entry inside an open `write_transaction` and move the balance with it;
    `posted_at` (naive UTC) is when the officer posted it, default now."""
    _check(kind, bucket, amount_minor)
    frozen = account.breathing_space_until
    if kind in ("interest", "fee") and frozen is not None and effective_date <= frozen:
        raise LedgerError(f"breathing space until {frozen:%d %b %Y}: no interest or charges may be added")
    entry = LedgerEntry.create(
        account=account.id,
        kind=kind,
        bucket=bucket,
        amount_minor=amount_minor,
        effective_date=effective_date,
        reference=reference,
        idempotency_key=idempotency_key,
        method=method,
        memo=memo,
        reverses=reverses.id if reverses else None,
        officer=tx.actor.officer_id,
        batch=batch,
        **({"posted_at": posted_at} if posted_at is not None else {}),
    )
    (Account.update(balance_minor=Account.balance_minor + amount_minor)
     .where(Account.id == account.id).execute())
    account.balance_minor += amount_minor
    tx.audit(
        f"ledger.{kind}", "ledger_entry", entry.id, account_id=account.id,
        changes={"amount_minor": amount_minor, "bucket": bucket, "reverses": reverses.id if reverses else None},
    )
    return entry


def post(
    actor: Actor,
    account_id: int,
    kind: str,
    amount_minor: int,
    *,
    bucket: str = "principal",
    effective_date: dt.date | None = None,
    reference: str | None = None,
    idempotency_key: str | None = None,
    method: str | None = None,
    memo: str | None = None,
) -> LedgerEntry:
    """Post one entry. With an `idempotency_key`, posting the same key again returns the
    entry already posted instead of posting twice."""
    # Payments are posted through db.payments; a raw entry (a fee, interest, an
    # adjustment) is a team lead's, or a job's.
    require_role(actor, "team_lead", "system")
    account_for(actor, account_id, LedgerError)
    if idempotency_key:
        existing = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == idempotency_key)
        if existing is not None:
            return existing
    try:
        with write_transaction(actor) as tx:
            account = Account.get_by_id(account_id)
            return insert_entry(
                tx, account, kind, amount_minor, bucket=bucket,
                effective_date=effective_date or dt.date.today(), reference=reference,
                idempotency_key=idempotency_key, method=method, memo=memo,
            )
    except IntegrityError:
        if idempotency_key:
            # Another session posted the same key between our look and our insert.
            existing = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == idempotency_key)
            if existing is not None:
                return existing
        raise


def reverse(actor: Actor, entry_id: int, *, reason: str, effective_date: dt.date | None = None) -> LedgerEntry:
    """Post the reversal of an entry (e.g. a bounced cheque). An entry is reversed once."""
    # Money already on the books is corrected by a team lead, or by a job acting for one.
    require_role(actor, "team_lead", "system")
    if not reason.strip():
        raise LedgerError("say why the entry is reversed")
    with write_transaction(actor) as tx:
        original = LedgerEntry.get_or_none(LedgerEntry.id == entry_id)
        if original is None:
            raise LedgerError(f"there is no ledger entry {entry_id}")
        if original.kind == "reversal":
            raise LedgerError("a reversal cannot itself be reversed: post a new entry")
        if LedgerEntry.select().where(LedgerEntry.reverses == original.id).exists():
            raise LedgerError(f"ledger entry {entry_id} has already been reversed")
        account = account_for(actor, original.account_id)
        return insert_entry(
            tx, account, "reversal", -original.amount_minor, bucket=original.bucket,
            effective_date=effective_date or dt.date.today(), reference=original.reference,
            memo=reason, reverses=original,
        )


def ledger_sum(account_id: int) -> int:
    return (LedgerEntry.select(fn.COALESCE(fn.SUM(LedgerEntry.amount_minor), 0))
            .where(LedgerEntry.account == account_id).scalar())


def balance_by_bucket(account_id: int) -> dict[str, int]:
    rows = (LedgerEntry.select(LedgerEntry.bucket, fn.SUM(LedgerEntry.amount_minor).alias("total"))
            .where(LedgerEntry.account == account_id).group_by(LedgerEntry.bucket).tuples())
    totals = dict.fromkeys(BUCKETS, 0)
    totals.update({bucket: int(total) for bucket, total in rows})
    return totals


def accounts_out_of_balance(limit: int = 100) -> list[tuple[str, int, int]]:
    """(reference, balance, ledger sum) for accounts whose balance is not their ledger's sum."""
    sums = (LedgerEntry.select(LedgerEntry.account, fn.SUM(LedgerEntry.amount_minor).alias("total"))
            .group_by(LedgerEntry.account).alias("sums"))
    query = (Account.select(Account.reference, Account.balance_minor, fn.COALESCE(sums.c.total, 0))
             .join(sums, join_type=JOIN.LEFT_OUTER, on=(sums.c.account_id == Account.id))
             .where(Account.balance_minor != fn.COALESCE(sums.c.total, 0)).limit(limit).tuples())
    return [(ref, bal, int(total)) for ref, bal, total in query]
