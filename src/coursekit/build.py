"""`coursekit build`: the stage list, from sources to the published outputs.

    load → check → execute → exercises → book → package

`build_course` reads as that list. Each stage is one call; stages write into the
build's staging area (`coursekit.outputs`) and the outputs replace the previous
ones only when every stage succeeded. The exercises stage runs in a thread while
the book is built (Sphinx keeps one core busy, the self-checks' kernels the
other). Stages never print: they tell a `Reporter` (the CLI draws it).

When nothing a build reads has changed since the last successful build (course
files, coursekit itself, the book tools' versions, the options), the build stops
after the checks and says the outputs are up to date.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import coursekit
from coursekit import findings as findings_mod
from coursekit.checks import check_course, reported
from coursekit.errors import BuildError, CourseError
from coursekit.execsettings import ExecuteSettings
from coursekit.execute import ExecuteEvent, cache_folder, execute_notebooks, select_notebooks
from coursekit.findings import Finding
from coursekit.model import Course
from coursekit.outputs import BuildLock, Outputs, tree_size

OUTPUTS = ("html", "scorm", "exercises")
FINGERPRINT_FILE = ".fingerprint.json"
CACHE_DIR = ".jupyter_cache"
BOOK_TOOLS = ("jupyter-book", "sphinx", "myst-nb", "sphinx-book-theme", "sphinxcontrib-bibtex")
# Folders whose files are not inputs of the book (besides the output folder itself).
NOT_INPUTS = {
    "_build",
    ".git",
    ".venv",
    "node_modules",
    "tests",
    "benchmarks",
    "src",
    "test-artifacts",
    "__pycache__",
    ".ipynb_checkpoints",
}


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


def default_jobs() -> int:
    """Notebooks executed at once when --jobs is not given: the number of cores."""
    return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class BuildOptions:
    out: Path | None = None  # default: <course>/_build
    only: str | None = None  # "html" | "scorm" | "exercises"
    jobs: int = field(default_factory=default_jobs)
    execute: bool = True
    strict: bool = False
    timeout: int | None = None  # per cell; default: _config.yml execute.timeout
    select: tuple[str, ...] = ()  # check codes to report (prefixes), as `check --select`
    ignore: tuple[str, ...] = ()  # check codes not to report, as `check --ignore`


@dataclass
class BuildSummary:
    out_dir: Path
    outputs: dict[str, int] = field(default_factory=dict)  # name -> bytes
    stage_seconds: dict[str, float] = field(default_factory=dict)
    executed: tuple[str, ...] = ()
    cached: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # notebooks shown with their stored outputs (settings say so)
    findings: tuple[Finding, ...] = ()
    book_warnings: tuple[str, ...] = ()
    up_to_date: bool = False
    seconds: float = 0.0  # wall clock (stages may overlap)


def build_course(root: Path, options: BuildOptions, reporter: Reporter) -> BuildSummary:
    """Build the course at `root`; raises `CourseKitError` and leaves old outputs intact."""
    start = time.monotonic()
    root = root.resolve()
    out_dir = (options.out or root / "_build").resolve()
    summary = BuildSummary(out_dir)
    wanted = _wanted(options.only)
    timer = _StageTimer(summary, reporter)
    with BuildLock(out_dir):
        with timer("load and check"):
            course = load_and_check(root, options, summary)
        fingerprint = _fingerprint(root, out_dir, options, wanted)
        if _up_to_date(out_dir, fingerprint, wanted) and not _forced(course, options):
            summary.up_to_date = True
            _measure(out_dir, wanted, summary)
            summary.seconds = time.monotonic() - start
            return summary
        outputs = Outputs(out_dir)
        try:
            with timer("execute"):
                execute(course, out_dir, options, wanted, reporter, summary)
            # The exercises' self-checks run kernels while Sphinx, which uses one core,
            # builds the book: neither reads what the other writes.
            with (
                timer.background(
                    "exercises", build_exercises, course, outputs, options, wanted, summary
                ),
                timer("book"),
            ):
                html_dir = build_html(course, outputs, out_dir, options, wanted, summary)
            with timer("package"):
                package_scorm(course, html_dir, outputs, wanted, summary)
            outputs.commit()
        finally:
            outputs.discard()
        _save_fingerprint(out_dir, fingerprint, wanted)
        _measure(out_dir, wanted, summary)
    summary.seconds = time.monotonic() - start
    return summary


# ------------------------------------------------------------------ the stages


def load_and_check(root: Path, options: BuildOptions, summary: BuildSummary) -> Course:
    """Load and check the course; errors (and warnings under --strict) stop the build.

    `--select`/`--ignore` and the book's waivers (`coursekit.ignore`,
    `coursekit.per_file_ignores`) apply as they do for `coursekit check`.
    """
    course, found = check_course(root)
    kept = reported(course, found, options.select, options.ignore)
    summary.findings = tuple(kept)
    if findings_mod.exit_code(kept, options.strict):
        raise CourseError(
            f"{findings_mod.format_findings(kept)}\n"
            f"build stopped by the checks: {findings_mod.summary(kept)}; "
            "fix them and run `coursekit build` again"
        )
    return course


def execute(
    course: Course,
    out_dir: Path,
    options: BuildOptions,
    wanted: set[str],
    reporter: Reporter,
    summary: BuildSummary,
) -> None:
    """Run the notebooks the book's settings say to run into the jupyter-cache the book reads."""
    if not wanted & {"html", "scorm"}:
        return  # only the exercises: they run their own notebooks
    if not options.execute:
        reporter.note("--no-execute: the book shows the outputs stored in the notebooks")
        return
    settings = book_execute_settings(course)
    if settings.mode == "off":
        reporter.note("execute_notebooks is off: the book shows the notebooks' stored outputs")
        return
    selection = select_notebooks(course.root, [p.path for p in course.pages], settings)
    summary.kept = selection.kept
    result = execute_notebooks(
        course.root,
        selection.run,
        cache_folder(course.root, out_dir, settings),
        jobs=options.jobs,
        timeout=options.timeout or settings.timeout,
        on_event=reporter.notebook,
        settings=settings,
    )
    summary.executed, summary.cached = result.executed, result.cached


