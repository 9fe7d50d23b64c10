"""A realistic, deterministic demo floor: clients, debtors in the US and the UK, phones,
accounts with ledger histories that sum to their balances, contact histories, promises,
plans and queued letters, two teams and their officers.

The same seed and as-of date give the same rows. Names and streets come from Faker pools
drawn once per run, so 100,000 accounts take seconds rather than minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from dataclasses import dataclass, field
from typing import Callable

from db.audit import Actor, write_transaction
from db.bulk import bulk_insert, reset_sequences
from db.database import database
from db.models import (
    Account, Activity, Address, Client, Debtor, Installment, LedgerEntry, Letter, Officer,
    Phone, Plan, Promise, Team,
)
from db.officers import get_or_create_team

# (jurisdiction, region, IANA zone, city, area codes, postcode prefix)
US_PLACES = [
    ("US-NY", "NY", "America/New_York", "New York", ["212", "718", "917"], "100"),
    ("US-MA", "MA", "America/New_York", "Boston", ["617", "508"], "021"),
    ("US-FL", "FL", "America/New_York", "Miami", ["305", "786"], "331"),
    ("US-IL", "IL", "America/Chicago", "Chicago", ["312", "773"], "606"),
    ("US-TX", "TX", "America/Chicago", "Houston", ["713", "832"], "770"),
    ("US-CO", "CO", "America/Denver", "Denver", ["303", "720"], "802"),
    ("US-AZ", "AZ", "America/Phoenix", "Phoenix", ["602", "480"], "850"),
    ("US-CA", "CA", "America/Los_Angeles", "Los Angeles", ["213", "310", "415"], "900"),
    ("US-WA", "WA", "America/Los_Angeles", "Seattle", ["206", "253"], "981"),
]
# UK landlines from Ofcom's drama ranges; mobiles in the 074/079 ranges.
UK_PLACES = [
    ("GB-ENG", "ENG", "Europe/London", "London", ["2079460"], "SW1A"),
    ("GB-ENG", "ENG", "Europe/London", "Manchester", ["1614960"], "M1"),
    ("GB-SCT", "SCT", "Europe/London", "Edinburgh", ["1312960"], "EH1"),
    ("GB-WLS", "WLS", "Europe/London", "Cardiff", ["2920180"], "CF10"),
]
CLIENTS = [
    ("NBK", "Northern Bank plc", "USD"),
    ("SUN", "Sunrise Telecom", "USD"),
    ("ACM", "Acme Retail Card", "USD"),
    ("UTL", "Metro Utilities", "USD"),
    ("HLT", "Harbour Health Finance", "USD"),
]
OFFICERS = [
    ("admin", "Ada Admin", "admin", None),
    ("lead", "Lee Lead", "team_lead", "Recoveries"),
    ("alice", "Alice Archer", "officer", "Recoveries"),
    ("bob", "Bob Baker", "officer", "Recoveries"),
    ("carol", "Carol Cole", "officer", "Specialist"),
    ("dave", "Dave Dunn", "officer", "Specialist"),
]
NO_ANSWER = ["no_answer", "voicemail_left", "busy", "no_answer", "disconnected"]


class DemoError(RuntimeError):
    """The demo cannot be generated here; the message says why."""


def search_key(last: str, first: str) -> str:
    """Lower-case, accent-free "last first": what name search matches by prefix."""
    text = f"{last} {first}"
    if text.isascii():  # most names: nothing to strip (and a million of them in an import)
        return text.casefold()
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


@dataclass
class Pools:
    us_first: list[str]
    us_last: list[str]
    uk_first: list[str]
    uk_last: list[str]
    us_streets: list[str]
    uk_streets: list[str]
    creditors: list[str]


def _pools(seed: int) -> Pools:
    from faker import Faker

    us, uk = Faker("en_US"), Faker("en_GB")
    us.seed_instance(seed)
    uk.seed_instance(seed + 1)

    def draw(fn: Callable[[], str], n: int) -> list[str]:
        return [fn() for _ in range(n)]

    return Pools(
        us_first=draw(us.first_name, 600), us_last=draw(us.last_name, 900),
        uk_first=draw(uk.first_name, 400), uk_last=draw(uk.last_name, 600),
        us_streets=draw(us.street_name, 800), uk_streets=draw(uk.street_name, 500),
        creditors=draw(us.company, 40),
    )


@dataclass
class DemoResult:
    accounts: int = 0
    rows: dict[str, int] = field(default_factory=dict)


def _setup(actor: Actor, seed: int, as_of: dt.date) -> tuple[dict[str, Team], dict[str, Officer], list[Client]]:
    with write_transaction(actor) as tx:
        teams = {name: get_or_create_team(tx, name) for name in ("Recoveries", "Specialist")}
        Team.update(specialist=True).where(Team.name == "Specialist").execute()
        officers = {}
        for username, name, role, team in OFFICERS:
            officer = Officer.get_or_none(Officer.username == username)
            if officer is None:
                officer = Officer.create(username=username, name=name, role=role,
                                         team=teams[team] if team else None,
                                         approval_limit_minor=50_000 if role == "officer" else 10_000_000,
                                         # dated by the floor, not the clock, so a seed replays exactly
                                         created_at=dt.datetime.combine(as_of, dt.time(0)))
                tx.audit("officer.add", "officer", officer.id, changes={"username": username, "role": role})
            officers[username] = officer
        rng = random.Random(seed)
        clients = []
        for code, name, currency in CLIENTS[: 3 + rng.randrange(3)]:
            client = Client.get_or_none(Client.code == code)
            if client is None:
                client = Client.create(code=code, name=name, currency=currency,
                                       min_installment_minor=rng.choice([1000, 2000, 2500]),
                                       max_installments=rng.choice([24, 36, 48]),
                                       settlement_floor_percent=rng.choice([50, 60, 70]))
                tx.audit("client.create", "client", client.id, changes={"code": code, "name": name})
            clients.append(client)
    return teams, officers, clients


def _money(rng: random.Random, low: int, high: int) -> int:
    """Log-uniform in [low, high] minor units: many small debts, a few large ones."""
    import math

    return int(round(math.exp(rng.uniform(math.log(low), math.log(high)))))


def _at(day: dt.date, rng: random.Random, zone_offset_hours: int) -> dt.datetime:
    """A UTC moment during the debtor's working day on `day` (09:00-19:59 local, roughly)."""
    local = dt.datetime.combine(day, dt.time(9 + rng.randrange(11), rng.randrange(60), rng.randrange(60)))
    return local - dt.timedelta(hours=zone_offset_hours)


