"""The connection to the central database: one proxy that every model binds to, opened
from a URL (`sqlite:///PATH` or `postgresql://USER@HOST:PORT/NAME`).

Connections are per thread (Peewee keeps them thread-local) and never opened implicitly
(`autoconnect=False`): every job wraps its work in `database.connection_context()`. In an
officer's session a closed SQLite connection goes back to a pool for the next job.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from peewee import Database, DatabaseProxy, PostgresqlDatabase, SqliteDatabase

database = DatabaseProxy()


class DatabaseUrlError(ValueError):
    """The URL names no database Arrears can open."""


def utcnow() -> dt.datetime:
    """Now, as the naive UTC datetime the database stores."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def is_sqlite() -> bool:
    return isinstance(database.obj, SqliteDatabase)


def is_postgres() -> bool:
    return isinstance(database.obj, PostgresqlDatabase)


BULK_CACHE_KIB = 32000
"""SQLite's page cache per connection, in KiB, for operator commands: imports, copies and
demo floors read and write the same pages many times over."""
SESSION_CACHE_KIB = 512
"""The same for an officer's session: its reads are index lookups, and a page it misses
comes from the operating system's file cache, shared by every session. Its connections
live for the session (pooled, see `make_database`), each with a cache of its own: at
SQLite's default of 2000 KiB a session after ten accounts held 73 MB, at 512 KiB 70 MB,
with `n`, `enter` and `down` no slower (`python -m tests.benchmarks tui`'s session
figures on a 1,000,000-account floor)."""


SESSION_AUTOCHECKPOINT_PAGES = 250_000
"""WAL pages at which an officer's commit checkpoints by itself (about 1 GB). Sessions run
a background checkpointer (`start_checkpointer`), so this only ever matters if none runs.
It is set above what a placement import lets the WAL reach (near 100,000 pages at a
million accounts): at SQLite's usual mark an officer's commit during an import copied
hundreds of megabytes back while holding the write gate."""

SESSION_THREADS = 3
"""Connections a session holds for as long as it runs, beside its jobs': the main thread's
(opened at start), the WAL checkpointer's and the queue maintenance thread's."""


