"""`Quiz` → the HTML form the quiz script (static/coursekit-quiz.js) brings to life.

Real form controls (radio buttons, checkboxes, a text box) in one fieldset per
question, each with its legend and labels, so a keyboard and a screen reader are
enough. Feedback lives in inert `<template>`s and is shown in each question's
`aria-live` region after submission. No inline script or handler: LMS pages often
forbid them (Content-Security-Policy). Sphinx-free: links come from a callback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from coursekit.formats.links import is_external
from coursekit.quiz.model import Question, QuestionType, Quiz

# A link target as the author wrote it → (href, page title), or None when unknown.
Resolver = Callable[[str], tuple[str, str] | None]

_HREF = re.compile(r'href="([^"]*)"')


def inline(quiz: Quiz, source: str, resolve: Resolver) -> str:
    """The HTML of one of the quiz's texts (parsed at load), relative page links made site links."""

    def fix(m: re.Match[str]) -> str:
        target = m.group(1)
        if is_external(target) or target.startswith(("/", "#")):
            return m.group(0)
        found = resolve(target.replace("&amp;", "&"))
        return f'href="{escape(found[0])}"' if found else m.group(0)

    return _HREF.sub(fix, quiz.text(source).html)


def _slug(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "-", p).strip("-") for p in parts)


def render_quiz(quiz: Quiz, module_id: str, resolve: Resolver) -> str:
    """The whole quiz as one `<form>`."""
    n = len(quiz.questions)
    out = [
        f'<form class="ck-quiz" data-module="{escape(module_id)}" data-quiz="{escape(quiz.id)}"'
        f' aria-label="{escape(quiz.title)}" novalidate>',
        f'<p class="ck-quiz-intro">{n} question{"s" if n != 1 else ""}, '
        f"{quiz.max_points} point{'s' if quiz.max_points != 1 else ''}. Answer them, then choose "
        "<em>Check my answers</em> to see the feedback and your score.</p>",
    ]
    out += [_question(quiz, q, number, resolve) for number, q in enumerate(quiz.questions, 1)]
    out += [
        '<div class="ck-actions">',
        '<button type="submit" class="ck-submit">Check my answers</button>',
        '<button type="reset" class="ck-reset">Start again</button>',
        "</div>",
        '<p class="ck-score" role="status" aria-live="polite"></p>',
        "</form>",
    ]
    return "\n".join(out)


def _question(quiz: Quiz, q: Question, number: int, resolve: Resolver) -> str:
    base = _slug("ck", quiz.id, q.id)
    points = f"{q.points} point{'s' if q.points != 1 else ''}"
    hint = {
        QuestionType.SINGLE: "Choose one answer.",
        QuestionType.MULTIPLE: "Choose every right answer.",
        QuestionType.NUMERIC: "Type a number.",
    }[q.type]
    out = [
        f'<fieldset class="ck-question" id="{base}" data-question="{escape(q.id)}" '
        f'data-type="{q.type.value}" data-points="{q.points}">',
        f'<legend><span class="ck-qnum">Question {number}</span> '
        f'<span class="ck-prompt">{inline(quiz, q.prompt, resolve)}</span></legend>',
        f'<p class="ck-hint">{hint} <span class="ck-points">({points})</span></p>',
    ]
    if q.type is QuestionType.NUMERIC:
        unit = f" ({escape(q.unit)})" if q.unit else ""
        out += [
            '<div class="ck-numeric">',
            f'<label for="{base}-input">Your answer{unit}</label>',
            f'<input type="text" inputmode="decimal" autocomplete="off" id="{base}-input" '
            f'name="{base}" aria-describedby="{base}-feedback" data-answer="{q.answer}" '
            f'data-tolerance="{q.tolerance or 0}">',
            "</div>",
        ]
    else:
        kind = "radio" if q.type is QuestionType.SINGLE else "checkbox"
        out.append('<div class="ck-choices">')
        for c in q.choices:
            cid = _slug(base, c.id)
            out += [
                f'<div class="ck-choice" data-choice="{escape(c.id)}" data-index="{c.index}">',
                f'<input type="{kind}" id="{cid}" name="{base}" value="{escape(c.id)}"'
                f' aria-describedby="{base}-feedback"'
                f' data-correct="{"true" if c.correct else "false"}">',
                f'<label for="{cid}">{inline(quiz, c.text, resolve)}</label>',
                (
                    '<template class="ck-choice-feedback">'
                    f"{inline(quiz, c.feedback, resolve)}</template>"
                )
                if c.feedback
                else "",
                "</div>",
            ]
        out.append("</div>")
    out.append(f'<template class="ck-explanation">{_explanation(quiz, q, resolve)}</template>')
    # The inputs point here (aria-describedby): revisiting an answer reads its feedback.
    out.append(f'<div class="ck-feedback" id="{base}-feedback" aria-live="polite"></div>')
    out.append("</fieldset>")
    return "\n".join(line for line in out if line)


def _explanation(quiz: Quiz, q: Question, resolve: Resolver) -> str:
    parts = [f"<span>{inline(quiz, q.feedback, resolve)}</span>"] if q.feedback else []
    if q.see:
        found = resolve(q.see)
        if found:
            href, title = found
            parts.append(
                f'<span class="ck-see">Read again: <a href="{escape(href)}">'
                f"{escape(title)}</a>.</span>"
            )
    return " ".join(parts)
