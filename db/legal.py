"""Legal escalation: a case per account moving through the configured stages (`legal.stages`:
review, letter before claim, referred to the solicitor, claim issued, judgment,
enforcement, closed), one stage at a time.

- A case opens, and each stage is entered, only while `may_escalate` allows it: never on a
  time-barred debt, an unverified dispute, a bankruptcy, a deceased debtor or during
  breathing space. Closing is always possible.
- Entering `legal.approval_to` (referring the debt) needs a team lead: an officer's step
  becomes an approval request, and the lead's approval enters the stage.
- A stage may queue its letter (`legal.letters`, by the debtor's country); the letter is
  recorded with the stage. Court and solicitor costs go to the ledger's `costs` bucket.
- While a case is open the account's status is `legal` (the dunning run leaves it alone);
  closing gives the account back the status it had.
Every step is audited.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field

from db.audit import Actor, write_transaction
from db.compliance import naive_utc
from db.models import Account, Activity, Approval, LegalCase, LegalStep, Officer
from db.scope import account_for, require_role

STAGE_LABELS = {
    "review": "Review", "letter_before_claim": "Letter before claim", "referred": "Referred to solicitor",
    "claim_issued": "Claim issued", "judgment": "Judgment", "enforcement": "Enforcement", "closed": "Closed",
}


class LegalError(ValueError):
    """A step the case cannot take; the message says why."""


def label(stage: str) -> str:
    return STAGE_LABELS.get(stage, stage.replace("_", " ").capitalize())


def open_case_of(account_id: int) -> LegalCase | None:
    return (LegalCase.select().where(LegalCase.account == account_id, LegalCase.closed_at.is_null())
            .order_by(LegalCase.id.desc()).first())


def _blocked(settings, account_id: int, at: dt.datetime) -> list[str]:
    from db.governor import check_escalate

    decision = check_escalate(settings, account_id, at)
    return [] if decision.allowed else [r.text for r in decision.reasons]


def open_case(settings, actor: Actor, account_id: int, *, note: str, at: dt.datetime | None = None) -> LegalCase:
    """Open a case at the first stage (for review), if the rules allow legal action."""
    at = at or dt.datetime.now(dt.UTC)
    if not note.strip():
        raise LegalError("say why the account should go to legal")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, LegalError)
        existing = open_case_of(account_id)
        if existing is not None:
            raise LegalError(f"{account.reference} is already with legal ({label(existing.stage)})")
        blocked = _blocked(settings, account_id, at)
        if blocked:
            raise LegalError("no legal action: " + "; ".join(blocked))
        now = naive_utc(at)
        first = settings.legal.stages[0]
        case = LegalCase.create(account=account_id, stage=first, opened_at=now, stage_changed_at=now,
                                previous_status=account.status)
        LegalStep.create(case=case.id, stage=first, entered_at=now, officer=actor.officer_id, note=note.strip())
        Account.update(status="legal").where(Account.id == account_id).execute()
        Activity.create(account=account_id, kind="note", officer=actor.officer_id, started_at=now,
                        note=f"Legal: opened for {label(first).lower()}: {note.strip()}")
        tx.audit("legal.open", "legal_case", case.id, account_id=account_id,
                 changes={"stage": first, "status": [account.status, "legal"], "note": note.strip()})
    return case


def advance(settings, actor: Actor, account_id: int, to: str, *, note: str = "", court_reference: str | None = None,
            at: dt.datetime | None = None) -> LegalCase | Approval:
    """Move the account's case to stage `to`: the next stage, or the last (closing it).
    Returns the case, or the approval request an officer's referral waits on."""
    at = at or dt.datetime.now(dt.UTC)
    stages = settings.legal.stages
    if to not in stages:
        raise LegalError(f"unknown stage {to!r}: use one of {', '.join(stages)}")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, LegalError)
        case = open_case_of(account_id)
        if case is None:
            raise LegalError(f"{account.reference} has no open legal case: open one first")
        closing = to == stages[-1]
        if not closing:
            following = stages[stages.index(case.stage) + 1] if case.stage in stages[:-1] else None
            if to != following:
                raise LegalError(f"the case is at {label(case.stage)}: its next stage is "
                                 f"{label(following) if following else 'none'}, not {label(to)}")
            blocked = _blocked(settings, account_id, at)
            if blocked:
                raise LegalError("no further legal action: " + "; ".join(blocked))
        if to == settings.legal.approval_to and actor.role not in ("team_lead", "admin", "system"):
            if Approval.select().where(Approval.account == account_id, Approval.kind == "legal_referral",
                                       Approval.status == "pending").exists():
                raise LegalError("a referral is already waiting for a team lead")
            approval = Approval.create(kind="legal_referral", account=account_id, requested_by=actor.officer_id,
                                       requested_at=naive_utc(at),
                                       payload=json.dumps({"case_id": case.id, "to": to, "summary":
                                                           f"Refer to solicitor: {note.strip() or 'no note'}",
                                                           "note": note.strip(), "court_reference": court_reference}))
            tx.audit("approval.request", "approval", approval.id, account_id=account_id,
                     changes={"kind": "legal_referral", "to": to})
            return approval
        enter_stage(settings, tx, case, to, at, note=note, court_reference=court_reference,
                    officer_id=actor.officer_id)
    return LegalCase.get_by_id(case.id)


