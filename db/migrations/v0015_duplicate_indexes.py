"""Indexes that another index already covers are dropped (a plain index whose columns
lead a longer full index): every one of them was written on every insert, and a
placement import inserts a debtor, an address, phones, an account, a ledger entry, a
letter and an activity for each row of its file.

- `address_debtor_id` and `phone_debtor_id` repeat `address_debtor` and `phone_debtor`;
- `ledger_entry_account_id`, `activity_account_id` and `letter_account_id` are the first
  column of (account, id), (account, started_at) and (account, template);
- `ledger_entry_officer_id` and `activity_officer_id` the first column of the officer's
  day indexes (officer, posted_at) and (officer, started_at);
- `debtor_search_name` the first column of `debtor_name_born` (search name, date of
  birth), which serves the name search's prefix range as well. It sat at a random place
  for every new debtor: on a 1,000,000-account floor these eight cost a placement batch
  of 200 rows 88 ms inside the write lock, 71 ms without them;
- `account_team_status` leads `account_floor_summary`; and on the smaller tables the
  foreign keys' own indexes that lead a composite one: promises, installments, legal
  cases and steps, drafts, presence and related parties.

`tests/test_migrations.py` fails if such a pair appears again.
"""

VERSION = 15
NAME = "duplicate indexes"

DROPPED = ("address_debtor_id", "phone_debtor_id", "ledger_entry_account_id", "activity_account_id",
           "letter_account_id", "ledger_entry_officer_id", "activity_officer_id", "debtor_search_name",
           "account_team_status", "promise_officer_id", "installment_plan_id", "legal_case_account_id",
           "draft_officer_id", "presence_officer_id", "legal_step_case_id", "related_party_account_id")


def upgrade(db):
    for index in DROPPED:
        db.execute_sql(f"DROP INDEX IF EXISTS {index}")
