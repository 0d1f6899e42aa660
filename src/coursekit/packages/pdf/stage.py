"""The PDF stage: `_build/pdf/<course id>.pdf`, the single-page book printed by Chromium.

Three stages (`coursekit.build.stages`). `pdf page`: the book engine builds the
book as one page (`BookEngine.build_print_page`; with Sphinx, the `singlehtml`
builder, the same configuration and the execute stage's cache) in the site's work
folder, `_build/.cache/book/`, on the same environment: the sources changed since the
last build are read once, here, and the site's build then only writes its pages
(`coursekit.book.sphinx.build`); the print edition makes it a printed book (print style sheet,
unit breaks, quiz answers in an appendix) and exercises are the student edition,
as on the site. `pdf`: the page is served on 127.0.0.1 and printed by Chromium
(`coursekit.packages.pdf.chromium`) while the site is built and packed (a
`PrintJob` the build runs in a thread); skipped when the page, its assets and the
browser are those the published PDF was printed from. `pdf warnings`: after the
book stage, the page's own warnings join the book's.

Chromium is not a Python dependency. Without it the stage says how to install it
or turn the PDF off (`coursekit: pdf: false`) and the other outputs are built as
usual; only `--only pdf` makes that an error.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.book.engine import BookResult
from coursekit.build.book_stage import BOOK_WORK, book_request
from coursekit.build.context import BuildContext
from coursekit.build.stages import Stage
from coursekit.errors import BuildError
from coursekit.model import Course, PdfSettings
from coursekit.packages.pdf.chromium import ChromiumMissing, find_chromium, print_pdf
from coursekit.packages.pdf.outline import repair_titles

OUTPUT = "pdf"
PDF_KEY_FILE = ".cache/pdf-key.txt"  # what the published PDF was printed from


def pdf_settings(course: Course) -> PdfSettings:
    return course.config.pdf if course.config else PdfSettings()


def turned_off(course: Course) -> str | None:
    """Why the course has no PDF (`coursekit: pdf: false` in `_config.yml`), or None."""
    if pdf_settings(course).enabled:
        return None
    return (
        "_config.yml: --only pdf, but the PDF is turned off there (`coursekit: pdf:`); "
        "remove that setting to build it"
    )


def pdf_name(course: Course) -> str:
    return f"{course.config.course_id if course.config else 'course'}.pdf"


@dataclass
class PrintJob:
    """What is left to do once the single page is built: Chromium prints it.

    It runs in a thread while the site is built and packed (Chromium is a process
    of its own, so both cores work); `cancel` stops it (Ctrl-C).
    """

    chromium: Path
    page: Path
    staged: Path
    profile: Path
    site: Path  # the single-page site the page is in (a root page may sit in a sub-folder)
    title: str  # the PDF's title when the page has none of its own
    cancel: threading.Event = field(default_factory=threading.Event)
    name: str = "pdf print"

    def run(self) -> None:
        # The whole site is served, and the page at its top: Sphinx's single page links
        # `_static/...` and `_images/...` as if it were there, even for a root page in a
        # sub-folder (`lectures/intro.html`).
        with _served(self.site, page=self.page) as base:
            url = f"{base}/{PRINTED}"
            headings = print_pdf(
                self.chromium,
                url,
                self.staged,
                self.profile,
                timeout=print_time_limit(self.page),
                cancel=self.cancel,
                title=self.title,
            )
        repair_titles(self.staged, headings)


def print_time_limit(page: Path) -> float:
    """Seconds Chromium may take in all to load and print `page`: 30 minutes, and 5 more
    for each MB of the page. Printing grows with the book: a 71-page book with thousands
    of formulas (an 8.5 MB page) took 344 s on a quiet 2-core machine, 290 of them in
    Chromium's print itself, and a loaded machine takes longer. A page that waits on
    what never loads is stopped long before, when Chromium sits idle
    (`coursekit.packages.pdf.chromium.STALL`); this limit only ends a script that never
    stops working."""
    return 1800 + 300 * page.stat().st_size / 1_000_000


@dataclass(frozen=True, slots=True)
class PrintPage:
    """The single page to print, its site, and the browser to print it with."""

    chromium: Path
    page: Path
    site: Path


def single_page(ctx: BuildContext) -> PrintPage | None:
    """Build the single-page book; None without Chromium (a warning only, but with
    `--only pdf`), and then no stale PDF is left beside the new site."""
    try:
        chromium = find_chromium(pdf_settings(ctx.course).chromium)
    except ChromiumMissing as exc:
        if ctx.only == OUTPUT:
            raise
        ctx.reporter.note(f"warning: {exc}")
        ctx.outputs.on_commit(lambda: shutil.rmtree(ctx.out_dir / OUTPUT, ignore_errors=True))
        return None
    try:
        result: BookResult = ctx.engine.build_print_page(book_request(ctx, BOOK_WORK))
    except BuildError as exc:  # the engine says "the book stage": here, the PDF's own build
        said = str(exc).replace("the book stage failed", "the PDF's single-page book failed", 1)
        where = _where(exc.__cause__, ctx.root)
        raise BuildError(f"{where}: {said}" if where else said) from exc
    ctx.summary.pdf_warnings = result.warnings
    assert result.page is not None  # the engine's promise
    return PrintPage(chromium, result.page, result.html_dir)


def _where(exc: BaseException | None, root: Path) -> str | None:
    """The page (and line) an error of the single-page build came from, where Sphinx's
    frames know it: the node being written (`node.source`, `node.line`), else the
    document being read or written (`docname`)."""
    found: str | None = None
    tb = exc.__traceback__ if exc is not None else None
    while tb is not None:  # outermost first: the innermost frame that knows wins
        local = tb.tb_frame.f_locals
        node, docname = local.get("node"), local.get("docname")
        source = getattr(node, "source", None) if node is not None else None
        if isinstance(source, str) and source:
            shown = Path(source)
            with contextlib.suppress(ValueError):
                shown = shown.resolve().relative_to(root.resolve())
            line = getattr(node, "line", None)
            found = f"{shown.as_posix()}:{line}" if line else shown.as_posix()
        elif isinstance(docname, str) and docname and found is None:
            found = docname
        tb = tb.tb_next
    return found


def _page(ctx: BuildContext) -> PrintPage | None:
    found = ctx.results.get(PDF_PAGE.name)
    return found if isinstance(found, PrintPage) else None


def print_key(ctx: BuildContext) -> str | None:
    """What the PDF is printed from (None: nothing to print)."""
    page = _page(ctx)
    return None if page is None else _print_key(page.site, page.chromium, pdf_title(ctx.course))


def prepare_print(ctx: BuildContext) -> PrintJob | None:
    """The printing still to do, left to run in a thread while the site is built."""
    page = _page(ctx)
    if page is None:
        return None
    staged = ctx.outputs.stage(OUTPUT) / pdf_name(ctx.course)
    scratch = ctx.outputs.scratch("chromium")
    return PrintJob(page.chromium, page.page, staged, scratch, page.site, pdf_title(ctx.course))


def pdf_title(course: Course) -> str:
    """The PDF's title: the book's, else its root page's, else the course folder's name
    (never the local server's URL Chromium would put there for a page with no title)."""
    from coursekit.loading.config import _title_from_folder  # what a book with none gets

    title = ((course.config.title if course.config else "") or "").strip()
    if title and title != _title_from_folder(course.root):
        return title
    root = course.toc.root.path if course.toc and course.toc.root else None
    page = next((p for p in course.pages if p.path == root), None)
    return (page.title if page is not None else None) or title or course.root.name


def merge_warnings(ctx: BuildContext) -> None:
    """Add the single-page build's own warnings to the book's, once the book is built
    (most are the same pages' warnings, said once); under --strict they stop the build."""
    summary = ctx.summary
    new = [w for w in summary.pdf_warnings if w not in summary.book_warnings]
    summary.book_warnings = (*summary.book_warnings, *new)
    ctx.stop_on_warnings("the PDF's book build", new)


def _print_key(site: Path, chromium: Path, title: str) -> str:
    """What the PDF is printed from: every file of the single-page site, the browser, the title."""
    digest = hashlib.sha256(f"{chromium.resolve()}\n{title}".encode())
    digest.update(str(chromium.stat().st_mtime_ns).encode())
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        digest.update(path.relative_to(site).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


PRINTED = "coursekit-print-page.html"  # the URL the page to print is served at


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    page: Path | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass

    def translate_path(self, path: str) -> str:
        if self.page is not None and path.split("?", 1)[0] == f"/{PRINTED}":
            return str(self.page)
        return super().translate_path(path)


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request Chromium drops (a page printed before its last image came) is no
        error to print a traceback for; anything else still is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def _served(folder: Path, page: Path | None = None) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) while Chromium prints, and `page` at
    `/PRINTED`; yields the base URL."""
    handler_class = type("_PageHandler", (_QuietHandler,), {"page": page})
    handler = functools.partial(handler_class, directory=str(folder))
    server = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="coursekit-pdf", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


PDF_PAGE = Stage(
    "pdf page", single_page, needs=("execute",), phase=20, timer="pdf", fails_alone=True
)
PDF = Stage(
    "pdf",
    prepare_print,
    produces=(OUTPUT,),
    needs=("pdf page",),
    key=print_key,
    key_file=PDF_KEY_FILE,
    present=lambda ctx: (ctx.out_dir / OUTPUT / pdf_name(ctx.course)).is_file(),
    phase=20,
    turned_off=turned_off,
    fails_alone=True,
    help="the book as one PDF, printed by Chromium",
)
# After the book stage: its warnings first, then the single page's own.
PDF_WARNINGS = Stage(
    "pdf warnings",
    merge_warnings,
    produces=(OUTPUT,),
    needs=("pdf page",),
    phase=40,
    timer="book",
    fails_alone=True,
)
