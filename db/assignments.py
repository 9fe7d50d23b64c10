"""Who works which accounts, and in what order: a team lead moves accounts between the
team's officers and its pool, and sets the team's queue strategy.

Assignment is what the claim index keys on (`COALESCE(assigned_officer_id, 0)`), so a
reassigned account is in its new officer's queue from the next claim. An account under a
live claim is moved too, but its holder keeps the claim until they release it: a lead's
reassignment never snatches a customer file out of an officer's hands mid-call.

A bulk move runs in batches, each its own short transaction with one audit event per
account (before and after), so officers are never stalled behind a long write lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from peewee import JOIN

from db.audit import Actor, write_transaction
from db.compliance import local_date
from db.floor_queue import CLOSED
from db.models import Account, Address, Officer, Team
from db.promises import floor_today
from db.scope import require_role

BATCH = 500
POOL = "pool"
"""The name a lead uses for the team's unassigned accounts."""


class AssignmentError(ValueError):
    """A reassignment or strategy change that cannot be made; the message says why."""


@dataclass
class Reassignment:
    moved: int = 0
    already: int = 0
    """Accounts that were assigned there already."""
    refused: list[str] = field(default_factory=list)
    """One line per account left where it was, with why (not found, another team, …)."""


def assignable_officers(actor: Actor, team: str | None = None) -> list[str]:
    """Usernames accounts may be moved to: a lead's team's active officers and leads (an
    admin's: `team`'s, or every team's)."""
    require_role(actor, "team_lead")
    query = (Officer.select(Officer.username).join(Team, on=(Officer.team == Team.id))
             .where(Officer.active == True, Officer.role != "admin"))  # noqa: E712
    if actor.role == "team_lead":
        query = query.where(Officer.team == actor.team_id)
    elif team is not None:
        query = query.where(Team.name == team)
    return [r[0] for r in query.order_by(Officer.username).tuples()]


def _target(actor: Actor, to: str | None) -> Officer | None:
    """The officer accounts are moved to (None: the team's pool)."""
    if to is None or to == POOL:
        return None
    officer = (Officer.select(Officer, Team).join(Team, JOIN.LEFT_OUTER, on=(Officer.team == Team.id))
               .where(Officer.username == to).first())
    if officer is None:
        raise AssignmentError(f"there is no officer {to!r}")
    if not officer.active:
        raise AssignmentError(f"{to} is disabled: choose an active officer")
    if officer.role == "admin" or officer.team_id is None:
        raise AssignmentError(f"{to} works no team's queue: choose an officer or team lead")
    if actor.role == "team_lead" and officer.team_id != actor.team_id:
        raise AssignmentError(f"{to} is in another team: you may move accounts only within your team")
    return officer


def _in_scope(actor: Actor, team: str | None):
    """The accounts this actor may reassign: a lead's team's; an admin's, any (or `team`'s)."""
    where = Account.status.not_in(CLOSED)
    if actor.role == "team_lead":
        return where & (Account.team == actor.team_id)
    if team is not None:
        row = Team.get_or_none(Team.name == team)
        if row is None:
            raise AssignmentError(f"there is no team {team!r}")
        where &= Account.team == row.id
    return where


def select_accounts(settings, actor: Actor, at: dt.datetime, *, references: list[str] | None = None,
                    bucket: str | None = None, owner: str | None = None, team: str | None = None,
                    limit: int | None = None) -> tuple[list[int], list[str]]:
    """The ids of the accounts a reassignment names, best first, and the references it could
    not take (with why). By `references`, or by days-past-due `bucket` and/or `owner` (those
    now with that officer, or `pool` for the unassigned), at most `limit`."""
    from db.worklist import _bucket_clause

    require_role(actor, "team_lead")
    scope = _in_scope(actor, team)
    refused: list[str] = []
    if references:
        wanted = list(dict.fromkeys(r.strip() for r in references if r.strip()))
        found = {a.reference: a for a in Account.select(Account.id, Account.reference, Account.team, Account.status)
                 .where(Account.reference.in_(wanted))}
        allowed = {r[0] for r in Account.select(Account.reference).where(Account.reference.in_(wanted), scope).tuples()}
        ids = []
        for ref in wanted:
            if ref not in found:
                refused.append(f"{ref}: no such account")
            elif ref not in allowed:
                refused.append(f"{ref}: closed, or not your team's" if found[ref].status not in CLOSED
                               else f"{ref}: {found[ref].status}")
            else:
                ids.append(found[ref].id)
        return ids[:limit] if limit else ids, refused
    if bucket is None and owner is None:
        raise AssignmentError("say which accounts: references, a days-past-due bucket, or whose they are now")
    where = scope
    if bucket is not None:
        try:
            where &= _bucket_clause(bucket, floor_today(settings, at))
        except KeyError:
            raise AssignmentError(f"unknown bucket {bucket!r}: use 0-30, 31-60, 61-90, 91-180 or 180+") from None
    if owner == POOL:
        where &= Account.assigned_officer.is_null()
    elif owner is not None:
        current = Officer.get_or_none(Officer.username == owner)
        if current is None:
            raise AssignmentError(f"there is no officer {owner!r}")
        where &= Account.assigned_officer == current.id
    query = Account.select(Account.id).where(where).order_by(Account.priority.desc(), Account.id)
    if limit:
        query = query.limit(limit)
    return [r[0] for r in query.tuples()], refused


