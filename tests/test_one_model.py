"""One reading of each file: the predicates and readers every stage shares."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from myst_nb.core.read import is_myst_markdown_notebook

from conftest import REPO
from coursekit.exercises.files import exercise_notebook, read_notebook
from coursekit.formats.mystnb import is_myst_notebook
from coursekit.loading import load_course
from coursekit.model import PageKind, is_exercise

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"
RATES = "exercises/01-demo/rates.ipynb"

FRONT_MATTERS = [
    "---\nfile_format: mystnb\nkernelspec:\n  name: python3\n---\n# A\n",
    "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n# A\n",
    "---\nkernelspec:\n  name: python3\n  display_name: Python 3\n---\n# Not a notebook\n",
    "---\njupytext:\n  text_representation:\n    format_name: markdown\n---\n",
    "---\n[not, a, mapping]\n---\n",
    "---\n: bad: yaml: [\n---\n",
    "# No front matter\n",
    "",
    "---",
]


@pytest.mark.parametrize("text", FRONT_MATTERS)
def test_a_myst_notebook_is_what_myst_nb_reads_as_one(text: str) -> None:
    """The checks, the execute stage and the book agree on which .md pages are notebooks."""
    assert is_myst_notebook(text) == is_myst_markdown_notebook(text)
    assert is_myst_notebook(text.splitlines()) == is_myst_notebook(text)


def test_the_page_kind_follows_myst_nb(tmp_path: Path) -> None:
    root = Path(shutil.copytree(GOOD, tmp_path / "course"))
    page = root / "modules/01-demo/reading.md"
    page.write_text(FRONT_MATTERS[2] + page.read_text(encoding="utf-8"), encoding="utf-8")
    loaded = load_course(root).course.page("modules/01-demo/reading.md")
    assert loaded is not None and loaded.kind is PageKind.MARKDOWN and not loaded.is_notebook
    page.write_text(FRONT_MATTERS[0] + "# Reading\n", encoding="utf-8")
    loaded = load_course(root).course.page("modules/01-demo/reading.md")
    assert loaded is not None and loaded.kind is PageKind.TEXT_NOTEBOOK and loaded.is_notebook


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("exercises/01-demo/rates.ipynb", True),
        ("exercises/01-demo/.ipynb_checkpoints/rates.ipynb", False),
        ("exercises/_drafts/rates.ipynb", False),
        ("exercises/01-demo/_rates.ipynb", False),
        ("exercises/rates.ipynb", False),
        # By its place, a .md can be an exercise (a MyST Markdown notebook; the loader
        # keeps only those): issue 24 publishes their student edition.
        ("exercises/01-demo/rates.md", True),
        ("exercises/01-demo/rates.txt", False),
        ("modules/01-demo/rates.ipynb", False),
    ],
)
def test_what_is_an_exercise(path: str, expected: bool) -> None:
    assert is_exercise(path) is expected


def test_the_exercises_come_from_the_model_read_once(tmp_path: Path) -> None:
    """The self-checks and the grader take the notebook the course load read."""
    root = Path(shutil.copytree(GOOD, tmp_path / "course"))
    course = load_course(root).course
    assert [ex.name for ex in course.exercises] == ["01-demo/rates"]
    (exercise,) = course.exercises
    (root / RATES).unlink()  # not read again
    assert exercise_notebook(exercise) == read_notebook(GOOD / RATES)
    nb = exercise_notebook(exercise)
    nb["cells"].clear()  # a stage's copy: the model stays as read
    assert exercise_notebook(exercise)["cells"]


@pytest.mark.parametrize(
    "fixture", ["page-dead-link", "page-missing-image", "page-unknown-ref", "unreached-page"]
)
def test_the_checks_read_no_file(tmp_path: Path, fixture: str) -> None:
    """The checks judge the model: with the course gone from the disk after loading,
    they find what they find with it there (dead links and quiz files included)."""
    from coursekit.checks import run_checks

    root = Path(shutil.copytree(REPO / "tests" / "fixtures" / "bad" / fixture, tmp_path / "course"))
    course = load_course(root).course
    there = run_checks(course)
    assert there, "the fixture should give the checks something to say"
    shutil.rmtree(root)
    assert run_checks(course) == there


def test_a_quiz_link_is_checked_as_the_quiz_shows_it(tmp_path: Path) -> None:
    """Quiz Markdown is read once, as the quiz renders it (CommonMark inline): an indented
    feedback is shown as text with a link, not as a code block, so its link is checked."""
    from coursekit.checks import run_checks
    from coursekit.quiz.render import render_quiz

    root = Path(shutil.copytree(GOOD, tmp_path / "course"))
    quiz_file = root / "modules/01-demo/quiz.yml"
    text = quiz_file.read_text(encoding="utf-8")
    indented = '"    Read [the chapter](nowhere.md) again."'
    quiz_file.write_text(text.replace('"Right: 5 × 60 = 300 cents."', indented), encoding="utf-8")
    course = load_course(root).course
    quiz = course.quiz("modules/01-demo/quiz.yml")
    assert quiz is not None
    assert 'href="nowhere.md"' in render_quiz(quiz, "demo", lambda target: None)
    dead = [f for f in run_checks(course) if f.code == "CK453"]
    assert [f.message for f in dead] == [
        "question 'rate' links to 'nowhere.md', which is no page of the book "
        "(links are relative to the quiz file)"
    ]
