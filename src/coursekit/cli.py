"""The command line: the only place that prints and exits.

Every command turns a `CourseKitError` into a clean message and an exit code
(1 for a course problem, 2 for a usage problem); no traceback reaches a user for
a bad course.
"""

from __future__ import annotations

import logging
import shutil
import signal
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from coursekit import __version__, findings
from coursekit.checks import check_course, reported
from coursekit.errors import CourseKitError

F = TypeVar("F", bound=Callable[..., Any])


_DEBUG = {"on": False}


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    _DEBUG["on"] = value  # per command run (tests run several in one process)


def _clean_errors(func: F) -> F:
    """Print a `CourseKitError` as one clean message and exit with its code.

    Any other exception is a bug: one line naming it, and the traceback only
    with `--debug` (which this decorator adds to the command).
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CourseKitError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing already built was changed", err=True)
            sys.exit(130)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if _DEBUG["on"]:
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            click.secho(
                f"error: unexpected {type(exc).__name__}: {first} "
                "(run with --debug for the traceback)",
                fg="red",
                err=True,
            )
            sys.exit(1)

    debug = click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set_debug,
        help="Show the full traceback of an unexpected error.",
    )
    return debug(wrapper)  # type: ignore[return-value]


def _prefixes(values: Sequence[str]) -> list[str]:
    """`--select CK1,CK2 --select CK3` → ["CK1", "CK2", "CK3"]."""
    return [p.strip().upper() for v in values for p in v.split(",") if p.strip()]


def _known_prefixes(values: Sequence[str], option: str) -> list[str]:
    """The prefixes of `option`; one that starts no known code is a typo (exit 2)."""
    prefixes = _prefixes(values)
    for prefix in prefixes:
        if not any(code.startswith(prefix) for code in findings.CODES):
            raise click.BadParameter(
                f"no check code starts with {prefix!r} (codes look like CK301; see README.md)",
                param_hint=option,
            )
    return prefixes


class _OutputChoice(click.Choice):  # type: ignore[type-arg]
    """The outputs the stage registry knows, read when the command line is parsed (so a
    stage registered after this module was imported is a choice too)."""

    def __init__(self) -> None:
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        from coursekit.build.stages import outputs

        return outputs()

    @choices.setter
    def choices(self, value: object) -> None:
        pass  # the registry is the only source


course_path = click.argument("path", default=".", type=click.Path(file_okay=False, path_type=Path))
_jobs = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Notebooks run at once, executed or self-checked (default: the number of cores).",
)


_select = click.option(
    "--select",
    multiple=True,
    metavar="PREFIX",
    help="Only report codes starting with PREFIX (repeat or comma-separate).",
)
_ignore = click.option(
    "--ignore",
    multiple=True,
    metavar="PREFIX",
    help="Do not report codes starting with PREFIX (repeat or comma-separate).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coursekit")
def cli() -> None:
    """Build a course of notebooks and Markdown into a Jupyter Book and SCORM packages."""
    _quiet_library_logs()


def _quiet_library_logs() -> None:
    """Libraries' warnings reach the terminal; their INFO chatter does not.

    A library may configure the root logger when it is imported (a11y-pygments, which the
    book theme loads, sets it to INFO, so nbclient's "Executing notebook with kernel" lines
    appeared in the middle of a build). The level is set here, after those imports.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format="%(name)s: %(message)s")
    root.setLevel(logging.WARNING)


@cli.command()
@course_path
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="How to print findings.",
)
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@_select
@_ignore
@_clean_errors
def check(
    path: Path, fmt: str, strict: bool, select: tuple[str, ...], ignore: tuple[str, ...]
) -> None:
    """Check the course at PATH (default: here) without executing or changing anything.

    Prints every finding as `path:line:col: CODE message`; exits 0 when clean,
    1 with errors (or warnings under --strict), 2 for a usage problem.
    """
    selected, ignored = _known_prefixes(select, "--select"), _known_prefixes(ignore, "--ignore")
    _require_folder(path)
    course, found = check_course(path)
    kept = reported(course, found, selected, ignored)
    output = findings.format_findings(kept, fmt)
    if output:
        click.echo(output)
    if fmt == "text":
        verdict = "clean" if not kept else findings.summary(kept)
        click.echo(f"coursekit check: {verdict}", err=True)
    sys.exit(findings.exit_code(kept, strict))


