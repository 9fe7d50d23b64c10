"""Files in: placement files from creditor clients and remittance files of payments.

Neither may lose a row or take one that is wrong. Every row is validated in full; a row
with any fault is not imported and goes to a reject file beside the input with its line
number and every reason, while the valid rows are imported in batches, each batch one
short transaction with its audit events (officers keep claiming meanwhile). Importing the
same file again changes nothing: placements are keyed by client and the client's
reference, payments by their transaction id. A known account whose balance changed gets
an adjustment in the ledger, never an overwrite.

A file that cannot be read (missing, not UTF-8, no header, a required column missing) is
refused before anything is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from db.audit import Actor, write_transaction
from db.money import MoneyError, exponent_of, parse_amount

PLACEMENT_COLUMNS = (
    "reference", "first_name", "last_name", "balance", "delinquency_date", "last_payment_date",
    "address_line1", "address_line2", "city", "region", "postcode", "country", "phone_home", "phone_work",
    "phone_mobile", "email", "date_of_birth", "original_creditor",
)
PLACEMENT_REQUIRED = ("reference", "first_name", "last_name", "balance", "country")
PAYMENT_COLUMNS = ("reference", "amount", "date", "method", "transaction_id")
PAYMENT_REQUIRED = PAYMENT_COLUMNS
BATCH = 200
"""Rows per write transaction: short, so an officer's claim never waits long behind one."""

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_POSTCODES = {
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$", re.IGNORECASE),
}
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 control characters, DEL included: never imported into a name or an address."""
_TEXT_LIMITS = {"reference": 32, "first_name": 100, "last_name": 100, "address_line1": 200, "address_line2": 200,
                "city": 100, "email": 254, "original_creditor": 200}
# Zones of US states that lie in one zone; a state across two (Texas, Florida, …) is left
# without an address zone, so the governor judges call hours by the phone or every zone.
_US_STATE_ZONES = {
    **dict.fromkeys(["CT", "DC", "DE", "GA", "MA", "MD", "ME", "NC", "NH", "NJ", "NY", "OH", "PA", "RI", "SC", "VA",
                     "VT", "WV"], "America/New_York"),
    **dict.fromkeys(["AL", "AR", "IA", "IL", "LA", "MN", "MO", "MS", "OK", "WI"], "America/Chicago"),
    **dict.fromkeys(["CO", "MT", "NM", "UT", "WY"], "America/Denver"),
    "AZ": "America/Phoenix", "CA": "America/Los_Angeles", "WA": "America/Los_Angeles", "NV": "America/Los_Angeles",
    "AK": "America/Anchorage", "HI": "Pacific/Honolulu",
}


class ImportFileError(Exception):
    """The file cannot be imported at all; nothing was written. The message says why."""


# --- reading -------------------------------------------------------------------------------


@dataclass
class CsvFile:
    path: Path
    delimiter: str
    header: list[str]
    """The file's own column names, as written."""
    columns: list[str | None]
    """What each of the file's columns is (after the mapping); None for columns ignored."""
    rows: int
    """Data rows (physical lines after the header; a quoted field over several lines
    makes this an upper bound)."""

    @property
    def ignored(self) -> list[str]:
        return [name for name, ours in zip(self.header, self.columns) if ours is None]


