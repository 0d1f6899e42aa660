"""`Quiz` → the printed quiz: the questions where the quiz is, the answers in an appendix.

The PDF edition cannot run the quiz script, and a reader must not see an answer
next to its question: the page shows each question with its choices as written
in `quiz.yml` (lettered a, b, c…, or a line to write a number on), and the
answers, explanations and feedback go to the "Answers to the quizzes" appendix
at the end of the book. Sphinx-free, like `render.py`: links come from a callback.
"""

from __future__ import annotations

from html import escape
from string import ascii_lowercase

from coursekit.quiz.model import Choice, Question, QuestionType, Quiz
from coursekit.quiz.render import Resolver, _slug, inline

APPENDIX_ID = "ck-answers"
APPENDIX_TITLE = "Answers to the quizzes"
HINTS = {
    QuestionType.SINGLE: "Choose one answer.",
    QuestionType.MULTIPLE: "Choose every right answer.",
    QuestionType.NUMERIC: "Write a number.",
}


def _points(n: int) -> str:
    return f"{n} point{'s' if n != 1 else ''}"


def _letter(i: int) -> str:
    return ascii_lowercase[i] if i < len(ascii_lowercase) else str(i + 1)


def printed_questions(quiz: Quiz, resolve: Resolver) -> str:
    """The quiz as printed questions, pointing to the appendix for the answers."""
    n = len(quiz.questions)
    out = [
        f'<div class="ck-quiz-print" id="{_slug("ck-print", quiz.id)}">',
        f'<p class="ck-quiz-intro">{n} question{"s" if n != 1 else ""}, '
        f"{_points(quiz.max_points)}. The answers are in "
        f'<a href="#{APPENDIX_ID}">{APPENDIX_TITLE}</a>, at the end.</p>',
    ]
    for number, q in enumerate(quiz.questions, 1):
        out.append(_question(quiz, q, number, resolve))
    out.append("</div>")
    return "\n".join(out)


def _question(quiz: Quiz, q: Question, number: int, resolve: Resolver) -> str:
    out = [
        f'<div class="ck-print-question" id="{_slug("ck-print", quiz.id, q.id)}">',
        f'<p class="ck-print-prompt"><strong>Question {number}.</strong> '
        f"{inline(quiz, q.prompt, resolve)} "
        f'<span class="ck-points">({_points(q.points)})</span></p>',
        f'<p class="ck-hint">{HINTS[q.type]}</p>',
    ]
    if q.type is QuestionType.NUMERIC:
        unit = f" ({escape(q.unit)})" if q.unit else ""
        out.append(f'<p class="ck-print-blank">Your answer{unit}: ____________</p>')
    else:
        out.append('<ul class="ck-print-choices">')
        out += [
            f'<li><span class="ck-letter">{_letter(i)}.</span> {inline(quiz, c.text, resolve)}</li>'
            for i, c in enumerate(q.choices)
        ]
        out.append("</ul>")
    out.append("</div>")
    return "\n".join(out)


def printed_answers(quiz: Quiz, where: str, resolve: Resolver) -> str:
    """The quiz's answers for the appendix; `where` names the page or unit showing the quiz."""
    out = [
        f'<section class="ck-answers-quiz" id="{_slug("ck-answers", quiz.id)}">',
        f"<h2>{escape(quiz.title)}</h2>",
        f'<p class="ck-answers-where">{escape(where)}</p>' if where else "",
    ]
    for number, q in enumerate(quiz.questions, 1):
        out.append(_answer(quiz, q, number, resolve))
    out.append("</section>")
    return "\n".join(line for line in out if line)


def _answer(quiz: Quiz, q: Question, number: int, resolve: Resolver) -> str:
    right = _right(quiz, q, resolve)
    out = ['<div class="ck-answer">', f"<p><strong>Question {number}.</strong> {right}</p>"]
    if q.feedback:
        out.append(f"<p>{inline(quiz, q.feedback, resolve)}</p>")
    notes = [_choice_feedback(quiz, i, c, resolve) for i, c in enumerate(q.choices) if c.feedback]
    if notes:
        out += ['<ul class="ck-answer-feedback">', *notes, "</ul>"]
    found = resolve(q.see) if q.see else None
    if found:
        out.append(f'<p>Read again: <a href="{escape(found[0])}">{escape(found[1])}</a>.</p>')
    out.append("</div>")
    return "\n".join(out)


def _right(quiz: Quiz, q: Question, resolve: Resolver) -> str:
    if q.type is QuestionType.NUMERIC:
        unit = f" {escape(q.unit)}" if q.unit else ""
        tolerance = f" (± {q.tolerance:g})" if q.tolerance else ""
        answer = f"{q.answer:g}" if q.answer is not None else "?"
        return f"The right answer: {answer}{unit}{tolerance}."
    right = [
        f"{_letter(i)}. {inline(quiz, c.text, resolve)}"
        for i, c in enumerate(q.choices)
        if c.correct
    ]
    label = "The right answer" if len(right) == 1 else "The right answers"
    return f"{label}: {'; '.join(right)}."


def _choice_feedback(quiz: Quiz, i: int, c: Choice, resolve: Resolver) -> str:
    text, feedback = inline(quiz, c.text, resolve), inline(quiz, c.feedback, resolve)
    return f"<li>{_letter(i)}. {text}: {feedback}</li>"


def appendix(sections: list[str]) -> str:
    """The appendix that ends the printed book: every quiz's answers, in reading order."""
    if not sections:
        return ""
    return "\n".join(
        [
            f'<section class="ck-answers" id="{APPENDIX_ID}">',
            f"<h1>{APPENDIX_TITLE}</h1>",
            *sections,
            "</section>",
        ]
    )
