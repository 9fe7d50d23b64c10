"""Related parties on an account (co-debtors, guarantors, employers, attorneys of record,
authorised third parties), and the lookups that find one debtor's other accounts."""

from db.models import RelatedParty

VERSION = 12
NAME = "related parties"


def upgrade(db):
    db.create_tables([RelatedParty], safe=True)
    db.execute_sql("CREATE INDEX IF NOT EXISTS debtor_national_id ON debtor (national_id) WHERE national_id IS NOT NULL")
    db.execute_sql("CREATE INDEX IF NOT EXISTS debtor_name_born ON debtor (search_name, date_of_birth)")
