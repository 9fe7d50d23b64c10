"""The keys line at the foot of every screen: one widget that draws the screen's keys as
one line of text.

Textual's `Footer` builds a widget per key and rebuilds them all whenever the screen's
bindings change (every screen switch, every focus change): on the account screen that was
some twenty widgets styled afresh each time, 40% of the time to open an account. This
draws the same keys, in the same order and colours, from the screen's active bindings, and
redraws only itself. At 80 columns not every key fits: the line then ends with where to
find the rest (`?` opens the help screen, which lists every key).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

MORE = "… ? more"


class KeyFooter(Widget):
    """The current screen's keys (those bound with `show=True`), and the command palette's."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = {"key-footer--key", "key-footer--description", "key-footer--more"}
    DEFAULT_CSS = """
    KeyFooter {
        dock: bottom;
        height: 1;
        width: 1fr;
        background: $footer-background;
        color: $footer-foreground;
        .key-footer--key {
            color: $footer-key-foreground;
            background: $footer-key-background;
            text-style: bold;
        }
        .key-footer--description {
            color: $footer-description-foreground;
            background: $footer-description-background;
        }
        .key-footer--more {
            color: $footer-description-foreground;
            text-style: italic;
        }
    }
    """

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen) -> None:
        # Only on the screen in front: a change to a screen underneath (its focus leaving as
        # another is pushed) would repaint the whole screen above it. `Screen.is_current`
        # is no test of that: it holds for the screen just beneath the front one too. A
        # screen coming back to the front announces its bindings again, and this draws
        # them then.
        if self.is_attached and screen is self.screen and screen is self.app.screen:
            self.refresh()

    _spans: list[tuple[int, int, str, bool]] = []
    """(first column, end column, key, enabled) of each key drawn, for mouse clicks."""

    def keys(self) -> list[tuple[str, str, str, bool]]:
        """(key, key as shown, description, enabled) for each shown action, in binding order."""
        app = self.app
        seen: set[str] = set()
        keys = []
        palette = app.COMMAND_PALETTE_BINDING if app.ENABLE_COMMAND_PALETTE else None
        for key, (_node, binding, enabled, _tooltip) in self.screen.active_bindings.items():
            if not binding.show or binding.action in seen or key == palette:
                continue
            seen.add(binding.action)
            keys.append((key, app.get_key_display(binding), binding.description, enabled))
        return keys

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-footer--key")
        description_style = self.get_component_rich_style("key-footer--description")
        more_style = self.get_component_rich_style("key-footer--more")
        width = self.size.width
        palette = Text()
        app = self.app
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in self.screen.active_bindings:
            binding = self.screen.active_bindings[app.COMMAND_PALETTE_BINDING][1]
            palette = Text.assemble("▏", (f"{app.get_key_display(binding)}", key_style),
                                    (f" {binding.description}", description_style))
        room = width - palette.cell_len
        items = []
        for key, shown, description, enabled in self.keys():
            item = Text.assemble((f" {shown} ", key_style),
                                 (f"{description} " if description else "", description_style))
            if not enabled:
                item.stylize("dim")
            items.append((key, enabled, item))
        fits = sum(item.cell_len for _key, _enabled, item in items) <= room
        line = Text(no_wrap=True, overflow="crop")
        spans = []
        for key, enabled, item in items:
            if not fits and line.cell_len + item.cell_len + len(MORE) + 1 > room:
                break  # keep room for saying where the rest are
            spans.append((line.cell_len, line.cell_len + item.cell_len, key, enabled))
            line.append_text(item)
        if not fits:
            line.append(" " + MORE, more_style)
        line.pad_right(max(0, room - line.cell_len))
        if palette:
            spans.append((line.cell_len, line.cell_len + palette.cell_len, app.COMMAND_PALETTE_BINDING, True))
        line.append_text(palette)
        line.truncate(width)
        self._spans = spans
        return line

    def on_mouse_down(self, event) -> None:
        # Where a session allows the mouse (`ssh.mouse`), a click on a key presses it, as
        # on Textual's own footer.
        for start, end, key, enabled in self._spans:
            if start <= event.x < end:
                if enabled:
                    self.app.simulate_key(key)
                else:
                    self.app.bell()
                return
