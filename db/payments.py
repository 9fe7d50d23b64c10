"""Taking payments: posted through the ledger once per idempotency key, split over the
balance buckets by the configured waterfall, allocated to the oldest open installment or
promise, and judged at once. A reversal (a bounced cheque, a recalled card payment) is new
ledger rows that re-open what the payment had settled.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import IntegrityError, fn

from db.audit import Actor, write_transaction
from db.compliance import naive_utc
from db.ledger import balance_by_bucket, insert_entry
from db.models import Account, Activity, Allocation, Installment, LedgerEntry, Plan, Promise
from db.promises import Evaluation, _evaluate_account, floor_today, judge, refresh_promise_fact
from db.scope import account_for

METHODS = {"card": "Card", "bank_transfer": "Bank transfer", "direct_debit": "Direct debit",
           "cheque": "Cheque", "cash": "Cash"}


class PaymentError(ValueError):
    """A payment that cannot be posted or reversed; the message says what to fix."""


@dataclass
class PostedPayment:
    head: LedgerEntry
    """The payment's first ledger entry; its `batch` names the others."""
    by_bucket: dict[str, int]
    allocated: list[tuple[str, int, int]] = field(default_factory=list)
    """("installment", number, amount) or ("promise", id, amount)."""
    duplicate: bool = False
    """The key had been posted before: nothing new was written."""


def split_over_buckets(amount_minor: int, balances: dict[str, int], order: list[str]) -> dict[str, int]:
    """How much of a payment clears each bucket, in the waterfall's order; whatever is left
    (an overpayment) goes to principal."""
    out: dict[str, int] = {}
    left = amount_minor
    for bucket in order:
        take = min(left, max(balances.get(bucket, 0), 0))
        if take:
            out[bucket] = take
            left -= take
    if left:
        out["principal"] = out.get("principal", 0) + left
    return out


def post_payment(settings, actor: Actor, account_id: int, amount_minor: int, *, method: str, paid_on: dt.date,
                 key: str, reference: str | None = None, at: dt.datetime | None = None) -> PostedPayment:
    """Post a payment. Posting the same `key` again (a form sent twice, a file imported
    twice) returns the payment already posted and writes nothing."""
    at = at or dt.datetime.now(dt.UTC)
    if not key:
        raise PaymentError("a payment needs an idempotency key")
    existing = _existing(key)
    if existing is not None:
        return existing
    if amount_minor <= 0:
        raise PaymentError("the payment must be more than zero")
    if method not in METHODS:
        raise PaymentError(f"unknown payment method {method!r}: use one of {', '.join(METHODS)}")
    if paid_on > floor_today(settings, at):
        raise PaymentError(f"{paid_on:%d %b %Y} is in the future: post a payment once it has been made")
    reference = (reference or "").strip() or None
    if reference and len(reference) > 64:
        raise PaymentError("the payment reference is longer than 64 characters")
    try:
        with write_transaction(actor) as tx:
            account = account_for(actor, account_id, PaymentError)
            if account.status in ("closed", "recalled"):
                raise PaymentError(f"the account is {account.status}: payments go back to the client")
            parts = split_over_buckets(amount_minor, balance_by_bucket(account_id), settings.plans.allocation)
            head = None
            for index, (bucket, part) in enumerate(parts.items()):
                entry = insert_entry(tx, account, "payment", -part, bucket=bucket, effective_date=paid_on,
                                     reference=reference, idempotency_key=key if index == 0 else f"{key}/{bucket}",
                                     method=method, batch=key, posted_at=naive_utc(at))
                head = head or entry
            allocated = _allocate(account, head, amount_minor)
            if account.last_payment_date is None or paid_on > account.last_payment_date:
                # A payment restarts the limitation period.
                Account.update(last_payment_date=paid_on).where(Account.id == account_id).execute()
            Activity.create(account=account_id, kind="payment", officer=actor.officer_id, started_at=naive_utc(at),
                            note=" ".join(x for x in (METHODS[method], reference) if x))
            tx.audit("payment.post", "ledger_entry", head.id, account_id=account_id,
                     changes={"amount_minor": amount_minor, "method": method, "paid_on": paid_on, "key": key,
                              "buckets": parts, "allocated": allocated})
            _after_money_moved(settings, tx, account_id, at)
        return PostedPayment(head, parts, allocated)
    except IntegrityError:
        # Another session posted the same key between our look and our insert.
        existing = _existing(key)
        if existing is not None:
            return existing
        raise


