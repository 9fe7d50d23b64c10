"""The compliance governor over the database: loads an account's facts, asks the rules in
`db.compliance`, and records team leads' audited overrides."""

from __future__ import annotations

import datetime as dt
import json
from typing import Iterable

from peewee import JOIN

from db.audit import Actor, write_transaction
from db.compliance import (
    OVERRIDABLE, AccountFacts, CallEvent, Decision, PhoneFacts, Rules, may_call, may_escalate,
    may_send_letter, naive_utc, rules_for,
)
from db.database import utcnow
from db.models import Account, Activity, Address, Approval, Phone

HISTORY_DAYS = 32
"""How far back calls can matter: the longest frequency window (30 days) and a margin."""


def account_facts(account: Account, address: Address | None) -> AccountFacts:
    return AccountFacts(
        id=account.id, jurisdiction=account.jurisdiction, status=account.status,
        balance_minor=account.balance_minor, dispute=account.dispute,
        dispute_verified_at=account.dispute_verified_at, cease=account.cease,
        bankruptcy=account.bankruptcy, deceased=account.deceased, vulnerable=account.vulnerable,
        attorney_represented=account.attorney_represented,
        breathing_space_until=account.breathing_space_until,
        address_zone=address.time_zone if address else None,
        address_country=address.country if address else None,
        address_bad=bool(address and address.status == "bad"),
        delinquency_date=account.delinquency_date, last_payment_date=account.last_payment_date,
        last_acknowledged_date=account.last_acknowledged_date, placed_on=account.placed_on,
        validation_sent_at=account.validation_sent_at,
    )


def phone_facts(phone: Phone) -> PhoneFacts:
    return PhoneFacts(phone.id, phone.number, phone.kind, phone.status, phone.employer_forbids_calls)


def primary_address(debtor_id: int) -> Address | None:
    return (Address.select().where(Address.debtor == debtor_id)
            .order_by(Address.is_primary.desc(), Address.id).first())


def call_history(account_ids: Iterable[int], at: dt.datetime) -> dict[int, list[CallEvent]]:
    """Calls of the last weeks for each account, from one query."""
    ids = list(account_ids)
    since = naive_utc(at) - dt.timedelta(days=HISTORY_DAYS)
    history: dict[int, list[CallEvent]] = {i: [] for i in ids}
    if not ids:
        return history
    rows = (Activity.select(Activity.account, Activity.started_at, Activity.phone, Phone.kind,
                            Activity.counts_as_attempt, Activity.kind, Activity.debtor_requested)
            .join(Phone, join_type=JOIN.LEFT_OUTER, on=(Activity.phone == Phone.id))
            .where(Activity.account.in_(ids), Activity.started_at >= since,
                   Activity.kind.in_(["call_attempt", "conversation"]))
            .tuples())
    for account_id, started, phone_id, kind, attempt, activity_kind, requested in rows:
        if isinstance(started, str):
            started = dt.datetime.fromisoformat(started)
        history[account_id].append(CallEvent(started, phone_id, kind, bool(attempt),
                                             activity_kind == "conversation", bool(requested)))
    return history


def active_overrides(account_id: int, at: dt.datetime) -> frozenset[str]:
    """Reason codes a team lead has lifted for this account, still in force at `at`."""
    codes: set[str] = set()
    now = naive_utc(at)
    for approval in Approval.select().where(Approval.account == account_id, Approval.kind == "override",
                                            Approval.status == "approved"):
        payload = json.loads(approval.payload or "{}")
        until = payload.get("until")
        if until and dt.datetime.fromisoformat(until) > now:
            codes.update(payload.get("codes", []))
    return frozenset(codes)


def check_call(settings, account_id: int, phone_id: int, at: dt.datetime | None = None, *,
               debtor_requested: bool = False) -> Decision:
    """`may_call` for an account and one of its debtor's phones, from the database."""
    at = at or dt.datetime.now(dt.UTC)
    account = Account.get_by_id(account_id)
    phone = Phone.get_by_id(phone_id)
    if phone.debtor_id != account.debtor_id:
        raise ValueError(f"phone {phone_id} is not a number of account {account.reference}'s debtor")
    facts = account_facts(account, primary_address(account.debtor_id))
    rules = rules_for(settings.compliance, account.jurisdiction)
    return may_call(facts, phone_facts(phone), at, call_history([account_id], at)[account_id], rules,
                    debtor_requested=debtor_requested, overrides=active_overrides(account_id, at))


