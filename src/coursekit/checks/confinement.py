"""CK308: a directive ({include}, {literalinclude}, {csv-table} :file:…) or a `_config.yml`
setting (bibtex_bibfiles, html_static_path, html_favicon…) that makes the book read a file
outside the course folder, through a symlink, or a special file (FIFO, device).

The table of what reads a file and the file-system questions are in
`coursekit.loading.reads`; the loader answers them once, this check reports.
"""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.findings import Finding
from coursekit.model import Course


def confined_reads(course: Course) -> Iterator[Finding]:
    """CK308: the book would copy a file from outside the course into the site."""
    yield from course.files.confinement


CHECKS = (confined_reads,)
