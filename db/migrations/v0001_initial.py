"""The first schema: every table of the domain, the ledger's append-only triggers and the
indexes the queue and the account screen use."""

from peewee import PostgresqlDatabase

from db.models import MODELS, Allocation, Draft, QueueZone, SchemaVersion

VERSION = 1
NAME = "initial schema"

SQLITE_LEDGER_GUARDS = [
    """CREATE TRIGGER IF NOT EXISTS ledger_entry_no_update BEFORE UPDATE ON ledger_entry
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: reverse the entry instead'); END""",
    """CREATE TRIGGER IF NOT EXISTS ledger_entry_no_delete BEFORE DELETE ON ledger_entry
       BEGIN SELECT RAISE(ABORT, 'ledger is append-only: reverse the entry instead'); END""",
]

POSTGRES_LEDGER_GUARDS = [
    """CREATE OR REPLACE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'ledger is append-only: reverse the entry instead'; END;
       $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER ledger_entry_no_update BEFORE UPDATE OR DELETE ON ledger_entry
       FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()""",
    """CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_entry
       FOR EACH STATEMENT EXECUTE FUNCTION ledger_entry_append_only()""",
]

# Partial indexes: an account leaves the claim index while claimed or blocked, so claims
# stay an index seek however many rows are claimed (a plain index would make every claim
# step over all the claimed rows at the top).
QUEUE_INDEXES = [
    """CREATE INDEX IF NOT EXISTS account_claimable ON account
       (team_id, assigned_officer_id, callable_zone, queue_priority DESC)
       WHERE queue_priority IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS account_claim_expiry ON account (claim_expires_at)
       WHERE claimed_by_id IS NOT NULL""",
    """CREATE INDEX IF NOT EXISTS account_waiting ON account (next_call_at)
       WHERE queue_priority IS NULL AND claimed_by_id IS NULL AND next_call_at IS NOT NULL""",
    "CREATE INDEX IF NOT EXISTS account_team_status ON account (team_id, status)",
    "CREATE INDEX IF NOT EXISTS ledger_entry_account ON ledger_entry (account_id, id)",
    "CREATE INDEX IF NOT EXISTS activity_account_attempts ON activity (account_id, counts_as_attempt, started_at)",
    "CREATE INDEX IF NOT EXISTS address_debtor ON address (debtor_id)",
    "CREATE INDEX IF NOT EXISTS phone_debtor ON phone (debtor_id)",
    "CREATE INDEX IF NOT EXISTS account_client_ref ON account (client_reference)",
]


def upgrade(db):
    # Tables introduced by later migrations are created by them.
    db.create_tables([m for m in MODELS if m not in (SchemaVersion, QueueZone, Draft, Allocation)])
    postgres = isinstance(db.obj if hasattr(db, "obj") else db, PostgresqlDatabase)
    for sql in (POSTGRES_LEDGER_GUARDS if postgres else SQLITE_LEDGER_GUARDS) + QUEUE_INDEXES:
        db.execute_sql(sql)