def open_csv(path: Path, known: tuple[str, ...], required: tuple[str, ...],
             mapping: dict[str, str] | None = None) -> CsvFile:
    """Check the file can be read and has the required columns, before anything is written.
    UTF-8 with or without a BOM; comma or semicolon; a mapping renames the client's columns
    (theirs -> ours)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
            rows = sum(1 for line in handle if line.strip())
    except FileNotFoundError:
        raise ImportFileError(f"there is no file {path}") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} is a directory, not a file") from None
    except PermissionError:
        raise ImportFileError(f"cannot read {path}: permission denied") from None
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path} is not UTF-8 text (byte {exc.start} cannot be read): save it as UTF-8") from None
    if not first.strip():
        raise ImportFileError(f"{path} is empty: the first line must be the header")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    header = next(csv.reader([first], delimiter=delimiter))
    mapping = {k.strip().lower(): v.strip().lower() for k, v in (mapping or {}).items()}
    unknown_targets = sorted(set(mapping.values()) - set(known))
    if unknown_targets:
        raise ImportFileError(f"the mapping names columns Arrears does not know: {', '.join(unknown_targets)}")
    columns: list[str | None] = []
    for name in header:
        key = name.strip().lower()
        ours = mapping.get(key, key)
        columns.append(ours if ours in known and ours not in columns else None)
    missing = [name for name in required if name not in columns]
    if missing:
        raise ImportFileError(f"{path} has no column {', '.join(missing)} (its header: {', '.join(header)[:200]})")
    return CsvFile(path, delimiter, header, columns, rows)


def read_records(source: CsvFile) -> Iterator[tuple[int, list[str], dict[str, str] | str]]:
    """(line number, the raw fields, the record by our column names, or why the line
    cannot be a record)."""
    with source.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=source.delimiter)
        next(reader)
        while True:
            line = reader.line_num + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield line, [], f"cannot be read as CSV: {exc}"
                continue
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(source.header):
                yield line, fields, f"has {len(fields)} fields; the header has {len(source.header)}"
                continue
            yield line, fields, {ours: value.strip() for ours, value in zip(source.columns, fields) if ours}


@dataclass
class FileReport:
    """What an import of a file did: rows read, rows rejected (in the reject file)."""

    rows: int = 0
    rejected: int = 0
    reject_file: Path | None = None
    samples: list[str] = field(default_factory=list)
    """The first few rejections, for the screen."""


class Rejects:
    """The reject file beside the input: each rejected row's line, every reason, and the
    row as it was. Written only if a row is rejected (an old one from an earlier run is
    replaced)."""

    def __init__(self, source: CsvFile):
        self.source = source
        self.path = source.path.with_name(source.path.stem + ".rejects.csv")
        self.count = 0
        self.samples: list[str] = []
        self._handle = None
        self._writer = None
        if self.path.exists():
            self.path.unlink()

    def add(self, line: int, fields: list[str], reasons: list[str]) -> None:
        if self._writer is None:
            self._handle = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._handle)
            self._writer.writerow(["line", "reasons", *self.source.header])
        self._writer.writerow([line, "; ".join(reasons), *fields])
        self.count += 1
        if len(self.samples) < 5:
            self.samples.append(f"line {line}: {'; '.join(reasons)}")

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()

    def report_to(self, report: FileReport) -> None:
        """Close the reject file and say in the report what it holds."""
        self.close()
        report.rejected = self.count
        report.reject_file = self.path if self.count else None
        report.samples = self.samples


# --- validating a placement ----------------------------------------------------------------


class Placement(NamedTuple):
    """A valid row, as the writer needs it. A tuple: a long file's rows cross from the
    checking process in a pipe, and a dataclass took the writer six times as long to
    unpickle (about 7 s of a million-row import, on the writer's own thread)."""

    line: int
    reference: str
    first_name: str
    last_name: str
    balance_minor: int
    country: str
    region: str | None
    delinquency_date: dt.date | None
    last_payment_date: dt.date | None
    date_of_birth: dt.date | None
    address: tuple[str, str | None, str, str | None] | None
    """line1, line2, city, postcode."""
    phones: list[tuple[str, str]]
    """(E.164 number, kind)."""
    email: str | None
    original_creditor: str | None
    facts: tuple | None = None
    """The new account's queue facts (`db.queue.QUEUE_FACT_COLUMNS`), judged as it is checked."""
    letter: tuple | None = None
    """The first letter: (template, allowed, why, disclosures), or None."""


def _countries(settings) -> set[str]:
    return {key.split("-")[0] for key in settings.compliance.jurisdictions}


def _regions(country: str) -> set[str]:
    import holidays

    try:
        return set(holidays.country_holidays(country).subdivisions)
    except NotImplementedError:
        return set()


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What the queue's judge (`db.queue.judge_account`, `priority_of`) reads of an account,
    for one a placement is about to open: no callback, promise or contact yet."""

    jurisdiction: str
    balance_minor: int
    delinquency_date: dt.date | None
    team_id: int
    callback_at: None = None
    promise_due_on: None = None
    last_contact_at: None = None


class PlacementRules:
    """What a placement row must be, with the lookups cached for a whole file."""

    def __init__(self, settings, today: dt.date, exponent: int, *, at: dt.datetime | None = None, team=None,
                 currency: str = "USD"):
        self.settings = settings
        self.today = today
        self.exponent = exponent
        self.countries = _countries(settings)
        self.regions = {country: _regions(country) for country in self.countries}
        self.at, self.team, self.currency = at, team, currency
        self.rules_cache: dict = {}
        if team is not None:
            from db.queue import strategy_weights

            self.weights = strategy_weights(settings, team)

    def judge(self, placement: Placement) -> Placement:
        """The placement with the new account's queue facts and first letter, by the same
        rules as `refresh_accounts` and the letter queue (pure: no database)."""
        from db.compliance import AccountFacts, PhoneFacts, may_send_letter
        from db.queue import judge_account

        at = self.at
        jurisdiction = f"{placement.country}-{placement.region}" if placement.region else placement.country
        # The facts `account_facts` reads from a new account and its address, built straight
        # from the row: a million peewee models cost the checker a tenth of its time.
        facts = AccountFacts(
            id=0, jurisdiction=jurisdiction, status="open", balance_minor=placement.balance_minor,
            address_zone=address_zone(placement.country, placement.region) if placement.address else None,
            address_country=placement.country if placement.address else None,
            delinquency_date=placement.delinquency_date, last_payment_date=placement.last_payment_date,
            placed_on=self.today)
        account = NewAccount(jurisdiction, placement.balance_minor, placement.delinquency_date, self.team.id)
        phones = [PhoneFacts(n, number, kind, "good", False) for n, (number, kind) in enumerate(placement.phones)]
        queue_facts = judge_account(self.settings, account, None, phones, [], frozenset(), at, self.weights,
                                    self.rules_cache, facts=facts)
        letter = None
        template = first_letter(self.settings, placement, self.today)
        if template:
            # judge_account has just put the jurisdiction's rules in the cache.
            decision = may_send_letter(facts, template, at, self.rules_cache[jurisdiction])
            letter = (template, decision.allowed, "; ".join(r.text for r in decision.reasons),
                      list(decision.disclosures))
        return placement._replace(facts=queue_facts, letter=letter)

    def _date(self, record, name, reasons, *, past=True) -> dt.date | None:
        raw = record.get(name, "")
        if not raw:
            return None
        try:
            value = dt.date.fromisoformat(raw)
        except ValueError:
            reasons.append(f"{name} {raw!r} is not a date: use YYYY-MM-DD")
            return None
        if past and value > self.today:
            reasons.append(f"{name} {raw} is in the future")
        if value.year < 1900:
            reasons.append(f"{name} {raw} is before 1900")
        return value

    def check(self, line: int, record: dict[str, str]) -> tuple[Placement | None, list[str]]:
        import phonenumbers

        from db.phone_parse import parse_phone

        reasons: list[str] = []
        for name in PLACEMENT_REQUIRED:
            if not record.get(name):
                reasons.append(f"{name} is empty")
        for name, limit in _TEXT_LIMITS.items():
            value = record.get(name, "")
            if len(value) > limit:
                reasons.append(f"{name} is longer than {limit} characters")
            if _CONTROL.search(value):
                reasons.append(f"{name} has control characters")
        balance = None
        if record.get("balance"):
            try:
                balance = parse_amount(record["balance"], exponent=self.exponent)
            except MoneyError as exc:
                reasons.append(f"balance: {exc}")
        country = record.get("country", "").upper()
        if country and country not in self.countries:
            reasons.append(f"country {record['country']!r} is not one this floor works "
                           f"({', '.join(sorted(self.countries))})")
        region = record.get("region", "").upper() or None
        if region and country in self.regions and self.regions[country] and region not in self.regions[country]:
            reasons.append(f"region {record['region']!r} is not a region of {country}")
        postcode = record.get("postcode") or None
        if postcode and country in _POSTCODES and not _POSTCODES[country].match(postcode):
            reasons.append(f"postcode {postcode!r} is not a {country} postcode")
        delinquent = self._date(record, "delinquency_date", reasons)
        last_payment = self._date(record, "last_payment_date", reasons)
        born = self._date(record, "date_of_birth", reasons)
        if born and born > self.today - dt.timedelta(days=365 * 18):
            reasons.append(f"date_of_birth {born} makes the debtor a minor")
        email = record.get("email") or None
        if email and not _EMAIL.match(email):
            reasons.append(f"email {email!r} is not an e-mail address")
        phones = []
        for kind in ("home", "work", "mobile"):
            raw = record.get(f"phone_{kind}", "")
            if not raw:
                continue
            try:
                home = country if country in self.countries else None
                parsed = parse_phone(raw, home)
                # Valid for the debtor's country, else valid anywhere. The first test settles
                # nearly every row; the second alone searches all 25 regions sharing +1.
                if not ((home and phonenumbers.is_valid_number_for_region(parsed, home))
                        or phonenumbers.is_valid_number(parsed)):
                    raise phonenumbers.NumberParseException(0, "invalid")
            except phonenumbers.NumberParseException:
                reasons.append(f"phone_{kind} {raw!r} is not a valid {country or ''} phone number".replace("  ", " "))
                continue
            phones.append((phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), kind))
        line1, city = record.get("address_line1", ""), record.get("city", "")
        address = None
        if line1 or city:
            if not (line1 and city):
                reasons.append("an address needs both address_line1 and city")
            else:
                address = (line1, record.get("address_line2") or None, city, postcode)
        if reasons:
            return None, reasons
        placement = Placement(line, record["reference"], record["first_name"], record["last_name"], balance, country,
                              region, delinquent, last_payment, born, address, phones, email,
                              record.get("original_creditor") or None)
        if self.team is not None:
            placement = self.judge(placement)
        return placement, []


def address_zone(country: str, region: str | None) -> str | None:
    """The address's IANA zone where the country and region fix it (else None: the
    governor falls back to the phone's zone, or every zone of the country)."""
    from db.compliance import COUNTRY_ZONES

    zones = COUNTRY_ZONES.get(country, ())
    if len(zones) == 1:
        return zones[0]
    if country == "US" and region:
        return _US_STATE_ZONES.get(region)
    return None


# --- importing placements -------------------------------------------------------------------


@dataclass
class ImportReport(FileReport):
    new: int = 0
    adjusted: int = 0
    unchanged: int = 0
    ignored_columns: list[str] = field(default_factory=list)
    letters: int = 0
    dry_run: bool = False

    @property
    def taken(self) -> int:
        return self.new + self.adjusted + self.unchanged


def first_letter(settings, placement: Placement, today: dt.date) -> str | None:
    """The dunning sequence's first step for a new account, if it is due already (US: the
    validation notice on day 0, the collector's first communication)."""
    from db.dunning import _next_step

    step = _next_step(settings.letters.sequence, placement.country, set())
    if step is None or placement.balance_minor <= 0:
        return None
    start = placement.delinquency_date or today
    return step.template if (today - start).days >= step.days_past_due else None


PARALLEL_FROM_ROWS = 20_000
"""Files at least this long are validated in a second process while this one writes."""


def import_placements(settings, actor: Actor, path: Path, client_code: str, *, team: str | None = None,
                      mapping: dict[str, str] | None = None, dry_run: bool = False, at: dt.datetime | None = None,
                      batch: int = BATCH, progress: Callable[[int], None] | None = None,
                      parallel: bool | None = None) -> ImportReport:
    """Import a placement file for the client (see the module's docstring). A long file is
    validated in a second process (`parallel`, default: from PARALLEL_FROM_ROWS rows), the
    rows arriving here in file order while the previous batch is written."""
    from db.database import BulkCheckpoints
    from db.models import Client
    from db.promises import floor_today
    from db.scope import require_role

    require_role(actor, "admin", "system")
    at = at or dt.datetime.now(dt.UTC)
    client = Client.get_or_none(Client.code == client_code)
    if client is None:
        raise ImportFileError(f"there is no client {client_code!r}: add it with `arrears clients add`")
    team_row = _placement_team(team)
    source = open_csv(path, PLACEMENT_COLUMNS, PLACEMENT_REQUIRED, mapping)
    rules = PlacementRules(settings, floor_today(settings, at), exponent_of(client.currency), at=at, team=team_row,
                           currency=client.currency)
    report = ImportReport(dry_run=dry_run, ignored_columns=source.ignored)
    rejects = Rejects(source)
    if parallel is None:
        parallel = source.rows >= PARALLEL_FROM_ROWS
    chunks = _checked_in_child(source, rules, batch) if parallel else checked_chunks(source, rules, batch)
    checkpoints = BulkCheckpoints(enabled=not dry_run)  # a dry run writes nothing
    try:
        for read, placements, rejected in chunks:
            report.rows += read
            for line, fields, reasons in rejected:
                rejects.add(line, fields, reasons)
            if placements:
                _place_batch(settings, actor, client, team_row, placements, source.path.name, at, report, dry_run)
                checkpoints.between_transactions()
            if progress:
                progress(read)
    finally:
        checkpoints.close()
        rejects.report_to(report)
    if not dry_run:
        from db.database import refresh_statistics

        refresh_statistics(report.new + report.adjusted)
    return report


Chunk = tuple[int, list[Placement], list[tuple[int, list[str], list[str]]]]
"""(rows read, valid placements, rejected rows as (line, fields, reasons))."""


def checked_chunks(source: CsvFile, rules: PlacementRules, batch: int) -> Iterator[Chunk]:
    """The file's rows, validated, in file order, `batch` valid placements at a time."""
    seen: dict[str, int] = {}
    read, pending, rejected = 0, [], []
    for line, fields, record in read_records(source):
        read += 1
        if isinstance(record, str):
            rejected.append((line, fields, [record]))
        else:
            placement, reasons = rules.check(line, record)
            reference = record.get("reference", "")
            if reference and reference in seen:
                reasons = reasons + [f"reference {reference} is already on line {seen[reference]}"]
                placement = None
            elif reference:
                seen[reference] = line
            if placement is None:
                rejected.append((line, fields, reasons))
            else:
                pending.append(placement)
        if len(pending) >= batch:
            yield read, pending, rejected
            read, pending, rejected = 0, [], []
    if read:
        yield read, pending, rejected


def _validate_child(source: CsvFile, rules: PlacementRules, batch: int, conn) -> None:
    import os

    # A batch job: officers' sessions on the same host get the CPU first.
    os.nice(10)
    try:
        for chunk in checked_chunks(source, rules, batch):
            conn.send(("chunk", chunk))
        conn.send(("done", None))
    except BaseException as exc:  # the parent reports it; nothing is lost, the file can be run again
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def _checked_in_child(source: CsvFile, rules: PlacementRules, batch: int) -> Iterator[Chunk]:
    """`checked_chunks`, computed in a second process (the pipe's buffer holds it back when
    the writer falls behind, so memory stays bounded)."""
    import multiprocessing

    # Imported before the fork: the child then needs no import lock, which another thread of
    # this process (the WAL checkpointer) could be holding at the moment of forking.
    import phonenumbers  # noqa: F401

    import db.governor  # noqa: F401
    import db.phone_parse  # noqa: F401
    import db.queue  # noqa: F401

    context = multiprocessing.get_context("fork")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_validate_child, args=(source, rules, batch, child), daemon=True,
                              name="arrears-placement-check")
    process.start()
    child.close()
    try:
        while True:
            try:
                kind, payload = parent.recv()
            except EOFError:
                raise ImportFileError("the row checker stopped before the end of the file; run the import again "
                                      "(rows already imported are kept, and are not imported twice)") from None
            if kind == "chunk":
                yield payload
            elif kind == "done":
                return
            else:
                raise ImportFileError(f"checking the rows failed: {payload}")
    finally:
        parent.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()


