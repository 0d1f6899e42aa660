"""Every check, by family. A check is a small generator: `Course` in, findings out.

Checks are pure functions of the model `coursekit.loading` built: they never read
files, execute code, print or keep state between runs.

To add a check: write a generator in the family module it belongs to (or a new
module), register its code in `coursekit.findings.CODES`, and add it to that
module's `CHECKS` tuple.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from coursekit import findings as findings_mod
from coursekit.checks import (
    assessment,
    bibliography,
    completion,
    confinement,
    exercises,
    notebooks,
    offline,
    pages,
    quizzes,
    structure,
)
from coursekit.findings import Finding
from coursekit.loading import Parses, load_course
from coursekit.model import Course

Check = Callable[[Course], Iterable[Finding]]

ALL_CHECKS: tuple[Check, ...] = (
    *structure.CHECKS,
    *notebooks.CHECKS,
    *pages.CHECKS,
    *confinement.CHECKS,
    *offline.CHECKS,
    *bibliography.CHECKS,
    *exercises.CHECKS,
    *quizzes.CHECKS,
    *assessment.CHECKS,
    *completion.CHECKS,
)


def run_checks(course: Course) -> list[Finding]:
    """Run every registered check on `course` and collect all findings."""
    return [finding for check in ALL_CHECKS for finding in check(course)]


def check_course(root: Path, parses: Parses | None = None) -> tuple[Course, list[Finding]]:
    """Load the course at `root` and run every check: what `coursekit check` does
    (`parses`: the pages' parses kept from the last load, see `load_course`)."""
    loaded = load_course(root, parses)
    return loaded.course, [*loaded.findings, *run_checks(loaded.course)]


def reported(
    course: Course,
    found: Iterable[Finding],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
) -> list[Finding]:
    """The findings to report: `--select`/`--ignore` and the book's own waivers applied
    (`coursekit.ignore`, `coursekit.per_file_ignores`, `coursekit.waivers`)."""
    config = course.config
    waived = tuple(config.ignore) if config else ()
    per_file = [(w.pattern, w.codes, w.target, w.line) for w in config.waivers] if config else []
    return findings_mod.select(found, select, (*ignore, *waived), per_file)
