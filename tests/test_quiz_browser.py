"""The quiz in a real browser: answered with the keyboard only, feedback, score, LMS hand-off.

The demo course (tests/fixtures/exercises/good) is built once with a plain
`jupyter-book build`, as an author would, so this also shows that the Sphinx
extension works without `coursekit build`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from browser import serve, watch
from conftest import REPO

pytestmark = pytest.mark.browser

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"
QUIZ_PAGE = "modules/01-demo/quiz.html"
FIRST_ANSWER = "ck-demo-quiz-rate-a"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo course's HTML, built by jupyter-book into a temp folder."""
    src = Path(shutil.copytree(GOOD, tmp_path_factory.mktemp("demo") / "course"))
    out = tmp_path_factory.mktemp("demo-out")
    jb = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jb), "build", str(src), "--path-output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build" / "html"


def tab_to(page, element_id: str) -> None:  # type: ignore[no-untyped-def]
    """Press Tab from the top of the page until `element_id` has the focus."""
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    pytest.fail(f"Tab never reached #{element_id}")


def arrow_to(page, element_id: str) -> None:  # type: ignore[no-untyped-def]
    """With the focus in a radio group, press ArrowDown until `element_id` is focused.

    Choices are shown in a shuffled order, so where a choice sits is not known in advance.
    """
    for _ in range(10):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("ArrowDown")
    pytest.fail(f"ArrowDown never reached #{element_id}")


def shown_first(page, question: str) -> str:  # type: ignore[no-untyped-def]
    """The input id of the first choice the page shows for `question`."""
    return f"ck-demo-quiz-{question}-{shown_order(page, question)[0]}"


