"""The dunning run: once a day, queue the next letter of the configured sequence for every
account that has reached that letter's days-past-due threshold and has not had it.

An account gets at most one letter a run, and never the same template twice, so running
again on the same day queues nothing new. Holds, open arrangements and pending promises,
US validation periods and the compliance rules for letters (zero balance, closed, bad
address, cease, dispute, bankruptcy, breathing space, vulnerability, time-barred) all
keep a letter back; the run reports why, by reason.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from db.audit import Actor, write_transaction
from db.compliance import may_send_letter, rules_for
from db.database import is_postgres
from db.governor import account_facts
from db.letter_dates import validation_period_ends
from db.letter_queue import queue_letter
from db.models import Account, Address, Letter, Plan, Promise

BATCH = 500


@dataclass
class DunningResult:
    as_of: dt.date
    dry_run: bool
    considered: int = 0
    queued: Counter = field(default_factory=Counter)
    """Letters queued (or, in a dry run, that would be), by template."""
    held: Counter = field(default_factory=Counter)
    """Letters due but kept back, by reason."""
    waiting: int = 0
    """Accounts whose next letter is not due yet, or whose sequence is complete."""


def _days_past_due(account: Account, as_of: dt.date) -> int:
    start = account.delinquency_date or account.placed_on
    return (as_of - start).days


def _next_step(steps, country: str, had: set[str]):
    for step in steps:
        if step.countries and country not in step.countries:
            continue
        if step.template not in had:
            return step
    return None


def _why_held(settings, account: Account, address: Address | None, step, as_of: dt.date, at: dt.datetime,
              promised: set[int], pending_plan: set[int]) -> str | None:
    """The reason the due letter may not go, in a few words (for the run's report)."""
    if account.status == "arrangement":
        return "open arrangement"
    if account.id in pending_plan:
        return "arrangement awaiting approval"
    if account.status == "legal":
        return "with legal"
    if account.id in promised:
        return "promise to pay pending"
    if account.validation_sent_at and step.template != "validation-notice":
        ends = validation_period_ends(account.validation_sent_at.date())
        if as_of <= ends:
            return "validation period"
    decision = may_send_letter(account_facts(account, address), step.template, at,
                               rules_for(settings.compliance, account.jurisdiction))
    if not decision.allowed:
        return decision.reasons[0].code.replace("_", " ")
    return None


def dunning_run(settings, actor: Actor, as_of: dt.date, *, dry_run: bool = False,
                at: dt.datetime | None = None, progress: Callable[[int], None] | None = None) -> DunningResult:
    """Queue the day's dunning letters (or, with `dry_run`, only count them)."""
    from db.scope import require_role

    require_role(actor, "system")
    steps = settings.letters.sequence
    result = DunningResult(as_of, dry_run)
    if not steps:
        return result
    at = at or dt.datetime.combine(as_of, dt.time(12), dt.UTC)
    threshold = min(step.days_past_due for step in steps)
    latest_start = as_of - dt.timedelta(days=threshold)
    base = (Account.select(Account.id)
            .where(Account.status.not_in(["settled", "paid", "closed", "recalled"]),
                   Account.balance_minor > 0,
                   ((Account.delinquency_date.is_null(False) & (Account.delinquency_date <= latest_start))
                    | (Account.delinquency_date.is_null() & (Account.placed_on <= latest_start))))
            .order_by(Account.id))
    last_id = 0
    while True:
        ids = [row.id for row in base.where(Account.id > last_id).limit(BATCH)]
        if not ids:
            break
        last_id = ids[-1]
        _run_batch(settings, actor, ids, steps, as_of, at, dry_run, result)
        result.considered += len(ids)
        if progress:
            progress(len(ids))
    return result


def _run_batch(settings, actor, ids, steps, as_of, at, dry_run, result) -> None:
    sequence = {step.template for step in steps}

    def decide() -> list[tuple[Account, str]]:
        query = Account.select().where(Account.id.in_(ids)).order_by(Account.id)
        if is_postgres() and not dry_run:
            query = query.for_update()  # a second run at the same moment waits, then sees our letters
        accounts = list(query)
        had: dict[int, set[str]] = {}
        last_sent: dict[int, dt.date] = {}
        for account_id, template, requested_at in (
                Letter.select(Letter.account, Letter.template, Letter.requested_at)
                .where(Letter.account.in_(ids), Letter.status != "cancelled").tuples()):
            had.setdefault(account_id, set()).add(template)
            if template in sequence:
                day = requested_at.date()
                last_sent[account_id] = max(day, last_sent.get(account_id, day))
        addresses: dict[int, Address] = {}
        for address in (Address.select().where(Address.debtor.in_([a.debtor_id for a in accounts]))
                        .order_by(Address.is_primary.desc(), Address.id)):
            addresses.setdefault(address.debtor_id, address)
        promised = {row[0] for row in Promise.select(Promise.account)
                    .where(Promise.account.in_(ids), Promise.status == "open").tuples()}
        pending = {row[0] for row in Plan.select(Plan.account)
                   .where(Plan.account.in_(ids), Plan.status == "pending_approval").tuples()}
        due = []
        for account in accounts:
            step = _next_step(steps, account.jurisdiction.partition("-")[0], had.get(account.id, set()))
            if step is None or _days_past_due(account, as_of) < step.days_past_due:
                result.waiting += 1
                continue
            previous = last_sent.get(account.id)
            if previous is not None and (as_of - previous).days < settings.letters.days_between:
                result.waiting += 1  # a letter of the sequence went recently: space them out
                continue
            why = _why_held(settings, account, addresses.get(account.debtor_id), step, as_of, at, promised, pending)
            if why:
                result.held[why] += 1
                continue
            due.append((account, step.template))
        return due

    if dry_run:
        for _account, template in decide():
            result.queued[template] += 1
        return
    with write_transaction(actor) as tx:
        due = decide()
        for account, template in due:
            letter = queue_letter(settings, tx, account.id, template, {"dunning": as_of.isoformat(),
                                                                      "sent_on": as_of.isoformat()}, at)
            if letter is not None:
                result.queued[template] += 1
        tx.audit("letters.dunning_batch", "letter", None,
                 changes={"as_of": as_of, "accounts": len(ids), "queued": len(due)})
