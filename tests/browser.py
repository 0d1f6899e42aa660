"""Real-browser helpers: Debian's Chromium driven by Playwright, and a localhost server.

`playwright install` cannot download here, so the tests drive /usr/bin/chromium.
Without it the browser tests skip, except where CI sets COURSEKIT_REQUIRE_BROWSER=1:
there a missing browser is a failure.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = "/usr/bin/chromium"
# The machine has no network: without these flags Chromium keeps trying to reach
# Google's services, and those refused connections slow every start.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def require_chromium() -> None:
    """Skip (or fail, under COURSEKIT_REQUIRE_BROWSER) when Chromium is missing."""
    if os.path.exists(CHROMIUM):
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium"
    if os.environ.get("COURSEKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on 127.0.0.1 (a free port) for the block; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class PageWatch:
    """What went wrong on a page: console errors, uncaught errors, requests leaving localhost."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [
            *self.console_errors,
            *self.page_errors,
            *(f"external request: {u}" for u in self.external_requests),
        ]


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about", "file") or parsed.hostname in LOCAL_HOSTS


def watch(page) -> PageWatch:  # type: ignore[no-untyped-def]
    """Record a page's errors and block (and record) every request leaving localhost."""
    seen = PageWatch()
    page.on("console", lambda m: m.type == "error" and seen.console_errors.append(m.text))
    page.on("pageerror", lambda e: seen.page_errors.append(str(e)))

    def route(r):  # type: ignore[no-untyped-def]
        if is_local(r.request.url):
            r.continue_()
        else:
            seen.external_requests.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    return seen


REDIRECTS = "!!document.querySelector('meta[http-equiv=refresh i]')"
SETTLED = """async () => {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        await MathJax.startup.promise;
    }
    await document.fonts.ready;
}"""


def settle(page) -> None:  # type: ignore[no-untyped-def]
    """Wait, after `load`, for what still changes the page: MathJax's typesetting, the fonts.

    Not Playwright's "networkidle" (500 ms without a request, which Playwright's own
    documentation discourages): on a loaded CI host a page that is done can miss that
    window for 30 s, and a test then fails on timing rather than on the page.
    """
    for _ in range(5):  # a redirect page (`<meta http-equiv="Refresh">`) navigates on
        here = page.url
        try:
            if page.evaluate(REDIRECTS):
                page.wait_for_url(lambda url, left=here: url != left, wait_until="load")
                continue
            page.evaluate(SETTLED)
            return
        except PlaywrightError as error:
            if "context was destroyed" not in str(error):
                raise
            page.wait_for_load_state("load")
    pytest.fail(f"{page.url} kept navigating")
