"""The day's figures per officer and team: what the floor screen shows and what payroll and
commission are paid on (`arrears report daily`).

A day is the floor's calendar day (`locale.time_zone`), midnight to midnight. For each
officer, counting only what that officer did in the day:

- **calls**: calls logged (attempts and conversations; inbound calls included);
- **contacts**: calls that reached the right party (a conversation about the debt);
- **promises** / **promised**: promises to pay recorded, and their total amount;
- **collected**: payments posted, less reversals posted in the day of payments the officer
  had taken (a reversal counts on the day it happens, against whoever took the payment).

Team figures are the sums over the team's officers. Officers see their own figures; team
leads their team's; admins and reports every team.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from peewee import JOIN, Case, fn

from db.audit import Actor
from db.models import Activity, LedgerEntry, Officer, Promise, Team
from db.money import format_money

FIGURES = ("calls", "contacts", "promises", "promised_minor", "collected_minor")

KPI_DEFINITIONS = (
    ("Calls", "calls the officer logged today: attempts and conversations, inbound included"),
    ("RPC", "right-party contacts: calls that reached the debtor and talked about the debt"),
    ("Prom", "promises to pay recorded today (a plan's deposit counts as one)"),
    ("Promised", "the total of those promises"),
    ("Collected", "payments the officer posted today, less reversals posted today of payments "
                  "they had taken"),
    ("Day", "the floor's calendar day in locale.time_zone, midnight to midnight (23 or 25 "
            "hours on a DST change)"),
    ("Team", "each figure summed over the team's officers; the 14-day lines are the team's "
             "totals per day, today last"),
)
"""What each figure on the floor means: shown in the floor's help and the README."""


@dataclass
class Figures:
    calls: int = 0
    contacts: int = 0
    promises: int = 0
    promised_minor: int = 0
    collected_minor: int = 0

    def add(self, other: Figures) -> None:
        for name in FIGURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class OfficerDay:
    username: str
    name: str
    team: str
    figures: Figures = field(default_factory=Figures)


@dataclass
class TeamDay:
    team: str
    day: dt.date
    officers: list[OfficerDay]
    total: Figures


def day_bounds(day: dt.date, time_zone: str) -> tuple[dt.datetime, dt.datetime]:
    """The floor's day as naive UTC instants [start, end), right across DST changes."""
    zone = ZoneInfo(time_zone)
    start = dt.datetime.combine(day, dt.time(0), zone).astimezone(dt.UTC).replace(tzinfo=None)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC).replace(tzinfo=None)
    return start, end


def _officers_in_view(actor: Actor, team: str | None) -> list[Officer]:
    query = (Officer.select(Officer, Team).join(Team, JOIN.LEFT_OUTER, on=(Officer.team == Team.id))
             .where(Officer.role != "admin"))
    if actor.role in ("admin", "system"):
        if team is not None:
            query = query.where(Team.name == team)
    elif actor.role == "team_lead":
        if team is not None and team != Team.get_by_id(actor.team_id).name:
            raise PermissionError(f"{actor.name} may see only their own team's figures")
        query = query.where(Officer.team == actor.team_id)
    else:
        # An officer sees their own figures, nobody else's.
        query = query.where(Officer.id == actor.officer_id)
    return list(query.order_by(Team.name, Officer.username))


