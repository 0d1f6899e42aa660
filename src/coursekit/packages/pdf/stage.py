"""The PDF stage: `_build/pdf/<course id>.pdf`, the single-page book printed by Chromium.

The book is built once more with Sphinx's `singlehtml` builder, through the same
machinery as the site (`coursekit.book.sphinx.build`: the same configuration, coursekit's
extensions, the execute stage's cache) in a work tree of its own,
`_build/.cache/pdf/`, so a rebuild re-reads only what changed there too. Under
that builder `coursekit.printedition` makes the page a printed book (print
style sheet, unit breaks, quiz answers in an appendix) and exercises are the
student edition, as on the site. The page is then served on 127.0.0.1 and printed
by Chromium (`coursekit.chromium`) while the site is built and packed (a
`PrintJob`, run in a thread by the build); the PDF is printed again only when the
page, its assets or the browser changed.

Chromium is not a Python dependency. Without it the stage says how to install it
or turn the PDF off (`coursekit: pdf: false`) and the other outputs are built as
usual; only `--only pdf` makes that an error.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coursekit.build.workfiles import read_text, sphinx_exclude, tools_key, write_text
from coursekit.errors import BuildError
from coursekit.model import Course, PdfSettings
from coursekit.packages.pdf.chromium import ChromiumMissing, find_chromium, print_pdf
from coursekit.packages.pdf.outline import repair_titles

if TYPE_CHECKING:
    from coursekit.build.pipeline import BuildOptions, BuildSummary, Reporter
    from coursekit.build.publish import Outputs

OUTPUT = "pdf"
PDF_WORK = ".cache/pdf"  # under the output folder: the singlehtml work tree
PDF_KEY_FILE = ".cache/pdf-key.txt"  # what the published PDF was printed from


def pdf_settings(course: Course) -> PdfSettings:
    return course.config.pdf if course.config else PdfSettings()


def wanted_outputs(course: Course, wanted: set[str], only: str | None) -> set[str]:
    """The outputs to build, without the PDF when `_config.yml` turns it off."""
    if OUTPUT not in wanted or pdf_settings(course).enabled:
        return wanted
    if only == OUTPUT:
        raise BuildError(
            "_config.yml: --only pdf, but the PDF is turned off there (`coursekit: pdf:`); "
            "remove that setting to build it"
        )
    return wanted - {OUTPUT}


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
    cancel: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with _served(self.page.parent) as base:
            url = f"{base}/{self.page.name}"
            headings = print_pdf(self.chromium, url, self.staged, self.profile, cancel=self.cancel)
        repair_titles(self.staged, headings)


def prepare_pdf(
    course: Course,
    outputs: Outputs,
    out_dir: Path,
    options: BuildOptions,
    wanted: set[str],
    summary: BuildSummary,
    reporter: Reporter,
) -> PrintJob | None:
    """Build the single-page book; return the printing still to do, or None when
    there is nothing to print (no PDF wanted, no Chromium, or the published PDF was
    printed from this very page). A missing Chromium is a warning only."""
    if OUTPUT not in wanted:
        return None
    try:
        chromium = find_chromium(pdf_settings(course).chromium)
    except ChromiumMissing as exc:
        if options.only == OUTPUT:
            raise
        reporter.note(f"warning: {exc}")
        # No stale PDF beside the new site: the next build (with Chromium) makes it.
        outputs.on_commit(lambda: shutil.rmtree(out_dir / OUTPUT, ignore_errors=True))
        return None
    page = _single_page(course, out_dir, options, summary)
    key = _print_key(page.parent, chromium)
    published = out_dir / OUTPUT / pdf_name(course)
    key_file = out_dir / PDF_KEY_FILE
    if published.is_file() and read_text(key_file) == key:
        return None  # the published PDF was printed from this very page
    staged = outputs.stage(OUTPUT) / pdf_name(course)
    outputs.on_commit(lambda: write_text(key_file, key))
    return PrintJob(chromium, page, staged, outputs.scratch("chromium"))


def merge_warnings(summary: BuildSummary, options: BuildOptions) -> None:
    """Add the single-page build's own warnings to the book's, once the book is built
    (most are the same pages' warnings, said once); under --strict they stop the build."""
    new = [w for w in summary.pdf_warnings if w not in summary.book_warnings]
    summary.book_warnings = (*summary.book_warnings, *new)
    if options.strict and new:
        raise BuildError("--strict: the PDF's book build warned:\n" + "\n".join(new))


def _single_page(
    course: Course, out_dir: Path, options: BuildOptions, summary: BuildSummary
) -> Path:
    """The singlehtml book (built in its work tree); returns its one page."""
    from coursekit.book.sphinx.build import build_book
    from coursekit.build import pipeline as stages
    from coursekit.execute.notebooks import cache_folder

    settings = stages.book_execute_settings(course)
    reads_cache = options.execute and settings.mode != "off"
    result = build_book(
        course.root,
        out_dir / PDF_WORK,
        cache_dir=cache_folder(course.root, out_dir, settings) if reads_cache else None,
        kept=summary.kept,
        key=tools_key(),
        exclude=sphinx_exclude(course.root, out_dir),
        jobs=options.jobs,
        builder="singlehtml",
        warm=options.books,
        course=course,
    )
    summary.pdf_warnings = result.warnings
    root = course.toc.root.path if course.toc and course.toc.root else None
    page = result.html_dir / f"{root.rsplit('.', 1)[0] if root else 'index'}.html"
    if not page.is_file():
        raise BuildError(f"_toc.yml: the single-page book has no page {page.name} to print")
    return page


def _print_key(site: Path, chromium: Path) -> str:
    """What the PDF is printed from: every file of the single-page site, and the browser."""
    digest = hashlib.sha256(str(chromium.resolve()).encode())
    digest.update(str(chromium.stat().st_mtime_ns).encode())
    for path in sorted(p for p in site.rglob("*") if p.is_file()):
        digest.update(path.relative_to(site).as_posix().encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


@contextmanager
def _served(folder: Path) -> Iterator[str]:
    """Serve `folder` on 127.0.0.1 (a free port) while Chromium prints; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="coursekit-pdf", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
