"""Grading submissions: the course's tests run against each submitted notebook, in points.

A submission is data, never trusted:

- It is read with a size limit and checked shape by shape; a file that is not a
  notebook, a FIFO, a folder named like a notebook, a name that is not UTF-8: a row
  with a note, never the end of the run.
- The tests that count are the course's own, from the teacher's notebook (hidden
  tests included), matched to the submission's cells by cell id (or nbgrader
  `grade_id` where a notebook lost its ids), as nbgrader does: a test edited or
  emptied by the student is replaced, a second cell with the same id is dropped, a
  test cell the course does not have is dropped, a course test missing from the
  submission is "not run".
- The submission's code runs in the sandbox and the tests in a process of their own
  that asks it for data (`coursekit.exercises.sandbox`): what the submission does
  can change the values it hands over, never a verdict.
- Before any submission runs, the teacher's own notebook is graded the same way; if
  it does not score full marks here, grading stops and says why.
- Every row says, per test, passed / failed (the exception and its first line) /
  error in the student's code / timed out / not run, with nbgrader `points` (default 1).
- The CSV is written once every job and every process they left is gone, in one
  atomic rename, with every text cell escaped against spreadsheet formulas.

Student ids: the first folder under the submissions folder
(`SUBMISSIONS/<student id>/.../<exercise>.ipynb`); a notebook directly in the
submissions folder is `<student id>.ipynb` (its exercise from its metadata).
"""

from __future__ import annotations

import ast
import csv
import io
import json
import os
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from coursekit.errors import CourseError
from coursekit.execute.settings import cell_timeout
from coursekit.exercises.editions import student_edition
from coursekit.exercises.files import exercise_notebook
from coursekit.exercises.markers import MARK_SCHEME, is_test_cell, scan, source_of
from coursekit.exercises.sandbox import (
    STOP,
    Job,
    Limits,
    SandboxExecutor,
    become_subreaper,
    kill_orphans,
    require_sandbox,
)
from coursekit.loading.config import book_settings
from coursekit.loading.exercises import load_exercises
from coursekit.model import Exercise

CSV_COLUMNS = (
    "student",
    "student_file",
    "exercise",
    "points",
    "max_points",
    "tests_passed",
    "tests_total",
    "tests",
    "written",
    "note",
)
MAX_NOTEBOOK_BYTES = 20 * 1024**2
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
STATUS_WORDS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error in the student's code",
    "timeout": "timed out",
    "not run": "not run",
}


@dataclass(frozen=True, slots=True)
class TestResult:
    """One course test in one submission."""

    name: str  # the test's nbgrader grade_id, else its cell id
    status: str  # passed | failed | error | timeout | not run
    why: str
    points: float
    max_points: float

    def describe(self) -> str:
        text = f"{self.name}: {STATUS_WORDS.get(self.status, self.status)}"
        text += f" ({_num(self.points)}/{_num(self.max_points)})"
        return text + (f" - {self.why}" if self.why else "")


@dataclass(frozen=True, slots=True)
class Written:
    """One written (manually graded) answer of a submission, and its mark when given."""

    question: str  # grade_id or cell id
    answer: str
    max_points: float
    points: float | None = None
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Grade:
    student_file: str  # relative to the submissions folder, printable
    exercise: str
    passed: int
    total: int
    note: str = ""
    student: str = ""
    tests: tuple[TestResult, ...] = ()
    written: tuple[Written, ...] = ()
    graded: bool = False  # the course's tests ran on it
    duplicate: bool = False

    @property
    def points(self) -> float:
        marks = sum(w.points or 0 for w in self.written)
        return sum(t.points for t in self.tests) + marks

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tests) + sum(w.max_points for w in self.written)


@dataclass(frozen=True, slots=True)
class Question:
    """A written question of the course: its cell, points and mark scheme."""

    cell_id: str
    grade_id: str
    points: float
    mark_scheme: str


@dataclass(frozen=True, slots=True)
class CourseTests:
    """What counts in one exercise, from the teacher's notebook: id -> source, in order."""

    exercise: str
    sources: dict[str, str]
    grade_ids: dict[str, str]  # nbgrader grade_id -> cell id, for notebooks without cell ids
    points: dict[str, float] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # cell id -> grade_id or cell id
    questions: tuple[Question, ...] = ()
    cells: int = 1  # code cells of the teacher's notebook: the time budget's measure
    teacher: dict[str, Any] = field(default_factory=dict)
    modules: tuple[str, ...] = ()  # top-level modules its code imports


