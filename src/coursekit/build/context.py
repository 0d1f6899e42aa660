"""What one build knows: the options as given, resolved once into the context the stages read.

`BuildOptions` is what a caller asks for (the CLI's flags, `coursekit serve`'s
settings); `BuildContext` is that request decided once, against the loaded
course: the output folder, the jobs, the timeout, whether warnings stop the
build, the outputs wanted. No stage decides any of these again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coursekit.errors import BuildError
from coursekit.execute.settings import ExecuteSettings, cell_timeout
from coursekit.findings import Finding

if TYPE_CHECKING:
    from coursekit.book.engine import BookEngine
    from coursekit.build.publish import Outputs
    from coursekit.execute.notebooks import ExecuteEvent
    from coursekit.loading.pages import Parses
    from coursekit.model import Course

OUT_DIR = "_build"  # under the course, when --out is not given


def default_jobs() -> int:
    """Processes run at once when --jobs is not given: the number of cores."""
    return os.cpu_count() or 1


def out_folder(root: Path, out: Path | None = None) -> Path:
    """The output folder of the course at `root`: `out`, else `<root>/_build`."""
    return (out or root / OUT_DIR).resolve()


class Reporter(Protocol):
    """What a build tells whoever watches it. Only the CLI prints."""

    def stage(self, name: str) -> None: ...
    def notebook(self, event: ExecuteEvent) -> None: ...
    def note(self, text: str) -> None: ...


class SilentReporter:
    """A reporter that drops everything (for library use and tests)."""

    def stage(self, name: str) -> None:
        pass

    def notebook(self, event: ExecuteEvent) -> None:
        pass

    def note(self, text: str) -> None:
        pass


@dataclass(frozen=True, slots=True)
class BuildOptions:
    """What the caller asks for; None means "the default", decided in `BuildContext`."""

    out: Path | None = None  # default: <course>/_build
    only: str | None = None  # one output name of the registry (`coursekit.build.stages`)
    jobs: int | None = None  # notebooks (and self-checks) at once; default: the cores
    execute: bool = True
    strict: bool = False
    timeout: int | None = None  # per cell; default: _config.yml execute.timeout
    select: tuple[str, ...] = ()  # check codes to report (prefixes), as `check --select`
    ignore: tuple[str, ...] = ()  # check codes not to report, as `check --ignore`
    # Where a long-running process (`coursekit serve`) keeps the book engine between builds.
    books: Any = field(default=None, compare=False)
    # Where it keeps the pages' parses between loads (most pages are as they were).
    parses: Parses | None = field(default=None, compare=False)
    # Build although nothing changed (`serve` starts Sphinx before the first save).
    even_if_unchanged: bool = False


@dataclass
class BuildSummary:
    """What a build did, for the CLI's closing lines (and the tests)."""

    out_dir: Path
    outputs: dict[str, int] = field(default_factory=dict)  # name -> bytes
    stage_seconds: dict[str, float] = field(default_factory=dict)
    executed: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # notebooks shown with their stored outputs (settings say so)
    findings: tuple[Finding, ...] = ()
    book_warnings: tuple[str, ...] = ()
    pdf_warnings: tuple[str, ...] = ()  # of the PDF's single-page build
    up_to_date: bool = False
    seconds: float = 0.0  # wall clock (stages may overlap)
    pages_read: tuple[str, ...] = ()  # pages the book stage (re-)read
    files_changed: int = 0  # files of the site that differ from the published one
    reused: tuple[str, ...] = ()  # stages skipped: what they made is published already
    exercises: int = 0  # exercises in the editions
    selfchecked: tuple[str, ...] = ()  # exercises self-checked by this build (not cached)
    failed: dict[str, str] = field(default_factory=dict)  # output -> cause (it failed alone)
    pdf_parts: tuple[int, int] | None = None  # the PDF's parts printed, of all (the rest cached)

    @property
    def scorm_reused(self) -> bool:
        """The published zips already hold this site."""
        return "scorm" in self.reused


@dataclass(frozen=True, slots=True)
class BuildContext:
    """One build's decided settings, the loaded course and where stages put things.

    Frozen: stages read it. What they find out for the stages after them goes into
    `summary` (what the CLI shows) or `results` (a stage's return value, by name).
    """

    course: Course
    out_dir: Path
    wanted: frozenset[str]
    jobs: int
    timeout: int  # seconds a cell may run, every stage that runs code
    strict: bool  # warnings (the checks', the book engine's) stop the build
    execute: bool  # run notebooks (False: `--no-execute`)
    only: str | None
    engine: BookEngine
    reporter: Reporter
    summary: BuildSummary
    outputs: Outputs
    books: Any = None  # the engine's state kept between builds (`coursekit serve`)
    results: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.course.root

    @property
    def settings(self) -> ExecuteSettings:
        """The book's execution settings (a bad one was a check error, which stopped the build)."""
        return self.course.config.execute if self.course.config else ExecuteSettings()

    @property
    def reads_cache(self) -> bool:
        """Whether the book shows the notebooks the execute stage ran (its cache)."""
        return self.execute and self.settings.mode != "off"

    def stop_on_warnings(self, what: str, warnings: tuple[str, ...] | list[str]) -> None:
        """Under --strict, warnings stop the build (BuildError naming `what` warned)."""
        if self.strict and warnings:
            raise BuildError(f"--strict: {what} warned:\n" + "\n".join(warnings))


def resolve_timeout(course: Course, options: BuildOptions) -> int:
    """--timeout, else the book's `execute.timeout` (Jupyter Book's default, 30): the
    one rule of every command that runs code (`coursekit.execute.settings.cell_timeout`)."""
    return cell_timeout(options.timeout, course.config.execute if course.config else None)
