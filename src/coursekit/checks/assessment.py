"""Checks that a module's quiz assesses its objectives (CK460–CK461).

Each quiz question may name the objectives it assesses with `objectives: [1, 3]`,
1-based numbers into the `objectives` list of the module's `module.yml`. An
objective no question names is taught but never assessed; a number past the end
of the list names nothing.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from coursekit.checks.quizzes import quizzes_by_path
from coursekit.checks.sources import memo
from coursekit.findings import Finding, make
from coursekit.model import Course, Module
from coursekit.yamlfile import YamlDoc, read_yaml


def _module_doc(course: Course, module: Module) -> YamlDoc | None:
    # Read again only for positions: the model keeps the objectives' text, not their lines.
    return memo(
        ("module-doc", str(course.root), module.yaml_path),
        lambda: read_yaml(course.root, module.yaml_path, []),
    )


def unassessed_objectives(course: Course) -> Iterator[Finding]:
    """CK460: every objective of a module with a quiz is named by at least one question."""
    quizzes = quizzes_by_path(course)
    for module in course.modules:
        quiz = quizzes.get(module.quiz or "")
        if quiz is None or not module.objectives:
            continue
        named = {n for q in quiz.questions for n in q.objectives}
        doc = _module_doc(course, module)
        for number, text in enumerate(module.objectives, start=1):
            if number in named:
                continue
            line, col = doc.where("objectives", number - 1) if doc else module.id_pos
            yield make(
                "CK460",
                module.yaml_path,
                line,
                col,
                f"objective {number} ({textwrap.shorten(text, 60, placeholder='…')!r}) is "
                f"assessed by no question of "
                f"{quiz.path}; add `objectives: [{number}]` to a question that assesses it",
            )


def unknown_objectives(course: Course) -> Iterator[Finding]:
    """CK461: a question's objective numbers must exist in its module's `objectives`."""
    quizzes = quizzes_by_path(course)
    for module in course.modules:
        quiz = quizzes.get(module.quiz or "")
        if quiz is None:
            continue
        count = len(module.objectives)
        for q in quiz.questions:
            for j, number in enumerate(q.objectives):
                if number <= count:
                    continue
                line, col = quiz.doc.where("questions", q.index, "objectives", j)
                yield make(
                    "CK461",
                    quiz.path,
                    line,
                    col,
                    f"question {q.id!r} names objective {number}, but {module.yaml_path} "
                    f"lists {count} objective(s)",
                )


CHECKS = (unassessed_objectives, unknown_objectives)
