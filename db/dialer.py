"""Dialer files: the numbers a predictive dialer may call now, and its dispositions back.

The export walks the team's claimable accounts best first and asks the compliance
governor about every number, as a claim would (contact hours at the debtor's location,
frequency caps, holds, bad numbers, the employer's ban); a number already reached today (a
conversation, a third party, a wrong number) is left out for the rest of the day.

The import records each dialled call as an activity through `log_call`, so the governor
counts it like a call made from the screen (attempts, the cool-off after a conversation),
and the dialer's agent gets it in the day's figures. Each call is keyed by the account,
the number and the minute it started: a file imported twice records nothing new.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from db.audit import Actor
from db.compliance import may_call, naive_utc, rules_for
from db.floor_queue import CLOSED, team_in_view
from db.governor import load_call_facts
from db.imports import FileReport, Rejects, open_csv, read_records
from db.models import Account, Activity, Debtor, Officer, Phone
from db.scope import require_role

EXPORT_HEADER = ("reference", "client_reference", "debtor", "number", "kind", "local_time", "priority")
IMPORT_COLUMNS = ("reference", "number", "started_at", "outcome", "duration", "agent")
IMPORT_REQUIRED = ("reference", "number", "started_at", "outcome")
REACHED = ("third_party", "wrong_number")
"""Outcomes besides a conversation after which a number is not dialled again that day."""
BATCH = 500


def _reached_today(account_ids: list[int], today_start: dt.datetime) -> set[int]:
    """Phones reached since the start of the floor's day."""
    rows = (Activity.select(Activity.phone).where(
        Activity.account.in_(account_ids), Activity.started_at >= today_start, Activity.phone.is_null(False),
        (Activity.kind == "conversation") | Activity.disposition.in_(REACHED)).tuples())
    return {r[0] for r in rows}


def dialer_rows(settings, actor: Actor, at: dt.datetime, *, team: str | None = None,
                limit: int = 5000) -> Iterator[tuple]:
    """The header, then (reference, client reference, debtor, number, kind, debtor's local
    time, rank) for up to `limit` numbers that may be dialled at `at`, best account first."""
    from db.figures import day_bounds
    from db.promises import floor_today

    require_role(actor, "team_lead", "system")
    team_id = team_in_view(actor, team)
    if team_id is None:
        raise LookupError("say which team's numbers to export (--team)")
    start, _end = day_bounds(floor_today(settings, at), settings.locale.time_zone)
    yield EXPORT_HEADER
    rank, last_priority, last_id, out = 0, None, None, 0
    while out < limit:
        query = (Account.select(Account.id, Account.reference, Account.client_reference, Account.queue_priority,
                                Debtor.first_name, Debtor.last_name)
                 .join(Debtor, on=(Account.debtor == Debtor.id))
                 .where(Account.team == team_id, Account.queue_priority.is_null(False), Account.status.not_in(CLOSED)))
        if last_priority is not None:
            query = query.where((Account.queue_priority < last_priority)
                                | ((Account.queue_priority == last_priority) & (Account.id > last_id)))
        batch = list(query.order_by(Account.queue_priority.desc(), Account.id).limit(BATCH).tuples())
        if not batch:
            return
        reached = _reached_today([row[0] for row in batch], start)
        for account_id, reference, client_reference, priority, first, last in batch:
            loaded = load_call_facts(account_id, at)
            if loaded is None:
                continue
            facts, phones, history, overrides = loaded
            rules = rules_for(settings.compliance, facts.jurisdiction)
            for phone in phones:
                if phone.id in reached:
                    continue
                decision = may_call(facts, phone, at, history, rules, overrides=overrides)
                if not decision.allowed:
                    continue
                rank += 1
                zone = decision.zones[0] if decision.zones else "UTC"
                local = naive_utc(at).replace(tzinfo=dt.UTC).astimezone(ZoneInfo(zone))
                yield (reference, client_reference, f"{first} {last}", phone.number, phone.kind,
                       f"{local:%H:%M} {zone}", rank)
                out += 1
                if out >= limit:
                    return
        last_priority, last_id = batch[-1][3], batch[-1][0]


@dataclass
class DialerReport(FileReport):
    recorded: int = 0
    already: int = 0


def import_dispositions(settings, actor: Actor, path: Path, *, at: dt.datetime | None = None) -> DialerReport:
    """Record a dialer's dispositions file (see the module's docstring)."""
    import phonenumbers

    from db.activity import ActivityError, log_call
    from db.imports import _payment_account

    require_role(actor, "admin", "system")
    at = at or dt.datetime.now(dt.UTC)
    source = open_csv(path, IMPORT_COLUMNS, IMPORT_REQUIRED)
    outcomes = {d.code for d in settings.dispositions}
    agents: dict[str, Officer | None] = {}
    report = DialerReport()
    rejects = Rejects(source)
    try:
        for line, fields, record in read_records(source):
            report.rows += 1
            if isinstance(record, str):
                rejects.add(line, fields, [record])
                continue
            reasons = []
            account, why = _payment_account(record["reference"]) if record["reference"] else (None, "reference is empty")
            if why:
                reasons.append(why)
            started = None
            try:
                started = dt.datetime.fromisoformat(record["started_at"].replace("Z", "+00:00"))
                if started.tzinfo is None:
                    reasons.append(f"started_at {record['started_at']!r} needs a zone offset, e.g. +00:00")
                    started = None
                elif started > at:
                    reasons.append(f"started_at {record['started_at']} is in the future")
            except ValueError:
                reasons.append(f"started_at {record['started_at']!r} is not an ISO time")
            if record["outcome"] not in outcomes:
                reasons.append(f"outcome {record['outcome']!r} is not a disposition code ({', '.join(sorted(outcomes))})")
            duration = None
            if record.get("duration"):
                if not record["duration"].isdigit():
                    reasons.append(f"duration {record['duration']!r} is not a whole number of seconds")
                else:
                    duration = int(record["duration"])
            phone = None
            if account is not None:
                try:
                    number = phonenumbers.format_number(
                        phonenumbers.parse(record["number"], account.jurisdiction.split("-")[0]),
                        phonenumbers.PhoneNumberFormat.E164)
                except phonenumbers.NumberParseException:
                    number = None
                phone = Phone.get_or_none(Phone.debtor == account.debtor_id, Phone.number == number) if number else None
                if phone is None:
                    reasons.append(f"number {record['number']!r} is not on the account's file")
            agent = record.get("agent") or ""
            if agent and agent not in agents:
                agents[agent] = Officer.get_or_none(Officer.username == agent, Officer.active == True)  # noqa: E712
            if agent and agents[agent] is None:
                reasons.append(f"agent {agent!r} is not an active officer")
            elif agent and account is not None and agents[agent].team_id != account.team_id \
                    and agents[agent].role != "admin":
                reasons.append(f"agent {agent} is not in the team that works {account.reference}")
            if reasons:
                rejects.add(line, fields, reasons)
                continue
            key = f"dialer:{account.id}:{phone.number}:{naive_utc(started):%Y-%m-%dT%H:%M}"
            if Activity.select().where(Activity.external_id == key).exists():
                report.already += 1
                continue
            who = Actor.for_officer(agents[agent]) if agent else Actor.system("dialer")
            try:
                log_call(settings, who, account.id, phone.id, record["outcome"], at=started, duration_seconds=duration,
                         note="dialer", external_id=key)
            except (ActivityError, PermissionError) as exc:
                rejects.add(line, fields, [str(exc)])
                continue
            report.recorded += 1
    finally:
        rejects.report_to(report)
    return report

