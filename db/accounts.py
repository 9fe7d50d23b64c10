"""Looking accounts up: by reference, and the facts support staff and scripts ask for."""

from __future__ import annotations

import datetime as dt

from db.compliance import is_time_barred, limitation_ends, local_date, rules_for
from db.governor import account_facts, check_call, primary_address
from db.money import exponent_of, plain
from db.models import HOLD_FLAGS, Account, Client, Debtor, Officer, Phone


class AccountNotFound(LookupError):
    pass


def find_by_reference(reference: str) -> Account:
    account = (Account.select().where((Account.reference == reference) | (Account.client_reference == reference))
               .first())
    if account is None:
        raise AccountNotFound(f"there is no account with reference {reference!r}")
    return account


def account_summary(settings, reference: str, at: dt.datetime | None = None) -> dict:
    """Debtor, balance, days past due, flags, claim holder, and each phone's `may_call`
    decision at `at` with its reasons and next allowed time."""
    at = at or dt.datetime.now(dt.UTC)
    account = find_by_reference(reference)
    debtor = Debtor.get_by_id(account.debtor_id)
    client = Client.get_by_id(account.client_id)
    address = primary_address(account.debtor_id)
    facts = account_facts(account, address)
    rules = rules_for(settings.compliance, account.jurisdiction)
    today = local_date(at, facts.address_zone or "UTC")
    exponent = exponent_of(account.currency)
    holder = None
    if account.claimed_by_id and account.claim_expires_at and account.claim_expires_at > at.astimezone(dt.UTC).replace(tzinfo=None):
        holder = Officer.get_by_id(account.claimed_by_id).username
    flags = [f for f in HOLD_FLAGS if getattr(account, f)]
    if account.breathing_space_until and today <= account.breathing_space_until:
        flags.append("breathing_space")
    if is_time_barred(facts, rules, today):
        flags.append("time_barred")
    phones = []
    for phone in list(Phone.select().where(Phone.debtor == account.debtor_id).order_by(Phone.id)):
        decision = check_call(settings, account.id, phone.id, at)
        phones.append({"number": phone.number, "kind": phone.kind, "status": phone.status,
                       "may_call": {"allowed": decision.allowed, "reasons": [r.text for r in decision.reasons],
                                    "next_allowed_at": decision.next_allowed_at.isoformat()
                                    if decision.next_allowed_at else None}})
    ends = limitation_ends(facts, rules)
    return {
        "reference": account.reference,
        "client": client.name,
        "client_reference": account.client_reference,
        "debtor": f"{debtor.first_name} {debtor.last_name}",
        "currency": account.currency,
        "balance": plain(account.balance_minor, exponent=exponent),
        "days_past_due": (today - account.delinquency_date).days if account.delinquency_date else None,
        "status": account.status,
        "jurisdiction": account.jurisdiction,
        "time_zone": facts.address_zone,
        "flags": flags,
        "limitation_ends": ends.isoformat() if ends else None,
        "claimed_by": holder,
        "queue": {"priority": account.priority, "available": account.queue_priority is not None,
                  "next_call_at": account.next_call_at.isoformat() if account.next_call_at else None,
                  "reason": account.queue_reason},
        "phones": phones,
    }
