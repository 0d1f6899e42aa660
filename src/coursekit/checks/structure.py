"""Checks on the course's shape: which files the TOC reaches."""

from __future__ import annotations

import os
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
    # os.walk on strings: a big course has thousands of files here.
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))  # checkpoints…
        rel_folder = os.path.relpath(folder, course.root).replace(os.sep, "/")
        for name in sorted(files):
            rel = f"{rel_folder}/{name}"
            if name.startswith((".", "_")) or not name.endswith(PAGE_SUFFIXES) or rel in reached:
                continue
            yield make(
                "CK115",
                rel,
                0,
                0,
                "no _toc.yml entry reaches this page, so the book leaves it out; "
                "add it to _toc.yml or move it out of modules/",
            )


CHECKS = (unreached_pages,)
