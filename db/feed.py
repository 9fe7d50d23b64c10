"""The change feed: how one session learns of another's work, within a second.

A notification is only a doorbell. PostgreSQL rings it with `NOTIFY` (sent on commit;
identical ones in a transaction merge; nothing is replayed after a reconnect); SQLite with
`PRAGMA data_version`, which changes when another connection commits and costs no query to
read. On each ring, and on a slow poll in case a ring was lost, the feed reads the audit
events committed since it last looked: every write has one, so they say what changed
(the action, e.g. `activity.call`) and on which accounts. Subscribers get a summary,
debounced, on the feed's own thread and connection, never the caller's.
"""

from __future__ import annotations

import json
import logging
import select
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from db.database import database, is_postgres

log = logging.getLogger("arrears.feed")

CHANNEL = "arrears_changes"
# PostgreSQL may commit a lower audit id after a higher one (ids are taken before commit):
# each look re-reads this many ids below the highest seen, and skips those already seen.
_REREAD = 500


def ring(actions: list[str], account_ids: list[int]) -> None:
    """Inside a write transaction: ring the doorbell on commit (PostgreSQL; SQLite rings by
    itself). The payload is a hint for logs and tools; subscribers re-read the audit log."""
    if not is_postgres():
        return
    payload = json.dumps({"actions": sorted(set(actions))[:20], "accounts": sorted(set(a for a in account_ids if a))[:50]})
    if len(payload) > 7000:
        payload = "{}"
    database.connection().cursor().execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


@dataclass
class Change:
    """What changed since the subscriber last heard: actions and the accounts they touched."""

    actions: set[str] = field(default_factory=set)
    account_ids: set[int] = field(default_factory=set)
    officer_ids: set[int] = field(default_factory=set)

    def merge(self, other: Change) -> None:
        self.actions |= other.actions
        self.account_ids |= other.account_ids
        self.officer_ids |= other.officer_ids


@dataclass
class _Subscriber:
    prefixes: tuple[str, ...]
    callback: Callable[[Change], None]
    debounce: float
    pending: Change | None = None
    due: float = 0.0


