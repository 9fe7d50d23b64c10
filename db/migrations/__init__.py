"""Versioned schema migrations: `upgrade()` applies the pending ones in order.

Each migration is a module `vNNNN_name.py` with `VERSION`, `NAME` and `upgrade(db)`. A
migration runs in one transaction with the row that records it, so a crash leaves the
schema at the previous version; running `upgrade()` again applies nothing twice.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from types import ModuleType

from db.database import database, is_sqlite
from db.models import SchemaVersion


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    module: ModuleType


class SchemaBehind(RuntimeError):
    """The database is older than this version of Arrears."""


def all_migrations() -> list[Migration]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("v"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.append(Migration(module.VERSION, module.NAME, module))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"migration versions must run 1..N without gaps, found {versions}")
    return found


def latest_version() -> int:
    return all_migrations()[-1].version


def current_version() -> int:
    """The schema version of the open database (0 for an empty one)."""
    if not database.table_exists(SchemaVersion._meta.table_name):
        return 0
    row = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return row.version if row else 0


def pending() -> list[Migration]:
    have = current_version()
    return [m for m in all_migrations() if m.version > have]


def upgrade() -> list[Migration]:
    """Apply every pending migration; return those applied (none when up to date)."""
    applied = []
    for migration in all_migrations():
        # Take the write lock before looking, so two `upgrade`s started together apply
        # each migration once.
        with database.atomic():
            if not database.table_exists(SchemaVersion._meta.table_name):
                database.create_tables([SchemaVersion])
            if SchemaVersion.get_or_none(SchemaVersion.version == migration.version):
                continue
            migration.module.upgrade(database)
            SchemaVersion.create(version=migration.version, name=migration.name)
        applied.append(migration)
    if applied and is_sqlite():
        database.execute_sql("PRAGMA optimize")
    return applied


def require_current() -> None:
    """Refuse to work on a schema older (or newer) than this code."""
    have, want = current_version(), latest_version()
    if have < want:
        raise SchemaBehind(
            f"the database schema is at version {have}, this Arrears needs {want}: run `arrears db upgrade`"
        )
    if have > want:
        raise SchemaBehind(
            f"the database schema is at version {have}, newer than this Arrears ({want}): upgrade Arrears"
        )
