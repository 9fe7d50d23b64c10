"""The terminal driver of an officer's session: Textual's Linux driver, with an escape key
that arrives when the escape delay ends rather than up to 100 ms later.

A terminal sends the escape key as a lone ESC byte, and most other keys (arrows, function
keys) as sequences that begin with ESC, so after an ESC the parser waits `ESCDELAY` ms for
more bytes before it calls it the escape key. Textual's input thread only looks at that
deadline when its `select` returns, which with no more input is after 100 ms whatever
`ESCDELAY` says: `escape` (back to the queue, close a form) always took 100 ms or more.
Here the thread wakes when the delay is over. The loop is otherwise Textual's
(`LinuxDriver.run_input_thread`, Textual 8), which this replaces.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual import constants
from textual._parser import ParseError
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

ESC = "\x1b"
IDLE_WAIT = 0.1  # Textual's own: how often the thread looks at `exit_event` when no key comes
# After an ESC the thread wakes a few times within the delay: the parser's deadline is
# "at least ESCDELAY after the ESC", so a wake exactly at the delay can be a hair early.
ESCAPE_WAKES = 4


class SessionDriver(LinuxDriver):
    """Textual's Linux driver; its input thread wakes for the end of the escape delay."""

    def run_input_thread(self) -> None:
        selector = selectors.SelectSelector()
        selector.register(self.fileno, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        escape_wait = constants.ESCAPE_DELAY / (ESCAPE_WAKES - 1)
        wakes_left = 0  # short waits left: an ESC came in and may be the escape key

        def process(ready: list, final: bool = False) -> None:
            nonlocal wakes_left
            wakes_left = max(0, wakes_left - 1)
            for index, (_key, mask) in enumerate(ready):
                if mask & selectors.EVENT_READ:
                    data = decode(os.read(self.fileno, 1024 * 4), final=final and index == len(ready) - 1)
                    if not data:
                        break  # stdin is a pipe that has closed
                    for event in parser.feed(data):
                        self.process_message(event)
                    if ESC in data:
                        wakes_left = ESCAPE_WAKES
            for event in parser.tick():
                self.process_message(event)

        try:
            while not self.exit_event.is_set():
                process(selector.select(escape_wait if wakes_left else IDLE_WAIT))
            selector.unregister(self.fileno)
            process(selector.select(IDLE_WAIT), final=True)
        finally:
            selector.close()
            try:
                for _event in parser.feed(""):
                    pass
            except (EOFError, ParseError):
                pass
