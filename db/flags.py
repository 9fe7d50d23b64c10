"""Hold flags on an account (dispute, cease, bankruptcy, deceased, vulnerable, attorney,
breathing space): set and cleared with a reason, audited with before and after, and the
queue facts refreshed in the same transaction. Vulnerable customers move to the specialist
team."""

from __future__ import annotations

import datetime as dt

from db.audit import Actor, write_transaction
from db.compliance import naive_utc, rules_for
from db.models import HOLD_FLAGS, Account, Team
from db.scope import account_for


class FlagError(ValueError):
    """A flag change that cannot be made; the message says why."""


def set_flag(settings, actor: Actor, account_id: int, flag: str, value: bool, *, reason: str,
             at: dt.datetime | None = None) -> Account:
    """Set or clear one hold flag. Clearing a dispute records that verification was sent."""
    from db.queue import refresh_accounts

    if flag not in HOLD_FLAGS:
        raise FlagError(f"unknown flag {flag!r}: use one of {', '.join(HOLD_FLAGS)}")
    if not (reason or "").strip():
        raise FlagError("give a reason for the change")
    at = at or dt.datetime.now(dt.UTC)
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, FlagError)
        before = getattr(account, flag)
        if before == value:
            raise FlagError(f"{flag.replace('_', ' ')} is already {'set' if value else 'clear'} on {account.reference}")
        changes = {flag: [before, value]}
        updates = {flag: value}
        if flag == "dispute" and not value:
            updates["dispute_verified_at"] = naive_utc(at)
            changes["dispute_verified_at"] = [account.dispute_verified_at, naive_utc(at)]
        if flag == "dispute" and value:
            updates["dispute_verified_at"] = None
        if flag == "vulnerable" and value:
            specialist = Team.get_or_none(Team.name == settings.compliance.specialist_team)
            if specialist is not None and account.team_id != specialist.id:
                updates.update(team=specialist.id, assigned_officer=None)
                changes["team_id"] = [account.team_id, specialist.id]
                changes["assigned_officer_id"] = [account.assigned_officer_id, None]
        Account.update(**updates).where(Account.id == account_id).execute()
        if account.claimed_by_id is None:
            refresh_accounts(settings, [account_id], at)
        tx.audit(f"flag.{'set' if value else 'clear'}", "account", account_id, account_id=account_id,
                 changes={**changes, "reason": reason.strip()})
    return Account.get_by_id(account_id)


def start_breathing_space(settings, actor: Actor, account_id: int, start: dt.date, *, reason: str,
                          at: dt.datetime | None = None) -> Account:
    """UK breathing space: contact, interest and charges frozen for the configured days."""
    from db.queue import refresh_accounts

    if not (reason or "").strip():
        raise FlagError("give a reason (e.g. the Insolvency Service reference)")
    at = at or dt.datetime.now(dt.UTC)
    with write_transaction(actor) as tx:
        account = account_for(actor, account_id, FlagError)
        days = rules_for(settings.compliance, account.jurisdiction).breathing_space_days
        until = start + dt.timedelta(days=days - 1)
        Account.update(breathing_space_until=until).where(Account.id == account_id).execute()
        if account.claimed_by_id is None:
            refresh_accounts(settings, [account_id], at)
        tx.audit("flag.breathing_space", "account", account_id, account_id=account_id,
                 changes={"breathing_space_until": [account.breathing_space_until, until], "reason": reason.strip()})
    return Account.get_by_id(account_id)
