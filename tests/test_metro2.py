"""The Metro 2 file (`arrears export metro2`): every record 426 characters; the header, one
account's base segment and the trailer checked field by field at the CRRG's positions; a
dispute never reported without its code; deceased, settled, obsolete, bankrupt and non-US
accounts each handled as the module says."""

import datetime as dt
import subprocess
import sys

import pytest

from config import load_settings
from db.audit import Actor, write_transaction
from db.ledger import post
from db.metro2 import BASE_FIELDS, HEADER_FIELDS, TRAILER_FIELDS, Metro2Error, field_of, metro2_lines
from db.models import Account, Address, Debtor
from tests import floor

SETTINGS = load_settings(reporting={"identification_number": "ARREARS0001", "equifax_program": "EFX123"},
                         letters={"letterhead_name": "Arrears Collections Ltd", "letterhead_phone": "8005550199"})
AS_OF = dt.date(2026, 6, 30)
STAMP = dt.datetime(2026, 7, 1, 2, 3, 4, tzinfo=dt.UTC)
ADMIN = Actor("test-admin", role="admin")


def make(team, *, balance=1_234_56, delinquent=dt.date(2025, 1, 15), **fields):
    placed = dt.date(2025, 3, 1)
    account = floor.account(team, balance=0, today=placed, dpd=(placed - delinquent).days, **fields)
    if balance:
        post(ADMIN, account.id, "charge", balance, effective_date=dt.date(2025, 1, 15))
    return Account.get_by_id(account.id)


@pytest.fixture
def floor_accounts(db):
    team = floor.team()
    a = make(team, phones=(("+12125550100", "mobile", "good"),))
    with write_transaction(ADMIN) as tx:
        Debtor.update(first_name="José", last_name="O'Neil-Smith", date_of_birth=dt.date(1980, 4, 2),
                      national_id="123-45-6789").where(Debtor.id == a.debtor_id).execute()
        Address.update(line1="12 Elm St", line2="Apt 4b", city="New York", postcode="10001").where(
            Address.debtor == a.debtor_id).execute()
        tx.audit("test.setup", "account", a.id)
    accounts = {
        "a": a,
        "disputed": make(team, dispute=True),
        "answered": make(team, dispute=True, dispute_verified_at=dt.datetime(2026, 5, 1)),
        "deceased": make(team, deceased=True),
        "obsolete": make(team, delinquent=dt.date(2018, 1, 1)),
        "uk": make(team, zone="Europe/London", country="GB", region="ENG"),
        "bankrupt": make(team, bankruptcy=True),
        "settled": make(team, balance=0, status="settled", last_payment_date=dt.date(2026, 6, 20)),
        "nothing": make(team, balance=0),
    }
    return accounts


def lines(settings=SETTINGS):
    summary = {}
    out = list(metro2_lines(settings, ADMIN, AS_OF, stamp=STAMP, report=summary))
    return out, summary["report"]


def base_of(out, reference):
    return next(line for line in out[1:-1] if field_of(BASE_FIELDS, line, "consumer_account_number").strip() == reference)


