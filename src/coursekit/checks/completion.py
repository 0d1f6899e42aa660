"""Checks on when a unit counts as completed (CK127); CK126, a bad `completion:`
value, is reported while the units are read."""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.loading.units import has_questions
from coursekit.model import Course


def completable(course: Course) -> Iterator[Finding]:
    """CK127: `completion: quiz` (or `both`) needs a quiz with questions to pass."""
    for unit in course.units:
        if unit.completion in ("quiz", "both") and not has_questions(course, unit):
            what = "its quiz has no questions" if unit.quiz else "it has no quiz"
            line, col = unit.completion_pos or unit.id_pos
            msg = (
                f"completion: {unit.completion} needs a passed quiz, but {what}; "
                "the packages complete this unit when every page is seen instead"
            )
            yield make("CK127", unit.where, line, col, msg)


CHECKS = (completable,)
