"""The command line: the only place that prints and exits.

Every command turns a `CourseKitError` into a clean message and an exit code
(1 for a course problem, 2 for a usage problem); no traceback reaches a user for
a bad course.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from coursekit import __version__, findings
from coursekit.checks import check_course
from coursekit.errors import CourseKitError

F = TypeVar("F", bound=Callable[..., Any])


def _clean_errors(func: F) -> F:
    """Print a `CourseKitError` as one clean message and exit with its code."""

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

    return wrapper  # type: ignore[return-value]


def _prefixes(values: Sequence[str]) -> list[str]:
    """`--select CK1,CK2 --select CK3` → ["CK1", "CK2", "CK3"]."""
    return [p.strip().upper() for v in values for p in v.split(",") if p.strip()]


course_path = click.argument(
    "path", default=".", type=click.Path(file_okay=False, path_type=Path)
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coursekit")
def cli() -> None:
    """Build a course of notebooks and Markdown into a Jupyter Book and SCORM packages."""


@cli.command()
@course_path
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github"]), default="text",
              show_default=True, help="How to print findings.")
@click.option("--strict", is_flag=True, help="Warnings fail the check too.")
@click.option("--select", multiple=True, metavar="PREFIX",
              help="Only report codes starting with PREFIX (repeat or comma-separate).")
@click.option("--ignore", multiple=True, metavar="PREFIX",
              help="Do not report codes starting with PREFIX (repeat or comma-separate).")
@_clean_errors
def check(path: Path, fmt: str, strict: bool, select: tuple[str, ...],
          ignore: tuple[str, ...]) -> None:
    """Check the course at PATH (default: here) without executing or changing anything.

    Prints every finding as `path:line:col: CODE message`; exits 0 when clean,
    1 with errors (or warnings under --strict), 2 for a usage problem.
    """
    _require_folder(path)
    _course, found = check_course(path)
    kept = findings.select(found, _prefixes(select), _prefixes(ignore))
    output = findings.format_findings(kept, fmt)
    if output:
        click.echo(output)
    if fmt == "text":
        verdict = "clean" if not kept else findings.summary(kept)
        click.echo(f"coursekit check: {verdict}", err=True)
    sys.exit(findings.exit_code(kept, strict))


@cli.command()
@course_path
@click.option("--strict", is_flag=True, help="Warnings stop the build too.")
@_clean_errors
def build(path: Path, strict: bool) -> None:
    """Check, execute and build the course at PATH into _build/."""
    _require_folder(path)
    _course, found = check_course(path)
    kept = findings.select(found)
    if kept:
        click.echo(findings.format_findings(kept))
    if findings.exit_code(kept, strict):
        click.secho(f"build stopped by the checks: {findings.summary(kept)}; "
                    "fix them and run `coursekit build` again", fg="red", err=True)
        sys.exit(1)
    click.echo("checked: the course is clean. The execute, book and SCORM stages are not "
               "implemented yet, so nothing was built.", err=True)


def _require_folder(path: Path) -> None:
    if not path.is_dir():
        click.secho(f"error: {path} is not a folder; give the course folder "
                    "(the one with _config.yml)", fg="red", err=True)
        sys.exit(2)


def main() -> None:
    cli()
