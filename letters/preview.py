"""A letter's HTML as plain text: what the officer reads on screen before asking for it.

Block elements become lines, table rows become cells joined by two spaces, list items get
a dash. The output is shown literally in the terminal (never as markup).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "table", "tr", "ul", "ol", "section", "header", "footer",
           "address", "br", "hr", "blockquote"}
_SKIP = {"style", "script", "head", "title", "header"}  # header: the letterhead, the same on every letter


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.line: list[str] = []
        self.cells: list[str] | None = None
        self.skip = 0

    def _flush(self) -> None:
        text = re.sub(r"\s+", " ", "".join(self.line)).strip()
        self.line = []
        if text:
            self.lines.append(text)
        elif self.lines and self.lines[-1] != "":
            self.lines.append("")

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP:
            self.skip += 1
        elif tag == "tr":
            self._flush()
            self.cells = []
        elif tag in ("td", "th") and self.cells is not None:
            self.line = []
        elif tag == "li":
            self._flush()
            self.line.append("- ")
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag):
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in ("td", "th") and self.cells is not None:
            self.cells.append(re.sub(r"\s+", " ", "".join(self.line)).strip())
            self.line = []
        elif tag == "tr" and self.cells is not None:
            row = "  ".join(c for c in self.cells if c)
            if row:
                self.lines.append(row)
            self.cells = None
        elif tag in _BLOCKS or tag == "li":
            self._flush()

    def handle_data(self, data):
        if not self.skip:
            self.line.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    parser._flush()
    text = "\n".join(parser.lines).strip()
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"
