"""What the build needs from a book engine, whichever one turns the course into a website.

The stages and packages call only this interface: build the site from the loaded
course into a work folder, incrementally (`build_site`); build the one page the
PDF is printed from (`build_print_page`); say which course files the last build
read, for the build's fingerprint (`read_inputs`). The engine's own warnings come
back as strings in `BookResult.warnings`.
`coursekit.book.engine_for` picks the engine for a course: today always Jupyter Book
1.x (Sphinx, `coursekit.book.sphinx`); a Jupyter Book 2 (mystmd) engine would be a
second implementation and a line in `engine_for`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from coursekit.model import Course


@dataclass(frozen=True, slots=True)
class BookResult:
    """A finished engine build: the folder of its HTML and what it said."""

    html_dir: Path
    warnings: tuple[str, ...]  # of every page, re-read this time or not
    read: tuple[str, ...] = ()  # pages the engine (re-)read this time
    page: Path | None = None  # `build_print_page`'s one page (inside `html_dir`)


@dataclass(frozen=True, slots=True)
class BookRequest:
    """One engine build of the course.

    `work`: the engine's own folder, kept between builds (what makes it
    incremental). `key`: what else the output depends on (coursekit's code, the
    tools' versions); a work folder built with another key starts afresh.
    `cache_dir`: the executed notebooks (the execute stage's jupyter-cache); None
    shows the outputs stored in the notebooks. `kept`: notebooks the execute stage
    did not run, shown with their stored outputs. `exclude`: course paths that are
    not pages (the output folder when it lies inside the course). `warm`: the
    engine's state a long-running process (`coursekit serve`) keeps between builds.
    """

    course: Course
    work: Path
    key: str
    cache_dir: Path | None = None
    kept: Sequence[str] = ()
    exclude: Sequence[str] = ()
    warm: Any = None


class BookEngine(Protocol):
    """A book engine (see the module docstring)."""

    name: str

    def build_site(self, request: BookRequest) -> BookResult:
        """The website of the course, in `result.html_dir` (inside `request.work`)."""
        ...

    def build_print_page(self, request: BookRequest) -> BookResult:
        """The whole book as one HTML page (`result.page`), to be printed as the PDF."""
        ...

    def read_inputs(self, work: Path) -> list[str] | None:
        """The course files the last build in `work` read (None: no build recorded)."""
        ...
