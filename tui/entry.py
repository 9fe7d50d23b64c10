"""The `arrears` command's entry point.

Start-up makes a few hundred thousand objects (Textual, pydantic-settings, Peewee and
their modules) and none of them is garbage, yet Python's cyclic collector would walk them
all several times before the officer's first screen is up. It is held off until then:
`tui.app` freezes what start-up made (later collections skip it) and lets the collector
go once the first screen is drawn; an operator command lets it go at once (`tui.cli`).
Nor does it look for pydantic plugins (it has none): that reads every installed package's
entry points.
"""

from __future__ import annotations

import gc
import os


def quiet_start() -> None:
    """Before anything heavy is imported: no collections, no pydantic plugin scan."""
    gc.disable()
    # Arrears uses no pydantic plugins: skip looking through every installed package for them.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main() -> None:
    quiet_start()
    from tui.cli import main as cli_main

    cli_main()
