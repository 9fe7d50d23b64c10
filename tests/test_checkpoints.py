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
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
BATCHES, ROWS, ROW_BYTES = 60, 50, 1000
WRITTEN = BATCHES * ROWS * ROW_BYTES
"""What the writer commits: 3 MB, in 60 transactions."""

WRITER = textwrap.dedent(f"""
    import os, sys, time
    from db.database import BulkCheckpoints, open_database, start_checkpointer, write_gate
    path, mode, stop, batches = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    db = open_database("sqlite:///" + path)
    db.connect()
    db.execute_sql("PRAGMA wal_autocheckpoint = 0")
    checkpoints = BulkCheckpoints(every=0) if mode == "bulk" else None
    if mode == "session":
        start_checkpointer(0.02)
    db.execute_sql("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT)")
    most = 0  # the WAL file's size never falls while writers write: this is the most it held

    def generation():  # the WAL header's salts: new each time the WAL starts again
        # (Not its checkpoint sequence number: each connection writes its own count there.)
        with open(path + "-wal", "rb") as wal:
            return wal.read(24)[16:24]

    # RESTART copies the writer waited for and wrote after; after how many the WAL started again
    waited = started_again = 0
    before_restart = None
    for batch in range(batches):
        with write_gate(), db.atomic():
            db.execute_sql("INSERT INTO filler (body) VALUES " + ", ".join(["(?)"] * {ROWS}),
                           ["x" * {ROW_BYTES}] * {ROWS})
            if checkpoints:
                # An import writes without a break: its batches take about this long, and
                # the next begins as soon as this one commits.
                time.sleep(0.02)
        if before_restart is not None:  # this batch (or an officer's commit) wrote at the WAL's start
            waited += 1
            started_again += generation() != before_restart
            before_restart = None
        if checkpoints:
            restarts, now = checkpoints.restarts, generation()
            checkpoints.between_transactions()
            if checkpoints.restarts != restarts:
                before_restart = now
        most = max(most, os.path.getsize(path + "-wal"))
    if checkpoints:
        checkpoints.close()
    open(stop, "w").close()  # the officer stops claiming
    time.sleep(1.0)  # a checkpointer that may run gets its turn
    # Measured before this process closes the database: the last connection to close
    # checkpoints whatever is left.
    print(os.path.getsize(path), most, os.path.getsize(path + "-wal"), waited, started_again, flush=True)
""")


OFFICER = textwrap.dedent("""
    import os, sys, time
    from db.database import open_database, write_gate
    path, stop = sys.argv[1], sys.argv[2]
    db = open_database("sqlite:///" + path)
    db.connect()
    db.execute_sql("CREATE TABLE IF NOT EXISTS claim (id INTEGER PRIMARY KEY, at REAL)")
    print("ready", flush=True)
    commits = 0
    while not os.path.exists(stop):
        with write_gate(), db.atomic():
            db.execute_sql("INSERT INTO claim (at) VALUES (?)", [time.time()])
        commits += 1
        time.sleep(0.002)
    print(commits, flush=True)
""")
"""An officer claiming all the while: a small commit every few milliseconds."""


class Writes(NamedTuple):
    """What a writer saw once it had committed its batches."""
    database: int
    """The main database file's size: pages reach it only through a checkpoint, and the
    WAL holds them until then."""
    most: int
    """The most the WAL file held while the writer wrote."""
    wal: int
    """The WAL file's size at the end."""
    waited: int
    """How many times a bulk writer waited for a copy that starts the WAL again."""
    started_again: int
    """After how many of those the WAL did start again before the writer's next batch."""


