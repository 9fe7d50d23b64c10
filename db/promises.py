"""Promises to pay, and how promises and installments are judged: kept, partial (the
shortfall carried), or broken, after the configured grace days and tolerance.

Judging runs when a payment posts (for that account) and daily for the whole floor
(`arrears promises evaluate`). A broken promise or a missed installment puts the account
in the queue's "promise broken" tier until an officer next speaks to the debtor; enough
missed installments break the arrangement.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from peewee import fn

from db.audit import Actor, write_transaction
from db.compliance import local_date, naive_utc
from db.models import Account, Activity, Installment, Plan, Promise
from db.scope import account_for


class PromiseError(ValueError):
    """A promise that cannot be recorded; the message says what to fix."""


def floor_today(settings, at: dt.datetime) -> dt.date:
    """The floor's calendar day at `at` (due dates and grace days count in it)."""
    return local_date(at, settings.locale.time_zone)


def judge(amount_due: int, paid: int, due_on: dt.date, today: dt.date, *, grace_days: int,
          tolerance_percent: int) -> str | None:
    """`kept`, `partial` or `broken`; None while it can still be kept. Paid in full is kept
    at once; otherwise nothing is decided until the grace days after the due date have
    passed, and then at least the tolerance share of the amount keeps it."""
    if paid >= amount_due:
        return "kept"
    if today <= due_on + dt.timedelta(days=grace_days):
        return None
    if paid * 100 >= amount_due * tolerance_percent:
        return "kept"
    return "partial" if paid > 0 else "broken"


def record_promise(settings, actor: Actor, account_id: int, amount_minor: int, due_on: dt.date, *,
                   at: dt.datetime | None = None, note: str | None = None) -> Promise:
    """A promise to pay `amount_minor` by `due_on`, inside the client's promise window."""
    from db.models import Client
    from db.queue import refresh_accounts

    at = at or dt.datetime.now(dt.UTC)
    today = floor_today(settings, at)
    if amount_minor <= 0:
        raise PromiseError("the promised amount must be more than zero")
    if due_on < today:
        raise PromiseError(f"{due_on:%d %b %Y} has passed: a promise is for today or later")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, PromiseError)
        client = Client.get_by_id(account.client_id)
        if (due_on - today).days > client.max_days_to_first_payment:
            raise PromiseError(f"the client takes promises up to {client.max_days_to_first_payment} days ahead "
                               f"({today + dt.timedelta(days=client.max_days_to_first_payment):%d %b %Y}): "
                               f"agree a plan instead")
        if amount_minor > account.balance_minor:
            raise PromiseError("the promise is more than the balance")
        promise = Promise.create(account=account_id, officer=actor.officer_id, amount_minor=amount_minor,
                                 due_on=due_on, created_at=naive_utc(at))
        Activity.create(account=account_id, kind="promise", officer=actor.officer_id, started_at=naive_utc(at),
                        note=(note or "").strip() or None)
        tx.audit("promise.create", "promise", promise.id, account_id=account_id,
                 changes={"amount_minor": amount_minor, "due_on": due_on})
        refresh_promise_fact(account_id)
        if account.claimed_by_id is None:
            refresh_accounts(settings, [account_id], at)
    return promise


def cancel_promise(settings, actor: Actor, promise_id: int, *, reason: str, at: dt.datetime | None = None) -> None:
    if not reason.strip():
        raise PromiseError("say why the promise is cancelled")
    with write_transaction(actor) as tx:
        promise = Promise.get_or_none(Promise.id == promise_id)
        if promise is None:
            raise PromiseError(f"there is no promise {promise_id}")
        account_for(actor, promise.account_id, PromiseError)
        if promise.status != "open":
            raise PromiseError(f"the promise is already {promise.status}")
        Promise.update(status="cancelled", evaluated_at=naive_utc(at or dt.datetime.now(dt.UTC))).where(
            Promise.id == promise_id).execute()
        tx.audit("promise.cancel", "promise", promise_id, account_id=promise.account_id,
                 changes={"status": ["open", "cancelled"], "reason": reason.strip()})
        refresh_promise_fact(promise.account_id)


def refresh_promise_fact(account_id: int) -> None:
    """Keep `account.promise_due_on` (the queue's promise tier) true: the earliest open
    promise, or the due date of a promise or installment that was missed after the last
    time anyone spoke to the debtor (so it is worked once, then drops back)."""
    account = Account.get_by_id(account_id)
    candidates = []
    open_due = (Promise.select(fn.MIN(Promise.due_on))
                .where(Promise.account == account_id, Promise.status == "open").scalar())
    if open_due:
        candidates.append(_date(open_due))
    missed = [p.due_on for p in Promise.select(Promise.due_on)
              .where(Promise.account == account_id, Promise.status.in_(["broken", "partial"]))]
    missed += [i.due_on for i in Installment.select(Installment.due_on).join(Plan)
               .where(Plan.account == account_id, Installment.status.in_(["broken", "partial"]))]
    for due_on in missed:
        # Missed since the last conversation: the customer has not been asked about it yet.
        if account.last_contact_at is None or _date(due_on) >= account.last_contact_at.date():
            candidates.append(_date(due_on))
    value = min(candidates) if candidates else None
    if value != account.promise_due_on:
        Account.update(promise_due_on=value).where(Account.id == account_id).execute()


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


@dataclass
class Evaluation:
    promises: dict[str, int]
    installments: dict[str, int]
    plans_broken: int
    accounts: int

    def summary(self) -> str:
        def part(counts: dict[str, int]) -> str:
            return ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "none due"

        return (f"promises: {part(self.promises)}; installments: {part(self.installments)}; "
                f"arrangements broken: {self.plans_broken}; accounts touched: {self.accounts}")


