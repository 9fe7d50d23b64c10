"""Driving a real terminal for end-to-end tests: tmux sessions, what they show, waiting
for text to appear or go."""

import subprocess
import time


def tmux(*args, check=True):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check)


def screen(session) -> str:
    return tmux("capture-pane", "-p", "-t", session).stdout


def wait_for(session, text, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen(session)
        if text in shown:
            return shown
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; the screen shows:\n{screen(session)}")


def wait_gone(session, text, timeout=45.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text not in screen(session):
            return
        time.sleep(0.2)
    raise AssertionError(f"{text!r} is still shown:\n{screen(session)}")
