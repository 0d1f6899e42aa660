"""Print a web page to PDF with a headless Chromium, over the DevTools protocol on a pipe.

Chromium is no Python dependency of coursekit: `find_chromium` says which
browser is missing and how to get it (or turn the PDF off). The browser runs
headless with `--remote-debugging-pipe` (no port is opened; messages are JSON
separated by NUL bytes on its file descriptors 3 and 4), a throw-away profile in
a folder the caller gives (inside the build's staging area), and no name
resolution beyond localhost. Once the page has loaded, its fonts, images and
MathJax are waited for, then `Page.printToPDF` writes the PDF with page numbers
in the footer and the page's own `@page` size and margins.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.errors import BuildError

INSTALL_HINT = "install it (`apt-get install chromium` on Debian)"
OFF_HINT = "turn the PDF off with `coursekit: pdf: false` in _config.yml"
FLAGS = (
    "--headless",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-gpu",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--mute-audio",
    # The book is a local site: nothing it loads may come from elsewhere.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
)
# Seconds Chromium may sit idle (no CPU used) before the print is given up.
STALL = 120.0
TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# Resolves once the page is ready to print: lazy images loaded, fonts, MathJax done.
READY = """(async () => {
  if (document.readyState !== "complete")
    await new Promise((done) => window.addEventListener("load", done));
  for (const img of document.images) img.loading = "eager";
  await Promise.all([...document.images].filter((i) => !i.complete).map((i) =>
    new Promise((done) => {
      i.addEventListener("load", done);
      i.addEventListener("error", done);
    })));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  return document.title;
})()"""
# The text of every heading (what the PDF's bookmarks name), without Sphinx's "#" links.
HEADINGS = """[...document.querySelectorAll("h1, h2, h3, h4, h5, h6, [role=heading]")].map((h) => {
  const copy = h.cloneNode(true);
  copy.querySelectorAll(".headerlink").forEach((link) => link.remove());
  return copy.textContent.replace(/\\s+/g, " ").trim();
})"""
# Copies first, so that neither pipe is closed by being put in the other's place.
PLACE_FDS = (
    "import os, sys; i, o = int(sys.argv[1]), int(sys.argv[2]); a, b = os.dup(i), os.dup(o); "
    "os.dup2(a, 3); os.dup2(b, 4); [os.close(fd) for fd in {i, o, a, b} - {3, 4}]; "
    "os.set_inheritable(3, True); os.set_inheritable(4, True); "  # dup2(3, 3) leaves it as is
    "os.execv(sys.argv[3], sys.argv[3:])"
)
FOOTER = (
    '<div style="width:100%;font-size:8pt;color:#555;text-align:center;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)


class ChromiumMissing(BuildError):
    """No browser to print with: the PDF cannot be made, the other outputs can."""


class PrintError(BuildError):
    """Chromium could not load or print the page."""


def find_chromium(path: str) -> Path:
    """The Chromium executable at `path` (a path, or a name on PATH); ChromiumMissing if none."""
    found = shutil.which(path)
    if found is None:
        where = "is not installed" if "/" in path else "is not on PATH"
        raise ChromiumMissing(
            f"_config.yml: no PDF: Chromium, which prints it, {where} ({path}); "
            f"{INSTALL_HINT}, set `coursekit: pdf: chromium:` to its path, or {OFF_HINT}"
        )
    return Path(found)


def print_pdf(
    chromium: Path,
    url: str,
    pdf: Path,
    profile: Path,
    timeout: float = 300,
    cancel: threading.Event | None = None,
    title: str | None = None,
    stall: float = STALL,
) -> list[str]:
    """Load `url` in a headless `chromium` and print it to the file `pdf`, with an
    outline of its headings and page numbers; returns the headings' text as the page
    has it.

    `title`, when given, is the PDF's title (Chromium takes the document's, and
    for a page with none, its URL). `cancel`, once set, stops the printing
    (PrintError) and ends the browser. It fails after `timeout` seconds, or sooner
    when Chromium sits idle for `stall` seconds (the page waits on what never loads).
    """
    with Printer(chromium, profile, timeout, cancel or threading.Event(), stall) as printer:
        return printer.print(url, pdf, title, page_numbers=True)


class Printer:
    """One headless Chromium that prints pages one after the other, each in a tab of
    its own, closed once printed (its memory goes with it). The limits of `print_pdf`
    hold for all the pages together."""

    def __init__(
        self,
        chromium: Path,
        profile: Path,
        timeout: float,
        cancel: threading.Event | None = None,
        stall: float = STALL,
    ) -> None:
        self.browser = _Browser(chromium, profile, timeout, cancel or threading.Event(), stall)

    def __enter__(self) -> Printer:
        self.browser.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.browser.__exit__(*exc)

    def print(
        self, url: str, pdf: Path, title: str | None = None, page_numbers: bool = False
    ) -> list[str]:
        """Print `url` to `pdf`; returns its headings. Without `page_numbers`, the
        sheets' bottom margin is left empty (for numbers counted across several PDFs)."""
        browser = self.browser
        target = browser.call("Target.createTarget", url="about:blank")["targetId"]
        attached = browser.call("Target.attachToTarget", targetId=target, flatten=True)
        session = attached["sessionId"]
        browser.call("Page.enable", session=session)
        # Laid out for print from the start: no screen layout (sidebars, wide tables) first.
        browser.call("Emulation.setEmulatedMedia", session=session, media="print")
        navigated = browser.call("Page.navigate", session=session, url=url)
        if navigated.get("errorText"):
            raise PrintError(f"{url}: Chromium could not open the page: {navigated['errorText']}")
        browser.wait_for("Page.loadEventFired", session)
        ready = browser.call(
            "Runtime.evaluate", session=session, expression=READY, awaitPromise=True
        )
        if "exceptionDetails" in ready:
            problem = ready["exceptionDetails"].get("text", "a script error")
            raise PrintError(f"{url}: the page did not get ready to print: {problem}")
        if title:
            named = f"document.title = {json.dumps(title)}"
            browser.call("Runtime.evaluate", session=session, expression=named)
        headings = browser.call(
            "Runtime.evaluate", session=session, expression=HEADINGS, returnByValue=True
        )
        printed = browser.call(
            "Page.printToPDF",
            session=session,
            printBackground=True,
            preferCSSPageSize=True,
            displayHeaderFooter=page_numbers,
            headerTemplate="<span></span>",
            footerTemplate=FOOTER,
            generateDocumentOutline=True,  # bookmarks, from the headings
            transferMode="ReturnAsStream",
        )
        _save_stream(browser, session, printed["stream"], pdf)
        browser.call("Target.closeTarget", targetId=target)
        texts = headings.get("result", {}).get("value")
        return [t for t in texts if isinstance(t, str)] if isinstance(texts, list) else []


