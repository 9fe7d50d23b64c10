"""What the officer's screens show, as plain dataclasses: a page of the queue, an account's
whole file, search results. Screens call these from worker threads; nothing here knows of
Textual."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from peewee import JOIN, SQL, fn

from db.compliance import (
    debtor_zones, is_time_barred, limitation_ends, local_date, may_call, naive_utc, rules_for, within_hours,
    zones_of_key,
)
from db.audit import Actor
from db.governor import load_call_facts
from db.ledger import balance_by_bucket
from db.scope import account_for, one_read
from db.models import (
    HOLD_FLAGS, Account, Activity, Address, Client, Debtor, Installment, Letter, Officer, Phone,
    Plan, Promise,
)

BUCKETS = ((30, "0-30"), (60, "31-60"), (90, "61-90"), (180, "91-180"))


def dpd_bucket(days: int | None) -> str:
    if days is None:
        return "-"
    for limit, label in BUCKETS:
        if days <= limit:
            return label
    return "180+"


@dataclass
class QueueRow:
    account_id: int
    reference: str
    debtor: str
    balance_minor: int
    currency: str
    days_past_due: int | None
    bucket: str
    last_contact: dt.datetime | None
    next_action: str
    local_time: str
    callable_now: bool
    reason: str
    promise: str
    claimed_by: str | None


QUEUE_STATUSES = {
    "ready": "ready to call", "waiting": "waiting or held", "callback": "callbacks",
    "promise": "promises", "arrangement": "arrangements",
}


def _status_clause(status: str, now: dt.datetime):
    return {
        "ready": Account.queue_priority.is_null(False),
        "waiting": Account.queue_priority.is_null() & Account.next_call_at.is_null(False),
        "callback": Account.callback_at.is_null(False),
        "promise": Account.promise_due_on.is_null(False),
        "arrangement": Account.status == "arrangement",
    }[status]


def queue_page(settings, officer: Officer, at: dt.datetime, *, offset: int = 0, limit: int = 50,
               bucket: str | None = None, status: str | None = None) -> list[QueueRow]:
    """The officer's work in strategy order: their own claims, then accounts they may be
    handed (own assignments and the team pool) best first, then waiting ones, soonest
    first. Reads one page: each part walks its own index in order, so a page costs the
    same on a million accounts as on a thousand."""
    now = naive_utc(at)
    extra = []
    if bucket:
        extra.append(_bucket_clause(bucket, local_date(at, "UTC")))
    if status:
        extra.append(_status_clause(status, now))
    owners = (0, officer.id)
    owner = fn.COALESCE(Account.assigned_officer, SQL("0"))  # a literal 0, as in the index expression
    want = offset + limit

    def ids(where, order) -> list[tuple]:
        found: list[tuple] = []
        for key in owners:
            query = (Account.select(*[c for c, _ in order], Account.id)
                     .where(Account.team == officer.team_id, owner == key, *where, *extra)
                     .order_by(*[c.desc() if desc else c.asc() for c, desc in order], Account.id)
                     .limit(want))
            found += list(query.tuples())
        return found

    mine = [(r[0],) for r in Account.select(Account.id).where(Account.claimed_by == officer.id, *extra)
            .order_by(Account.id).tuples()]
    parts = [mine]
    if status in (None, "ready", "callback", "promise", "arrangement"):
        ready = ids([Account.queue_priority.is_null(False)], [(Account.queue_priority, True)])
        parts.append(sorted(ready, key=lambda r: (-r[0], r[1])))
    if status != "ready":
        waiting = ids([Account.queue_priority.is_null(), Account.next_call_at.is_null(False),
                       (Account.claimed_by.is_null() | (Account.claimed_by != officer.id))],
                      [(Account.next_call_at, False)])
        parts.append(sorted(waiting, key=lambda r: (r[0], r[1])))
    # Each part is its own statement, and each sees what had committed when it ran: an
    # account released between the first read and the next is read as the officer's own
    # claim and again as ready. It is listed once, where it came first.
    ordered = list(dict.fromkeys(row[-1] for part in parts for row in part))
    page = ordered[offset:offset + limit]
    if not page:
        return []
    # Only the columns a row shows or decides by: the whole account (some forty columns)
    # made building the rows a third of the page's cost.
    shown = (Account.id, Account.reference, Account.balance_minor, Account.currency, Account.delinquency_date,
             Account.last_contact_at, Account.claimed_by, Account.queue_priority, Account.callback_at,
             Account.queue_reason, Account.next_call_at, Account.callable_zone, Account.jurisdiction,
             Account.promise_due_on, Account.debtor)
    by_id = {a.id: a for a in (Account.select(*shown, Debtor.first_name, Debtor.last_name, Address.time_zone)
                               .join(Debtor, on=(Account.debtor == Debtor.id))
                               .join_from(Account, Address, JOIN.LEFT_OUTER,
                                          on=((Address.debtor == Account.debtor) & (Address.is_primary == True)))  # noqa: E712
                               .where(Account.id.in_(page)))}
    query = [by_id[i] for i in page if i in by_id]
    rows = []
    holders = {}
    for account in query:
        zone = account.address.time_zone if hasattr(account, "address") and account.address else None
        zones = zones_of_key(account.callable_zone) if account.callable_zone else ((zone,) if zone else ("UTC",))
        today = local_date(at, zones[0])
        dpd = (today - account.delinquency_date).days if account.delinquency_date else None
        rules = rules_for(settings.compliance, account.jurisdiction)
        in_hours = within_hours(at, zones, rules)
        if account.claimed_by_id == officer.id:
            callable_now, reason, action = in_hours, "" if in_hours else "Outside call hours", "Working now"
        elif account.queue_priority is not None:
            callable_now = in_hours
            reason = "" if in_hours else "Outside call hours"
            action = "Callback due" if account.callback_at and account.callback_at <= now else "Call"
        else:
            callable_now = False
            reason = account.queue_reason or "Waiting"
            action = f"Wait until {account.next_call_at:%a %H:%M} UTC" if account.next_call_at else "On hold"
        local = at.astimezone(ZoneInfo(zones[0]))
        if account.claimed_by_id and account.claimed_by_id != officer.id:
            holders.setdefault(account.claimed_by_id, Officer.get_by_id(account.claimed_by_id).username)
        rows.append(QueueRow(
            account_id=account.id, reference=account.reference,
            debtor=f"{account.debtor.first_name} {account.debtor.last_name}",
            balance_minor=account.balance_minor, currency=account.currency, days_past_due=dpd,
            bucket=dpd_bucket(dpd), last_contact=account.last_contact_at, next_action=action,
            local_time=f"{local:%H:%M}" + ("" if len(zones) == 1 else "?"), callable_now=callable_now,
            reason=reason, promise=_promise_state(account, today),
            claimed_by=holders.get(account.claimed_by_id) if account.claimed_by_id else None))
    return rows


def _bucket_clause(bucket: str, today: dt.date):
    bounds = {"0-30": (0, 30), "31-60": (31, 60), "61-90": (61, 90), "91-180": (91, 180), "180+": (181, 100000)}
    low, high = bounds[bucket]
    return ((Account.delinquency_date <= today - dt.timedelta(days=low))
            & (Account.delinquency_date >= today - dt.timedelta(days=high)))


def _promise_state(account: Account, today: dt.date) -> str:
    if account.promise_due_on is None:
        return ""
    if account.promise_due_on < today:
        return "Broken?"
    if account.promise_due_on == today:
        return "Due today"
    return f"Due {account.promise_due_on:%d %b}"


@dataclass
class PhoneLine:
    id: int
    number: str
    kind: str
    status: str
    allowed: bool
    why: str
    blocks: tuple[tuple[str, str], ...] = ()
    """(code, words) of each rule stopping the call now."""


@dataclass
class AccountFile:
    id: int
    reference: str
    client: str
    client_reference: str
    debtor: str
    currency: str
    balance_minor: int
    buckets: dict[str, int]
    days_past_due: int | None
    status: str
    jurisdiction: str
    flags: list[str]
    time_zone: str
    local_time: str
    callable_now: bool
    why_not: str
    addresses: list[str]
    phones: list[PhoneLine]
    history: list[tuple[dt.datetime, str, str, str, str]] = field(default_factory=list)
    """(when, kind, outcome, officer, note) newest first."""
    promises: list[tuple[dt.date, int, int, str]] = field(default_factory=list)
    installments: list[tuple[int, dt.date, int, int, str]] = field(default_factory=list)
    payments: list[tuple[dt.date, int, str, str]] = field(default_factory=list)
    letters: list[tuple[dt.datetime, str, str, int | None, str | None]] = field(default_factory=list)
    """(requested at, template, status, pages, error), newest first."""
    claimed_by: str | None = None
    limitation_ends: dt.date | None = None
    country: str = "US"
    settlement_floor_percent: int = 0
    last_contact: dt.datetime | None = None
    identity: str = ""
    """Date of birth and national id, masked (db.pii)."""
    plan: str | None = None
    """The latest plan in a line: active with its progress, waiting for approval, or how it ended."""
    legal: str | None = None
    """The open legal case's stage in a line."""
    parties: list[str] = field(default_factory=list)
    """Related parties, a line each: role, name, contact."""
    linked: list[str] = field(default_factory=list)
    """The debtor's other open accounts in the officer's team, a line each."""