def _existing(key: str) -> PostedPayment | None:
    head = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == key)
    if head is None:
        return None
    parts = {e.bucket: -e.amount_minor for e in LedgerEntry.select().where(LedgerEntry.batch == key,
                                                                           LedgerEntry.kind == "payment")}
    return PostedPayment(head, parts, duplicate=True)


def _open_targets(account_id: int) -> list[tuple[dt.date, int, object]]:
    """Open installments of the live plan and open promises, oldest due first."""
    targets: list[tuple[dt.date, int, object]] = []
    plan = Plan.get_or_none((Plan.account == account_id) & (Plan.status == "active"))
    if plan is not None:
        for row in Installment.select().where(Installment.plan == plan.id, Installment.status == "open"):
            targets.append((row.due_on, 0, row))
    for promise in Promise.select().where(Promise.account == account_id, Promise.status == "open"):
        targets.append((promise.due_on, 1, promise))
    targets.sort(key=lambda t: (t[0], t[1], t[2].id))
    return targets


def _allocate(account: Account, head: LedgerEntry, amount_minor: int) -> list[tuple[str, int, int]]:
    left = amount_minor
    done = []
    for _due, _kind, target in _open_targets(account.id):
        if left <= 0:
            break
        if isinstance(target, Installment):
            need = target.amount_minor + target.carried_minor - target.paid_minor
        else:
            need = target.amount_minor - target.paid_minor
        take = min(need, left)
        if take <= 0:
            continue
        left -= take
        _apply(account.id, head, target, take)
        done.append(("installment", target.number, take) if isinstance(target, Installment)
                    else ("promise", target.id, take))
    return done


def _apply(account_id: int, head: LedgerEntry, target, amount: int) -> None:
    model = type(target)
    is_installment = model is Installment
    Allocation.create(account=account_id, payment=head.id, amount_minor=amount,
                      installment=target.id if is_installment else None,
                      promise=None if is_installment else target.id)
    model.update(paid_minor=model.paid_minor + amount).where(model.id == target.id).execute()


def _after_money_moved(settings, tx, account_id: int, at: dt.datetime) -> None:
    """Judge the account's promises and installments now, and keep its status and queue
    facts true to its balance."""
    from db.queue import refresh_accounts

    _evaluate_account(settings, tx, account_id, floor_today(settings, at), at, Evaluation({}, {}, 0, 0))
    account = Account.get_by_id(account_id)
    live_plan = Plan.select().where(Plan.account == account_id, Plan.status == "active").exists()
    status = account.status
    if account.balance_minor <= 0 and status in ("open", "arrangement"):
        status = "paid"
    elif account.balance_minor > 0 and status in ("paid", "settled"):
        status = "arrangement" if live_plan else "open"
    if status != account.status:
        Account.update(status=status).where(Account.id == account_id).execute()
        tx.audit("account.status", "account", account_id, account_id=account_id,
                 changes={"status": [account.status, status]})
    refresh_promise_fact(account_id)
    if account.claimed_by_id is None:
        refresh_accounts(settings, [account_id], at)


def reverse_payment(settings, actor: Actor, key: str, *, reason: str, at: dt.datetime | None = None) -> list[LedgerEntry]:
    """Reverse every entry of the payment posted with `key`, take back what it paid on
    installments and promises (re-judged at once), and reopen a plan it completed."""
    at = at or dt.datetime.now(dt.UTC)
    if not reason.strip():
        raise PaymentError("say why the payment is reversed (e.g. cheque returned unpaid)")
    with write_transaction(actor) as tx:
        entries = list(LedgerEntry.select().where(LedgerEntry.batch == key, LedgerEntry.kind == "payment")
                       .order_by(LedgerEntry.id))
        if not entries:
            raise PaymentError(f"there is no payment {key!r}")
        account = account_for(actor, entries[0].account_id, PaymentError)
        if LedgerEntry.select().where(LedgerEntry.reverses.in_([e.id for e in entries])).exists():
            raise PaymentError("that payment has already been reversed")
        today = floor_today(settings, at)
        reversals = [insert_entry(tx, account, "reversal", -e.amount_minor, bucket=e.bucket, effective_date=today,
                                  reference=e.reference, memo=reason.strip(), reverses=e, batch=f"{key}/reversed",
                                  posted_at=naive_utc(at))
                     for e in entries]
        head = entries[0]
        _take_back(settings, head, today)
        _reopen_completed_plan(settings, tx, account.id, head, today, reason)
        if account.last_payment_date == head.effective_date:
            # A payment that bounced never restarted the limitation period.
            undone = {e.reverses_id for e in LedgerEntry.select(LedgerEntry.reverses).where(
                LedgerEntry.account == account.id, LedgerEntry.kind == "reversal")}
            dates = [e.effective_date for e in LedgerEntry.select(LedgerEntry.id, LedgerEntry.effective_date).where(
                LedgerEntry.account == account.id, LedgerEntry.kind == "payment") if e.id not in undone]
            Account.update(last_payment_date=max(dates, default=None)).where(Account.id == account.id).execute()
        Activity.create(account=account.id, kind="payment", officer=actor.officer_id, started_at=naive_utc(at),
                        note=f"Payment reversed: {reason.strip()}")
        tx.audit("payment.reverse", "ledger_entry", head.id, account_id=account.id,
                 changes={"key": key, "amount_minor": sum(-e.amount_minor for e in entries), "reason": reason.strip()})
        _after_money_moved(settings, tx, account.id, at)
    return reversals


