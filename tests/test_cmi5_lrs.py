"""The cmi5 package's AUs in Chromium, launched as a cmi5 LMS launches them, against Ralph.

The test plays the LMS (tests/lrs/): it reads the zip's cmi5.xml, makes a
registration, writes LMS.LaunchData to its State API, hands out a one-time fetch
URL whose token is Ralph's Basic credentials, sends "launched" and opens the AU's
URL. The AU's statements go (through the same origin) to Ralph, a real LRS
(ralph-malph, file-system backend), and the tests read them back from Ralph's
`GET /xAPI/statements?registration=...`, as an LMS report would.
"""

from __future__ import annotations

import json
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from browser import watch
from conftest import BuiltCourse, run_cli
from lrs.course import make_cmi5_course
from lrs.learner import (
    CITES_MODULE_2,
    MODULE_1,
    assert_cites_module_2_as_reference,
    assert_stays_in_unit,
    checked,
    questions,
    quiz_rule_course,
)
from lrs.lms import RETURN_PAGE, Lms, serve_lms
from lrs.player import (
    CMI5,
    MASTERY,
    MOVEON,
    PROGRESS,
    SESSION,
    Launch,
    answer,
    at_page,
    prepare,
    quiz_of,
    read_aus,
    session_statements,
    verbs,
    wait_for_verb,
    walk,
)
from lrs.ralph_lrs import Ralph, require_ralph, run_ralph

pytestmark = pytest.mark.browser
DEFINED = {"initialized", "completed", "passed", "failed", "terminated"}  # cmi5 defined, by the AU


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small course, built once with `coursekit build --only cmi5`."""
    require_ralph()
    root = make_cmi5_course(tmp_path_factory.mktemp("cmi5") / "course")
    result = run_cli("build", root, "--only", "cmi5", cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@pytest.fixture(scope="module")
def package(course: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("cmi5-zip")
    with zipfile.ZipFile(course / "_build" / "cmi5" / "tiny-cmi5-cmi5.zip") as zf:
        zf.extractall(dest)
    return dest


@pytest.fixture(scope="module")
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ralph]:
    with run_ralph(tmp_path_factory.mktemp("ralph")) as lrs:
        yield lrs


@pytest.fixture(scope="module")
def lms(package: Path, ralph: Ralph) -> Iterator[Lms]:
    with serve_lms(package, ralph.url, ralph.auth_token) as server:
        yield server


def _open(page, launch: Launch) -> list[str]:  # type: ignore[no-untyped-def]
    problems = watch(page)
    page.goto(launch.url)
    page.wait_for_selector("#ck-position:not(:empty)")
    return problems.problems()


def _from_the_start(page) -> None:  # type: ignore[no-untyped-def]
    """A relaunch reopens the page the learner left: wait for it, then go back to page 1."""
    pages = len(page.query_selector_all("#ck-pages a"))
    page.wait_for_function(
        "t => document.getElementById('ck-position').textContent === t",
        arg=f"Page {pages} of {pages}",
    )
    page.click(".ck-bar summary")
    page.click("#ck-pages a >> nth=0")


def _assert_context(statements: list[dict], launch: Launch) -> None:
    """Every statement of the AU carries the launch's registration, session and activity."""
    for s in statements:
        context = s["context"]
        assert context["registration"] == launch.registration
        assert context["extensions"][SESSION] == launch.session
        assert s["object"]["id"] == launch.activity_id
        assert s["actor"]["account"] == launch.actor["account"]
        categories = {c["id"] for c in context.get("contextActivities", {}).get("category", [])}
        verb = s["verb"]["id"].rsplit("/", 1)[-1]
        assert (CMI5 in categories) == (verb in DEFINED | {"launched"}), verb
        assert (MOVEON in categories) == (verb in {"completed", "passed", "failed"}), verb