def reassign(settings, actor: Actor, account_ids: list[int], to: str | None, at: dt.datetime, *,
             progress: Callable[[int], None] | None = None) -> Reassignment:
    """Assign these accounts to officer `to` (None or `pool`: back to the team's pool).

    Team leads move their own team's accounts to their own team's officers. An admin may
    move accounts to an officer of another team: the accounts change team too (never a
    vulnerable customer's out of a specialist team)."""
    require_role(actor, "team_lead")
    target = _target(actor, to)
    result = Reassignment()
    for start in range(0, len(account_ids), BATCH):
        chunk = account_ids[start:start + BATCH]
        with write_transaction(actor) as tx:
            rows = list(Account.select(Account.id, Account.reference, Account.team, Account.assigned_officer,
                                       Account.vulnerable, Account.status).where(Account.id.in_(chunk)))
            moving, changes_team = [], []
            for account in rows:
                if account.status in CLOSED:
                    result.refused.append(f"{account.reference}: {account.status}")
                    continue
                if actor.role == "team_lead" and account.team_id != actor.team_id:
                    result.refused.append(f"{account.reference}: not your team's")
                    continue
                new_team = target.team_id if target is not None else account.team_id
                if new_team != account.team_id and account.vulnerable and not target.team.specialist:
                    result.refused.append(f"{account.reference}: a vulnerable customer stays with a specialist team")
                    continue
                new_owner = target.id if target is not None else None
                if account.assigned_officer_id == new_owner and new_team == account.team_id:
                    result.already += 1
                    continue
                moving.append(account.id)
                if new_team != account.team_id:
                    changes_team.append(account.id)
                before = {"assigned_officer": account.assigned_officer_id, "team": account.team_id}
                after = {"assigned_officer": new_owner, "team": new_team}
                tx.audit("account.assign", "account", account.id, account_id=account.id,
                         changes={k: [before[k], after[k]] for k in after if before[k] != after[k]})
            if moving:
                fields = {Account.assigned_officer: target.id if target is not None else None}
                if target is not None:
                    fields[Account.team] = target.team_id
                Account.update(fields).where(Account.id.in_(moving)).execute()
            if changes_team:
                # Another team's queue: its zone keys and strategy score apply from now.
                from db.queue import refresh_accounts

                refresh_accounts(settings, changes_team, at)
            if not tx.events:
                tx.audit("account.assign.none", "account", None, changes={"asked": len(chunk)})
            result.moved += len(moving)
        if progress:
            progress(len(chunk))
    return result


# --- the team's queue strategy ---------------------------------------------------------------

def set_strategy(settings, actor: Actor, team: str | None, strategy: str, at: dt.datetime) -> Team:
    """Set the team's queue strategy (a lead: their own team). The team's accounts are then
    re-scored by `rescore_team`, a batch at a time."""
    require_role(actor, "team_lead")
    if strategy not in settings.queue.strategies:
        raise AssignmentError(f"unknown strategy {strategy!r}: use one of {', '.join(settings.queue.strategies)}")
    with write_transaction(actor) as tx:
        if actor.role == "team_lead":
            row = Team.get_by_id(actor.team_id)
            if team is not None and team != row.name:
                raise AssignmentError(f"you may set only your own team's strategy ({row.name})")
        else:
            row = Team.get_or_none(Team.name == team) if team else None
            if row is None:
                raise AssignmentError(f"there is no team {team!r}" if team else "say which team")
        if row.queue_strategy != strategy:
            Team.update(queue_strategy=strategy).where(Team.id == row.id).execute()
        tx.audit("team.strategy", "team", row.id, changes={"queue_strategy": [row.queue_strategy, strategy]})
    return Team.get_by_id(row.id)


def rescore_team(settings, actor: Actor, team: str | None, at: dt.datetime, *, batch: int = 2000,
                 progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute the strategy score of every open account of the team with the team's
    current weights (one short transaction per batch). Only the order changes: whether an
    account may be called is untouched, so accounts waiting or held stay out of the queue."""
    from db.queue import strategy_weights

    from db.floor_queue import team_in_view

    require_role(actor, "team_lead")
    try:
        team_id = team_in_view(actor, team)
    except (LookupError, PermissionError) as exc:
        raise AssignmentError(str(exc)) from None
    if team_id is None:
        raise AssignmentError("say which team")
    team = Team.get_by_id(team_id)
    weights = strategy_weights(settings, team)
    open_accounts = (Account.team == team_id) & Account.status.not_in(CLOSED)
    total = Account.select().where(open_accounts).count()
    last_id, done = 0, 0
    while True:
        accounts = list(Account.select(Account.id, Account.debtor, Account.delinquency_date, Account.balance_minor,
                                       Account.last_contact_at, Account.callback_at, Account.promise_due_on)
                        .where(open_accounts, Account.id > last_id).order_by(Account.id).limit(batch))
        if not accounts:
            break
        zones = {}
        for address in (Address.select(Address.debtor, Address.time_zone)
                        .where(Address.debtor.in_([a.debtor_id for a in accounts]))
                        .order_by(Address.is_primary.desc(), Address.id)):
            zones.setdefault(address.debtor_id, address.time_zone)
        with write_transaction(actor) as tx:
            _write_scores(accounts, weights, at, zones)
            tx.audit("queue.rescore", "team", team_id,
                     changes={"from_id": accounts[0].id, "to_id": accounts[-1].id, "strategy": team.queue_strategy})
        done += len(accounts)
        last_id = accounts[-1].id
        if progress:
            progress(done, total)
    return done


def _write_scores(accounts, weights, at: dt.datetime, zones: dict[int, str | None]) -> None:
    from db.database import database
    from db.queue import _executemany, priority_of

    p = database.param
    rows = []
    for account in accounts:
        priority = priority_of(account, weights, at, local_date(at, zones.get(account.debtor_id) or "UTC"))
        rows.append((priority, priority, account.id))
    _executemany(f"UPDATE account SET priority = {p}, queue_priority = CASE WHEN queue_priority IS NULL "
                 f"THEN NULL ELSE {p} END WHERE id = {p}", rows)
