"""Decisions a team lead makes: plans outside policy, settlements and write-offs above an
officer's limit. Requests wait in the approval queue; approving one carries it out (the
plan goes live, the write-off is posted) in the same transaction as the decision, and
every decision is audited."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from db.audit import Actor, write_transaction
from db.compliance import naive_utc
from db.ledger import insert_entry
from db.models import Account, Activity, Approval, Debtor, Installment, Officer, Plan
from db.promises import floor_today
from db.scope import account_for

KIND_LABELS = {"settlement": "Settlement", "write_off": "Write-off", "plan_outside_policy": "Plan outside policy",
               "override": "Override", "legal_referral": "Legal referral"}


class ApprovalError(ValueError):
    """A request or decision that cannot be made; the message says why."""


def request_write_off(settings, actor: Actor, account_id: int, amount_minor: int, *, reason: str,
                      at: dt.datetime | None = None, format_money=None) -> Approval:
    """Write off part or all of the balance: posted at once within the officer's approval
    limit, else sent to a team lead."""
    at = at or dt.datetime.now(dt.UTC)
    if amount_minor <= 0:
        raise ApprovalError("the write-off must be more than zero")
    if not reason.strip():
        raise ApprovalError("say why the balance should be written off")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, ApprovalError)
        from db.arrangements import money_formatter

        format_money = format_money or money_formatter(settings, account.currency)
        if amount_minor > account.balance_minor:
            raise ApprovalError(f"{format_money(amount_minor)} is more than the balance of "
                                f"{format_money(account.balance_minor)}")
        officer = Officer.get_or_none(Officer.id == actor.officer_id) if actor.officer_id else None
        limit = officer.approval_limit_minor if officer else 0
        within = amount_minor <= limit or actor.role in ("team_lead", "admin")
        now = naive_utc(at)
        approval = Approval.create(
            kind="write_off", account=account_id, requested_by=actor.officer_id, requested_at=now,
            amount_minor=amount_minor, payload=json.dumps({"reason": reason.strip()}),
            status="approved" if within else "pending",
            decided_by=actor.officer_id if within else None, decided_at=now if within else None,
            reason="within the requester's limit" if within else None)
        tx.audit("approval.request", "approval", approval.id, account_id=account_id,
                 changes={"kind": "write_off", "amount_minor": amount_minor, "status": approval.status})
        Activity.create(account=account_id, kind="note", officer=actor.officer_id, started_at=now,
                        note=(f"Write-off of {format_money(amount_minor)} " +
                              ("posted" if within else "sent for approval") + f": {reason.strip()}"))
        if within:
            _post_write_off(settings, tx, account, approval, at)
    return approval


def _post_write_off(settings, tx, account: Account, approval: Approval, at: dt.datetime) -> None:
    amount = min(approval.amount_minor, account.balance_minor)
    if amount <= 0:
        raise ApprovalError("nothing is left to write off")
    insert_entry(tx, account, "write_off", -amount, effective_date=floor_today(settings, at),
                 memo=json.loads(approval.payload).get("reason"), batch=f"approval/{approval.id}")
    if account.balance_minor <= 0 and account.status in ("open", "arrangement"):
        Account.update(status="closed").where(Account.id == account.id).execute()
        tx.audit("account.status", "account", account.id, account_id=account.id,
                 changes={"status": [account.status, "closed"]})


def decide(settings, actor: Actor, approval_id: int, approve: bool, *, reason: str = "",
           at: dt.datetime | None = None) -> Approval:
    """A team lead (of the account's team) or an admin approves or refuses a request; a
    refusal needs a reason. Nobody decides their own request."""
    from db.arrangements import activate

    at = at or dt.datetime.now(dt.UTC)
    if actor.role not in ("team_lead", "admin"):
        raise PermissionError(f"{actor.name} ({actor.role}) may not decide approvals: team leads only")
    if not approve and not reason.strip():
        raise ApprovalError("say why the request is refused: the officer will read it")
    with write_transaction(actor) as tx:
        approval = Approval.get_or_none(Approval.id == approval_id)
        if approval is None:
            raise ApprovalError(f"there is no request {approval_id}")
        if approval.status != "pending":
            raise ApprovalError(f"that request was already {approval.status}")
        if approval.requested_by_id is not None and approval.requested_by_id == actor.officer_id:
            raise ApprovalError("you cannot decide your own request: another team lead must")
        account = account_for(actor, approval.account_id, ApprovalError)
        now = naive_utc(at)
        status = "approved" if approve else "refused"
        Approval.update(status=status, decided_by=actor.officer_id, decided_at=now,
                        reason=reason.strip() or None).where(Approval.id == approval_id).execute()
        payload = json.loads(approval.payload or "{}")
        plan_id = payload.get("plan_id")
        if approval.kind in ("settlement", "plan_outside_policy") and plan_id:
            row = Plan.get_by_id(plan_id)
            if row.status != "pending_approval":
                raise ApprovalError(f"the plan is {row.status} now: nothing to decide")
            if approve:
                Plan.update(approved_by=actor.officer_id).where(Plan.id == plan_id).execute()
                activate(settings, tx, row, at)
            else:
                Plan.update(status="cancelled").where(Plan.id == plan_id).execute()
                Installment.update(status="cancelled").where(Installment.plan == plan_id).execute()
        elif approval.kind == "write_off" and approve:
            _post_write_off(settings, tx, account, approval, at)
        elif approval.kind == "legal_referral" and approve:
            _refer(settings, tx, actor, account, payload, at)
        label = KIND_LABELS.get(approval.kind, approval.kind)
        Activity.create(account=account.id, kind="note", officer=actor.officer_id, started_at=now,
                        note=f"{label} {status}" + (f": {reason.strip()}" if reason.strip() else ""))
        tx.audit(f"approval.{'approve' if approve else 'refuse'}", "approval", approval_id, account_id=account.id,
                 changes={"status": ["pending", status], "kind": approval.kind, "reason": reason.strip() or None})
    return Approval.get_by_id(approval_id)


def _refer(settings, tx, actor: Actor, account: Account, payload: dict, at: dt.datetime) -> None:
    """A lead approves an officer's referral: the case enters the stage, if the rules still
    allow legal action and the case has not moved meanwhile."""
    from db.legal import LegalError, _blocked, enter_stage, label, open_case_of

    case = open_case_of(account.id)
    stage = payload.get("to")
    if case is None or case.id != payload.get("case_id"):
        raise ApprovalError("the legal case has closed since the referral was asked for")
    stages = settings.legal.stages
    if stage not in stages or stages.index(stage) != stages.index(case.stage) + 1:
        raise ApprovalError(f"the case is at {label(case.stage)} now: refer it again from there")
    blocked = _blocked(settings, account.id, at)
    if blocked:
        raise ApprovalError("no legal action: " + "; ".join(blocked))
    try:
        enter_stage(settings, tx, case, stage, at, note=payload.get("note", ""),
                    court_reference=payload.get("court_reference"), officer_id=actor.officer_id)
    except LegalError as exc:
        raise ApprovalError(str(exc)) from None


@dataclass
class PendingApproval:
    id: int
    kind: str
    account_id: int
    reference: str
    debtor: str
    currency: str
    amount_minor: int | None
    requested_by: str
    requested_at: dt.datetime
    detail: str


def pending_approvals(actor: Actor, *, limit: int = 200) -> list[PendingApproval]:
    """What waits for this team lead (their team's accounts; an admin sees every team),
    oldest first."""
    query = (Approval.select(Approval, Account.reference, Account.currency, Account.team, Debtor.first_name,
                             Debtor.last_name, Officer.username)
             .join(Account, on=(Approval.account == Account.id))
             .join(Debtor, on=(Account.debtor == Debtor.id))
             .join_from(Approval, Officer, on=(Approval.requested_by == Officer.id))
             .where(Approval.status == "pending"))
    if actor.role != "admin":
        query = query.where(Account.team == actor.team_id)
    rows = []
    for a in query.order_by(Approval.requested_at, Approval.id).limit(limit):
        payload = json.loads(a.payload or "{}")
        detail = payload.get("summary") or payload.get("reason") or ""
        if payload.get("breaches"):
            detail += " | " + "; ".join(payload["breaches"])
        rows.append(PendingApproval(a.id, a.kind, a.account_id, a.account.reference,
                                    f"{a.account.debtor.first_name} {a.account.debtor.last_name}",
                                    a.account.currency, a.amount_minor, a.requested_by.username, a.requested_at,
                                    detail))
    return rows
