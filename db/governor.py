"""The compliance governor over the database: loads an account's facts, asks the rules in
`db.compliance`, and records team leads' audited overrides."""

from __future__ import annotations

import datetime as dt
import json
from typing import Iterable

from peewee import JOIN

from db.audit import Actor, write_transaction
from db.compliance import (
    OVERRIDABLE, AccountFacts, CallEvent, Decision, PhoneFacts, Rules, may_call, may_escalate,
    may_send_letter, naive_utc, rules_for,
)
from db.database import utcnow
from db.models import Account, Activity, Address, Approval, Phone

HISTORY_DAYS = 32
"""How far back calls can matter: the longest frequency window (30 days) and a margin."""


def account_facts(account: Account, address: Address | None) -> AccountFacts:
    return AccountFacts(
        id=account.id, jurisdiction=account.jurisdiction, status=account.status,
        balance_minor=account.balance_minor, dispute=account.dispute,
        dispute_verified_at=account.dispute_verified_at, cease=account.cease,
        bankruptcy=account.bankruptcy, deceased=account.deceased, vulnerable=account.vulnerable,
        attorney_represented=account.attorney_represented,
        breathing_space_until=account.breathing_space_until,
        address_zone=address.time_zone if address else None,
        address_country=address.country if address else None,
        address_bad=bool(address and address.status == "bad"),
        delinquency_date=account.delinquency_date, last_payment_date=account.last_payment_date,
        last_acknowledged_date=account.last_acknowledged_date, placed_on=account.placed_on,
        validation_sent_at=account.validation_sent_at,
    )


def phone_facts(phone: Phone) -> PhoneFacts:
    return PhoneFacts(phone.id, phone.number, phone.kind, phone.status, phone.employer_forbids_calls)


def primary_address(debtor_id: int) -> Address | None:
    return (Address.select().where(Address.debtor == debtor_id)
            .order_by(Address.is_primary.desc(), Address.id).first())


def call_history(account_ids: Iterable[int], at: dt.datetime) -> dict[int, list[CallEvent]]:
    """Calls of the last weeks for each account, from one query."""
    ids = list(account_ids)
    since = naive_utc(at) - dt.timedelta(days=HISTORY_DAYS)
    history: dict[int, list[CallEvent]] = {i: [] for i in ids}
    if not ids:
        return history
    rows = (Activity.select(Activity.account, Activity.started_at, Activity.phone, Phone.kind,
                            Activity.counts_as_attempt, Activity.kind, Activity.debtor_requested)
            .join(Phone, join_type=JOIN.LEFT_OUTER, on=(Activity.phone == Phone.id))
            .where(Activity.account.in_(ids), Activity.started_at >= since,
                   Activity.kind.in_(["call_attempt", "conversation"]))
            .tuples())
    for account_id, started, phone_id, kind, attempt, activity_kind, requested in rows:
        if isinstance(started, str):
            started = dt.datetime.fromisoformat(started)
        history[account_id].append(CallEvent(started, phone_id, kind, bool(attempt),
                                             activity_kind == "conversation", bool(requested)))
    return history


def active_overrides(account_id: int, at: dt.datetime) -> frozenset[str]:
    """Reason codes a team lead has lifted for this account, still in force at `at`."""
    codes: set[str] = set()
    now = naive_utc(at)
    for approval in Approval.select().where(Approval.account == account_id, Approval.kind == "override",
                                            Approval.status == "approved"):
        payload = json.loads(approval.payload or "{}")
        until = payload.get("until")
        if until and dt.datetime.fromisoformat(until) > now:
            codes.update(payload.get("codes", []))
    return frozenset(codes)


def check_call(settings, account_id: int, phone_id: int, at: dt.datetime | None = None, *,
               debtor_requested: bool = False) -> Decision:
    """`may_call` for an account and one of its debtor's phones, from the database."""
    at = at or dt.datetime.now(dt.UTC)
    account = Account.get_by_id(account_id)
    phone = Phone.get_by_id(phone_id)
    if phone.debtor_id != account.debtor_id:
        raise ValueError(f"phone {phone_id} is not a number of account {account.reference}'s debtor")
    facts = account_facts(account, primary_address(account.debtor_id))
    rules = rules_for(settings.compliance, account.jurisdiction)
    return may_call(facts, phone_facts(phone), at, call_history([account_id], at)[account_id], rules,
                    debtor_requested=debtor_requested, overrides=active_overrides(account_id, at))


def check_letter(settings, account_id: int, template: str, at: dt.datetime | None = None) -> Decision:
    at = at or dt.datetime.now(dt.UTC)
    account = Account.get_by_id(account_id)
    facts = account_facts(account, primary_address(account.debtor_id))
    return may_send_letter(facts, template, at, rules_for(settings.compliance, account.jurisdiction))


def check_escalate(settings, account_id: int, at: dt.datetime | None = None) -> Decision:
    at = at or dt.datetime.now(dt.UTC)
    account = Account.get_by_id(account_id)
    facts = account_facts(account, primary_address(account.debtor_id))
    return may_escalate(facts, at, rules_for(settings.compliance, account.jurisdiction))


def rules_of(settings, account: Account) -> Rules:
    return rules_for(settings.compliance, account.jurisdiction)


class OverrideError(ValueError):
    """An override that cannot be granted; the message says why."""


def grant_override(actor: Actor, account_id: int, codes: list[str], reason: str, *, hours: int = 24,
                   at: dt.datetime | None = None) -> Approval:
    """A team lead lifts overridable blocks (frequency caps, the conversation cool-off) on
    one account for `hours`, with a reason. Audited; holds and call hours cannot be lifted."""
    if actor.role not in ("team_lead", "admin"):
        raise PermissionError(f"{actor.name} ({actor.role}) may not override compliance blocks: team leads only")
    if not reason.strip():
        raise OverrideError("an override needs a reason")
    refused = [c for c in codes if c not in OVERRIDABLE]
    if refused:
        raise OverrideError(f"these blocks cannot be overridden: {', '.join(refused)}")
    if not codes:
        raise OverrideError("name the blocks to override")
    now = naive_utc(at) if at else utcnow()
    with write_transaction(actor) as tx:
        account = Account.get_by_id(account_id)
        if actor.role == "team_lead" and account.team_id != actor.team_id:
            raise PermissionError(f"{actor.name} may not override blocks on another team's account")
        until = now + dt.timedelta(hours=hours)
        approval = Approval.create(kind="override", account=account_id, requested_by=actor.officer_id,
                                   requested_at=now, status="approved", decided_by=actor.officer_id,
                                   decided_at=now, reason=reason.strip(),
                                   payload=json.dumps({"codes": sorted(codes), "until": until.isoformat()}))
        tx.audit("compliance.override", "approval", approval.id, account_id=account_id,
                 changes={"codes": sorted(codes), "until": until, "reason": reason.strip()})
    return approval
