"""Help (`?`): every key of the screen underneath and of the app, with what it does, and
any notes the screen gives (the floor: what each figure means)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Label, Static


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        rows: list[tuple[str, str]] = []
        seen = set()
        for source in (self.under, self.app):
            for binding in getattr(source, "BINDINGS", []):
                if not isinstance(binding, Binding):
                    continue
                key = binding.key.split(",")[0]
                if key in seen or not binding.description:
                    continue
                if source is self.under and self.under.check_action(binding.action, ()) is False:
                    continue  # a key this officer's role does not have here
                seen.add(key)
                rows.append((self.app.get_key_display(binding), binding.description))
        rows.append(("ctrl+p", "Command palette: every action by name"))
        width = max(len(key) for key, _ in rows)
        body = Text()
        for key, description in rows:
            body.append(key.ljust(width + 2), "bold")
            body.append(description + "\n")
        notes = getattr(self.under, "help_notes", None)
        with Vertical(classes="dialog"):
            yield Label(Text(f"Keys: {type(self.under).__name__.replace('Screen', '')}", style="bold"))
            with VerticalScroll(id="help-body"):
                yield Static(body)
                if notes is not None:
                    yield Static(notes(), id="help-notes")
            yield Label(Text("escape to close", style="dim"))

    def action_close(self) -> None:
        self.dismiss()