class Feed:
    """Watches the database for other sessions' commits and tells subscribers.

    `poll_seconds`: how often SQLite's data_version is read (PostgreSQL waits on its
    socket instead); `fallback_seconds`: the slow look taken even when nothing rang.
    """

    def __init__(self, db, *, poll_seconds: float = 0.1, fallback_seconds: float = 5.0):
        self.db = db
        self.poll_seconds = poll_seconds
        self.fallback_seconds = fallback_seconds
        self._subscribers: list[_Subscriber] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: set[int] = set()
        self._high = 0
        self.wakes = 0
        """Audit-log reads taken (on a ring or the slow fallback)."""
        self.polls = 0
        """Doorbell checks (SQLite: PRAGMA data_version reads; PostgreSQL: socket waits)."""

    def subscribe(self, prefixes: tuple[str, ...] | str, callback: Callable[[Change], None], *,
                  debounce: float = 0.15) -> None:
        """Call `callback(change)` when actions starting with any of `prefixes` commit
        (`""` for everything); bursts within `debounce` seconds arrive as one change."""
        if isinstance(prefixes, str):
            prefixes = (prefixes,)
        with self._lock:
            self._subscribers.append(_Subscriber(tuple(prefixes), callback, debounce))

    def start(self) -> Feed:
        """Start watching from now: what is already committed is not news."""
        self._seen = self._recent_ids()
        self._high = max(self._seen, default=0)
        self._thread = threading.Thread(target=self._run, name="arrears-feed", daemon=True)
        self._thread.start()
        return self

    def stop(self, *, wait: bool = True) -> None:
        """Stop watching; `wait=False` only signals (the thread ends within one poll), for
        callers that must not block, such as a screen closing on the event loop."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=5)

    # --- the watcher -------------------------------------------------------------------

    def _recent_ids(self) -> set[int]:
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(f"SELECT id FROM audit_event WHERE id > (SELECT COALESCE(MAX(id), 0) - {_REREAD} "
                           "FROM audit_event)")
            return {row[0] for row in cursor.fetchall()}
        finally:
            connection.close()

    def _connect(self):
        if is_postgres():
            import psycopg2

            params = dict(self.db.connect_params)
            params.pop("max_connections", None)
            params.pop("stale_timeout", None)
            params.pop("timeout", None)
            connection = psycopg2.connect(dbname=self.db.database, **params)
            connection.autocommit = True
            return connection
        return sqlite3.connect(self.db.database, timeout=5, isolation_level=None, check_same_thread=False)

    def _run(self) -> None:
        while not self._stop.is_set():
            connection = None
            try:
                connection = self._connect()
                if is_postgres():
                    self._watch_postgres(connection)
                else:
                    self._watch_sqlite(connection)
            except Exception:
                log.exception("the change feed lost its connection; reconnecting")
                self._stop.wait(1.0)
            finally:
                if connection is not None:
                    try:
                        connection.close()
                    except Exception:
                        pass

    def _watch_sqlite(self, connection) -> None:
        cursor = connection.cursor()
        version = cursor.execute("PRAGMA data_version").fetchone()[0]
        last_look = time.monotonic()
        self._look(cursor)  # anything committed while (re)connecting
        while not self._stop.is_set():
            self._stop.wait(self._wait_for_debounce(self.poll_seconds))
            now = time.monotonic()
            current = cursor.execute("PRAGMA data_version").fetchone()[0]
            self.polls += 1
            if current != version or now - last_look >= self.fallback_seconds:
                version, last_look = current, now
                self._look(cursor)
            self._deliver()

    def _watch_postgres(self, connection) -> None:
        cursor = connection.cursor()
        cursor.execute(f"LISTEN {CHANNEL}")
        last_look = time.monotonic()
        self._look(cursor)  # a reconnect replays nothing: look once
        while not self._stop.is_set():
            ready, _, _ = select.select([connection], [], [], self._wait_for_debounce(0.5))
            self.polls += 1
            now = time.monotonic()
            rang = False
            if ready:
                connection.poll()
                rang = bool(connection.notifies)
                connection.notifies.clear()
            if rang or now - last_look >= self.fallback_seconds:
                last_look = now
                self._look(cursor)
            self._deliver()

    def _wait_for_debounce(self, default: float) -> float:
        with self._lock:
            dues = [s.due for s in self._subscribers if s.pending is not None]
        if not dues:
            return default
        return max(0.0, min(default, min(dues) - time.monotonic()))

    def _look(self, cursor) -> None:
        """Read the audit events committed since the last look and queue them for subscribers."""
        self.wakes += 1
        low = max(0, self._high - _REREAD)
        cursor.execute("SELECT id, action, account_id, officer_id FROM audit_event WHERE id > "
                       + ("%s" if is_postgres() else "?") + " ORDER BY id", (low,))
        rows = [row for row in cursor.fetchall() if row[0] not in self._seen]
        if not rows:
            return
        for row in rows:
            self._seen.add(row[0])
        self._high = max(self._high, rows[-1][0])
        self._seen = {i for i in self._seen if i > self._high - _REREAD}
        now = time.monotonic()
        with self._lock:
            for subscriber in self._subscribers:
                mine = [r for r in rows if r[1].startswith(subscriber.prefixes)]
                if not mine:
                    continue
                change = Change({r[1] for r in mine}, {r[2] for r in mine if r[2]}, {r[3] for r in mine if r[3]})
                if subscriber.pending is None:
                    subscriber.pending, subscriber.due = change, now + subscriber.debounce
                else:
                    subscriber.pending.merge(change)

    def _deliver(self) -> None:
        now = time.monotonic()
        with self._lock:
            due = [s for s in self._subscribers if s.pending is not None and s.due <= now]
            batches = [(s, s.pending) for s in due]
            for subscriber in due:
                subscriber.pending = None
        for subscriber, change in batches:
            try:
                subscriber.callback(change)
            except Exception:
                log.exception("a change-feed subscriber failed")
