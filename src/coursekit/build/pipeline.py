"""`coursekit build`: the stage list, from sources to the published outputs.

    load → check → execute → exercises → book → package

`build_course` reads as that list. Each stage is one call; stages write into the
build's staging area (`coursekit.outputs`) and the outputs replace the previous
ones only when every stage succeeded. The exercises stage runs in a thread while
the book is built (Sphinx keeps one core busy, the self-checks' kernels the
other). Stages never print: they tell a `Reporter` (the CLI draws it).

Each stage redoes only what changed: the execute stage runs the notebooks whose
code changed, the exercises stage self-checks the exercises that changed, the
book stage re-reads and re-writes the pages that changed (Sphinx's environment
persists in `_build/.cache/book/`), and the SCORM zips are written again only
when the site or the course's packaging settings changed.

When nothing a build reads has changed since the last successful build (the
files the course and its pages name, coursekit itself, the book tools' versions,
the options), the build stops after the checks and says the outputs are up to
date. Files no stage reads (dotfiles, editor backups, files outside the TOC
that no page uses) do not count.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from coursekit import findings as findings_mod
from coursekit.build.publish import (
    BuildLock,
    Outputs,
    TreeChange,
    check_out_dir,
    mark_out_dir,
    tree_size,
)
from coursekit.build.workfiles import read_text, sphinx_exclude, tools_key, write_text
from coursekit.checks import check_course, reported
from coursekit.errors import BuildError, CourseError
from coursekit.execute.notebooks import (
    ExecuteEvent,
    cache_folder,
    execute_notebooks,
    select_notebooks,
)
from coursekit.execute.settings import ExecuteSettings
from coursekit.findings import Finding
from coursekit.loading.nbread import is_notebook_page
from coursekit.model import Course
from coursekit.packages.pdf.stage import PrintJob, merge_warnings, prepare_pdf, wanted_outputs

if TYPE_CHECKING:
    from coursekit.book.sphinx.build import WarmBooks  # imports Sphinx only when it builds

OUTPUTS = ("html", "scorm", "cmi5", "exercises", "pdf")
SITE_OUTPUTS = {"html", "scorm", "cmi5"}  # the outputs made of the built book
EXECUTED_OUTPUTS = SITE_OUTPUTS | {"pdf"}  # the outputs that show executed notebooks
FINGERPRINT_FILE = ".fingerprint.json"
CACHE_DIR = ".jupyter_cache"
WORK_DIR = ".cache"  # under the output folder: what incremental builds keep
BOOK_WORK = f"{WORK_DIR}/book"  # Sphinx's environment, doctrees and HTML
SELFCHECK_CACHE = f"{WORK_DIR}/selfcheck"  # verdicts of the exercise self-checks
SELFCHECK_NICENESS = 10  # self-checks yield the cores to what is waited for (build_exercises)
DEFLATE_CACHE = f"{WORK_DIR}/zip"  # each site file deflated once, for every zip
SCORM_KEY_FILE = f"{WORK_DIR}/scorm-key.txt"  # what the published zips were made from
CMI5_KEY_FILE = f"{WORK_DIR}/cmi5-key.txt"  # what the published cmi5 zip was made from
NOTEBOOKS_FILE = f"{WORK_DIR}/notebooks.json"  # size and mtime of notebooks all in the cache
# Editor backups and swap files: never an input, whatever folder they are in.
BACKUP_SUFFIXES = ("~", ".swp", ".swo", ".swx", ".bak", ".orig", ".tmp", ".pyc")
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
    only: str | None = None  # "html" | "scorm" | "cmi5" | "exercises" | "pdf"
    jobs: int = field(default_factory=default_jobs)
    execute: bool = True
    strict: bool = False
    timeout: int | None = None  # per cell; default: _config.yml execute.timeout
    select: tuple[str, ...] = ()  # check codes to report (prefixes), as `check --select`
    ignore: tuple[str, ...] = ()  # check codes not to report, as `check --ignore`
    # Where a long-running process (`coursekit serve`) keeps Sphinx between builds.
    books: WarmBooks | None = field(default=None, compare=False)
    # Build although nothing changed (`serve` starts Sphinx before the first save).
    even_if_unchanged: bool = False


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
    pdf_warnings: tuple[str, ...] = ()  # of the PDF's single-page build
    up_to_date: bool = False
    seconds: float = 0.0  # wall clock (stages may overlap)
    pages_read: tuple[str, ...] = ()  # pages the book stage (re-)read
    files_changed: int = 0  # files of the site that differ from the published one
    scorm_reused: bool = False  # the published zips already hold this site
    exercises: int = 0  # exercises in the editions
    selfchecked: tuple[str, ...] = ()  # exercises self-checked by this build (not cached)


def build_course(root: Path, options: BuildOptions, reporter: Reporter) -> BuildSummary:
    """Build the course at `root`; raises `CourseKitError` and leaves old outputs intact."""
    start = time.monotonic()
    root = root.resolve()
    out_dir = (options.out or root / "_build").resolve()
    summary = BuildSummary(out_dir)
    wanted = _wanted(options.only)
    timer = _StageTimer(summary, reporter)
    check_out_dir(root, out_dir)
    with _file_system_errors(out_dir), BuildLock(out_dir):
        mark_out_dir(out_dir)
        with timer("load and check"):
            for note in check_file_kinds(root, out_dir):
                reporter.note(note)
            course = load_and_check(root, options, summary)
            wanted = wanted_outputs(course, wanted, options.only)  # `coursekit: pdf: false`
        fingerprint = _fingerprint(course, out_dir, options, wanted)
        unchanged = _up_to_date(out_dir, fingerprint, wanted) and not _forced(course, options)
        if unchanged and not options.even_if_unchanged:
            summary.up_to_date = True
            _measure(out_dir, wanted, summary)
            summary.seconds = time.monotonic() - start
            return summary
        outputs = Outputs(out_dir)
        try:
            # The exercises' self-checks run their kernels meanwhile, at a lower
            # priority: on the cores the notebooks, Sphinx (on one core) and Chromium
            # leave idle. Chromium prints the PDF while the site is built and packed.
            # None reads what another writes.
            _import_shared_modules()
            with timer.background(
                "exercises", build_exercises, course, outputs, out_dir, options, wanted, summary
            ):
                with timer("execute"):
                    execute(course, out_dir, options, wanted, reporter, summary)
                with timer("pdf"):
                    printing = prepare_pdf(
                        course, outputs, out_dir, options, wanted, summary, reporter
                    )
                with _printing(timer, printing):
                    with timer("book"):
                        site = build_html(course, outputs, out_dir, options, wanted, summary)
                    merge_warnings(summary, options)
                    with timer("package"):
                        package_scorm(course, site, outputs, out_dir, wanted, summary)
                        package_cmi5(course, site, outputs, out_dir, wanted)
            outputs.commit()
        finally:
            outputs.discard()
        _save_fingerprint(out_dir, fingerprint, wanted)
        _measure(out_dir, wanted, summary)
    summary.seconds = time.monotonic() - start
    return summary


def _printing(timer: _StageTimer, job: PrintJob | None) -> AbstractContextManager[None]:
    """Chromium printing the PDF during the block (nothing when there is nothing to print)."""
    if job is None:
        return nullcontext()
    return timer.background("pdf print", job.run, cancel=job.cancel)


def _import_shared_modules() -> None:
    """Import, on this thread, what the exercises thread and the book stage both import.

    The self-checks import nbclient and jupyter_client; Sphinx's extensions
    (myst-nb, jupyter-cache) import them too. Two threads importing the same
    package at once can see it half-initialised ("ImportError: cannot import name
    ... partially initialized module 'jupyter_client.manager'"), so both sides'
    imports are done here, before the thread starts.
    """
    import jupyter_client.manager  # noqa: F401
    import nbclient  # noqa: F401
    import sphinx.application  # noqa: F401
    from jupyter_book import config  # noqa: F401

    import coursekit.book.sphinx.build  # noqa: F401
    import coursekit.exercises.selfcheck  # noqa: F401


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
    if not wanted & EXECUTED_OUTPUTS:
        return  # only the exercises: they run their own notebooks
    settings = book_execute_settings(course)
    if not options.execute or settings.mode == "off":
        why = "--no-execute" if not options.execute else "execute_notebooks is off"
        reporter.note(f"{why}: the book shows the outputs stored in the notebooks")
        pages = [p.path for p in course.pages]
        summary.kept = tuple(p for p in pages if is_notebook_page(course.root, p, settings))
        return
    selection = select_notebooks(course.root, [p.path for p in course.pages], settings)
    summary.kept = selection.kept
    cache_dir = cache_folder(course.root, out_dir, settings)
    # Not one notebook file touched since they were all found in the cache, under the
    # same settings: no need to open the cache (its database layer alone takes seconds
    # to import). `force` runs everything every time.
    known = out_dir / NOTEBOOKS_FILE
    stats = json.dumps(
        {
            "mode": settings.mode,
            "kept": list(selection.kept),
            "run": {rel: _stat(course.root / rel) for rel in selection.run},
        },
        sort_keys=True,
    )
    if settings.mode != "force" and cache_dir.is_dir() and read_text(known) == stats:
        summary.cached = tuple(selection.run)
        return
    result = execute_notebooks(
        course.root,
        selection.run,
        cache_dir,
        jobs=options.jobs,
        timeout=options.timeout or settings.timeout,
        on_event=reporter.notebook,
        settings=settings,
    )
    summary.executed, summary.cached = result.executed, result.cached
    write_text(known, stats)


def book_execute_settings(course: Course) -> ExecuteSettings:
    """The book's execution settings (a bad one was a check error, which stopped the build)."""
    return course.config.execute if course.config else ExecuteSettings()


def build_exercises(
    course: Course,
    outputs: Outputs,
    out_dir: Path,
    options: BuildOptions,
    wanted: set[str],
    summary: BuildSummary,
) -> None:
    """Student and teacher editions of the exercises (coursekit.exercises).

    Self-check verdicts are cached under `_build/.cache/selfcheck/`: only the
    exercises whose cells (or kernel, or coursekit) changed run again. Their kernels
    run at a lower priority: nothing waits for them but the end of the build, while
    the notebooks, the PDF's page and Chromium are each waited for by the next stage.
    """
    if "exercises" not in wanted:
        return
    from coursekit.exercises import build_editions

    editions = build_editions(
        course,
        outputs.stage("exercises"),
        options.jobs,
        cache_dir=out_dir / SELFCHECK_CACHE,
        niceness=SELFCHECK_NICENESS,
    )
    summary.selfchecked = editions.checked
    summary.exercises = len(editions.student)


@dataclass(frozen=True, slots=True)
class Site:
    """The staged HTML site and what changed in it since the published one."""

    html_dir: Path
    change: TreeChange


def build_html(
    course: Course,
    outputs: Outputs,
    out_dir: Path,
    options: BuildOptions,
    wanted: set[str],
    summary: BuildSummary,
) -> Site | None:
    """The Jupyter Book HTML site (also needed to package SCORM).

    Sphinx builds in its work tree (`_build/.cache/book/`), re-reading only what
    changed; the site is then staged from it, sharing every unchanged file with
    the published `_build/html` and copying only the changed ones.
    """
    if not wanted & SITE_OUTPUTS:
        return None
    from coursekit.book.sphinx.build import build_book

    settings = book_execute_settings(course)
    reads_cache = options.execute and settings.mode != "off"
    result = build_book(
        course.root,
        out_dir / BOOK_WORK,
        cache_dir=cache_folder(course.root, out_dir, settings) if reads_cache else None,
        kept=summary.kept,
        key=tools_key(),
        exclude=sphinx_exclude(course.root, out_dir),
        jobs=options.jobs,
        warm=options.books,
        course=course,
    )
    summary.book_warnings = result.warnings
    summary.pages_read = result.read
    if options.strict and result.warnings:
        raise BuildError("--strict: the book stage warned:\n" + "\n".join(result.warnings))
    change = outputs.stage_tree("html", result.html_dir)
    summary.files_changed = len(change.changed) + len(change.removed)
    return Site(outputs.staging / "html", change)


def package_scorm(
    course: Course,
    site: Site | None,
    outputs: Outputs,
    out_dir: Path,
    wanted: set[str],
    summary: BuildSummary,
) -> None:
    """The SCORM 1.2 and 2004 zips, made from the HTML site (coursekit.scorm).

    Written again only when the site or what the packages read from the course
    changed; the zips are deterministic, so the ones kept are the bytes a cold
    build would write.
    """
    if "scorm" not in wanted or site is None:
        return
    key = _scorm_key(course, site)
    key_file = out_dir / SCORM_KEY_FILE
    if (out_dir / "scorm").is_dir() and read_text(key_file) == key:
        summary.scorm_reused = True
        return
    from coursekit.packages.scorm import package

    package(course, site.html_dir, outputs.stage("scorm"), cache_dir=out_dir / DEFLATE_CACHE)
    outputs.on_commit(lambda: write_text(key_file, key))


def package_cmi5(
    course: Course, site: Site | None, outputs: Outputs, out_dir: Path, wanted: set[str]
) -> None:
    """The cmi5 zip, made from the HTML site (coursekit.cmi5); reused as the SCORM zips are.

    With `coursekit.cmi5.enabled: false` the published `cmi5/` is an empty folder.
    """
    if "cmi5" not in wanted or site is None:
        return
    key = _scorm_key(course, site)
    key_file = out_dir / CMI5_KEY_FILE
    if (out_dir / "cmi5").is_dir() and read_text(key_file) == key:
        return
    from coursekit.packages.cmi5 import package

    package(course, site.html_dir, outputs.stage("cmi5"), cache_dir=out_dir / DEFLATE_CACHE)
    outputs.on_commit(lambda: write_text(key_file, key))


def _scorm_key(course: Course, site: Site) -> str:
    """What the zips are made of: the site, the packaging files of the course, coursekit."""
    digest = hashlib.sha256(f"{site.change.digest}\n{tools_key()}".encode())
    for rel in sorted(_packaging_files(course)):
        digest.update(rel.encode())
        digest.update(_read_bytes(course.root / rel))
    return digest.hexdigest()


def _packaging_files(course: Course) -> set[str]:
    """The course files the package stage reads besides the site (config, TOC, modules)."""
    files = {u.yaml_path for u in course.units if u.yaml_path}
    files |= {u.quiz for u in course.units if u.quiz} | {q.path for q in course.quizzes}
    if course.config is not None:
        files.add(course.config.path)
    if course.toc is not None:
        files.add(course.toc.path)
    return files


# ----------------------------------------------------------------- the helpers


@contextmanager
def _file_system_errors(out_dir: Path) -> Iterator[None]:
    """A read-only or full disk (or any refused write) as one clear BuildError, no traceback.

    The outputs are staged and renamed into place last, so the old ones are intact.
    """
    try:
        yield
    except OSError as exc:
        where = exc.filename or out_dir
        reason = exc.strerror or str(exc)
        hint = {
            errno.ENOSPC: "free some space (or give --out on another disk)",
            errno.EDQUOT: "free some space (or give --out on another disk)",
            errno.EROFS: "the file system is read-only: give --out a writable folder",
            errno.EACCES: "give --out a folder you may write to",
        }.get(exc.errno or 0, "the previous outputs were left as they were")
        raise BuildError(f"{where}: {reason}; {hint}") from exc


def _wanted(only: str | None) -> set[str]:
    if only is None:
        return set(OUTPUTS)
    if only not in OUTPUTS:
        raise BuildError(f"--only must be one of {', '.join(OUTPUTS)}, got {only!r}")
    return {only}


class _StageTimer:
    def __init__(self, summary: BuildSummary, reporter: Reporter) -> None:
        self.summary, self.reporter = summary, reporter

    @contextmanager
    def background(
        self,
        name: str,
        stage: Callable[..., None],
        *args: Any,
        cancel: threading.Event | None = None,
    ) -> Iterator[None]:
        """Run `stage(*args)` in a thread during the block; its error is raised after it.

        On Ctrl-C the thread is not waited for, unless it can be told to stop (`cancel`):
        then it is told, and given a few seconds to clean up (end its processes).
        """
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
        try:
            yield
        except KeyboardInterrupt:
            if cancel is not None:
                cancel.set()
                thread.join(timeout=15)
            raise
        except BaseException:
            if cancel is not None:
                cancel.set()  # its work is lost with the build: no need to finish it
            thread.join()  # a failed build: nothing may still write into its staging
            raise
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


def _fingerprint(course: Course, out_dir: Path, options: BuildOptions, wanted: set[str]) -> str:
    """A hash of everything a build reads: the course's inputs, coursekit itself, options."""
    digest = hashlib.sha256()
    digest.update(
        json.dumps(
            [
                tools_key(),
                sorted(wanted),
                options.execute,
                options.timeout,
                options.strict,
                options.select,
                options.ignore,
            ]
        ).encode()
    )
    for rel in sorted(input_files(course, out_dir)):
        digest.update(rel.encode())
        digest.update(_read_bytes(course.root / rel))
    return digest.hexdigest()


def input_files(course: Course, out_dir: Path) -> set[str]:
    """The course files some stage reads, relative to the course root.

    The files the course model names (config, TOC, pages, module and quiz files,
    the bibliography), every file of the exercise folders (the self-checks run
    there), and what the last book build recorded its pages as reading (images,
    downloads, included files). Dotfiles and editor backups never count.
    """
    from coursekit.book.sphinx.build import read_inputs

    root = course.root
    named = {p.path for p in course.pages} | _packaging_files(course)
    if course.bibliography is not None:
        named.update(f.path for f in course.bibliography.files)
    for exercise in course.exercises:
        folder = exercise.file.parent
        # Regular files only (is_file follows links): a FIFO would block the read.
        named.update(p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file())
    named.update(read_inputs(out_dir / BOOK_WORK) or [])
    return {rel for rel in named if not _ignored(rel) and not _inside_folder(root / rel, out_dir)}


def watched_file(root: Path, out_dir: Path, path: Path) -> bool:
    """Whether a change to `path` may change a build (for `coursekit serve`'s watcher)."""
    try:
        rel = path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    if _inside_folder(path, out_dir) or rel.parts[:1] and rel.parts[0] in NOT_INPUTS:
        return False
    return not _ignored(rel.as_posix())


def _ignored(rel: str) -> bool:
    """Dotfiles, dot-folders and editor backups (`page.md~`, `.page.md.swp`, `#page.md#`)."""
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(part.startswith(".") for part in parts)
        or name.endswith(BACKUP_SUFFIXES)
        or (name.startswith("#") and name.endswith("#"))
        or "__pycache__" in parts
    )


