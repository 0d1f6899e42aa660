"""Grading submissions: run each submitted student notebook, count the tests that pass.

The test cells that count are the course's own (matched by cell id), not whatever
the submission contains, so a test deleted or edited by a student still counts
against them. Submissions execute real code on this machine: grade in a sandbox
or container when you do not trust the authors.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.errors import CourseError, CourseKitError
from coursekit.exercises.files import Exercise, find_exercises, read_notebook
from coursekit.exercises.markers import is_test_cell
from coursekit.exercises.run import cell_errors, execute

CSV_COLUMNS = ("student_file", "exercise", "tests_passed", "tests_total", "note")


@dataclass(frozen=True, slots=True)
class Grade:
    student_file: str  # relative to the submissions folder
    exercise: str
    passed: int
    total: int
    note: str = ""


def _exercise_of(nb: dict[str, Any], file: Path, known: dict[str, Exercise]) -> str:
    """The exercise a submission answers: its coursekit metadata, else its file name."""
    meta = (nb.get("metadata") or {}).get("coursekit") or {}
    name = meta.get("exercise")
    if isinstance(name, str) and name:
        return name
    by_stem = [n for n in known if n.rsplit("/", 1)[-1] == file.stem]
    return by_stem[0] if len(by_stem) == 1 else file.stem


def _with_course_tests(nb: dict[str, Any], original: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """`nb` with each of the course's test cells restored by id; returns it and the test count."""
    tests = {c.get("id"): c for c in original["cells"] if is_test_cell(c)}
    cells = []
    for cell in nb["cells"]:
        if cell.get("id") in tests:
            cell = dict(tests[cell["id"]], outputs=[], execution_count=None)
        elif is_test_cell(cell):
            continue  # a test the course does not have: it cannot earn points
        cells.append(cell)
    return dict(nb, cells=cells), len(tests)


def _course_tests(exercise: Exercise) -> int:
    nb = read_notebook(exercise.file, exercise.path)
    return sum(is_test_cell(c) for c in nb["cells"])


def grade_file(file: Path, base: Path, known: dict[str, Exercise], timeout: int) -> Grade:
    """Execute one submission and count its passing test cells."""
    shown = file.relative_to(base).as_posix()
    try:
        nb = read_notebook(file, shown)
    except CourseError as exc:
        name = _exercise_of({}, file, known)
        total = _course_tests(known[name]) if name in known else 0
        return Grade(shown, name, 0, total, str(exc).removeprefix(f"{shown}: "))
    name = _exercise_of(nb, file, known)
    note = ""
    if name in known:
        nb, total = _with_course_tests(nb, read_notebook(known[name].file, known[name].path))
    else:
        total = sum(is_test_cell(c) for c in nb["cells"])
        note = "unknown exercise: graded with the submission's own test cells"
    tests = [c.get("id") for c in nb["cells"] if is_test_cell(c)]
    try:
        ran = execute(nb, file.parent, timeout, shown)
    except CourseKitError as exc:
        return Grade(shown, name, 0, total, str(exc).removeprefix(f"{shown}: "))
    failed = cell_errors(ran)
    passed = sum(1 for i, c in enumerate(ran["cells"]) if is_test_cell(c) and i not in failed)
    if len(tests) < total:
        note = note or f"{total - len(tests)} test cell(s) missing from the submission"
    return Grade(shown, name, passed, total, note)


def grade(
    submissions: Path, course_root: Path | None = None, timeout: int = 120, jobs: int = 1
) -> list[Grade]:
    """Grade every `*.ipynb` under `submissions` (recursively), sorted by file."""
    known = {ex.name: ex for ex in find_exercises(course_root)} if course_root else {}
    files = sorted(
        p
        for p in submissions.rglob("*.ipynb")
        if not any(part.startswith(".") for part in p.relative_to(submissions).parts)
    )
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda f: grade_file(f, submissions, known, timeout), files))


def write_csv(grades: list[Grade], path: Path) -> None:
    """Write the grades as CSV with the header `CSV_COLUMNS`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for g in grades:
            writer.writerow((g.student_file, g.exercise, g.passed, g.total, g.note))
