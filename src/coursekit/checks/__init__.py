"""Every check, by family. A check is a small generator: `Course` in, findings out.

To add a check: write a generator in the family module it belongs to (or a new
module), register its code in `coursekit.findings.CODES`, and add it to that
module's `CHECKS` tuple. Checks never execute code, print, or modify files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from coursekit.checks import (
    assessment,
    bibliography,
    exercises,
    modules,
    notebooks,
    pages,
    quizzes,
    sources,
    structure,
)
from coursekit.findings import Finding
from coursekit.loading import load_course
from coursekit.model import Course

Check = Callable[[Course], Iterable[Finding]]

ALL_CHECKS: tuple[Check, ...] = (
    *structure.CHECKS,
    *modules.CHECKS,
    *notebooks.CHECKS,
    *pages.CHECKS,
    *bibliography.CHECKS,
    *exercises.CHECKS,
    *quizzes.CHECKS,
    *assessment.CHECKS,
)


def run_checks(course: Course) -> list[Finding]:
    """Run every registered check on `course` and collect all findings.

    The checks share one reading of each page (`sources.session`): every notebook
    and Markdown file is read and parsed once per run.
    """
    with sources.session():
        return [finding for check in ALL_CHECKS for finding in check(course)]


def check_course(root: Path) -> tuple[Course, list[Finding]]:
    """Load the course at `root` and run every check: what `coursekit check` does."""
    loaded = load_course(root)
    return loaded.course, [*loaded.findings, *run_checks(loaded.course)]
