"""The PDF stage: `_build/pdf/<course id>.pdf`, the single-page book printed by Chromium.

Three stages (`coursekit.build.stages`). `pdf page`: the book engine builds the
book as one page (`BookEngine.build_print_page`; with Sphinx, the `singlehtml`
builder, the same configuration and the execute stage's cache) in the site's work
folder, `_build/.cache/book/`, on the same environment: the sources changed since the
last build are read once, here, and the site's build then only writes its pages
(`coursekit.book.sphinx.build`); the print edition makes it a printed book (print style sheet,
unit breaks, quiz answers in an appendix) and exercises are the student edition,
as on the site. `pdf`: the page is cut into parts of whole units
(`coursekit.packages.pdf.parts`), served on 127.0.0.1, printed by Chromium
(`coursekit.packages.pdf.chromium`) part by part, and the parts joined
(`coursekit.packages.pdf.join`), while the site is built and packed (a `PrintJob`
the build runs in a thread); skipped when the page, its assets, the browser and the
settings are those the published PDF was printed from, and a part printed before
from the same text and assets is not printed again. `pdf warnings`: after the
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
import json
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.book.engine import BookResult
from coursekit.build.book_stage import BOOK_WORK, book_request
from coursekit.build.context import BuildContext, BuildSummary
from coursekit.build.stages import Stage
from coursekit.errors import BuildError
from coursekit.model import Course, PdfSettings
from coursekit.packages.pdf.chromium import ChromiumMissing, Printer, PrintError, find_chromium
from coursekit.packages.pdf.parts import split

OUTPUT = "pdf"
PDF_KEY_FILE = ".cache/pdf-key.txt"  # what the published PDF was printed from
PARTS_CACHE = ".cache/pdf-parts"  # each part's PDF and headings, by what it was printed from
ASSETS = "pdf assets"  # in ctx.results: the digest of the page's assets and browser


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

    The page is cut into parts of whole units (`coursekit.packages.pdf.parts`),
    each printed by one Chromium in a tab of its own, one after the other, and the
    PDFs joined (`coursekit.packages.pdf.join`). A part printed before from the same
    text and assets is taken from `cache` (`_build/.cache/pdf-parts/`): after a
    prose edit, only the edited unit's part is printed again.

    It runs in a thread while the site is built and packed (Chromium is a process
    of its own, so both cores work); `cancel` stops it (Ctrl-C).
    """

    chromium: Path
    page: Path
    staged: Path
    profile: Path
    site: Path  # the single-page site the page is in (a root page may sit in a sub-folder)
    title: str  # the PDF's title when the page has none of its own
    cache: Path  # the parts printed before, by what they were printed from
    assets: bytes  # the digest of what every part is printed from but its text
    part_bytes: int  # each part at least this long (`coursekit.pdf.part_kb`)
    summary: BuildSummary | None = None  # told how many parts were printed
    cancel: threading.Event = field(default_factory=threading.Event)
    name: str = "pdf print"

    def run(self) -> None:
        text = self.page.read_text(encoding="utf-8", errors="replace")
        parts = split(text, self.page.name, self.part_bytes)
        keys = [_part_key(self.assets, part.html) for part in parts]
        self.cache.mkdir(parents=True, exist_ok=True)
        todo = {k: p.html for k, p in zip(keys, parts, strict=True) if not _printed(self.cache, k)}
        if todo:
            self._print(todo)
        if self.summary is not None:
            self.summary.pdf_parts = (len(todo), len(keys))
        headings = [h for k in keys for h in json.loads((self.cache / f"{k}.json").read_text())]
        self._join([self.cache / f"{k}.pdf" for k in keys], headings)
        for old in self.cache.iterdir():
            if old.stem not in keys:
                old.unlink()

    def _join(self, parts: list[Path], headings: list[str]) -> None:
        """Join the parts into the staged PDF, in a process of its own: the build's
        process keeps its interpreter (the site is built meanwhile) and its memory."""
        named = self.profile / "headings.json"
        named.write_text(json.dumps(headings), encoding="utf-8")
        command = [sys.executable, "-m", "coursekit.packages.pdf.join"]
        command += [str(self.staged), self.title, str(named), *map(str, parts)]
        with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as joining:
            while True:  # its messages read meanwhile: a full pipe would stop it
                try:
                    problem = joining.communicate(timeout=0.2)[1] or ""
                    break
                except subprocess.TimeoutExpired:
                    if self.cancel.is_set():
                        joining.kill()
                        raise PrintError("the PDF was not printed: the build stopped") from None
        if joining.returncode != 0:
            tail = "\n".join(problem.strip().splitlines()[-5:])
            raise PrintError(f"the PDF's parts could not be joined:\n{tail}")

    def _print(self, todo: dict[str, str]) -> None:
        """Print each part of `todo` (key: HTML) into the cache, one after the other;
        the page is served at the site's top, as each part is (a root page in a
        sub-folder links `_static/...` as if it were there)."""
        served = {f"coursekit-print-{k[:16]}.html": html.encode() for k, html in todo.items()}
        limit = print_time_limit(self.page)
        with (
            _served(self.site, served) as base,
            Printer(self.chromium, self.profile, limit, self.cancel) as printer,
        ):
            for key in todo:
                printing = self.cache / f".{key}.pdf"
                headings = printer.print(f"{base}/coursekit-print-{key[:16]}.html", printing)
                (self.cache / f"{key}.json").write_text(json.dumps(headings), encoding="utf-8")
                printing.replace(self.cache / f"{key}.pdf")


