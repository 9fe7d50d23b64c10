"""Cheaper claims: three indexes that a longer one already covers are dropped, and on
PostgreSQL the claim becomes one server-side function (`db.pg_claim`) with autovacuum
settings that keep the claim index's head free of claimed rows' dead entries.

- `audit_event_account_id` is the first column of `audit_event_account_id_at`, and every
  write inserts audit events; `account_team_id` is covered by `account_team_status`, and
  `account_client_id` by the unique (client, reference) index. On PostgreSQL every claim
  (a non-HOT update) writes an entry into every index of `account`.
- A claim takes the account out of the partial claim index by setting `queue_priority` to
  NULL; on PostgreSQL the old index entry stays until VACUUM, and every later claim in that
  zone steps over it. At the default scale factor (20%) a million-account floor would not
  be vacuumed until 200,000 claims and re-queues; 1% and a fixed threshold keep it a few
  thousand entries. (Where autovacuum is off, `db.queue.vacuum_if_needed` does it.) SQLite
  removes index entries at once and needs neither.
"""

VERSION = 13
NAME = "cheaper claims"


def upgrade(db):
    from db.database import is_postgres

    for index in ("audit_event_account_id", "account_team_id", "account_client_id"):
        db.execute_sql(f"DROP INDEX IF EXISTS {index}")
    if not is_postgres():
        return
    from db import pg_claim

    pg_claim.install(db)
    db.execute_sql("ALTER TABLE account SET (autovacuum_vacuum_scale_factor = 0.01, "
                   "autovacuum_vacuum_threshold = 2000, autovacuum_analyze_scale_factor = 0.05)")
