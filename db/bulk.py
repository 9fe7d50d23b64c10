"""Fast inserts of many rows (demo floors, imports, copies) on either engine."""

from __future__ import annotations

from typing import Iterable, Sequence

from db.database import database, is_postgres


def columns_of(model, names: Sequence[str]) -> list[str]:
    """Column names for model field names (`debtor` → `debtor_id`)."""
    return [model._meta.fields[name].column_name for name in names]


def bulk_insert(model, names: Sequence[str], rows: Iterable[Sequence], page: int = 2000) -> int:
    """Insert rows (tuples in `names` order) inside the caller's transaction."""
    rows = list(rows)
    if not rows:
        return 0
    table = model._meta.table_name
    cols = ", ".join(f'"{c}"' for c in columns_of(model, names))
    conn = database.connection()
    cursor = conn.cursor()
    if is_postgres():
        from psycopg2.extras import execute_values

        execute_values(cursor, f'INSERT INTO "{table}" ({cols}) VALUES %s', rows, page_size=page)
    else:
        marks = ", ".join("?" for _ in names)
        cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', rows)
    return len(rows)


def reset_sequences(models) -> None:
    """After inserting explicit ids on PostgreSQL, move each id sequence past the highest id."""
    if not is_postgres():
        return
    for model in models:
        table = model._meta.table_name
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM \"{table}\"), 0) + 1, false)"
        )


def next_id(model) -> int:
    """The id after the highest in the model's table (inside the caller's transaction)."""
    table = model._meta.table_name
    return database.execute_sql(f'SELECT COALESCE(MAX("id"), 0) + 1 FROM "{table}"').fetchone()[0]