def _placement_team(name: str | None):
    from db.models import Team

    if name is not None:
        row = Team.get_or_none(Team.name == name)
        if row is None:
            raise ImportFileError(f"there is no team {name!r}")
        return row
    general = list(Team.select().where(Team.specialist == False).order_by(Team.id))  # noqa: E712
    if len(general) != 1:
        raise ImportFileError("say which team works these accounts: --team NAME")
    return general[0]


def _place_batch(settings, actor, client, team, placements: list[Placement], filename: str, at: dt.datetime,
                 report: ImportReport, dry_run: bool) -> None:
    from db.bulk import bulk_insert, next_id, reset_sequences
    from db.compliance import naive_utc
    from db.database import database
    from db.letter_queue import validation_sent_at
    from db.demo import search_key
    from db.queue import QUEUE_FACT_COLUMNS, _db_value as _db_time, remember_zones
    from db.ledger import insert_entry
    from db.models import Account, Address, Debtor, LedgerEntry, Phone
    from db.promises import floor_today

    refs = [p.reference for p in placements]
    if dry_run:
        known = {r[0] for r in Account.select(Account.client_reference)
                 .where(Account.client == client.id, Account.client_reference.in_(refs)).tuples()}
        report.new += sum(1 for r in refs if r not in known)
        report.unchanged += len(known)
        return
    now = naive_utc(at)
    mark = database.param
    with write_transaction(actor) as tx:
        # Plain SQL: building this statement through the query builder, 200 references at
        # a time, cost more than running it.
        known = {ref: (account_id, balance) for account_id, ref, balance in database.execute_sql(
            f"SELECT id, client_reference, balance_minor FROM account WHERE client_id = {mark} "
            f"AND client_reference IN ({', '.join([mark] * len(refs))})", [client.id, *refs])}
        fresh = [p for p in placements if p.reference not in known]
        for p in placements:
            if p.reference not in known:
                continue
            account_id, balance = known[p.reference]
            change = p.balance_minor - balance
            if change == 0:
                report.unchanged += 1
                continue
            account = Account.get_by_id(account_id)
            insert_entry(tx, account, "adjustment", change, effective_date=now.date(),
                         memo=f"placement file {filename} line {p.line}: balance {p.balance_minor}",
                         batch=f"placement/{filename}")
            tx.audit("import.adjust", "account", account.id, account_id=account.id,
                     changes={"balance_minor": [account.balance_minor, p.balance_minor], "file": filename,
                              "line": p.line})
            report.adjusted += 1
            _add_new_phones(account.debtor_id, p.phones)
        if fresh:
            debtor_id, address_id, phone_id = next_id(Debtor), next_id(Address), next_id(Phone)
            account_id, ledger_id = next_id(Account), next_id(LedgerEntry)
            debtors, addresses, phones, accounts, ledger = [], [], [], [], []
            zones_seen: set[tuple[int, str]] = set()
            validated = _db_time(validation_sent_at(settings, at))
            for offset, p in enumerate(fresh):
                d, a = debtor_id + offset, account_id + offset
                debtors.append((d, p.first_name, p.last_name, search_key(p.last_name, p.first_name), p.date_of_birth,
                                None, p.email))
                if p.address is not None:
                    line1, line2, city, postcode = p.address
                    addresses.append((address_id, d, line1, line2, city, p.region, postcode, p.country,
                                      address_zone(p.country, p.region), True, "good"))
                    address_id += 1
                for number, kind in p.phones:
                    phones.append((phone_id, d, number, kind, "good", False, False))
                    phone_id += 1
                jurisdiction = f"{p.country}-{p.region}" if p.region else p.country
                # The queue facts were judged as the row was checked (PlacementRules.judge):
                # written with the account, so it is in the queue from this commit.
                priority, queue_priority, next_call_at, zone_key, reason, attempts = p.facts
                if zone_key:
                    zones_seen.add((team.id, zone_key))
                accounts.append((a, f"A{a:08d}", client.id, p.reference, d, p.original_creditor, client.currency,
                                 jurisdiction, now.date(), p.delinquency_date, p.last_payment_date, "open",
                                 p.balance_minor, team.id, priority, queue_priority, _db_time(next_call_at),
                                 zone_key, reason, attempts,
                                 # The first letter a validation notice: sent as far as the
                                 # dispute rules go from the moment it is queued.
                                 validated if p.letter and p.letter[0] == "validation-notice" and p.letter[1]
                                 else None))
                if p.balance_minor:
                    ledger.append((ledger_id, a, "charge", "principal", p.balance_minor,
                                   p.delinquency_date or now.date(), now, f"placement/{filename}",
                                   f"placement file {filename} line {p.line}"))
                    ledger_id += 1
            bulk_insert(Debtor, ["id", "first_name", "last_name", "search_name", "date_of_birth", "national_id",
                                 "email"], debtors)
            bulk_insert(Address, ["id", "debtor", "line1", "line2", "city", "region", "postcode", "country",
                                  "time_zone", "is_primary", "status"], addresses)
            bulk_insert(Phone, ["id", "debtor", "number", "kind", "status", "consent", "employer_forbids_calls"],
                        phones)
            bulk_insert(Account, ["id", "reference", "client", "client_reference", "debtor", "original_creditor",
                                  "currency", "jurisdiction", "placed_on", "delinquency_date", "last_payment_date",
                                  "status", "balance_minor", "team", *QUEUE_FACT_COLUMNS, "validation_sent_at"],
                        accounts)
            bulk_insert(LedgerEntry, ["id", "account", "kind", "bucket", "amount_minor", "effective_date",
                                      "posted_at", "batch", "memo"], ledger)
            reset_sequences([Debtor, Address, Phone, Account, LedgerEntry])
            remember_zones(zones_seen)
            new_ids = [row[0] for row in accounts]
            tx.audit("import.placements", "account", None,
                     changes={"file": filename, "client": client.code, "lines": [fresh[0].line, fresh[-1].line],
                              "accounts": [new_ids[0], new_ids[-1]], "new": len(fresh), "team": team.name})
            # The first step of the strategy's letters, as judged with the row.
            from db.letter_queue import insert_first_letters

            report.letters += insert_first_letters(
                settings, tx, [(i, *p.letter) for p, i in zip(fresh, new_ids) if p.letter], at, mark_validation=False)
            report.new += len(fresh)
        if not tx.events:
            tx.audit("import.placements.unchanged", "account", None,
                     changes={"file": filename, "lines": [placements[0].line, placements[-1].line]})