@cli.command()
@course_path
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: PATH/_build).",
)
@click.option(
    "--only",
    type=_OutputChoice(),
    default=None,
    help="Build only this output (and what it needs).",
)
@_jobs
@click.option(
    "--no-execute",
    is_flag=True,
    help="Do not execute notebooks; the book shows their stored outputs.",
)
@click.option("--strict", is_flag=True, help="Warnings stop the build too.")
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds a cell may run (default: _config.yml execute.timeout, or 30).",
)
@_select
@_ignore
@_clean_errors
def build(
    path: Path,
    out: Path | None,
    only: str | None,
    jobs: int | None,
    no_execute: bool,
    strict: bool,
    timeout: int | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
) -> None:
    """Check, execute and build the course at PATH into _build/ (every output, or --only one)."""
    from coursekit.build.pipeline import BuildOptions, build_course

    _require_folder(path, book=True)
    options = BuildOptions(
        out=out,
        only=only,
        execute=not no_execute,
        strict=strict,
        timeout=timeout,
        jobs=jobs,
        select=tuple(_known_prefixes(select, "--select")),
        ignore=tuple(_known_prefixes(ignore, "--ignore")),
    )
    reporter = _TerminalReporter()
    # A stopped CI job sends SIGTERM: clean up (workers, kernels, staging) as for Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        summary = build_course(path, options, reporter)
    except Exception as exc:  # a CourseKitError, or a bug (named by _clean_errors)
        reporter.close()
        _warnings_behind(path, options, str(exc))
        raise
    finally:
        reporter.close()
    _print_summary(summary, path)


SHOWN_WARNINGS = 5  # a build lists this many of the check's warnings; `check` lists all


def _warnings_behind(path: Path, options: Any, error: str) -> None:
    """Before a failed build's error: the check's warnings about the files the error
    names (one may explain it: a cell dropped as invalid, then a NameError), and how
    many others there are."""
    from coursekit.findings import Severity

    if "build stopped by the checks" in error:
        return  # the check's own report, warnings included
    course, found = check_course(path)
    kept = reported(course, found, options.select, options.ignore)
    warned = [f for f in kept if f.severity is Severity.WARNING]
    related = [f for f in warned if f.path and f.path in error and _may_explain(f.code)]
    for finding in related[:SHOWN_WARNINGS]:
        line = findings.format_findings([finding])
        click.secho(f"the check warned, which may explain the error below: {line}", err=True)
    others = len(warned) - len(related[:SHOWN_WARNINGS])
    if others:
        click.echo(
            f"the check found {others} other warning(s); `coursekit check {path}` lists them",
            err=True,
        )


def _may_explain(code: str) -> bool:
    """Whether a warning of this rule can make a build step fail: settings (CK1xx),
    notebooks (CK2xx), a quiz shown without the extension; not an image's alt text."""
    return code.startswith(("CK1", "CK2")) or code == "CK460"


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@cli.group()
def new() -> None:
    """Scaffold new course parts."""


@new.command("module")
@click.argument("title")
@click.option(
    "--path",
    "path",
    default=".",
    type=click.Path(file_okay=False, path_type=Path),
    help="The course folder (default: here).",
)
@_clean_errors
def new_module_command(title: str, path: Path) -> None:
    """Create modules/NN-slug/ (next number) with module.yml, overview.md and its TOC entry."""
    from coursekit.scaffold import new_module

    _require_folder(path)
    made = new_module(path, title)
    for file in made.files:
        click.echo(f"wrote {file}")
    click.echo(f"next: fill in {made.folder / 'module.yml'}, then `coursekit check`", err=True)


@cli.command()
@course_path
@click.option("--title", default=None, help="The course title (default: from the folder name).")
@_clean_errors
def init(path: Path, title: str | None) -> None:
    """Start a course in PATH (default: here): config, TOC and a first module to edit."""
    from coursekit.scaffold import init_course

    made = init_course(path, title)
    for file in made.files:
        click.echo(f"wrote {file}")
    click.echo(
        f"next: edit {path / '_config.yml'} and modules/, then `coursekit check {path}` "
        f"and `coursekit build {path}`",
        err=True,
    )


@cli.command()
@course_path
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8000,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@_jobs
@_clean_errors
def serve(path: Path, port: int, jobs: int | None) -> None:
    """Build the book, serve it on localhost and rebuild when a source changes."""
    import contextlib
    import threading

    from coursekit.book.sphinx.build import WarmBooks
    from coursekit.build.context import out_folder
    from coursekit.build.pipeline import BuildOptions, build_course
    from coursekit.loading import Parses
    from coursekit.serve import LiveReload, bind, http_server, rebuild_on_save, warm_up, watching

    _require_folder(path)
    books = WarmBooks()  # Sphinx stays started from one rebuild to the next
    options = BuildOptions(only="html", jobs=jobs, books=books, parses=Parses())
    reporter = _TerminalReporter()
    out = out_folder(path)

    def on_build(outcome: Any) -> None:
        reporter.close()
        if isinstance(outcome, CourseKitError):
            click.secho(
                f"rebuild failed, still serving the last good build: {outcome}", fg="red", err=True
            )
        else:
            _print_summary(outcome)
            click.echo("rebuilt; the open pages reload", err=True)

    stop, live = threading.Event(), LiveReload()
    sock = bind("127.0.0.1", port)  # a port in use is said before the build, not after
    # Watching starts before the first build: a save made while it runs is rebuilt after it.
    with watching(path, out, stop) as saves, contextlib.closing(books), contextlib.closing(sock):
        first = build_course(path, options, reporter)
        reporter.close()
        _print_summary(first)
        with http_server(out / "html", "127.0.0.1", port, live, sock) as url:
            click.echo(f"serving {url} (Ctrl-C to stop); watching {path.resolve()}", err=True)
            if first.up_to_date:  # Sphinx did not start: start it before the first save
                warm_up(path, options, on_build)
            rebuild_on_save(saves, path, options, reporter, on_build, live)


