"""Officers' sessions and states, for the live floor."""

from db.models import Presence

VERSION = 8
NAME = "officer presence"


def upgrade(db):
    db.create_tables([Presence], safe=True)
