"""Eight real processes claiming from one queue: no account is ever held by two officers
at once, and every claim was allowed by the compliance governor at that moment."""

import datetime as dt
import multiprocessing as mp
from collections import defaultdict

from db.demo import generate
from db.models import Account, Officer, Team
from db.officers import add_officer
from tests.claimers import claim_loop

AT = "2026-03-10T17:00:00+00:00"  # 13:00 New York, 10:00 Los Angeles, 17:00 London
PROCESSES, CLAIMS = 8, 300


def test_eight_processes_never_share_an_account(db, db_url, admin):
    from config import load_settings

    generate(admin, accounts=4000, seed=11, as_of=dt.date(2026, 3, 10), settings=load_settings())
    for i in range(PROCESSES):
        add_officer(admin, f"w{i}", name=f"Worker {i}", team="Recoveries")
    db.close()

    ctx = mp.get_context("spawn")
    with ctx.Pool(PROCESSES) as pool:
        results = pool.starmap(claim_loop, [(db_url, f"w{i}", CLAIMS, AT, 2, True) for i in range(PROCESSES)])

    db.connect(reuse_if_open=True)
    intervals = defaultdict(list)
    claimed = 0
    for result in results:
        for record in result["records"]:
            assert record["account"] is not None, record["reason"]
            assert record["allowed"] is True, f"claim of {record['account']} was not allowed by may_call"
            end = record["released"] if record["released"] is not None else float("inf")
            intervals[record["account"]].append((record["claimed"], end, result["officer"]))
            claimed += 1
    assert claimed == PROCESSES * CLAIMS
    for account_id, spans in intervals.items():
        spans.sort()
        for (s1, e1, o1), (s2, e2, o2) in zip(spans, spans[1:]):
            assert s2 >= e1, f"account {account_id} held by {o1} and {o2} at once"
    # what the database holds agrees: each still-held account has exactly one holder
    held = {r["account"]: res["officer"] for res in results for r in res["records"] if r["released"] is None}
    team = Team.get(Team.name == "Recoveries")
    rows = Account.select(Account.id, Account.claimed_by).where(Account.id.in_(list(held)))
    names = {o.id: o.username for o in Officer.select()}
    assert {a.id: names[a.claimed_by_id] for a in rows} == held
    assert len(held) == PROCESSES * CLAIMS // 2
    assert all(a.team_id == team.id for a in Account.select().where(Account.claimed_by.is_null(False)))
