"""Credit reporting: a Metro 2 file (the credit bureaus' format, character "unpacked" layout:
a 426-byte header record, one 426-byte base segment per reported account, a 426-byte
trailer) for the US accounts the floor may report as of a date.

Fields are placed by the CRRG's positions (1-based, as the guide numbers them): alphanumeric
fields left-justified, upper case and blank-filled; numeric fields right-justified and
zero-filled; money in whole dollars, cents truncated; dates MMDDYYYY (zeros when unknown).

What is reported, as a collection agency reports it (account type 48, portfolio "O"):
- open collection accounts with a balance: account status 93 (assigned to collections),
  amount past due equal to the balance, the date of first delinquency;
- accounts paid or settled in the reporting month: status 62 (paid, was a collection
  account), settled for less with special comment AU;
- a dispute still under investigation carries compliance condition XB, one investigated
  and answered XH: a disputed account is never reported without its code;
- a deceased debtor is reported with ECOA code X.
Left out: accounts outside the US, an account in bankruptcy (the stay), and any account
whose first delinquency is older than the reporting period (`reporting.obsolete_after_days`,
FCRA §605: 7 years and 180 days) — a time-barred, obsolete debt is not reported.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from peewee import fn

from db.audit import Actor
from db.models import Account, Address, Debtor, LedgerEntry, Phone
from db.scope import require_role

RECORD = 426
# (name, first position, length, kind): "A" alphanumeric, "N" numeric.
HEADER_FIELDS = (
    ("record_descriptor", 1, 4, "N"), ("record_identifier", 5, 6, "A"), ("cycle_identifier", 11, 2, "A"),
    ("innovis_program", 13, 10, "A"), ("equifax_program", 23, 10, "A"), ("experian_program", 33, 5, "A"),
    ("transunion_program", 38, 10, "A"), ("activity_date", 48, 8, "N"), ("date_created", 56, 8, "N"),
    ("program_date", 64, 8, "N"), ("program_revision_date", 72, 8, "N"), ("reporter_name", 80, 40, "A"),
    ("reporter_address", 120, 96, "A"), ("reporter_telephone", 216, 10, "N"), ("software_vendor", 226, 40, "A"),
    ("software_version", 266, 5, "A"), ("prbc_program", 271, 10, "A"), ("reserved", 281, 146, "A"),
)
BASE_FIELDS = (
    ("record_descriptor", 1, 4, "N"), ("processing_indicator", 5, 1, "N"), ("time_stamp", 6, 14, "N"),
    ("correction_indicator", 20, 1, "N"), ("identification_number", 21, 20, "A"), ("cycle_identifier", 41, 2, "A"),
    ("consumer_account_number", 43, 30, "A"), ("portfolio_type", 73, 1, "A"), ("account_type", 74, 2, "A"),
    ("date_opened", 76, 8, "N"), ("credit_limit", 84, 9, "N"), ("highest_credit", 93, 9, "N"),
    ("terms_duration", 102, 3, "A"), ("terms_frequency", 105, 1, "A"), ("scheduled_payment", 106, 9, "N"),
    ("actual_payment", 115, 9, "N"), ("account_status", 124, 2, "A"), ("payment_rating", 126, 1, "A"),
    ("payment_history", 127, 24, "A"), ("special_comment", 151, 2, "A"), ("compliance_condition", 153, 2, "A"),
    ("current_balance", 155, 9, "N"), ("amount_past_due", 164, 9, "N"), ("original_charge_off", 173, 9, "N"),
    ("date_of_account_information", 182, 8, "N"), ("date_of_first_delinquency", 190, 8, "N"),
    ("date_closed", 198, 8, "N"), ("date_of_last_payment", 206, 8, "N"), ("interest_type", 214, 1, "A"),
    ("reserved", 215, 17, "A"), ("surname", 232, 25, "A"), ("first_name", 257, 20, "A"), ("middle_name", 277, 20, "A"),
    ("generation_code", 297, 1, "A"), ("ssn", 298, 9, "N"), ("date_of_birth", 307, 8, "N"), ("telephone", 315, 10, "N"),
    ("ecoa_code", 325, 1, "A"), ("consumer_information_indicator", 326, 2, "A"), ("country_code", 328, 2, "A"),
    ("address_line1", 330, 32, "A"), ("address_line2", 362, 32, "A"), ("city", 394, 20, "A"), ("state", 414, 2, "A"),
    ("postal_code", 416, 9, "A"), ("address_indicator", 425, 1, "A"), ("residence_code", 426, 1, "A"),
)
STATUS_COUNTS = ("DF", "DA", "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84",
                 "88", "89", "93", "94", "95", "96", "97")
TRAILER_FIELDS = (
    ("record_descriptor", 1, 4, "N"), ("record_identifier", 5, 7, "A"), ("total_base_records", 12, 9, "N"),
    ("reserved1", 21, 9, "A"), ("status_DF", 30, 9, "N"), ("total_j1", 39, 9, "N"), ("total_j2", 48, 9, "N"),
    ("block_count", 57, 9, "N"),
    *((f"status_{code}", 66 + 9 * i, 9, "N") for i, code in enumerate(STATUS_COUNTS[1:])),
    ("total_ecoa_z", 264, 9, "N"), ("total_employment", 273, 9, "N"), ("total_original_creditor", 282, 9, "N"),
    ("total_purchased", 291, 9, "N"), ("total_mortgage", 300, 9, "N"), ("total_payment_information", 309, 9, "N"),
    ("total_change", 318, 9, "N"), ("total_ssn_all", 327, 9, "N"), ("total_ssn_base", 336, 9, "N"),
    ("total_ssn_j1", 345, 9, "N"), ("total_ssn_j2", 354, 9, "N"), ("total_dob_all", 363, 9, "N"),
    ("total_dob_base", 372, 9, "N"), ("total_dob_j1", 381, 9, "N"), ("total_dob_j2", 390, 9, "N"),
    ("total_telephone_all", 399, 9, "N"), ("reserved2", 408, 19, "A"),
)


class Metro2Error(ValueError):
    """The file cannot be made as asked; the message says why."""


def _alpha(value) -> str:
    """Upper case, accents folded, characters the format does not carry made spaces."""
    text = unicodedata.normalize("NFKD", "" if value is None else str(value))
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return "".join(c if (c.isascii() and (c.isalnum() or c in " -/.,'&#")) else " " for c in text)


def record(fields, values: dict) -> str:
    """One fixed-width record: each field at its position, every position filled."""
    out = []
    position = 1
    for name, start, length, kind in fields:
        if start != position:
            raise AssertionError(f"{name} starts at {start}, expected {position}")
        value = values.get(name)
        if kind == "N":
            digits = "".join(ch for ch in str(value if value is not None else 0) if ch.isdigit()) or "0"
            out.append(digits[-length:].rjust(length, "0"))
        else:
            out.append(_alpha(value)[:length].ljust(length))
        position = start + length
    line = "".join(out)
    if len(line) != RECORD:
        raise AssertionError(f"a record of {len(line)} characters, not {RECORD}")
    return line


def field_of(fields, line: str, name: str) -> str:
    """A field's characters in a record (for checks and tests)."""
    for field_name, start, length, _kind in fields:
        if field_name == name:
            return line[start - 1:start - 1 + length]
    raise KeyError(name)


