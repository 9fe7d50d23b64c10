"""Writes and their audit trail: every write runs in `write_transaction`, which commits
the change and its audit events together or not at all.

On SQLite the transaction begins IMMEDIATE (set on the connection), so a writer waits for
the lock up front instead of failing half-way when a read upgrades to a write, and writers
queue for it fairly on the write gate (`db.database.write_gate`).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterator

from db.database import database, utcnow, write_gate
from db.models import AuditEvent, Officer


@dataclass(frozen=True)
class Actor:
    """Who is acting: an officer (from their SSH key) or a tool run by an operator."""

    name: str
    officer_id: int | None = None
    role: str = "system"
    team_id: int | None = None

    @classmethod
    def for_officer(cls, officer: Officer) -> Actor:
        return cls(officer.username, officer.id, officer.role, officer.team_id)

    @classmethod
    def cli(cls) -> Actor:
        """An operator at the server's command line, named by the OS account."""
        try:
            user = getpass.getuser()
        except Exception:  # no passwd entry in some containers
            user = "unknown"
        return cls(f"cli:{user}", role="admin")

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(f"system:{job}", role="system")


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


@dataclass
class WriteTransaction:
    actor: Actor
    events: list[dict[str, Any]] = field(default_factory=list)

    def audit(
        self,
        action: str,
        entity: str,
        entity_id: int | None = None,
        *,
        account_id: int | None = None,
        changes: dict[str, Any] | None = None,
    ) -> None:
        """Record what this transaction did; written when the transaction commits."""
        self.events.append(
            {
                "at": utcnow(),
                "officer": self.actor.officer_id,
                "actor": self.actor.name,
                "action": action,
                "entity": entity,
                "entity_id": entity_id,
                "account": account_id,
                "changes": json.dumps(_jsonable(changes), sort_keys=True) if changes is not None else None,
            }
        )


class MissingAudit(RuntimeError):
    """A write transaction finished without saying what it did."""


@contextmanager
def write_transaction(actor: Actor) -> Iterator[WriteTransaction]:
    """Run a write and its audit events in one transaction.

    The body must call `tx.audit(...)` at least once; a write with no audit event is a
    bug and is rolled back.
    """
    with write_gate(), database.atomic():
        tx = WriteTransaction(actor)
        yield tx
        if not tx.events:
            raise MissingAudit("every write must record an audit event")
        _insert_events(tx.events)
        from db.feed import ring

        ring([e["action"] for e in tx.events], [e["account"] for e in tx.events])


_EVENT_COLUMNS = ("at", "officer", "actor", "action", "entity", "entity_id", "account", "changes")


def _insert_events(events: list[dict[str, Any]]) -> None:
    # Plain SQL: every write pays for this insert, and Peewee's query building costs more
    # than the insert itself on the claim's hot path.
    from db.database import is_sqlite

    p = database.param
    columns = ", ".join(AuditEvent._meta.fields[name].column_name for name in _EVENT_COLUMNS)
    sql = f"INSERT INTO audit_event ({columns}) VALUES ({', '.join([p] * len(_EVENT_COLUMNS))})"
    rows = [tuple(e[name].isoformat(" ") if name == "at" and is_sqlite() else e[name] for name in _EVENT_COLUMNS)
            for e in events]
    cursor = database.connection().cursor()
    cursor.executemany(sql, rows)


def changes_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{"field": [before, after]} for the fields that differ."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


def audit_trail(account_id: int) -> list[AuditEvent]:
    return list(AuditEvent.select().where(AuditEvent.account == account_id).order_by(AuditEvent.id))