_OFFSETS = {"America/New_York": -5, "America/Chicago": -6, "America/Denver": -7,
            "America/Phoenix": -7, "America/Los_Angeles": -8, "Europe/London": 0}


def generate(
    actor: Actor,
    *,
    accounts: int = 2000,
    seed: int = 1,
    as_of: dt.date | None = None,
    batch: int = 5000,
    progress: Callable[[int], None] | None = None,
    settings=None,
) -> DemoResult:
    """Fill an empty floor with `accounts` demo accounts. Each batch is its own transaction
    with its audit event, so officers on a live database are never stalled for long."""
    if accounts < 1:
        raise DemoError("--accounts must be at least 1")
    as_of = as_of or dt.date.today()
    if Account.select().exists():
        raise DemoError("this database already has accounts; generate the demo into a new database")
    teams, officers, clients = _setup(actor, seed, as_of)
    pools = _pools(seed)
    rng = random.Random(seed * 7919 + 17)
    result = DemoResult()
    ids = {"debtor": 0, "address": 0, "phone": 0, "account": 0, "ledger": 0, "activity": 0,
           "promise": 0, "plan": 0, "installment": 0, "letter": 0}
    workers = [o for o in officers.values() if o.role == "officer"]
    done = 0
    while done < accounts:
        n = min(batch, accounts - done)
        rows = _batch(rng, pools, ids, n, as_of, teams, workers, clients)
        with write_transaction(actor) as tx:
            for model, names, data in rows:
                result.rows[model._meta.table_name] = result.rows.get(model._meta.table_name, 0) + \
                    bulk_insert(model, names, data)
            tx.audit("demo.generate", "account", None,
                     changes={"seed": seed, "as_of": as_of, "accounts": n, "first": done + 1})
        done += n
        if progress:
            progress(n)
    with database.atomic():
        reset_sequences([Debtor, Address, Phone, Account, LedgerEntry, Activity, Promise, Plan,
                         Installment, Letter])
    result.accounts = done
    if settings is not None:
        # Queue facts as of noon UTC on the floor's date, so a seed replays exactly; the
        # queue re-checks waiting accounts as the clock moves past their times.
        from db.queue import refresh_all

        refresh_all(settings, actor, dt.datetime.combine(as_of, dt.time(12), tzinfo=dt.UTC), progress=None)
    return result