def test_each_au_reports_initialized_progressed_completed_passed_terminated(
    page, course: Path, package: Path, lms: Lms, ralph: Ralph
) -> None:
    registration = str(uuid.uuid4())  # one registration: the learner's enrolment in the course
    for au in read_aus(package):
        launch = prepare(lms, ralph, au, registration)
        problems = _open(page, launch)
        walk(page, course)
        pages = len(page.query_selector_all("#ck-pages a"))
        page.wait_for_function(
            "t => document.getElementById('ck-tracking').textContent === t",
            arg="Done: your result is recorded. Exit returns you to the course.",
        )
        assert "terminated" not in verbs(session_statements(ralph, launch))  # still reading
        page.click("#ck-exit")
        page.wait_for_url(f"{lms.base}{RETURN_PAGE}")  # cmi5 10.2.6: back to the returnURL
        found = wait_for_verb(page, ralph, launch, "terminated")
        progress = [s for s in found if verbs([s]) == ["progressed"]]
        expected = ["launched", "initialized", *["progressed"] * pages, "completed"]
        expected += ["passed"] if au.mastery is not None else []
        assert verbs(found) == [*expected, "terminated"], au.id
        assert [s["result"]["extensions"][PROGRESS] for s in progress] == [
            round(100 * (i + 1) / pages) for i in range(pages)
        ]
        _assert_context(found, launch)
        completed = next(s for s in found if verbs([s]) == ["completed"])
        assert completed["result"]["completion"] is True
        if au.mastery is not None:
            passed = next(s for s in found if verbs([s]) == ["passed"])
            assert passed["result"]["success"] is True
            assert passed["result"]["score"]["scaled"] == 1
            assert passed["context"]["extensions"][MASTERY] == au.mastery
        assert lms.fetches[launch.fetch_key] == 1  # the fetch URL was POSTed exactly once
        assert problems == []


def test_wrong_answers_give_failed_and_leaving_terminates(
    page, course: Path, package: Path, lms: Lms, ralph: Ralph
) -> None:
    registration = str(uuid.uuid4())
    au = next(a for a in read_aus(package) if a.mastery is not None)
    launch = prepare(lms, ralph, au, registration)
    _open(page, launch)
    walk(page, course, answers="wrong")
    wait_for_verb(page, ralph, launch, "failed")
    page.goto("about:blank")  # the learner leaves: a failed unit is not done, so no terminated yet
    found = wait_for_verb(page, ralph, launch, "terminated")
    assert verbs(found) == ["launched", "initialized", "progressed", "progressed", "progressed"] + [
        "completed",
        "failed",
        "terminated",
    ]
    failed = next(s for s in found if verbs([s]) == ["failed"])
    assert failed["result"]["success"] is False
    assert failed["result"]["score"]["scaled"] < au.mastery
    _assert_context(found, launch)


@pytest.mark.parametrize("mode", ["Browse", "Review"])
def test_browse_and_review_record_no_progress_or_result(
    page, course: Path, package: Path, lms: Lms, ralph: Ralph, mode: str
) -> None:
    registration = str(uuid.uuid4())
    au = next(a for a in read_aus(package) if a.mastery is not None)
    launch = prepare(lms, ralph, au, registration, mode=mode)
    _open(page, launch)
    page.wait_for_function(
        "t => document.getElementById('ck-tracking').textContent === t",
        arg=f"Progress is not recorded in {mode} mode.",
    )
    walk(page, course)
    page.goto("about:blank")
    found = wait_for_verb(page, ralph, launch, "terminated")
    assert verbs(found) == ["launched", "initialized", "terminated"]
    _assert_context(found, launch)


@pytest.mark.parametrize("return_url", [None, "javascript:alert(1)"])
def test_exit_without_a_web_return_url_terminates_and_stays(
    page, course: Path, package: Path, lms: Lms, ralph: Ralph, return_url: str | None
) -> None:
    """No returnURL, or one that is no web address: Exit ends the session, the page stays."""
    au = read_aus(package)[0]
    launch = prepare(lms, ralph, au, str(uuid.uuid4()), return_url=return_url)
    problems = _open(page, launch)
    page.wait_for_selector("#ck-exit:not([hidden])")
    page.click("#ck-exit")
    page.wait_for_function(
        "t => document.getElementById('ck-tracking').textContent === t",
        arg="Your session is closed: you can close this window.",
    )
    found = wait_for_verb(page, ralph, launch, "terminated")
    assert verbs(found)[:2] == ["launched", "initialized"] and verbs(found)[-1] == "terminated"
    assert page.url == launch.url and page.is_disabled("#ck-exit")
    assert problems == []


def test_without_a_cmi5_launch_the_pages_work_and_nothing_is_sent(
    page, course: Path, package: Path, lms: Lms
) -> None:
    au = read_aus(package)[0]
    problems = watch(page)
    page.goto(f"{lms.base}/au/{au.url}")
    page.wait_for_function(
        "t => document.getElementById('ck-tracking').textContent === t",
        arg="Progress is not recorded here (not launched by a cmi5 LMS).",
    )
    walk(page, course)
    assert "out of" in page.frame(name="ck-frame").inner_text(".ck-score")
    assert problems.problems() == []