# Sphinx's checksum of a style sheet or script in its URL (`x.css?v=1a2b3c4d`): written
# only once the file is in the output folder, so a cold build's page has none and the
# next build's has them all. The files themselves are in the assets' key.
ASSET_CHECKSUM = re.compile(r"\?v=[0-9a-f]{8}\b")


def _part_key(assets: bytes, html: str) -> str:
    """What a part is printed from: its text (but Sphinx's checksums) and the assets."""
    return hashlib.sha256(assets + ASSET_CHECKSUM.sub("", html).encode()).hexdigest()


def _printed(cache: Path, key: str) -> bool:
    return (cache / f"{key}.pdf").is_file() and (cache / f"{key}.json").is_file()


def _assets_key(site: Path, page: Path, chromium: Path) -> bytes:
    """What every part is printed from besides its own text: the browser, and every
    file of the single-page site but the page (style sheets, images, scripts)."""
    digest = hashlib.sha256(str(chromium.resolve()).encode())
    digest.update(str(chromium.stat().st_mtime_ns).encode())
    for path in sorted(p for p in site.rglob("*") if p.is_file() and p != page):
        digest.update(path.relative_to(site).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.digest()


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
    """What the PDF is printed from (None: nothing to print): the page, its assets and
    the browser (`_assets_key`), the title and the part size."""
    page = _page(ctx)
    if page is None:
        return None
    digest = hashlib.sha256(_assets(ctx, page))
    digest.update(f"{pdf_title(ctx.course)}\n{pdf_settings(ctx.course).part_kb}\n".encode())
    digest.update(hashlib.sha256(page.page.read_bytes()).digest())
    return digest.hexdigest()


def _assets(ctx: BuildContext, page: PrintPage) -> bytes:
    """`_assets_key` of the page, digested once per build (the key and the parts use it)."""
    found = ctx.results.get(ASSETS)
    if not isinstance(found, bytes):
        found = ctx.results[ASSETS] = _assets_key(page.site, page.page, page.chromium)
    return found


def prepare_print(ctx: BuildContext) -> PrintJob | None:
    """The printing still to do, left to run in a thread while the site is built."""
    page = _page(ctx)
    if page is None:
        return None
    staged = ctx.outputs.stage(OUTPUT) / pdf_name(ctx.course)
    scratch = ctx.outputs.scratch("chromium")
    title = pdf_title(ctx.course)
    cache = ctx.out_dir / PARTS_CACHE
    part_bytes = pdf_settings(ctx.course).part_kb * 1000
    return PrintJob(
        page.chromium,
        page.page,
        staged,
        scratch,
        page.site,
        title,
        cache,
        _assets(ctx, page),
        part_bytes,
        ctx.summary,
    )


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


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    pages: Mapping[str, bytes] = {}  # served from memory, at the site's top

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass

    def do_GET(self) -> None:
        page = self.pages.get(self.path.split("?", 1)[0].lstrip("/"))
        if page is None:
            super().do_GET()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.write(page)


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A request Chromium drops (a page printed before its last image came) is no
        error to print a traceback for; anything else still is."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def _served(folder: Path, pages: Mapping[str, bytes] | None = None) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) while Chromium prints, and `pages`
    (name: HTML) at its top; yields the base URL."""
    handler_class = type("_PageHandler", (_QuietHandler,), {"pages": dict(pages or {})})
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
