"""Officers' SSH public keys, from which the service account's `authorized_keys` is written."""

from db.models import SshKey

VERSION = 7
NAME = "officers' ssh keys"


def upgrade(db):
    db.create_tables([SshKey], safe=True)