def book_execute_settings(course: Course) -> ExecuteSettings:
    """The book's execution settings (a bad one was a check error, which stopped the build)."""
    return course.config.execute if course.config else ExecuteSettings()


def build_exercises(
    course: Course, outputs: Outputs, options: BuildOptions, wanted: set[str], summary: BuildSummary
) -> None:
    """Student and teacher editions of the exercises (coursekit.exercises)."""
    if "exercises" not in wanted:
        return
    from coursekit.exercises import build_editions

    build_editions(course, outputs.stage("exercises"), options.jobs)


def build_html(
    course: Course,
    outputs: Outputs,
    out_dir: Path,
    options: BuildOptions,
    wanted: set[str],
    summary: BuildSummary,
) -> Path | None:
    """The Jupyter Book HTML site (also needed to package SCORM)."""
    if not wanted & {"html", "scorm"}:
        return None
    from coursekit.book import build_book

    html_dir = outputs.stage("html")
    settings = book_execute_settings(course)
    reads_cache = options.execute and settings.mode != "off"
    result = build_book(
        course.root,
        html_dir,
        outputs.scratch("book"),
        cache_dir=cache_folder(course.root, out_dir, settings) if reads_cache else None,
        kept=summary.kept,
        exclude=_inside(course.root, out_dir),
        jobs=options.jobs,
    )
    summary.book_warnings = result.warnings
    if options.strict and result.warnings:
        raise BuildError("--strict: the book stage warned:\n" + "\n".join(result.warnings))
    return html_dir


