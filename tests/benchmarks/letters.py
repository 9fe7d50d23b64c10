"""Letter rendering throughput: letters per second through the real letter workers (claim,
read the account, render, file the PDF, record it) with 1 and 2 processes, for one-page
reminders and a three-page statement, beside a bare WeasyPrint loop rendering the same
HTML with the same process count in the same run. Also says which font subsetter
WeasyPrint used.

Goals: the workers reach at least 90% of the bare loop; at least 25 one-page letters/s
with 2 workers. The bare loop is WeasyPrint as a plain script uses it (stylesheet parsed per
letter); the same loop kept warm (stylesheet and fonts set up once, as the workers do) is
printed beside it, with the workers' share of both.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import tempfile
import time
from pathlib import Path

from tests.benchmarks import Options, Row, benchmark


def _settings(root: Path):
    from config.settings import Settings

    return Settings(database={"url": f"sqlite:///{root / 'arrears.db'}"}, data_dir=root / "data",
                    letters={"directory": root / "letters", "poll_seconds": 0.05})


def _bare(settings, html: str, count: int, warm: bool, ready, go, done) -> None:
    """WeasyPrint alone on the same HTML and stylesheet. Plain: what a script calling
    WeasyPrint does, the stylesheet parsed for each letter. Warm: the stylesheet parsed and
    the fonts set up once, as the workers do."""
    from weasyprint import CSS, HTML

    from letters.render import PdfRenderer

    renderer = PdfRenderer(settings)
    css = renderer.stylesheet()
    renderer.pdf(html)
    HTML(string=html).write_pdf(stylesheets=[CSS(string=css)])
    ready.put(os.getpid())
    go.wait()
    for _ in range(count):
        if warm:
            renderer.pdf(html)
        else:
            HTML(string=html).write_pdf(stylesheets=[CSS(string=css)])
    done.put(count)


def _worker(settings, ready, go, done) -> None:
    from db.database import open_from_settings
    from letters.worker import Worker

    db = open_from_settings(settings)
    db.connect(reuse_if_open=True)
    worker = Worker(settings)
    worker.renderer.pdf("<p>warm</p>")
    ready.put(os.getpid())
    go.wait()
    tally = worker.run(once=True)
    done.put(tally.rendered)


def _timed(target, args_for, processes: int) -> float:
    """Seconds from `go` until every process is done (start-up and warm-up excluded)."""
    ctx = multiprocessing.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    children = [ctx.Process(target=target, args=(*args_for(i), ready, go, done)) for i in range(processes)]
    for child in children:
        child.start()
    for _ in children:
        ready.get(timeout=120)
    started = time.perf_counter()
    go.set()
    total = sum(done.get(timeout=600) for _ in children)
    seconds = time.perf_counter() - started
    for child in children:
        child.join()
    return total / seconds


def _floor(settings, statement_pages: int = 3):
    """Two accounts: one for one-page reminders, one whose statement runs to exactly
    `statement_pages` pages."""
    from db.audit import Actor
    from db.database import open_from_settings
    from db.ledger import post
    from db.migrations import upgrade
    from letters.render import PdfRenderer
    from tests import floor

    db = open_from_settings(settings)
    db.connect(reuse_if_open=True)
    upgrade()
    team = floor.team()
    short = floor.account(team, balance=0, dpd=60)
    long = floor.account(team, balance=0, dpd=400)
    admin = Actor.system("bench")
    for account in (short, long):
        post(admin, account.id, "charge", 900_00, effective_date=dt.date(2025, 1, 1))
    renderer = PdfRenderer(settings)
    day = dt.date(2025, 1, 2)
    while True:
        for _ in range(5):
            post(admin, long.id, "interest", 1_23, bucket="interest", effective_date=day)
            day += dt.timedelta(days=3)
        pages = renderer.render(long.id, "statement", {"sent_on": "2026-06-10"}).pages
        if pages >= statement_pages:
            break
    html = {"reminder": renderer.html("reminder", renderer.context(short.id, "reminder", {"sent_on": "2026-06-10"})),
            "statement": renderer.html("statement", renderer.context(long.id, "statement", {"sent_on": "2026-06-10"}))}
    return db, short.id, long.id, html, pages


def _queue(settings, account_id: int, template: str, count: int) -> None:
    from db.audit import Actor, write_transaction
    from db.models import Letter

    with write_transaction(Actor.system("bench")) as tx:
        Letter.delete().execute()
        Letter.insert_many([{"account": account_id, "template": template, "inputs": '{"sent_on": "2026-06-10"}'}
                            for _ in range(count)]).execute()
        tx.audit("bench.queue", "letter", None)


@benchmark("letters")
def run(options: Options) -> list[Row]:
    from letters.render import subsetter

    rows = [Row("font subsetter", subsetter().split(" (")[0], "harfbuzz")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = _settings(root)
        db, short, long, html, pages = _floor(settings)
        counts = {"reminder": 60 if options.quick else 240, "statement": 20 if options.quick else 80}
        for template, account in (("reminder", short), ("statement", long)):
            label = "one-page letter" if template == "reminder" else f"{pages}-page statement"
            for processes in (1, 2):
                n = counts[template]
                bare = _timed(_bare, lambda i: (settings, html[template], n // processes, False), processes)
                warm = _timed(_bare, lambda i: (settings, html[template], n // processes, True), processes)
                _queue(settings, account, template, n)
                db.close()
                workers = _timed(_worker, lambda i: (settings,), processes)
                db.connect(reuse_if_open=True)
                share = workers / bare
                rows.append(Row(f"{label}, {processes} process(es): bare WeasyPrint loop", f"{bare:.1f}/s"))
                rows.append(Row(f"{label}, {processes} process(es): bare loop, kept warm", f"{warm:.1f}/s"))
                rows.append(Row(f"{label}, {processes} process(es): letter workers", f"{workers:.1f}/s",
                                "≥ 90% of bare", share >= 0.9))
                rows.append(Row(f"{label}, {processes} process(es): workers ÷ bare (÷ warm)",
                                f"{share:.0%} ({workers / warm:.0%})"))
                if template == "reminder" and processes == 2:
                    rows.append(Row("one-page letters/s with 2 workers", f"{workers:.1f}/s", "≥ 25/s", workers >= 25))
        db.close()
    return rows
