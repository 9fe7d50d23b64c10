"""Calls logged by a dialer carry the dialer's id for them, unique, so a dispositions file
imported twice records each call once."""

VERSION = 11
NAME = "activity external id"


def upgrade(db):
    columns = {c.name for c in db.get_columns("activity")}
    if "external_id" not in columns:
        db.execute_sql("ALTER TABLE activity ADD COLUMN external_id VARCHAR(255)")
    db.execute_sql("CREATE UNIQUE INDEX IF NOT EXISTS activity_external_id ON activity (external_id) "
                   "WHERE external_id IS NOT NULL")
