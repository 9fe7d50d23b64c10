"""Fixtures: a fresh database per test (a SQLite file under tmp_path, or PostgreSQL when
ARREARS_TEST_DATABASE_URL is set), settings isolated from the developer's machine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

PG_URL = os.environ.get("ARREARS_TEST_DATABASE_URL")


def engine_name() -> str:
    return "postgresql" if PG_URL else "sqlite"


def pytest_report_header(config):
    return f"arrears database engine: {engine_name()}" + (f" ({PG_URL})" if PG_URL else " (file under tmp_path)")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch):
    """No developer's ARREARS_* variables or ./arrears.toml leak into a test."""
    for name in list(os.environ):
        if name.startswith("ARREARS_") and name != "ARREARS_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.chdir(home)
    monkeypatch.setenv("ARREARS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    yield


def _reset_postgres(url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE")
        cur.execute("CREATE SCHEMA public")
    conn.close()


@pytest.fixture
def db_url(tmp_path) -> str:
    """The URL of an empty database for this test."""
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'arrears.db'}"


@pytest.fixture
def db(db_url):
    """An open, migrated, empty database; models are bound to it."""
    from db.database import close_database, open_database
    from db.migrations import upgrade

    database = open_database(db_url)
    with database.connection_context():
        upgrade()
    database.connect(reuse_if_open=True)
    yield database
    close_database()


@pytest.fixture
def admin():
    from db.audit import Actor

    return Actor("test-admin", role="admin")


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])