def shown_order(page, question: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The choice ids of `question` in the order the page shows them."""
    return page.evaluate(
        f"[...document.querySelectorAll('#ck-demo-quiz-{question} .ck-choice')]"
        ".map((c) => c.dataset.choice)"
    )


def feedback(page, question: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f"#ck-demo-quiz-{question} .ck-feedback").inner_text()


def test_quiz_answered_with_the_keyboard_shows_feedback_and_score_and_fires_the_event(page, site):
    with serve(site) as base:
        seen = watch(page)
        page.goto(f"{base}/{QUIZ_PAGE}")
        page.evaluate(
            "window.__scores = []; window.addEventListener('coursekit:quiz-score',"
            " (e) => window.__scores.push(e.detail))"
        )
        tab_to(page, shown_first(page, "rate"))  # Tab enters the radio group at its top
        arrow_to(page, FIRST_ANSWER)
        page.keyboard.press("Space")  # Q1 "Three dollars": right
        tab_to(page, "ck-demo-quiz-unpaid-a")  # Q2's checkboxes, in their shown order
        page.keyboard.press("Space")  # one of the two right answers only: wrong
        tab_to(page, "ck-demo-quiz-hours-input")  # past the other checkboxes, into Q3
        page.keyboard.type("45,2")  # a decimal comma, within the tolerance of 0.5: right
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "ck-submit"
        page.keyboard.press("Enter")

        score = page.locator(".ck-score")
        assert score.inner_text() == "Your score: 2 out of 3 points (67 %)."
        q1 = feedback(page, "rate")
        assert "Correct." in q1 and "Right: 5 × 60 = 300 cents." in q1
        assert "Read again: Rates of pay." in q1
        q2 = feedback(page, "unpaid")
        assert "Not quite." in q2
        assert (
            "The right answers: Unpaid time searching for tasks; Rejected work that is not paid."
        ) in q2
        assert "Only time that is worked but not paid lowers it." in q2
        assert feedback(page, "hours").startswith("Correct.")
        scores = page.evaluate("window.__scores")
    answers = {a["id"]: a for a in scores[0].pop("answers")}  # what an LMS is told of each
    assert list(answers) == ["rate", "unpaid", "hours"]
    assert answers["rate"]["correct"] is True
    assert answers["rate"]["response"] == answers["rate"]["pattern"] and answers["rate"]["response"]
    assert answers["unpaid"]["correct"] is False and answers["unpaid"]["type"] == "multiple"
    assert len(answers["unpaid"]["response"]) == 1 and len(answers["unpaid"]["pattern"]) == 2
    assert answers["unpaid"]["response"][0] in answers["unpaid"]["pattern"]
    assert answers["hours"]["response"] == "45,2" and answers["hours"]["number"] == 45.2
    assert answers["hours"]["pattern"] == [44.5, 45.5] and answers["hours"]["correct"] is True
    assert all(a["latency"] >= 0 and a["points"] == 1 for a in answers.values())
    assert answers["rate"]["description"] == "Five cents a minute is how much an hour?"
    assert scores == [
        {
            "module": "demo-module",
            "quiz": "demo-quiz",
            "raw": 2,
            "min": 0,
            "max": 3,
            "scaled": pytest.approx(2 / 3),
        }
    ]
    # sphinx-thebe declares its script twice on a plain jupyter-book build (coursekit build
    # drops it); that error is not the quiz's. Anything else is.
    errors = [e for e in seen.page_errors + seen.console_errors if "THEBE_JS_URL" not in e]
    assert errors == []
    assert seen.external_requests == []


def test_quiz_is_labelled_for_screen_readers(page, site):
    with serve(site) as base:
        page.goto(f"{base}/{QUIZ_PAGE}")
        unlabelled = page.evaluate(
            "[...document.querySelectorAll('form.ck-quiz input')]"
            ".filter((i) => !i.labels.length).map((i) => i.id)"
        )
        legends = page.locator("form.ck-quiz fieldset > legend").count()
        live = page.locator("form.ck-quiz fieldset .ck-feedback[aria-live=polite]").count()
        status = page.locator("form.ck-quiz .ck-score[role=status]").count()
        inline = page.locator("form.ck-quiz [onclick], form.ck-quiz script").count()
        undescribed = page.evaluate(
            "[...document.querySelectorAll('form.ck-quiz input')].filter((i) => {"
            " const d = document.getElementById(i.getAttribute('aria-describedby'));"
            " return !d || !d.matches('.ck-feedback'); }).map((i) => i.id)"
        )
    assert unlabelled == []
    assert undescribed == [], "each input is described by its question's feedback"
    assert (legends, live, status) == (3, 3, 1)
    assert inline == 0, "no inline script or handler: LMS pages forbid them"


def test_feedback_link_leads_to_the_page_that_teaches_it(page, site):
    with serve(site) as base:
        page.goto(f"{base}/{QUIZ_PAGE}")
        tab_to(page, shown_first(page, "rate"))
        arrow_to(page, "ck-demo-quiz-rate-b")  # an arrow key selects: "Five dollars", wrong
        page.locator(".ck-submit").press("Enter")
        link = page.locator("#ck-demo-quiz-rate .ck-feedback a", has_text="Rates of pay").first
        link.focus()
        page.keyboard.press("Enter")
        page.wait_for_url("**/modules/01-demo/reading.html*")
        assert page.locator("h1").first.inner_text().startswith("Rates of pay")


def test_empty_submission_scores_zero_and_start_again_clears(page, site):
    with serve(site) as base:
        page.goto(f"{base}/{QUIZ_PAGE}")
        page.locator(".ck-submit").press("Enter")
        assert page.locator(".ck-score").inner_text() == "Your score: 0 out of 3 points (0 %)."
        assert feedback(page, "rate").startswith("No answer given.")
        page.locator(".ck-reset").press("Enter")
        assert page.locator(".ck-score").inner_text() == ""
        assert feedback(page, "rate") == ""


def test_inside_a_frame_the_score_is_posted_to_the_parent(page, site, tmp_path):
    # A stand-in for the SCORM launch page: it frames the quiz and records messages.
    (site / "frame-test.html").write_text(
        "<!doctype html><title>launch</title><script src='frame-test.js'></script>"
        f"<iframe src='{QUIZ_PAGE}' title='module'></iframe>",
        encoding="utf-8",
    )
    (site / "frame-test.js").write_text(
        "window.messages = []; window.addEventListener('message', (e) => "
        "window.messages.push(e.data));",
        encoding="utf-8",
    )
    with serve(site) as base:
        page.goto(f"{base}/frame-test.html")
        quiz = page.frame_locator("iframe")
        quiz.locator(f"#{FIRST_ANSWER}").check()
        quiz.locator("#ck-demo-quiz-hours-input").fill("45")
        quiz.locator(".ck-submit").click()
        page.wait_for_function("window.messages.length > 0")
        messages = page.evaluate("window.messages")
        saved = {a["id"]: a["response"] for a in messages[0]["answers"]}

        # Back later: the launch page hands the saved answers to a fresh page, which shows
        # them graded, with the note, and reports nothing again.
        page.reload()
        frame = page.frame_locator("iframe")
        frame.locator("form.ck-quiz").wait_for()
        page.evaluate(
            "a => document.querySelector('iframe').contentWindow.postMessage({type:"
            " 'coursekit:quiz-restore', quiz: 'demo-quiz', answers: a, note: 'Saved.'},"
            " location.origin)",
            saved,
        )
        frame.locator("form.ck-quiz.ck-restored").wait_for()
        assert frame.locator(f"#{FIRST_ANSWER}").is_checked()
        assert frame.locator("#ck-demo-quiz-hours-input").input_value() == "45"
        assert frame.locator(".ck-score").inner_text() == (
            "Saved. Your score: 2 out of 3 points (67 %)."
        )
        assert page.evaluate("window.messages") == []
    for message in messages:
        message.pop("answers")
    assert messages == [
        {
            "type": "coursekit:quiz-score",
            "module": "demo-module",
            "quiz": "demo-quiz",
            "raw": 2,
            "min": 0,
            "max": 3,
            "scaled": pytest.approx(2 / 3),
        }
    ]


def test_choices_are_shuffled_per_attempt_and_stable_within_one(page, site):
    """One order per attempt: a reload keeps it, "Start again" draws a new one."""
    with serve(site) as base:
        page.goto(f"{base}/{QUIZ_PAGE}")
        first = shown_order(page, "unpaid")
        page.reload()
        assert shown_order(page, "unpaid") == first, "a reload is the same attempt"
        orders = {tuple(first)}
        for _ in range(12):  # 3 choices: 6 orders; 12 new attempts all alike is ~1e-9
            page.locator(".ck-reset").click()
            last = shown_order(page, "unpaid")
            orders.add(tuple(last))
        page.reload()
        kept = shown_order(page, "unpaid")
        seed = page.evaluate(
            "Object.keys(sessionStorage).filter((k) => k.startsWith('coursekit-quiz-order:'))"
        )
    assert sorted(first) == ["a", "b", "c"], "shuffling neither loses nor adds choices"
    assert len(orders) > 1, "Start again never changed the order"
    assert kept == last, "after a reload the last attempt's order is kept"
    assert len(seed) == 1, "one seed per quiz page, in sessionStorage"