class Malformed(ValueError):
    """A submission that is not a notebook we can grade; the message is the CSV note."""


class GradingStopped(CourseError):
    """Grading cannot be trusted here (the teacher's notebook fails, no sandbox)."""


# ----------------------------------------------------------------- reading


def read_submission(file: Path) -> dict[str, Any]:
    """The submission as a dict of checked shape; raises Malformed with a short reason."""
    try:
        if file.is_symlink():  # it could point at the teacher edition or a peer's work
            raise Malformed("a symbolic link: not graded")
        if file.is_dir():
            raise Malformed("a folder named like a notebook: not graded")
        size = file.stat().st_size
        if not file.is_file():
            raise Malformed("not a regular file (a FIFO, a device or a socket): not graded")
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


def _points(cell: dict[str, Any]) -> float:
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    value = nbgrader.get("points", 1) if isinstance(nbgrader, dict) else 1
    try:
        points = float(value)
    except (TypeError, ValueError):
        return 1.0
    return points if points >= 0 else 1.0


def course_tests(exercise: Exercise) -> CourseTests:
    """The exercise's tests (hidden ones included) and written questions, from the
    teacher's notebook, read once before any submission runs."""
    teacher = exercise_notebook(exercise)
    sources: dict[str, str] = {}
    grade_ids: dict[str, str] = {}
    points: dict[str, float] = {}
    names: dict[str, str] = {}
    questions: list[Question] = []
    code_cells = 0
    for cell in teacher["cells"]:
        if not isinstance(cell, dict):
            continue
        cell_id = cell.get("id")
        code_cells += cell.get("cell_type") == "code"
        if not isinstance(cell_id, str):
            continue
        grade_id = _grade_id(cell)
        if is_test_cell(cell) and cell_id not in sources:
            sources[cell_id] = source_of(cell)
            points[cell_id] = _points(cell)
            names[cell_id] = grade_id or cell_id
            if grade_id:
                grade_ids.setdefault(grade_id, cell_id)
        elif _is_written(cell):
            questions.append(Question(cell_id, grade_id or cell_id, _points(cell), _scheme(cell)))
    return CourseTests(
        exercise.name,
        sources,
        grade_ids,
        points,
        names,
        tuple(questions),
        code_cells,
        teacher,
        imported_modules(teacher),
    )


