"""The `arrears` command's entry point.

Start-up makes a few hundred thousand objects (Textual, pydantic-settings, Peewee and
their modules) and none of them is garbage, yet Python's cyclic collector would walk them
all several times before the officer's first screen is up. It is held off until then:
`tui.app` freezes what start-up made (later collections skip it) and lets the collector
go once the first screen is drawn; an operator command lets it go at once (`tui.cli`).
"""

from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from tui.cli import main as cli_main

    cli_main()
