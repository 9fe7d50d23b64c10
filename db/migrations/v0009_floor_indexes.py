"""Indexes for the live floor: the day's figures per officer (calls, promises, payments in a
time range), promises broken today, callbacks due in the next hour and the queue summary
per team. Without them every refresh of a lead's floor read every activity, promise and
payment ever recorded."""

VERSION = 9
NAME = "floor indexes"

INDEXES = (
    "CREATE INDEX IF NOT EXISTS activity_officer_day ON activity (officer_id, started_at)",
    "CREATE INDEX IF NOT EXISTS promise_officer_day ON promise (officer_id, created_at)",
    "CREATE INDEX IF NOT EXISTS promise_evaluated ON promise (status, evaluated_at)",
    "CREATE INDEX IF NOT EXISTS ledger_entry_officer_day ON ledger_entry (officer_id, posted_at)",
    "CREATE INDEX IF NOT EXISTS account_callback_due ON account (team_id, callback_at) WHERE callback_at IS NOT NULL",
    # The queue summary counts a team's open accounts by bucket and kind: an index with every
    # column it reads lets it count from the index alone.
    "CREATE INDEX IF NOT EXISTS account_floor_summary ON account "
    "(team_id, status, delinquency_date, queue_priority, claimed_by_id, claim_expires_at)",
)


def upgrade(db):
    for sql in INDEXES:
        db.execute_sql(sql)