def _take_back(settings, head: LedgerEntry, today: dt.date) -> None:
    cfg = settings.plans
    totals: dict[tuple[str, int], int] = {}
    for row in Allocation.select().where(Allocation.payment == head.id):
        target = ("installment", row.installment_id) if row.installment_id else ("promise", row.promise_id)
        totals[target] = totals.get(target, 0) + row.amount_minor
    for (kind, target_id), amount in totals.items():
        if amount <= 0:
            continue
        model = Installment if kind == "installment" else Promise
        target = model.get_by_id(target_id)
        Allocation.create(account=head.account_id, payment=head.id, amount_minor=-amount,
                          installment=target_id if kind == "installment" else None,
                          promise=target_id if kind == "promise" else None)
        paid = target.paid_minor - amount
        status = target.status
        if status in ("kept", "partial"):
            due = target.amount_minor + (target.carried_minor if kind == "installment" else 0)
            status = judge(due, paid, target.due_on, today, grace_days=cfg.grace_days,
                           tolerance_percent=cfg.tolerance_percent) or "open"
        model.update(paid_minor=paid, status=status).where(model.id == target_id).execute()


def _reopen_completed_plan(settings, tx, account_id: int, head: LedgerEntry, today: dt.date, reason: str) -> None:
    plan = (Plan.select().where(Plan.account == account_id, Plan.status == "completed")
            .order_by(Plan.id.desc()).first())
    if plan is None or not Allocation.select().join(Installment).where(
            Allocation.payment == head.id, Installment.plan == plan.id).exists():
        return
    Plan.update(status="active").where(Plan.id == plan.id).execute()
    account = Account.get_by_id(account_id)
    for entry in LedgerEntry.select().where(LedgerEntry.batch == f"settle/{plan.id}", LedgerEntry.kind == "settlement"):
        if not LedgerEntry.select().where(LedgerEntry.reverses == entry.id).exists():
            # The discount was only earned by paying the settled amount in full.
            insert_entry(tx, account, "reversal", -entry.amount_minor, bucket=entry.bucket, effective_date=today,
                         memo=f"settlement withdrawn: {reason.strip()}", reverses=entry, batch=f"settle/{plan.id}/reversed")
    Account.update(status="arrangement").where(Account.id == account_id).execute()
    tx.audit("plan.reopen", "plan", plan.id, account_id=account_id, changes={"status": ["completed", "active"]})


def payments_of(account_id: int, limit: int = 100) -> list[dict]:
    """The account's payments, newest first, each with whether it has been reversed."""
    rows = []
    query = (LedgerEntry.select(LedgerEntry.batch, fn.MIN(LedgerEntry.effective_date).alias("paid_on"),
                                fn.SUM(LedgerEntry.amount_minor).alias("total"), fn.MIN(LedgerEntry.method).alias("method"),
                                fn.MIN(LedgerEntry.reference).alias("reference"), fn.MIN(LedgerEntry.id).alias("first"))
             .where(LedgerEntry.account == account_id, LedgerEntry.kind == "payment", LedgerEntry.batch.is_null(False))
             .group_by(LedgerEntry.batch).order_by(fn.MIN(LedgerEntry.id).desc()).limit(limit))
    reversed_batches = {e.batch[: -len("/reversed")] for e in LedgerEntry.select(LedgerEntry.batch).where(
        LedgerEntry.account == account_id, LedgerEntry.kind == "reversal", LedgerEntry.batch.is_null(False))
        if e.batch.endswith("/reversed")}
    for row in query:
        rows.append({"key": row.batch, "paid_on": row.paid_on, "amount_minor": -int(row.total),
                     "method": row.method, "reference": row.reference, "reversed": row.batch in reversed_batches})
    return rows