def _add_new_phones(debtor_id: int, phones: list[tuple[str, str]]) -> None:
    from db.models import Phone

    have = {r[0] for r in Phone.select(Phone.number).where(Phone.debtor == debtor_id).tuples()}
    for number, kind in phones:
        if number not in have:
            Phone.create(debtor=debtor_id, number=number, kind=kind)


# --- importing payments -------------------------------------------------------------------


@dataclass
class PaymentsReport(FileReport):
    posted: int = 0
    already: int = 0
    """Transaction ids posted before (the same file, or a file that overlaps it)."""
    posted_minor: int = 0

    @property
    def taken(self) -> int:
        return self.posted + self.already


def _payment_account(reference: str):
    """The account a remittance line names: our reference, else the client's (if it is
    one account's only)."""
    from db.models import Account

    account = Account.get_or_none(Account.reference == reference)
    if account is not None:
        return account, None
    matches = list(Account.select().where(Account.client_reference == reference).limit(2))
    if len(matches) == 1:
        return matches[0], None
    if matches:
        return None, f"reference {reference} is the client reference of several accounts: use ours (A…)"
    return None, f"no account has the reference {reference}"


def import_payments(settings, actor: Actor, path: Path, *, at: dt.datetime | None = None,
                    progress: Callable[[int], None] | None = None) -> PaymentsReport:
    """Post a bank's or processor's remittance file through the ledger: each line once
    (keyed by its transaction id), split and allocated as a payment taken on the phone,
    promises and installments judged as it lands. Unmatched or faulty lines go to the
    reject file."""
    from db.models import LedgerEntry
    from db.payments import METHODS, PaymentError, post_payment
    from db.promises import floor_today
    from db.scope import require_role

    require_role(actor, "admin", "system")
    at = at or dt.datetime.now(dt.UTC)
    source = open_csv(path, PAYMENT_COLUMNS, PAYMENT_REQUIRED)
    today = floor_today(settings, at)
    report = PaymentsReport()
    rejects = Rejects(source)
    seen: dict[str, int] = {}
    try:
        for line, fields, record in read_records(source):
            report.rows += 1
            if progress:
                progress(1)
            if isinstance(record, str):
                rejects.add(line, fields, [record])
                continue
            reasons: list[str] = []
            txn = record["transaction_id"]
            if not txn:
                reasons.append("transaction_id is empty")
            elif len(txn) > 64:
                reasons.append("transaction_id is longer than 64 characters")
            elif txn in seen:
                reasons.append(f"transaction_id {txn} is already on line {seen[txn]}")
            else:
                seen[txn] = line
            method = record["method"].lower().replace(" ", "_").replace("-", "_")
            if method not in METHODS:
                reasons.append(f"method {record['method']!r} is not one of {', '.join(METHODS)}")
            paid_on = None
            try:
                paid_on = dt.date.fromisoformat(record["date"])
                if paid_on > today:
                    reasons.append(f"date {record['date']} is in the future")
            except ValueError:
                reasons.append(f"date {record['date']!r} is not a date: use YYYY-MM-DD")
            account, why = (None, "reference is empty") if not record["reference"] else \
                _payment_account(record["reference"])
            if why:
                reasons.append(why)
            amount = None
            if account is not None:
                try:
                    amount = parse_amount(record["amount"], exponent=exponent_of(account.currency), allow_zero=False)
                except MoneyError as exc:
                    reasons.append(f"amount: {exc}")
            if reasons:
                rejects.add(line, fields, reasons)
                continue
            key = f"txn:{txn}"
            before = LedgerEntry.get_or_none(LedgerEntry.idempotency_key == key)
            if before is not None and (before.account_id != account.id or
                                       -sum(e.amount_minor for e in LedgerEntry.select().where(
                                           LedgerEntry.batch == key, LedgerEntry.kind == "payment")) != amount):
                rejects.add(line, fields, [f"transaction_id {txn} was posted before as a different payment"])
                continue
            try:
                posted = post_payment(settings, actor, account.id, amount, method=method, paid_on=paid_on, key=key,
                                      reference=txn, at=at)
            except (PaymentError, PermissionError) as exc:
                rejects.add(line, fields, [str(exc)])
                continue
            if posted.duplicate or before is not None:
                report.already += 1
            else:
                report.posted += 1
                report.posted_minor += amount
    finally:
        rejects.report_to(report)
    return report


# --- clients --------------------------------------------------------------------------------


_CLIENT_CODE = re.compile(r"^[A-Z0-9][A-Z0-9_-]{0,15}$")


def add_client(actor: Actor, code: str, *, name: str, currency: str = "USD"):
    """A creditor client whose placement files the floor takes (admins)."""
    from babel.numbers import list_currencies

    from db.models import Client
    from db.scope import require_role

    require_role(actor, "admin")
    code = code.strip().upper()
    if not _CLIENT_CODE.match(code):
        raise ValueError(f"{code!r} is not a client code: 1-16 letters, digits, '_' or '-'")
    if not name.strip():
        raise ValueError("a client needs a name")
    currency = currency.upper()
    if currency not in list_currencies():
        raise ValueError(f"{currency!r} is not an ISO 4217 currency code")
    with write_transaction(actor) as tx:
        if Client.select().where(Client.code == code).exists():
            raise ValueError(f"there is already a client {code}")
        client = Client.create(code=code, name=name.strip(), currency=currency)
        tx.audit("client.create", "client", client.id, changes={"code": code, "name": client.name,
                                                               "currency": currency})
    return client
