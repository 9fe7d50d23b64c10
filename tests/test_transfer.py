"""`arrears db backup` and `arrears db copy`: a consistent backup of a SQLite floor, and a
whole floor copied (SQLite to PostgreSQL, and SQLite to SQLite) with every table's rows and
every account's ledger sum equal on both sides, refusing a target that already holds one."""

import datetime as dt
import os
import sqlite3
import subprocess
import sys

import pytest

PG_ADMIN = os.environ.get("ARREARS_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
COPY_DB = "arrears_copy_test"


def arrears(url, *args):
    return subprocess.run([sys.executable, "-m", "tui.cli", "--db", url, *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def sqlite_floor(tmp_path):
    """A demo floor in a SQLite file, with a payment and its reversal in the ledger."""
    url = f"sqlite:///{tmp_path / 'floor.db'}"
    built = arrears(url, "demo", "--accounts", "300", "--seed", "4", "--as-of", "2026-06-10")
    assert built.returncode == 0, built.stderr
    ref = sqlite3.connect(tmp_path / "floor.db").execute(
        "SELECT reference FROM account WHERE balance_minor > 10000 ORDER BY id LIMIT 1").fetchone()[0]
    for args in (["payments", "post", ref, "25.00", "--method", "cheque", "--key", "chq-1", "--date", "2026-06-09"],
                 ["payments", "reverse", "chq-1", "--reason", "bounced"]):
        done = arrears(url, *args)
        assert done.returncode == 0, done.stderr
    return url, tmp_path / "floor.db"


def tables_and_sums(connection, placeholder_rows):
    from db.transfer import floor_models

    counts = {}
    for model in floor_models():
        cursor = connection.cursor()
        cursor.execute(f'SELECT COUNT(*) FROM "{model._meta.table_name}"')
        counts[model._meta.table_name] = cursor.fetchone()[0]
    cursor = connection.cursor()
    cursor.execute("SELECT account_id, SUM(amount_minor) FROM ledger_entry GROUP BY account_id ORDER BY account_id")
    return counts, [(a, int(s)) for a, s in cursor.fetchall()]


def test_backup_is_a_checked_copy_and_never_overwrites(sqlite_floor, tmp_path):
    url, path = sqlite_floor
    target = tmp_path / "backup.db"
    done = arrears(url, "db", "backup", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"backed up {path} to {target} (")
    source, copy = sqlite3.connect(path), sqlite3.connect(target)
    assert tables_and_sums(copy, None) == tables_and_sums(source, None)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    again = arrears(url, "db", "backup", str(target))
    assert again.returncode == 1 and again.stderr.strip() == f"arrears: {target} exists already: name a new file"


def test_a_postgresql_floor_is_backed_up_by_pg_dump():
    shown = arrears("postgresql://postgres@127.0.0.1:5432/test", "db", "backup", "/tmp/floor.dump")
    assert shown.returncode == 0
    assert "pg_dump --format=custom --file=/tmp/floor.dump --host=127.0.0.1 --port=5432 --username=postgres test" \
        in shown.stdout


def test_copy_to_sqlite_then_refuses_a_second_time(sqlite_floor, tmp_path):
    url, path = sqlite_floor
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    done = arrears(url, "db", "copy", "--to", target)
    assert done.returncode == 0, done.stderr
    assert "equal on both sides" in done.stdout
    assert tables_and_sums(sqlite3.connect(tmp_path / "copy.db"), None) == tables_and_sums(sqlite3.connect(path), None)
    again = arrears(url, "db", "copy", "--to", target)
    assert again.returncode == 1 and "already holds a floor" in again.stderr


def _pg_target() -> str:
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(PG_ADMIN, connect_timeout=3)
    except psycopg2.OperationalError:
        pytest.skip("no PostgreSQL server to copy into")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {COPY_DB}")
        cur.execute(f"CREATE DATABASE {COPY_DB}")
    admin.close()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{COPY_DB}"


def test_copy_from_sqlite_to_postgresql_keeps_every_row_and_ledger_sum(sqlite_floor):
    import psycopg2

    url, path = sqlite_floor
    target = _pg_target()
    done = arrears(url, "db", "copy", "--to", target)
    assert done.returncode == 0, done.stderr
    pg = psycopg2.connect(target)
    ours, theirs = tables_and_sums(sqlite3.connect(path), None), tables_and_sums(pg, None)
    assert theirs == ours and ours[0]["account"] == 300 and ours[0]["ledger_entry"] > 300
    # The copy is a working floor: its ids continue, its booleans and times are typed.
    cur = pg.cursor()
    cur.execute("SELECT pg_typeof(dispute)::text, pg_typeof(placed_on)::text FROM account LIMIT 1")
    assert cur.fetchone() == ("boolean", "date")
    pg.close()
    shown = arrears(target, "account", "show", "A00000001", "--at", "2026-06-10T16:00:00Z")
    assert shown.returncode == 0 and "A00000001" in shown.stdout
    note = arrears(target, "payments", "post", "A00000001", "1.00", "--method", "card", "--key", "after-copy",
                   "--date", str(dt.date(2026, 6, 9)))
    assert note.returncode == 0, note.stderr
