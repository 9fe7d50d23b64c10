"""From an account and a template to HTML, to a text preview, and (in letter workers) to
a PDF.

`Templates` is all an officer's session needs: Jinja2 with autoescape, the packaged
templates overridden by a site's own directory, and the text preview. `PdfRenderer` adds
WeasyPrint, imported only there, and keeps it warm: the stylesheet is parsed and the
fonts configured once per process, not once per letter.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import ImmutableSandboxedEnvironment

from db.letter_facts import letter_facts
from letters.catalogue import TEMPLATES
from letters.context import build_context
from letters.preview import html_to_text

PACKAGED = Path(__file__).parent / "templates"
PLAN_TEMPLATES = frozenset({"plan-confirmation", "broken-arrangement", "financial-statement"})
STYLESHEET = "print.css"


class TemplateMissing(LookupError):
    pass


class Templates:
    """Jinja2 templates for letters. Site templates are template code: they run sandboxed
    and autoescaped, like the packaged ones."""

    def __init__(self, settings):
        self.settings = settings
        self.directories = [d for d in (settings.letters.template_dir, PACKAGED) if d is not None]
        self.env = ImmutableSandboxedEnvironment(
            loader=FileSystemLoader([str(d) for d in self.directories]),
            autoescape=select_autoescape(["html"], default=True), undefined=StrictUndefined,
            trim_blocks=True, lstrip_blocks=True)

    def version(self, template: str) -> str:
        """The packaged version, marked as a site's when overridden (with a digest of its
        text, so two different site copies never share a version)."""
        spec = TEMPLATES[template]
        site = self.settings.letters.template_dir
        if site is not None and (site / spec.file).is_file():
            digest = hashlib.sha256((site / spec.file).read_bytes()).hexdigest()[:8]
            return f"{spec.version}+site.{digest}"
        return spec.version

    def context(self, account_id: int, template: str, inputs: dict, letter_id: int | None = None) -> dict:
        facts = letter_facts(account_id, inputs, letter_id, with_plan=template in PLAN_TEMPLATES)
        return build_context(self.settings, facts, template, inputs, version=self.version(template))

    def html(self, template: str, context: dict) -> str:
        if template not in TEMPLATES:
            raise TemplateMissing(f"there is no letter template {template!r}")
        return self.env.get_template(TEMPLATES[template].file).render(**context)

    def text(self, template: str, context: dict) -> str:
        """The letter as plain text, for the preview an officer reads before asking."""
        return html_to_text(self.html(template, context))

    def stylesheet(self) -> str:
        for directory in self.directories:
            path = directory / STYLESHEET
            if path.is_file():
                css = path.read_text(encoding="utf-8")
                break
        size = "A4" if self.settings.letters.page_size == "A4" else "letter"
        return css + f"\n@page {{ size: {size}; }}\n"


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    pages: int
    sha256: str
    render_ms: int
    version: str


class PdfRenderer(Templates):
    """Templates plus WeasyPrint, warm: one font configuration and one parsed stylesheet."""

    def __init__(self, settings):
        super().__init__(settings)
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        from letters.fetcher import AssetFetcher

        self.fetcher = AssetFetcher(self.directories)
        self.font_config = FontConfiguration()
        self.css = CSS(string=self.stylesheet(), base_url="asset:/", url_fetcher=self.fetcher,
                       font_config=self.font_config)

    def pdf(self, html: str) -> tuple[bytes, int]:
        from weasyprint import HTML

        document = HTML(string=html, base_url="asset:/", url_fetcher=self.fetcher).render(
            stylesheets=[self.css], font_config=self.font_config, presentational_hints=False)
        return document.write_pdf(attachments=[]), len(document.pages)

    def render(self, account_id: int, template: str, inputs: dict, letter_id: int | None = None) -> Rendered:
        started = time.perf_counter()
        context = self.context(account_id, template, inputs, letter_id)
        pdf, pages = self.pdf(self.html(template, context))
        return Rendered(pdf, pages, hashlib.sha256(pdf).hexdigest(), int((time.perf_counter() - started) * 1000),
                        context["version"])


def letter_path(root: Path, letter_id: int, requested_at: dt.datetime) -> Path:
    """Where a rendered letter lives: `YYYY/MM/<id>.pdf` under the letters directory."""
    return root / f"{requested_at:%Y}" / f"{requested_at:%m}" / f"{letter_id}.pdf"


def subsetter() -> str:
    """Which font subsetter WeasyPrint uses in this process (HarfBuzz's is ~4x faster)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset and harfbuzz.hb_version_atleast(4, 1, 0):
        return "harfbuzz (libharfbuzz-subset)"
    return "fontTools (install libharfbuzz-subset0 for faster rendering)"
