"""Checks that a module's quiz assesses its objectives (CK461–CK462).

Each quiz question may name the objectives it assesses with `objectives: [1, 3]`,
1-based numbers into the `objectives` list of the unit's `module.yml` (or its
`coursekit.units` entry). An objective no question names is taught but never
assessed; a number past the end of the list names nothing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.model import Course


def unassessed_objectives(course: Course) -> Iterator[Finding]:
    """CK461: every objective of a unit with a quiz is named by at least one question."""
    for unit in course.units:
        quiz = course.quiz(unit.quiz) if unit.quiz else None
        if quiz is None or not unit.objectives:
            continue
        named = {n for q in quiz.questions for n in q.objectives}
        for number, text in enumerate(unit.objectives, start=1):
            if number in named:
                continue
            at = unit.objectives_pos
            line, col = at[number - 1] if len(at) >= number else unit.id_pos
            short = textwrap.shorten(text, 60, placeholder="…")
            yield make(
                "CK461",
                unit.where,
                line,
                col,
                f"objective {number} ({short!r}) is assessed by no question of {quiz.path}; "
                f"add `objectives: [{number}]` to a question that assesses it",
            )


def unknown_objectives(course: Course) -> Iterator[Finding]:
    """CK462: a question's objective numbers must exist in its unit's `objectives`."""
    for unit in course.units:
        quiz = course.quiz(unit.quiz) if unit.quiz else None
        if quiz is None:
            continue
        count = len(unit.objectives)
        for q in quiz.questions:
            for j, number in enumerate(q.objectives):
                if number <= count:
                    continue
                line, col = quiz.doc.where("questions", q.index, "objectives", j)
                yield make(
                    "CK462",
                    quiz.path,
                    line,
                    col,
                    f"question {q.id!r} names objective {number}, but {unit.where} "
                    f"lists {count} objective(s)",
                )


CHECKS = (unassessed_objectives, unknown_objectives)
