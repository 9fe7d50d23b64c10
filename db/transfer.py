"""Moving and keeping a floor: a consistent backup while officers work (SQLite's online
backup API; PostgreSQL's own `pg_dump`), and a copy of a whole floor into another database
(SQLite to PostgreSQL when a floor outgrows one file), verified before it says done: every
table's row count and every account's ledger sum equal on both sides.

The copy reads the source table by table in key order (parents before children, so every
foreign key points at a row already copied), converts each value through its model field
(SQLite's 0/1 and text dates become PostgreSQL's booleans and timestamps) and writes
batches into the target, each batch its own transaction.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from peewee import sort_models

from db.database import make_database

BATCH = 5000


class TransferError(Exception):
    """A backup or copy that cannot be made; the message says why."""


def backup_sqlite(source: Path, target: Path, *, progress: Callable[[int, int], None] | None = None) -> int:
    """Copy a live SQLite floor to `target` page by page with SQLite's online backup (officers
    keep working; what the copy holds is one consistent moment). Returns the pages copied."""
    import sqlite3

    target = Path(target)
    if target.exists():
        raise TransferError(f"{target} exists already: name a new file")
    if not target.parent.is_dir():
        raise TransferError(f"there is no directory {target.parent}")
    partial = target.with_name(target.name + ".partial")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        def step(status, remaining, total):
            if progress:
                progress(total - remaining, total)
        src.backup(dst, pages=4096, progress=step)
        pages = dst.execute("PRAGMA page_count").fetchone()[0]
        problem = dst.execute("PRAGMA quick_check").fetchone()[0]
        if problem != "ok":
            raise TransferError(f"the copy failed its check: {problem}")
    except sqlite3.Error as exc:
        dst.close()
        partial.unlink(missing_ok=True)
        raise TransferError(f"the backup failed: {exc}") from None
    finally:
        src.close()
    dst.close()
    os.replace(partial, target)
    return pages


def pg_dump_command(url: str, target: Path) -> str:
    """The command that backs up a PostgreSQL floor consistently while it is in use."""
    import shlex

    parsed = urlparse(url)
    parts = ["pg_dump", "--format=custom", f"--file={target}"]
    if parsed.hostname:
        parts.append(f"--host={parsed.hostname}")
    if parsed.port:
        parts.append(f"--port={parsed.port}")
    if parsed.username:
        parts.append(f"--username={parsed.username}")
    parts.append(parsed.path.lstrip("/"))
    return " ".join(shlex.quote(p) for p in parts)


def floor_models() -> list:
    """Every table of a floor, parents first (the schema's own version table aside: the
    target gets it from its migrations)."""
    from db import models

    found = {cls for cls in vars(models).values()
             if isinstance(cls, type) and issubclass(cls, models.BaseModel) and cls is not models.BaseModel}
    found.discard(models.SchemaVersion)
    return sort_models(found)


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    accounts_checked: int = 0
    ledger_total_minor: int = 0


def _key_columns(model) -> list[str]:
    """What to read a table in order by: its key, or every column for a table without one."""
    from peewee import CompositeKey

    pk = model._meta.primary_key
    if isinstance(pk, CompositeKey):
        return [model._meta.fields[name].column_name for name in pk.field_names]
    if pk:
        return [pk.column_name]
    return [f.column_name for f in model._meta.sorted_fields]


def _insert_sql(target, table: str, columns: list[str]) -> str:
    cols = ", ".join(f'"{c}"' for c in columns)
    if _is_pg(target):
        return f'INSERT INTO "{table}" ({cols}) VALUES %s'
    return f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join("?" for _ in columns)})'


def _is_pg(db) -> bool:
    from peewee import PostgresqlDatabase

    return isinstance(db, PostgresqlDatabase)


def _write(target, sql: str, rows: list[tuple]) -> None:
    with target.atomic():
        cursor = target.cursor()
        if _is_pg(target):
            from psycopg2.extras import execute_values

            execute_values(cursor, sql, rows, page_size=1000)
        else:
            cursor.executemany(sql, rows)


def copy_floor(source_url: str, target_url: str, *,
               progress: Callable[[str, int], None] | None = None) -> CopyReport:
    """Copy every table of the floor at `source_url` into the empty database at
    `target_url` (migrated first), then verify (see the module's docstring)."""
    from db.database import database
    from db.migrations import upgrade

    if source_url == target_url:
        raise TransferError("the target is the source: name another database")
    source = make_database(source_url)
    target = make_database(target_url)
    # The target's schema comes from the migrations, as any new floor's does.
    previous = database.obj
    database.initialize(target)
    try:
        with target.connection_context():
            if target.table_exists("account") and target.execute_sql("SELECT 1 FROM account LIMIT 1").fetchone():
                raise TransferError(f"{_safe(target_url)} already holds a floor: copy into an empty database")
            upgrade()
    finally:
        database.initialize(previous)
    report = CopyReport()
    with source.connection_context(), target.connection_context():
        for model in floor_models():
            table = model._meta.table_name
            fields = model._meta.sorted_fields
            columns = [f.column_name for f in fields]
            order = ", ".join(f'"{c}"' for c in _key_columns(model))
            sql = _insert_sql(target, table, columns)
            cursor = source.execute_sql(f'SELECT {", ".join(chr(34) + c + chr(34) for c in columns)} '
                                        f'FROM "{table}" ORDER BY {order}')
            copied = 0
            while True:
                batch = cursor.fetchmany(BATCH)
                if not batch:
                    break
                rows = [tuple(None if v is None else f.python_value(v) for f, v in zip(fields, row)) for row in batch]
                _write(target, sql, rows)
                copied += len(rows)
                if progress:
                    progress(table, len(rows))
            report.rows[table] = copied
        if _is_pg(target):
            for model in floor_models():
                pk = model._meta.primary_key
                if pk and getattr(pk, "field_type", None) == "AUTO":
                    table = model._meta.table_name
                    target.execute_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', '{pk.column_name}'), "
                                       f"COALESCE((SELECT MAX(\"{pk.column_name}\") FROM \"{table}\"), 0) + 1, false)")
        _verify(source, target, report)
    source.close()
    target.close()
    return report


def _verify(source, target, report: CopyReport) -> None:
    for model in floor_models():
        table = model._meta.table_name
        theirs = target.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        ours = source.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        if theirs != ours:
            raise TransferError(f"{table}: {ours} rows in the source but {theirs} in the copy")
    query = "SELECT account_id, SUM(amount_minor) FROM ledger_entry GROUP BY account_id"
    sums = {row[0]: int(row[1]) for row in source.execute_sql(query)}
    copied = {row[0]: int(row[1]) for row in target.execute_sql(query)}
    if sums != copied:
        wrong = sorted(a for a in sums.keys() | copied.keys() if sums.get(a) != copied.get(a))
        raise TransferError(f"ledger sums differ on {len(wrong)} account(s), e.g. account {wrong[0]}")
    balances = {row[0]: int(row[1]) for row in target.execute_sql("SELECT id, balance_minor FROM account")}
    off = [a for a, total in copied.items() if balances.get(a) != total]
    if off:
        raise TransferError(f"{len(off)} copied account(s) have a balance other than their ledger sum")
    report.accounts_checked = len(sums)
    report.ledger_total_minor = sum(sums.values())


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(f":{parsed.password}@", ":***@")
    return url