def test_the_file_field_by_field(floor_accounts):
    out, report = lines()
    assert all(len(line) == 426 for line in out)
    header, trailer = out[0], out[-1]
    expected_header = {"record_descriptor": "0426", "record_identifier": "HEADER", "equifax_program": "EFX123    ",
                       "activity_date": "06302026", "date_created": "07012026",
                       "reporter_name": "ARREARS COLLECTIONS LTD".ljust(40), "reporter_telephone": "8005550199",
                       "software_vendor": "ARREARS".ljust(40), "reserved": " " * 146}
    for name, value in expected_header.items():
        assert field_of(HEADER_FIELDS, header, name) == value, name

    a = floor_accounts["a"]
    expected = {
        "record_descriptor": "0426", "processing_indicator": "1", "time_stamp": "07012026020304",
        "correction_indicator": "0", "identification_number": "ARREARS0001".ljust(20), "cycle_identifier": "  ",
        "consumer_account_number": a.reference.ljust(30), "portfolio_type": "O", "account_type": "48",
        "date_opened": "03012025", "credit_limit": "000000000", "highest_credit": "000001234",
        "terms_duration": "001", "terms_frequency": " ", "scheduled_payment": "000000000",
        "actual_payment": "000000000", "account_status": "93", "payment_rating": " ", "payment_history": "B" * 24,
        "special_comment": "  ", "compliance_condition": "  ", "current_balance": "000001234",
        "amount_past_due": "000001234", "original_charge_off": "000000000",
        "date_of_account_information": "06302026", "date_of_first_delinquency": "01152025",
        "date_closed": "00000000", "date_of_last_payment": "00000000", "interest_type": " ", "reserved": " " * 17,
        "surname": "O'NEIL-SMITH".ljust(25), "first_name": "JOSE".ljust(20), "middle_name": " " * 20,
        "generation_code": " ", "ssn": "123456789", "date_of_birth": "04021980", "telephone": "2125550100",
        "ecoa_code": "1", "consumer_information_indicator": "  ", "country_code": "US",
        "address_line1": "12 ELM ST".ljust(32), "address_line2": "APT 4B".ljust(32), "city": "NEW YORK".ljust(20),
        "state": "NY", "postal_code": "10001    ", "address_indicator": " ", "residence_code": " ",
    }
    line = base_of(out, a.reference)
    assert set(expected) == {name for name, *_ in BASE_FIELDS}
    for name, value in expected.items():
        assert field_of(BASE_FIELDS, line, name) == value, name

    assert field_of(BASE_FIELDS, base_of(out, floor_accounts["disputed"].reference), "compliance_condition") == "XB"
    assert field_of(BASE_FIELDS, base_of(out, floor_accounts["answered"].reference), "compliance_condition") == "XH"
    assert field_of(BASE_FIELDS, base_of(out, floor_accounts["deceased"].reference), "ecoa_code") == "X"
    settled = base_of(out, floor_accounts["settled"].reference)
    assert [field_of(BASE_FIELDS, settled, n) for n in ("account_status", "special_comment", "current_balance",
                                                        "date_closed")] == ["62", "AU", "000000000", "06202026"]
    reported = {field_of(BASE_FIELDS, line, "consumer_account_number").strip() for line in out[1:-1]}
    for left_out in ("obsolete", "uk", "bankrupt", "nothing"):
        assert floor_accounts[left_out].reference not in reported
    assert dict(report.skipped) == {"past the reporting period": 1, "outside the US": 1, "bankruptcy": 1,
                                    "nothing to report": 1}

    trailer_expected = {"record_identifier": "TRAILER", "total_base_records": "000000005", "status_93": "000000004",
                        "status_62": "000000001", "status_DA": "000000000", "block_count": "000000007",
                        "total_ssn_all": "000000001", "total_ssn_base": "000000001", "total_telephone_all": "000000005",
                        "reserved2": " " * 19}
    for name, value in trailer_expected.items():
        assert field_of(TRAILER_FIELDS, trailer, name) == value, name


def test_no_file_without_the_furnisher_id_and_the_command(floor_accounts, db_url, tmp_path):
    with pytest.raises(Metro2Error, match="identification_number"):
        list(metro2_lines(load_settings(), ADMIN, AS_OF))
    env_args = [sys.executable, "-m", "tui.cli", "--db", db_url, "export", "metro2", "--as-of", "2026-06-30",
                "--out", str(tmp_path / "m2.txt")]
    import os

    refused = subprocess.run(env_args, capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and not (tmp_path / "m2.txt").exists()
    done = subprocess.run(env_args, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "ARREARS_REPORTING__IDENTIFICATION_NUMBER": "ARREARS0001"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote 5 accounts to {tmp_path / 'm2.txt'} (status 62 1, 93 4)")
    assert [len(line) for line in (tmp_path / "m2.txt").read_text().splitlines()] == [426] * 7
