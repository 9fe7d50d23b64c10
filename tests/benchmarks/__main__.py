"""Run the benchmarks and print their figures."""

from __future__ import annotations

import argparse
import os
import sys
import time

from tests.benchmarks import REGISTRY, Options
from tests.benchmarks import claims, demo_rate, feed, floor, imports, letters, replan, tui  # noqa: F401  (registers)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all): {', '.join(REGISTRY)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--pg", default=os.environ.get("ARREARS_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test"),
                        help="PostgreSQL URL for the PostgreSQL figures ('' to skip)")
    args = parser.parse_args()
    names = args.names or list(REGISTRY)
    unknown = [n for n in names if n not in REGISTRY]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    options = Options(quick=args.quick, pg_url=args.pg or None)
    print(f"{'benchmark':<14} {'figure':<58} {'value':>16}  goal")
    for name in names:
        started = time.perf_counter()
        for row in REGISTRY[name](options):
            mark = "" if row.met is None else (" (met)" if row.met else " (NOT met)")
            print(f"{name:<14} {row.figure:<58} {row.value:>16}  {row.goal}{mark}")
        print(f"{name:<14} {'(benchmark wall time)':<58} {time.perf_counter() - started:>15.1f}s")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
