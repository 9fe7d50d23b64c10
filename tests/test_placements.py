"""Placement files (`arrears import placements`): every rule a row can break, each rejected
row in the reject file with its line number and every reason, the good rows imported whole
(debtor, address with its zone, phones in E.164, the account, its opening ledger entry, its
place in the queue, its first letter), nothing of a bad row written, a BOM, semicolons, a
client's own column names, a dry run, a re-import that changes nothing, and a changed
balance posted as an adjustment."""

import csv
import datetime as dt
import json
import subprocess
import sys

import pytest

from config import load_settings
from db.audit import Actor, write_transaction
from db.imports import ImportFileError, add_client, import_placements
from db.ledger import ledger_sum
from db.models import Account, Address, AuditEvent, Debtor, LedgerEntry, Letter, Phone
from tests import floor

SETTINGS = load_settings()
AT = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
ADMIN = Actor("test-admin", role="admin")
HEADER = ["reference", "first_name", "last_name", "balance", "delinquency_date", "last_payment_date", "address_line1",
          "address_line2", "city", "region", "postcode", "country", "phone_home", "phone_work", "phone_mobile", "email",
          "date_of_birth", "original_creditor"]


def row(reference, **fields):
    base = {"reference": reference, "first_name": "Jane", "last_name": "Doe", "balance": "1,250.50",
            "delinquency_date": "2026-01-15", "last_payment_date": "", "address_line1": "12 Elm St",
            "address_line2": "", "city": "Albany", "region": "NY", "postcode": "12207", "country": "US",
            "phone_home": "", "phone_work": "", "phone_mobile": "(518) 555-0142", "email": "jane@example.com",
            "date_of_birth": "1980-04-02", "original_creditor": "Northern Bank"}
    base.update(fields)
    return [base[name] for name in HEADER]


GOOD = [
    row("C-1"),
    row("C-2", first_name="José", last_name="Müller", phone_home="+1 212 555 0100", phone_mobile="", region="MA",
        city="Boston", postcode="02108", balance="80", email=""),
    row("C-3", country="GB", region="SCT", city="Edinburgh", postcode="EH1 1YZ", phone_mobile="07911 123456",
        balance="300.00", address_line1="1 High St", email="", date_of_birth=""),
    row("C-4", balance="0.00", region="TX", city="Austin", postcode="73301", phone_mobile=""),  # Texas: two zones
]
BAD = {
    "C-10": (row("C-10", balance="12.345"), ["balance: '12.345' has more than 2 decimal places"]),
    "C-11": (row("C-11", balance="-5.00"), ["balance: '-5.00' is negative"]),
    "C-12": (row("C-12", balance="lots", first_name=""), ["first_name is empty", "balance: 'lots' is not an amount"]),
    "C-13": (row("C-13", country="FR"), ["country 'FR' is not one this floor works (GB, US)"]),
    "C-14": (row("C-14", region="ZZ"), ["region 'ZZ' is not a region of US"]),
    "C-15": (row("C-15", postcode="ABC"), ["postcode 'ABC' is not a US postcode"]),
    "C-16": (row("C-16", delinquency_date="2026-13-01", last_payment_date="01/02/2020"),
             ["delinquency_date '2026-13-01' is not a date", "last_payment_date '01/02/2020' is not a date"]),
    "C-17": (row("C-17", delinquency_date="2026-07-01"), ["delinquency_date 2026-07-01 is in the future"]),
    "C-18": (row("C-18", date_of_birth="2015-01-01"), ["date_of_birth 2015-01-01 makes the debtor a minor"]),
    "C-19": (row("C-19", email="not-an-email"), ["email 'not-an-email' is not an e-mail address"]),
    "C-20": (row("C-20", phone_mobile="12345"), ["phone_mobile '12345' is not a valid US phone number"]),
    "C-21": (row("C-21", city=""), ["an address needs both address_line1 and city"]),
    "C-22": (row("C-22", last_name="Doe\x1b[31m"), ["last_name has control characters"]),
    "C-23": (row("C-23", country=""), ["country is empty"]),
}
LONG_REF = "R" * 40