def _sizes_after_writes(tmp_path: Path, mode: str, officer: bool = False, batches: int = BATCHES) -> Writes:
    """Sizes and restarts once `batches` (3 MB by default) have been committed."""
    path = tmp_path / f"{mode}.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # An officer's session on this host holds the checkpointer's turn throughout.
    turn = os.open(str(path) + ".checkpointer", os.O_RDWR | os.O_CREAT, 0o640)
    fcntl.flock(turn, fcntl.LOCK_EX)
    stop = tmp_path / f"{mode}.stop"
    claims = None
    try:
        if officer:
            claims = subprocess.Popen([sys.executable, "-c", OFFICER, str(path), str(stop)], stdout=subprocess.PIPE,
                                      text=True, cwd=ROOT, env=env)
            assert claims.stdout.readline().strip() == "ready"
        done = subprocess.run([sys.executable, "-c", WRITER, str(path), mode, str(stop), str(batches)], capture_output=True, text=True,
                              cwd=ROOT, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return Writes(*map(int, done.stdout.split()))
    finally:
        stop.touch()
        if claims is not None:
            commits = int(claims.communicate(timeout=30)[0].strip())
            assert commits > BATCHES  # the officer committed throughout, between the batches
        os.close(turn)


def test_a_bulk_writer_checkpoints_without_waiting_for_the_hosts_turn_and_its_wal_starts_again(tmp_path):
    writes = _sizes_after_writes(tmp_path, "bulk")
    assert writes.database > WRITTEN
    assert writes.waited >= 3 and writes.started_again == writes.waited, writes
    assert writes.most < WRITTEN / 2, writes  # more batches pass during each copy on a busy machine
    assert writes.wal == 0  # and the writer, done, gives the WAL file's space back


def test_a_bulk_writers_wal_starts_again_while_an_officer_commits_all_the_while(tmp_path):
    # An officer's commit during the writer's last copy leaves a frame uncopied, and SQLite
    # starts the WAL again only once every frame is copied: the last copy is a RESTART.
    # (With the writer's next transaction left to start it again, the WAL reached 0.77 to
    # 1.2 MB of the 9 MB written; with the RESTART, 0.32 MB, or 0.55 MB on a busy machine,
    # where more batches pass during each copy. So what is checked is that the WAL starts
    # again after every wait, however many batches a copy takes: without the RESTART, only
    # 19 and 27 of 59 waits, in two runs, were followed by a fresh WAL.)
    writes = _sizes_after_writes(tmp_path, "bulk", officer=True, batches=3 * BATCHES)
    assert writes.database > 3 * WRITTEN
    assert writes.waited >= 3 and writes.started_again == writes.waited, writes
    assert writes.most < WRITTEN / 2, writes


def test_a_sessions_checkpointer_waits_for_the_hosts_turn(tmp_path):
    # The contrast that shows the test above can fail: without its turn, a session's
    # checkpointer leaves the pages in the WAL, and so do commits with autocheckpoint off.
    for mode in ("session", "none"):
        database, most, wal, _, _ = _sizes_after_writes(tmp_path, mode)
        assert database < 100_000
        assert most > WRITTEN and wal > WRITTEN


def test_an_officers_session_keeps_a_small_page_cache(tmp_path):
    """Operator commands keep SQLite's 32 MB page cache per connection; the officer's screens
    keep 512 KiB (a connection kept for the session's life, like the queue maintenance
    thread's, filled the big one, and each of a session's kept connections has its own)."""
    from db.database import close_database
    from tui.cli_context import Context

    url = f"sqlite:///{tmp_path / 'floor.db'}"
    # A session runs a background checkpointer: its commits checkpoint by themselves only
    # far beyond what an import lets the WAL reach (SESSION_AUTOCHECKPOINT_PAGES).
    for session, kib, pages in ((False, 32000, 10_000), (True, 512, 250_000)):
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


def test_the_descriptor_that_syncs_a_database_file_follows_a_new_file_at_its_path(tmp_path):
    """The bulk writer's thread syncs the database file through a descriptor it keeps open
    (closing one would drop SQLite's locks); a floor restored or copied over the same path
    is a new file, and is the one synced."""
    from db.database import _database_file

    path = tmp_path / "floor.db"
    path.write_bytes(b"old")
    first = _database_file(str(path))
    assert _database_file(str(path)) == first
    path.unlink()
    path.write_bytes(b"new")
    second = _database_file(str(path))
    assert os.fstat(second).st_ino == path.stat().st_ino
    assert os.pread(second, 3, 0) == b"new"
