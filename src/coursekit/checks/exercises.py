"""Checks on exercise notebooks (CK400–CK407): markers, test cells, place in the course.

Only reads: the self-checks that execute the editions are `coursekit exercises
verify` and the build's exercises stage.
"""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.exercises.editions import has_solution
from coursekit.exercises.markers import is_test_cell, scan
from coursekit.findings import Finding, make
from coursekit.model import Course, Exercise, Pos


def unreadable(course: Course) -> Iterator[Finding]:
    """CK400: an exercise notebook that cannot be read as a notebook."""
    for ex in course.exercises:
        nb = ex.page.notebook
        if ex.page.text is None or nb is None or not isinstance(nb.data.get("cells"), list):
            detail = "; ".join(f.message for f in ex.page.problems) or "no list of cells"
            yield make(
                "CK400", ex.path, 1, 1, f"the exercise cannot be read as a notebook ({detail})"
            )


def _readable(course: Course) -> Iterator[Exercise]:
    for ex in course.exercises:
        nb = ex.page.notebook
        if nb is not None and isinstance(nb.data.get("cells"), list):
            yield ex


def markers(course: Course) -> Iterator[Finding]:
    """CK401–CK403: unbalanced or nested markers, a region in the wrong cell type."""
    for ex in _readable(course):
        assert ex.page.notebook is not None
        for index, cell in enumerate(ex.page.notebook.cells):
            if not isinstance(cell, dict):
                continue
            for problem in scan(cell)[1]:
                line, col = ex.page.where(Pos(index, problem.line, 1))
                yield make(problem.code, ex.path, line, col, f"cell {index + 1}: {problem.message}")


def tests_and_solutions(course: Course) -> Iterator[Finding]:
    """CK404/CK405: an exercise needs a test cell and at least one solution region."""
    for ex in _readable(course):
        assert ex.page.notebook is not None
        cells = [c for c in ex.page.notebook.cells if isinstance(c, dict)]
        if not any(is_test_cell(c) for c in cells):
            yield make(
                "CK404",
                ex.path,
                1,
                1,
                "the exercise has no test cell; tag a code cell of assertions "
                "`tests` (cell tags) so the self-check and the grader can run it",
            )
        if not has_solution({"cells": cells}) and not any(scan(c)[1] for c in cells):
            yield make(
                "CK405",
                ex.path,
                1,
                1,
                "the exercise has no `### BEGIN SOLUTION` … `### END SOLUTION` region "
                "in a code cell, so students would get the teacher's notebook",
            )


def placement(course: Course) -> Iterator[Finding]:
    """CK406/CK407: an exercise the book leaves out, or one in no module's folder."""
    in_toc = {p.path for p in course.pages}
    folders = {u.folder for u in course.units if u.folder}
    for ex in course.exercises:
        folder = ex.path.split("/")[1]
        if course.toc is not None and ex.path not in in_toc:
            yield make(
                "CK406",
                ex.path,
                0,
                0,
                "no _toc.yml entry reaches this exercise, so the book leaves it out; "
                "add it to its module's sections",
            )
        if course.module_layout and folder not in folders:
            yield make(
                "CK407",
                ex.path,
                0,
                0,
                f"exercises/{folder}/ matches no module folder under modules/; "
                "name it after the module it belongs to",
            )


CHECKS = (unreadable, markers, tests_and_solutions, placement)
