"""The only URL fetcher WeasyPrint is given: it serves the packaged template assets by the
`asset:` scheme and stops the render on anything else.

A letter holds customer data. Jinja2 escapes it in text, but a value that reached a URL
(`src`, `href`, `url()` in CSS) would make WeasyPrint read a local file or the network and
could embed the file in the PDF; failing closed here means such a mistake shows up as a
failed render, not a leak.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

ASSET_SCHEME = "asset"
BASE_URL = f"{ASSET_SCHEME}:/"


class RefusedURL(FatalURLFetchingError):
    """A render tried to load something that is not a packaged asset."""


class AssetFetcher(URLFetcher):
    def __init__(self, directories: list[Path]):
        super().__init__(timeout=1, allowed_protocols={ASSET_SCHEME}, allow_redirects=False, fail_on_errors=True)
        self._roots = [d.resolve() for d in directories]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if url.startswith(f"{ASSET_SCHEME}:"):
            name = url.split(":", 1)[1].lstrip("/")
            for root in self._roots:
                path = (root / name).resolve()
                if path.is_relative_to(root) and path.is_file():
                    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        self.refused.append(url)
        raise RefusedURL(f"letters load only packaged assets; refused {url[:120]!r}")