def check_letter(settings, account_id: int, template: str, at: dt.datetime | None = None) -> Decision:
    at = at or dt.datetime.now(dt.UTC)
    account = Account.get_by_id(account_id)
    facts = account_facts(account, primary_address(account.debtor_id))
    return may_send_letter(facts, template, at, rules_for(settings.compliance, account.jurisdiction))


def check_escalate(settings, account_id: int, at: dt.datetime | None = None) -> Decision:
    at = at or dt.datetime.now(dt.UTC)
    account = Account.get_by_id(account_id)
    facts = account_facts(account, primary_address(account.debtor_id))
    return may_escalate(facts, at, rules_for(settings.compliance, account.jurisdiction))


def rules_of(settings, account: Account) -> Rules:
    return rules_for(settings.compliance, account.jurisdiction)


class OverrideError(ValueError):
    """An override that cannot be granted; the message says why."""


def grant_override(actor: Actor, account_id: int, codes: list[str], reason: str, *, hours: int = 24,
                   at: dt.datetime | None = None, settings=None) -> Approval:
    """A team lead lifts overridable blocks (frequency caps, the conversation cool-off) on
    one account for `hours`, with a reason. Audited; holds and call hours cannot be lifted."""
    if actor.role not in ("team_lead", "admin"):
        raise PermissionError(f"{actor.name} ({actor.role}) may not override compliance blocks: team leads only")
    if not reason.strip():
        raise OverrideError("an override needs a reason")
    refused = [c for c in codes if c not in OVERRIDABLE]
    if refused:
        raise OverrideError(f"these blocks cannot be overridden: {', '.join(refused)}")
    if not codes:
        raise OverrideError("name the blocks to override")
    now = naive_utc(at) if at else utcnow()
    with write_transaction(actor) as tx:
        account = Account.get_by_id(account_id)
        if actor.role == "team_lead" and account.team_id != actor.team_id:
            raise PermissionError(f"{actor.name} may not override blocks on another team's account")
        until = now + dt.timedelta(hours=hours)
        approval = Approval.create(kind="override", account=account_id, requested_by=actor.officer_id,
                                   requested_at=now, status="approved", decided_by=actor.officer_id,
                                   decided_at=now, reason=reason.strip(),
                                   payload=json.dumps({"codes": sorted(codes), "until": until.isoformat()}))
        tx.audit("compliance.override", "approval", approval.id, account_id=account_id,
                 changes={"codes": sorted(codes), "until": until, "reason": reason.strip()})
        if settings is not None:  # put the account back in the queue now, not at the next refresh
            from db.queue import refresh_accounts

            refresh_accounts(settings, [account_id], at or dt.datetime.now(dt.UTC))
    return approval


# --- the claim's fast path --------------------------------------------------------------------
# A claim checks one candidate at a time; building Peewee queries for a 40-column model costs
# more than running them, so the claim reads exactly the columns the rules need, in plain SQL.

CALL_FACT_COLUMNS = ("id, jurisdiction, status, balance_minor, dispute, dispute_verified_at, cease, bankruptcy, "
                 "deceased, vulnerable, attorney_represented, breathing_space_until, delinquency_date, "
                 "last_payment_date, last_acknowledged_date, placed_on, validation_sent_at, debtor_id")


