"""The account screen: the whole customer file, and where calls, notes, callbacks and flags
are logged."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from db.database import database
from db.money import format_money
from tui.screens.kept import KeptScreen
from tui.text import clean, data
from tui.widgets.key_footer import KeyFooter
from tui.widgets.title_bar import TitleBar


PHONE_COLUMNS = (("Number", 15), ("Kind", 6), ("Status", 12), ("Call now?", 36))
HISTORY_COLUMNS = (("When (UTC)", 12), ("What", 12), ("Outcome", 15), ("Officer", 8), ("Note", 22))


def read_account(app, account_id: int, *, first: bool = True, audited: bool = False) -> tuple:
    """(file, draft kinds) of an account, read in a worker thread inside its connection
    context. The first read of an opening is audited (it shows personal data; `audited`:
    the job's claim already wrote that) and looks for drafts a dropped session left."""
    from db.audit import Actor, write_transaction
    from db.drafts import draft_kinds
    from db.worklist import account_file

    actor = Actor.for_officer(app.officer)
    file = account_file(app.settings, actor, account_id, app.clock())
    if not first:
        return file, []
    drafts = draft_kinds(app.officer.id, account_id)
    if not audited:
        with write_transaction(actor) as tx:
            tx.audit("account.view", "account", account_id, account_id=account_id)
    return file, drafts


def read_account_or_none(app, account_id: int, *, audited: bool = False) -> tuple | None:
    """`read_account` for the job that has just claimed the account: None if the read
    failed (logged to the server log); the screen then tries the read again itself."""
    try:
        return read_account(app, account_id, audited=audited)
    except Exception:
        import logging

        logging.getLogger("arrears.tui").exception("reading account %s with its claim", account_id)
        return None


class AccountScreen(KeptScreen):
    """One claimed account. `escape` goes back to the queue (keeping the claim until the
    next account), `x` releases it."""

    BINDINGS = [
        Binding("c", "log_call", "Log call", id="account.call"),
        Binding("a", "add_note", "Note", id="account.note"),
        Binding("b", "callback", "Callback", id="account.callback"),
        Binding("f", "flag", "Flag", id="account.flag"),
        Binding("p", "plan", "Plan", id="account.plan"),
        Binding("dollar_sign", "payment", "Payment", id="account.payment"),
        Binding("w", "promise", "Promise", id="account.promise"),
        Binding("s", "settle", "Settle/write off", id="account.settle"),
        Binding("m", "phone", "Mark phone", id="account.phone"),
        Binding("l", "letter", "Letter", id="account.letter"),
        Binding("i", "identity", "Identity", id="account.identity"),
        Binding("o", "override", "Override", id="account.override"),
        Binding("e", "legal", "Legal", id="account.legal"),
        Binding("y", "party", "Party", id="account.party"),
        Binding("x", "release", "Release", id="account.release"),
        Binding("escape", "back", "Queue", id="account.back"),
        Binding("h", "history_filter", "History filter", id="account.history"),
        Binding("r", "reload", "Reload", show=False, id="account.reload"),
    ]

    def __init__(self, account_id: int, loaded: tuple | None = None) -> None:
        """`loaded`: the file and drafts from `read_account` when the job that claimed the
        account has already read them (the screen then opens complete, in one frame)."""
        super().__init__()
        self._forget(account_id, loaded)

    def _forget(self, account_id: int, loaded: tuple | None) -> None:
        """Start over on `account_id`: nothing of the previous account is kept."""
        self.account_id = account_id
        self._loaded = loaded
        self.file = None
        self.history_filter = 0
        self.history_loaded = 0
        self.history_done = True
        self.history_fetching = False
        self._pending_form: tuple[str, str] | None = None

    def reopen(self, account_id: int, loaded: tuple | None) -> None:
        """Show another account on this screen, composed once per session (`ArrearsApp`
        keeps it): building the screen's widgets again for every account cost about as
        much as reading the account. Called while the screen is off the stack, before it
        is pushed again; `show_first` fills it in after the push."""
        self.workers.cancel_node(self)  # what they read belongs to the previous account
        self._forget(account_id, loaded)
        self.query_one("#account-header", Static).update(Text("Loading the account…"))
        self.query_one("#history-title", Static).update(Text("Contact history (newest first)", style="bold"))
        for table in self.query(DataTable):
            table.clear(columns=True)
        for panel in ("#money", "#addresses"):
            self.query_one(panel, Static).update("")
        self.query_one("#account-panels", VerticalScroll).scroll_home(animate=False, immediate=True)
        # The focus a new screen would have (the first widget that takes it), moved only if
        # the officer moved it: a focus change restyles the widgets it passes through.
        first = next((w for w in self.query("*") if w.focusable), None)
        if first is not None and self.focused is not first:
            self.set_focus(first)

    def show_first(self) -> None:
        """The account's file, from the job that claimed it or from a read of its own."""
        if self._loaded is not None:
            file, drafts = self._loaded
            self._loaded = None
            self._opened(self.account_id, file, drafts)
        else:
            self.action_reload()

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield Static(Text("Loading the account…"), id="account-header")
        with VerticalScroll(id="account-panels"):
            yield Static(Text("Phones", style="bold"), classes="panel-title")
            yield DataTable(id="phones", cursor_type="row", show_cursor=False)
            yield Static(Text("Contact history (newest first)", style="bold"), classes="panel-title",
                         id="history-title")
            yield DataTable(id="history", cursor_type="row")
            yield Static(Text("Promises, plan, payments, letters", style="bold"), classes="panel-title")
            yield Static(id="money")
            yield Static(Text("Addresses", style="bold"), classes="panel-title")
            yield Static(id="addresses")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.show_first()

    def action_reload(self) -> None:
        self._load()

    @work(thread=True, group="account-load", exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        app = self.app
        account_id, first = self.account_id, self.file is None
        with database.connection_context():
            file, drafts = read_account(app, account_id, first=first)
        if first:
            app.ui(self._opened, account_id, file, drafts)
        else:
            app.ui(self._show_current, account_id, file)

    def _show_current(self, account_id: int, file) -> None:
        if account_id == self.account_id:  # not a read for the account shown before
            self._show(file)

    def _opened(self, account_id: int, file, drafts: list[str]) -> None:
        if account_id != self.account_id:
            return  # read for the account this screen showed before
        self._show(file)
        self.app.report_state("account", self.account_id)
        if drafts:
            self._resume_drafts(drafts)

    def _show_history(self, which: int, rows, offset: int = 0, account_id: int | None = None) -> None:
        from db.worklist import HISTORY_FILTERS, HISTORY_PAGE

        if which != self.history_filter or account_id not in (None, self.account_id):
            return  # the officer has moved on to another filter, or another account
        if rows is None:
            self._load_history(which, 0)
            return
        history = self.query_one("#history", DataTable)
        self.history_fetching = False
        self.history_done = len(rows) < HISTORY_PAGE
        if offset:
            if offset != self.history_loaded:
                return
            for when, kind, outcome, officer, note in rows:
                history.add_row(Text(f"{when:%d %b %H:%M}"), Text(kind), data(outcome), data(officer),
                                data(note, limit=22))
            self.history_loaded += len(rows)
            return
        self.history_loaded = len(rows)
        names = ["all", *HISTORY_FILTERS]
        title = f"Contact history (newest first): {names[which]}" + ("" if which else " · h: filter")
        self.query_one("#history-title", Static).update(Text(title, style="bold"))
        history.clear(columns=True)
        for label, width in HISTORY_COLUMNS:
            history.add_column(Text(label), width=width)
        for when, kind, outcome, officer, note in rows:
            history.add_row(Text(f"{when:%d %b %H:%M}"), Text(kind), data(outcome), data(officer),
                            data(note, limit=22))
        if not rows:
            history.add_row(Text(""), Text(f"no {names[which]}"), Text(""), Text(""), Text(""))

    @work(thread=True, group="account-history", exclusive=True, exit_on_error=False)
    def _load_history(self, which: int, offset: int) -> None:
        from db.audit import Actor
        from db.worklist import HISTORY_FILTERS, history_of

        account_id = self.account_id
        kinds = list(HISTORY_FILTERS.values())[which - 1] if which else None
        with database.connection_context():
            rows = history_of(Actor.for_officer(self.app.officer), account_id, kinds, offset=offset)
        self.app.ui(self._show_history, which, rows, offset, account_id)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Page the history in as the cursor nears the end: a long history is never read whole.
        if (event.data_table.id == "history" and not self.history_done and not self.history_fetching
                and event.cursor_row >= self.history_loaded - 5):
            self.history_fetching = True
            self._load_history(self.history_filter, self.history_loaded)

    def action_history_filter(self) -> None:
        from db.worklist import HISTORY_FILTERS

        self.history_filter = (self.history_filter + 1) % (len(HISTORY_FILTERS) + 1)
        if self.file is not None:
            self._show_history(self.history_filter, self.file.history if self.history_filter == 0 else None)

    def _resume_drafts(self, kinds: list[str]) -> None:
        # A session dropped while this officer was typing: put them back where they were.
        if "note" in kinds:
            self.action_add_note()
        elif "call" in kinds:
            self.action_log_call()

    def _show(self, f) -> None:
        first = self.file is None
        self.file = f
        if first and self._pending_form is not None:
            # A form key pressed while the file was loading opens it now, not never.
            self.call_after_refresh(self._open_form, *self._pending_form)
            self._pending_form = None
        locale = self.app.settings.locale.locale
        money = lambda minor: format_money(minor, f.currency, locale)  # noqa: E731
        header = Text()
        header.append_text(data(f.debtor, "bold"))
        header.append(f"  {f.reference}  ")
        header.append_text(data(f"{f.client} {f.client_reference}", "dim"))
        header.append("\nBalance ")
        header.append(money(f.balance_minor), "bold")
        parts = [f"{k} {money(v)}" for k, v in f.buckets.items() if v]
        if parts:
            header.append(f" ({', '.join(parts)})")
        header.append(f"  DPD {f.days_past_due if f.days_past_due is not None else '-'}  {f.status}  {f.jurisdiction}")
        header.append(f"\nDebtor's time {f.local_time} ({f.time_zone})  ")
        if f.callable_now:
            header.append("may call now", "green")
        else:
            header.append_text(data(f.why_not, "yellow", limit=120))
        if f.flags:
            header.append("\nHOLD: " + ", ".join(f.flags).upper(), "bold reverse red")
        self.query_one("#account-header", Static).update(header)

        phones = self.query_one("#phones", DataTable)
        # Fixed widths that fit 80 columns: auto-sized columns were sized from the headers
        # alone when rebuilt between frames, cutting numbers and outcomes short.
        phones.clear(columns=True)
        for label, width in PHONE_COLUMNS:
            phones.add_column(Text(label), width=width)
        for line in f.phones:
            phones.add_row(data(line.number), Text(line.kind), Text(line.status.replace("_", " ")),
                           Text("yes", "green") if line.allowed else data(line.why, "yellow", limit=36),
                           key=str(line.id))
        self._show_history(self.history_filter, f.history if self.history_filter == 0 else None)
        lines = Text()
        if f.legal:
            lines.append_text(data(f.legal, "bold magenta"))
            lines.append("\n")
        for party in f.parties:
            lines.append_text(data(party, "bold", limit=150))
            lines.append("\n")
        if f.linked:
            lines.append("Same debtor: ", "bold")
            lines.append_text(data("; ".join(f.linked), limit=200))
            lines.append("\n")
        if f.plan:
            lines.append(f.plan + "\n", "bold")
        for due, amount, paid, status in f.promises[:5]:
            lines.append(f"Promise {money(amount)} due {due:%d %b %Y}: {status}"
                         + (f" (paid {money(paid)})" if paid else "") + "\n")
        # The installments still to come (or missed) matter on a call, not those already kept.
        for number, due, amount, paid, status in [i for i in f.installments if i[4] != "kept"][:4]:
            lines.append(f"Installment {number}: {money(amount)} due {due:%d %b %Y} {status}"
                         + (f" (paid {money(paid)})" if paid and status != "kept" else "") + "\n")
        for day, amount, method, ref in f.payments[:5]:
            lines.append(f"Payment {money(amount)} on {day:%d %b %Y} ")
            lines.append_text(data(f"{method} {ref}", limit=40))
            lines.append("\n")
        for when, template, status, pages, error in f.letters[:5]:
            style = {"failed": "red", "rendered": ""}.get(status, "yellow")
            lines.append(f"Letter {template} ({when:%d %b %Y}): ")
            lines.append(status + (f", {pages} page{'s' if pages != 1 else ''}" if pages else ""), style)
            if status == "failed" and error:
                lines.append(" ")
                lines.append_text(data(error, limit=40))
            lines.append("\n")
        self.query_one("#money", Static).update(lines if lines.plain else Text("None yet"))
        self.query_one("#addresses", Static).update(
            data(f.identity) + Text("\n") + data("\n".join(f.addresses) or "No address on file", newlines=True))
        if f.claimed_by and f.claimed_by != self.app.officer.username:
            self.notify(f"Being worked by {clean(f.claimed_by)}", severity="warning", markup=False)

    # --- actions -------------------------------------------------------------------------

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_release(self) -> None:
        self.app.release_current()
        self.notify("Account released")
        self.app.pop_screen()

    def _open_form(self, name: str, module: str = "forms") -> None:
        """Open one of the account's forms; the file reloads when it saves."""
        import importlib

        if self.file is None:  # still loading: open it as soon as the file is shown
            self._pending_form = (name, module)
            return
        form = getattr(importlib.import_module(f"tui.screens.{module}"), name)(self.file)

        def closed(saved) -> None:
            if not saved:
                return
            self.action_reload()
            if name == "CallForm":
                self.app.report_state("wrap_up", self.account_id)
            # A conversation that ended in a promise goes straight on to record it.
            if name == "CallForm" and getattr(form, "outcome", None) == "rpc_promise":
                self.action_promise()

        self.app.push_screen(form, closed)

    def action_log_call(self) -> None:
        self._open_form("CallForm")

    def action_add_note(self) -> None:
        self._open_form("NoteForm")

    def action_callback(self) -> None:
        self._open_form("CallbackForm")

    def action_flag(self) -> None:
        self._open_form("FlagForm")

    def action_phone(self) -> None:
        self._open_form("PhoneForm")

    def action_plan(self) -> None:
        self._open_form("PlanScreen", "plan")

    def action_payment(self) -> None:
        self._open_form("PaymentForm", "money_forms")

    def action_promise(self) -> None:
        self._open_form("PromiseForm", "money_forms")

    def action_settle(self) -> None:
        self._open_form("SettleForm", "money_forms")

    def action_letter(self) -> None:
        self._open_form("LetterForm", "letter_form")

    def action_party(self) -> None:
        self._open_form("PartyForm", "party_form")

    def action_legal(self) -> None:
        self._open_form("LegalForm", "legal_form")

    def action_identity(self) -> None:
        self._open_form("IdentityForm", "identity_form")

    def check_action(self, action: str, parameters) -> bool | None:
        # Overrides are for team leads and admins: officers do not see the key.
        if action == "override":
            return self.app.officer.role in ("team_lead", "admin")
        return True

    def action_override(self) -> None:
        if self.app.officer.role not in ("team_lead", "admin"):
            self.notify("Only a team lead can override a block", severity="warning")
            return
        self._open_form("OverrideForm", "override_form")
