"""The quiz model: a quiz file (`quiz.yml`) as frozen records.

Kept free of Sphinx so `coursekit check` and the renderer share it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from coursekit.formats.yamlfile import YamlDoc
from coursekit.quiz.markdown import InlineText, parse_inline


class QuestionType(StrEnum):
    SINGLE = "single"  # radio buttons, exactly one right choice
    MULTIPLE = "multiple"  # checkboxes, every right choice and no wrong one
    NUMERIC = "numeric"  # a number within `tolerance` of `answer`


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    text: str  # inline Markdown
    correct: bool
    feedback: str = ""  # inline Markdown, shown when this choice was picked
    index: int = 0  # position in the YAML list (for source positions)


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    prompt: str  # inline Markdown
    index: int  # position in the YAML `questions` list
    points: int = 1
    choices: tuple[Choice, ...] = ()
    answer: float | None = None
    tolerance: float | None = None
    unit: str = ""
    feedback: str = ""  # the explanation, shown after any answer
    see: str = ""  # the page that teaches it, relative to the quiz file
    # 1-based numbers into the module's `objectives` list; () when the key is absent
    objectives: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Quiz:
    id: str
    title: str
    path: str  # the quiz file, relative to the course root
    questions: tuple[Question, ...]
    doc: YamlDoc  # for source positions in findings
    # Every prompt, choice and feedback text, parsed as the renderer shows it.
    texts: Mapping[str, InlineText] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def max_points(self) -> int:
        return sum(q.points for q in self.questions)

    def text(self, source: str) -> InlineText:
        """The reading of one of the quiz's texts (a prompt, a choice, a feedback)."""
        return self.texts[source]


def inline_texts(questions: tuple[Question, ...]) -> Mapping[str, InlineText]:
    """Each distinct inline Markdown text of `questions`, parsed once."""
    sources = [
        text
        for q in questions
        for text in (q.prompt, q.feedback, *(t for c in q.choices for t in (c.text, c.feedback)))
    ]
    return MappingProxyType({text: parse_inline(text) for text in dict.fromkeys(sources)})
