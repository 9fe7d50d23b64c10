"""Drafts: what an officer was typing, restored after a dropped session."""

from db.models import Draft

VERSION = 4
NAME = "drafts"


def upgrade(db):
    db.create_tables([Draft])