def make_database(url: str, *, pool_size: int = 4, busy_timeout_ms: int = 5000,
                  cache_kib: int = BULK_CACHE_KIB, pooled: bool = False) -> Database:
    """A Peewee database for `url`, not yet connected (`cache_kib`: SQLite's page cache per
    connection; `pooled`: SQLite connections are kept for the next job, see below)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy spells them.
        rest = unquote(url.split("://", 1)[1])
        path = rest[1:] if rest.startswith("/") else ""
        if not path or path == ":memory:":
            raise DatabaseUrlError("a SQLite URL needs a file path: sqlite:///PATH")
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        options = dict(
            autoconnect=False,
            # Writers begin IMMEDIATE: a deferred transaction that later upgrades to a write
            # fails at once with "database is locked" instead of waiting its turn.
            lock_type="IMMEDIATE",
            pragmas={
                "journal_mode": "wal",
                "foreign_keys": 1,
                "synchronous": "normal",
                "busy_timeout": busy_timeout_ms,
                "cache_size": -cache_kib,
                "temp_store": "memory",
                # Checkpoints are a background job (`start_checkpointer`) or a bulk writer's
                # own (`BulkCheckpoints`, which turns this off while it writes); this high mark
                # is the safety net for processes that run neither.
                "wal_autocheckpoint": 10000,
            },
        )
        if pooled:
            options["pragmas"]["wal_autocheckpoint"] = SESSION_AUTOCHECKPOINT_PAGES
            # An officer's session runs each job on a connection of its own, two or three
            # jobs a key. Opening one (pragmas, reading the schema) and closing it (freeing
            # its cache) cost about 3 ms of CPU a job, a tenth of a busy session's CPU; a
            # pool keeps them for the next job, with their caches warm. A pooled connection
            # moves between threads (one at a time), hence `check_same_thread`. The pool's
            # `timeout` is how long a job waits for a free connection; SQLite's own wait
            # for a lock is the `busy_timeout` pragma.
            from playhouse.pool import PooledSqliteDatabase

            return PooledSqliteDatabase(str(Path(path).expanduser()), max_connections=pool_size + SESSION_THREADS,
                                        timeout=busy_timeout_ms / 1000, check_same_thread=False, **options)
        return SqliteDatabase(str(Path(path).expanduser()), timeout=busy_timeout_ms / 1000, **options)
    if parsed.scheme in {"postgresql", "postgres"}:
        from playhouse.pool import PooledPostgresqlDatabase

        from db.drivers import postgres_driver_ready

        postgres_driver_ready()

        name = parsed.path.lstrip("/")
        if not name:
            raise DatabaseUrlError("a PostgreSQL URL needs a database name: postgresql://USER@HOST:PORT/NAME")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return PooledPostgresqlDatabase(
            name,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or None,
            port=parsed.port or None,
            max_connections=pool_size,
            stale_timeout=300,
            timeout=30,
            autoconnect=False,
            **options,
        )
    raise DatabaseUrlError(f"unknown database URL scheme {parsed.scheme!r}: use sqlite:/// or postgresql://")


def open_database(url: str, *, pool_size: int = 4, busy_timeout_ms: int = 5000,
                  cache_kib: int = BULK_CACHE_KIB, pooled: bool = False) -> Database:
    """Point every model at the database named by `url` and return it."""
    current = database.obj
    if current is not None and not current.is_closed():
        current.close()
    db = make_database(url, pool_size=pool_size, busy_timeout_ms=busy_timeout_ms, cache_kib=cache_kib,
                       pooled=pooled)
    database.initialize(db)
    return db


def open_from_settings(settings, *, cache_kib: int = BULK_CACHE_KIB, pooled: bool = False) -> Database:
    """`open_database` with the URL and limits from `Settings.database`."""
    cfg = settings.database
    return open_database(cfg.resolved_url(), pool_size=cfg.pool_size, busy_timeout_ms=cfg.busy_timeout_ms,
                         cache_kib=cache_kib, pooled=pooled)


def close_database() -> None:
    db = database.obj
    if db is None:
        return
    if not db.is_closed():
        db.close()
    close_all = getattr(db, "close_all", None)
    if close_all is not None:
        close_all()


STATISTICS_AFTER_ROWS = 1000


def refresh_statistics(rows_written: int) -> bool:
    """PostgreSQL, after a bulk write (a demo floor, the daily refresh, an import) of at
    least `STATISTICS_AFTER_ROWS` rows: VACUUM and take the planner's statistics now,
    outside any transaction. Autovacuum would in time (if it is on); until then

    - the planner guesses row counts, and its guesses put the claim's zone search on the
      wrong index (SQLite's planner takes the claim index without them);
    - every rewritten row has left a dead entry in the claim index, which the next claims
      step over: after the daily refresh of 1,000,000 accounts the first thousand claims
      took 4 ms each (median) where later ones took under 2."""
    if not is_postgres() or rows_written < STATISTICS_AFTER_ROWS or database.in_transaction():
        return False
    database.execute_sql("VACUUM (ANALYZE)")
    return True


class _WriteGate(threading.local):
    depth = 0
    fd: int | None = None


_gate = _WriteGate()


@contextmanager
def write_gate():
    """SQLite: writers queue on an OS file lock beside the database before BEGIN IMMEDIATE.

    SQLite allows one writer at a time anyway; its busy handler makes the others sleep and
    retry, and under load some writers lose every retry for seconds. The kernel hands a
    file lock to a waiter the moment it is free. Re-entrant within a thread; a no-op on
    PostgreSQL, whose row locks need no help.
    """
    if not is_sqlite() or _gate.depth:
        _gate.depth += 1
        try:
            yield
        finally:
            _gate.depth -= 1
        return
    import fcntl

    fd = os.open(database.obj.database + ".writelock", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        _gate.depth = 1
        try:
            yield
        finally:
            _gate.depth = 0
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


_checkpointer: threading.Thread | None = None


def start_checkpointer(interval: float = 1.0) -> None:
    """SQLite: copy the WAL back into the database from a background thread, so that no
    officer's commit pays for a checkpoint (a commit that does stalls for milliseconds).
    PASSIVE never blocks readers or writers. One thread per process; safe to call again.
    A bulk writer uses `BulkCheckpoints` instead."""
    global _checkpointer
    if not is_sqlite() or (_checkpointer is not None and _checkpointer.is_alive()):
        return
    db = database.obj

    def run() -> None:
        import fcntl

        # One checkpointer per database file on the host: the sessions take turns holding a
        # lock beside it, and only the holder checkpoints (eight at once only fight).
        fd = os.open(db.database + ".checkpointer", os.O_RDWR | os.O_CREAT, 0o640)
        holding = False
        while True:
            time.sleep(interval)
            if not holding:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    holding = True
                except OSError:
                    continue
            try:
                # The thread keeps its connection: opening one each second (pragmas, schema)
                # cost an idle session more CPU than the checkpoint with nothing to copy.
                db.connect(reuse_if_open=True)
                db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # a busy or closing database: a new connection next tick
                try:
                    db.close()
                except Exception:
                    pass
                continue

    _checkpointer = threading.Thread(target=run, name="arrears-wal-checkpoint", daemon=True)
    _checkpointer.start()


_database_files: dict[str, int] = {}


def _database_file(path: str) -> int:
    """A descriptor on the database file for syncing it, opened once per file and never
    closed: closing any descriptor on a file drops every POSIX lock the process holds on
    it, SQLite's included (see "How To Corrupt Your Database Files", 2.2.1)."""
    fd = _database_files.get(path)
    if fd is None or os.fstat(fd).st_ino != os.stat(path).st_ino:  # new, or a new file there
        fd = _database_files[path] = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    return fd


BULK_CHECKPOINT_SECONDS = 1.0
"""How long a bulk writer writes between the moments it lets the WAL start again."""


class BulkCheckpoints:
    """SQLite, for a bulk writer (a placement import) on this thread's connection: its
    commits never checkpoint, a thread of its own copies the WAL back, and between its
    transactions the writer now and then waits for the WAL to start again.

    - A commit that checkpoints does it while it still holds the host's write gate, and
      officers' claims queue behind the copy.
    - SQLite starts the WAL again from its beginning only once every frame in it has been
      copied back. A checkpointer beside a writer that never pauses never catches up, so
      the WAL only grew: 2 GB per 100,000 placements, a slower read for every officer, and
      each page copied back as often as a batch wrote it.
    - So each `every` seconds the thread copies what the WAL holds while the writer goes
      on, and again what came meanwhile; then the writer waits while the thread copies
      the little that came last and starts the WAL again (a RESTART checkpoint: without
      it, an officer's commit during that last copy left a frame uncopied, the WAL went
      on growing, and at 250,000 pages an officer's commit checkpointed it, holding the
      gate for 100 to 300 ms).
    - Only a RESTART shuts officers' writes out, and only for as long as it takes to copy
      what they committed during the last copy. SQLite syncs the database file only after
      a copy that reached the end of the WAL: one the writer ran beside leaves every page
      it copied unsynced, and the RESTART's sync, holding the write lock, then flushed the
      whole second's copying (60 to 200 ms, every claim waiting). So the thread syncs the
      database file itself after each copy, holding no lock.
    The WAL peaks near 500 MB at a million accounts (about a second of writing). When the
    writer is done (`close`), a TRUNCATE gives the WAL file's space back."""

    UNPAUSED_COPIES = 2
    """Copies while the writer goes on, each catching up with what came during the last;
    then one it waits for. (Each copy first syncs the WAL to disk: the writer's wait is
    mostly that sync, and it shrinks with what is left to copy.)"""

    RESTART_WAIT_MS = 50
    """How long a RESTART waits for officers' reads on the old WAL to finish."""
    RESTART_TRIES_SECONDS = 1.0
    """How long the writer waits for a RESTART that finds the WAL busy to try again."""

    def __init__(self, every: float = BULK_CHECKPOINT_SECONDS, *, enabled: bool = True):
        self.active = is_sqlite() and enabled
        self._restart: str | None = None
        self.every = every
        self._started = time.monotonic()
        self._copying = 0
        self.restarts = 0
        """How many times the writer has waited for a copy that starts the WAL again."""
        if not self.active:
            return
        self._autocheckpoint = database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0]
        database.execute_sql("PRAGMA wal_autocheckpoint = 0")
        self._wanted = threading.Event()
        self._finished = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._run, args=(database.obj,), name="arrears-bulk-checkpoint",
                                        daemon=True)
        self._thread.start()

    def _run(self, db) -> None:
        try:
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._closing:
                    return
                try:
                    db.connect(reuse_if_open=True)
                    self._copy_back(db)
                except OSError as exc:  # the disk refused the sync: say so, SQLite's own syncs still guard
                    logging.getLogger("arrears.db").warning("syncing %s failed: %s", db.database, exc)
                except Exception:  # busy or closing: the writer goes on, the next copy catches up
                    pass
                self._finished.set()
        finally:
            if not db.is_closed():
                db.close()

    def _copy_back(self, db) -> None:
        deadline = time.monotonic() + self.RESTART_TRIES_SECONDS
        while True:
            db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)")
            os.fdatasync(_database_file(db.database))
            if self._restart is None:
                return
            # A RESTART waits for readers still on the old WAL while holding the write
            # lock; a report reading for minutes must not shut officers out for minutes:
            # past RESTART_WAIT_MS it gives up.
            db.execute_sql(f"PRAGMA busy_timeout = {self.RESTART_WAIT_MS}")
            # Officers queue at the gate (woken the moment it is free) rather than in
            # SQLite's busy handler, which sleeps in growing steps.
            with write_gate():
                busy = db.execute_sql(f"PRAGMA wal_checkpoint({self._restart})").fetchone()[0]
            # Busy: another process's checkpointer (an officer's session runs one) had the
            # WAL, or a reader outlasted the wait. Once it is done, copy what it left.
            if not busy or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def _copy(self, restart: str | None = None) -> None:
        """Ask the thread for a copy; `restart` "RESTART" or "TRUNCATE" (which also gives
        the WAL file's space back) for one that starts the WAL again."""
        self._restart = restart
        self._finished.clear()
        self._wanted.set()

    def between_transactions(self) -> None:
        """Call with no transaction open, after each of the writer's transactions."""
        if not self.active:
            return
        if not self._copying:
            if time.monotonic() - self._started >= self.every:
                self._copying = 1
                self._copy()
        elif self._finished.is_set():
            self._copying += 1
            last = self._copying > self.UNPAUSED_COPIES
            self._copy("RESTART" if last else None)
            if last:
                # What the writer added during the last copy, copied before it writes again.
                self._finished.wait(timeout=60)
                self.restarts += 1
                self._copying = 0
                self._started = time.monotonic()

    def close(self) -> None:
        """Once the writer is done: the WAL copied back and cut to nothing (it held up to
        a second of the writer's pages, and a WAL file keeps its size until the last
        connection to the database closes, which on a working floor is never)."""
        if not self.active:
            return
        if self._copying:
            self._finished.wait(timeout=60)
        self._copy("TRUNCATE")
        self._finished.wait(timeout=60)
        self._closing = True
        self._wanted.set()
        self._thread.join(timeout=60)
        if not database.is_closed():
            database.execute_sql(f"PRAGMA wal_autocheckpoint = {int(self._autocheckpoint)}")


@contextmanager
def session():
    """A connection for this thread for the block: opened (and closed) here unless the
    thread already has one, which is left open for its owner."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield database
    finally:
        if opened:
            database.close()
