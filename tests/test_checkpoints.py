"""SQLite WAL checkpoints: a bulk writer (a placement import) copies its WAL back from its
own thread, even while an officer's session holds the host's checkpointer turn, and lets
the WAL start again from its beginning every so often; its commits never checkpoint
themselves. A session's checkpointer waits for the host's turn."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCHES, ROWS, ROW_BYTES = 60, 50, 1000
WRITTEN = BATCHES * ROWS * ROW_BYTES
"""What the writer commits: 3 MB, in 60 transactions."""

WRITER = textwrap.dedent(f"""
    import os, sys, time
    from db.database import BulkCheckpoints, open_database, start_checkpointer, write_gate
    path, mode = sys.argv[1], sys.argv[2]
    db = open_database("sqlite:///" + path)
    db.connect()
    db.execute_sql("PRAGMA wal_autocheckpoint = 0")
    checkpoints = BulkCheckpoints(every=0) if mode == "bulk" else None
    if mode == "session":
        start_checkpointer(0.02)
    db.execute_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)")
    for batch in range({BATCHES}):
        with write_gate(), db.atomic():
            db.execute_sql("INSERT INTO filler (body) VALUES " + ", ".join(["(?)"] * {ROWS}),
                           ["x" * {ROW_BYTES}] * {ROWS})
            if checkpoints:
                # An import writes without a break: its batches take about this long, and
                # the next begins as soon as this one commits.
                time.sleep(0.02)
        if checkpoints:
            checkpoints.between_transactions()
    if checkpoints:
        checkpoints.close()
    time.sleep(1.0)  # a checkpointer that may run gets its turn
    # Measured before this process closes the database: the last connection to close
    # checkpoints whatever is left. The WAL file never shrinks: its size is the most it held.
    print(os.path.getsize(path), os.path.getsize(path + "-wal"), flush=True)
""")


def _sizes_after_writes(tmp_path: Path, mode: str) -> tuple[int, int]:
    """The main database file's size and the WAL's once 3 MB have been committed: pages
    reach the main file only through a checkpoint (the WAL holds them until then)."""
    path = tmp_path / f"{mode}.db"
    # An officer's session on this host holds the checkpointer's turn throughout.
    turn = os.open(str(path) + ".checkpointer", os.O_RDWR | os.O_CREAT, 0o640)
    fcntl.flock(turn, fcntl.LOCK_EX)
    try:
        done = subprocess.run([sys.executable, "-c", WRITER, str(path), mode], capture_output=True, text=True,
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
        assert done.returncode == 0, done.stderr
        database, wal = done.stdout.split()
        return int(database), int(wal)
    finally:
        os.close(turn)


def test_a_bulk_writer_checkpoints_without_waiting_for_the_hosts_turn_and_its_wal_starts_again(tmp_path):
    database, wal = _sizes_after_writes(tmp_path, "bulk")
    assert database > WRITTEN
    assert wal < WRITTEN / 4, wal


def test_a_sessions_checkpointer_waits_for_the_hosts_turn(tmp_path):
    # The contrast that shows the test above can fail: without its turn, a session's
    # checkpointer leaves the pages in the WAL, and so do commits with autocheckpoint off.
    for mode in ("session", "none"):
        database, wal = _sizes_after_writes(tmp_path, mode)
        assert database < 100_000
        assert wal > WRITTEN


def test_an_officers_session_keeps_a_small_page_cache(tmp_path):
    """Operator commands keep SQLite's 32 MB page cache per connection; the officer's screens
    keep SQLite's default 2 MB (a connection kept for the session's life, like the queue
    maintenance thread's, filled the big one)."""
    from db.database import close_database
    from tui.cli_context import Context

    url = f"sqlite:///{tmp_path / 'floor.db'}"
    # A session runs a background checkpointer: its commits checkpoint by themselves only
    # far beyond what an import lets the WAL reach (SESSION_AUTOCHECKPOINT_PAGES).
    for session, kib, pages in ((False, 32000, 10_000), (True, 2000, 250_000)):
        db = Context(config_file=None, db_url=url).open_db(require_schema=False, session=session)
        try:
            assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -kib
            assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == pages
            db.close()
            with db.connection_context():  # and so does every connection a job opens
                assert db.execute_sql("PRAGMA cache_size").fetchone()[0] == -kib
                assert db.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == pages
        finally:
            close_database()


def test_an_officers_session_keeps_its_connections_for_the_next_job(tmp_path):
    """A session's jobs run in worker threads, each in a connection context of its own: the
    connection a finished job closed serves the next job, in whatever thread that runs;
    jobs at the same time each have their own. An operator's command opens its own."""
    import threading

    from db.database import close_database
    from tui.cli_context import Context

    url = f"sqlite:///{tmp_path / 'floor.db'}"

    def job_in_a_thread(db, hold: threading.Event | None = None, started: threading.Event | None = None):
        seen = {}

        def job():
            with db.connection_context():
                seen["conn"] = db.connection()
                seen["answer"] = db.execute_sql("SELECT 40 + 2").fetchone()[0]
                if started is not None:
                    started.set()
                if hold is not None:
                    hold.wait(10)

        thread = threading.Thread(target=job)
        thread.start()
        return thread, seen

    def one_job_then_another(db) -> tuple[dict, dict]:
        seen = []
        for _ in range(2):
            thread, found = job_in_a_thread(db)
            thread.join()
            seen.append(found)
        return seen[0], seen[1]

    db = Context(config_file=None, db_url=url).open_db(require_schema=False, session=True)
    try:
        seen_first, seen_second = one_job_then_another(db)
        assert seen_first["answer"] == seen_second["answer"] == 42
        assert seen_second["conn"] is seen_first["conn"]  # kept, and used from another thread
        hold, started = threading.Event(), threading.Event()
        busy, seen_busy = job_in_a_thread(db, hold, started)
        started.wait(10)
        other, seen_other = job_in_a_thread(db)
        other.join()
        hold.set()
        busy.join()
        assert seen_other["conn"] is not seen_busy["conn"]  # never shared by two jobs at once
    finally:
        close_database()
    db = Context(config_file=None, db_url=url).open_db(require_schema=False, session=False)
    try:
        seen_first, seen_second = one_job_then_another(db)
        assert seen_second["conn"] is not seen_first["conn"]
    finally:
        close_database()
