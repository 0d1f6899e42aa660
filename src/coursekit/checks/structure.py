"""Checks on the course's shape: which files the TOC reaches."""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.formats.globs import matches_any
from coursekit.model import Course


def unreached_pages(course: Course) -> Iterator[Finding]:
    """CK115: a page in a module folder that no TOC entry reaches is invisible in the book.

    Only in coursekit's own layout (`modules/` holding `module.yml` files): elsewhere a
    folder of that name is the book's business. A file the book's own `exclude_patterns`
    leave out (a data folder's README, drafts) is left out on purpose.
    """
    if course.toc is None or not course.module_layout or course.config is None:
        return
    reached = {page.path for page in course.pages}
    excluded = course.config.exclude_patterns
    for rel in course.files.module_pages:
        if rel not in reached and not matches_any(rel, excluded):
            yield make(
                "CK115",
                rel,
                0,
                0,
                "no _toc.yml entry reaches this page, so the book leaves it out; "
                "add it to _toc.yml or move it out of modules/",
            )


def quiz_without_extension(course: Course) -> Iterator[Finding]:
    """CK460: `{quiz}` in a book whose `_config.yml` lacks coursekit's Sphinx extension.

    `coursekit build` always adds it, but a plain `jupyter-book build` would drop the
    quiz with only an "Unknown directive type" warning, leaving a unit nobody can pass.
    """
    if course.config is None or "coursekit.sphinxext" in course.config.extensions:
        return
    if course.config.path == "myst.yml":  # Jupyter Book 2: coursekit renders the quiz itself
        return
    for use in course.quiz_uses[:1]:
        yield make(
            "CK460",
            use.page,
            use.line,
            use.col,
            "this page shows a quiz, but _config.yml does not list coursekit.sphinxext; "
            "`coursekit build` adds it, a plain `jupyter-book build` drops the quiz: add "
            "`coursekit.sphinxext` to `sphinx: extra_extensions`",
        )


CHECKS = (unreached_pages, quiz_without_extension)