def _date(value: dt.date | dt.datetime | None) -> str:
    return f"{value:%m%d%Y}" if value else "00000000"


def _dollars(minor: int) -> int:
    """Whole dollars, cents truncated (never negative)."""
    return max(minor, 0) // 100


@dataclass
class Metro2Report:
    reported: int
    by_status: Counter
    skipped: Counter
    """Accounts left out, by reason."""


def _status_of(account: Account, as_of: dt.date) -> tuple[str, str] | None:
    """(account status, special comment), or None when the account is not reported."""
    month_start = as_of.replace(day=1)
    if account.balance_minor > 0 and account.status in ("open", "arrangement", "legal"):
        return "93", ""
    if account.status in ("paid", "settled", "closed") and account.balance_minor <= 0 and \
            account.last_payment_date and account.last_payment_date >= month_start:
        return "62", ("AU" if account.status == "settled" else "")
    return None


def metro2_lines(settings, actor: Actor, as_of: dt.date, *, stamp: dt.datetime | None = None,
                 report: dict | None = None) -> Iterator[str]:
    """The file's lines: header, a base segment per reportable account, trailer. `report`
    (a dict) receives a Metro2Report when the last line has been given."""
    require_role(actor, "admin", "system")
    stamp = stamp or dt.datetime.now(dt.UTC)
    cfg, letters = settings.reporting, settings.letters
    if not cfg.identification_number.strip():
        raise Metro2Error("set reporting.identification_number (the furnisher id the bureaus gave you) first")
    yield record(HEADER_FIELDS, {
        "record_descriptor": RECORD, "record_identifier": "HEADER", "innovis_program": cfg.innovis_program,
        "equifax_program": cfg.equifax_program, "experian_program": cfg.experian_program,
        "transunion_program": cfg.transunion_program, "activity_date": _date(as_of), "date_created": _date(stamp),
        "reporter_name": letters.letterhead_name, "reporter_address": letters.letterhead_address,
        "reporter_telephone": letters.letterhead_phone, "software_vendor": "ARREARS", "software_version": "1",
    })
    obsolete_before = as_of - dt.timedelta(days=cfg.obsolete_after_days)
    month_start = as_of.replace(day=1)
    counts: Counter = Counter()
    skipped: Counter = Counter()
    totals = Counter()
    last = 0
    while True:
        accounts = list(Account.select().where(Account.id > last).order_by(Account.id).limit(2000))
        if not accounts:
            break
        last = accounts[-1].id
        ids = [a.id for a in accounts]
        debtors = {d.id: d for d in Debtor.select().where(Debtor.id.in_({a.debtor_id for a in accounts}))}
        addresses, phones = {}, {}
        for address in (Address.select().where(Address.debtor.in_(list(debtors)))
                        .order_by(Address.is_primary.desc(), Address.id)):
            addresses.setdefault(address.debtor_id, address)
        for phone in Phone.select().where(Phone.debtor.in_(list(debtors)), Phone.status == "good").order_by(Phone.id):
            phones.setdefault(phone.debtor_id, phone)
        charged = dict(LedgerEntry.select(LedgerEntry.account, fn.SUM(LedgerEntry.amount_minor))
                       .where(LedgerEntry.account.in_(ids), LedgerEntry.kind.in_(["charge", "interest", "fee"]))
                       .group_by(LedgerEntry.account).tuples())
        paid = dict(LedgerEntry.select(LedgerEntry.account, fn.SUM(LedgerEntry.amount_minor))
                    .where(LedgerEntry.account.in_(ids), LedgerEntry.kind.in_(["payment", "reversal"]),
                           LedgerEntry.effective_date >= month_start, LedgerEntry.effective_date <= as_of)
                    .group_by(LedgerEntry.account).tuples())
        for account in accounts:
            if not account.jurisdiction.startswith("US"):
                skipped["outside the US"] += 1
                continue
            status = _status_of(account, as_of)
            if status is None:
                skipped["nothing to report"] += 1
                continue
            if account.bankruptcy:
                skipped["bankruptcy"] += 1
                continue
            first_delinquency = account.delinquency_date or account.placed_on
            if first_delinquency < obsolete_before:
                skipped["past the reporting period"] += 1
                continue
            code, comment = status
            debtor = debtors[account.debtor_id]
            address = addresses.get(account.debtor_id)
            phone = phones.get(account.debtor_id)
            compliance = ""
            if account.dispute:
                compliance = "XH" if account.dispute_verified_at else "XB"
            ssn = "".join(ch for ch in (debtor.national_id or "") if ch.isdigit())
            ssn = ssn if len(ssn) == 9 else ""
            telephone = phone.number[-10:] if phone and phone.number.startswith("+1") else ""
            balance = _dollars(account.balance_minor)
            yield record(BASE_FIELDS, {
                "record_descriptor": RECORD, "processing_indicator": 1, "time_stamp": f"{stamp:%m%d%Y%H%M%S}",
                "correction_indicator": 0, "identification_number": cfg.identification_number,
                "consumer_account_number": account.reference, "portfolio_type": "O", "account_type": "48",
                "date_opened": _date(account.placed_on), "credit_limit": 0,
                "highest_credit": _dollars(int(charged.get(account.id) or 0)), "terms_duration": "001",
                "terms_frequency": "", "scheduled_payment": 0,
                "actual_payment": _dollars(-int(paid.get(account.id) or 0)), "account_status": code,
                "payment_rating": "", "payment_history": "B" * 24, "special_comment": comment,
                "compliance_condition": compliance, "current_balance": balance,
                "amount_past_due": balance if code == "93" else 0, "original_charge_off": 0,
                "date_of_account_information": _date(as_of), "date_of_first_delinquency": _date(first_delinquency),
                "date_closed": _date(account.last_payment_date) if code == "62" else "00000000",
                "date_of_last_payment": _date(account.last_payment_date), "surname": debtor.last_name,
                "first_name": debtor.first_name, "ssn": ssn, "date_of_birth": _date(debtor.date_of_birth),
                "telephone": telephone, "ecoa_code": "X" if account.deceased else "1", "country_code": "US",
                "address_line1": address.line1 if address else "", "address_line2": address.line2 if address else "",
                "city": address.city if address else "", "state": address.region if address else "",
                "postal_code": (address.postcode or "").replace("-", "") if address else "",
            })
            counts[code] += 1
            totals["ssn"] += bool(ssn)
            totals["dob"] += bool(debtor.date_of_birth)
            totals["telephone"] += bool(telephone)
    base = sum(counts.values())
    yield record(TRAILER_FIELDS, {
        "record_descriptor": RECORD, "record_identifier": "TRAILER", "total_base_records": base,
        "block_count": base + 2, **{f"status_{code}": counts.get(code, 0) for code in STATUS_COUNTS},
        "total_ssn_all": totals["ssn"], "total_ssn_base": totals["ssn"], "total_dob_all": totals["dob"],
        "total_dob_base": totals["dob"], "total_telephone_all": totals["telephone"],
    })
    if report is not None:
        report["report"] = Metro2Report(base, counts, skipped)
