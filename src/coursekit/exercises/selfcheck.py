"""The exercise self-checks and the build stage that writes both editions.

A teacher edition must run with every cell passing; a student edition must run
with every test cell failing, since a test that passes without the solution
tests nothing. Both checks execute real kernels; `coursekit check` only reads.
"""

from __future__ import annotations

import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.errors import BuildError, CourseError
from coursekit.exercises.editions import (
    cell_label,
    has_solution,
    student_edition,
    teacher_edition,
)
from coursekit.exercises.files import Exercise, find_exercises, read_notebook, write_notebook
from coursekit.exercises.markers import is_test_cell
from coursekit.exercises.run import cell_errors, execute
from coursekit.model import Course

DEFAULT_TIMEOUT = 120


@dataclass
class Verdict:
    """What the self-check found for one exercise; `problems` empty means it passed."""

    exercise: Exercise
    student: dict[str, Any] | None = None
    teacher: dict[str, Any] | None = None
    tests: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _label(nb: dict[str, Any], index: int) -> str:
    kind = "test cell" if is_test_cell(nb["cells"][index]) else "cell"
    return cell_label(nb, index).replace("cell", kind, 1)


def verify_exercise(exercise: Exercise, timeout: int = DEFAULT_TIMEOUT) -> Verdict:
    """Build both editions of `exercise`, execute them and judge them."""
    verdict = Verdict(exercise)
    try:
        source = read_notebook(exercise.file, exercise.path)
    except CourseError as exc:
        verdict.problems.append(str(exc).removeprefix(f"{exercise.path}: "))
        return verdict
    student, marker_problems = student_edition(source, exercise.name)
    for p in marker_problems:
        verdict.problems.append(f"{cell_label(source, p.index)}: {p.problem.message}")
    tests = [i for i, c in enumerate(source["cells"]) if is_test_cell(c)]
    verdict.tests = len(tests)
    if not tests:
        verdict.problems.append("no test cell (tag a code cell of assertions `tests`)")
    if not has_solution(source) and not marker_problems:
        verdict.problems.append(
            "no `### BEGIN SOLUTION` region, so the student edition is the same as the teacher's"
        )
    if verdict.problems:
        return verdict
    cwd = exercise.file.parent
    teacher = execute(teacher_edition(source, exercise.name), cwd, timeout, exercise.path)
    for index, error in cell_errors(teacher).items():
        verdict.problems.append(f"teacher edition, {_label(source, index)} fails: {error.short()}")
    ran = execute(student, cwd, timeout, exercise.path)
    failed = cell_errors(ran)
    for index in tests:
        if index not in failed:
            verdict.problems.append(
                f"student edition, {_label(source, index)} passes without the solution; "
                "a test that passes without the solution tests nothing"
            )
    verdict.student, verdict.teacher = student, teacher
    return verdict


def verify(
    exercises: list[Exercise], timeout: int = DEFAULT_TIMEOUT, jobs: int = 1
) -> list[Verdict]:
    """Self-check every exercise, `jobs` at a time; verdicts in the order given."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda ex: verify_exercise(ex, timeout), exercises))


def describe_failures(verdicts: list[Verdict]) -> str:
    """One line per problem: `exercises/NN-x/name.ipynb: problem`."""
    return "\n".join(f"{v.exercise.path}: {p}" for v in verdicts for p in v.problems)


@dataclass(frozen=True, slots=True)
class Editions:
    """Where `build_editions` wrote the notebooks."""

    student: tuple[Path, ...]
    teacher: tuple[Path, ...]


def build_editions(course: Course, out_dir: Path, jobs: int = 1) -> Editions:
    """The exercises build stage: write `out_dir/student/` and `out_dir/teacher/`.

    Runs the self-checks first; any failure raises BuildError naming the exercise
    and the cell, and leaves a previous `out_dir` untouched. The new folders are
    written beside `out_dir` and moved into place only when complete.
    """
    timeout = course.config.execute_timeout if course.config else DEFAULT_TIMEOUT
    verdicts = verify(find_exercises(course.root), timeout, jobs)
    failed = [v for v in verdicts if not v.ok]
    if failed:
        raise BuildError("the exercise self-checks failed:\n" + describe_failures(failed))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".exercises-", dir=out_dir.parent))
    try:
        for v in verdicts:
            assert v.student is not None and v.teacher is not None
            write_notebook(v.student, tmp / "student" / f"{v.exercise.name}.ipynb")
            write_notebook(v.teacher, tmp / "teacher" / f"{v.exercise.name}.ipynb")
        (tmp / "student").mkdir(exist_ok=True)
        (tmp / "teacher").mkdir(exist_ok=True)
        _swap(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Editions(
        tuple(out_dir / "student" / f"{v.exercise.name}.ipynb" for v in verdicts),
        tuple(out_dir / "teacher" / f"{v.exercise.name}.ipynb" for v in verdicts),
    )


def _swap(new: Path, target: Path) -> None:
    """Put `new` at `target`; the old `target` is removed only once `new` is in place."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