HISTORY_FILTERS = {
    "calls": ("call_attempt", "conversation"), "notes": ("note",), "letters": ("letter", "email"),
    "money": ("payment", "promise", "plan"), "flags and callbacks": ("flag", "callback"),
}


HISTORY_PAGE = 25
"""History rows read at a time: the account opens with the first page (three screens of the
history panel at 80x24), more as the officer moves down it. Each row read is a row the
screen adds and measures before the account is shown: at 50, a long history added about
8 ms to every opening of it."""


def history_of(actor: Actor, account_id: int, kinds: tuple[str, ...] | None = None, *, limit: int = HISTORY_PAGE,
               offset: int = 0) -> list[tuple]:
    """A page of the contact history, newest first: (when, kind, outcome, officer, note);
    only the activity kinds given, if any (`HISTORY_FILTERS`)."""
    account_for(actor, account_id)
    # Only the columns shown, as tuples, the officer's name joined in: each account opened
    # reads this page, and building whole rows (and every officer's name) was most of it.
    acts = (Activity.select(Activity.started_at, Activity.kind, Activity.disposition, Officer.username, Activity.note)
            .join(Officer, JOIN.LEFT_OUTER, on=(Activity.officer == Officer.id))
            .where(Activity.account == account_id))
    if kinds:
        acts = acts.where(Activity.kind.in_(list(kinds)))
    acts = acts.order_by(Activity.started_at.desc(), Activity.id.desc()).offset(offset).limit(limit).tuples()
    return [(started_at, kind.replace("_", " "), (disposition or "").replace("_", " "), username or "", note or "")
            for started_at, kind, disposition, username, note in acts]


