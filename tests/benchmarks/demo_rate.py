"""Demo floor generation rate on SQLite (goal: 100,000 accounts in under 60 s)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks import Options, Row, benchmark


@benchmark("demo")
def demo_rate(options: Options) -> list[Row]:
    accounts = 10_000 if options.quick else 100_000
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tui.cli", "--db", url, "demo", "--accounts", str(accounts),
                        "--seed", "7"], check=True, capture_output=True)
        seconds = time.perf_counter() - started
    rows = [Row(f"arrears demo --accounts {accounts:,} (SQLite, whole command)", f"{seconds:.1f} s",
                "< 60 s for 100,000", seconds < 60 if accounts == 100_000 else None),
            Row("demo accounts per second", f"{accounts / seconds:,.0f}")]
    return rows
