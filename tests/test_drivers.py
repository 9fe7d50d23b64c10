"""A SQLite session does without the PostgreSQL driver, and still gets it if it needs it."""

import subprocess
import sys
import textwrap

from tests.conftest import PG_URL

SCRIPT = textwrap.dedent('''
    import sys
    from db.drivers import without_postgres_driver
    assert without_postgres_driver()
    from db.database import open_database
    db = open_database(sys.argv[1])
    with db.connection_context():
        assert db.execute_sql("SELECT 1").fetchone()[0] == 1
    assert "psycopg2" not in sys.modules, "a SQLite session loaded psycopg2"
    if len(sys.argv) > 2:  # the same process opens PostgreSQL after all
        db = open_database(sys.argv[2])
        with db.connection_context():
            assert db.execute_sql("SELECT 1").fetchone()[0] == 1
            assert db.execute_sql("SELECT %s::jsonb", ('{"a": 1}',)).fetchone()[0] == {"a": 1}
    print("ok")
''')


def test_a_sqlite_session_runs_without_psycopg2_and_can_still_open_postgresql(tmp_path):
    argv = [sys.executable, "-c", SCRIPT, f"sqlite:///{tmp_path / 'floor.db'}"]
    if PG_URL:
        argv.append(PG_URL)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