def _identity_line(debtor) -> str:
    from db.pii import masked_identity

    shown = masked_identity(debtor)
    return f"Born {shown.date_of_birth} · ID {shown.national_id}"


def account_file(settings, actor: Actor, account_id: int, at: dt.datetime, *,
                 history_limit: int = HISTORY_PAGE) -> AccountFile:
    """Everything the account screen shows, read in a handful of queries, if `actor` may
    see it (their team's accounts; PII masked)."""
    with one_read():
        return _account_file(settings, actor, account_id, at, history_limit)


def _account_file(settings, actor: Actor, account_id: int, at: dt.datetime, history_limit: int) -> AccountFile:
    account = account_for(actor, account_id)
    debtor = Debtor.get_by_id(account.debtor_id)
    client = Client.get_by_id(account.client_id)
    facts, phones, history, overrides = load_call_facts(account_id, at)
    rules = rules_for(settings.compliance, account.jurisdiction)
    zones = debtor_zones(facts, phones[0] if phones else None)
    today = local_date(at, zones[0])
    lines = []
    for phone in phones:
        decision = may_call(facts, phone, at, history, rules, overrides=overrides)
        lines.append(PhoneLine(phone.id, phone.number, phone.kind, phone.status, decision.allowed,
                               "" if decision.allowed else decision.explain(),
                               tuple((r.code, r.text) for r in decision.reasons)))
    flags = [f.replace("_", " ") for f in HOLD_FLAGS if getattr(account, f)]
    if account.breathing_space_until and today <= account.breathing_space_until:
        flags.append(f"breathing space to {account.breathing_space_until:%d %b}")
    if is_time_barred(facts, rules, today):
        flags.append("time-barred")
    addresses = [", ".join(p for p in (a.line1, a.line2, a.city, a.region, a.postcode, a.country) if p)
                 + (" (returned mail)" if a.status == "bad" else "")
                 for a in Address.select().where(Address.debtor == account.debtor_id).order_by(Address.is_primary.desc())]
    hist = history_of(actor, account_id, limit=history_limit)
    promises = [(p.due_on, p.amount_minor, p.paid_minor, p.status)
                for p in Promise.select().where(Promise.account == account_id).order_by(Promise.due_on.desc())]
    installments = [(i.number, i.due_on, i.amount_minor + i.carried_minor, i.paid_minor, i.status)
                    for i in Installment.select().join(Plan).where(Plan.account == account_id, Plan.status == "active")
                    .order_by(Installment.number)]
    latest = Plan.select().where(Plan.account == account_id).order_by(Plan.id.desc()).first()
    plan_line = None
    if latest is not None:
        kept = sum(1 for i in installments if i[4] == "kept")
        plan_line = {"active": f"Plan active: {kept} of {len(installments)} installments paid, "
                               f"{latest.missed_count} missed",
                     "pending_approval": "Plan waiting for a team lead's approval"}.get(
            latest.status, f"Last plan {latest.status.replace('_', ' ')} ({latest.created_at:%d %b %Y})")
    from db.payments import payments_of

    payments = [(p["paid_on"], p["amount_minor"], p["method"] or "",
                 (p["reference"] or "") + (" REVERSED" if p["reversed"] else ""))
                for p in payments_of(account_id, limit=100)]
    letters = [(l.requested_at, l.template, l.status, l.pages, l.error)
               for l in Letter.select().where(Letter.account == account_id).order_by(Letter.id.desc()).limit(50)]
    local = at.astimezone(ZoneInfo(zones[0]))
    callable_now = any(line.allowed for line in lines)
    holder = None
    if account.claimed_by_id and account.claim_expires_at and account.claim_expires_at > naive_utc(at):
        holder = (actor.name if account.claimed_by_id == actor.officer_id else
                  Officer.select(Officer.username).where(Officer.id == account.claimed_by_id).scalar())
    return AccountFile(
        id=account.id, reference=account.reference, client=client.name, client_reference=account.client_reference,
        debtor=f"{debtor.first_name} {debtor.last_name}", currency=account.currency,
        balance_minor=account.balance_minor, buckets=balance_by_bucket(account_id),
        days_past_due=(today - account.delinquency_date).days if account.delinquency_date else None,
        status=account.status, jurisdiction=account.jurisdiction, flags=flags, time_zone=zones[0]
        if len(zones) == 1 else f"{len(zones)} possible zones",
        local_time=f"{local:%a %H:%M}", callable_now=callable_now,
        why_not="" if callable_now else (lines[0].why if lines else "No phone number on file"),
        identity=_identity_line(debtor), addresses=addresses, phones=lines, history=hist, promises=promises, installments=installments,
        payments=payments, letters=letters, claimed_by=holder, plan=plan_line, limitation_ends=limitation_ends(facts, rules),
        country=account.jurisdiction.split("-")[0], settlement_floor_percent=client.settlement_floor_percent,
        last_contact=account.last_contact_at, legal=_legal_line(settings, actor, account_id, at),
        parties=_party_lines(actor, account_id), linked=_linked_lines(settings, actor, account_id))


