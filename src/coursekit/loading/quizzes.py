"""`quiz.yml` → `Quiz`, with every shape problem reported as a finding with line:col.

Shape problems (YAML syntax, wrong types, unknown or missing keys) use the YAML
codes CK101–CK104; what the quiz *says* (no right answer, duplicate ids, …) is
checked in `coursekit.checks.quizzes`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from coursekit.findings import Finding
from coursekit.formats import schema
from coursekit.formats.frozen import freeze
from coursekit.formats.schema import LIST, REQ_STR, STR, Field
from coursekit.formats.yamlfile import YamlDoc, read_yaml
from coursekit.quiz.model import Choice, Question, QuestionType, Quiz, inline_texts

INT = Field((int,), describe="a whole number")
NUMBER = Field((int, float), describe="a number")
BOOL = Field((bool,), describe="true or false")
TEXT = Field((str, int, float), describe="a string")
REQ_TEXT = Field((str, int, float), required=True, describe="a string")

QUIZ_SPEC: schema.Spec = {
    "id": REQ_STR,
    "title": STR,
    "questions": Field((list,), required=True, describe="a list"),
}
QUESTION_SPEC: schema.Spec = {
    "id": REQ_STR,
    "type": REQ_STR,
    "prompt": REQ_TEXT,
    "points": INT,
    "choices": LIST,
    "answer": NUMBER,
    "tolerance": NUMBER,
    "unit": STR,
    "feedback": TEXT,
    "see": STR,
    "objectives": LIST,
}
CHOICE_SPEC: schema.Spec = {"id": TEXT, "text": REQ_TEXT, "correct": BOOL, "feedback": TEXT}
TYPES = ", ".join(t.value for t in QuestionType)


def load_quiz(root: Path, rel: str) -> tuple[Quiz | None, list[Finding]]:
    """Read the quiz at `rel` (relative to `root`); None when it is unusable."""
    findings: list[Finding] = []
    doc = read_yaml(root, rel, findings)
    data = schema.expect_mapping(doc, (), doc.data, rel, findings) if doc else None
    if doc is None or data is None:
        return None, findings
    top = schema.validate(doc, (), data, QUIZ_SPEC, rel, findings)
    questions = []
    for i, item in enumerate(top.get("questions", [])):
        question = _question(doc, i, item, findings)
        if question is not None:
            questions.append(question)
    if "id" not in top:
        return None, findings
    title = str(top.get("title", "Quiz"))
    read = tuple(questions)
    kept = replace(doc, data=freeze(doc.data))  # the model keeps it read-only, for positions
    return Quiz(top["id"], title, rel, read, kept, inline_texts(read)), findings


def _question(doc: YamlDoc, i: int, item: Any, findings: list[Finding]) -> Question | None:
    keys = ("questions", i)
    data = schema.expect_mapping(doc, keys, item, f"question {i + 1}", findings)
    if data is None:
        return None
    q = schema.validate(doc, keys, data, QUESTION_SPEC, f"question {i + 1}", findings)
    if not {"id", "type", "prompt"} <= q.keys():
        return None
    try:
        qtype = QuestionType(q["type"])
    except ValueError:
        findings.append(
            doc.finding(
                "CK102",
                f"question type must be one of {TYPES}, got {q['type']!r}",
                *keys,
                "type",
            )
        )
        return None
    loaded = (
        _choice(doc, (*keys, "choices", j), j, item, findings)
        for j, item in enumerate(q.get("choices", []))
    )
    choices = [c for c in loaded if c is not None]
    points = q.get("points", 1)
    if points < 1:
        findings.append(
            doc.finding(
                "CK102",
                f"points must be a whole number of 1 or more, got {points}",
                *keys,
                "points",
            )
        )
        points = 1
    return Question(
        id=q["id"],
        type=qtype,
        prompt=str(q["prompt"]),
        index=i,
        points=points,
        choices=tuple(choices),
        answer=q.get("answer"),
        tolerance=q.get("tolerance"),
        unit=q.get("unit", ""),
        feedback=str(q.get("feedback", "")),
        see=q.get("see", ""),
        objectives=_objectives(doc, keys, q.get("objectives", []), findings),
    )


def _objectives(
    doc: YamlDoc, keys: tuple[str | int, ...], items: list[Any], findings: list[Finding]
) -> tuple[int, ...]:
    """The objective numbers a question assesses; each must be a whole number of 1 or more.

    Whether a number names an objective of the module is `coursekit.checks.assessment`'s
    business: the quiz file alone does not know how many objectives there are.
    """
    numbers = []
    for j, item in enumerate(items):
        if isinstance(item, int) and not isinstance(item, bool) and item >= 1:
            numbers.append(item)
            continue
        findings.append(
            doc.finding(
                "CK102",
                "objectives must be a list of objective numbers (1 for the module's first "
                f"objective), got {item!r}",
                *keys,
                "objectives",
                j,
            )
        )
    return tuple(numbers)


def _choice(
    doc: YamlDoc, keys: tuple[str | int, ...], j: int, item: Any, findings: list[Finding]
) -> Choice | None:
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        item = {"text": item}  # a bare string is a wrong choice without feedback
    data = schema.expect_mapping(doc, keys, item, f"choice {j + 1}", findings)
    if data is None:
        return None
    c = schema.validate(doc, keys, data, CHOICE_SPEC, f"choice {j + 1}", findings)
    if "text" not in c:
        return None
    return Choice(
        id=str(c.get("id", chr(ord("a") + j) if j < 26 else j + 1)),
        text=str(c["text"]),
        correct=c.get("correct", False),
        feedback=str(c.get("feedback", "")),
        index=j,
    )