def _save_stream(browser: _Browser, session: str, stream: str, pdf: Path) -> None:
    with pdf.open("wb") as out:
        while True:
            chunk = browser.call("IO.read", session=session, handle=stream, size=1 << 20)
            data = chunk.get("data", "")
            out.write(base64.b64decode(data) if chunk.get("base64Encoded") else data.encode())
            if chunk.get("eof"):
                break
    browser.call("IO.close", session=session, handle=stream)


def _cpu_ticks(group: int) -> int:
    """The CPU time (in clock ticks) used so far by the processes of process group `group`."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if len(fields) > 12 and fields[2] == str(group):  # pgrp; utime, stime
            total += int(fields[11]) + int(fields[12])
    return total


@dataclass
class _Browser:
    """A headless Chromium and its DevTools pipe, for the duration of a `with` block."""

    chromium: Path
    profile: Path
    timeout: float
    cancel: threading.Event
    stall: float = STALL
    process: subprocess.Popen[bytes] | None = None
    deadline: float = 0.0
    _busy: tuple[int, float] = (-1, 0.0)  # Chromium's CPU ticks when the last window began
    _to_browser: int = -1
    _from_browser: int = -1
    _buffer: bytes = b""
    _next_id: int = 0
    _events: list[dict[str, Any]] = field(default_factory=list)

    def __enter__(self) -> _Browser:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.deadline = time.monotonic() + self.timeout
        its_input, self._to_browser = os.pipe()
        self._from_browser, its_output = os.pipe()
        flags = [*FLAGS, f"--user-data-dir={self.profile}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            flags.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        # Chromium reads the protocol on fd 3 and writes on fd 4; a small Python puts the
        # pipes there (a shell's `3<&N` takes one-digit fds only) and becomes Chromium.
        place = [sys.executable, "-c", PLACE_FDS, str(its_input), str(its_output)]
        log = (self.profile / "chromium.log").open("wb")
        try:
            self.process = subprocess.Popen(
                [*place, str(self.chromium), *flags, "about:blank"],
                pass_fds=(its_input, its_output),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # its helper processes end with it (see __exit__)
            )
        except OSError as exc:
            raise PrintError(f"{self.chromium}: cannot start Chromium: {exc.strerror}") from exc
        finally:
            log.close()
            os.close(its_input)
            os.close(its_output)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self.process is not None and self.process.poll() is None:
                self._send("Browser.close", {}, None)
                self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired, PrintError):
            pass
        finally:
            self._kill()
            for fd in (self._to_browser, self._from_browser):
                if fd >= 0:
                    os.close(fd)
            self._to_browser = self._from_browser = -1

    def _kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer (events seen meanwhile are kept)."""
        sent = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == sent:
                if "error" in message:
                    raise PrintError(
                        f"Chromium refused {method}: {message['error'].get('message')}"
                    )
                result: dict[str, Any] = message.get("result", {})
                return result
            if "method" in message:
                self._events.append(message)

    def wait_for(self, event: str, session: str) -> dict[str, Any]:
        """Wait for `event` of `session` (it may have come already)."""
        while True:
            for message in self._events:
                if message.get("method") == event and message.get("sessionId") == session:
                    self._events.remove(message)
                    return message
            self._events.append(self._receive())

    def _send(self, method: str, params: dict[str, Any], session: str | None) -> int:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._to_browser, data) :]
        except BrokenPipeError as exc:
            raise self._died() from exc
        return self._next_id

    def _receive(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise PrintError(
                    f"Chromium did not print the book within {self.timeout:.0f} s (the limit "
                    "grows with the page's size); a script of the page may never end"
                )
            self._check_working()
            if self.cancel.is_set():
                raise PrintError("the PDF was not printed: the build stopped")
            ready, _, _ = select.select([self._from_browser], [], [], min(left, 0.2))
            if not ready:
                continue
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise self._died()
            self._buffer += chunk
        raw, _, self._buffer = self._buffer.partition(b"\0")
        message: dict[str, Any] = json.loads(raw)
        return message

    def _check_working(self) -> None:
        """Stop when Chromium used less than 1% of a core for `stall` seconds: the page
        waits on something that never comes. A large book keeps it busy for minutes,
        even on a loaded machine, and is never stopped for its size alone."""
        now = time.monotonic()
        ticks, since = self._busy
        if ticks >= 0 and now - since < self.stall:
            return
        used = _cpu_ticks(self.process.pid) if self.process is not None else 0
        if ticks >= 0 and (used - ticks) / TICKS_PER_SECOND < self.stall / 100:
            raise PrintError(
                f"Chromium waited {self.stall:.0f} s without working; the page may wait on "
                "something that never loads"
            )
        self._busy = (used, now)

    def _died(self) -> PrintError:
        """Chromium closed its pipe: say why, from the end of its log."""
        try:
            log = (self.profile / "chromium.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            log = ""
        tail = "\n".join(log.strip().splitlines()[-5:])
        return PrintError(f"{self.chromium} stopped before the PDF was printed:\n{tail}")
