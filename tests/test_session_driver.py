"""The session's terminal driver reads keys from a real pseudo-terminal as Textual's does:
the escape key on its own, arrow keys and alt-keys as the sequences they are."""

from __future__ import annotations

import os
import pty
import queue
import threading
import tty

import pytest
from textual import events
from textual.app import App

from tui.session_driver import SessionDriver


class Recording(SessionDriver):
    def __init__(self, app: App, fileno: int):
        super().__init__(app, mouse=False)
        self.fileno = fileno
        self.keys: queue.Queue[str] = queue.Queue()

    def process_message(self, message) -> None:
        if isinstance(message, events.Key):
            self.keys.put(message.key)


@pytest.fixture
async def driver():
    # A driver belongs to a running event loop (Textual's keeps it); this one reports to the
    # test instead, from its own input thread, as in a session.
    leader, follower = pty.openpty()
    tty.setraw(follower)  # as the driver's application mode sets it: every byte at once
    driver = Recording(App(), follower)
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    yield driver, leader
    driver.exit_event.set()
    thread.join(timeout=5)
    assert not thread.is_alive(), "the input thread did not stop when the session ended"
    os.close(leader)
    os.close(follower)


def keys_after(driver: Recording, leader: int, typed: bytes, count: int) -> list[str]:
    os.write(leader, typed)
    return [driver.keys.get(timeout=5) for _ in range(count)]


async def test_a_lone_escape_is_the_escape_key(driver):
    recording, leader = driver
    assert keys_after(recording, leader, b"\x1b", 1) == ["escape"]
    assert recording.keys.empty()


async def test_sequences_are_keys_not_escapes(driver):
    recording, leader = driver
    assert keys_after(recording, leader, b"\x1b[B", 1) == ["down"]
    assert keys_after(recording, leader, b"\x1b[A\x1b[B", 2) == ["up", "down"]
    assert keys_after(recording, leader, b"n", 1) == ["n"]
    # An escape between other keys, then plain text after it.
    assert keys_after(recording, leader, b"a", 1) == ["a"]
    assert keys_after(recording, leader, b"\x1b", 1) == ["escape"]
    assert keys_after(recording, leader, "é".encode(), 1) == ["é"]
    assert recording.keys.empty()


async def test_escape_then_escape(driver):
    recording, leader = driver
    assert keys_after(recording, leader, b"\x1b\x1b", 2) == ["escape", "escape"]


async def test_officers_sessions_use_it(db):
    from config import load_settings
    from db.audit import Actor
    from db.officers import add_officer
    from tui.app import ArrearsApp

    alice = add_officer(Actor("test-admin", role="admin"), "alice", name="Alice", team="Recoveries")
    assert ArrearsApp(load_settings(), alice, background=False).driver_class is SessionDriver
