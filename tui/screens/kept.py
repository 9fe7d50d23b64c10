"""A screen shown again and again in a session (the queue, the kept account screen).

Each time such a screen is pushed or uncovered, Textual restyles every widget on it in case
the app's look (theme, app focus) changed while it was away: 10-20 ms of CPU per `escape`
or `n` spent for nothing when it has not, and an officer comes back to the queue hundreds
of times a day. A kept screen skips that when the look is as it was when the screen left.

Nor does a kept screen draw while a screen that hides it is in front: Textual counts the
screen just beneath the front one as on view whatever covers it, and each drawing of it
repaints the whole front screen (`push_screen` asks the screen it covers for one: every
account opened from the queue was drawn twice).
"""

from __future__ import annotations

from textual import events
from textual.screen import Screen


class KeptScreen(Screen):
    """Skips the restyle on resume when the app's theme and pseudo-classes are unchanged.

    Textual calls these handlers before `Screen`'s own (it walks the class's MRO), and the
    subclasses keep their `on_screen_resume` for their own work."""

    @property
    def is_current(self) -> bool:
        """On view: in front, or beneath a front screen that lets it show through (a
        dialog). Textual's own answer is yes for the screen just beneath the front one
        whatever covers it."""
        if not super().is_current:
            return False
        front = self.app.screen
        return front is self or front.styles.background.a < 1

    def _app_look(self) -> tuple:
        return self.app.theme, self.app.pseudo_classes

    def _on_screen_suspend(self) -> None:
        self._look = self._app_look()

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        if getattr(self, "_look", None) == self._app_look():
            event.refresh_styles = False
