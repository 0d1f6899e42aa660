"""Grading submissions: run each submitted notebook, count the course's tests that pass.

A submission is data, never trusted:

- It is read with a size limit and checked shape by shape; a file that is not a
  notebook, a cell that is not an object, metadata that is not a mapping, an id that
  is not a string: a row with a note, never the end of the run.
- The tests that count are the course's own, taken from the student edition and
  put back by cell id (or nbgrader `grade_id` where a notebook lost its ids), as
  nbgrader does: a test edited or emptied by the student is
  replaced, a second cell with the same id is dropped, a test cell the course does
  not have is dropped, a course test missing from the submission counts as failed.
- Its code runs through the executor's sandboxed back-end
  (`coursekit.exercises.sandbox.SandboxExecutor`), one fresh private folder per
  submission, and the tests are judged by the harness outside IPython
  (`coursekit.exercises.harness`).
- The CSV is written once every job and every process they left is gone, in one
  atomic rename, with every text cell escaped against spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.execute.executor import Executor, RunRequest
from coursekit.execute.settings import cell_timeout
from coursekit.exercises.editions import student_edition
from coursekit.exercises.files import exercise_notebook
from coursekit.exercises.markers import is_test_cell
from coursekit.exercises.sandbox import Limits, SandboxExecutor, become_subreaper, kill_orphans
from coursekit.loading.config import book_settings
from coursekit.loading.exercises import load_exercises
from coursekit.model import Exercise

CSV_COLUMNS = ("student_file", "exercise", "tests_passed", "tests_total", "note")
MAX_NOTEBOOK_BYTES = 20 * 1024**2
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Grade:
    student_file: str  # relative to the submissions folder
    exercise: str
    passed: int
    total: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class CourseTests:
    """The test cells of one exercise, from its student edition: id -> source, in order."""

    exercise: str
    sources: dict[str, str]
    grade_ids: dict[str, str]  # nbgrader grade_id -> cell id, for notebooks without cell ids


class Malformed(ValueError):
    """A submission that is not a notebook we can grade; the message is the CSV note."""


# ----------------------------------------------------------------- reading


def read_submission(file: Path) -> dict[str, Any]:
    """The submission as a dict of checked shape; raises Malformed with a short reason."""
    try:
        if file.is_symlink():  # it could point at the teacher edition or a peer's work
            raise Malformed("a symbolic link: not graded")
        size = file.stat().st_size
        if not file.is_file():
            raise Malformed("not a regular file")
        if size > MAX_NOTEBOOK_BYTES:
            raise Malformed(f"too large to grade ({size // 1024**2} MB)")
        with file.open("rb") as f:
            raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise Malformed(f"not readable ({exc.strerror or exc})") from exc
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise Malformed(f"not a readable notebook ({type(exc).__name__})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Malformed("not a notebook (no list of cells)")
    if not isinstance(data.get("metadata", {}), dict):
        raise Malformed("not a notebook (its metadata is not a mapping)")
    for index, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict):
            raise Malformed(f"not a notebook (cell {index + 1} is not an object)")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            cell["source"] = "".join(source)
        elif not isinstance(source, str):
            raise Malformed(f"not a notebook (cell {index + 1}'s source is not text)")
        if not isinstance(cell.get("metadata", {}), dict):
            cell["metadata"] = {}  # metadata only decides what is a test cell: none here
    return data


def course_tests(exercise: Exercise) -> CourseTests:
    """The exercise's test cells as students were given them (student edition)."""
    nb, _ = student_edition(exercise_notebook(exercise), exercise.name)
    sources: dict[str, str] = {}
    grade_ids: dict[str, str] = {}
    for cell in nb["cells"]:
        if is_test_cell(cell) and isinstance(cell.get("id"), str):
            sources.setdefault(cell["id"], cell["source"])
            grade_id = _grade_id(cell)
            if grade_id:
                grade_ids.setdefault(grade_id, cell["id"])
    return CourseTests(exercise.name, sources, grade_ids)


def _grade_id(cell: dict[str, Any]) -> str | None:
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def _course_test_of(cell: dict[str, Any], tests: CourseTests) -> str | None:
    """The course test a submitted cell stands for: by cell id, else by nbgrader grade_id."""
    cell_id = cell.get("id")
    if isinstance(cell_id, str) and cell_id in tests.sources:
        return cell_id
    return tests.grade_ids.get(_grade_id(cell) or "")


