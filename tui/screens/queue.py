"""The officer's queue: their work in strategy order, one page at a time."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from db.database import database
from db.money import format_money
from tui.screens.kept import KeptScreen
from tui.text import data
from tui.widgets.key_footer import KeyFooter
from tui.widgets.queue_table import QueueTable
from tui.widgets.title_bar import TitleBar

PAGE = 30  # about two screens of rows at 80x24; the next page comes in as the cursor nears the end
OVERLAP = 10
"""Rows read again at the start of the next page. Accounts other officers claim leave the
pages above, and the rest of the queue moves up: a page read from where the last one ended
would miss as many accounts as left. Rows already shown are skipped."""
BUCKETS = [None, "0-30", "31-60", "61-90", "91-180", "180+"]
STATUSES = [None, "ready", "waiting", "callback", "promise", "arrangement"]
QUEUE_COLUMNS = (("Ref", 9), ("Debtor", 18), ("Balance", 10), ("DPD", 3), ("Contact", 7), ("Local", 5),
                 ("Call now", 12), ("Next", 40))
GAP = "  "  # between columns, as a table's cell padding leaves


def queue_line(cells: list[Text]) -> Text:
    """One queue row as one line, its columns at `QUEUE_COLUMNS`' widths (cut with `…`).

    The table has a single column: it draws each cell with a Rich render of its own, and at
    eight cells a row, drawing the queue again after every `escape` cost more than
    everything else that key does."""
    line = Text(no_wrap=True)
    for i, (cell, (_, width)) in enumerate(zip(cells, QUEUE_COLUMNS)):
        if i:
            line.append(GAP)
        piece = cell.copy()
        piece.truncate(width, overflow="ellipsis")
        line.append_text(piece)
        line.append(" " * (width - piece.cell_len))  # unstyled, as a cell's blank was
    return line


QUEUE_WIDTH = sum(width for _, width in QUEUE_COLUMNS) + len(GAP) * (len(QUEUE_COLUMNS) - 1)


class QueueScreen(KeptScreen):
    """Where an officer lands: `n` takes the next account the rules allow."""

    BINDINGS = [
        Binding("n", "next_account", "Next", id="queue.next"),
        Binding("enter", "open_selected", "Open", id="queue.open"),
        Binding("r", "refresh", "Refresh", id="queue.refresh"),
        Binding("b", "cycle_bucket", "Bucket", id="queue.bucket"),
        Binding("s", "cycle_status", "Status", id="queue.status"),
        Binding("v", "approvals", "Approvals", id="queue.approvals"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.bucket_index = 0
        self.status_index = 0
        self.loaded = 0
        self.exhausted = False
        self.fetching = False
        self.generation = 0
        self.cursor_after_reload: tuple[str | None, int] = (None, 0)
        self.status = "Loading your queue…"
        self.shown_status = self.status

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(Text(self.status), id="queue-status", classes="status-line")
        table = QueueTable(id="queue-table", cursor_type="row", zebra_stripes=True)
        # A fixed width: auto-sized columns were sometimes sized from the headers alone (the
        # rows arriving between frames), cutting references and names short.
        table.add_column(queue_line([Text(label) for label, _ in QUEUE_COLUMNS]), width=QUEUE_WIDTH)
        yield table
        yield KeyFooter()

    def on_screen_resume(self) -> None:
        # Sent when the screen is first shown and whenever the officer comes back to it:
        # the rows are re-read, and the cursor stays on the row it was on. The queue's own
        # line comes back at once, not "Finding…" from the `n` that has done its work, nor
        # the rows' count only once they have been read again.
        self._set_status(self.status)
        self._reload(keep_cursor=True)
        self.app.report_state("queue")
        self.app.collect_garbage_soon()

    # --- loading -------------------------------------------------------------------------

    def action_refresh(self) -> None:
        self._reload(keep_cursor=True)

    def _reload(self, keep_cursor: bool = False) -> None:
        """Read the first page again. The rows on screen stay until the new ones replace
        them in the same frame (clearing first drew an empty queue for a frame)."""
        table = self.query_one(DataTable)
        # The account under the cursor, and its row: the cursor goes back to that account
        # (the order may have changed: a claimed account heads its officer's queue), or to
        # the same row if it has left the page.
        if keep_cursor and table.row_count:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
            self.cursor_after_reload = (key, table.cursor_row)
        else:
            self.cursor_after_reload = (None, 0)
        self.generation += 1
        self.fetching = True
        self.loaded = 0
        self.exhausted = False
        self._load(0, self.generation)

    @work(thread=True, group="queue-load", exit_on_error=False)
    def _load(self, offset: int, generation: int) -> None:
        from db.worklist import queue_page

        app = self.app
        start = max(0, offset - OVERLAP)
        with database.connection_context():
            rows = queue_page(app.settings, app.officer, app.clock(), offset=start, limit=offset - start + PAGE,
                              bucket=BUCKETS[self.bucket_index], status=STATUSES[self.status_index])
        app.ui(self._show, rows, offset, generation, start)

    def _show(self, rows, offset: int, generation: int, start: int) -> None:
        if generation != self.generation or offset != self.loaded:
            return  # a refresh started since this page was asked for
        table = self.query_one(DataTable)
        if not offset:
            table.clear()
        locale = self.app.settings.locale.locale
        for row in rows:
            if str(row.account_id) in table.rows:
                continue  # already shown: read again with the overlap, or moved down the order
            call = Text("yes", style="green") if row.callable_now else data(row.reason or "no", "yellow", limit=22)
            nxt = row.next_action if not row.promise else f"{row.next_action}; promise {row.promise}"
            table.add_row(queue_line([
                data(row.reference), data(row.debtor, limit=18), Text(format_money(row.balance_minor, row.currency, locale)),
                Text(str(row.days_past_due) if row.days_past_due is not None else "-"),
                Text(f"{row.last_contact:%d %b}" if row.last_contact else "never"),
                Text(row.local_time), call, data(nxt, limit=40)]), key=str(row.account_id))
        self.loaded = start + len(rows)
        self.exhausted = len(rows) < offset - start + PAGE
        self.fetching = False
        from db.worklist import QUEUE_STATUSES

        bucket = BUCKETS[self.bucket_index] or "all"
        shown = QUEUE_STATUSES.get(STATUSES[self.status_index], "status all")
        status = (f"{table.row_count}{'' if self.exhausted else '+'} accounts · bucket {bucket} · {shown} · "
                  "n: next, enter: open")
        if not table.row_count:
            status = f"Nothing in your queue (bucket {bucket}, {shown}). n: next account, r: refresh, b/s: filters."
        self._set_status(status)
        if not offset:
            key, row = self.cursor_after_reload
            if key is not None and key in table.rows:
                row = table.get_row_index(key)
            if row and table.row_count:
                table.move_cursor(row=min(row, table.row_count - 1), animate=False)
            from tui.app import collect_from_now_on

            self.call_after_refresh(collect_from_now_on)  # start-up is over (see tui.entry)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Page in the next rows as the cursor nears the end, never the whole portfolio.
        if not self.exhausted and not self.fetching and event.cursor_row >= event.data_table.row_count - 5:
            self.fetching = True
            self._load(self.loaded, self.generation)

    # --- actions -------------------------------------------------------------------------

    def action_cycle_bucket(self) -> None:
        self.bucket_index = (self.bucket_index + 1) % len(BUCKETS)
        self._reload()

    def action_cycle_status(self) -> None:
        self.status_index = (self.status_index + 1) % len(STATUSES)
        self._reload()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # The table takes `enter` itself when focused; both paths open the account.
        event.stop()
        self.app.open_account(int(event.row_key.value))

    def action_open_selected(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            self.notify("The queue is empty: press n for the next account")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        self.app.open_account(int(key))

    def action_next_account(self) -> None:
        self._set_status("Finding the next account you may call…", lasting=False)
        self._claim_next(self.app.claimed_account, self.app.presence)

    @work(thread=True, group="claim-next", exclusive=True, exit_on_error=False)
    def _claim_next(self, leaving: int | None, session: str | None) -> None:
        from db.queue import next_for_officer

        from tui.screens.account import read_account_or_none

        app = self.app
        with database.connection_context():
            # One write: the account left released, the next claimed, its opening audited,
            # the floor told.
            result = next_for_officer(app.settings, app.officer, app.clock(), leaving=leaving, session=session)
            # Read the file in the same job: the account opens complete, in one frame.
            loaded = read_account_or_none(app, result.account_id, audited=True) if result.claimed else None
        if result.claimed:
            app.ui(self._claimed, result.account_id, loaded, leaving, session)
        else:
            app.ui(self._no_account, result.reason)

    def _claimed(self, account_id: int, loaded, leaving: int | None, session: str | None) -> None:
        # The queue's status line is left as it is: changed under the account screen, it
        # would repaint that whole screen once more. It comes back when the queue does.
        if session is not None and session == self.app.presence:
            self.app.reported = ("account", account_id)  # the claim told the floor
        self.app._show_account(account_id, loaded, released=leaving)

    def _set_status(self, text: str, lasting: bool = True) -> None:
        """Show `text` on the status line; `lasting`: it describes the queue (kept to come
        back to after a passing message)."""
        if lasting:
            self.status = text
        if text != self.shown_status:
            # Only a change: the same line comes back after nearly every `escape`. The line's
            # size is fixed (`.status-line`), so the screen is not laid out again for it.
            self.shown_status = text
            self.query_one("#queue-status", Static).update(Text(text), layout=False)

    def _no_account(self, reason: str) -> None:
        self._set_status(reason)
        self.notify(reason, title="No account", severity="warning", markup=False)

    def check_action(self, action: str, parameters) -> bool | None:
        # Approvals are for team leads and admins: officers do not see the key.
        if action == "approvals":
            return self.app.officer.role in ("team_lead", "admin")
        return True

    def action_approvals(self) -> None:
        from tui.screens.approvals import ApprovalsScreen

        if self.app.officer.role not in ("team_lead", "admin"):
            self.notify("Approvals are for team leads", severity="warning")
            return
        self.app.push_screen(ApprovalsScreen())
