"""The line at the top of every screen: the app's title and who is signed in.

One widget drawing one line. Textual's `Header` is four widgets, and each screen's header
stays referenced by the app's title watchers after its screen is gone (a leak of a
header, its children and their style caches per account opened: about a thousand objects
each time in a measurement here).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class TitleBar(Widget):
    """"Arrears — Officer Name (username)", centred; the screen's own title where it has one."""

    ALLOW_SELECT = False
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    def render(self) -> Text:
        screen, app = self.screen, self.app
        title = screen.title if screen.title is not None else app.title
        sub_title = screen.sub_title if screen.sub_title is not None else app.sub_title
        # Plain text, never markup: the sub-title carries the officer's name.
        line = Text(f"{title} — {sub_title}" if sub_title else title, no_wrap=True, overflow="ellipsis",
                    justify="center")
        return line