def evaluate(settings, actor: Actor, at: dt.datetime | None = None, *, account_ids: list[int] | None = None,
             batch: int = 500) -> Evaluation:
    """Judge every open promise and installment that is due (for these accounts, or the
    whole floor), in short transactions of `batch` accounts."""
    from db.scope import account_for, require_role

    if account_ids is None:
        require_role(actor, "system")
    else:
        for account_id in account_ids:
            account_for(actor, account_id)
    at = at or dt.datetime.now(dt.UTC)
    today = floor_today(settings, at)
    grace = dt.timedelta(days=settings.plans.grace_days)
    result = Evaluation({}, {}, 0, 0)
    if account_ids is None:
        due_promises = Promise.select(Promise.account).where(Promise.status == "open", Promise.due_on < today - grace)
        due_installments = (Installment.select(Plan.account).join(Plan)
                            .where(Plan.status == "active", Installment.status == "open",
                                   Installment.due_on < today - grace))
        ids = sorted({r.account_id for r in due_promises} | {r.plan.account_id for r in due_installments})
    else:
        ids = list(account_ids)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        with write_transaction(actor) as tx:
            for account_id in chunk:
                _evaluate_account(settings, tx, account_id, today, at, result)
            tx.audit("promises.evaluate", "account", None,
                     changes={"accounts": len(chunk), "day": today})
    return result


def _evaluate_account(settings, tx, account_id: int, today: dt.date, at: dt.datetime, result: Evaluation) -> None:
    from db.queue import refresh_accounts

    plans_cfg = settings.plans
    touched = False
    for promise in Promise.select().where(Promise.account == account_id, Promise.status == "open"):
        status = judge(promise.amount_minor, promise.paid_minor, promise.due_on, today,
                       grace_days=plans_cfg.grace_days, tolerance_percent=plans_cfg.tolerance_percent)
        if status:
            Promise.update(status=status, evaluated_at=naive_utc(at)).where(Promise.id == promise.id).execute()
            tx.audit(f"promise.{status}", "promise", promise.id, account_id=account_id,
                     changes={"status": ["open", status], "paid_minor": promise.paid_minor})
            result.promises[status] = result.promises.get(status, 0) + 1
            touched = True
    plan = Plan.get_or_none((Plan.account == account_id) & (Plan.status == "active"))
    if plan is not None:
        touched |= _evaluate_plan(settings, tx, plan, today, at, result)
    if touched:
        result.accounts += 1
        refresh_promise_fact(account_id)
        account = Account.get_by_id(account_id)
        if account.claimed_by_id is None:
            refresh_accounts(settings, [account_id], at)


def _evaluate_plan(settings, tx, plan: Plan, today: dt.date, at: dt.datetime, result: Evaluation) -> bool:
    cfg = settings.plans
    touched = False
    rows = list(Installment.select().where(Installment.plan == plan.id).order_by(Installment.number))
    for index, row in enumerate(rows):
        if row.status != "open":
            continue
        due = row.amount_minor + row.carried_minor
        status = judge(due, row.paid_minor, row.due_on, today, grace_days=cfg.grace_days,
                       tolerance_percent=cfg.tolerance_percent)
        if status is None:
            continue
        touched = True
        Installment.update(status=status).where(Installment.id == row.id).execute()
        row.status = status
        shortfall = max(due - row.paid_minor, 0)
        later = next((r for r in rows[index + 1:] if r.status == "open"), None)
        if shortfall and later is not None:
            # The schedule still has to add up: what was not paid is due with the next one.
            later.carried_minor += shortfall
            Installment.update(carried_minor=later.carried_minor).where(Installment.id == later.id).execute()
        tx.audit(f"installment.{status}", "installment", row.id, account_id=plan.account_id,
                 changes={"status": ["open", status], "paid_minor": row.paid_minor, "due_minor": due,
                          "carried_to": later.number if shortfall and later else None})
        result.installments[status] = result.installments.get(status, 0) + 1
    missed = sum(1 for r in rows if r.status in ("broken", "partial"))
    if missed != plan.missed_count:
        Plan.update(missed_count=missed).where(Plan.id == plan.id).execute()
    if missed >= cfg.missed_to_break:
        break_plan(settings, tx, plan, f"{missed} installments missed", at)
        result.plans_broken += 1
        touched = True
    elif all(r.status == "kept" for r in rows):
        from db.arrangements import complete_plan

        complete_plan(settings, tx, plan, at)
        touched = True
    return touched


def break_plan(settings, tx, plan: Plan, why: str, at: dt.datetime) -> None:
    """The arrangement is broken: its open installments are cancelled, the account goes
    back to the top of the queue (the promise tier) and the broken-arrangement letter is
    queued where the rules allow it."""
    from db.letter_queue import queue_letter

    Plan.update(status="broken").where(Plan.id == plan.id).execute()
    Installment.update(status="cancelled").where(Installment.plan == plan.id, Installment.status == "open").execute()
    account = Account.get_by_id(plan.account_id)
    if account.status == "arrangement":
        Account.update(status="open").where(Account.id == account.id).execute()
    Activity.create(account=account.id, kind="plan", started_at=naive_utc(at), note=f"Arrangement broken: {why}")
    tx.audit("plan.broken", "plan", plan.id, account_id=account.id,
             changes={"status": ["active", "broken"], "why": why})
    queue_letter(settings, tx, account.id, "broken-arrangement", {"plan_id": plan.id, "why": why}, at)


def statement_of(plan: Plan):
    from db.plans import Statement

    return Statement.from_json(json.loads(plan.statement)) if plan.statement else None
