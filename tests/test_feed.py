"""The change feed between real processes: another process commits a note, and this one's
feed hears of it (on SQLite through data_version, on PostgreSQL through NOTIFY), only for
the subscribers that asked for that kind of change, with bursts merged."""

import subprocess
import sys
import threading
import time

from db.audit import Actor
from db.database import database
from db.feed import Feed
from tests import floor
from tests.waiting import eventually

NOTE = """
import sys
from db.database import open_database
from db.activity import add_note
from db.audit import Actor
db = open_database(sys.argv[1])
with db.connection_context():
    for account_id in sys.argv[2:]:
        add_note(Actor("writer", role="admin"), int(account_id), "from another process")
"""


def _collector():
    heard, event = [], threading.Event()

    def callback(change):
        heard.append(change)
        event.set()

    return heard, event, callback


def test_another_process_commit_reaches_the_subscribers_that_asked(db, db_url):
    team = floor.team()
    first, second = floor.account(team), floor.account(team)
    notes, _, on_note = _collector()
    letters, _, on_letter = _collector()
    feed = Feed(database.obj, poll_seconds=0.05, fallback_seconds=30)
    feed.subscribe("activity.", on_note, debounce=0.3)
    feed.subscribe("letter.", on_letter)
    feed.start()
    try:
        time.sleep(0.3)
        assert notes == []  # what was committed before the feed started is not news
        subprocess.run([sys.executable, "-c", NOTE, db_url, str(first.id), str(second.id)], check=True, timeout=60)
        assert eventually(lambda: notes and {first.id, second.id} <= set().union(*(c.account_ids for c in notes)))
        time.sleep(0.5)
        # Two commits within the debounce arrive together; nobody asked about letters.
        assert len(notes) == 1 and notes[0].actions == {"activity.note"}
        assert letters == []

        # A commit from this process's own database connection is heard too: the feed
        # watches on a connection of its own.
        from db.activity import add_note

        add_note(Actor("local", role="admin"), first.id, "from this process")
        assert eventually(lambda: len(notes) == 2)
        assert notes[1].account_ids == {first.id}
    finally:
        feed.stop()
