"""The queue's zone keys per team, filled from the accounts already there."""

from db.models import QueueZone

VERSION = 2
NAME = "queue zone keys"


def upgrade(db):
    db.create_tables([QueueZone])
    db.execute_sql(
        "INSERT INTO queue_zone (team_id, zone_key) "
        "SELECT DISTINCT team_id, callable_zone FROM account "
        "WHERE team_id IS NOT NULL AND callable_zone IS NOT NULL"
    )
