"""What a learner sees inside a unit's frame, for the SCORM (scorm-again, Open edX) and
cmi5 (Ralph) tests alike: the quiz's questions and objectives, the answers the page
shows, the links that would lead out of the unit, and a course whose quiz completes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import BuiltCourse, built_once
from lrs.course import make_cmi5_course

# The bundled course's first module, as its packages name it.
MODULE_1 = "crowdsourcing-to-digital-labor"
FOLDER_1 = "01-crowdsourcing-to-digital-labor"
CITES_MODULE_2 = f"modules/{FOLDER_1}/what-is-digital-labor.html"  # links to a module 2 page
# The book's navigation, which the unit reader hides inside the frame.
BOOK_NAVIGATION = ".bd-sidebar-primary, .prev-next-footer, .search-button__button, .bd-header"


def questions(root: Path, folder: str = FOLDER_1) -> list[tuple[str, list[int]]]:
    """Each question of the unit's quiz with the objectives it assesses (from quiz.yml)."""
    data = yaml.safe_load((root / "modules" / folder / "quiz.yml").read_text(encoding="utf-8"))
    return [(q["id"], list(q.get("objectives", []))) for q in data["questions"]]


def objectives(root: Path, folder: str = FOLDER_1) -> list[str]:
    data = yaml.safe_load((root / "modules" / folder / "module.yml").read_text(encoding="utf-8"))
    return list(data["objectives"])


def checked(content) -> dict[str, list[str] | str]:  # type: ignore[no-untyped-def]
    """The answers the quiz form shows: question id → the number typed or the values ticked."""
    return content.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('fieldset.ck-question')].map(f =>
             [f.dataset.question, f.dataset.type === 'numeric' ? f.querySelector('input').value
               : [...f.querySelectorAll('input:checked')].map(i => i.value).sort()]))"""
    )


def outside_links(content) -> list[str]:  # type: ignore[no-untyped-def]
    """Links of the framed page a learner can follow, in the frame, to another module's page."""
    return content.evaluate(
        """() => [...document.querySelectorAll('a[href]')]
             .filter(a => a.getClientRects().length > 0 && a.target !== '_blank')
             .map(a => a.href).filter(h => /\\/modules\\/0[2-9]-/.test(h))"""
    )


def assert_stays_in_unit(content) -> None:  # type: ignore[no-untyped-def]
    """The framed page (scoped by the unit reader) shows none of the book's navigation and
    no link into another module."""
    content.wait_for_selector("html[data-ck-unit]", state="attached")
    hidden = content.eval_on_selector_all(
        BOOK_NAVIGATION, "els => els.map(e => e.getClientRects().length === 0)"
    )
    assert hidden and all(hidden), hidden
    assert outside_links(content) == []


def assert_cites_module_2_as_reference(content) -> None:  # type: ignore[no-untyped-def]
    """The page citing module 2 shows it as a reference naming the module, not a link."""
    assert_stays_in_unit(content)
    notes = content.eval_on_selector_all(".ck-outside small", "els => els.map(e => e.textContent)")
    assert any("Module 2" in text for text in notes), notes


def make_quiz_rule_course(root: Path) -> Path:
    """The small cmi5 test course with its quiz unit (`reading`) set to `completion: quiz`."""
    make_cmi5_course(root)
    with (root / "modules" / "01-reading" / "module.yml").open("a", encoding="utf-8") as f:
        f.write("completion: quiz\n")
    return root


def quiz_rule_course(tmp_path_factory: pytest.TempPathFactory) -> BuiltCourse:
    """That course, built once per test run for every test (SCORM zips and cmi5 zip)."""
    return built_once(tmp_path_factory, "quiz-rule", make_quiz_rule_course)
