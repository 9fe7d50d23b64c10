"""Showing data safely: every string from a customer, an officer or a file becomes a Rich
`Text` (never parsed as markup), with control characters, C1 codes and bidi overrides made
harmless, so no escape sequence from data ever reaches the officer's terminal."""

from __future__ import annotations

import unicodedata

from rich.text import Text

# Bidi controls that can reorder what the officer reads (Trojan Source).
_BIDI = {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
         "\u200e", "\u200f", "\u061c"}


def clean(value: object, *, limit: int | None = None, newlines: bool = False) -> str:
    """The string with control characters shown as `�` and bidi overrides dropped
    (newlines kept only where asked, else shown as spaces)."""
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        if ch in _BIDI:
            continue
        if ch == "\n":
            out.append("\n" if newlines else " ")
        elif ch in "\t\r":
            out.append(" ")
        elif unicodedata.category(ch) in ("Cc", "Cf") and ch not in "\u200d":
            out.append("\ufffd")
        else:
            out.append(ch)
    result = "".join(out)
    if limit is not None and len(result) > limit:
        result = result[: max(0, limit - 1)] + "…"
    return result


def data(value: object, style: str = "", *, limit: int | None = None, newlines: bool = False) -> Text:
    """Untrusted data as a `Text`: shown literally, never as markup."""
    return Text(clean(value, limit=limit, newlines=newlines), style=style)