def test_a_relaunch_resumes_and_never_repeats_completed_or_passed(
    page, course: Path, package: Path, lms: Lms, ralph: Ralph
) -> None:
    """Failed, then relaunched in the same registration and passed: one completed, one passed."""
    registration = str(uuid.uuid4())
    au = next(a for a in read_aus(package) if a.mastery is not None)
    first = prepare(lms, ralph, au, registration)
    _open(page, first)
    walk(page, course, answers="wrong")
    wait_for_verb(page, ralph, first, "failed")
    page.goto("about:blank")
    wait_for_verb(page, ralph, first, "terminated")

    second = prepare(lms, ralph, au, registration)  # a new session, the same registration
    problems = _open(page, second)
    _from_the_start(page)
    walk(page, course)
    wait_for_verb(page, ralph, second, "passed")
    page.click("#ck-exit")
    mine = wait_for_verb(page, ralph, second, "terminated")
    # Exit then takes the page to the returnURL: let it arrive before the next launch,
    # or that navigation interrupts the next page.goto.
    page.wait_for_url(f"{lms.base}{RETURN_PAGE}")
    assert verbs(mine) == ["launched", "initialized", "passed", "terminated"]
    assert verbs(ralph.statements(registration)).count("completed") == 1
    assert verbs(ralph.statements(registration)).count("passed") == 1
    _assert_context(mine, second)
    assert problems == []

    third = prepare(lms, ralph, au, registration)  # done: a review sends no result again
    _open(page, third)
    _from_the_start(page)
    walk(page, course)
    page.goto("about:blank")
    mine = wait_for_verb(page, ralph, third, "terminated")
    assert verbs(mine) == ["launched", "initialized", "terminated"]


@pytest.mark.slow
def test_module_1_remembers_the_learner_and_ralph_holds_each_answer(
    page, built_course: BuiltCourse, ralph: Ralph, tmp_path: Path
) -> None:
    """The bundled course's module 1 AU: the learner reads pages 1-3 (none leads into
    module 2), answers the quiz, leaves at page 3; Ralph holds one "answered" statement
    per question, its objectives as parents. Back in the same registration the learner
    sees their answers, score and place, reads on to the end: one completed, one passed."""
    with zipfile.ZipFile(built_course.out / "cmi5" / "digital-labor-cmi5.zip") as zf:
        zf.extractall(tmp_path)
    au = read_aus(tmp_path)[0]
    assert au.id.endswith(f"/au/{MODULE_1}")
    asked = questions(built_course.root)
    registration = str(uuid.uuid4())
    with serve_lms(tmp_path, ralph.url, ralph.auth_token) as lms:
        first = prepare(lms, ralph, au, registration)
        problems = _open(page, first)
        keys = page.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
        quiz = next(i for i, k in enumerate(keys) if k.endswith("/quiz.html"))
        for index in range(3):  # pages 1 to 3, with Next
            if index:
                page.click("#ck-next")
            content = at_page(page, index)
            if keys[index] == CITES_MODULE_2:  # module 2 is named as a reference, not linked
                assert_cites_module_2_as_reference(content)
            else:
                assert_stays_in_unit(content)
        page.click(".ck-bar summary")
        page.click(f"#ck-pages a >> nth={quiz}")
        content = at_page(page, quiz)
        answer(content, quiz_of(built_course.root, content.url), "right")
        given = checked(content)
        wait_for_verb(page, ralph, first, "passed")
        page.click(".ck-bar summary")  # back to page 3, and away
        page.click("#ck-pages a >> nth=2")
        at_page(page, 2)
        _wait_saved(page, lms, first, lambda saved: saved.get("at") == keys[2])
        page.goto("about:blank")
        found = wait_for_verb(page, ralph, first, "terminated")
        assert verbs(found) == ["launched", "initialized", *["progressed"] * 4] + [
            "passed",
            "terminated",
        ]
        _assert_context(found, first)

        answered = [s for s in ralph.statements(registration) if verbs([s]) == ["answered"]]
        assert len(answered) == len(asked)
        for s, (qid, numbers) in zip(answered, asked, strict=True):
            assert s["object"]["id"] == f"{first.activity_id}/test/module-quiz/question/{qid}"
            definition = s["object"]["definition"]
            assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
            assert definition["interactionType"] in {"choice", "numeric"}
            assert definition["correctResponsesPattern"]
            assert s["result"]["success"] is True and s["result"]["response"]
            assert s["context"]["registration"] == registration
            activities = s["context"].get("contextActivities", {})
            assert CMI5 not in {c["id"] for c in activities.get("category", [])}  # not cmi5's
            parents = [p["id"] for p in activities.get("parent", [])]
            assert parents == [f"{first.activity_id}/objective/{n}" for n in numbers], qid

        second = prepare(lms, ralph, au, registration)  # back, in the same registration
        problems += _open(page, second)
        page.wait_for_function(
            "() => /You scored (\\d+)\\/\\1 on/"
            ".test(document.getElementById('ck-tracking').textContent)"
        )
        assert f"page 3 of {len(keys)}" in page.inner_text("#ck-tracking")
        at_page(page, 2)
        marked = page.eval_on_selector_all(
            "#ck-pages li.ck-was-seen a", "els => els.map(a => a.dataset.ckPage)"
        )
        assert marked == [*keys[:3], keys[quiz]]
        for index in range(3, len(keys)):  # on to the end; the quiz shows the answers
            page.click("#ck-next")
            assert_stays_in_unit(at_page(page, index))
        content = page.frame(name="ck-frame")
        content.wait_for_selector("form.ck-quiz.ck-restored")
        assert checked(content) == given
        assert re.search(r"(\d+) out of \1 points", content.inner_text(".ck-score"))
        wait_for_verb(page, ralph, second, "completed")
        page.click("#ck-exit")
        mine = wait_for_verb(page, ralph, second, "terminated")
        page.wait_for_url(f"{lms.base}{RETURN_PAGE}")
    new_pages = len(keys) - 4  # pages 4 to 8; 1-3 and the quiz were seen before
    assert verbs(mine) == ["launched", "initialized", *["progressed"] * new_pages] + [
        "completed",
        "terminated",
    ]
    _assert_context(mine, second)
    everything = verbs(ralph.statements(registration))
    assert (everything.count("completed"), everything.count("passed")) == (1, 1)
    assert everything.count("answered") == len(asked)  # a relaunch reports no answer again
    assert problems == []


