"""The live floor: where team leads land and what they watch all shift.

Four panels: officers (state, account, time in state, today's figures), the team's queue
by days-past-due bucket, today's team figures against the last 14 days, and approvals
waiting. Nothing polls the panels: the change feed says which actions other sessions
committed, `db.floor.panels_for` says which panels they touch, and only those reload, each
in its own thread worker (a burst of changes becomes one reload; the queue summary, which
counts the whole team, no more often than `db.floor.queue_interval` allows). Two slow timers keep
what moves with the clock honest: time in state and "away" (every 30 s), and the day's
turn for the 14-day trend (every minute).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Label, Sparkline, Static

from db.database import database
from db.money import format_money, format_money_within
from tui.screens.approvals import COLUMNS as APPROVAL_COLUMNS
from tui.text import data
from tui.widgets.key_footer import KeyFooter
from tui.widgets.title_bar import TitleBar

OFFICER_COLUMNS = (("Officer", 8), ("State", 10), ("Account", 9), ("Min", 3), ("Calls", 5), ("RPC", 3),
                   ("Prom", 4), ("Promised", 9), ("Collected", 9))
QUEUE_COLUMNS = (("Bucket", 6), ("Callable", 8), ("Worked", 6), ("Blocked", 7), ("Total", 7))
TREND = (("calls", "Calls"), ("contacts", "RPC"), ("promises", "Prom"), ("collected_minor", "Collected"))
STATE_SHOWN = {"idle in queue": "in queue"}
LEGAL_SHORT = {"letter_before_claim": "LBC", "claim_issued": "claim", "enforcement": "enforce"}
"""Legal stages as the floor's narrow queue panel names them."""


