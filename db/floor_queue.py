"""The team's queue as the live floor shows it: accounts by days-past-due bucket, each split
into callable now, being worked and blocked; callbacks due in the next hour; promises due
today and broken today.

"Callable now" is what the queue itself would hand out (the compliance governor has
cleared the account and the queue maintenance keeps that current); "being worked" is
under a live claim; "blocked" is everything else still open (holds, frequency caps,
outside contact hours, waiting for a callback).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from peewee import SQL, fn

from db.audit import Actor
from db.compliance import naive_utc
from db.figures import day_bounds
from db.models import Account, Promise, Team
from db.promises import floor_today
from db.scope import require_role

BUCKET_LABELS = ("0-30", "31-60", "61-90", "91-180", "180+")
CLOSED = ("closed", "settled", "written_off")


@dataclass
class BucketCounts:
    callable_now: int = 0
    being_worked: int = 0
    blocked: int = 0

    @property
    def total(self) -> int:
        return self.callable_now + self.being_worked + self.blocked


@dataclass
class QueueSummary:
    buckets: dict[str, BucketCounts] = field(default_factory=lambda: {b: BucketCounts() for b in BUCKET_LABELS})
    callbacks_next_hour: int = 0
    promises_due_today: int = 0
    broken_today: int = 0
    legal: dict[str, int] = field(default_factory=dict)
    """Open legal cases by stage."""


def bucket_of(delinquent: dt.date | str | None, today: dt.date) -> str:
    """The days-past-due bucket of a delinquency date (none: current, 0-30)."""
    if delinquent is None:
        return "0-30"
    if isinstance(delinquent, str):
        delinquent = dt.date.fromisoformat(delinquent[:10])
    days = (today - delinquent).days
    for limit, label in ((30, "0-30"), (60, "31-60"), (90, "61-90"), (180, "91-180")):
        if days <= limit:
            return label
    return "180+"


def team_in_view(actor: Actor, team: str | None) -> int | None:
    """The team a lead sees (always their own) or an admin chose (None: every team)."""
    if actor.role == "team_lead":
        if team is not None and Team.get_by_id(actor.team_id).name != team:
            raise PermissionError(f"{actor.name} may see only their own team's queue")
        return actor.team_id
    if team is None:
        return None
    row = Team.get_or_none(Team.name == team)
    if row is None:
        raise LookupError(f"there is no team {team!r}")
    return row.id


def queue_summary(settings, actor: Actor, at: dt.datetime, *, team: str | None = None) -> QueueSummary:
    """The queue of the lead's team (admins: `team`, or the whole floor)."""
    require_role(actor, "team_lead")
    team_id = team_in_view(actor, team)
    now = naive_utc(at)
    today = floor_today(settings, at)
    open_accounts = Account.status.not_in(CLOSED)
    if team_id is not None:
        open_accounts &= Account.team == team_id
    # Counted by the raw delinquency date (a few thousand groups, read from a covering index)
    # and bucketed here: three times faster than grouping by CASE expressions in SQL.
    worked = Account.claimed_by.is_null(False) & (Account.claim_expires_at > now)
    summary = QueueSummary()
    rows = (Account.select(Account.delinquency_date, worked.alias("worked"),
                           Account.queue_priority.is_null(False).alias("callable"), fn.COUNT(Account.id))
            .where(open_accounts).group_by(Account.delinquency_date, SQL("2"), SQL("3")).tuples())
    for delinquent, is_worked, is_callable, count in rows:
        counts = summary.buckets[bucket_of(delinquent, today)]
        if is_worked:
            counts.being_worked += count
        elif is_callable:
            counts.callable_now += count
        else:
            counts.blocked += count
    summary.callbacks_next_hour = (Account.select().where(open_accounts, Account.callback_at >= now,
                                                          Account.callback_at < now + dt.timedelta(hours=1)).count())
    # Joined, not `IN (the team's accounts)`: the day's few promises are found by their own
    # index and each looks up its account, instead of listing every account of the team.
    team_promises = Promise.select().join(Account, on=(Promise.account == Account.id))
    summary.promises_due_today = team_promises.where(open_accounts, Promise.status == "open",
                                                     Promise.due_on == today).count()
    start, end = day_bounds(today, settings.locale.time_zone)
    summary.broken_today = team_promises.where(open_accounts, Promise.status == "broken",
                                               Promise.evaluated_at >= start, Promise.evaluated_at < end).count()
    from db.legal import legal_counts

    summary.legal = legal_counts(team_id)
    return summary