def daily_figures(settings, actor: Actor, day: dt.date, *, team: str | None = None) -> list[TeamDay]:
    """The day's figures for each team the actor may see (one team with `team`)."""
    officers = _officers_in_view(actor, team)
    if team is not None and not officers and actor.role in ("admin", "system") \
            and not Team.select().where(Team.name == team).exists():
        raise LookupError(f"there is no team {team!r}")
    start, end = day_bounds(day, settings.locale.time_zone)
    ids = [o.id for o in officers]
    by_officer = {o.id: Figures() for o in officers}
    if ids:
        in_day = (Activity.started_at >= start) & (Activity.started_at < end) & Activity.officer.in_(ids)
        calls = (Activity.select(Activity.officer, fn.COUNT(Activity.id),
                                 fn.SUM(Case(None, [(Activity.right_party_contact == True, 1)], 0)))  # noqa: E712
                 .where(in_day, Activity.kind.in_(["call_attempt", "conversation"])).group_by(Activity.officer))
        for officer_id, count, contacts in calls.tuples():
            by_officer[officer_id].calls, by_officer[officer_id].contacts = count, int(contacts or 0)
        promises = (Promise.select(Promise.officer, fn.COUNT(Promise.id), fn.SUM(Promise.amount_minor))
                    .where(Promise.created_at >= start, Promise.created_at < end, Promise.officer.in_(ids))
                    .group_by(Promise.officer))
        for officer_id, count, amount in promises.tuples():
            by_officer[officer_id].promises, by_officer[officer_id].promised_minor = count, int(amount or 0)
        taken = (LedgerEntry.select(LedgerEntry.officer, fn.SUM(LedgerEntry.amount_minor))
                 .where(LedgerEntry.kind == "payment", LedgerEntry.posted_at >= start, LedgerEntry.posted_at < end,
                        LedgerEntry.officer.in_(ids)).group_by(LedgerEntry.officer))
        for officer_id, amount in taken.tuples():
            by_officer[officer_id].collected_minor -= int(amount or 0)
        original = LedgerEntry.alias()
        undone = (LedgerEntry.select(original.officer, fn.SUM(LedgerEntry.amount_minor))
                  .join(original, on=(LedgerEntry.reverses == original.id))
                  .where(LedgerEntry.kind == "reversal", original.kind == "payment", LedgerEntry.posted_at >= start,
                         LedgerEntry.posted_at < end, original.officer.in_(ids)).group_by(original.officer))
        for officer_id, amount in undone.tuples():
            by_officer[officer_id].collected_minor -= int(amount or 0)
    teams: dict[str, TeamDay] = {}
    for officer in officers:
        name = officer.team.name if officer.team_id else "-"
        team_day = teams.setdefault(name, TeamDay(name, day, [], Figures()))
        row = OfficerDay(officer.username, officer.name, name, by_officer[officer.id])
        team_day.officers.append(row)
        team_day.total.add(row.figures)
    return list(teams.values())


def team_series(settings, actor: Actor, last_day: dt.date, *, days: int = 14,
                team: str | None = None) -> list[tuple[dt.date, Figures]]:
    """The team's totals for each of the `days` days ending with `last_day`, oldest first
    (for the floor's sparklines). Each day is counted exactly as `daily_figures` counts it."""
    series = []
    for back in range(days - 1, -1, -1):
        day = last_day - dt.timedelta(days=back)
        total = Figures()
        for team_day in daily_figures(settings, actor, day, team=team):
            total.add(team_day.total)
        series.append((day, total))
    return series


@dataclass
class DayEntry:
    at: dt.datetime
    reference: str
    kind: str
    what: str


def officer_day(settings, actor: Actor, username: str, day: dt.date, *, limit: int = 500) -> tuple[OfficerDay, list[DayEntry]]:
    """One officer's figures for the day and what they did, newest first: what a lead
    sees on pressing enter on an officer of the floor."""
    from db.models import Account

    officer = Officer.get_or_none(Officer.username == username)
    if officer is None:
        raise LookupError(f"there is no officer {username!r}")
    if actor.role == "team_lead" and officer.team_id != actor.team_id:
        raise PermissionError(f"{username} is not in your team")
    if actor.role not in ("team_lead", "admin", "system") and actor.officer_id != officer.id:
        raise PermissionError(f"{actor.name} may see only their own day")
    team_name = Team.get_by_id(officer.team_id).name if officer.team_id else None
    figures = Figures()
    for team_day in daily_figures(settings, actor, day, team=team_name if actor.role != "team_lead" else None):
        for row in team_day.officers:
            if row.username == username:
                figures = row.figures
    labels = {d.code: d.label for d in settings.dispositions}
    start, end = day_bounds(day, settings.locale.time_zone)
    entries = []
    # Promises are listed from the promise itself (amount and due date); their activity
    # row carries only the officer's optional note.
    query = (Activity.select(Activity.started_at, Account.reference, Activity.kind, Activity.disposition,
                             Activity.note)
             .join(Account, on=(Activity.account == Account.id))
             .where(Activity.officer == officer.id, Activity.started_at >= start, Activity.started_at < end,
                    Activity.kind != "promise")
             .order_by(Activity.started_at.desc(), Activity.id.desc()).limit(limit).tuples())
    for started, reference, kind, disposition, note in query:
        what = labels.get(disposition, disposition) if disposition else (note or "")
        entries.append(DayEntry(started, reference, kind.replace("_", " "), what))
    promises = (Promise.select(Promise.created_at, Account.reference, Account.currency, Promise.amount_minor,
                               Promise.due_on, Promise.status)
                .join(Account, on=(Promise.account == Account.id))
                .where(Promise.officer == officer.id, Promise.created_at >= start, Promise.created_at < end)
                .limit(limit).tuples())
    for created, reference, currency, amount, due_on, status in promises:
        money = format_money(amount, currency, settings.locale.locale)
        entries.append(DayEntry(created, reference, "promise", f"{money} due {due_on:%d %b} ({status})"))
    entries.sort(key=lambda e: e.at, reverse=True)
    return OfficerDay(officer.username, officer.name, team_name or "-", figures), entries[:limit]
