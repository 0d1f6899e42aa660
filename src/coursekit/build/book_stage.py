"""The book stage: the course's website, `_build/html/`, by the course's book engine.

The engine builds in its work folder (`_build/.cache/book/`), re-reading only what
changed; the site is then staged from it, sharing every unchanged file with the
published `_build/html` and copying only the changed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from coursekit.book.engine import BookRequest
from coursekit.build.context import BuildContext
from coursekit.build.execute_stage import cache_dir
from coursekit.build.publish import TreeChange
from coursekit.build.stages import Stage
from coursekit.build.workfiles import sphinx_exclude, tools_key

BOOK_WORK = ".cache/book"  # under the output folder: the engine's work folder for the site


@dataclass(frozen=True, slots=True)
class Site:
    """The staged HTML site and what changed in it since the published one."""

    html_dir: Path
    change: TreeChange


def book_request(ctx: BuildContext, work: str) -> BookRequest:
    """What the engine is asked to build, in the work folder `<out>/<work>`."""
    return BookRequest(
        course=ctx.course,
        work=ctx.out_dir / work,
        key=tools_key(),
        cache_dir=cache_dir(ctx),
        kept=ctx.summary.kept,
        exclude=sphinx_exclude(ctx.root, ctx.out_dir),
        warm=ctx.books,
    )


def build_site(ctx: BuildContext) -> Site:
    """The website, staged as the `html` output (also what the packages are made from)."""
    result = ctx.engine.build_site(book_request(ctx, BOOK_WORK))
    ctx.summary.book_warnings = result.warnings
    ctx.summary.pages_read = result.read
    ctx.stop_on_warnings("the book stage", result.warnings)
    change = ctx.outputs.stage_tree("html", result.html_dir)
    ctx.summary.files_changed = len(change.changed) + len(change.removed)
    return Site(ctx.outputs.staging / "html", change)


def site_of(ctx: BuildContext) -> Site:
    """The site the book stage staged (a stage that reads it `needs=("book",)`)."""
    site = ctx.results.get(BOOK.name)
    if not isinstance(site, Site):
        raise RuntimeError("the book stage has not run: a stage reading the site needs it")
    return site


BOOK = Stage(
    "book",
    build_site,
    produces=("html",),
    needs=("execute",),
    phase=40,
    help="the website (Jupyter Book 1.x)",
)
