"""Checks on quizzes (CK451–CK459): answers, ids, links, and where quizzes are shown.

A quiz is any YAML file a `{quiz}` directive names (or a unit's `quiz.yml`), read
once by `coursekit.loading.quizzes`, which reports shape problems with the YAML
codes CK101–CK104.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.formats import links as linkpaths
from coursekit.model import Course
from coursekit.quiz.model import Question, QuestionType, Quiz


def _at(quiz: Quiz, q: Question, *keys: str | int) -> tuple[int, int]:
    return quiz.doc.where("questions", q.index, *keys)


def answers(course: Course) -> Iterator[Finding]:
    """CK451/CK454/CK455/CK459: a question must have a right answer a learner can give."""
    for quiz in course.quizzes:
        for q in quiz.questions:
            right = [c for c in q.choices if c.correct]
            if q.type is QuestionType.NUMERIC:
                if q.answer is None:
                    yield make(
                        "CK451",
                        quiz.path,
                        *_at(quiz, q),
                        f"numeric question {q.id!r} has no `answer`",
                    )
                elif not math.isfinite(q.answer):
                    yield make(
                        "CK451",
                        quiz.path,
                        *_at(quiz, q, "answer"),
                        f"numeric question {q.id!r} has the answer {q.answer}, which no "
                        "learner can type; give a finite number",
                    )
                elif q.tolerance is None:
                    yield make(
                        "CK454",
                        quiz.path,
                        *_at(quiz, q, "answer"),
                        f"numeric question {q.id!r} has no `tolerance`; give one (0 for "
                        "an exact whole number) so rounding is not marked wrong",
                    )
                elif not (math.isfinite(q.tolerance) and q.tolerance >= 0):
                    yield make(
                        "CK454",
                        quiz.path,
                        *_at(quiz, q, "tolerance"),
                        f"numeric question {q.id!r} has the tolerance {q.tolerance}; give a "
                        "finite number of 0 or more, or right answers are marked wrong",
                    )
                continue
            if len(q.choices) < 2:
                yield make(
                    "CK459",
                    quiz.path,
                    *_at(quiz, q, "choices"),
                    f"question {q.id!r} has {len(q.choices)} choice(s); give at least two",
                )
            if not right and q.choices:
                yield make(
                    "CK451",
                    quiz.path,
                    *_at(quiz, q, "choices"),
                    f"question {q.id!r} has no right answer; mark one choice `correct: true`",
                )
            if q.type is QuestionType.SINGLE and len(right) > 1:
                at = _at(quiz, q, "choices", right[1].index)
                yield make(
                    "CK455",
                    quiz.path,
                    *at,
                    f"single-choice question {q.id!r} has {len(right)} right answers; "
                    "keep one or make it `type: multiple`",
                )


def duplicate_ids(course: Course) -> Iterator[Finding]:
    """CK452: question ids (within a quiz) and choice ids (within a question) are unique."""
    for quiz in course.quizzes:
        seen: dict[str, int] = {}
        for q in quiz.questions:
            if q.id in seen:
                yield make(
                    "CK452",
                    quiz.path,
                    *_at(quiz, q, "id"),
                    f"question id {q.id!r} is already used by question {seen[q.id]}",
                )
            seen.setdefault(q.id, q.index + 1)
            ids: set[str] = set()
            for c in q.choices:
                if c.id in ids:
                    yield make(
                        "CK452",
                        quiz.path,
                        *_at(quiz, q, "choices", c.index),
                        f"choice id {c.id!r} appears twice in question {q.id!r}",
                    )
                ids.add(c.id)


def links(course: Course) -> Iterator[Finding]:
    """CK453: `see:` and the links in feedback must name pages of the book."""
    pages = {p.path for p in course.pages}
    pages |= {p.rsplit(".", 1)[0] for p in pages}
    for quiz in course.quizzes:
        base = posixpath.dirname(quiz.path)
        for q in quiz.questions:
            texts: list[tuple[tuple[str | int, ...], str]] = [(("see",), q.see)] if q.see else []
            texts += [
                ((k,), t)
                for k, t in (("prompt", q.prompt), ("feedback", q.feedback))
                for t in quiz.text(t).links
            ]
            texts += [
                (("choices", c.index, "feedback"), t)
                for c in q.choices
                for t in quiz.text(c.feedback).links
            ]
            for keys, target in texts:
                local = linkpaths.local_path(target)
                if local is None:
                    continue  # a web address or an anchor on the quiz page
                path = posixpath.normpath(posixpath.join(base, local))
                if path not in pages:
                    yield make(
                        "CK453",
                        quiz.path,
                        *_at(quiz, q, *keys),
                        f"question {q.id!r} links to {target!r}, which is no page of "
                        "the book (links are relative to the quiz file)",
                    )


def feedback(course: Course) -> Iterator[Finding]:
    """CK457: a learner who picks a choice should learn why it is right or wrong."""
    for quiz in course.quizzes:
        for q in quiz.questions:
            if q.feedback:
                continue
            for c in q.choices:
                if not c.feedback:
                    yield make(
                        "CK457",
                        quiz.path,
                        *_at(quiz, q, "choices", c.index),
                        f"choice {c.id!r} of question {q.id!r} has no feedback and the "
                        "question has no `feedback` explanation",
                    )


def placement(course: Course) -> Iterator[Finding]:
    """CK456/CK458: a `{quiz}` directive naming no file; a quiz file no page shows."""
    for use in course.quiz_uses:
        if not course.files.is_file(use.quiz):
            yield make(
                "CK456",
                use.page,
                use.line,
                use.col,
                f"the quiz directive names {use.quiz!r}, which does not exist",
            )
    shown = {u.quiz for u in course.quiz_uses}
    for quiz in course.quizzes:
        if quiz.path not in shown:
            yield make(
                "CK458",
                quiz.path,
                0,
                0,
                "no page shows this quiz; add a page (e.g. quiz.md) with a "
                "```{quiz} directive naming it, and list the page in _toc.yml",
            )


CHECKS = (answers, duplicate_ids, links, feedback, placement)
