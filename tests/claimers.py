"""A claiming worker for the concurrency test and the benchmarks: runs in its own process,
as one officer, against the shared database."""

from __future__ import annotations

import datetime as dt
import time


def claim_loop(url: str, username: str, claims: int, at_iso: str, release_every: int, verify: bool,
               start=None) -> dict:
    """`start` (a shared barrier) holds every worker until all are connected, so a rate
    measures claiming, not the workers' Python start-up."""
    from config import load_settings
    from db.activity import log_call
    from db.audit import Actor
    from db.database import open_database, start_checkpointer
    from db.governor import check_call
    from db.models import Officer, Phone
    from db.queue import claim_next, release

    settings = load_settings()
    from db.queue import start_queue_maintenance

    from db.compliance import warm_up

    db = open_database(url)
    warm_up()  # as a session's background thread has done long before its officer claims
    start_checkpointer()
    start_queue_maintenance(settings, clock=lambda: at)  # as every session runs it
    at = dt.datetime.fromisoformat(at_iso)
    records, waits = [], []
    with db.connection_context():
        officer = Officer.get(Officer.username == username)
        actor = Actor.for_officer(officer)
        if start is not None:
            start.wait()
        first = time.time()
        for n in range(claims):
            started = time.monotonic()
            result = claim_next(settings, officer, at)
            claimed_at = time.monotonic()
            waits.append(claimed_at - started)
            if not result.claimed:
                records.append({"account": None, "reason": result.reason})
                continue
            ok = None
            if verify:
                # list(): a half-read cursor would hold a stale read snapshot open
                phones = list(Phone.select().where(Phone.debtor == _debtor_of(result.account_id)))
                ok = any(check_call(settings, result.account_id, p.id, at).allowed for p in phones)
            record = {"account": result.account_id, "claimed": claimed_at, "released": None, "allowed": ok}
            if release_every and n % release_every == 0:
                phone = Phone.select().where(Phone.debtor == _debtor_of(result.account_id)).first()
                if n % (2 * release_every) == 0 and phone is not None:
                    log_call(settings, actor, result.account_id, phone.id, "no_answer", at=at)
                record["released"] = time.monotonic()
                release(settings, officer, result.account_id, at)
            records.append(record)
        last = time.time()
    db.close()
    return {"officer": username, "records": records, "waits": waits, "first": first, "last": last}


def _debtor_of(account_id: int) -> int:
    from db.models import Account

    return Account.select(Account.debtor).where(Account.id == account_id).scalar()