class _TerminalReporter:
    """Build progress: one live line on a terminal, plain lines otherwise (CI, pipes)."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.running: list[str] = []
        self._drawn = False

    def stage(self, name: str) -> None:
        self._clear()
        click.echo(f"» {name}", err=True)

    def notebook(self, event: Any) -> None:
        if event.kind == "start":
            self.running.append(event.notebook)
        elif event.notebook in self.running:
            self.running.remove(event.notebook)
        if self.live:
            self._clear()
            now = ", ".join(self.running) or "-"
            line = f"  executing [{event.done}/{event.total}] {now}"
            width = shutil.get_terminal_size().columns - 1  # a wrapped line cannot be redrawn
            click.echo(line if len(line) <= width else line[: width - 1] + "…", err=True, nl=False)
            self._drawn = True
        elif event.kind == "done":
            click.echo(
                f"  executed {event.notebook} in {event.seconds:.1f} s "
                f"[{event.done}/{event.total}]",
                err=True,
            )
        elif event.kind == "start":
            click.echo(f"  executing {event.notebook} [{event.done}/{event.total}]", err=True)
        else:
            click.echo(f"  unchanged {event.notebook} [{event.done}/{event.total}]", err=True)

    def note(self, text: str) -> None:
        self._clear()
        click.echo(f"  {text}", err=True)

    def close(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._drawn:
            click.echo("\r\033[K", err=True, nl=False)
            self._drawn = False


def _print_summary(summary: Any, path: Path | None = None) -> None:
    if summary.findings:
        # Briefly: the first few, a count and where to see them all (`coursekit check`).
        shown = summary.findings[:SHOWN_WARNINGS]
        click.echo(findings.format_findings(shown))
        if len(summary.findings) > len(shown):
            where = f" {path}" if path is not None else ""
            click.echo(
                f"… and {len(summary.findings) - len(shown)} more "
                f"({findings.summary(summary.findings)} in all); "
                f"`coursekit check{where}` lists them all"
            )
    for warning in summary.book_warnings:
        click.secho(f"book: {warning}", fg="yellow", err=True)
    if summary.up_to_date:
        click.echo(
            f"nothing changed since the last build; outputs in {summary.out_dir} are up to date",
            err=True,
        )
    else:
        stages = ", ".join(f"{n} {s:.1f} s" for n, s in summary.stage_seconds.items())
        click.echo(
            f"built in {summary.seconds:.1f} s ({stages}); "
            f"notebooks executed: {len(summary.executed)}, unchanged: "
            f"{len(summary.cached)}, stored outputs kept: {len(summary.kept)}; "
            f"pages read: {len(summary.pages_read)}, "
            f"site files changed: {summary.files_changed}"
            + (
                f"; exercises self-checked: {len(summary.selfchecked)} of {summary.exercises}"
                if summary.exercises
                else ""
            )
            + ("; SCORM zips unchanged" if summary.scorm_reused else "")
            + _pdf_parts(summary),
            err=True,
        )
    for name, size in summary.outputs.items():
        click.echo(f"  {summary.out_dir / name}  {size / 1e6:.1f} MB", err=True)


def _pdf_parts(summary: Any) -> str:
    """How much of the PDF was printed again (the rest: parts unchanged since)."""
    if summary.pdf_parts is None:
        return ""
    printed, parts = summary.pdf_parts
    return f"; PDF parts printed: {printed} of {parts}"


@cli.group()
def exercises() -> None:
    """Self-check and grade the exercise notebooks (exercises/NN-slug/*.ipynb)."""


_timeout = click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds a cell may run (default: _config.yml execute.timeout, or 30), as in build.",
)


@exercises.command("verify")
@click.argument("path", default=".", type=click.Path(exists=True, path_type=Path))
@_jobs
@_timeout
@_clean_errors
def exercises_verify(path: Path, jobs: int | None, timeout: int | None) -> None:
    """Run the self-checks on the exercises at PATH (a course, a folder or a notebook).

    The teacher edition must pass every cell; the student edition must fail every
    test cell (a test that passes without the solution tests nothing).
    """
    from coursekit.build.context import default_jobs
    from coursekit.exercises.files import select_exercises
    from coursekit.exercises.selfcheck import describe_failures, verify

    _root, chosen = select_exercises(path)
    verdicts = verify(chosen, timeout, jobs or default_jobs())
    for v in verdicts:
        if v.ok:
            click.echo(
                f"ok      {v.exercise.path} ({v.tests} test cell{'' if v.tests == 1 else 's'})"
            )
    failed = [v for v in verdicts if not v.ok]
    if failed:
        click.echo(describe_failures(failed))
        click.secho(
            f"{len(failed)} of {len(verdicts)} exercise(s) failed the self-check",
            fg="red",
            err=True,
        )
        sys.exit(1)
    click.echo(f"all {len(verdicts)} exercise(s) passed the self-check", err=True)


@exercises.command("grade")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--course",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The course whose test cells count (matched by cell id).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The CSV to write (default: SUBMISSIONS/grades.csv); the gradebook, feedback "
    "and written-answer pages go beside it.",
)
@click.option(
    "--marks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The teacher's marks of written answers (CSV: student, exercise, question, "
    "points, comment), as the written/*-marks.csv forms.",
)
@click.option(
    "--feedback-solutions",
    is_flag=True,
    help="Put the mark schemes in the students' feedback pages.",
)
@click.option(
    "--no-sandbox",
    is_flag=True,
    help="Grade without bubblewrap: submissions then run as you and can read and change "
    "your files. Only for work you trust.",
)
@_jobs
@_timeout
@_clean_errors
def exercises_grade(
    submissions: Path,
    course: Path,
    output: Path | None,
    marks: Path | None,
    feedback_solutions: bool,
    no_sandbox: bool,
    jobs: int | None,
    timeout: int | None,
) -> None:
    """Run the course's tests against every notebook under SUBMISSIONS; write the grades.

    Beside the CSV (student, student_file, exercise, points, max_points,
    tests_passed, tests_total, tests, written, note): gradebook.csv, feedback/ and
    written/. The student id is the first folder under SUBMISSIONS.
    """
    from coursekit.build.context import default_jobs
    from coursekit.exercises.grade import grade, load_known, write_csv
    from coursekit.exercises.gradebook import (
        read_marks,
        write_feedback,
        write_gradebook,
        write_written_pages,
    )
    from coursekit.exercises.sandbox import sandbox_warning

    warning = sandbox_warning() if no_sandbox else ""
    if warning:
        click.secho(f"WARNING: {warning}", fg="red", bold=True, err=True)
    given = read_marks(marks) if marks else {}
    known = load_known(course)
    grades = grade(
        submissions, course, timeout, jobs or default_jobs(), no_sandbox=no_sandbox,
        marks=given, known=known,
    )  # fmt: skip
    target = output or submissions / "grades.csv"
    write_csv(grades, target)
    write_gradebook(grades, target.with_name("gradebook.csv"))
    write_feedback(grades, known, target.parent, feedback_solutions)
    write_written_pages(grades, known, target.parent)
    for g in grades:
        score = f"{g.points:g}/{g.max_points:g} points, {g.passed}/{g.total} tests"
        line = f"{g.student_file}: {score}" + (f" ({g.note})" if g.note else "")
        click.echo(_printable(line))
    click.echo(f"graded {len(grades)} submission(s) into {target}", err=True)
    if warning:
        click.secho(f"WARNING: {warning}", fg="red", bold=True, err=True)
    if not any(g.graded for g in grades):
        click.secho(
            f"error: no submission under {submissions} could be graded "
            + ("(none is a notebook of a known exercise: is --course the course?)"
               if grades else "(no *.ipynb found)"),
            fg="red",
            err=True,
        )  # fmt: skip
        sys.exit(1)


def _printable(text: str) -> str:
    """`text` with control characters (ESC and the like, from file names) made visible."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _require_folder(path: Path, book: bool = False) -> None:
    """`path` must be a folder; with `book`, one holding a book (`_config.yml` of Jupyter
    Book 1.x or `myst.yml` of Jupyter Book 2), said before anything is read or written."""
    if not path.is_dir():
        click.secho(
            f"error: {path} is not a folder; give the course folder "
            "(the one with _config.yml, or myst.yml for Jupyter Book 2)",
            fg="red",
            err=True,
        )
        sys.exit(2)
    if book and not any((path / name).is_file() for name in ("_config.yml", "myst.yml")):
        from coursekit.loading.config import _where_is_the_book

        click.secho(
            f"error: {path} holds no book (no _config.yml of Jupyter Book 1.x, no myst.yml of "
            f"Jupyter Book 2), so nothing was built or written; {_where_is_the_book(path)}",
            fg="red",
            err=True,
        )
        sys.exit(2)


def main() -> None:
    cli()
