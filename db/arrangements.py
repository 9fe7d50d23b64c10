"""Arrangements: saving a plan from the calculator as a plan with its installments, in one
transaction with its activity and the plan-confirmation letter; plans outside the client's
policy wait for a team lead; completed plans settle what they were agreed to settle.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from db.audit import Actor, write_transaction
from db.compliance import naive_utc
from db.letter_queue import queue_letter
from db.ledger import insert_entry
from db.models import Account, Activity, Approval, Client, Installment, Officer, Plan, Promise
from db.plans import PlanRequest, Policy, Schedule, Statement, plan, policy_breaches
from db.promises import floor_today, refresh_promise_fact
from db.scope import account_for


def money_formatter(settings, currency: str):
    """Amounts in the words written to the activity and approval rows: "$1,234.56"."""
    from db.money import format_money

    return lambda minor: format_money(minor, currency, settings.locale.locale)


class ArrangementError(ValueError):
    """A plan that cannot be saved; the message says what to change."""


@dataclass
class SavedPlan:
    plan: Plan
    schedule: Schedule
    breaches: list[str]
    approval: Approval | None
    """Set when the plan waits for a team lead."""


def approval_breaches(schedule: Schedule, policy: Policy, officer_limit_minor: int, today: dt.date,
                      format_money=str) -> list[str]:
    """Why this plan would need a team lead: the client's policy, and a discount above the
    officer's own limit."""
    out = policy_breaches(schedule, policy, today, format_money=format_money)
    if schedule.discount_minor > officer_limit_minor:
        out.append(f"a discount of {format_money(schedule.discount_minor)} is above your limit of "
                   f"{format_money(officer_limit_minor)}")
    return out


@dataclass
class PlanContext:
    """What the plan calculator screen needs to check a plan as the officer types."""

    account_id: int
    reference: str
    debtor: str
    currency: str
    balance_minor: int
    policy: Policy
    officer_limit_minor: int
    today: dt.date
    statement: Statement | None
    """The last statement taken on this account, to start from."""
    live_plan: str | None
    """"active" or "pending approval" when the account already has a plan."""


def plan_context(settings, actor: Actor, account_id: int, at: dt.datetime) -> PlanContext:
    from db.models import Debtor

    account = account_for(actor, account_id, ArrangementError)
    debtor = Debtor.get_by_id(account.debtor_id)
    officer = Officer.get_or_none(Officer.id == actor.officer_id) if actor.officer_id else None
    last = (Plan.select(Plan.statement).where(Plan.account == account_id, Plan.statement.is_null(False))
            .order_by(Plan.id.desc()).first())
    live = Plan.get_or_none((Plan.account == account_id) & Plan.status.in_(["active", "pending_approval"]))
    return PlanContext(account.id, account.reference, f"{debtor.first_name} {debtor.last_name}", account.currency,
                       account.balance_minor, Policy.of_client(Client.get_by_id(account.client_id)),
                       officer.approval_limit_minor if officer else 0, floor_today(settings, at),
                       Statement.from_json(json.loads(last.statement)) if last else None,
                       live.status.replace("_", " ") if live else None)


def save_plan(settings, actor: Actor, account_id: int, request: PlanRequest, *, statement: Statement | None = None,
              at: dt.datetime | None = None, format_money=None) -> SavedPlan:
    """Save the plan: active at once when it is inside policy (or a team lead saves it),
    otherwise pending a team lead's approval. A deposit becomes a promise due today."""
    at = at or dt.datetime.now(dt.UTC)
    today = floor_today(settings, at)
    schedule = plan(request)  # raises PlanError with what to change
    if request.first_due < today:
        raise ArrangementError(f"the first payment date {request.first_due:%d %b %Y} has passed")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, ArrangementError)
        format_money = format_money or money_formatter(settings, account.currency)
        if request.amount_due_minor > account.balance_minor:
            raise ArrangementError(f"the plan covers {format_money(request.amount_due_minor)}, more than the balance "
                                   f"of {format_money(account.balance_minor)}")
        live = Plan.get_or_none((Plan.account == account_id) & Plan.status.in_(["active", "pending_approval"]))
        if live is not None:
            raise ArrangementError(f"the account already has a plan ({live.status.replace('_', ' ')}): "
                                   f"cancel it before agreeing a new one")
        if account.status in ("settled", "paid", "closed", "recalled"):
            raise ArrangementError(f"the account is {account.status}")
        officer = Officer.get_or_none(Officer.id == actor.officer_id) if actor.officer_id else None
        breaches = approval_breaches(schedule, Policy.of_client(Client.get_by_id(account.client_id)),
                                     officer.approval_limit_minor if officer else 0, today, format_money)
        needs_approval = bool(breaches) and actor.role not in ("team_lead", "admin")
        row = Plan.create(
            account=account_id, officer=actor.officer_id, frequency=request.frequency,
            status="pending_approval" if needs_approval else "active",
            amount_due_minor=request.amount_due_minor, deposit_minor=request.deposit_minor,
            discount_basis_points=int(request.discount_percent * 100), apr_basis_points=int(request.apr_percent * 100),
            settled_minor=schedule.settled_minor, created_at=naive_utc(at),
            approved_by=None if needs_approval or not breaches else actor.officer_id,
            statement=json.dumps(statement.to_json()) if statement is not None else None)
        Installment.insert_many([
            {"plan": row.id, "number": i.number, "due_on": i.due, "amount_minor": i.amount_minor,
             "interest_minor": i.interest_minor, "principal_minor": i.principal_minor}
            for i in schedule.installments]).execute()
        summary = (f"{len(schedule.installments)} x {format_money(schedule.regular_minor)} {request.frequency} "
                   f"from {request.first_due:%d %b %Y}")
        if schedule.discount_minor:
            summary += f", settling for {format_money(schedule.settled_minor)}"
        Activity.create(account=account_id, kind="plan", officer=actor.officer_id, started_at=naive_utc(at),
                        note=("Plan proposed, awaiting approval: " if needs_approval else "Plan agreed: ") + summary)
        tx.audit("plan.create", "plan", row.id, account_id=account_id,
                 changes={"status": row.status, "frequency": request.frequency,
                          "amount_due_minor": request.amount_due_minor, "settled_minor": schedule.settled_minor,
                          "installments": len(schedule.installments), "breaches": breaches})
        approval = None
        if needs_approval:
            approval = Approval.create(
                kind="settlement" if schedule.discount_minor else "plan_outside_policy", account=account_id,
                requested_by=actor.officer_id, requested_at=naive_utc(at),
                amount_minor=schedule.discount_minor or schedule.financed_minor,
                payload=json.dumps({"plan_id": row.id, "breaches": breaches, "summary": summary}))
            tx.audit("approval.request", "approval", approval.id, account_id=account_id,
                     changes={"kind": approval.kind, "plan_id": row.id})
        else:
            activate(settings, tx, row, at)
    return SavedPlan(row, schedule, breaches, approval)


