"""PostgreSQL's claim in two round trips: a server-side function that finds, locks and
claims the best account and returns what the governor needs to check it, then COMMIT.

Why a function: the claim as separate statements is eight round trips (BEGIN, candidates,
lock, facts, UPDATE, audit, notify, COMMIT) and each costs more than its work; a plain
statement that unions a dozen index seeks also costs more to plan than to run. A PL/pgSQL
function plans its statements once per session and runs them all in one call.

The function claims before Python checks: `may_call` runs on the facts it returns, and if
they say no (stale queue facts: a call logged elsewhere, a rule changed) the transaction is
rolled back and the claim takes the general path in `db.queue`, which moves the account to
where it belongs. Nothing the function wrote survives a rollback.

The claim commits with `synchronous_commit = off` (for this transaction only): a claim is a
15-minute lease whose loss on a server crash costs an officer one "next" press, and the
claim and its audit event are lost or kept together. Payments, notes and every other write
keep the server's durable default.

The function's name carries a hash of its text, so a changed text is a new function that a
migration must install (`tests/test_queue.py` checks the installed one is current).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from functools import lru_cache

from db.feed import CHANNEL
from db.governor import call_facts_sql

# Per (zone key, owner) part, the best few accounts; the best one no other claimer holds is
# taken. Several, not one, so eight claimers reaching for the same zone's top account do not
# fall through to a worse zone.
PER_PART = 3


def _body() -> str:
    facts = call_facts_sql("p_since", "aid", postgres=True)
    return f"""
#variable_conflict use_column
DECLARE
    aid integer;
    candidate record;
BEGIN
    -- The best few per (zone key, owner) part, best first; lock the first that no other
    -- claimer holds and that is still claimable (the row is re-checked once locked).
    FOR candidate IN
        SELECT x.id FROM unnest(p_keys) AS k(zone_key)
        CROSS JOIN (VALUES (p_officer), (0)) AS o(owner)
        CROSS JOIN LATERAL (
            SELECT a.id, a.queue_priority FROM account a
             WHERE a.team_id = p_team AND COALESCE(a.assigned_officer_id, 0) = o.owner
               AND a.callable_zone = k.zone_key AND a.queue_priority IS NOT NULL
             ORDER BY a.queue_priority DESC LIMIT {PER_PART}) AS x
        ORDER BY x.queue_priority DESC, x.id
    LOOP
        SELECT c.id INTO aid FROM account c
         WHERE c.id = candidate.id AND c.queue_priority IS NOT NULL AND c.claimed_by_id IS NULL
         FOR UPDATE SKIP LOCKED;
        EXIT WHEN aid IS NOT NULL;
    END LOOP;
    IF aid IS NULL THEN
        RETURN;
    END IF;
    UPDATE account SET claimed_by_id = p_officer, claimed_at = p_now, claim_expires_at = p_until,
           queue_priority = NULL
     WHERE account.id = aid;
    INSERT INTO audit_event (at, officer_id, actor, action, entity, entity_id, account_id, changes)
    VALUES (p_event_at, p_officer, p_actor, 'queue.claim', 'account', aid, aid, p_changes);
    PERFORM pg_notify('{CHANNEL}', json_build_object('actions', json_build_array('queue.claim'),
                                                     'accounts', json_build_array(aid))::text);
    RETURN QUERY {facts};
END
"""


@lru_cache(maxsize=1)
def function_name() -> str:
    return "arrears_claim_" + hashlib.sha256(_body().encode()).hexdigest()[:12]


_ARGS = ("p_team integer, p_officer integer, p_keys text[], p_since timestamp, p_now timestamp, "
         "p_until timestamp, p_event_at timestamp, p_actor text, p_changes text")

def install(db) -> None:
    """Create the current claim function (PostgreSQL only; run by a migration). Its result
    columns take the account columns' types as the database has them (RETURN QUERY wants
    them exact), then the four JSON columns."""
    from db.governor import CALL_FACT_COLUMNS

    names = [c.strip() for c in CALL_FACT_COLUMNS.split(",")]
    types = dict(db.execute_sql(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = 'account'::regclass AND attnum > 0 AND NOT attisdropped").fetchall())
    columns = [f"{name} {types[name]}" for name in names]
    columns += [f"{name} json" for name in ("address", "phones", "history", "overrides")]
    db.execute_sql(
        f"CREATE OR REPLACE FUNCTION {function_name()}({_ARGS}) RETURNS TABLE ({', '.join(columns)}) "
        f"LANGUAGE plpgsql AS $claim${_body()}$claim$")


def claim_call(cursor, *, team_id: int, officer_id: int, keys: list[str], since: dt.datetime,
               now: dt.datetime, until: dt.datetime, event_at: dt.datetime, actor: str, changes: dict):
    """First round trip: begin, claim the best account and read its facts. Returns the row or
    None (nothing claimable that no one else holds); the transaction stays open either way."""
    cursor.execute(
        f"BEGIN; SET LOCAL synchronous_commit TO off; "
        f"SELECT * FROM {function_name()}(%s, %s, %s::text[], %s, %s, %s, %s, %s, %s)",
        (team_id, officer_id, list(keys), since, now, until, event_at, actor,
         json.dumps(changes, sort_keys=True)))
    return cursor.fetchone()
