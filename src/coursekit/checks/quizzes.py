"""Checks on quizzes (CK451–CK459): answers, ids, links, and where quizzes are shown.

A quiz is `modules/NN-slug/quiz.yml` (or any YAML file a `{quiz}` directive names).
Shape problems come from `coursekit.quiz.loading` with the YAML codes CK101–CK104.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass

from coursekit.checks.sources import memo, page_sources
from coursekit.findings import Finding, make
from coursekit.loading import MODULES_DIR, QUIZ_FILE
from coursekit.model import Course, PageKind
from coursekit.quiz.loading import load_quiz
from coursekit.quiz.model import Question, QuestionType, Quiz

DIRECTIVE = re.compile(r"^[ \t]*(?:`{3,}|~{3,}|:{3,})[ \t]*\{quiz\}[ \t]*(\S*)", re.MULTILINE)
MD_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


@dataclass(frozen=True, slots=True)
class _Use:
    page: str  # the page with the directive
    line: int
    col: int
    quiz: str  # the quiz file it names, relative to the root


@dataclass(frozen=True, slots=True)
class _Loaded:
    uses: tuple[_Use, ...]
    quizzes: tuple[Quiz, ...]
    findings: tuple[Finding, ...]


def _directive_uses(course: Course) -> list[_Use]:
    uses = []
    for source in page_sources(course):
        if source.page.kind is not PageKind.MARKDOWN or source.text is None:
            continue
        for m in DIRECTIVE.finditer(source.text):
            base = posixpath.dirname(source.page.path)
            target = posixpath.normpath(posixpath.join(base, m.group(1) or QUIZ_FILE))
            line = source.text.count("\n", 0, m.start()) + 1
            uses.append(_Use(source.page.path, line, 1, target))
    return uses


def _loaded(course: Course) -> _Loaded:
    def load() -> _Loaded:
        uses = _directive_uses(course)
        files = {u.quiz for u in uses if (course.root / u.quiz).is_file()}
        base = course.root / MODULES_DIR
        if base.is_dir():
            files |= {p.relative_to(course.root).as_posix() for p in base.glob(f"*/{QUIZ_FILE}")}
        quizzes, found = [], []
        for rel in sorted(files):
            quiz, problems = load_quiz(course.root, rel)
            found += problems
            if quiz is not None:
                quizzes.append(quiz)
        return _Loaded(tuple(uses), tuple(quizzes), tuple(found))

    return memo(("quizzes", str(course.root)), load)


def quizzes_by_path(course: Course) -> dict[str, Quiz]:
    """Every quiz of the course that loaded, by its path relative to the root."""
    return {quiz.path: quiz for quiz in _loaded(course).quizzes}


def shape(course: Course) -> Iterator[Finding]:
    """CK101–CK104 inside quiz files: YAML syntax, types, unknown and missing keys."""
    yield from _loaded(course).findings


def _at(quiz: Quiz, q: Question, *keys: str | int) -> tuple[int, int]:
    return quiz.doc.where("questions", q.index, *keys)


def answers(course: Course) -> Iterator[Finding]:
    """CK451/CK454/CK455/CK459: a question must have a right answer a learner can give."""
    for quiz in _loaded(course).quizzes:
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
                elif q.tolerance is None:
                    yield make(
                        "CK454",
                        quiz.path,
                        *_at(quiz, q, "answer"),
                        f"numeric question {q.id!r} has no `tolerance`; give one (0 for "
                        "an exact whole number) so rounding is not marked wrong",
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
    for quiz in _loaded(course).quizzes:
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
    for quiz in _loaded(course).quizzes:
        base = posixpath.dirname(quiz.path)
        for q in quiz.questions:
            texts: list[tuple[tuple[str | int, ...], str]] = [(("see",), q.see)] if q.see else []
            texts += [
                ((k,), t)
                for k, t in (("prompt", q.prompt), ("feedback", q.feedback))
                for t in MD_LINK.findall(t)
            ]
            texts += [
                (("choices", c.index, "feedback"), t)
                for c in q.choices
                for t in MD_LINK.findall(c.feedback)
            ]
            for keys, target in texts:
                if re.match(r"^[a-z][a-z0-9+.-]*:|^#", target):
                    continue  # a web address or an anchor on the quiz page
                path = posixpath.normpath(posixpath.join(base, target.partition("#")[0]))
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
    for quiz in _loaded(course).quizzes:
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
    loaded = _loaded(course)
    for use in loaded.uses:
        if not (course.root / use.quiz).is_file():
            yield make(
                "CK456",
                use.page,
                use.line,
                use.col,
                f"the quiz directive names {use.quiz!r}, which does not exist",
            )
    shown = {u.quiz for u in loaded.uses}
    for quiz in loaded.quizzes:
        if quiz.path not in shown:
            yield make(
                "CK458",
                quiz.path,
                0,
                0,
                "no page shows this quiz; add a page (e.g. quiz.md) with a "
                "```{quiz} directive naming it, and list the page in _toc.yml",
            )


CHECKS = (shape, answers, duplicate_ids, links, feedback, placement)