def _inside_folder(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"<missing>"  # a missing input is a state too: its return changes the hash


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except OSError:
        return []
    return [st.st_size, st.st_mtime_ns]


def check_file_kinds(root: Path, out_dir: Path) -> list[str]:
    """Refuse course files a build cannot read safely; returns warnings for skipped ones.

    A FIFO, socket or device would hang or feed the build endlessly, and a symlink
    leading out of the course would publish a file that is not part of it (in the
    site's downloads and the zips): both stop the build (BuildError naming the
    file). A dangling symlink is skipped with a warning.
    """
    root = root.resolve()
    warnings: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = [
            d
            for d in dirnames
            if d not in NOT_INPUTS and not d.startswith(".") and here / d != out_dir
        ]
        for name in [*dirnames, *filenames]:
            path = here / name
            shown = path.relative_to(root).as_posix()
            if path.is_symlink():
                target = Path(os.path.realpath(path))
                if not target.exists():
                    warnings.append(
                        f"warning: {shown}: a dangling symlink (to {os.readlink(path)}); skipped"
                    )
                elif not target.is_relative_to(root):
                    raise BuildError(
                        f"{shown}: a symlink to {target}, outside the course; its content "
                        "would be published: copy the file into the course instead"
                    )
            elif not path.is_dir() and not path.is_file():
                raise BuildError(
                    f"{shown}: not a regular file (a FIFO, socket or device) that a build "
                    "cannot read; remove it from the course"
                )
    return warnings


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
