"""The plan calculator keeps up with typing: the time from a keystroke in the calculator
to the re-planned schedule on screen (goal: under 50 ms), measured with Pilot at 80x24 on
a small SQLite floor, and the pure calculation alone for long and amortised schedules."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from tests.benchmarks import Options, Row, benchmark


def _calculation_ms(request, repeat: int) -> float:
    from db.plans import plan

    started = time.perf_counter()
    for _ in range(repeat):
        plan(request)
    return (time.perf_counter() - started) * 1000 / repeat


async def _keystrokes(url: str, presses: int) -> list[float]:
    from config import load_settings
    from db.audit import Actor
    from db.database import close_database, open_database
    from db.demo import generate
    from db.migrations import upgrade
    from db.models import Officer
    from tui.app import ArrearsApp

    db = open_database(url)
    with db.connection_context():
        upgrade()
    db.connect(reuse_if_open=True)
    settings = load_settings()
    generate(Actor("bench", role="admin"), accounts=200, seed=3, as_of=dt.date(2026, 6, 10), settings=settings)
    noon = dt.datetime(2026, 6, 10, 16, 0, tzinfo=dt.UTC)
    app = ArrearsApp(settings, Officer.get(Officer.username == "alice"), clock=lambda: noon, background=False)
    timings = []
    async with app.run_test(size=(80, 24)) as pilot:
        for key in ("", "n", "p"):
            if key:
                await pilot.press(key)
            for _ in range(3):
                await app.workers.wait_for_complete()
                await pilot.pause()
        screen = app.screen
        screen.query_one("#plan-count").focus()
        handler = []
        original = screen.replan

        def timed_replan() -> None:
            started = time.perf_counter()
            original()
            handler.append((time.perf_counter() - started) * 1000)

        screen.replan = timed_replan
        for index in range(presses):
            # Alternate between 12 and 120 installments: the schedule table is rebuilt each time.
            key = "backspace" if index % 2 else "0"
            started = time.perf_counter()
            await pilot.press(key)
            await pilot.pause()
            timings.append((time.perf_counter() - started) * 1000)
        # Pilot's own cost: a key that changes nothing (the cursor is already at the end).
        baseline = []
        for _ in range(presses):
            started = time.perf_counter()
            await pilot.press("end")
            await pilot.pause()
            baseline.append((time.perf_counter() - started) * 1000)
        app.release_claim_now()
    close_database()
    return timings, baseline, handler


@benchmark("replan")
def replan(options: Options) -> list[Row]:
    from db.plans import PlanRequest

    rows = []
    for label, request in (
        ("12 monthly", PlanRequest(1_000_00, dt.date(2026, 1, 31), "monthly", count=12)),
        ("600 weekly", PlanRequest(1_000_000_00, dt.date(2026, 1, 31), "weekly", count=600)),
        ("120 monthly at 29.9% APR", PlanRequest(25_000_00, dt.date(2026, 1, 31), "monthly", count=120,
                                                 apr_percent=Decimal("29.9"))),
    ):
        ms = _calculation_ms(request, 20 if options.quick else 200)
        rows.append(Row(f"calculate a schedule: {label}", f"{ms:.2f} ms", "< 50 ms", ms < 50))
    with tempfile.TemporaryDirectory() as tmp:
        timings, baseline, handler = asyncio.run(_keystrokes(f"sqlite:///{Path(tmp) / 'bench.db'}", 20 if options.quick else 100))
    def p95(values):
        return statistics.quantiles(values, n=20)[-1]

    rows.append(Row("re-plan on a keystroke, in the app (schedule, table, checks): p50",
                    f"{statistics.median(handler):.1f} ms", "< 50 ms", statistics.median(handler) < 50))
    rows.append(Row("re-plan on a keystroke, in the app: p95", f"{p95(handler):.1f} ms", "< 50 ms",
                    p95(handler) < 50))
    rows.append(Row("keystroke to settled screen via Pilot: p50", f"{statistics.median(timings):.1f} ms"))
    rows.append(Row("a key that changes nothing via Pilot (its own cost): p50", f"{statistics.median(baseline):.1f} ms"))
    return rows
