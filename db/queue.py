"""The work queue: which account an officer gets next, claimed so that no two officers
ever hold the same one.

How a claim stays cheap on a million accounts:
- Each account carries its queue facts (`priority`, `queue_priority`, `next_call_at`,
  `callable_zone`), refreshed whenever something that changes them is written.
- `queue_priority` is set only while the account may be handed out. Claimed, waiting
  (frequency caps, callbacks) and held accounts have it NULL, so they leave the partial
  claim index instead of piling up at its top.
- Call hours move every hour, so they are not stored per account: a claim asks which
  zone keys (`queue_zone`) are inside hours now and seeks the best account in each.
- Expired leases and waits that have ended are re-checked by every session's maintenance
  thread (`start_queue_maintenance`), a batch at a time, so no claim pays for them; a claim
  that finds nothing reaps before it says the queue is empty.

On PostgreSQL rows are locked with `FOR UPDATE SKIP LOCKED`; on SQLite the claim runs in
one IMMEDIATE transaction, and writers queue for it on the write gate (an OS file lock that
wakes the next waiter at once, where SQLite's busy-retry sleeps and can starve a writer).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from db.audit import Actor, write_transaction
from db.compliance import (
    AccountFacts, CallEvent, Decision, PhoneFacts, Rules, local_date, may_call, naive_utc, rules_for,
    within_hours, zone_key, zones_of_key,
)
from db.database import database, is_postgres, refresh_statistics, write_gate
from db.governor import account_facts, active_overrides, call_history, load_call_facts, phone_facts
from db.models import Account, Address, Officer, Phone, Team

REAP_BATCH = 25
TIER = 10**10
SCORE_SCALE = 10**9


class ClaimRefused(Exception):
    """The account cannot be claimed; the message says by whom it is held, or why."""


@dataclass
class ClaimResult:
    account_id: int | None
    reason: str
    """What happened, for the officer: "claimed A00000042", "queue empty", …"""
    decision: Decision | None = None

    @property
    def claimed(self) -> bool:
        return self.account_id is not None


# --- scoring ---------------------------------------------------------------------------------

def strategy_weights(settings, team: Team | None):
    name = team.queue_strategy if team is not None else settings.queue.default_strategy
    return settings.queue.strategies.get(name) or settings.queue.strategies[settings.queue.default_strategy]


def priority_of(account: Account, weights, at: dt.datetime, today: dt.date) -> int:
    """Callbacks due first, then promises broken or due today, then a weighted score of
    days past due, balance and time since last contact."""
    now = naive_utc(at)
    if account.callback_at is not None and account.callback_at <= now:
        tier = 3
    elif account.promise_due_on is not None and account.promise_due_on <= today:
        tier = 2
    else:
        tier = 1
    dpd = (today - account.delinquency_date).days if account.delinquency_date else 0
    dpd_part = min(max(dpd, 0), 900) / 900
    balance_part = math.log10(max(account.balance_minor, 100)) / 7  # 1.00 → ~0.3, 100,000.00 → 1
    if account.last_contact_at is None:
        contact_part = 1.0
    else:
        contact_part = min(max((now - account.last_contact_at).days, 0), 90) / 90
    total = weights.days_past_due + weights.balance + weights.since_last_contact or 1
    score = (weights.days_past_due * dpd_part + weights.balance * min(balance_part, 1.0)
             + weights.since_last_contact * contact_part) / total
    return tier * TIER + int(score * SCORE_SCALE)


# --- refreshing an account's queue facts ------------------------------------------------------

@dataclass
class QueueState:
    queue_priority: int | None
    next_call_at: dt.datetime | None
    callable_zone: str | None
    queue_reason: str | None
    attempts_in_window: int


def evaluate(facts: AccountFacts, phones: list[PhoneFacts], history: list[CallEvent], rules: Rules,
             at: dt.datetime, priority: int, overrides: frozenset[str] = frozenset(),
             callback_at: dt.datetime | None = None) -> QueueState:
    """Where an account stands in the queue at `at`, call hours aside (they are checked at
    claim time by zone): available, waiting until a time, or held. An account with a
    callback booked waits for it, and then comes first."""
    attempts = 0
    if history:
        zone0 = facts.address_zone or "UTC"
        today = local_date(at, zone0)
        attempts = sum(1 for e in history if e.counts_as_attempt and not e.debtor_requested
                       and (today - local_date(e.started_at, zone0)).days < rules.attempt_days)
    if not phones:
        return QueueState(None, None, None, "No phone number on file", attempts)
    if callback_at is not None and callback_at > naive_utc(at):
        return QueueState(None, callback_at, None, f"Callback booked for {callback_at:%a %d %b %H:%M} UTC", attempts)
    waits: list[dt.datetime] = []
    reasons: list[str] = []
    for phone in phones:
        decision = may_call(facts, phone, at, history, rules, overrides=overrides)
        blocking = [r for r in decision.reasons if r.code != "call_hours"]
        if not blocking:
            return QueueState(priority, None, zone_key(decision.zones), None, attempts)
        if decision.next_allowed_at is not None:
            waits.append(decision.next_allowed_at)
        reasons.append(blocking[0].text)
    if waits:
        return QueueState(None, naive_utc(min(waits)), None, reasons[0], attempts)
    return QueueState(None, None, None, reasons[0], attempts)


def refresh_accounts(settings, account_ids: list[int], at: dt.datetime) -> int:
    """Recompute the queue facts of these accounts (inside the caller's transaction).
    Claimed accounts keep theirs until released. Returns how many changed."""
    if not account_ids:
        return 0
    accounts = list(Account.select().where(Account.id.in_(account_ids)))
    debtor_ids = {a.debtor_id for a in accounts}
    addresses: dict[int, Address] = {}
    for address in (Address.select().where(Address.debtor.in_(debtor_ids))
                    .order_by(Address.is_primary.desc(), Address.id)):
        addresses.setdefault(address.debtor_id, address)
    phones: dict[int, list[PhoneFacts]] = {d: [] for d in debtor_ids}
    for phone in Phone.select().where(Phone.debtor.in_(debtor_ids)).order_by(Phone.id):
        phones[phone.debtor_id].append(phone_facts(phone))
    history = call_history([a.id for a in accounts], at)
    return write_queue_facts(settings, accounts, addresses, phones, history, _accounts_with_overrides(accounts), at)


QUEUE_FACT_COLUMNS = ("priority", "queue_priority", "next_call_at", "callable_zone", "queue_reason",
                      "attempts_in_window")


def judge_account(settings, account: Account, address: Address | None, phones: list[PhoneFacts],
                  history: list[CallEvent], overrides: frozenset[str], at: dt.datetime, weights,
                  rules_cache: dict[str, Rules] | None = None, *, facts: AccountFacts | None = None) -> tuple:
    """One account's queue facts (QUEUE_FACT_COLUMNS), by the governor and the strategy:
    pure, so a placement import computes them in its checking process (passing the
    account's `facts`, which it has built already, and no `address`)."""
    rules = rules_cache.get(account.jurisdiction) if rules_cache is not None else None
    if rules is None:
        rules = rules_for(settings.compliance, account.jurisdiction)
        if rules_cache is not None:
            rules_cache[account.jurisdiction] = rules
    if facts is None:
        facts = account_facts(account, address)
    today = local_date(at, facts.address_zone or "UTC")
    priority = priority_of(account, weights, at, today)
    state = evaluate(facts, phones, history, rules, at, priority, overrides, callback_at=account.callback_at)
    if account.team_id is None:
        state.queue_priority = None
        state.queue_reason = state.queue_reason or "Not assigned to a team"
    return (priority, state.queue_priority, state.next_call_at, state.callable_zone, state.queue_reason,
            state.attempts_in_window)


def write_queue_facts(settings, accounts: list[Account], addresses: dict[int, Address],
                      phones: dict[int, list[PhoneFacts]], history: dict[int, list[CallEvent]],
                      with_overrides: set[int], at: dt.datetime) -> int:
    """Judge each account by the governor and the team's strategy, and write its queue
    facts (inside the caller's transaction). `refresh_accounts` reads the accounts from the
    database; a placement import passes the rows it has just written, still in memory.

    An account whose facts come out as they are stored (and that holds no lapsed claim to
    clear) is not written: most of a daily refresh changes nothing, and on PostgreSQL every
    rewritten row leaves a dead copy in each of the account table's indexes. Returns how
    many accounts were written."""
    now = naive_utc(at)
    teams = {t.id: t for t in Team.select()}
    rules_cache: dict[str, Rules] = {}
    updates = []
    zones_seen: set[tuple[int, str]] = set()
    for account in accounts:
        if account.claimed_by_id is not None and account.claim_expires_at and account.claim_expires_at > now:
            continue
        overrides = active_overrides(account.id, at) if account.id in with_overrides else frozenset()
        facts = judge_account(settings, account, addresses.get(account.debtor_id), phones.get(account.debtor_id, []),
                              history.get(account.id, []), overrides, at,
                              strategy_weights(settings, teams.get(account.team_id)), rules_cache)
        if facts[3] and account.team_id is not None:
            zones_seen.add((account.team_id, facts[3]))
        if account.claimed_by_id is None and account.claimed_at is None and account.claim_expires_at is None \
                and facts == tuple(getattr(account, name) for name in QUEUE_FACT_COLUMNS):
            continue
        updates.append((*facts, account.id))
    remember_zones(zones_seen)
    if not updates:
        return 0
    p = database.param
    sql = (f"UPDATE account SET priority = {p}, queue_priority = {p}, next_call_at = {p}, callable_zone = {p}, "
           f"queue_reason = {p}, attempts_in_window = {p}, claimed_by_id = NULL, claimed_at = NULL, "
           f"claim_expires_at = NULL WHERE id = {p}")
    _executemany(sql, [tuple(_db_value(v) for v in row) for row in updates])
    return len(updates)


def _accounts_with_overrides(accounts: list[Account]) -> set[int]:
    from db.models import Approval

    ids = [a.id for a in accounts]
    return {row.account_id for row in Approval.select(Approval.account)
            .where(Approval.account.in_(ids), Approval.kind == "override", Approval.status == "approved")}


def _db_value(value):
    if isinstance(value, dt.datetime) and not is_postgres():
        return value.isoformat(" ")
    return value


def remember_zones(pairs: set[tuple[int, str]]) -> None:
    """Record zone keys in `queue_zone` (a handful of rows; existing ones are ignored)."""
    new = pairs
    if not new:
        return
    if is_postgres():
        sql = "INSERT INTO queue_zone (team_id, zone_key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    else:
        sql = "INSERT OR IGNORE INTO queue_zone (team_id, zone_key) VALUES (?, ?)"
    _executemany(sql, sorted(new))


def _executemany(sql: str, rows: list[tuple]) -> None:
    cursor = database.connection().cursor()
    if is_postgres():
        from psycopg2.extras import execute_batch

        execute_batch(cursor, sql, rows, page_size=500)
    else:
        cursor.executemany(sql, rows)


def refresh_all(settings, actor: Actor, at: dt.datetime | None = None, *, batch: int = 2000,
                progress=None) -> int:
    """Recompute every account's queue facts (the daily run, and after a demo or import),
    one short transaction per batch so officers are never stalled. Returns how many
    accounts' facts changed (only those are written)."""
    from db.scope import require_role

    require_role(actor, "system")
    at = at or dt.datetime.now(dt.UTC)
    last_id, total = 0, 0
    while True:
        ids = [r[0] for r in Account.select(Account.id).where(Account.id > last_id)
               .order_by(Account.id).limit(batch).tuples()]
        if not ids:
            break
        with write_transaction(actor) as tx:
            done = refresh_accounts(settings, ids, at)
            tx.audit("queue.refresh", "account", None,
                     changes={"from_id": ids[0], "to_id": ids[-1], "checked": len(ids), "updated": done})
        total += done
        last_id = ids[-1]
        if progress:
            progress(len(ids))
    refresh_statistics(total)
    return total


# --- claiming --------------------------------------------------------------------------------

def _waiting_accounts() -> str:
    """`FROM` for accounts waiting to be put back. SQLite otherwise reads them through the
    claimed_by_id index for `IS NULL`, which matches nearly every account (a scan of the
    floor each maintenance tick: 22 ms on 50,000 accounts); the partial waiting index
    holds only the waiting ones."""
    return "account" if is_postgres() else "account INDEXED BY account_waiting"


_WAITING_NOT_CLAIMED = "queue_priority IS NULL AND claimed_by_id IS NULL"


def reap(settings, at: dt.datetime, limit: int = REAP_BATCH) -> int:
    """Put back accounts whose lease expired or whose wait has ended (inside the caller's
    transaction). Returns how many were re-checked."""
    now = _db_value(naive_utc(at))
    p = database.param
    lock = " FOR UPDATE SKIP LOCKED" if is_postgres() else ""
    expired = [r[0] for r in database.execute_sql(
        f"SELECT id FROM account WHERE claimed_by_id IS NOT NULL AND claim_expires_at <= {p} "
        f"LIMIT {int(limit)}{lock}", (now,))]
    due = [r[0] for r in database.execute_sql(
        f"SELECT id FROM {_waiting_accounts()} WHERE {_WAITING_NOT_CLAIMED} "
        f"AND next_call_at IS NOT NULL AND next_call_at <= {p} LIMIT {int(limit)}{lock}", (now,))]
    if expired or due:
        refresh_accounts(settings, expired + due, at)
    return len(expired) + len(due)


def _anything_due(now) -> bool:
    p = database.param
    expired = database.execute_sql(
        f"SELECT 1 FROM account WHERE claimed_by_id IS NOT NULL AND claim_expires_at <= {p} LIMIT 1", (now,)).fetchone()
    if expired:
        return True
    return database.execute_sql(
        f"SELECT 1 FROM {_waiting_accounts()} WHERE {_WAITING_NOT_CLAIMED} "
        f"AND next_call_at IS NOT NULL AND next_call_at <= {p} LIMIT 1", (now,)).fetchone() is not None


def reap_due(settings, at: dt.datetime | None = None, limit: int = 200) -> int:
    """One maintenance step in its own short transaction (see `start_queue_maintenance`).
    Looks first without the write lock: most ticks find nothing and write nothing."""
    at = at or dt.datetime.now(dt.UTC)
    if not _anything_due(_db_value(naive_utc(at))):
        return 0
    with write_transaction(Actor.system("queue")) as tx:
        done = reap(settings, at, limit)
        tx.audit("queue.reap", "account", None, changes={"rechecked": done})
    return done


VACUUM_DEAD_ROWS = 5000
VACUUM_CHECK_SECONDS = 15.0
ANALYZE_CHANGED_ROWS = 1000
ANALYZE_CHANGED_SHARE = 0.1


def vacuum_if_needed() -> bool:
    """PostgreSQL whose autovacuum is switched off: do what it would have done.

    - VACUUM the account table once claims and re-queues have left `VACUUM_DEAD_ROWS` dead
      rows. Each claim leaves a dead entry at the head of the claim index, and every later
      claim in that zone steps over all of them until a VACUUM removes them (4,000 claims
      made the next ones 7x slower in a measurement here).
    - ANALYZE any table with a tenth of its rows (and at least `ANALYZE_CHANGED_ROWS`)
      changed since its statistics were taken. Without statistics the planner guesses, and
      it guessed the claim's zone search onto the wrong index (the queue-order one, filtering
      zones row by row: twice the time on 50,000 accounts, worse on a bigger floor).

    With autovacuum on, the server does both (the account table's own settings come from
    migration v0013). Returns True when it did anything."""
    if not is_postgres():
        return False
    rows = database.execute_sql(
        "SELECT relname, n_dead_tup, n_mod_since_analyze, n_live_tup, current_setting('autovacuum') = 'on' "
        "FROM pg_stat_user_tables WHERE schemaname = current_schema()").fetchall()
    did = False
    for table, dead, changed, live, autovacuum in rows:
        if autovacuum:
            return False
        quoted = '"' + table.replace('"', '""') + '"'
        # Outside a transaction: the connection autocommits.
        if table == "account" and (dead or 0) >= VACUUM_DEAD_ROWS:
            database.execute_sql(f"VACUUM (ANALYZE) {quoted}")
            did = True
        elif (changed or 0) >= max(ANALYZE_CHANGED_ROWS, ANALYZE_CHANGED_SHARE * (live or 0)):
            database.execute_sql(f"ANALYZE {quoted}")
            did = True
    return did


WARM_UP_AFTER_SECONDS = 1.0

_maintenance = None
_maintenance_stop = None


def stop_queue_maintenance() -> None:
    global _maintenance
    if _maintenance is not None:
        _maintenance_stop.set()
        _maintenance.join(timeout=10)
        _maintenance = None


def start_queue_maintenance(settings, interval: float = 5.0, clock=None) -> None:
    """Every session runs this in a background thread: accounts whose wait has ended or
    whose claim lapsed (a dropped session) go back to the queue within seconds, and no
    claim pays for that work. `clock` gives "now" (a frozen clock in tests).

    On one host, one session at a time does the work (whoever holds a lock file in the
    data directory; another takes over when it quits): sixty sessions polling the same
    rows every few seconds would cost sixty times the CPU for the same result. The
    thread keeps its connection between ticks."""
    import fcntl
    import os
    import threading
    import time

    global _maintenance, _maintenance_stop
    if _maintenance is not None and _maintenance.is_alive():
        return
    db = database.obj
    stop = _maintenance_stop = threading.Event()
    lock_path = settings.resolved_data_dir() / "queue-maintenance.lock"

    def run() -> None:
        from db.compliance import warm_up

        lock_fd = None
        vacuum_checked = time.monotonic()
        try:
            # A second in, once a launching screen has drawn: then it is done before the
            # officer's first claim, and not part of the session's idle time.
            if not stop.wait(min(interval, WARM_UP_AFTER_SECONDS)):
                try:
                    warm_up()
                except Exception:  # only a cache: a claim loads what it needs
                    pass
            while not stop.wait(interval):
                if lock_fd is None:
                    try:
                        lock_path.parent.mkdir(parents=True, exist_ok=True)
                        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o640)
                    except OSError:
                        fd = None  # no data directory to share: every session maintains
                    if fd is not None:
                        try:
                            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                            lock_fd = fd
                        except OSError:
                            os.close(fd)
                            continue  # another session on this host is doing it
                try:
                    db.connect(reuse_if_open=True)
                    while reap_due(settings, clock() if clock else None) >= 200:
                        pass
                    if time.monotonic() - vacuum_checked >= VACUUM_CHECK_SECONDS:
                        vacuum_checked = time.monotonic()
                        vacuum_if_needed()
                except Exception:  # the database is busy or going away: next tick
                    try:
                        db.close()
                    except Exception:
                        pass
                    continue
        finally:
            if not db.is_closed():
                db.close()
            if lock_fd is not None:
                os.close(lock_fd)

    _maintenance = threading.Thread(target=run, name="arrears-queue-maintenance", daemon=True)
    _maintenance.start()


_zone_cache: dict[tuple[int, int], tuple[float, list[str]]] = {}
ZONE_CACHE_SECONDS = 10.0


def _zone_keys(team_id: int) -> list[str]:
    """The team's zone keys; cached a few seconds (they change only when a new zone joins
    the floor, and a claim that finds nothing reads them afresh)."""
    import time

    key = (id(database.obj), team_id)
    cached = _zone_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < ZONE_CACHE_SECONDS:
        return cached[1]
    keys = [r[0] for r in database.execute_sql(
        f"SELECT zone_key FROM queue_zone WHERE team_id = {database.param}", (team_id,))]
    _zone_cache[key] = (time.monotonic(), keys)
    return keys


def _candidates_sql(n_keys: int, skip: set[int], p: str) -> str:
    excluded = (" AND id NOT IN (" + ", ".join(str(int(i)) for i in sorted(skip)) + ")") if skip else ""
    parts = []
    for _ in range(n_keys * 2):
        parts.append(
            f"SELECT * FROM (SELECT id, queue_priority, callable_zone FROM account WHERE team_id = {p} "
            f"AND COALESCE(assigned_officer_id, 0) = {p} AND callable_zone = {p} "
            f"AND queue_priority IS NOT NULL{excluded} ORDER BY queue_priority DESC LIMIT 1) AS c{len(parts)}")
    return " UNION ALL ".join(parts) + " ORDER BY 2 DESC"


_prepared = None  # a WeakKeyDictionary: connection -> statement names prepared on it


def _candidates(team_id: int, officer_id: int, keys: list[str], skip: set[int]) -> list[tuple[int, int, str]]:
    """(id, priority, zone key) of the best claimable account in each open zone key (own
    assignments and the team's unassigned pool, keyed 0), best first: one statement, one
    index seek per part. On PostgreSQL the statement is prepared once per connection:
    planning 24 small subqueries costs more than running them."""
    if not keys:
        return []
    params = []
    for key in keys:
        for owner in (officer_id, 0):
            params.extend([team_id, owner, key])
    if is_postgres() and not skip:
        global _prepared
        import weakref

        if _prepared is None:
            _prepared = weakref.WeakKeyDictionary()
        conn = database.connection()
        names = _prepared.setdefault(conn, set())
        name = f"arrears_candidates_{len(keys)}"
        if name not in names:
            types = ", ".join(["integer", "integer", "text"] * (2 * len(keys)))
            sql = _candidates_sql(len(keys), set(), "$%d")
            sql = sql.replace("$%d", "{}").format(*[f"${i + 1}" for i in range(6 * len(keys))])
            database.execute_sql(f"PREPARE {name} ({types}) AS {sql}")
            names.add(name)
        rows = database.execute_sql(f"EXECUTE {name} ({', '.join(['%s'] * len(params))})", params)
        return [(r[0], r[1], r[2]) for r in rows]
    sql = _candidates_sql(len(keys), skip, database.param)
    return [(r[0], r[1], r[2]) for r in database.execute_sql(sql, params)]


def _lock_one(account_id: int) -> int | None:
    """PostgreSQL: lock this account if it is still claimable and no one else holds it."""
    row = database.execute_sql(
        f"SELECT id FROM account WHERE id = {database.param} AND queue_priority IS NOT NULL "
        f"FOR UPDATE SKIP LOCKED", (account_id,)).fetchone()
    return row[0] if row else None


def _lock_best(team_id: int, officer_id: int, tops: list[tuple[int, int, str]], skip: set[int]) -> int | None:
    """PostgreSQL: lock the best account not locked by another claimer, trying the zone
    keys in the order of their best accounts."""
    p = database.param
    excluded = (" AND id NOT IN (" + ", ".join(str(int(i)) for i in sorted(skip)) + ")") if skip else ""
    best: tuple[int, int] | None = None
    for owner in (officer_id, 0):
        tried = []
        for _id, _priority, key in tops:
            if key in tried:
                continue
            tried.append(key)
            row = database.execute_sql(
                f"SELECT id, queue_priority FROM account WHERE team_id = {p} "
                f"AND COALESCE(assigned_officer_id, 0) = {p} AND callable_zone = {p} "
                f"AND queue_priority IS NOT NULL{excluded} ORDER BY queue_priority DESC "
                f"LIMIT 1 FOR UPDATE SKIP LOCKED", (team_id, owner, key)).fetchone()
            if row:
                if best is None or row[1] > best[1]:
                    best = (row[0], row[1])
                break
    return best[0] if best else None


def _verify(settings, account_id: int, at: dt.datetime) -> Decision | None:
    """The full governor check of a candidate: the first phone that may be called now, else
    the decision for the phone closest to callable (None when it has no phone)."""
    loaded = load_call_facts(account_id, at)
    return None if loaded is None else _decide(settings, loaded, at)


def _decide(settings, loaded, at: dt.datetime) -> Decision | None:
    facts, phones, history, overrides = loaded
    rules = rules_for(settings.compliance, facts.jurisdiction)
    last = None
    for phone in phones:
        decision = may_call(facts, phone, at, history, rules, overrides=overrides)
        if decision.allowed:
            return decision
        # Prefer to report a phone blocked only by call hours: the account stays queued.
        if last is None or {r.code for r in decision.reasons} == {"call_hours"}:
            last = decision
    return last


_open_cache: dict[tuple, list[str]] = {}


def _open_keys(settings, team_id: int, at: dt.datetime) -> list[str]:
    """The team's zone keys that are inside call hours at `at`. Call hours start and end on
    whole minutes, so the answer holds for the rest of the minute: it is kept that long
    (keyed by the zone keys too, so a new zone is seen as soon as `_zone_keys` sees it)."""
    keys = _zone_keys(team_id)
    rules = _hours_rules(settings)
    whole_minutes = not (rules.call_start.second or rules.call_start.microsecond
                         or rules.call_end.second or rules.call_end.microsecond)
    minute = naive_utc(at).replace(second=0, microsecond=0)
    cache_key = (id(database.obj), team_id, tuple(keys), minute, rules.call_start, rules.call_end)
    if whole_minutes and cache_key in _open_cache:
        return _open_cache[cache_key]
    open_keys = [k for k in keys if within_hours(at, zones_of_key(k), rules)]
    if whole_minutes:
        if len(_open_cache) > 64:
            _open_cache.clear()
        _open_cache[cache_key] = open_keys
    return open_keys


_no_claim_function: set[int] = set()  # PostgreSQL databases whose schema lacks the current function


def _claim_in_one_call(settings, officer: Officer, at: dt.datetime) -> ClaimResult | None:
    """PostgreSQL: the common claim in two round trips (`db.pg_claim`). None when it cannot
    decide (nothing free, the facts say no, an older schema): the general path then runs."""
    from peewee import __exception_wrapper__

    from db import pg_claim
    from db.audit import _jsonable
    from db.database import utcnow
    from db.governor import call_facts_from_row, history_since

    if id(database.obj) in _no_claim_function or database.in_transaction():
        return None
    keys = _open_keys(settings, officer.team_id, at)
    if not keys:
        return None
    now = naive_utc(at)
    until = now + dt.timedelta(minutes=settings.queue.lease_minutes)
    with __exception_wrapper__:
        cursor = database.connection().cursor()
        try:
            row = pg_claim.claim_call(
                cursor, team_id=officer.team_id, officer_id=officer.id, keys=keys, since=history_since(at),
                now=now, until=until, event_at=utcnow(), actor=officer.username,
                changes=_jsonable({"claimed_by": officer.username, "until": until}))
            decision = _decide(settings, call_facts_from_row(row, at), at) if row is not None else None
            if decision is None or not decision.allowed:
                cursor.execute("ROLLBACK")
                return None
            cursor.execute("COMMIT")
        except Exception as exc:
            try:
                cursor.execute("ROLLBACK")
            except Exception:  # the connection itself failed: the original error says why
                pass
            if getattr(exc, "pgcode", None) == "42883":  # undefined function: schema not upgraded
                _no_claim_function.add(id(database.obj))
                return None
            raise
    return ClaimResult(row[0], "claimed", decision)


def claim_next(settings, officer: Officer, at: dt.datetime | None = None) -> ClaimResult:
    """Claim the best account this officer may call now, atomically, or say why not."""
    at = at or dt.datetime.now(dt.UTC)
    if officer.team_id is None:
        return ClaimResult(None, "You are not in a team, so you have no queue")
    if is_postgres():
        claimed = _claim_in_one_call(settings, officer, at)
        if claimed is not None:
            return claimed
    actor = Actor.for_officer(officer)
    lease = dt.timedelta(minutes=settings.queue.lease_minutes)
    now = naive_utc(at)
    with write_transaction(actor) as tx:
        keys = _open_keys(settings, officer.team_id, at)
        skip: set[int] = set()
        reaped = False
        for _attempt in range(50):
            tops = _candidates(officer.team_id, officer.id, keys, skip)
            if not tops and not reaped:
                # Nothing claimable: put back what is due before saying the queue is empty
                # (normally the sessions' maintenance threads have done it already).
                reaped = True
                _zone_cache.pop((id(database.obj), officer.team_id), None)
                reap(settings, at, limit=500)
                keys = _open_keys(settings, officer.team_id, at)
                tops = _candidates(officer.team_id, officer.id, keys, skip)
            if is_postgres():
                account_id = _lock_one(tops[0][0]) if tops else None
                if account_id is None and tops:  # another claimer holds it: take the next free
                    account_id = _lock_best(officer.team_id, officer.id, tops, skip)
            else:
                account_id = tops[0][0] if tops else None
            if account_id is None:
                break
            decision = _verify(settings, account_id, at)
            if decision is None or not decision.allowed:
                skip.add(account_id)
                if decision is not None and {r.code for r in decision.reasons} == {"call_hours"}:
                    continue  # this jurisdiction keeps shorter hours: stays queued, not now
                # The stored facts were stale (a call logged elsewhere, a rule changed):
                # move the account to where it belongs and look again.
                refresh_accounts(settings, [account_id], at)
                tx.audit("queue.requeue", "account", account_id, account_id=account_id,
                         changes={"reason": decision.explain() if decision else "no phone"})
                continue
            p = database.param
            cursor = database.execute_sql(
                f"UPDATE account SET claimed_by_id = {p}, claimed_at = {p}, claim_expires_at = {p}, "
                f"queue_priority = NULL WHERE id = {p} AND claimed_by_id IS NULL AND queue_priority IS NOT NULL",
                (officer.id, _db_value(now), _db_value(now + lease), account_id))
            if cursor.rowcount != 1:  # pragma: no cover - the lock/transaction makes this impossible
                continue
            tx.audit("queue.claim", "account", account_id, account_id=account_id,
                     changes={"claimed_by": officer.username, "until": now + lease})
            return ClaimResult(account_id, "claimed", decision)
        tx.audit("queue.empty", "officer", officer.id, changes={"team_id": officer.team_id})
    return ClaimResult(None, _why_empty(settings, officer, at, keys))


def _hours_rules(settings) -> Rules:
    return rules_for(settings.compliance, "")


def _why_empty(settings, officer: Officer, at: dt.datetime, open_keys: list[str]) -> str:
    scope = ((Account.team == officer.team_id)
             & (Account.assigned_officer.is_null() | (Account.assigned_officer == officer.id)))
    closed = (Account.select().where(scope, Account.queue_priority.is_null(False),
                                     Account.callable_zone.not_in(open_keys or [""])).exists())
    waiting = (Account.select(Account.next_call_at).where(scope, Account.queue_priority.is_null(),
                                                          Account.claimed_by.is_null(),
                                                          Account.next_call_at.is_null(False))
               .order_by(Account.next_call_at).first())
    notes = []
    if closed:
        notes.append("some accounts are outside call hours in their debtors' time zones")
    if waiting is not None:
        when = waiting.next_call_at.replace(tzinfo=dt.UTC)
        notes.append(f"the next waiting account may be called from {when:%a %d %b %H:%M} UTC")
    if not notes:
        return "Queue empty: no account in your queue may be worked"
    return "No account may be called right now: " + "; ".join(notes)


def claim(settings, officer: Officer, account_id: int, at: dt.datetime | None = None) -> Account:
    """Claim one account to work it (an inbound call, a search). Refuses, naming the holder,
    if another officer's lease is live; refuses accounts outside the officer's team."""
    at = at or dt.datetime.now(dt.UTC)
    now = naive_utc(at)
    lease = dt.timedelta(minutes=settings.queue.lease_minutes)
    actor = Actor.for_officer(officer)
    with write_transaction(actor) as tx:
        query = Account.select().where(Account.id == account_id)
        if is_postgres():
            query = query.for_update()
        account = query.first()
        if account is None:
            raise ClaimRefused(f"there is no account {account_id}")
        if officer.role != "admin" and account.team_id != officer.team_id:
            raise ClaimRefused(f"account {account.reference} belongs to another team")
        if (account.claimed_by_id not in (None, officer.id) and account.claim_expires_at
                and account.claim_expires_at > now):
            holder = Officer.get_by_id(account.claimed_by_id)
            raise ClaimRefused(f"account {account.reference} is being worked by {holder.name} "
                               f"({holder.username}) until {account.claim_expires_at:%H:%M} UTC")
        (Account.update(claimed_by=officer.id, claimed_at=now, claim_expires_at=now + lease, queue_priority=None)
         .where(Account.id == account_id).execute())
        tx.audit("queue.claim", "account", account_id, account_id=account_id,
                 changes={"claimed_by": officer.username, "until": now + lease, "direct": True})
    return Account.get_by_id(account_id)


def renew(settings, officer: Officer, account_id: int, at: dt.datetime | None = None) -> bool:
    """Extend a live session's lease; False if the claim was lost (expired and taken)."""
    at = at or dt.datetime.now(dt.UTC)
    now = naive_utc(at)
    lease = dt.timedelta(minutes=settings.queue.lease_minutes)
    with write_transaction(Actor.for_officer(officer)) as tx:
        updated = (Account.update(claim_expires_at=now + lease)
                   .where(Account.id == account_id, Account.claimed_by == officer.id).execute())
        tx.audit("queue.renew", "account", account_id, account_id=account_id, changes={"until": now + lease})
    return updated == 1


def next_for_officer(settings, officer: Officer, at: dt.datetime | None = None, *, leaving: int | None = None,
                     session: str | None = None) -> ClaimResult:
    """What an officer's `n` writes: the next account claimed (`claim_next`) and then, if
    there was one, `leaving` (the account they were on) released, the new one's opening
    audited (`account.view`: the screen shows its file next) and, with `session` (their
    presence token), the floor told they are on it.

    On SQLite it is one write instead of four. Every write on a host waits its turn at the
    write gate, and with fifty sessions on two cores a writer is often descheduled while it
    holds the gate: four turns per `n` made the waits pile up into seconds. On PostgreSQL,
    where there is no gate, the claim keeps its own two-round-trip transaction."""
    at = at or dt.datetime.now(dt.UTC)
    actor = Actor.for_officer(officer)

    def steps() -> ClaimResult:
        result = claim_next(settings, officer, at)
        if not result.claimed:
            return result  # nothing to move on to: the officer keeps the account they were on
        if leaving is not None:  # after the claim: `n` moves on, never back to the same account
            release(settings, officer, leaving, at)
        with write_transaction(actor) as tx:
            tx.audit("account.view", "account", result.account_id, account_id=result.account_id)
        if session is not None:
            _on_the_floor(settings, actor, session, result.account_id, at)
        return result

    if is_postgres():
        return steps()
    # Each step is a write transaction with its audit events; here they nest in one.
    with write_gate(), database.atomic():
        return steps()


def _on_the_floor(settings, actor: Actor, session: str, account_id: int, at: dt.datetime) -> None:
    from db.presence import report_state

    try:
        report_state(settings, actor, session, "account", at, account_id=account_id)
    except LookupError:  # the session has left the floor (its lease lapsed): the claim stands
        pass


def release(settings, officer: Officer, account_id: int, at: dt.datetime | None = None) -> bool:
    """Give an account back: it returns to the queue (or waits) as its facts say."""
    at = at or dt.datetime.now(dt.UTC)
    with write_transaction(Actor.for_officer(officer)) as tx:
        updated = (Account.update(claimed_by=None, claimed_at=None, claim_expires_at=None)
                   .where(Account.id == account_id, Account.claimed_by == officer.id).execute())
        if updated:
            refresh_accounts(settings, [account_id], at)
        tx.audit("queue.release", "account", account_id, account_id=account_id,
                 changes={"released": bool(updated)})
    return updated == 1


def holder_of(account_id: int, at: dt.datetime | None = None) -> Officer | None:
    now = naive_utc(at or dt.datetime.now(dt.UTC))
    account = (Account.select(Account.claimed_by, Account.claim_expires_at)
               .where(Account.id == account_id).first())
    if account is None or account.claimed_by_id is None or account.claim_expires_at <= now:
        return None
    return Officer.get_by_id(account.claimed_by_id)


def queue_depth(team_id: int) -> dict[str, int]:
    """Accounts of a team: available, claimed, waiting, held."""
    base = Account.select().where(Account.team == team_id)
    return {
        "available": base.where(Account.queue_priority.is_null(False)).count(),
        "claimed": base.where(Account.claimed_by.is_null(False)).count(),
        "waiting": base.where(Account.queue_priority.is_null(), Account.claimed_by.is_null(),
                              Account.next_call_at.is_null(False)).count(),
        "held": base.where(Account.queue_priority.is_null(), Account.claimed_by.is_null(),
                           Account.next_call_at.is_null()).count(),
    }