def _party_lines(actor: Actor, account_id: int) -> list[str]:
    from db.parties import ROLE_LABELS, parties_of

    return [" ".join(x for x in (f"{ROLE_LABELS.get(p.role, p.role)}:", p.name, p.phone, p.email,
                                 f"ref {p.reference}" if p.reference else None) if x)
            for p in parties_of(actor, account_id)]


def _linked_lines(settings, actor: Actor, account_id: int) -> list[str]:
    from db.money import format_money
    from db.parties import linked_accounts

    return [f"{a.reference} {a.client} {format_money(a.balance_minor, a.currency, settings.locale.locale)} {a.status}"
            for a in linked_accounts(actor, account_id)]


def _legal_line(settings, actor: Actor, account_id: int, at: dt.datetime) -> str | None:
    """The open legal case's stage in a line (None without an open case)."""
    from db.legal import case_view

    view = case_view(settings, actor, account_id, at)
    if view is None or view.stage == settings.legal.stages[-1]:
        return None
    return view.line()


@dataclass
class SearchHit:
    account_id: int
    reference: str
    debtor: str
    balance_minor: int
    currency: str
    matched: str


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def search_accounts(officer: Officer, text: str, *, limit: int = 20, region: str = "US") -> list[SearchHit]:
    """By phone number in any format, account or client reference, or name prefix ("smith",
    "smith jo"), case- and accent-insensitive. Team members see their team's accounts;
    admins see all."""
    import phonenumbers

    text = (text or "").strip()
    if len(text) < 2:
        return []
    conditions = []
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) >= 6:
        numbers = set()
        for guess in (None, region, "GB", "US"):
            try:
                parsed = phonenumbers.parse(text, guess)
                numbers.add(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))
            except phonenumbers.NumberParseException:
                continue
        if numbers:
            phone_debtors = Phone.select(Phone.debtor).where(Phone.number.in_(sorted(numbers)))
            conditions.append(("phone", Account.debtor.in_(phone_debtors)))
    upper = text.upper()
    conditions.append(("reference", (Account.reference == upper) | (Account.client_reference == upper)))
    folded = " ".join(_fold(text).split())
    if folded and not folded.isdigit():
        # prefix range on the indexed search name: "smith jo" → "smith jo" <= name < "smith jp"
        high = folded[:-1] + chr(ord(folded[-1]) + 1)
        names = Debtor.select(Debtor.id).where((Debtor.search_name >= folded) & (Debtor.search_name < high))
        conditions.append(("name", Account.debtor.in_(names)))
    hits: dict[int, SearchHit] = {}
    for label, condition in conditions:
        query = (Account.select(Account.id, Account.reference, Account.balance_minor, Account.currency,
                                Debtor.first_name, Debtor.last_name)
                 .join(Debtor, on=(Account.debtor == Debtor.id)).where(condition))
        if officer.role != "admin":
            query = query.where(Account.team == officer.team_id)
        for account in query.order_by(Account.reference).limit(limit):
            hits.setdefault(account.id, SearchHit(account.id, account.reference,
                                                  f"{account.debtor.first_name} {account.debtor.last_name}",
                                                  account.balance_minor, account.currency, label))
        if len(hits) >= limit:
            break
    return list(hits.values())[:limit]


def today_counts(officer_id: int, at: dt.datetime) -> dict[str, int]:
    start = naive_utc(at).replace(hour=0, minute=0, second=0, microsecond=0)
    base = Activity.select(fn.COUNT(Activity.id)).where(Activity.officer == officer_id, Activity.started_at >= start)
    return {"calls": base.where(Activity.kind.in_(["call_attempt", "conversation"])).scalar() or 0,
            "contacts": base.where(Activity.right_party_contact == True).scalar() or 0}  # noqa: E712
