"""The change feed: how long after another process commits a write the feed hears of it
(median and p95), on SQLite (data_version polled at `floor.poll_ms`) and PostgreSQL
(NOTIFY), and what an idle feed costs (CPU, queries per second). The floor screen (#7)
adds its own query and paint on top of these figures."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.benchmarks import Options, Row, benchmark

WRITER = """
import random, sys, time
from db.database import open_database
from db.activity import add_note
from db.audit import Actor
db = open_database(sys.argv[1])
count = int(sys.argv[3])
with db.connection_context():
    for i in range(count):
        # Spaced wider than the poll, at random phases, so each commit is heard on its own.
        time.sleep(random.uniform(0.4, 0.7))
        add_note(Actor("bench", role="admin"), int(sys.argv[2]), f"note {i}")
        print(time.time(), flush=True)
"""


def _measure(url: str, samples: int, poll_seconds: float) -> tuple[list[float], float, float]:
    from db.audit import Actor
    from db.database import close_database, database, open_database
    from db.migrations import upgrade
    from db.models import Account
    from db.demo import generate
    from config import load_settings
    from db.feed import Feed

    db = open_database(url)
    with db.connection_context():
        upgrade()
        if not Account.select().exists():
            generate(Actor("bench", role="admin"), accounts=200, seed=3, settings=load_settings())
        account_id = Account.select(Account.id).first().id
    heard: list[float] = []
    lock = threading.Lock()

    def on_change(change):
        with lock:
            heard.append(time.time())

    feed = Feed(database.obj, poll_seconds=poll_seconds, fallback_seconds=5)
    feed.subscribe("activity.", on_change, debounce=0)
    feed.start()
    # Idle cost first: CPU seconds and looks taken over a quiet spell.
    time.sleep(0.5)
    cpu, wakes, started = time.process_time(), feed.wakes, time.monotonic()
    time.sleep(5)
    idle_cpu = (time.process_time() - cpu) / (time.monotonic() - started) * 100
    idle_looks = (feed.wakes - wakes) / (time.monotonic() - started)
    out = subprocess.run([sys.executable, "-c", WRITER, url, str(account_id), str(samples)], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parents[2],
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    time.sleep(1)
    feed.stop()
    close_database()
    committed = [float(line) for line in out.stdout.split()]
    latencies = [(h - c) * 1000 for c, h in zip(committed, heard)]
    return latencies, idle_cpu, idle_looks


@benchmark("feed")
def run(options: Options) -> list[Row]:
    from config import load_settings

    poll = load_settings().floor.poll_ms / 1000
    samples = 20 if options.quick else 60
    rows = []
    targets = [("SQLite", None)] + ([("PostgreSQL", options.pg_url)] if options.pg_url else [])
    for engine, url in targets:
        with tempfile.TemporaryDirectory() as tmp:
            latencies, cpu, looks = _measure(url or f"sqlite:///{tmp}/feed.db", samples, poll)
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1]
        rows += [
            Row(f"{engine}: commit in another process -> feed, median", f"{statistics.median(latencies):.0f} ms"),
            Row(f"{engine}: commit in another process -> feed, p95", f"{p95:.0f} ms", "< 1000 ms", p95 < 1000),
            Row(f"{engine}: idle feed CPU", f"{cpu:.2f} %"),
            Row(f"{engine}: idle feed audit-log reads per second", f"{looks:.2f}"),
        ]
    return rows
