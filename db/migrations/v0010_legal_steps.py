"""Legal escalation: each stage a case enters (when, by whom, why, the letter it sent), the
account's status to give back when the case closes, and the floor's count of open cases."""

from db.models import LegalStep

VERSION = 10
NAME = "legal stages"


def upgrade(db):
    db.create_tables([LegalStep], safe=True)
    columns = {c.name for c in db.get_columns("legal_case")}
    if "previous_status" not in columns:
        db.execute_sql("ALTER TABLE legal_case ADD COLUMN previous_status VARCHAR(255)")
    db.execute_sql("CREATE INDEX IF NOT EXISTS legal_case_open ON legal_case (account_id, closed_at)")
