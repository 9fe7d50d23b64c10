"""`arrears plan`, `arrears payments` and `arrears promises evaluate`, run as a user runs them."""

import datetime as dt
import json
import subprocess
import sys

import pytest

from db.audit import Actor
from db.ledger import ledger_sum, post
from db.models import Account, LedgerEntry
from tests import floor


def arrears(*args, db_url=None):
    base = [sys.executable, "-m", "tui.cli"] + (["--db", db_url] if db_url else [])
    return subprocess.run(base + list(args), capture_output=True, text=True, timeout=120)


PLAN = ["plan", "--amount-due", "1000.00", "--first-due", "2026-01-31", "--frequency", "monthly"]


def test_plan_json_matches_the_documented_shape():
    proc = arrears(*PLAN, "--count", "7", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["amount_due"] == "1000.00" and out["deposit"] == "0.00" and out["settled_amount"] == "1000.00"
    assert out["installments"][0] == {"number": 1, "due": "2026-01-31", "amount": "142.85", "interest": "0.00",
                                      "principal": "142.85"}
    assert [i["due"] for i in out["installments"][:4]] == ["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"]
    assert out["installments"][-1]["amount"] == "142.90"
    assert out["total"] == "1000.00" and out["total_interest"] == "0.00"


def test_plan_table_with_deposit_discount_and_apr():
    proc = arrears(*PLAN, "--installment", "150.00", "--deposit", "100.00", "--discount-percent", "20",
                   "--apr", "9.9")
    assert proc.returncode == 0, proc.stderr
    assert "settled for $800.00, deposit $100.00" in proc.stdout
    assert proc.stdout.count("$150.00") == 4  # 700 financed at 9.9%: 4 x 150 then the rest


@pytest.mark.parametrize("extra,message", [
    (["--count", "0"], "at least 1 installment"),
    (["--count", "7", "--amount-due", "-5"], "negative"),
    (["--count", "7", "--amount-due", "10.001"], "more than 2 decimal places"),
    (["--count", "7", "--amount-due", "0"], "more than zero"),
    (["--count", "7", "--frequency", "yearly"], "unknown frequency 'yearly'"),
    (["--count", "7", "--first-due", "2026-02-30"], "is not a date"),
    (["--installment", "0"], "more than zero"),
    ([], "either --count or --installment"),
])
def test_plan_bad_input_is_one_line_and_exit_2(extra, message):
    args = list(PLAN)
    for flag in ("--amount-due", "--frequency", "--first-due"):
        if flag in extra:  # the later value wins: replace the default
            i = args.index(flag)
            del args[i:i + 2]
    proc = arrears(*args, *extra)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr


def test_payments_post_twice_posts_once_then_reverse(db, db_url):
    team = floor.team()
    account = floor.account(team, balance=0)
    post(Actor("t", role="admin"), account.id, "charge", 500_00)
    db.close()
    first = arrears("payments", "post", account.reference, "120.00", "--method", "card", "--reference", "TX-9",
                    db_url=db_url)
    assert first.returncode == 0, first.stderr
    assert "posted $120.00" in first.stdout and "card:TX-9" in first.stdout
    again = arrears("payments", "post", account.reference, "120.00", "--method", "card", "--reference", "TX-9",
                    db_url=db_url)
    assert again.returncode == 0 and "already posted" in again.stdout
    listed = arrears("payments", "list", account.reference, db_url=db_url)
    assert "card:TX-9" in listed.stdout and "REVERSED" not in listed.stdout
    reverse = arrears("payments", "reverse", "card:TX-9", "--reason", "chargeback", db_url=db_url)
    assert reverse.returncode == 0, reverse.stderr
    assert "REVERSED" in arrears("payments", "list", account.reference, db_url=db_url).stdout
    bad = arrears("payments", "post", account.reference, "12.345", "--method", "card", "--reference", "X",
                  db_url=db_url)
    assert bad.returncode == 2 and "more than 2 decimal places" in bad.stderr
    future = arrears("payments", "post", account.reference, "1.00", "--method", "card", "--reference", "Y",
                     "--date", (dt.date.today() + dt.timedelta(days=3)).isoformat(), db_url=db_url)
    assert future.returncode == 2 and "in the future" in future.stderr
    db.connect(reuse_if_open=True)
    assert Account.get_by_id(account.id).balance_minor == 500_00 == ledger_sum(account.id)
    assert LedgerEntry.select().where(LedgerEntry.kind == "payment").count() == 1


def test_promises_evaluate_reports_what_it_judged(db, db_url):
    db.close()
    proc = arrears("promises", "evaluate", "--at", "2026-06-10T16:00:00Z", db_url=db_url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("promises: none due; installments: none due")