def package_scorm(
    course: Course, html_dir: Path | None, outputs: Outputs, wanted: set[str], summary: BuildSummary
) -> None:
    """The SCORM 1.2 and 2004 zips, made from the HTML site (coursekit.scorm)."""
    if "scorm" not in wanted or html_dir is None:
        return
    from coursekit.scorm import package

    package(course, html_dir, outputs.stage("scorm"))


# ----------------------------------------------------------------- the helpers


def _wanted(only: str | None) -> set[str]:
    if only is None:
        return set(OUTPUTS)
    if only not in OUTPUTS:
        raise BuildError(f"--only must be one of {', '.join(OUTPUTS)}, got {only!r}")
    return {only}


def _inside(root: Path, out_dir: Path) -> list[str]:
    """Sphinx exclude pattern for the output folder when it lies inside the course."""
    try:
        return [out_dir.relative_to(root).as_posix()]
    except ValueError:
        return []


class _StageTimer:
    def __init__(self, summary: BuildSummary, reporter: Reporter) -> None:
        self.summary, self.reporter = summary, reporter

    @contextmanager
    def background(self, name: str, stage: Callable[..., None], *args: Any) -> Iterator[None]:
        """Run `stage(*args)` in a thread during the block; its error is raised after it."""
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self(name):
                    stage(*args)
            except BaseException as exc:  # handed to the main thread below
                errors.append(exc)

        # A daemon: on Ctrl-C the build exits without waiting for the self-checks.
        thread = threading.Thread(target=run, name=f"coursekit-{name}", daemon=True)
        thread.start()
        yield
        thread.join()
        if errors:
            raise errors[0]

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.reporter.stage(name)
        start = time.monotonic()
        try:
            yield
        finally:
            self.summary.stage_seconds[name] = time.monotonic() - start


def _measure(out_dir: Path, wanted: set[str], summary: BuildSummary) -> None:
    for name in OUTPUTS:
        if name in wanted and (out_dir / name).exists():
            summary.outputs[name] = tree_size(out_dir / name)


# --------------------------------------------------- skipping a build with no change


def _fingerprint(root: Path, out_dir: Path, options: BuildOptions, wanted: set[str]) -> str:
    """A hash of everything a build reads: course files, coursekit itself, options."""
    digest = hashlib.sha256()
    tools = [importlib.metadata.version(name) for name in BOOK_TOOLS]
    digest.update(
        json.dumps(
            [
                coursekit.__version__,
                tools,
                sorted(wanted),
                options.execute,
                options.timeout,
                options.strict,
            ]
        ).encode()
    )
    for base in (root, Path(coursekit.__file__).parent):
        for path in sorted(input_files(base, out_dir)):
            digest.update(str(path.relative_to(base)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def input_files(base: Path, out_dir: Path) -> Iterator[Path]:
    """The files under `base` a build reads (not outputs, caches, tests or tooling)."""
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        dirnames[:] = [
            d
            for d in dirnames
            if d not in NOT_INPUTS and not d.startswith(".") and here / d != out_dir
        ]
        for name in filenames:
            if not name.endswith((".pyc", ".tmp")):
                yield here / name


def _forced(course: Course, options: BuildOptions) -> bool:
    """`execute_notebooks: force`: every build runs every notebook, changed or not."""
    return options.execute and book_execute_settings(course).mode == "force"


def _up_to_date(out_dir: Path, fingerprint: str, wanted: set[str]) -> bool:
    try:
        saved = json.loads((out_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(
        saved.get(name, {}).get("fingerprint") == fingerprint and (out_dir / name).exists()
        for name in wanted
    )


def _save_fingerprint(out_dir: Path, fingerprint: str, wanted: set[str]) -> None:
    path = out_dir / FINGERPRINT_FILE
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        saved = {}
    for name in wanted:
        saved[name] = {"fingerprint": fingerprint}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(saved), encoding="utf-8")
    tmp.replace(path)
