"""Benchmarks: `python -m tests.benchmarks [NAME …] [--quick]` prints a table of figures.

Speed goals live here, never as timing asserts in the test suite. Each benchmark is a
function registered with `@benchmark` returning rows of (figure, value, goal).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

REGISTRY: dict[str, Callable[["Options"], list["Row"]]] = {}


@dataclass
class Options:
    quick: bool = False
    pg_url: str | None = None


@dataclass
class Row:
    figure: str
    value: str
    goal: str = ""
    met: bool | None = None


def benchmark(name: str):
    def register(fn):
        REGISTRY[name] = fn
        return fn
    return register