def enter_stage(settings, tx, case: LegalCase, to: str, at: dt.datetime, *, note: str = "",
                court_reference: str | None = None, officer_id: int | None = None) -> LegalStep:
    """Inside `tx`: the case enters `to` (its letter queued, the account's status given back
    on closing). Called by `advance` and by a team lead's approval of a referral."""
    from db.letter_queue import queue_letter

    now = naive_utc(at)
    closing = to == settings.legal.stages[-1]
    account = Account.get_by_id(case.account_id)
    letter = None
    template = _letter_for(settings, to, account)
    if template:
        letter = queue_letter(settings, tx, account.id, template, {}, at)
    fields = {LegalCase.stage: to, LegalCase.stage_changed_at: now}
    if court_reference:
        fields[LegalCase.court_reference] = court_reference.strip()
    if to == "referred":
        fields[LegalCase.solicitor] = settings.letters.solicitor.name
    if closing:
        fields[LegalCase.closed_at] = now
    LegalCase.update(fields).where(LegalCase.id == case.id).execute()
    step = LegalStep.create(case=case.id, stage=to, entered_at=now, officer=officer_id, note=note.strip() or None,
                            letter=letter.id if letter else None)
    status = account.status
    if closing and account.status == "legal":
        status = case.previous_status if case.previous_status not in (None, "legal") else "open"
        Account.update(status=status).where(Account.id == account.id).execute()
    Activity.create(account=account.id, kind="note", officer=officer_id, started_at=now,
                    note=f"Legal: {label(to)}" + (f" ({template} queued)" if letter else "")
                    + (f": {note.strip()}" if note.strip() else ""))
    tx.audit("legal.stage", "legal_case", case.id, account_id=account.id,
             changes={"stage": [case.stage, to], "letter": template if letter else None,
                      **({"status": [account.status, status]} if status != account.status else {})})
    return step


def _letter_for(settings, stage: str, account: Account) -> str | None:
    choices = settings.legal.letters.get(stage) or {}
    country = account.jurisdiction.split("-")[0]
    return choices.get(country) or choices.get("*")


def post_cost(settings, actor: Actor, account_id: int, amount_minor: int, *, what: str,
              at: dt.datetime | None = None):
    """A court fee or solicitor's cost, added to the debt in the `costs` bucket (team leads)."""
    from db.ledger import insert_entry
    from db.promises import floor_today

    require_role(actor, "team_lead", "system")
    at = at or dt.datetime.now(dt.UTC)
    if amount_minor <= 0:
        raise LegalError("a cost must be more than zero")
    if not what.strip():
        raise LegalError("say what the cost is for (court fee, solicitor's fee, …)")
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, LegalError)
        case = open_case_of(account_id)
        if case is None:
            raise LegalError(f"{account.reference} has no open legal case: costs belong to a case")
        entry = insert_entry(tx, account, "fee", amount_minor, bucket="costs", effective_date=floor_today(settings, at),
                             memo=f"legal: {what.strip()}", batch=f"legal/{case.id}", posted_at=naive_utc(at))
        tx.audit("legal.cost", "ledger_entry", entry.id, account_id=account_id,
                 changes={"amount_minor": amount_minor, "what": what.strip(), "case": case.id})
    return entry


@dataclass
class CaseView:
    id: int
    stage: str
    since: dt.datetime
    court_reference: str | None
    solicitor: str | None
    costs_minor: int
    next_stage: str | None
    blocked: list[str]
    referral_waiting: bool
    steps: list[tuple[dt.datetime, str, str, str, str]] = field(default_factory=list)
    """(entered at, stage label, by, note, letter template), oldest first."""

    def line(self) -> str:
        text = f"Legal: {label(self.stage)} since {self.since:%d %b %Y}"
        if self.court_reference:
            text += f", claim {self.court_reference}"
        if self.referral_waiting:
            text += "; referral waiting for a team lead"
        return text


def case_view(settings, actor: Actor, account_id: int, at: dt.datetime | None = None) -> CaseView | None:
    """The account's open case (else its latest), as the account screen and `legal show` give it."""
    from peewee import JOIN, fn

    from db.models import LedgerEntry, Letter

    account_for(actor, account_id)
    case = open_case_of(account_id) or (LegalCase.select().where(LegalCase.account == account_id)
                                        .order_by(LegalCase.id.desc()).first())
    if case is None:
        return None
    stages = settings.legal.stages
    steps = []
    for step in (LegalStep.select(LegalStep, Officer.username, Letter.template)
                 .join(Officer, JOIN.LEFT_OUTER, on=(LegalStep.officer == Officer.id))
                 .join_from(LegalStep, Letter, JOIN.LEFT_OUTER, on=(LegalStep.letter == Letter.id))
                 .where(LegalStep.case == case.id).order_by(LegalStep.entered_at, LegalStep.id).objects()):
        steps.append((step.entered_at, label(step.stage), getattr(step, "username", None) or "",
                      step.note or "", getattr(step, "template", None) or ""))
    costs = (LedgerEntry.select(fn.COALESCE(fn.SUM(LedgerEntry.amount_minor), 0))
             .where(LedgerEntry.batch == f"legal/{case.id}").scalar())
    following = None
    if case.closed_at is None and case.stage in stages[:-1]:
        following = stages[stages.index(case.stage) + 1]
    waiting = Approval.select().where(Approval.account == account_id, Approval.kind == "legal_referral",
                                      Approval.status == "pending").exists()
    blocked = _blocked(settings, account_id, at or dt.datetime.now(dt.UTC)) if case.closed_at is None else []
    return CaseView(case.id, case.stage, case.stage_changed_at, case.court_reference, case.solicitor, int(costs or 0),
                    following, blocked, waiting, steps)


def legal_counts(team_id: int | None) -> dict[str, int]:
    """Open cases by stage (the floor's line), for a team or every team."""
    from peewee import fn

    query = (LegalCase.select(LegalCase.stage, fn.COUNT(LegalCase.id)).join(Account, on=(LegalCase.account == Account.id))
             .where(LegalCase.closed_at.is_null()))
    if team_id is not None:
        query = query.where(Account.team == team_id)
    return dict(query.group_by(LegalCase.stage).tuples())
