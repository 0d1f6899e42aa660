"""Exercises: nbgrader-style markers, student/teacher editions, self-checks, grading.

The build stage entry point is `build_editions(course, out_dir, jobs)`.

Names are imported on first use: grading and the self-checks pull in nbclient and
jupyter_client, which `coursekit check` (it only needs the markers) should not pay for
at every start.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_HOMES = {
    "solution_lines": "editions",
    "student_edition": "editions",
    "teacher_edition": "editions",
    "exercise_notebook": "files",
    "read_notebook": "files",
    "grade": "grade",
    "write_csv": "grade",
    "Editions": "selfcheck",
    "Verdict": "selfcheck",
    "build_editions": "selfcheck",
    "verify": "selfcheck",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'coursekit.exercises' has no attribute {name!r}")
    return getattr(import_module(f"coursekit.exercises.{home}"), name)
