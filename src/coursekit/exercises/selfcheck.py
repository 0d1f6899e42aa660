"""The exercise self-checks and the build stage that writes both editions.

A teacher edition must run with every cell passing; a student edition must run
with every test cell failing, since a test that passes without the solution
tests nothing. Both checks execute real kernels; `coursekit check` only reads.

The build keeps each passing verdict in a cache keyed by what decides it: the
exercise's cells and kernelspec, the other files of its folder (data it may
read), the kernel's Python, the timeout and coursekit's own exercise code. An
exercise whose key did not change is not run again; a failing verdict is never
cached (it must be reported every time).
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.errors import BuildError, CourseError
from coursekit.execute.settings import DEFAULT_TIMEOUT, cell_timeout
from coursekit.exercises.editions import (
    cell_label,
    has_solution,
    student_edition,
    teacher_edition,
)
from coursekit.exercises.files import exercise_notebook, write_notebook
from coursekit.exercises.markers import is_test_cell
from coursekit.exercises.run import cell_errors, execute
from coursekit.loading.config import book_settings
from coursekit.model import Course, Exercise


@dataclass
class Verdict:
    """What the self-check found for one exercise; `problems` empty means it passed."""

    exercise: Exercise
    student: dict[str, Any] | None = None
    teacher: dict[str, Any] | None = None
    tests: int = 0
    problems: list[str] = field(default_factory=list)
    from_cache: bool = False  # an earlier build's verdict, for the same key

    @property
    def ok(self) -> bool:
        return not self.problems


def _label(nb: dict[str, Any], index: int) -> str:
    kind = "test cell" if is_test_cell(nb["cells"][index]) else "cell"
    return cell_label(nb, index).replace("cell", kind, 1)


def verify_exercise(
    exercise: Exercise, timeout: int = DEFAULT_TIMEOUT, niceness: int = 0
) -> Verdict:
    """Build both editions of `exercise`, execute them (kernels at `niceness`) and judge them."""
    verdict = Verdict(exercise)
    try:
        source = exercise_notebook(exercise)
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
    teacher = execute(teacher_edition(source, exercise.name), cwd, timeout, exercise.path, niceness)
    for index, error in cell_errors(teacher).items():
        verdict.problems.append(f"teacher edition, {_label(source, index)} fails: {error.short()}")
    # Without the solution, the tests as the grader runs them (hidden ones included)
    # must fail: a cell of hidden tests only is empty in the edition students get.
    # Its errors are expected and never shown: no tracebacks (half the run's CPU).
    probe = _with_all_tests(student, source, tests)
    ran = execute(probe, cwd, timeout, exercise.path, niceness, tracebacks=False)
    failed = cell_errors(ran)
    for index in tests:
        if index not in failed:
            verdict.problems.append(
                f"student edition, {_label(source, index)} passes without the solution; "
                "a test that passes without the solution tests nothing"
            )
    verdict.student, verdict.teacher = student, teacher
    return verdict


def _with_all_tests(
    student: dict[str, Any], source: dict[str, Any], tests: list[int]
) -> dict[str, Any]:
    """The student edition with each test cell as the teacher wrote it (hidden tests kept)."""
    probe = copy.deepcopy(student)
    for index in tests:
        probe["cells"][index]["source"] = source["cells"][index]["source"]
    return probe


def verify(
    exercises: list[Exercise],
    timeout: int | None = None,
    jobs: int = 1,
    cache_dir: Path | None = None,
    niceness: int = 0,
) -> list[Verdict]:
    """Self-check every exercise, `jobs` at a time; verdicts in the order given.

    `timeout` (seconds per cell) None: the book's `execute.timeout`, as the build
    (`coursekit.execute.settings.cell_timeout`). With `cache_dir`, an exercise whose
    verdict key is cached there is not run; new passing verdicts are stored there,
    and entries no exercise uses removed.
    """
    if timeout is None:
        timeout = cell_timeout(None, book_settings(exercises[0].root if exercises else None))
    keys = {ex.path: verdict_key(ex, timeout) for ex in exercises} if cache_dir else {}
    cached = (
        {ex.path: _cached(cache_dir, ex, keys[ex.path]) for ex in exercises} if cache_dir else {}
    )
    todo = [ex for ex in exercises if cached.get(ex.path) is None]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        ran = dict(
            zip(
                [ex.path for ex in todo],
                pool.map(lambda ex: verify_exercise(ex, timeout, niceness), todo),
                strict=True,
            )
        )
    if cache_dir is not None:
        for path, verdict in ran.items():
            if verdict.ok:
                _store(cache_dir, keys[path], verdict)
        _prune(cache_dir, set(keys.values()))
    return [ran.get(ex.path) or cached[ex.path] for ex in exercises]  # type: ignore[misc]


def verdict_key(exercise: Exercise, timeout: int) -> str | None:
    """What decides an exercise's verdict, hashed; None when the notebook cannot be read."""
    try:
        source = exercise_notebook(exercise)
    except CourseError:
        return None
    digest = hashlib.sha256()
    kernelspec = source.get("metadata", {}).get("kernelspec", {})
    digest.update(
        json.dumps(
            [source["cells"], kernelspec, sys.version, timeout, _code_key()], sort_keys=True
        ).encode()
    )
    folder = exercise.file.parent
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if (
            path.is_file()
            and path.suffix != ".ipynb"
            and not any(p.startswith(".") for p in rel.split("/"))
        ):
            digest.update(rel.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _code_key() -> str:
    """coursekit's version and the code that makes and runs the editions."""
    from coursekit import __version__
    from coursekit.execute import kernels

    digest = hashlib.sha256(__version__.encode())
    for path in sorted(
        [*Path(__file__).parent.glob("*.py"), *Path(kernels.__file__).parent.glob("*.py")]
    ):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cached(cache_dir: Path | None, exercise: Exercise, key: str | None) -> Verdict | None:
    if cache_dir is None or key is None:
        return None
    try:
        data = json.loads((cache_dir / f"{key}.json").read_text(encoding="utf-8"))
        return Verdict(
            exercise, data["student"], data["teacher"], int(data["tests"]), from_cache=True
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(cache_dir: Path, key: str | None, verdict: Verdict) -> None:
    if key is None:
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    data = {"student": verdict.student, "teacher": verdict.teacher, "tests": verdict.tests}
    tmp = cache_dir / f".{key}.tmp"
    tmp.write_text(json.dumps(data), encoding="utf-8")
    tmp.replace(cache_dir / f"{key}.json")


def _prune(cache_dir: Path, keep: set[str | None]) -> None:
    for path in cache_dir.glob("*.json") if cache_dir.is_dir() else []:
        if path.stem not in keep:
            path.unlink(missing_ok=True)


def describe_failures(verdicts: list[Verdict]) -> str:
    """One line per problem: `exercises/NN-x/name.ipynb: problem`."""
    return "\n".join(f"{v.exercise.path}: {p}" for v in verdicts for p in v.problems)


@dataclass(frozen=True, slots=True)
class Editions:
    """Where `build_editions` wrote the notebooks."""

    student: tuple[Path, ...]
    teacher: tuple[Path, ...]
    checked: tuple[str, ...] = ()  # exercises self-checked by this build (not from the cache)


def build_editions(
    course: Course,
    out_dir: Path,
    jobs: int = 1,
    cache_dir: Path | None = None,
    niceness: int = 0,
    timeout: int | None = None,
) -> Editions:
    """The exercises build stage: write `out_dir/student/` and `out_dir/teacher/`.

    `timeout`: seconds a cell may run (the build's --timeout; default: the
    book's `execute.timeout`).

    Runs the self-checks first (those cached in `cache_dir` are not run again);
    any failure raises BuildError naming the exercise and the cell, and leaves a
    previous `out_dir` untouched. The new folders are written beside `out_dir`
    and moved into place only when complete.
    """
    timeout = cell_timeout(timeout, course.config.execute if course.config else None)
    verdicts = verify(list(course.exercises), timeout, jobs, cache_dir, niceness)
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
        tuple(v.exercise.path for v in verdicts if not v.from_cache),
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
