"""A screen shown again and again in a session (the queue, the kept account screen).

Each time such a screen is pushed or uncovered, Textual restyles every widget on it in case
the app's look (theme, app focus) changed while it was away: 10-20 ms of CPU per `escape`
or `n` spent for nothing when it has not, and an officer comes back to the queue hundreds
of times a day. A kept screen skips that when the look is as it was when the screen left.
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class KeptScreen(Screen):
    """Skips the restyle on resume when the app's theme and pseudo-classes are unchanged.

    Textual calls these handlers before `Screen`'s own (it walks the class's MRO), and the
    subclasses keep their `on_screen_resume` for their own work."""

    def _app_look(self) -> tuple:
        return self.app.theme, self.app.pseudo_classes

    def _on_screen_suspend(self) -> None:
        self._look = self._app_look()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if getattr(self, "_look", None) == self._app_look():
            event.refresh_styles = False
