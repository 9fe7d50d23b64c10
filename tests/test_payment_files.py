"""Remittance files (`arrears import payments`): lines posted through the ledger once per
transaction id, matched by our reference or the client's, promises judged as the money
lands; unmatched and faulty lines in the reject file; a second run posts nothing."""

import csv
import datetime as dt
import subprocess
import sys

import pytest

from db.imports import import_payments, import_placements
from db.ledger import ledger_sum
from db.models import Account, LedgerEntry, Promise
from db.promises import record_promise
from tests.test_placements import ADMIN, AT, GOOD, SETTINGS, office, write  # noqa: F401 - the office fixture

HEADER = ["reference", "amount", "date", "method", "transaction_id"]


@pytest.fixture
def placed(office, tmp_path):  # noqa: F811
    import_placements(SETTINGS, ADMIN, write(tmp_path / "placed.csv", GOOD), "NBK", at=AT)
    return {a.client_reference: a for a in Account.select()}


def payments_file(path, rows):
    return write(path, rows, header=HEADER)


def test_lines_post_once_promises_are_kept_and_bad_lines_are_rejected(placed, tmp_path):
    jane, jose = placed["C-1"], placed["C-2"]
    promise = record_promise(SETTINGS, ADMIN, jane.id, 100_00, dt.date(2026, 6, 12), at=AT)
    path = payments_file(tmp_path / "remit.csv", [
        [jane.reference, "100.00", "2026-06-09", "card", "T1"],
        ["C-2", "80", "2026-06-09", "Bank Transfer", "T2"],
        ["NOPE", "5.00", "2026-06-09", "card", "T3"],
        [jane.reference, "12.345", "2026-06-09", "card", "T4"],
        [jane.reference, "10.00", "2026-06-11", "card", "T5"],
        [jane.reference, "10.00", "2026-06-09", "bitcoin", "T6"],
        [jane.reference, "100.00", "2026-06-09", "card", "T1"],
        [jane.reference, "10.00", "2026-06-09", "card", ""],
        [jane.reference, "0.00", "2026-06-09", "card", "T7"],
    ])
    report = import_payments(SETTINGS, ADMIN, path, at=AT)
    assert (report.rows, report.posted, report.already, report.rejected) == (9, 2, 0, 7)
    assert report.posted_minor == 180_00
    assert Account.get_by_id(jane.id).balance_minor == 1150_50 == ledger_sum(jane.id)
    assert Account.get_by_id(jose.id).balance_minor == 0 == ledger_sum(jose.id)
    assert Promise.get_by_id(promise.id).status == "kept"
    with report.reject_file.open(encoding="utf-8", newline="") as handle:
        rejected = {row["line"]: row["reasons"] for row in csv.DictReader(handle)}
    assert rejected == {
        "4": "no account has the reference NOPE",
        "5": "amount: '12.345' has more than 2 decimal places",
        "6": "date 2026-06-11 is in the future",
        "7": "method 'bitcoin' is not one of card, bank_transfer, direct_debit, cheque, cash",
        "8": "transaction_id T1 is already on line 2",
        "9": "transaction_id is empty",
        "10": "amount: the amount must be more than zero",
    }

    again = import_payments(SETTINGS, ADMIN, path, at=AT)
    assert (again.posted, again.already, again.rejected) == (0, 2, 7)
    assert LedgerEntry.select().where(LedgerEntry.kind == "payment").count() == 2

    other = payments_file(tmp_path / "other.csv", [[jane.reference, "99.00", "2026-06-09", "card", "T1"]])
    clash = import_payments(SETTINGS, ADMIN, other, at=AT)
    assert clash.rejected == 1 and clash.samples == ["line 2: transaction_id T1 was posted before as a different payment"]


def test_the_command_exit_statuses(placed, tmp_path, db_url):
    jane = placed["C-1"]

    def run(path):
        return subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "import", "payments", str(path),
                               "--at", "2026-06-10T16:00:00Z"], capture_output=True, text=True, timeout=120)

    good = run(payments_file(tmp_path / "good.csv", [[jane.reference, "25.00", "2026-06-09", "cheque", "CHQ-1"]]))
    assert good.returncode == 0, good.stderr
    assert good.stdout.strip() == "good.csv: 1 rows; posted 1 ($25.00), 0 posted before; 0 rejected"
    bad = run(payments_file(tmp_path / "bad.csv", [["NOPE", "25.00", "2026-06-09", "cheque", "CHQ-2"]]))
    assert bad.returncode == 1 and "no account has the reference NOPE" in bad.stderr
    missing = run(tmp_path / "missing.csv")
    assert missing.returncode == 2


def test_exports_for_the_client(placed, tmp_path, db_url):
    from db.payments import reverse_payment

    jane = placed["C-1"]
    import_payments(SETTINGS, ADMIN, payments_file(tmp_path / "r.csv", [
        [jane.reference, "1,300.00", "2026-06-09", "card", "T9"]]), at=AT)  # more than the balance: all principal
    reverse_payment(SETTINGS, ADMIN, "txn:T9", reason="chargeback", at=AT)

    def export(*args):
        out = subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "export", *args, "--csv", "-"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return list(csv.DictReader(out.stdout.splitlines()))

    payments = export("payments", "--since", "2026-01-01", "--client", "NBK")
    assert [(p["reference"], p["kind"], p["bucket"], p["amount"], p["transaction"], p["reverses"]) for p in payments] == [
        (jane.reference, "payment", "principal", "1300.00", "T9", ""),
        (jane.reference, "reversal", "principal", "-1300.00", "T9", "T9")]
    accounts = export("accounts")
    assert sorted(a["client_reference"] for a in accounts) == ["C-1", "C-2", "C-3", "C-4"]
    row = next(a for a in accounts if a["client_reference"] == "C-1")
    assert (row["balance"], row["status"], row["team"], row["debtor"]) == ("1250.50", "open", "Recoveries", "Jane Doe")
    activities = export("activities", "--since", "2026-06-10")
    assert {(a["client_reference"], a["kind"]) for a in activities} >= {("C-1", "payment"), ("C-1", "letter")}
    assert {a["officer"] for a in activities if a["kind"] == "payment"} == {""}  # posted by the import, not an officer
    assert export("payments", "--since", "2030-01-01") == []
    unknown = subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "export", "payments", "--client", "ZZ",
                              "--csv", "-"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 1 and unknown.stderr.strip() == "arrears: there is no client 'ZZ'"
