"""Which database driver a process loads.

Peewee imports psycopg2 as it is imported itself, and psycopg2 brings libpq with its TLS,
Kerberos and LDAP libraries: about 10 MB of every officer's session, which on a SQLite
floor never talks to PostgreSQL. `without_postgres_driver()` is called before anything
imports Peewee, by a session that knows its database is SQLite; a process that later opens
PostgreSQL after all gets the driver then (`postgres_driver_ready`).

This module must not import Peewee.
"""

from __future__ import annotations

import sys


def without_postgres_driver() -> bool:
    """Import Peewee without psycopg2 (a SQLite session). False if Peewee is already in."""
    if "peewee" in sys.modules:
        return False
    saved = sys.modules.get("psycopg2", _MISSING)
    sys.modules["psycopg2"] = None  # makes `import psycopg2` raise ImportError, as if absent
    try:
        import peewee  # noqa: F401
    finally:
        if saved is _MISSING:
            del sys.modules["psycopg2"]
        else:
            sys.modules["psycopg2"] = saved
    return True


def postgres_driver_ready() -> None:
    """Give Peewee psycopg2 now if it was imported without it, as Peewee itself would have."""
    import peewee

    if peewee.psycopg2 is not None:
        return
    import psycopg2
    from psycopg2 import extensions
    from psycopg2.extras import Json, register_uuid

    register_uuid()
    peewee.psycopg2, peewee.pg_extensions, peewee.Json_pg2 = psycopg2, extensions, Json


_MISSING = object()
