"""Indexes for reading an officer's queue a page at a time: the accounts ready to hand out
and the waiting ones, each in the order the queue shows them, per team and owner (the pool
keyed as officer 0, as in the claim index). Without them the first page sorted every
account of the team: 150 ms on 50,000 accounts, seconds on a million."""

VERSION = 6
NAME = "queue page indexes"


def upgrade(db):
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS account_queue_ready ON account "
        "(team_id, (COALESCE(assigned_officer_id, 0)), queue_priority DESC, id) "
        "WHERE queue_priority IS NOT NULL"
    )
    db.execute_sql(
        "CREATE INDEX IF NOT EXISTS account_queue_waiting ON account "
        "(team_id, (COALESCE(assigned_officer_id, 0)), next_call_at, id) "
        "WHERE queue_priority IS NULL AND next_call_at IS NOT NULL"
    )
