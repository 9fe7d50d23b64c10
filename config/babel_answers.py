"""Babel's answers about currencies and locales, kept in a small file between processes.

Babel answers from its CLDR data, which it loads whole at the first question: about 3 MB
for the list of currencies (its global data) and 2 MB more for a locale's number formats,
10-25 ms each. An officer's session asks a handful of questions (is the floor's currency
in ISO 4217? how does this locale write that currency?), and every session asks the same
ones. A process that calls `keep_answers()` reads them from a file in the data directory
(`cache/`, once the settings say where that is), asks Babel only what is not there, and
adds its answers for the next process. The file's name carries the identity of the Babel
data installed, so no Babel reads another's answers. Processes that do not call it ask
Babel, once each.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


def babel_data_key() -> str | None:
    """Which Babel data is installed (its global data file's size and time), found
    without importing Babel; None when it cannot be told."""
    from importlib.util import find_spec

    try:
        found = os.stat(Path(find_spec("babel").origin).with_name("global.dat"))
    except (AttributeError, TypeError, OSError, ValueError):
        return None
    return f"{found.st_size}-{found.st_mtime_ns}"


class BabelAnswers:
    """Answers (anything JSON can hold) by question, in memory and, once `keep_in` names a
    directory, in a file there."""

    def __init__(self) -> None:
        self._lock = threading.RLock()  # an answer may need another
        self._answers: dict[str, Any] = {}
        self._file: Path | None = None
        self._read = True
        self.wanted = False
        """Whether this process keeps its answers in a file (`keep_answers`)."""

    def settle_in(self, directory: Path) -> None:
        """Keep the answers in `directory` if this process wants them kept and has not
        said where (the settings call this with the data directory's `cache/`)."""
        if self.wanted and self._file is None:
            self.keep_in(directory)

    def keep_in(self, directory: Path | None) -> None:
        key = babel_data_key() if directory is not None else None
        with self._lock:
            self._file = directory / f"babel-answers-{key}.json" if key else None
            self._read = self._file is None

    @property
    def file(self) -> Path | None:
        return self._file

    def get(self, question: str, ask: Callable[[], Any]) -> Any:
        """The answer kept for `question`, else `ask()`'s (which is then kept)."""
        try:
            return self._answers[question]
        except KeyError:
            pass
        with self._lock:
            if not self._read:
                self._read = True
                self._answers = {**self._kept(), **self._answers}
            if question not in self._answers:
                self._answers[question] = ask()
                self._write()
            return self._answers[question]

    def correct(self, question: str, answer: Any) -> None:
        """Replace a kept answer that turned out unusable (a damaged file) with Babel's."""
        with self._lock:
            self._answers[question] = answer
            self._write()

    def _kept(self) -> dict[str, Any]:
        try:
            kept = json.loads(self._file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # none yet, or damaged: Babel answers, and the file is written anew
        return kept if isinstance(kept, dict) else {}

    def _write(self) -> None:
        """The whole file replaced at once (no reader sees half of it), with what others
        added since it was read; a directory that cannot be written only means the next
        process asks Babel too."""
        if self._file is None:
            return
        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            merged = {**self._kept(), **self._answers}
            spare = self._file.with_name(f".{self._file.name}.{os.getpid()}.{threading.get_ident()}")
            spare.write_text(json.dumps(merged, ensure_ascii=False), encoding="utf-8")
            os.replace(spare, self._file)
        except OSError:
            pass


answers = BabelAnswers()
"""This process's answers."""


def keep_answers(directory: Path | None = None) -> Path | None:
    """Keep this process's answers in `directory` and read those kept there; without one,
    in the data directory's `cache/` once the settings are read (`BabelAnswers.settle_in`).
    Returns the file, or None if none is kept (yet)."""
    if directory is None:
        answers.wanted = True
    else:
        answers.keep_in(directory)
    return answers.file
