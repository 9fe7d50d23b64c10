"""Migrations: applied once, safe to run again; a command on an old schema says what to do."""

import subprocess
import sys

import pytest

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


def test_no_index_repeats_the_head_of_another(db):
    """Every insert writes every index of its table: a plain index whose columns are the
    leading columns of another full (not partial) index on the same table only costs."""
    from db.models import MODELS

    repeated = []
    for model in MODELS:
        indexes = database.get_indexes(model._meta.table_name)
        for short in indexes:
            if short.unique or " WHERE " in (short.sql or "").upper():
                continue
            for long in indexes:
                if long.name == short.name or " WHERE " in (long.sql or "").upper():
                    continue
                if list(long.columns[:len(short.columns)]) == list(short.columns) and \
                        (len(long.columns) > len(short.columns) or short.name > long.name):
                    repeated.append(f"{short.name} repeats {long.name}")
    assert repeated == []


def test_name_search_still_reads_an_index(db):
    from db.database import is_sqlite

    if not is_sqlite():
        pytest.skip("SQLite's plan; PostgreSQL's planner picks by its statistics")
    plan = " ".join(str(row) for row in database.execute_sql(
        "EXPLAIN QUERY PLAN SELECT id FROM debtor WHERE search_name >= ? AND search_name < ?", ["smi", "smj"]))
    assert "USING COVERING INDEX debtor_name_born" in plan or "USING INDEX debtor_name_born" in plan