def write(path, rows, *, delimiter=",", bom=False, header=HEADER):
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def office(db):
    floor.team()
    floor.team("Specialist")
    from db.models import Team

    Team.update(specialist=True).where(Team.name == "Specialist").execute()
    add_client(ADMIN, "NBK", name="Northern Bank", currency="USD")


def the_file(tmp_path, **kw):
    rows = [GOOD[0], GOOD[1], *(r for r, _ in BAD.values()), GOOD[2], GOOD[0][:3] + ["9.99"] + GOOD[0][4:],
            row(LONG_REF), ["too", "few"], GOOD[3]]
    return write(tmp_path / "placements.csv", rows, **kw)


def rejects_of(path):
    with path.with_name(path.stem + ".rejects.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("dialect", [{"delimiter": ",", "bom": True}, {"delimiter": ";", "bom": False}])
def test_every_bad_row_is_rejected_with_its_line_and_every_reason_and_the_good_ones_imported(office, tmp_path,
                                                                                              dialect):
    path = the_file(tmp_path, **dialect)
    report = import_placements(SETTINGS, ADMIN, path, "NBK", at=AT)
    assert (report.rows, report.new, report.rejected) == (len(BAD) + 7, 4, len(BAD) + 3)

    rejected = {r["reference"] if "reference" in r else None: r for r in rejects_of(path)}
    for offset, (reference, (_row, reasons)) in enumerate(BAD.items()):
        line = rejected[reference]
        assert line["line"] == str(4 + offset)  # header 1, C-1 2, C-2 3
        for reason in reasons:
            assert reason in line["reasons"], (reference, line["reasons"])
    duplicate_line = 4 + len(BAD) + 1
    assert rejected["C-1"]["line"] == str(duplicate_line)
    assert rejected["C-1"]["reasons"] == "reference C-1 is already on line 2"
    assert "reference is longer than 32 characters" in rejected[LONG_REF]["reasons"]
    assert rejected["too"]["reasons"] == f"has 2 fields; the header has {len(HEADER)}"

    # Only the good rows were written, each whole.
    assert Debtor.select().count() == 4 and Account.select().count() == 4
    accounts = {a.client_reference: a for a in Account.select()}
    jose = accounts["C-2"]
    assert (jose.debtor.first_name, jose.debtor.last_name, jose.debtor.search_name) == ("José", "Müller", "muller jose")
    assert [(p.number, p.kind) for p in Phone.select().where(Phone.debtor == jose.debtor_id)] == [
        ("+12125550100", "home")]
    assert jose.jurisdiction == "US-MA" and jose.balance_minor == 80_00 == ledger_sum(jose.id)
    zones = {a.client_reference: Address.get(Address.debtor == a.debtor_id).time_zone for a in accounts.values()}
    assert zones == {"C-1": "America/New_York", "C-2": "America/New_York", "C-3": "Europe/London", "C-4": None}
    jane = accounts["C-1"]
    assert jane.balance_minor == 1250_50 and jane.delinquency_date == dt.date(2026, 1, 15)
    assert [(e.kind, e.amount_minor) for e in LedgerEntry.select().where(LedgerEntry.account == jane.id)] == [
        ("charge", 1250_50)]
    assert accounts["C-4"].balance_minor == 0 and LedgerEntry.select().where(
        LedgerEntry.account == accounts["C-4"].id).count() == 0
    # The first step of the strategy: queued (or why not), and the first letter of the
    # dunning sequence that is due: the US validation notice, the GB reminder (146 days late);
    # none for a zero balance.
    assert all(a.queue_priority is not None or a.queue_reason for a in Account.select())
    assert sorted((l.account.client_reference, l.template) for l in Letter.select()) == [
        ("C-1", "validation-notice"), ("C-2", "validation-notice"), ("C-3", "reminder")]
    # A queued validation notice counts as sent for the dispute rules; a reminder does not.
    sent = {a.client_reference: a.validation_sent_at for a in Account.select()}
    assert sent["C-1"] == sent["C-2"] == dt.datetime.combine(AT.date(), dt.time(12))
    assert sent["C-3"] is None and sent["C-4"] is None
    assert AuditEvent.select().where(AuditEvent.action == "import.placements").count() == 1


def test_a_reimport_changes_nothing_and_a_changed_balance_is_an_adjustment(office, tmp_path):
    path = write(tmp_path / "p.csv", GOOD)
    first = import_placements(SETTINGS, ADMIN, path, "NBK", at=AT)
    assert (first.new, first.rejected, first.reject_file) == (4, 0, None)
    counts = {m.__name__: m.select().count() for m in (Account, Debtor, Phone, LedgerEntry, Letter)}
    again = import_placements(SETTINGS, ADMIN, path, "NBK", at=AT)
    assert (again.new, again.adjusted, again.unchanged) == (0, 0, 4)
    assert {m.__name__: m.select().count() for m in (Account, Debtor, Phone, LedgerEntry, Letter)} == counts

    changed = write(tmp_path / "p2.csv", [row("C-1", balance="1,000.00", phone_work="+1 518 555 0199"), GOOD[1]])
    report = import_placements(SETTINGS, ADMIN, changed, "NBK", at=AT)
    assert (report.new, report.adjusted, report.unchanged) == (0, 1, 1)
    jane = Account.get(Account.client_reference == "C-1")
    assert jane.balance_minor == 1000_00 == ledger_sum(jane.id)
    adjustment = LedgerEntry.get(LedgerEntry.account == jane.id, LedgerEntry.kind == "adjustment")
    assert adjustment.amount_minor == -250_50
    assert sorted(p.number for p in Phone.select().where(Phone.debtor == jane.debtor_id)) == [
        "+15185550142", "+15185550199"]
    assert AuditEvent.get(AuditEvent.action == "import.adjust").account_id == jane.id


def test_a_clients_own_column_names_a_dry_run_and_files_that_cannot_be_read(office, tmp_path):
    theirs = ["Acct No", "Given", "Family", "Owed", "Nation", "Mobile"]
    path = write(tmp_path / "theirs.csv", [["X-1", "Ann", "Lee", "10.00", "US", "518-555-0110"]], header=theirs)
    mapping = {"Acct No": "reference", "Given": "first_name", "Family": "last_name", "Owed": "balance",
               "Nation": "country", "Mobile": "phone_mobile"}
    dry = import_placements(SETTINGS, ADMIN, path, "NBK", mapping=mapping, dry_run=True, at=AT)
    assert (dry.new, dry.rejected) == (1, 0) and Account.select().count() == 0
    report = import_placements(SETTINGS, ADMIN, path, "NBK", mapping=mapping, at=AT)
    assert report.new == 1 and Account.get().debtor.first_name == "Ann"

    with pytest.raises(ImportFileError, match="has no column reference"):
        import_placements(SETTINGS, ADMIN, path, "NBK", at=AT)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(",".join(HEADER).encode() + b"\nC-9,Ren\xe9,Doe,1,,,,,,,,US,,,,,,\n")
    with pytest.raises(ImportFileError, match="not UTF-8"):
        import_placements(SETTINGS, ADMIN, latin, "NBK", at=AT)
    with pytest.raises(ImportFileError, match="there is no file"):
        import_placements(SETTINGS, ADMIN, tmp_path / "missing.csv", "NBK", at=AT)
    with pytest.raises(ImportFileError, match="no client 'ZZZ'"):
        import_placements(SETTINGS, ADMIN, path, "ZZZ", mapping=mapping, at=AT)
    with pytest.raises(PermissionError):
        import_placements(SETTINGS, Actor("lina", 1, "team_lead", 1), path, "NBK", mapping=mapping, at=AT)


def test_the_command_exit_statuses(office, tmp_path, db_url):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "tui.cli", "--db", db_url, "import", "placements", *args,
                               "--at", "2026-06-10T16:00:00Z"],
                              capture_output=True, text=True, timeout=120)

    good = write(tmp_path / "good.csv", GOOD[:2])
    done = run(str(good), "--client", "NBK")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == ("good.csv: 2 rows; imported 2 new accounts, 0 balance adjustments, "
                                           "0 unchanged; 0 rejected; 2 letters queued")
    mixed = the_file(tmp_path)
    some = run(str(mixed), "--client", "NBK")
    assert some.returncode == 1
    assert some.stderr.strip().splitlines()[-1] == (f"arrears: {len(BAD) + 3} row(s) rejected: every one, with its "
                                                    f"line and reasons, is in {tmp_path / 'placements.rejects.csv'}")
    unreadable = run(str(tmp_path / "nope.csv"), "--client", "NBK")
    assert unreadable.returncode == 2 and unreadable.stderr.strip() == f"arrears: there is no file {tmp_path / 'nope.csv'}"
    mapping = tmp_path / "map.toml"
    mapping.write_text("[columns]\nAcct = \"reference\"\nWho = \"nonsense\"\n")
    bad_map = run(str(good), "--client", "NBK", "--mapping", str(mapping))
    assert bad_map.returncode == 2 and "Arrears does not know: nonsense" in bad_map.stderr