def _batch(rng, pools, ids, n, as_of, teams, workers, clients):  # noqa: C901 - one recipe, read top to bottom
    debtors, addresses, phones, accts, ledger, acts, promises, plans, insts, letters = ([] for _ in range(10))
    specialists = [o for o in workers if o.team_id == teams["Specialist"].id]
    generalists = [o for o in workers if o.team_id == teams["Recoveries"].id]
    for _ in range(n):
        uk = rng.random() < 0.25
        place = rng.choice(UK_PLACES if uk else US_PLACES)
        jurisdiction, region, zone, city, codes, post = place
        first = rng.choice(pools.uk_first if uk else pools.us_first)
        last = rng.choice(pools.uk_last if uk else pools.us_last)
        ids["debtor"] += 1
        debtor_id = ids["debtor"]
        dob = as_of - dt.timedelta(days=365 * rng.randint(20, 80) + rng.randrange(365))
        national = (f"{rng.choice('ABCEGHJKLMNPRSTWXYZ')}{rng.choice('ABCEGHJKLMNPRSTWXYZ')}"
                    f"{rng.randrange(10**6):06d}{rng.choice('ABCD')}") if uk else \
            f"{rng.randint(100, 665):03d}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}"
        email = f"{first}.{last}{rng.randrange(100)}@example.{'co.uk' if uk else 'com'}".lower().replace(" ", "")
        debtors.append((debtor_id, first, last, search_key(last, first), dob, national,
                        email if rng.random() < 0.7 else None))
        if rng.random() > 0.02:  # a few debtors have no known address: zone from phone
            ids["address"] += 1
            street = rng.choice(pools.uk_streets if uk else pools.us_streets)
            postcode = (f"{post} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
                        f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}") if uk else f"{post}{rng.randint(10, 99)}"
            addresses.append((ids["address"], debtor_id, f"{rng.randint(1, 999)} {street}",
                              f"Apt {rng.randint(1, 40)}" if rng.random() < 0.15 else None, city, region,
                              postcode, "GB" if uk else "US", zone, True,
                              "bad" if rng.random() < 0.03 else "good"))
        debtor_phones = []
        for k in range(1 + (rng.random() < 0.5) + (rng.random() < 0.2)):
            ids["phone"] += 1
            kind = ["mobile", "home", "work"][k]
            if uk:
                number = (f"+447{rng.choice(['400', '911', '700'])}{rng.randrange(10**6):06d}" if kind == "mobile"
                          else f"+44{rng.choice(codes)}{rng.randrange(1000):03d}")
            else:
                number = f"+1{rng.choice(codes)}555{rng.randrange(10**4):04d}"
            status = rng.choices(["good", "bad", "wrong_number"], [88, 8, 4])[0]
            phones.append((ids["phone"], debtor_id, number, kind, status, rng.random() < 0.4,
                           kind == "work" and rng.random() < 0.3))
            debtor_phones.append(ids["phone"])

        ids["account"] += 1
        account_id = ids["account"]
        client = rng.choice(clients)
        dpd = rng.randint(1, 900)
        delinquent = as_of - dt.timedelta(days=dpd)
        placed = delinquent + dt.timedelta(days=rng.randint(0, min(dpd - 1, 120)))
        balance = _money(rng, 2500, 2_500_000)
        fees = rng.choice([0, 0, 2500, 3500, 5000]) if balance > 10000 else 0
        interest = balance * rng.randint(0, 12) // 100
        payments = []
        for _p in range(rng.choice([0, 0, 1, 1, 2, 3])):
            pay_day = delinquent + dt.timedelta(days=rng.randint(0, dpd))
            payments.append((pay_day, max(500, balance * rng.randint(2, 10) // 100)))
        principal = balance - fees - interest + sum(a for _d, a in payments)
        entries = [("charge", "principal", principal, delinquent - dt.timedelta(days=30))]
        if interest:
            entries.append(("interest", "interest", interest, delinquent + dt.timedelta(days=dpd // 2)))
        if fees:
            entries.append(("fee", "fees", fees, delinquent + dt.timedelta(days=min(30, dpd))))
        entries += [("payment", "principal", -amount, day) for day, amount in sorted(payments)]
        for kind, bucket, amount, day in entries:
            ids["ledger"] += 1
            method = rng.choice(["card", "bank_transfer", "direct_debit", "cheque"]) if kind == "payment" else None
            ledger.append((ids["ledger"], account_id, kind, bucket, amount, min(day, as_of),
                           dt.datetime.combine(min(day, as_of), dt.time(12)),
                           f"TX{ids['ledger']:09d}" if kind == "payment" else None, method))
        last_payment = max((d for d, _a in payments), default=None)

        flags = {
            "dispute": rng.random() < 0.02, "cease": rng.random() < 0.01,
            "bankruptcy": rng.random() < 0.005, "deceased": rng.random() < 0.003,
            "vulnerable": rng.random() < 0.03, "attorney_represented": rng.random() < 0.005,
        }
        team = teams["Specialist"] if flags["vulnerable"] or rng.random() < 0.2 else teams["Recoveries"]
        staff = specialists if team.name == "Specialist" else generalists
        assigned = rng.choice(staff).id if staff and rng.random() < 0.05 else None
        breathing = (as_of + dt.timedelta(days=rng.randint(1, 59))) if uk and rng.random() < 0.01 else None

        # Contact history: attempts and conversations over the last weeks.
        offset = _OFFSETS[zone]
        last_contact = None
        for _a in range(rng.choice([0, 1, 2, 3, 4, 6, 8])):
            ids["activity"] += 1
            day = as_of - dt.timedelta(days=rng.randint(1, min(60, max(1, dpd))))
            started = _at(day, rng, offset)
            conversation = rng.random() < 0.2
            phone = rng.choice(debtor_phones)
            acts.append((ids["activity"], account_id, "conversation" if conversation else "call_attempt",
                         rng.choice(["rpc_promise", "rpc_refused", "rpc_callback", "third_party"])
                         if conversation else rng.choice(NO_ANSWER),
                         rng.choice(workers).id, phone, "outbound", started,
                         started + dt.timedelta(seconds=rng.randint(20, 600)), True, conversation, False, None))
            if conversation and (last_contact is None or started > last_contact):
                last_contact = started
        if rng.random() < 0.15:
            ids["activity"] += 1
            day = as_of - dt.timedelta(days=rng.randint(1, 90))
            acts.append((ids["activity"], account_id, "note", None, rng.choice(workers).id, None, "outbound",
                         _at(day, rng, offset), None, False, False, False,
                         rng.choice(["Customer says payment was sent last week; asked for proof.",
                                     "Spoke to partner, not the debtor: no details given.",
                                     "Debtor lost job in March; review income and expenditure.",
                                     "Requested statement of account by post."])))

        status = "open"
        promise_due = None
        if rng.random() < 0.10:
            ids["promise"] += 1
            due = as_of + dt.timedelta(days=rng.randint(-20, 20))
            amount = max(1000, balance * rng.randint(5, 30) // 100)
            pstatus = "open" if due >= as_of else rng.choice(["kept", "broken", "partial"])
            paid = amount if pstatus == "kept" else (amount // 2 if pstatus == "partial" else 0)
            promises.append((ids["promise"], account_id, rng.choice(workers).id, amount, due, paid, pstatus,
                             dt.datetime.combine(due - dt.timedelta(days=7), dt.time(15))))
            if pstatus == "open":
                promise_due = due
        if rng.random() < 0.03 and balance > 20000:
            status = "arrangement"
            ids["plan"] += 1
            count = rng.choice([6, 12])
            first_due = as_of - dt.timedelta(days=rng.randint(0, 60))
            plans.append((ids["plan"], account_id, rng.choice(workers).id, "active", "monthly", balance,
                          dt.datetime.combine(first_due - dt.timedelta(days=10), dt.time(14))))
            each = balance // count
            for i in range(count):
                ids["installment"] += 1
                amount = each if i < count - 1 else balance - each * (count - 1)
                month = first_due.month - 1 + i
                due = dt.date(first_due.year + month // 12, month % 12 + 1, min(first_due.day, 28))
                insts.append((ids["installment"], ids["plan"], i + 1, due, amount, 0, amount, 0,
                              "open"))
        if rng.random() < 0.02:
            ids["letter"] += 1
            template = "reminder" if dpd < 21 else ("second-notice" if dpd < 45 else "final-demand")
            letters.append((ids["letter"], account_id, template, "debtor", "queued",
                            json.dumps({"sent_on": as_of.isoformat()}),
                            dt.datetime.combine(as_of, dt.time(6))))

        callback = None
        if rng.random() < 0.02:
            callback = dt.datetime.combine(as_of, dt.time(rng.randint(13, 23), rng.choice([0, 15, 30, 45])))
        accts.append((
            account_id, f"A{account_id:08d}", client.id, f"{client.code}-{rng.randrange(10, 99)}{account_id:08d}", debtor_id,
            rng.choice(pools.creditors), client.currency if not uk else "GBP", jurisdiction, placed, delinquent,
            last_payment, status, balance, flags["dispute"], flags["cease"], flags["bankruptcy"],
            flags["deceased"], flags["vulnerable"], flags["attorney_represented"], breathing, team.id, assigned,
            last_contact, callback, promise_due,
        ))
    return [
        (Debtor, ["id", "first_name", "last_name", "search_name", "date_of_birth", "national_id", "email"], debtors),
        (Address, ["id", "debtor", "line1", "line2", "city", "region", "postcode", "country", "time_zone",
                   "is_primary", "status"], addresses),
        (Phone, ["id", "debtor", "number", "kind", "status", "consent", "employer_forbids_calls"], phones),
        (Account, ["id", "reference", "client", "client_reference", "debtor", "original_creditor", "currency",
                   "jurisdiction", "placed_on", "delinquency_date", "last_payment_date", "status", "balance_minor",
                   "dispute", "cease", "bankruptcy", "deceased", "vulnerable", "attorney_represented",
                   "breathing_space_until", "team", "assigned_officer", "last_contact_at", "callback_at",
                   "promise_due_on"], accts),
        (LedgerEntry, ["id", "account", "kind", "bucket", "amount_minor", "effective_date", "posted_at",
                       "reference", "method"], ledger),
        (Activity, ["id", "account", "kind", "disposition", "officer", "phone", "direction", "started_at",
                    "ended_at", "counts_as_attempt", "right_party_contact", "debtor_requested", "note"], acts),
        (Promise, ["id", "account", "officer", "amount_minor", "due_on", "paid_minor", "status", "created_at"],
         promises),
        (Plan, ["id", "account", "officer", "status", "frequency", "amount_due_minor", "created_at"], plans),
        (Installment, ["id", "plan", "number", "due_on", "amount_minor", "interest_minor", "principal_minor",
                       "paid_minor", "status"], insts),
        (Letter, ["id", "account", "template", "recipient_kind", "status", "inputs", "requested_at"], letters),
    ]