def _exercise_of(nb: dict[str, Any], file: Path, known: dict[str, CourseTests]) -> str:
    """The exercise a submission answers: its coursekit metadata, else its file name."""
    meta = nb.get("metadata", {}).get("coursekit")
    name = meta.get("exercise") if isinstance(meta, dict) else None
    if isinstance(name, str) and name in known:
        return name
    by_stem = [n for n in known if n.rsplit("/", 1)[-1] == file.stem]
    return by_stem[0] if len(by_stem) == 1 else (name if isinstance(name, str) else file.stem)


def job_cells(nb: dict[str, Any], tests: CourseTests) -> tuple[list[dict[str, Any]], list[str]]:
    """The cells to run: the submission's code, and the course's tests where their ids sit
    (metadata `coursekit.test`: the test's number, for the sandbox's harness).

    Returns them and the ids of course tests the submission does not have.
    """
    order = list(tests.sources)
    cells: list[dict[str, Any]] = []
    placed: set[str] = set()
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        cell_id = _course_test_of(cell, tests)
        if cell_id is not None:
            if cell_id not in placed:  # a second cell with a test's id earns nothing
                placed.add(cell_id)
                test = {"coursekit": {"test": order.index(cell_id)}}
                cells.append(_code(tests.sources[cell_id], test))
            continue
        if is_test_cell(cell):
            continue  # a test the course does not have: it cannot earn points
        cells.append(_code(cell["source"]))
    return cells, [i for i in order if i not in placed]


def _code(source: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"cell_type": "code", "source": source, "metadata": metadata or {}, "outputs": []}


# ----------------------------------------------------------------- grading


def grade_file(
    file: Path, base: Path, known: dict[str, CourseTests], executor: Executor, timeout: int
) -> Grade:
    """Run one submission through `executor` (the sandbox) and count the tests it passes."""
    return _grade_read(file, base, _read(file), known, executor, timeout)


def _read(file: Path) -> dict[str, Any] | Malformed:
    try:
        return read_submission(file)
    except Malformed as exc:
        return exc


def _grade_read(
    file: Path,
    base: Path,
    nb: dict[str, Any] | Malformed,
    known: dict[str, CourseTests],
    executor: Executor,
    timeout: int,
) -> Grade:
    shown = file.relative_to(base).as_posix()
    if isinstance(nb, Malformed):
        name = _exercise_of({}, file, known)
        total = len(known[name].sources) if name in known else 0
        return Grade(shown, name, 0, total, str(nb))
    name = _exercise_of(nb, file, known)
    if name not in known:
        return Grade(shown, name, 0, 0, "unknown exercise: not graded")
    tests = known[name]
    cells, missing = job_cells(nb, tests)
    outcome = executor.run(RunRequest({"cells": cells}, shown, timeout=timeout))
    passed = sum(1 for ok, _ in outcome.tests.values() if ok)
    notes = [*outcome.notes, outcome.detail] if outcome.detail else list(outcome.notes)
    if missing:
        notes.append(f"{len(missing)} test cell(s) missing from the submission")
    return Grade(shown, name, passed, len(tests.sources), "; ".join(notes))


def submission_files(submissions: Path) -> list[Path]:
    """Every `*.ipynb` under `submissions`, hidden folders skipped, symlinks not followed."""
    found = []
    for dirpath, dirnames, filenames in os.walk(submissions):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.endswith(".ipynb") and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return sorted(found)


def grade(
    submissions: Path,
    course_root: Path | None = None,
    timeout: int | None = None,
    jobs: int = 1,
    limits: Limits | None = None,
) -> list[Grade]:
    """Grade every `*.ipynb` under `submissions` (recursively), sorted by file.

    `timeout`: seconds per cell; None: the course's `execute.timeout`, as the build.
    Returns only once every process the submissions started is gone.
    """
    timeout = cell_timeout(timeout, book_settings(course_root))
    executor = SandboxExecutor(limits)
    exercises = load_exercises(course_root) if course_root else ()
    known = {ex.name: course_tests(ex) for ex in exercises}
    # Every submission is read before any runs: one cannot change or delete another.
    read = {f: _read(f) for f in submission_files(submissions)}
    become_subreaper()
    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(
                pool.map(
                    lambda f: _grade_read(f, submissions, read[f], known, executor, timeout), read
                )
            )
    finally:
        kill_orphans()


# ----------------------------------------------------------------- the CSV


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula (a leading `'`); numbers unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(grades: list[Grade], path: Path) -> None:
    """Write the grades as CSV (header `CSV_COLUMNS`) in one atomic rename."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for g in grades:
        writer.writerow(
            [spreadsheet_safe(v) for v in (g.student_file, g.exercise, g.passed, g.total, g.note)]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(buffer.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