def activate(settings, tx, row: Plan, at: dt.datetime) -> None:
    """The plan is live: the account is on an arrangement, the deposit is a promise due
    today, and the plan-confirmation letter is queued."""
    Plan.update(status="active").where(Plan.id == row.id).execute()
    account = Account.get_by_id(row.account_id)
    if account.status == "open":
        Account.update(status="arrangement").where(Account.id == account.id).execute()
    if row.deposit_minor:
        Promise.create(account=account.id, officer=row.officer_id, amount_minor=row.deposit_minor,
                       due_on=floor_today(settings, at), created_at=naive_utc(at))
    tx.audit("plan.activate", "plan", row.id, account_id=account.id, changes={"status": "active"})
    queue_letter(settings, tx, account.id, "plan-confirmation", {"plan_id": row.id}, at)
    refresh_promise_fact(account.id)


def complete_plan(settings, tx, row: Plan, at: dt.datetime) -> None:
    """Every installment kept: the plan is completed, and an agreed discount is posted as
    a settlement that clears what is left of the settled balance."""
    Plan.update(status="completed").where(Plan.id == row.id).execute()
    account = Account.get_by_id(row.account_id)
    discount = row.amount_due_minor - (row.settled_minor if row.settled_minor is not None else row.amount_due_minor)
    settle = min(discount, account.balance_minor)
    status = account.status
    if settle > 0:
        insert_entry(tx, account, "settlement", -settle, effective_date=floor_today(settings, at),
                     memo=f"settlement discount of plan {row.id}", batch=f"settle/{row.id}")
        status = "settled" if account.balance_minor <= 0 else "open"
    elif account.balance_minor <= 0:
        status = "paid"
    elif status == "arrangement":
        status = "open"
    if status != account.status:
        Account.update(status=status).where(Account.id == account.id).execute()
    Activity.create(account=account.id, kind="plan", started_at=naive_utc(at), note="Plan completed: every installment paid")
    tx.audit("plan.complete", "plan", row.id, account_id=account.id,
             changes={"status": ["active", "completed"], "settlement_minor": settle})


def cancel_plan(settings, actor: Actor, plan_id: int, *, reason: str, at: dt.datetime | None = None) -> None:
    """End a live or pending plan (the customer asked for a new one, or it was agreed in error)."""
    at = at or dt.datetime.now(dt.UTC)
    if not reason.strip():
        raise ArrangementError("say why the plan is cancelled")
    with write_transaction(actor) as tx:
        row = Plan.get_or_none(Plan.id == plan_id)
        if row is None:
            raise ArrangementError(f"there is no plan {plan_id}")
        account = account_for(actor, row.account_id, ArrangementError)
        if row.status not in ("active", "pending_approval"):
            raise ArrangementError(f"the plan is already {row.status}")
        Plan.update(status="cancelled").where(Plan.id == plan_id).execute()
        Installment.update(status="cancelled").where(Installment.plan == plan_id, Installment.status == "open").execute()
        Approval.update(status="refused", decided_by=actor.officer_id, decided_at=naive_utc(at),
                        reason=f"plan cancelled: {reason.strip()}").where(
            Approval.status == "pending", Approval.account == account.id,
            Approval.payload.contains(f'"plan_id": {plan_id},')).execute()
        if account.status == "arrangement":
            Account.update(status="open").where(Account.id == account.id).execute()
        Activity.create(account=account.id, kind="plan", officer=actor.officer_id, started_at=naive_utc(at),
                        note=f"Plan cancelled: {reason.strip()}")
        tx.audit("plan.cancel", "plan", plan_id, account_id=account.id,
                 changes={"status": [row.status, "cancelled"], "reason": reason.strip()})
        refresh_promise_fact(account.id)