class FloorScreen(Screen):
    """A team lead's floor (an admin's: every team, or one with `m`)."""

    CSS_PATH = "floor.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    BINDINGS = [
        Binding("tab", "app.focus_next", "Panel", id="floor.panel"),
        Binding("shift+tab", "app.focus_previous", "Panel back", show=False, id="floor.panel_back"),
        Binding("enter", "open", "Open", id="floor.open"),
        Binding("a", "approve", "Approve", id="floor.approve"),
        Binding("d", "refuse", "Refuse", id="floor.refuse"),
        Binding("v", "approvals", "Approvals", id="floor.approvals"),
        Binding("g", "reassign", "Reassign", id="floor.reassign"),
        Binding("t", "strategy", "Strategy", id="floor.strategy"),
        Binding("w", "work_queue", "My queue", id="floor.queue"),
        Binding("m", "cycle_team", "Team", id="floor.team"),
        Binding("r", "refresh", "Refresh", id="floor.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.team: str | None = None
        """Admins: the team shown (None: every team). Team leads always see their own."""
        self.teams: list[str] = []
        self.feed = None
        self.officers = None
        self.queue = None
        self.approvals = []
        self.trend_day = None
        self.trend = []
        self.last_queue_load = 0.0
        self.queue_wait = 2.0
        """Seconds between queue reloads (`db.floor.queue_interval` of the last one's cost)."""
        self.queue_timer = None
        self.loaded_at = None

    def help_notes(self) -> Text:
        """What each figure means, under the keys in the help screen."""
        from db.figures import KPI_DEFINITIONS

        notes = Text("\nWhat the figures mean\n", style="bold")
        for name, meaning in KPI_DEFINITIONS:
            notes.append(f"{name:<10}", "bold")
            notes.append(meaning + "\n")
        notes.append("Min", "bold")
        notes.append("       minutes in the current state; red past floor.time_in_state_limit_minutes\n")
        notes.append("Away", "bold")
        notes.append("      no key pressed for floor.away_minutes\n")
        return notes

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(Text("Loading the floor…"), id="floor-status", classes="status-line")
        with Vertical(id="floor-officers-panel", classes="floor-panel"):
            yield Label("Officers today", classes="panel-title")
            yield DataTable(id="floor-officers", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="floor-middle"):
            with Vertical(id="floor-queue-panel", classes="floor-panel"):
                yield Label("Queue by days past due", classes="panel-title")
                yield DataTable(id="floor-queue", cursor_type="row")
                yield Static(id="floor-queue-due")
            with Vertical(id="floor-trend-panel", classes="floor-panel"):
                yield Label("Team today · last 14 days", classes="panel-title")
                for name, label in TREND:
                    with Horizontal(classes="trend-row"):
                        yield Static(Text(label), id=f"trend-{name}-value", classes="trend-value")
                        yield Sparkline([], id=f"trend-{name}", classes="trend-line")
        with Vertical(id="floor-approvals-panel", classes="floor-panel"):
            yield Label("Approvals waiting", id="floor-approvals-title", classes="panel-title")
            yield DataTable(id="floor-approvals", cursor_type="row", zebra_stripes=True)
        yield KeyFooter()

    def on_mount(self) -> None:
        for table_id, columns in (("#floor-officers", OFFICER_COLUMNS), ("#floor-queue", QUEUE_COLUMNS),
                                  ("#floor-approvals", APPROVAL_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for label, width in columns:
                table.add_column(Text(label), width=width, key=label.lower())
        self.query_one("#floor-officers", DataTable).focus()
        self._start_feed()
        self.action_refresh()
        # What changes with the clock alone: time in state, away, the day's turn.
        self.set_interval(30, lambda: self.reload("officers"))
        self.set_interval(60, self._check_day)

    def on_screen_resume(self) -> None:
        self.app.report_state("queue")

    def on_unmount(self) -> None:
        feed, self.feed = self.feed, None
        if feed is not None:
            feed.stop(wait=False)

    # --- live updates --------------------------------------------------------------------

    def _start_feed(self) -> None:
        from db.feed import Feed
        from db.floor import ALL_ACTIONS

        settings = self.app.settings
        self.feed = Feed(database.obj, poll_seconds=settings.floor.poll_ms / 1000)
        self.feed.subscribe(ALL_ACTIONS, lambda change: self.app.ui(self._changed, change), debounce=0.1)
        self._start_watching()

    @work(thread=True, group="floor-feed", exit_on_error=False)
    def _start_watching(self) -> None:
        # Starting reads the newest audit ids: a database read, so off the event loop.
        if self.feed is not None:
            self.feed.start()

    def _changed(self, change) -> None:
        from db.floor import panels_for

        for panel in panels_for(change):
            self.reload(panel)

    def reload(self, panel: str) -> None:
        """Reload one panel in a worker; the queue summary at most every `queue_wait` s."""
        if panel == "queue":
            wait = self.last_queue_load + self.queue_wait - time.monotonic()
            if wait > 0:
                if self.queue_timer is None:
                    self.queue_timer = self.set_timer(wait, self._queue_due)
                return
            self.last_queue_load = time.monotonic()
        self._load(panel)

    def _queue_due(self) -> None:
        self.queue_timer = None
        self.reload("queue")

    @work(thread=True, group="floor-load", exit_on_error=False)
    def _load(self, panel: str) -> None:
        from db.audit import Actor
        from db.floor import load_panel

        from db.floor import queue_interval

        app = self.app
        actor = Actor.for_officer(app.officer)
        started = time.monotonic()
        with database.connection_context():
            result = load_panel(app.settings, actor, panel, app.clock(), team=self.team)
        if panel == "queue":
            self.queue_wait = queue_interval(time.monotonic() - started)
            if panel == "officers" and app.officer.role == "admin" and not self.teams:
                from db.models import Team

                self.teams = [t.name for t in Team.select(Team.name).order_by(Team.name)]
        app.ui(self._show, panel, result)

    def _show(self, panel: str, result) -> None:
        getattr(self, f"_show_{panel}")(result)
        self.loaded_at = self.app.clock()
        self._status()

    # --- panels --------------------------------------------------------------------------

    def _refill(self, table_id: str, rows: list[tuple[str, list]]) -> None:
        """Replace a panel's rows (key, cells), keeping the lead's cursor where it was."""
        table = self.query_one(f"#{table_id}", DataTable)
        keep = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))

    def _show_officers(self, panel) -> None:
        self.officers = panel
        locale = self.app.settings.locale.locale
        currency = self.app.settings.locale.currency
        widths = dict(OFFICER_COLUMNS)
        money = lambda minor, column: Text(format_money_within(minor, widths[column], currency, locale),  # noqa: E731
                                           justify="right")
        count = lambda n: Text(str(n), justify="right")  # noqa: E731
        rows = []
        for row in panel.rows:
            state, figures = row.state, row.figures
            alert = "bold red" if state.over_limit else ""
            rows.append((state.username, [
                data(state.username, limit=8), Text(STATE_SHOWN.get(state.state, state.state), style=alert),
                data(state.account or "-"), Text(str(state.minutes) if state.since else "-", style=alert),
                count(figures.calls), count(figures.contacts), count(figures.promises),
                money(figures.promised_minor, "Promised"), money(figures.collected_minor, "Collected")]))
        self._refill("floor-officers", rows)
        self._show_trend_values()

    def _show_queue(self, summary) -> None:
        self.queue = summary
        totals, rows = [0, 0, 0, 0], []
        for label, counts in summary.buckets.items():
            values = (counts.callable_now, counts.being_worked, counts.blocked, counts.total)
            totals = [t + v for t, v in zip(totals, values)]
            rows.append((label, [Text(label), *(Text(f"{v:,}", justify="right") for v in values)]))
        rows.append(("all", [Text("All", style="bold"), *(Text(f"{v:,}", justify="right", style="bold")
                                                           for v in totals)]))
        self._refill("floor-queue", rows)
        due = Text(f"Callbacks ≤1h {summary.callbacks_next_hour:,} · promises due {summary.promises_due_today:,} · "
                   f"broken {summary.broken_today:,}")
        stages = [s for s in self.app.settings.legal.stages if summary.legal.get(s)]
        due.append("\nLegal: " + (" · ".join(f"{LEGAL_SHORT.get(s, s)} {summary.legal[s]:,}" for s in stages)
                                   if stages else "no open cases"))
        self.query_one("#floor-queue-due", Static).update(due)

    def _show_approvals(self, rows) -> None:
        from tui.screens.approvals import approval_cells

        self.approvals = rows
        self._refill("floor-approvals", [(str(row.id), approval_cells(self.app, row)) for row in rows])
        self.query_one("#floor-approvals-title", Label).update(
            f"Approvals waiting: {len(rows)}" + (" · a approve · d refuse · enter open" if rows else ""))

    def _show_trend(self, series) -> None:
        self.trend = series
        self._show_trend_values()

    def _show_trend_values(self) -> None:
        if self.officers is None:
            return
        today = self.officers.team
        locale = self.app.settings.locale.locale
        currency = self.app.settings.locale.currency
        for name, label in TREND:
            value = getattr(today, name)
            shown = format_money(value, currency, locale) if name.endswith("_minor") else f"{value:,}"
            self.query_one(f"#trend-{name}-value", Static).update(Text(f"{label:<9}{shown:>10}"))
            self.query_one(f"#trend-{name}", Sparkline).data = [getattr(f, name) for _d, f in self.trend] + [value]

    def _status(self, doing: str = "") -> None:
        who = self.team or ("every team" if self.app.officer.role == "admin" else None)
        if who is None:
            who = self.officers.rows[0].state.team if self.officers and self.officers.rows else "your team"
        present = sum(1 for r in self.officers.rows if r.state.state != "logged out") if self.officers else 0
        total = len(self.officers.rows) if self.officers else 0
        when = self.app.shown_time(self.loaded_at) if self.loaded_at else None
        line = Text()
        line.append_text(data(who, limit=20))
        strategy = self.officers.strategy if self.officers else None
        line.append((f" · {strategy}" if strategy else "") + f" · {present}/{total} on the floor · "
                    f"{len(self.approvals)} approval{'' if len(self.approvals) == 1 else 's'} waiting" + (f" · {doing}" if doing else "")
                    + (f" · live {when:%H:%M:%S}" if when and not doing else ""))
        self.query_one("#floor-status", Static).update(line)

    def _check_day(self) -> None:
        from db.promises import floor_today

        if floor_today(self.app.settings, self.app.clock()) != self.trend_day:
            self._reload_trend()

    def _reload_trend(self) -> None:
        from db.promises import floor_today

        self.trend_day = floor_today(self.app.settings, self.app.clock())
        self._load("trend")

    # --- actions -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self.last_queue_load = 0.0
        for panel in ("officers", "queue", "approvals"):
            self.reload(panel)
        self._reload_trend()

    def _focused_table(self) -> str | None:
        focused = self.focused
        return focused.id if isinstance(focused, DataTable) else None

    def _current_key(self, table_id: str) -> str | None:
        table = self.query_one(f"#{table_id}", DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # A focused table takes `enter` itself: open what its row is.
        event.stop()
        self._open(event.data_table.id)

    def action_open(self) -> None:
        self._open(self._focused_table() or "floor-officers")

    def _open(self, table_id: str | None) -> None:
        if table_id == "floor-officers":
            username = self._current_key("floor-officers")
            if username:
                from tui.screens.officer_day import OfficerDayScreen

                self.app.push_screen(OfficerDayScreen(username))
        elif table_id == "floor-approvals":
            self.action_approvals()
        elif table_id == "floor-queue":
            self.action_reassign()

    def _approval(self):
        key = self._current_key("floor-approvals")
        return next((row for row in self.approvals if str(row.id) == key), None)

    def _decide(self, approve: bool) -> None:
        from tui.screens.approvals import ReasonForm

        row = self._approval()
        if row is None:
            self.notify("Nothing is waiting for your approval", markup=False)
            return
        self.app.push_screen(ReasonForm(row, approve=approve), lambda done: done and self.reload("approvals"))

    def action_approve(self) -> None:
        self._decide(True)

    def action_refuse(self) -> None:
        self._decide(False)

    def action_approvals(self) -> None:
        from tui.screens.approvals import ApprovalsScreen

        self.app.push_screen(ApprovalsScreen())

    def action_reassign(self) -> None:
        from tui.screens.floor_forms import ReassignForm

        bucket, owner = None, None
        if self._focused_table() == "floor-queue":
            key = self._current_key("floor-queue")
            bucket = key if key not in (None, "all") else None
        elif self._focused_table() == "floor-officers":
            owner = self._current_key("floor-officers")
        self.app.push_screen(ReassignForm(bucket=bucket, owner=owner, team=self.team),
                             lambda done: done and self.action_refresh())

    def action_strategy(self) -> None:
        from tui.screens.floor_forms import StrategyForm

        if self.app.officer.role == "admin" and self.team is None:
            self.notify("Choose a team first (m): a strategy is set per team", severity="warning", markup=False)
            return
        current = self.officers.strategy if self.officers else None
        self.app.push_screen(StrategyForm(team=self.team, current=current),
                             lambda done: done and self._rescore(self.team))

    @work(thread=True, group="floor-rescore", exclusive=True, exit_on_error=False)
    def _rescore(self, team: str | None) -> None:
        """Re-score the team's accounts with the new strategy, a batch at a time, showing
        how far it has got; officers keep claiming meanwhile."""
        from db.assignments import rescore_team
        from db.audit import Actor

        app = self.app
        progress = lambda done, total: app.ui(self._status, f"re-scoring {done:,}/{total:,}")  # noqa: E731
        with database.connection_context():
            done = rescore_team(app.settings, Actor.for_officer(app.officer), team, app.clock(), progress=progress)
        app.ui(self.notify, f"The queue follows the new strategy: {done:,} accounts re-scored", title="Strategy",
               markup=False)
        app.ui(self.action_refresh)

    def action_work_queue(self) -> None:
        from tui.screens.queue import QueueScreen

        self.app.push_screen(QueueScreen())

    def action_cycle_team(self) -> None:
        if self.app.officer.role != "admin":
            return
        choices = [None, *self.teams]
        self.team = choices[(choices.index(self.team) + 1) % len(choices)] if self.team in choices else None
        self.action_refresh()

    def check_action(self, action: str, parameters) -> bool | None:
        if action == "cycle_team":
            return self.app.officer.role == "admin"
        if action == "work_queue":
            return self.app.officer.team_id is not None
        return True