def _date(value):
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _datetime(value):
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def call_facts_sql(since: str, account_id: str, postgres: bool) -> str:
    """The one statement that reads everything `may_call` needs for one account: its facts,
    primary address, phones, recent calls and live overrides. `since` and `account_id` are
    SQL expressions (a placeholder, or a PL/pgSQL variable in the claim function)."""
    agg, obj = ("json_agg", "json_build_object") if postgres else ("json_group_array", "json_object")
    return (
        f"SELECT {', '.join('a.' + c.strip() for c in CALL_FACT_COLUMNS.split(','))}, "
        f"(SELECT {obj}('zone', ad.time_zone, 'country', ad.country, 'status', ad.status) FROM address ad "
        f" WHERE ad.debtor_id = a.debtor_id ORDER BY ad.is_primary DESC, ad.id LIMIT 1), "
        f"(SELECT {agg}({obj}('id', ph.id, 'number', ph.number, 'kind', ph.kind, 'status', ph.status, "
        f"  'forbids', ph.employer_forbids_calls)) FROM phone ph WHERE ph.debtor_id = a.debtor_id), "
        f"(SELECT {agg}({obj}('at', ac.started_at, 'phone', ac.phone_id, 'kind', ph2.kind, "
        f"  'attempt', ac.counts_as_attempt, 'activity', ac.kind, 'requested', ac.debtor_requested)) "
        f" FROM activity ac LEFT OUTER JOIN phone ph2 ON ph2.id = ac.phone_id "
        f" WHERE ac.account_id = a.id AND ac.started_at >= {since} AND ac.kind IN ('call_attempt', 'conversation')), "
        f"(SELECT {agg}(ap.payload) FROM approval ap WHERE ap.account_id = a.id AND ap.kind = 'override' "
        f" AND ap.status = 'approved') "
        f"FROM account a WHERE a.id = {account_id}")


def history_since(at: dt.datetime) -> dt.datetime:
    """The oldest call that can still matter to a decision at `at`."""
    return naive_utc(at) - dt.timedelta(days=HISTORY_DAYS)


def load_call_facts(account_id: int, at: dt.datetime):
    """(facts, phones, history, overrides) for one account, in one round trip: the claim
    runs this for every candidate, and on PostgreSQL each round trip costs more than the
    work."""
    from db.database import database, is_sqlite

    p = database.param
    since = history_since(at)
    sql = call_facts_sql(p, p, postgres=not is_sqlite())
    row = database.execute_sql(sql, (since.isoformat(" ") if is_sqlite() else since, account_id)).fetchone()
    return None if row is None else call_facts_from_row(row, at)


def call_facts_from_row(row, at: dt.datetime):
    """(facts, phones, history, overrides) from a row of `call_facts_sql`."""
    (aid, jurisdiction, status, balance, dispute, verified, cease, bankruptcy, deceased, vulnerable, attorney,
     breathing, delinquency, last_payment, acknowledged, placed, validation, _debtor_id,
     address, phones_json, history_json, overrides_json) = row
    address = _json(address)
    facts = AccountFacts(
        id=aid, jurisdiction=jurisdiction, status=status, balance_minor=balance, dispute=bool(dispute),
        dispute_verified_at=_datetime(verified), cease=bool(cease), bankruptcy=bool(bankruptcy),
        deceased=bool(deceased), vulnerable=bool(vulnerable), attorney_represented=bool(attorney),
        breathing_space_until=_date(breathing),
        address_zone=address["zone"] if address else None, address_country=address["country"] if address else None,
        address_bad=bool(address and address["status"] == "bad"),
        delinquency_date=_date(delinquency), last_payment_date=_date(last_payment),
        last_acknowledged_date=_date(acknowledged), placed_on=_date(placed),
        validation_sent_at=_datetime(validation))
    phones = sorted((PhoneFacts(ph["id"], ph["number"], ph["kind"], ph["status"], bool(ph["forbids"]))
                     for ph in _json(phones_json) or []), key=lambda ph: ph.id)
    history = [CallEvent(_datetime(ev["at"]), ev["phone"], ev["kind"], bool(ev["attempt"]),
                         ev["activity"] == "conversation", bool(ev["requested"]))
               for ev in _json(history_json) or []]
    overrides: set[str] = set()
    now = naive_utc(at)
    for payload in _json(overrides_json) or []:
        data = json.loads(payload or "{}")
        if data.get("until") and dt.datetime.fromisoformat(data["until"]) > now:
            overrides.update(data.get("codes", []))
    return facts, phones, history, frozenset(overrides)


def _json(value):
    if value is None or isinstance(value, (dict, list)):
        return value
    return json.loads(value)
