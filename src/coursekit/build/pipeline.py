"""`coursekit build`: load and check the course, then run the registered stages.

    load → check → [exercises ∥] execute → pdf page [∥ pdf print] → book → package

`build_course` reads as that list: the stages are registered in
`coursekit.build.stages` (each declares its outputs, what it needs, the key that
lets it be skipped, how it runs) and run by `coursekit.build.runner` over one
`BuildContext`, the options decided once. Stages write into the build's staging
area (`coursekit.build.publish`) and the outputs replace the previous ones only
when every stage succeeded. The exercises stage runs in a thread while the book
is built (Sphinx keeps one core busy, the self-checks' kernels the other), and
Chromium prints the PDF while the site is built and packed. Stages never print:
they tell a `Reporter` (the CLI draws it).

Each stage redoes only what changed: the execute stage runs the notebooks whose
code changed, the exercises stage self-checks the exercises that changed, the
book stage re-reads and re-writes the pages that changed (the engine's work
folder persists in `_build/.cache/book/`), and the zips and the PDF are written
again only when what they are made from changed.

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
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coursekit import findings as findings_mod
from coursekit.book import engine_for
from coursekit.build import stages
from coursekit.build.book_stage import BOOK_WORK
from coursekit.build.context import (
    BuildContext,
    BuildOptions,
    BuildSummary,
    Reporter,
    SilentReporter,
    default_jobs,
    out_folder,
    resolve_timeout,
)
from coursekit.build.exercises_stage import SELFCHECK_NICENESS
from coursekit.build.publish import BuildLock, Outputs, check_out_dir, mark_out_dir, tree_size
from coursekit.build.runner import StageTimer, run_stages
from coursekit.build.workfiles import packaging_files, read_bytes, tools_key
from coursekit.checks import check_course, reported
from coursekit.errors import BuildError, CourseError
from coursekit.execute import forkserver
from coursekit.model import Course

__all__ = [
    "NOT_INPUTS",
    "SELFCHECK_NICENESS",
    "BuildOptions",
    "BuildSummary",
    "Reporter",
    "SilentReporter",
    "build_course",
    "default_jobs",
    "input_files",
    "watched_file",
]

FINGERPRINT_FILE = ".fingerprint.json"
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


def build_course(root: Path, options: BuildOptions, reporter: Reporter) -> BuildSummary:
    """Build the course at `root`; raises `CourseKitError` and leaves old outputs intact."""
    start = time.monotonic()
    root = root.resolve()
    out_dir = out_folder(root, options.out)
    summary = BuildSummary(out_dir)
    wanted = stages.wanted_outputs(options.only)
    check_out_dir(root, out_dir)
    with _file_system_errors(out_dir), BuildLock(out_dir):
        mark_out_dir(out_dir)
        with StageTimer(summary, reporter)("load and check"):
            for note in check_file_kinds(root, out_dir):
                reporter.note(note)
            course = load_and_check(root, options, summary)
            wanted = stages.course_outputs(course, wanted, options.only)  # `pdf: false`
        fingerprint = _fingerprint(course, out_dir, options, wanted)
        unchanged = _up_to_date(out_dir, fingerprint, wanted) and not _forced(course, options)
        if unchanged and not options.even_if_unchanged:
            summary.up_to_date = True
            _measure(out_dir, wanted, summary)
            summary.seconds = time.monotonic() - start
            return summary
        # A long-running process (serve: `books`) removes the replaced outputs in a thread.
        outputs = Outputs(out_dir, remove_later=options.books is not None)
        try:
            ctx = _context(course, out_dir, options, wanted, reporter, summary, outputs)
            _import_shared_modules()
            run_stages(ctx, stages.selected(wanted))
            outputs.commit()
        finally:
            outputs.discard()
            forkserver.close_all()  # a long-running serve must not keep libraries of an old install
        _save_fingerprint(out_dir, fingerprint, wanted - set(summary.failed))
        _measure(out_dir, wanted, summary)
    summary.seconds = time.monotonic() - start
    if summary.failed:
        raise OutputsFailed(summary)
    return summary


class OutputsFailed(BuildError):
    """Some outputs failed alone: the others were published (`coursekit.build.runner`)."""

    def __init__(self, summary: BuildSummary) -> None:
        self.summary = summary
        built = ", ".join(n for n in summary.outputs if n not in summary.failed) or "none"
        failed = "\n".join(
            f"{name} failed, its previous version is kept: {cause}"
            for name, cause in summary.failed.items()
        )
        super().__init__(f"{failed}\nthe other outputs were built and published: {built}")


def _context(
    course: Course,
    out_dir: Path,
    options: BuildOptions,
    wanted: frozenset[str],
    reporter: Reporter,
    summary: BuildSummary,
    outputs: Outputs,
) -> BuildContext:
    """The options decided once, for every stage to read."""
    return BuildContext(
        course=course,
        out_dir=out_dir,
        wanted=wanted,
        jobs=options.jobs or default_jobs(),
        timeout=resolve_timeout(course, options),
        strict=options.strict,
        execute=options.execute,
        only=options.only,
        engine=engine_for(course),
        reporter=reporter,
        summary=summary,
        outputs=outputs,
        books=options.books,
    )


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


def load_and_check(root: Path, options: BuildOptions, summary: BuildSummary) -> Course:
    """Load and check the course; errors (and warnings under --strict) stop the build.

    `--select`/`--ignore` and the book's waivers (`coursekit.ignore`,
    `coursekit.per_file_ignores`) apply as they do for `coursekit check`.
    """
    course, found = check_course(root, options.parses)
    kept = reported(course, found, options.select, options.ignore)
    summary.findings = tuple(kept)
    if findings_mod.exit_code(kept, options.strict):
        raise CourseError(
            f"{findings_mod.format_findings(kept)}\n"
            f"build stopped by the checks: {findings_mod.summary(kept)}; "
            "fix them and run `coursekit build` again"
        )
    return course


# ----------------------------------------------------------------- the helpers


@contextmanager
def _file_system_errors(out_dir: Path) -> Iterator[None]:
    """A read-only or full disk (or any refused write) as one clear BuildError, no traceback.

    The outputs are staged and renamed into place last, so the old ones are intact.
    """
    try:
        yield
    except OSError as exc:
        # A copy that fills the disk names both files; the one written is the second.
        where = exc.filename2 or exc.filename or out_dir
        reason = exc.strerror or str(exc)
        hint = {
            errno.ENOSPC: "free some space (or give --out on another disk)",
            errno.EDQUOT: "free some space (or give --out on another disk)",
            errno.EROFS: "the file system is read-only: give --out a writable folder",
            errno.EACCES: "give --out a folder you may write to",
        }.get(exc.errno or 0, "the previous outputs were left as they were")
        raise BuildError(f"{where}: {reason}; {hint}") from exc


def _measure(out_dir: Path, wanted: frozenset[str], summary: BuildSummary) -> None:
    for name in stages.outputs():
        if name in wanted and (out_dir / name).exists():
            summary.outputs[name] = tree_size(out_dir / name)


# --------------------------------------------------- skipping a build with no change


def _fingerprint(
    course: Course, out_dir: Path, options: BuildOptions, wanted: frozenset[str]
) -> str:
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
        digest.update(read_bytes(course.root / rel))
    return digest.hexdigest()


def input_files(course: Course, out_dir: Path) -> set[str]:
    """The course files some stage reads, relative to the course root.

    The files the course model names (config, TOC, pages, module and quiz files,
    the bibliography), every file of the exercise folders (the self-checks run
    there), and what the last book build recorded its pages as reading (images,
    downloads, included files), and the files outside the book that
    `coursekit.read_outside` lists. Dotfiles and editor backups never count.
    """
    root = course.root
    named = {p.path for p in course.pages} | packaging_files(course)
    if course.bibliography is not None:
        named.update(f.path for f in course.bibliography.files)
    for exercise in course.exercises:
        folder = (root / exercise.path).parent
        # Regular files only (is_file follows links): a FIFO would block the read.
        named.update(p.relative_to(root).as_posix() for p in folder.rglob("*") if p.is_file())
    named.update(engine_for(course).read_inputs(out_dir / BOOK_WORK) or [])
    inside = {rel for rel in named if not _ignored(rel) and not _inside_folder(root / rel, out_dir)}
    # The files outside the book it lists as read (`../CHANGELOG.md`): inputs by name.
    return inside | set(course.config.read_outside if course.config else ())


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
    """`execute_notebooks: force` (every build runs every notebook, changed or not), or a
    page whose own `mystnb: execution_mode` is `force` (it runs at every build)."""
    from coursekit.execute.notebooks import forced_pages

    if not options.execute or course.config is None:
        return False
    return course.config.execute.mode == "force" or bool(forced_pages(course))


def _up_to_date(out_dir: Path, fingerprint: str, wanted: frozenset[str]) -> bool:
    try:
        saved = json.loads((out_dir / FINGERPRINT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return all(
        saved.get(name, {}).get("fingerprint") == fingerprint and (out_dir / name).exists()
        for name in wanted
    )


def _save_fingerprint(out_dir: Path, fingerprint: str, wanted: frozenset[str]) -> None:
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
