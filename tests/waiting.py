"""Waiting for something another process or thread does: poll until it holds."""

import time


def eventually(predicate, timeout: float = 15.0, interval: float = 0.05):
    """The predicate's first true value within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None