def imported_modules(nb: dict[str, Any]) -> tuple[str, ...]:
    """The top-level modules the notebook's code cells import (`import pandas as pd`)."""
    found: set[str] = set()
    for cell in nb.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(source_of(cell))
        except (SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return tuple(sorted(found))


def _is_written(cell: dict[str, Any]) -> bool:
    """A manually graded answer: a mark scheme in a markdown cell, or nbgrader's
    `solution: true, grade: true` on a markdown cell."""
    if cell.get("cell_type") != "markdown":
        return False
    nbgrader = cell.get("metadata", {}).get("nbgrader")
    if isinstance(nbgrader, dict) and nbgrader.get("solution") and nbgrader.get("grade"):
        return True
    return any(r.kind is MARK_SCHEME for r in scan(cell)[0])


def _scheme(cell: dict[str, Any]) -> str:
    lines = source_of(cell).split("\n")
    inside = ["\n".join(lines[r.begin + 1 : r.end]) for r in scan(cell)[0] if r.kind is MARK_SCHEME]
    return "\n\n".join(inside) or source_of(cell)


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
    """The job's cells: the submission's code (`{"source": ...}`) and `{"test": n}` where
    the course's test n sits (its text never enters the submission's process).

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
                cells.append({"test": order.index(cell_id)})
            continue
        if is_test_cell(cell):
            continue  # a test the course does not have: it cannot earn points
        cells.append({"source": cell["source"]})
    return cells, [i for i in order if i not in placed]


def _written_answers(nb: dict[str, Any], tests: CourseTests) -> tuple[Written, ...]:
    by_id = {c.get("id"): c for c in nb["cells"] if isinstance(c.get("id"), str)}
    by_grade = {_grade_id(c): c for c in nb["cells"] if _grade_id(c)}
    out = []
    for q in tests.questions:
        cell = by_id.get(q.cell_id) or by_grade.get(q.grade_id)
        answer = source_of(cell) if cell is not None else ""
        out.append(Written(q.grade_id, answer, q.points))
    return tuple(out)


# ----------------------------------------------------------------- grading


def printable_path(path: Path) -> str:
    """A path as text that any file can hold: bytes that are not UTF-8 as \\xNN."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def student_of(file: Path, base: Path) -> str:
    """The student id: the first folder under `base`, else the notebook's own name."""
    parts = file.relative_to(base).parts
    return printable_path(Path(parts[0] if len(parts) > 1 else file.stem))


def _grade_read(
    file: Path,
    base: Path,
    nb: dict[str, Any] | Malformed,
    known: dict[str, CourseTests],
    executor: SandboxExecutor,
    timeout: int,
    limits: Limits,
) -> Grade:
    shown = printable_path(file.relative_to(base))
    student = student_of(file, base)
    if isinstance(nb, Malformed):
        name = _exercise_of({}, file, known)
        tests = known.get(name)
        results = _not_run(tests, str(nb)) if tests else ()
        total = len(tests.sources) if tests else 0
        return Grade(shown, name, 0, total, str(nb), student, results)
    name = _exercise_of(nb, file, known)
    if name not in known:
        return Grade(shown, name, 0, 0, "unknown exercise: not graded", student)
    return grade_notebook(nb, known[name], executor, timeout, limits, shown, student)


def _not_run(tests: CourseTests, why: str) -> tuple[TestResult, ...]:
    return tuple(
        TestResult(tests.names[i], "not run", why, 0, tests.points[i]) for i in tests.sources
    )


def grade_notebook(
    nb: dict[str, Any],
    tests: CourseTests,
    executor: SandboxExecutor,
    timeout: int,
    limits: Limits,
    shown: str,
    student: str,
) -> Grade:
    """Grade one notebook (a submission, or the teacher's own) against `tests`."""
    order = list(tests.sources)
    cells, missing = job_cells(nb, tests)
    budget = limits.notebook_seconds(timeout, tests.cells + len(order))
    sources = {n: tests.sources[i] for n, i in enumerate(order)}
    job = Job(cells, sources, timeout, budget, tests.modules)
    result = executor.grade(job)
    results = []
    for n, cell_id in enumerate(order):
        status, why = result.verdicts.get(n, ("not run", result.stopped))
        if cell_id in missing:
            status, why = "not run", "the test cell is missing from the submission"
        earned = tests.points[cell_id] if status == "passed" else 0.0
        results.append(TestResult(tests.names[cell_id], status, why, earned, tests.points[cell_id]))
    notes = [result.stopped] if result.stopped else []
    if missing:
        notes.append(f"{len(missing)} test cell(s) missing from the submission")
    notes += result.notes[:3]
    passed = sum(r.status == "passed" for r in results)
    written = _written_answers(nb, tests)
    return Grade(
        shown, tests.exercise, passed, len(order), "; ".join(notes), student, tuple(results),
        written, graded=True,
    )  # fmt: skip


def submission_files(submissions: Path) -> list[Path]:
    """Every `*.ipynb` under `submissions` (also folders so named, to be reported),
    hidden ones skipped, symlinks not followed."""
    found = []
    for dirpath, dirnames, filenames in os.walk(submissions):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in [*filenames, *dirnames]:
            if name.endswith(".ipynb") and not name.startswith("."):
                found.append(Path(dirpath) / name)
    return sorted(found)


def check_teacher(
    known: dict[str, CourseTests], executor: SandboxExecutor, timeout: int, limits: Limits
) -> None:
    """Grade each exercise's own notebook here; GradingStopped when one is not full marks."""
    problems = []
    for tests in known.values():
        if not tests.sources:
            continue
        g = grade_notebook(
            tests.teacher, tests, executor, timeout, limits, tests.exercise, "teacher"
        )
        if g.passed < g.total:
            failing = [t for t in g.tests if t.status != "passed"]
            causes = [n for n in g.note.split("; ") if n] + [t.describe() for t in failing[:3]]
            problems.append(
                f"{tests.exercise}: the teacher's notebook passes {g.passed} of {g.total} "
                f"tests here ({'; '.join(causes)})"
            )
    if problems:
        raise GradingStopped(
            "grading stopped: the course's own solutions do not pass in this environment, "
            "so no grade would be right. " + " | ".join(problems) + ". Install what the "
            "course needs (e.g. its requirements) where you grade, then grade again."
        )


def grade(
    submissions: Path,
    course_root: Path | None = None,
    timeout: int | None = None,
    jobs: int = 1,
    limits: Limits | None = None,
    no_sandbox: bool = False,
    marks: dict[tuple[str, str, str], tuple[float, str]] | None = None,
    known: dict[str, CourseTests] | None = None,
) -> list[Grade]:
    """Grade every `*.ipynb` under `submissions` (recursively), sorted by file.

    `timeout`: seconds per test (and per cell); None: the course's `execute.timeout`.
    Stops (GradingStopped) without a sandbox unless `no_sandbox`, and when the
    teacher's notebooks do not pass here. Returns only once every process is gone.
    """
    from coursekit.exercises.sandbox import SandboxMissing

    try:
        require_sandbox(no_sandbox)
    except SandboxMissing as exc:
        raise GradingStopped(str(exc)) from exc
    timeout = cell_timeout(timeout, book_settings(course_root))
    limits = limits or Limits()
    executor = SandboxExecutor(limits, sandboxed=not no_sandbox)
    known = known if known is not None else load_known(course_root)
    # Every submission is read before any runs: one cannot change or delete another.
    files = submission_files(submissions)
    read = {f: _read(f) for f in files}
    used = {_exercise_of(nb if isinstance(nb, dict) else {}, f, known) for f, nb in read.items()}
    become_subreaper()
    STOP.clear()
    try:
        check_teacher({k: v for k, v in known.items() if k in used}, executor, timeout, limits)
        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            futures = [
                pool.submit(_grade_read, f, submissions, read[f], known, executor, timeout, limits)
                for f in read
            ]
            grades = [f.result() for f in futures]
        except BaseException:
            STOP.set()  # Ctrl-C: every running job ends within a second
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    finally:
        kill_orphans()
    return apply_marks(flag_duplicates(grades), marks or {})


def load_known(course_root: Path | None) -> dict[str, CourseTests]:
    """Each exercise's tests and written questions, read once from the course."""
    exercises = load_exercises(course_root) if course_root else ()
    return {ex.name: course_tests(ex) for ex in exercises}


def _read(file: Path) -> dict[str, Any] | Malformed:
    try:
        return read_submission(file)
    except Malformed as exc:
        return exc


def flag_duplicates(grades: list[Grade]) -> list[Grade]:
    """Two notebooks of one exercise from one student: both flagged, neither counted."""
    seen: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, g in enumerate(grades):
        if g.graded:
            seen[(g.student, g.exercise)].append(i)
    out = list(grades)
    for indexes in seen.values():
        if len(indexes) > 1:
            files = ", ".join(grades[i].student_file for i in indexes)
            for i in indexes:
                note = f"{len(indexes)} notebooks for this exercise from one student ({files}): "
                note += "keep one; none goes to the gradebook"
                out[i] = replace(out[i], note="; ".join(filter(None, [note, out[i].note])),
                                 duplicate=True)  # fmt: skip
    return out


def apply_marks(
    grades: list[Grade], marks: dict[tuple[str, str, str], tuple[float, str]]
) -> list[Grade]:
    """The teacher's marks of written answers ((student, exercise, question) -> points,
    comment) into the grades; a mark above the question's points is capped."""
    out = []
    for g in grades:
        written = []
        for w in g.written:
            mark = marks.get((g.student, g.exercise, w.question))
            if mark is not None:
                w = replace(w, points=min(max(mark[0], 0.0), w.max_points), comment=mark[1])
            written.append(w)
        out.append(replace(g, written=tuple(written)))
    return out


# ----------------------------------------------------------------- the CSV


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet will not run as a formula (a leading `'`); numbers unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def written_summary(g: Grade) -> str:
    if not g.written:
        return ""
    unmarked = [w for w in g.written if w.points is None]
    text = "; ".join(
        f"{w.question}: {'not marked' if w.points is None else _num(w.points)}/{_num(w.max_points)}"
        for w in g.written
    )
    return text + (" (written answers not marked yet)" if unmarked else "")


def write_csv(grades: list[Grade], path: Path) -> None:
    """Write the grades as CSV (header `CSV_COLUMNS`) in one atomic rename."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for g in grades:
        row = (
            g.student,
            g.student_file,
            g.exercise,
            _num(g.points),
            _num(g.max_points),
            g.passed,
            g.total,
            "; ".join(t.describe() for t in g.tests),
            written_summary(g),
            g.note,
        )
        writer.writerow([spreadsheet_safe(v) for v in row])
    write_atomic(path, buffer.getvalue())


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def student_edition_of(tests: CourseTests) -> dict[str, Any]:
    """The student edition of an exercise (what a blank submission is)."""
    return student_edition(tests.teacher, tests.exercise)[0]
