"""Payments and arrangements: ledger entries posted together share a batch, installments
carry shortfalls forward, plans keep what they settle for, and allocations say which
installment or promise each payment paid."""

from db.models import Allocation

VERSION = 5
NAME = "payments and arrangements"

COLUMNS = [
    ("ledger_entry", "batch", "VARCHAR(255)"),
    ("installment", "carried_minor", "BIGINT NOT NULL DEFAULT 0"),
    ("plan", "settled_minor", "BIGINT"),
]


def upgrade(db):
    # A database created by this version's first migration already has the columns.
    for table, column, kind in COLUMNS:
        if column not in {c.name for c in db.get_columns(table)}:
            db.execute_sql(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    db.execute_sql("CREATE INDEX IF NOT EXISTS ledger_entry_batch ON ledger_entry (batch)")
    db.create_tables([Allocation])
