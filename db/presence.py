"""Who is on the floor and what they are doing: each session reports its officer's state
(in the queue, on an account, wrapping up after a call, logged out) and renews a lease;
the floor reads them back, with "away" for a session whose officer has pressed no key for
`floor.away_minutes`, and nothing at all for a session whose lease ran out (a killed
process or a dropped line stops showing as present within `floor.presence_lease_seconds`).

State changes are audited (and so ring the change feed). The lease renewal is not: it is a
heartbeat, not a business record, and auditing it would write an event per session every
few seconds.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass

from peewee import JOIN

from db.audit import Actor, write_transaction
from db.compliance import naive_utc
from db.models import Account, Officer, Presence, Team
from db.scope import require_role

STATES = ("queue", "account", "wrap_up", "logged_out")
SHOWN = {"queue": "idle in queue", "account": "on account", "wrap_up": "wrap-up", "logged_out": "logged out",
         "away": "away"}


def begin_session(settings, actor: Actor, at: dt.datetime) -> str:
    """A session starts: returns its token (used by every later report)."""
    token = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"
    now = naive_utc(at)
    with write_transaction(actor) as tx:
        row = Presence.create(officer=actor.officer_id, session=token, state="queue", since=now, last_key_at=now,
                              expires_at=now + dt.timedelta(seconds=settings.floor.presence_lease_seconds))
        tx.audit("session.start", "presence", row.id, changes={"session": token})
    return token


def report_state(settings, actor: Actor, token: str, state: str, at: dt.datetime, *,
                 account_id: int | None = None) -> None:
    """The officer moved to `state` (on `account_id` for `account` and `wrap_up`)."""
    if state not in STATES:
        raise ValueError(f"unknown state {state!r}")
    now = naive_utc(at)
    row = Presence.get_or_none(Presence.session == token, Presence.officer == actor.officer_id)
    if row is None:
        raise LookupError("this session is not on the floor")
    if row.state == state and row.account_id == account_id:
        renew(settings, token, at, at)  # nothing new to record
        return
    with write_transaction(actor) as tx:
        (Presence.update(state=state, account=account_id, since=now, last_key_at=now,
                         expires_at=now + dt.timedelta(seconds=settings.floor.presence_lease_seconds))
         .where(Presence.id == row.id).execute())
        tx.audit("session.state", "presence", row.id, account_id=account_id,
                 changes={"state": [row.state, state]})


def renew(settings, token: str, at: dt.datetime, last_key_at: dt.datetime) -> None:
    """The heartbeat: keep the session present and record the officer's last key press."""
    now = naive_utc(at)
    (Presence.update(expires_at=now + dt.timedelta(seconds=settings.floor.presence_lease_seconds),
                     last_key_at=naive_utc(last_key_at))
     .where(Presence.session == token, Presence.state != "logged_out").execute())


def end_session(settings, actor: Actor, token: str, at: dt.datetime) -> None:
    report_state(settings, actor, token, "logged_out", at)
    Presence.update(expires_at=naive_utc(at)).where(Presence.session == token).execute()


@dataclass
class OfficerState:
    username: str
    name: str
    team: str
    state: str
    """As the floor shows it: idle in queue, on account, wrap-up, away, logged out."""
    account: str | None
    since: dt.datetime | None
    minutes: int
    over_limit: bool


def floor_states(settings, actor: Actor, at: dt.datetime, *, team: str | None = None) -> list[OfficerState]:
    """Every officer of the lead's team (admins: any team, or all) and their state now."""
    require_role(actor, "team_lead")
    now = naive_utc(at)
    officers = (Officer.select(Officer, Team).join(Team, JOIN.LEFT_OUTER, on=(Officer.team == Team.id))
                .where(Officer.active == True, Officer.role != "admin"))  # noqa: E712
    if actor.role == "team_lead":
        officers = officers.where(Officer.team == actor.team_id)
    elif team is not None:
        officers = officers.where(Team.name == team)
    live = {}
    sessions = (Presence.select(Presence, Account.reference.alias("reference"))
                .join(Account, JOIN.LEFT_OUTER, on=(Presence.account == Account.id))
                .where(Presence.expires_at > now, Presence.state != "logged_out")
                .order_by(Presence.since.desc()).objects())
    for row in sessions:
        live.setdefault(row.officer_id, row)  # an officer's latest live session
    away = dt.timedelta(minutes=settings.floor.away_minutes)
    limit = settings.floor.time_in_state_limit_minutes
    result = []
    for officer in officers.order_by(Team.name, Officer.username):
        row = live.get(officer.id)
        if row is None:
            state, account, since = "logged_out", None, None
        else:
            idle = now - row.last_key_at >= away
            state = "away" if idle else row.state
            since = row.last_key_at if idle else row.since
            account = row.reference
        minutes = int((now - since).total_seconds() // 60) if since else 0
        result.append(OfficerState(officer.username, officer.name, officer.team.name if officer.team_id else "-",
                                   SHOWN[state], account, since, minutes,
                                   since is not None and state != "queue" and minutes >= limit))
    return result
