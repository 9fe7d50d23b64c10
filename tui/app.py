"""The Textual app an officer works in: one process per SSH session.

The app knows who the officer is (from the launcher), keeps their claim alive, and hosts
the screens. Database work runs in thread workers, each in its own connection context;
nothing touches the database on the event loop.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.worker import WorkerState
from textual.worker_manager import WorkerManager

from config import Settings
from db.database import database, session
from db.models import Officer

log = logging.getLogger("arrears.tui")


class ReportedWorkers(WorkerManager):
    """Textual's worker manager, which also tells the app when a job failed. The app's
    jobs run with `exit_on_error=False` (one failed read must not end the session), and
    Textual then drops the error without a word: the screen sat on "Loading…", or a
    table stayed half filled, and the server log held nothing."""

    def _remove_worker(self, worker) -> None:
        super()._remove_worker(worker)
        if worker.state == WorkerState.ERROR and isinstance(worker.error, Exception):
            self._app.job_failed(worker)


def collect_from_now_on() -> None:
    """End of start-up: what it made is frozen out of the collector's walks, and the
    collector runs again (see tui.entry). Safe to call more than once."""
    import gc

    if not gc.isenabled():
        gc.freeze()
        gc.enable()


GARBAGE_PAUSE = 0.25  # seconds after a screen closes: the officer is reading, not typing
FAILURE_NOTICE_SECONDS = 10.0  # between two "Not done" notices: a database gone away fails every job
UNASKED_JOBS = frozenset({"presence"})
"""Jobs the officer did not ask for (telling the floor what they are doing): a failure is
logged and the next timer tries again; a notice would ask them to retry what they never did."""


class ArrearsApp(App[None]):
    """Arrears for one officer."""

    CSS_PATH = "app.tcss"
    TITLE = "Arrears"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("ctrl+q", "quit_floor", "Quit", priority=True, id="quit"),
        Binding("question_mark", "help", "Help", id="help"),
        Binding("slash", "search", "Search", id="search"),
    ]

    def __init__(self, settings: Settings, officer: Officer, *, clock: Callable[[], dt.datetime] | None = None,
                 background: bool = True):
        super().__init__()
        self._workers = ReportedWorkers(self)
        self._failure_told_at = -FAILURE_NOTICE_SECONDS
        self.settings = settings
        self.officer = officer
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self.background = background
        self.claimed_account: int | None = None
        self.presence: str | None = None
        """This session's token on the floor (None until it has joined, and in tests)."""
        self.last_key_at = self.clock()
        self._garbage_timer = None
        self._refrozen = False
        self._account_screen = None
        """The account screen, composed once and shown again for each account."""
        self.reported: tuple[str, int | None] | None = None
        """What this session last told the floor it is doing (`report_state`)."""
        self.sub_title = f"{officer.name} ({officer.username})"

    def collect_garbage_soon(self) -> None:
        """A closed screen leaves its widgets behind as reference cycles (parent and child
        point at each other) that only Python's cyclic collector frees. Left to itself it
        walks them all in one go whenever enough have piled up, 30-45 ms that landed in the
        middle of opening the next account; collected here, a moment after the screen has
        closed, it falls while the officer reads.

        Each walk also visits every live object made since start-up was frozen, and the
        first account brings the modules its screens and rules need (tens of thousands of
        objects that live as long as the session). After the first collection those are
        frozen too, once: only what is alive then and later dies in a cycle would be kept."""
        import gc

        if not gc.isenabled():
            return  # still starting (tui.entry), or a caller that manages the collector itself
        if self._garbage_timer is not None:
            self._garbage_timer.reset()  # a moment after the latest close
            return
        resting = self.screen

        def collect() -> None:
            self._garbage_timer = None
            gc.collect()
            # Frozen only in a session whose start-up was frozen (tui.entry; not in tests,
            # where it would hold on to other tests' objects), and only while the officer is
            # still where they came back to: a screen open now could never be freed.
            if not self._refrozen and gc.get_freeze_count() and self.screen_stack[-1:] == [resting]:
                self._refrozen = True
                gc.freeze()

        self._garbage_timer = self.set_timer(GARBAGE_PAUSE, collect)

    def get_driver_class(self):
        from textual.drivers.linux_driver import LinuxDriver

        driver = super().get_driver_class()
        if driver is LinuxDriver:
            from tui.session_driver import SessionDriver

            return SessionDriver  # the escape key without Textual's extra wait
        return driver

    @property
    def display_zone(self):
        """The officers' zone, for showing times (`locale.time_zone`)."""
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.locale.time_zone)

    def shown_time(self, at: dt.datetime) -> dt.datetime:
        """A stored (naive UTC) or aware instant in the officers' zone."""
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        return at.astimezone(self.display_zone)

    def on_mount(self) -> None:
        # The collector was held off while starting (tui.entry): let it go once the first
        # screen has had time to draw, whatever that screen is.
        self.set_timer(1.0, collect_from_now_on)
        if self.background:
            from db.database import start_checkpointer
            from db.queue import start_queue_maintenance

            start_checkpointer()
            start_queue_maintenance(self.settings, clock=self.clock)
            # Renew the claim well inside its lease, so a live session never loses it.
            self.set_interval(max(30.0, self.settings.queue.lease_minutes * 60 / 3), self.renew_claim)
            self._join_floor()
            self.set_interval(self.settings.floor.presence_lease_seconds / 3, self._renew_presence)
        self.push_screen(self.home_screen())

    def home_screen(self):
        """Officers land on their queue; team leads and admins on the live floor."""
        if self.officer.role in ("team_lead", "admin"):
            from tui.screens.floor import FloorScreen

            return FloorScreen()
        from tui.screens.queue import QueueScreen

        return QueueScreen()

    # --- command palette -----------------------------------------------------------------

    def get_system_commands(self, screen):
        """Every key of the current screen is also a command, named "screen: action"; the
        screenshot command is left out (it would write files on the server)."""
        from textual.app import SystemCommand

        for command in super().get_system_commands(screen):
            if "screenshot" not in command.title.lower():
                yield command
        target = screen
        name = type(screen).__name__.replace("Screen", "").lower() or "app"
        for binding in getattr(target, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                yield SystemCommand(f"{name}: {binding.description}", f"key {binding.key.split(',')[0]}",
                                    lambda action=binding.action, target=target: target.run_action(action))

    # --- nothing in a session acts on the server or the client's machine ---------------
    # Officers share one service account: these Textual features would run a browser or
    # an editor on the server, write files into the shared home, or copy customer data to
    # the thin client's clipboard. Each is refused and logged.

    def _refuse(self, what: str) -> None:
        log.warning("refused %s in %s's session", what, self.officer.username)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self._refuse("to open a URL")

    def action_suspend_process(self) -> None:
        # Under a forced command there is no shell to resume a stopped process.
        self._refuse("to suspend")

    def suspend(self):
        raise RuntimeError("Arrears never suspends: there is no shell behind an officer's session")

    def copy_to_clipboard(self, text: str) -> None:
        self._refuse("to copy to the clipboard")

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        self._refuse("a screenshot")

    def deliver_text(self, *args, **kwargs) -> None:
        self._refuse("to deliver a file")

    def deliver_binary(self, *args, **kwargs) -> None:
        self._refuse("to deliver a file")

    # --- errors --------------------------------------------------------------------------

    def _handle_exception(self, error: Exception) -> None:
        # Textual would print a traceback with local variables (customer data) on the
        # officer's terminal: write it to the server log instead, and say sorry.
        log.error("unhandled error in the officer's session (%s)", self.officer.username,
                  exc_info=(type(error), error, error.__traceback__))
        self._return_code = 1
        if self._exception is None:
            self._exception = error
            self._exception_event.set()
        self.leave_floor_now()
        self._exit_renderables.append(Text(
            "Arrears hit an unexpected error and closed. Nothing you saved is lost; "
            "the details are in the server log. Please reconnect, and tell your team lead if it happens again."))
        self._close_messages_no_wait()

    def job_failed(self, worker) -> None:
        """A background job raised: the details to the server log, a word to the officer
        (once in a while: a database that has gone away fails every job)."""
        import time

        error = worker.error
        log.error("a background job (%s) failed in the session of %s", worker.group or worker.name,
                  self.officer.username, exc_info=(type(error), error, error.__traceback__))
        if worker.group in UNASKED_JOBS or time.monotonic() - self._failure_told_at < FAILURE_NOTICE_SECONDS:
            return
        self._failure_told_at = time.monotonic()
        self.notify("That did not work: something went wrong reading or saving, and the details are in "
                    "the server log. Try again; if it goes on, tell your team lead.",
                    title="Not done", severity="error", timeout=8, markup=False)

    def ui(self, callback, *args, **kwargs) -> None:
        """From a worker thread: run `callback` on the event loop, unless the app has
        already closed (a session ending while a query was in flight)."""
        try:
            self.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:
            log.debug("app closed before %s could run", getattr(callback, "__name__", callback))

    # --- presence on the floor ----------------------------------------------------------

    async def on_event(self, event) -> None:
        from textual import events

        if isinstance(event, events.Key):
            self.last_key_at = self.clock()  # "away" is judged from the last key pressed
        await super().on_event(event)

    def _join_floor(self) -> None:
        from db.audit import Actor
        from db.presence import begin_session

        def job() -> None:
            with database.connection_context():
                self.presence = begin_session(self.settings, Actor.for_officer(self.officer), self.clock())

        self.run_worker(job, thread=True, group="presence", exit_on_error=False)

    def _renew_presence(self) -> None:
        from db.presence import renew

        token, last_key = self.presence, self.last_key_at
        if token is None:
            return

        def job() -> None:
            with database.connection_context():
                renew(self.settings, token, self.clock(), last_key)

        self.run_worker(job, thread=True, group="presence", exit_on_error=False)

    def report_state(self, state: str, account_id: int | None = None) -> None:
        """Tell the floor what the officer is doing now (queue, account, wrap_up)."""
        from db.audit import Actor
        from db.presence import report_state

        token = self.presence
        if token is None:
            return
        if self.reported == (state, account_id):
            return  # already on the floor as that (every write waits its turn on a busy host)
        self.reported = (state, account_id)

        def job() -> None:
            try:
                with database.connection_context():
                    report_state(self.settings, Actor.for_officer(self.officer), token, state, self.clock(),
                                 account_id=account_id)
            except Exception:
                self.ui(self._not_reported, (state, account_id))  # the next report tries again
                raise

        self.run_worker(job, thread=True, group="presence", exit_on_error=False)

    def _not_reported(self, state: tuple[str, int | None]) -> None:
        if self.reported == state:
            self.reported = None

    def leave_floor_now(self) -> None:
        """Release the claim and log the session out (blocking; on exit and hang-up)."""
        self.release_claim_now()
        token, self.presence = self.presence, None
        if token is None:
            return
        from db.audit import Actor
        from db.presence import end_session

        try:
            with session():
                end_session(self.settings, Actor.for_officer(self.officer), token, self.clock())
        except Exception:
            log.exception("could not log session %s out", token)

    # --- claims --------------------------------------------------------------------------

    def renew_claim(self) -> None:
        if self.claimed_account is not None:
            self._renew(self.claimed_account)

    def _renew(self, account_id: int) -> None:
        from db.queue import renew

        def job() -> None:
            with database.connection_context():
                if not renew(self.settings, self.officer, account_id, self.clock()):
                    self.ui(self.notify, "Your claim on this account has lapsed", severity="warning", markup=False)

        self.run_worker(job, thread=True, group="claim", exit_on_error=False)

    def release_claim_now(self) -> None:
        """Release the current claim (blocking; used on exit and hang-up)."""
        from db.queue import release

        account_id, self.claimed_account = self.claimed_account, None
        if account_id is None:
            return
        try:
            with session():
                release(self.settings, self.officer, account_id, self.clock())
        except Exception:
            log.exception("could not release account %s on exit", account_id)

    # --- actions -------------------------------------------------------------------------

    def action_quit_floor(self) -> None:
        """Release the claim, then quit."""
        self.leave_floor_now()
        self.exit()

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_search(self) -> None:
        from tui.screens.search import SearchScreen

        if not isinstance(self.screen, SearchScreen):
            self.push_screen(SearchScreen())

    def open_account(self, account_id: int, *, claimed: bool = False) -> None:
        """Open an account: claim it (or say who holds it), then show its file."""
        from db.queue import ClaimRefused, claim

        def job() -> None:
            from tui.screens.account import read_account_or_none

            with database.connection_context():
                try:
                    if not claimed:
                        claim(self.settings, self.officer, account_id, self.clock())
                except ClaimRefused as exc:
                    self.ui(self.notify, str(exc), title="Cannot open", severity="warning", markup=False)
                    return
                # Read the file in the same job: the screen opens complete, in one frame.
                loaded = read_account_or_none(self, account_id)
            self.ui(self._show_account, account_id, loaded)

        self.run_worker(job, thread=True, group="open-account", exclusive=True, exit_on_error=False)

    def _show_account(self, account_id: int, loaded: tuple | None = None, *, released: int | None = None) -> None:
        """`released`: the account the job that claimed this one has already released."""
        from tui.screens.account import AccountScreen

        if self.claimed_account not in (None, account_id, released):
            self._release_in_background(self.claimed_account)
        self.claimed_account = account_id
        screen = self._account_screen
        if screen is None or screen in self.screen_stack:
            # The first account, or one opened from above the kept screen (search over an
            # account): a screen of its own, discarded when it closes.
            screen = AccountScreen(account_id, loaded)
            if self._account_screen is None:
                self._account_screen = screen
                self.install_screen(screen, name="account")  # kept when popped
            self.push_screen(screen)
            return
        screen.reopen(account_id, loaded)
        self.push_screen(screen)
        screen.show_first()  # after the push: a draft's form must open above the account

    def _release_in_background(self, account_id: int) -> None:
        from db.queue import release

        def job() -> None:
            with database.connection_context():
                release(self.settings, self.officer, account_id, self.clock())
            self.ui(self._released)

        self.run_worker(job, thread=True, group="claim", exit_on_error=False)

    def _released(self) -> None:
        # The queue the officer went back to (`x`) is read again as it comes back, maybe
        # before the release committed: it then listed the account as still being worked.
        from tui.screens.queue import QueueScreen

        if isinstance(self.screen, QueueScreen):
            self.screen.action_refresh()

    def release_current(self) -> None:
        if self.claimed_account is not None:
            self._release_in_background(self.claimed_account)
            self.claimed_account = None
