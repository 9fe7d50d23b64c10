"""The letter worker: claims queued letters, renders them to PDF and files them, one
letter at a time per process, with time and memory limits.

A render happens in a worker process, never in an officer's session. The PDF is written
to a private temporary name first and moved to `YYYY/MM/<id>.pdf` only inside the
transaction that records it as rendered, and only while this worker's claim is live: a
worker killed mid-render leaves the letter to be claimed again when its lease runs out,
and a rendered letter's file is never replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from db.letter_queue import Claimed, claim_letter, fail_letter, finish_letter, new_token
from letters.render import PdfRenderer, letter_path

log = logging.getLogger("arrears.letters")


class RenderTimeout(BaseException):
    """The render took longer than `letters.render_timeout_seconds`. A BaseException, so
    that no `except Exception` inside a library swallows it and renders on."""


@dataclass
class Tally:
    rendered: int = 0
    failed: int = 0
    retried: int = 0
    lost: int = 0
    pages: int = 0
    render_ms: list[int] = field(default_factory=list)


@contextlib.contextmanager
def time_limit(seconds: float):
    """Stop the code inside after `seconds` of wall-clock time (main thread only)."""
    def expired(signum, frame):
        raise RenderTimeout(f"the render took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    # Repeats every quarter second until cleared, in case a library catches the first.
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.25)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def limit_memory(megabytes: int) -> None:
    """Cap this process's address space, so a pathological letter fails with MemoryError
    instead of starving the server's officers."""
    import resource

    limit = megabytes * 1024 * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


class Worker:
    def __init__(self, settings, *, renderer: PdfRenderer | None = None,
                 report: Callable[[str, int, str], None] | None = None):
        self.settings = settings
        self.renderer = renderer or PdfRenderer(settings)
        self.root = settings.letters_dir()
        self.report = report or (lambda event, letter_id, detail: None)
        self.tally = Tally()
        self.stopping = False
        self._busy_since = 0.0
        self._made: set[Path] = set()

    def stop(self, *_args) -> None:
        """Finish the letter in hand, then stop (SIGTERM, SIGINT)."""
        self.stopping = True

    def run(self, *, once: bool = False, clock: Callable[[], float] = time.monotonic) -> Tally:
        """Render until stopped; with `once`, until nothing is due."""
        while not self.stopping:
            if not self.step():
                if once:
                    break
                deadline = clock() + self.settings.letters.poll_seconds
                while not self.stopping and clock() < deadline:
                    time.sleep(min(0.05, self.settings.letters.poll_seconds))
        return self.tally

    def step(self) -> bool:
        """Claim and render one letter; False when nothing was due."""
        # While letters keep coming, skip the idle look-ahead and sweep abandoned letters
        # only every half minute.
        now = time.monotonic()
        busy = bool(self._busy_since) and now - self._busy_since < 30
        claimed = claim_letter(self.settings, new_token(), busy=busy)
        if claimed is None:
            self._busy_since = 0.0
            return False
        if not busy:
            self._busy_since = now
        self.render_one(claimed)
        return True

    def render_one(self, letter: Claimed) -> None:
        letter_id, token = letter.id, letter.token
        try:
            with time_limit(self.settings.letters.render_timeout_seconds):
                out = self.renderer.render(letter.account_id, letter.template, letter.inputs, letter_id=letter_id)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # WeasyPrint's fatal fetch errors are BaseException
            message = f"{exc.__class__.__name__}: {exc}"
            log.warning("letter %s (%s) failed: %s", letter_id, letter.template, message)
            status = fail_letter(self.settings, letter_id, token, message)
            if status == "failed":
                self.tally.failed += 1
            elif status == "queued":
                self.tally.retried += 1
            else:
                self.tally.lost += 1
            self.report(status or "lost", letter_id, message)
            return
        final = letter_path(self.root, letter_id, letter.requested_at)
        if final.parent not in self._made:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            self._made.add(final.parent)
        temporary = final.with_name(f".{letter_id}.{hashlib.sha1(token.encode()).hexdigest()[:10]}.tmp")
        _write_private(temporary, out.pdf)
        try:
            done = finish_letter(letter_id, token, path=str(final), pages=out.pages, sha256=out.sha256,
                                 render_ms=out.render_ms, version=out.version,
                                 place_file=lambda: os.replace(temporary, final))
        finally:
            temporary.unlink(missing_ok=True)
        if done:
            self.tally.rendered += 1
            self.tally.pages += out.pages
            self.tally.render_ms.append(out.render_ms)
            self.report("rendered", letter_id, f"{out.pages} page(s) in {out.render_ms} ms")
        else:
            self.tally.lost += 1
            self.report("lost", letter_id, "another worker took the letter over")


def worker_process(settings_data: dict, once: bool, events) -> None:
    """The body of one worker process started by `arrears letters worker --processes N`;
    `events` is this worker's own pipe to the parent."""
    from config.settings import Settings
    from db.database import open_from_settings

    settings = Settings.model_validate(settings_data)
    limit_memory(settings.letters.memory_limit_mb)
    db = open_from_settings(settings)
    db.connect(reuse_if_open=True)
    worker = Worker(settings, report=lambda event, letter_id, detail: events.send((os.getpid(), event, letter_id,
                                                                                      detail)))
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    try:
        worker.run(once=once)
    finally:
        with contextlib.suppress(OSError):
            events.send((os.getpid(), "exit", 0, ""))
        events.close()
        db.close()
