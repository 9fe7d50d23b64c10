"""Migrations: applied once, safe to run again; a command on an old schema says what to do."""

import subprocess
import sys

from db.database import database
from db.migrations import current_version, latest_version, pending, upgrade


def test_upgrade_twice_applies_nothing_the_second_time(db):
    assert current_version() == latest_version()
    assert pending() == []
    assert upgrade() == []
    assert current_version() == latest_version()


def test_cli_upgrade_twice(db_url):
    run = lambda: subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "db", "upgrade"],
                                 capture_output=True, text=True, timeout=120)
    first, second = run(), run()
    assert first.returncode == 0, first.stderr
    assert "applied 0001 initial schema" in first.stdout
    assert second.returncode == 0 and "schema is up to date" in second.stdout


def test_command_on_empty_schema_says_run_upgrade(db_url):
    proc = subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "officers", "list"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "run `arrears db upgrade`" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_queue_indexes_exist(db):
    names = {ix.name for ix in database.get_indexes("account")}
    assert {"account_claimable", "account_claim_expiry", "account_waiting"} <= names