def _wait_saved(page, lms: Lms, launch: Launch, done) -> dict:  # type: ignore[no-untyped-def]
    """The AU's own State API document (coursekit.progress), once `done(it)`, or at 30 s."""
    deadline = time.monotonic() + 30
    while True:
        saved = {}
        with lms.lock:
            for (activity, _, registration, sid), doc in lms.state.items():
                if (activity, registration, sid) == (
                    launch.activity_id,
                    launch.registration,
                    "coursekit.progress",
                ):
                    saved = json.loads(doc)
        if done(saved) or time.monotonic() > deadline:
            return saved
        page.wait_for_timeout(200)


def test_a_unit_completed_by_its_quiz_sends_completed_without_every_page(
    page, ralph: Ralph, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """module.yml `completion: quiz`: passing the quiz completes the AU, page 2 unread."""
    root = quiz_rule_course(tmp_path_factory).root
    dest = tmp_path_factory.mktemp("rule-zip")
    with zipfile.ZipFile(root / "_build" / "cmi5" / "tiny-cmi5-cmi5.zip") as zf:
        zf.extractall(dest)
    au = next(a for a in read_aus(dest) if a.mastery is not None)
    with serve_lms(dest, ralph.url, ralph.auth_token) as lms:
        launch = prepare(lms, ralph, au, str(uuid.uuid4()))
        problems = _open(page, launch)
        keys = page.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
        quiz = next(i for i, k in enumerate(keys) if k.endswith("/quiz.html"))
        page.click(".ck-bar summary")
        page.click(f"#ck-pages a >> nth={quiz}")
        content = page.frame(name="ck-frame")
        content.wait_for_url(f"**/{keys[quiz]}")
        content.wait_for_selector("form.ck-quiz")
        answer(content, quiz_of(root, content.url), "right")
        wait_for_verb(page, ralph, launch, "completed")
        page.goto("about:blank")
        found = wait_for_verb(page, ralph, launch, "terminated")
    names = verbs(found)
    assert names.count("progressed") == 2  # pages 1 and 3 of 3
    assert names[-3:] == ["passed", "completed", "terminated"], names
    assert problems == []
