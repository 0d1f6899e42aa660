"""Quiz files: what `coursekit check` reports, where, and that the bundled quizzes are sound."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from coursekit.loading.quizzes import load_quiz
from coursekit.quiz.model import QuestionType

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"
QUIZ = "modules/01-demo/quiz.yml"

# One problem (or two) per question; the expected findings below name their lines.
BAD_QUIZ = """\
id: demo-quiz
questions:
  - id: rate
    type: single
    prompt: "Five cents a minute is how much an hour?"
    see: missing.md
    choices:
      - text: "Three dollars"
        correct: true
      - text: "Three hundred cents"
        correct: true
  - id: rate
    type: multiple
    prompt: "Which lower the effective rate?"
    feedback: "Only unpaid time lowers it; see [the reading](reading.md#rates)."
    choices:
      - text: "Unpaid search time"
      - text: "A higher rate per task"
  - id: hours
    type: numeric
    prompt: "How many dollars is 18 hours at 2.5 dollars an hour?"
    answer: 45
    feedback: "18 × 2.5 = 45; see [overview](../01-demo/overview.md)."
  - id: lonely
    type: single
    prompt: "Only one choice?"
    choices:
      - text: "Yes"
        correct: true
        feedback: "Written in [nowhere](nowhere.md)."
  - id: typo
    type: singel
    prompt: "A typo in the type"
    colour: blue
"""


@pytest.fixture
def course(tmp_path: Path) -> Path:
    return Path(shutil.copytree(GOOD, tmp_path / "course"))


def check(course: Path) -> tuple[int, list[str]]:
    # CK461/CK462 (objectives a quiz assesses) have their own fixture, bad/quiz-objectives.
    result = run_cli("check", course, "--select", "CK1,CK4", "--ignore", "CK461,CK462")
    return result.returncode, result.stdout.splitlines()


def test_the_demo_quiz_loads_with_every_question_type():
    quiz, findings = load_quiz(GOOD, QUIZ)
    assert findings == []
    assert quiz is not None
    assert [q.type for q in quiz.questions] == [
        QuestionType.SINGLE,
        QuestionType.MULTIPLE,
        QuestionType.NUMERIC,
    ]
    assert quiz.max_points == 3
    assert [q.objectives for q in quiz.questions] == [(1,), (), ()]


def test_check_reports_each_quiz_problem_at_its_line(course):
    (course / QUIZ).write_text(BAD_QUIZ, encoding="utf-8")
    code, lines = check(course)
    q = QUIZ
    assert code == 1
    assert lines == [
        f"{q}:6:10: CK453 question 'rate' links to 'missing.md', which is no page of the book "
        "(links are relative to the quiz file)",
        f"{q}:8:9: CK457 choice 'a' of question 'rate' has no feedback and the question has no "
        "`feedback` explanation",
        f"{q}:10:9: CK455 single-choice question 'rate' has 2 right answers; keep one or make it "
        "`type: multiple`",
        f"{q}:10:9: CK457 choice 'b' of question 'rate' has no feedback and the question has no "
        "`feedback` explanation",
        f"{q}:12:9: CK452 question id 'rate' is already used by question 1",
        f"{q}:17:7: CK451 question 'rate' has no right answer; mark one choice `correct: true`",
        f"{q}:22:13: CK454 numeric question 'hours' has no `tolerance`; give one (0 for an exact "
        "whole number) so rounding is not marked wrong",
        f"{q}:28:7: CK459 question 'lonely' has 1 choice(s); give at least two",
        f"{q}:30:19: CK453 question 'lonely' links to 'nowhere.md', which is no page of the book "
        "(links are relative to the quiz file)",
        f"{q}:32:11: CK102 question type must be one of single, multiple, numeric, got 'singel'",
        f"{q}:34:5: CK103 unknown key 'colour' in question 5 (allowed: answer, choices, feedback, "
        "id, objectives, points, prompt, see, tolerance, type, unit)",
    ]


def test_yaml_syntax_error_is_reported_with_line_and_column(course):
    (course / QUIZ).write_text("id: q\nquestions:\n  - id: a\n   type: single\n", encoding="utf-8")
    code, lines = check(course)
    assert code == 1
    assert lines == [
        f"{QUIZ}:4:4: CK101 YAML does not parse: did not find expected '-' indicator "
        "(while parsing a block collection started at 3:3)"
    ]


def test_a_directive_naming_a_missing_quiz_and_a_quiz_no_page_shows(course):
    page = course / "modules/01-demo/quiz.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace("quiz.yml", "quizz.yml"), encoding="utf-8"
    )
    code, lines = check(course)
    assert code == 1
    assert lines == [
        "modules/01-demo/quiz.md:3:4: CK456 the quiz directive names "
        "'modules/01-demo/quizz.yml', which does not exist",
        f"{QUIZ}:0:0: CK458 no page shows this quiz; add a page (e.g. quiz.md) with a ```{{quiz}} "
        "directive naming it, and list the page in _toc.yml",
    ]


def test_every_module_of_the_bundled_course_has_a_sound_quiz_of_5_to_10_questions():
    modules = sorted(p for p in (REPO / "modules").iterdir() if (p / "module.yml").is_file())
    assert len(modules) == 4
    for module in modules:
        rel = f"modules/{module.name}/quiz.yml"
        quiz, findings = load_quiz(REPO, rel)
        assert findings == [] and quiz is not None, rel
        assert 5 <= len(quiz.questions) <= 10, rel  # 8-10: tests/test_course_content.py
        assert all(q.see for q in quiz.questions), f"{rel}: every question names its page"
    result = run_cli("check", REPO, "--select", "CK45")
    assert result.stdout == "", result.stdout


def test_numeric_answers_a_learner_cannot_match_are_errors(course):
    """`.nan`, `.inf` or a negative tolerance would mark every right answer wrong."""
    (course / QUIZ).write_text(
        "id: demo-quiz\nquestions:\n"
        "  - {id: a, type: numeric, prompt: P, answer: .nan, tolerance: 1, feedback: F}\n"
        "  - {id: b, type: numeric, prompt: P, answer: .inf, tolerance: 1, feedback: F}\n"
        "  - {id: c, type: numeric, prompt: P, answer: 3, tolerance: -1, feedback: F}\n"
        "  - {id: d, type: numeric, prompt: P, answer: 3, tolerance: .inf, feedback: F}\n",
        encoding="utf-8",
    )
    code, lines = check(course)
    assert code == 1
    assert [line.split(" ")[0:2] for line in lines] == [
        [f"{QUIZ}:3:47:", "CK451"],
        [f"{QUIZ}:4:47:", "CK451"],
        [f"{QUIZ}:5:61:", "CK454"],
        [f"{QUIZ}:6:61:", "CK454"],
    ]
