"""The income and expenditure form (`ctrl+o` in the plan calculator), after the Standard
Financial Statement's categories: monthly figures, live totals, and the disposable income
the plan must fit. Figures above the guideline are flagged in the calculator, never refused."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from db.money import MoneyError, exponent_of, format_money, parse_amount, plain
from db.plans import CATEGORY_LABELS, EXPENDITURE_CATEGORIES, INCOME_CATEGORIES, Statement
from tui.text import data


class StatementForm(ModalScreen[Statement | None]):
    """Monthly amounts; `ctrl+s` keeps them with the plan, `escape` leaves them as they were."""

    CSS_PATH = "plan.tcss"
    BINDINGS = [
        Binding("ctrl+s", "keep", "Use these figures", id="statement.keep"),
        Binding("escape", "cancel", "Cancel", id="statement.cancel"),
    ]

    def __init__(self, file, statement: Statement | None) -> None:
        super().__init__()
        self.file = file
        self.start = statement or Statement()
        self.exponent = exponent_of(file.currency)

    def money(self, minor: int) -> str:
        return format_money(minor, self.file.currency, self.app.settings.locale.locale)

    def compose(self) -> ComposeResult:
        s = self.start
        with Vertical(classes="dialog"):
            yield Label(Text("Income and spending a month: ") + data(self.file.debtor), classes="title")
            left = [("adults", "Adults", str(s.adults)), ("children", "Children", str(s.children))]
            left += [(c, CATEGORY_LABELS[c], self._shown(s.income.get(c))) for c in INCOME_CATEGORIES]
            right = [(c, CATEGORY_LABELS[c], self._shown(s.expenditure.get(c))) for c in EXPENDITURE_CATEGORIES]
            # Two columns, each its own grid, so tab runs down the income and then down the spending.
            with Horizontal(id="statement-fields"):
                for column, grid_id in ((left, "statement-income"), (right, "statement-spending")):
                    with Grid(id=grid_id):
                        for name, label, value in column:
                            yield Label(label)
                            yield Input(value, id=f"st-{name}", placeholder="0.00")
            yield Static(id="statement-totals")
            yield Label(Text("ctrl+s use · escape cancel · tab next field", style="dim"))

    def _shown(self, minor: int | None) -> str:
        return plain(minor, exponent=self.exponent) if minor else ""

    def on_mount(self) -> None:
        self.query_one("#st-earnings", Input).focus()
        self.totals()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.totals()

    def read(self) -> Statement:
        """The statement the fields hold, or ValueError naming the field to fix."""
        def whole(name: str, label: str, low: int) -> int:
            text = self.query_one(f"#st-{name}", Input).value.strip() or str(low)
            if not text.isdigit() or int(text) < low or int(text) > 20:
                raise ValueError(f"{label}: enter a whole number from {low} to 20")
            return int(text)

        def amount(name: str) -> int:
            text = self.query_one(f"#st-{name}", Input).value.strip()
            if not text:
                return 0
            try:
                return parse_amount(text, exponent=self.exponent)
            except MoneyError as exc:
                raise ValueError(f"{CATEGORY_LABELS[name]}: {exc}") from None

        return Statement(whole("adults", "Adults", 1), whole("children", "Children", 0),
                         {c: amount(c) for c in INCOME_CATEGORIES}, {c: amount(c) for c in EXPENDITURE_CATEGORIES})

    def totals(self) -> None:
        out = self.query_one("#statement-totals", Static)
        try:
            s = self.read()
        except ValueError as exc:
            out.update(Text(str(exc), style="bold red"))
            return
        line = Text(f"Income {self.money(s.total_income)} · spending {self.money(s.total_expenditure)} · left ")
        line.append(self.money(s.disposable), "bold green" if s.disposable > 0 else "bold red")
        out.update(line)

    def action_keep(self) -> None:
        try:
            self.dismiss(self.read())
        except ValueError as exc:
            self.query_one("#statement-totals", Static).update(Text(str(exc), style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(None)
