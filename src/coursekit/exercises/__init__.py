"""Exercises: nbgrader-style markers, student/teacher editions, self-checks, grading.

The build stage entry point is `build_editions(course, out_dir, jobs)`.
"""

from coursekit.exercises.editions import solution_lines, student_edition, teacher_edition
from coursekit.exercises.files import Exercise, find_exercises, read_notebook
from coursekit.exercises.grade import grade, write_csv
from coursekit.exercises.selfcheck import Editions, Verdict, build_editions, verify

__all__ = [
    "Editions", "Exercise", "Verdict", "build_editions", "find_exercises", "grade",
    "read_notebook", "solution_lines", "student_edition", "teacher_edition", "verify",
    "write_csv",
]