def test_a_file_checked_in_a_second_process_imports_the_same(office, tmp_path):
    """Long files are validated in a child process while this one writes: same rows, same
    rejects, same lines."""
    one = tmp_path / "one"
    one.mkdir()
    two = tmp_path / "two"
    two.mkdir()
    first = import_placements(SETTINGS, ADMIN, the_file(one), "NBK", at=AT, parallel=False, dry_run=True)
    second = import_placements(SETTINGS, ADMIN, the_file(two), "NBK", at=AT, parallel=True)
    assert (second.rows, second.new, second.rejected) == (first.rows, first.new, first.rejected)
    assert rejects_of(two / "placements.csv") == rejects_of(one / "placements.csv")
    assert Account.select().count() == 4


@pytest.mark.parametrize("parallel", [False, True])
def test_queue_facts_written_by_the_import_are_what_a_refresh_computes(office, tmp_path, parallel):
    from db.queue import QUEUE_FACT_COLUMNS, refresh_accounts

    from db.compliance import may_send_letter, rules_for
    from db.governor import account_facts, primary_address

    path = write(tmp_path / "p.csv", GOOD + [
        row("C-5", delinquency_date="2026-06-09", region="CA", city="Los Angeles", postcode="90012",
            phone_mobile="(213) 555-0148"),
        # No address: the zone comes from the phone (Los Angeles, three hours behind Albany).
        row("C-6", address_line1="", city="", region="", postcode="", phone_mobile="213.555.0199"),
        # Past the limitation period: its validation notice carries the time-barred disclosure.
        row("C-7", delinquency_date="2012-03-01", phone_mobile="+1 (518) 555-0177"),
    ])
    import_placements(SETTINGS, ADMIN, path, "NBK", at=AT, parallel=parallel)
    columns = [getattr(Account, c) for c in QUEUE_FACT_COLUMNS]
    written = {r[0]: r[1:] for r in Account.select(Account.client_reference, *columns).tuples()}
    with write_transaction(ADMIN) as tx:
        refresh_accounts(SETTINGS, [a.id for a in Account.select(Account.id)], AT)
        tx.audit("test.refresh", "account", None)
    assert {r[0]: r[1:] for r in Account.select(Account.client_reference, *columns).tuples()} == written
    assert sum(1 for facts in written.values() if facts[1] is not None) >= 3  # some are callable now
    assert written["C-6"][3] == "America/Los_Angeles"
    # The first letters as the governor judges them from the accounts as stored.
    letters = {letter.account.client_reference: letter for letter in Letter.select()}
    assert set(letters) == {"C-1", "C-2", "C-3", "C-5", "C-6", "C-7"}  # C-4 owes nothing
    for reference, letter in letters.items():
        account = letter.account
        decision = may_send_letter(account_facts(account, primary_address(account.debtor_id)), letter.template, AT,
                                   rules_for(SETTINGS.compliance, account.jurisdiction))
        assert decision.allowed
        assert json.loads(letter.inputs).get("disclosures", []) == decision.disclosures, reference
    assert json.loads(letters["C-7"].inputs)["disclosures"] == ["time_barred"]
