"""Accessibility: axe-core finds nothing on any page of a built book, and the keyboard is enough.

axe-core (npm, pinned in tests/lms/package-lock.json, installed by `make test`)
runs in Chromium on every HTML page of the demo book (tests/demobook.py: a
quiz, an exercise, a DataFrame output) and, in a slow test, of the bundled
course. Every rule axe runs by default counts, whatever its impact: none is
turned off. The fixes are coursekit's (`coursekit.a11y`), so any book it builds
gets them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser import serve, settle, watch
from conftest import REPO, BuiltCourse

pytestmark = pytest.mark.browser
AXE = REPO / "tests" / "lms" / "node_modules" / "axe-core" / "axe.min.js"
QUIZ_PAGE = "modules/01-demo/quiz.html"


def require_axe() -> None:
    """Skip (or fail, under COURSEKIT_REQUIRE_BROWSER) when axe-core is not installed."""
    if AXE.is_file():
        return
    message = f"{AXE} is missing: make tests/lms/node_modules/.installed"
    if os.environ.get("COURSEKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


def book_pages(site: Path) -> list[str]:
    """Every HTML page of a built site (not its static files or source copies)."""
    skip = {"_static", "_sources", "_images"}
    return sorted(
        p.relative_to(site).as_posix()
        for p in site.rglob("*.html")
        if not skip & set(p.relative_to(site).parts)
    )


def violations(page, site: Path) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """axe-core's violations on every page of `site`: page → ["rule (impact): target", …]."""
    require_axe()
    found: dict[str, list[str]] = {}
    with serve(site) as base:
        for rel in book_pages(site):
            page.goto(f"{base}/{rel}", wait_until="load")
            settle(page)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "async () => (await axe.run(document, {resultTypes: ['violations']}))"
                ".violations.flatMap((v) => v.nodes.map((n) =>"
                " `${v.id} (${v.impact}): ${n.target.join(' ')}`))"
            )
            if result:
                found[rel] = result
    return found


def test_the_demo_book_has_no_axe_violations(demo_book: BuiltCourse, page) -> None:
    site = demo_book.out / "html"
    pages = book_pages(site)
    assert {QUIZ_PAGE, "exercises/01-demo/rates.html", "modules/02-tables/tables.html"} <= set(
        pages
    )
    assert violations(page, site) == {}


@pytest.mark.slow
def test_the_bundled_book_has_no_axe_violations(built_course: BuiltCourse, page) -> None:
    site = built_course.out / "html"
    assert len(book_pages(site)) >= 40
    assert violations(page, site) == {}


def focused(page) -> str:  # type: ignore[no-untyped-def]
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def tab_to(page, element_id: str) -> None:  # type: ignore[no-untyped-def]
    for _ in range(300):
        page.keyboard.press("Tab")
        if focused(page) == element_id:
            return
    pytest.fail(f"Tab never reached #{element_id}")


def test_the_quiz_is_answered_and_submitted_with_the_keyboard_only(
    demo_book: BuiltCourse, page
) -> None:
    with serve(demo_book.out / "html") as base:
        seen = watch(page)
        page.goto(f"{base}/{QUIZ_PAGE}")
        first = page.evaluate(
            "document.querySelector('#ck-demo-quiz-rate .ck-choice input').id"
        )  # choices are shuffled: the first one shown is where Tab enters the group
        tab_to(page, first)
        for _ in range(4):  # arrows move the choice (and select it) within the group
            if page.is_checked("#ck-demo-quiz-rate-a"):
                break
            page.keyboard.press("ArrowDown")
        assert page.is_checked("#ck-demo-quiz-rate-a"), "the right answer, chosen by arrows"
        for box in ("ck-demo-quiz-unpaid-a", "ck-demo-quiz-unpaid-b"):
            tab_to(page, box)
            page.keyboard.press("Space")
        tab_to(page, "ck-demo-quiz-hours-input")
        page.keyboard.type("45")
        page.keyboard.press("Enter")  # submits the form, as a button press would
        score = page.locator(".ck-score")
        assert score.inner_text() == "Your score: 3 out of 3 points (100 %)."
        assert page.locator("#ck-demo-quiz-rate .ck-feedback").inner_text().startswith("Correct.")
    assert seen.problems() == []


def test_the_sidebar_toggles_open_with_the_keyboard(demo_book: BuiltCourse, page) -> None:
    with serve(demo_book.out / "html") as base:
        page.goto(f"{base}/intro.html")
        toggle = page.locator("#pst-primary-sidebar summary").first
        assert toggle.get_attribute("aria-label") == "Pages under Demo overview"
        toggle_open = "document.querySelector('#pst-primary-sidebar details').open"
        assert page.evaluate(toggle_open) is False
        toggle.focus()
        page.keyboard.press("Enter")
        assert page.evaluate(toggle_open) is True
