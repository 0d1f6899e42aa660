"""Checks on the course's shape: which files the TOC reaches."""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.loading import MODULES_DIR
from coursekit.model import PAGE_SUFFIXES, Course


def unreached_pages(course: Course) -> Iterator[Finding]:
    """CK115: a page under modules/ that no TOC entry reaches is invisible in the book."""
    if course.toc is None:
        return
    reached = {page.path for page in course.pages}
    base = course.root / MODULES_DIR
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(course.root).as_posix()
        if path.suffix not in PAGE_SUFFIXES or not path.is_file() or rel in reached:
            continue
        if any(part.startswith((".", "_")) for part in path.relative_to(base).parts):
            continue  # checkpoints, hidden and private folders
        yield make("CK115", rel, 0, 0,
                   "no _toc.yml entry reaches this page, so the book leaves it out; "
                   "add it to _toc.yml or move it out of modules/")


CHECKS = (unreached_pages,)
