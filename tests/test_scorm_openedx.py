"""The bundled course's SCORM packages in a real LMS: Open edX's SCORM XBlock.

The XBlock (openedx-scorm-xblock, from PyPI) runs in the XBlock SDK workbench
(tests/openedx/). Each package is imported into a block as the XBlock's studio
form does; Chromium opens the block as a learner, walks a module and answers its
quiz through the pages; the tests read what the XBlock stored for that learner
(its completion and success fields, its score, the cmi data it hands back on
the next launch). Known quirks of this LMS, which the runtime must survive: it
creates `window.API` only once its page has loaded, never sets `cmi.entry`,
answers "" for the status elements, and keeps one store per block, shared by
every SCO its navigation menu opens.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator

import pytest

from lms.harness import SUFFIX, answer
from lrs.learner import (
    CITES_MODULE_2,
    assert_cites_module_2_as_reference,
    assert_stays_in_unit,
    checked,
    questions,
    quiz_rule_course,
)
from openedx.harness import Stored, Workbench, require_openedx

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VERSIONS = ["1.2", "2004"]
COURSE = "digital-labor"
MULTI = {"1.2": "ck-0", "2004": "ck-1"}  # the block holding each version's multi-SCO zip
LAUNCHES = 10  # per version: twenty launches in all
QUIZ_RULE_BLOCKS = {"1.2": "ck-10", "2004": "ck-11"}  # after the bundled course's ten zips


@pytest.fixture(scope="module")
def workbench(tmp_path_factory: pytest.TempPathFactory, built_course) -> Iterator[Workbench]:  # type: ignore[no-untyped-def]
    require_openedx()
    bench = Workbench(tmp_path_factory.mktemp("openedx"))
    bench.start()
    try:
        yield bench
    finally:
        bench.stop()


@pytest.fixture(scope="module")
def modules(built_course) -> list[str]:  # type: ignore[no-untyped-def]
    """The module ids, in course order, as the single-SCO zips are named."""
    names = sorted((built_course.out / "scorm").glob(f"{COURSE}-*-scorm12.zip"))
    found = [p.name.removeprefix(f"{COURSE}-").removesuffix("-scorm12.zip") for p in names]
    assert len(found) == 4, names
    return found


@pytest.fixture(scope="module")
def imported(workbench: Workbench, browser, built_course, modules) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every zip imported into its own block: zip name → scenario."""
    scorm = built_course.out / "scorm"
    zips = [scorm / f"{COURSE}-{SUFFIX[v]}.zip" for v in VERSIONS]
    zips += [scorm / f"{COURSE}-{m}-{SUFFIX[v]}.zip" for v in VERSIONS for m in modules]
    scenarios = {}
    context = browser.new_context()
    page = context.new_page()
    for number, path in enumerate(zips):
        workbench.upload(page, f"ck-{number}", path)
        scenarios[path.name] = f"ck-{number}"
    context.close()
    return scenarios


@pytest.fixture(scope="module")
def quiz_rule_blocks(workbench: Workbench, browser, tmp_path_factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The small course's `reading` unit, set to `completion: quiz`: version → scenario
    (its single-SCO zips, in the blocks the bundled course leaves free)."""
    scorm = quiz_rule_course(tmp_path_factory).out / "scorm"
    context = browser.new_context()
    page = context.new_page()
    for version, scenario in QUIZ_RULE_BLOCKS.items():
        (path,) = scorm.glob(f"*-reading-{SUFFIX[version]}.zip")
        workbench.upload(page, scenario, path)
    context.close()
    return QUIZ_RULE_BLOCKS


# --- driving the block as a learner ------------------------------------------------------


def _sco(page, module: str = ""):  # type: ignore[no-untyped-def]
    """The launch page's frame (inside the XBlock's iframe; of `module`, if given),
    once it has a page to show."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for frame in page.frames:
            if f"/scorm/launch-{module}" in frame.url:
                frame.wait_for_selector("#ck-position:has-text('Page ')", timeout=15_000)
                return frame
        page.wait_for_timeout(100)
    raise AssertionError(f"no launch page in {[f.url for f in page.frames]}")


def _content(page):  # type: ignore[no-untyped-def]
    return page.frame(name="ck-frame")


def _wait_page(page, sco, index: int, count: int) -> None:  # type: ignore[no-untyped-def]
    sco.wait_for_selector(f"#ck-position:has-text('Page {index + 1} of {count}')")
    key = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")[index]
    _content(page).wait_for_url(re.compile(re.escape(key) + "$"), timeout=15_000)
    _content(page).locator("h1").first.wait_for(state="attached", timeout=15_000)


def _walk_and_answer(page, sco) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Every page with Next; the quiz answered through its form. Returns (raw, max)."""
    count = sco.eval_on_selector_all("#ck-pages a", "els => els.length")
    raw = mx = 0.0
    for index in range(count):
        if index:
            sco.click("#ck-next")
        _wait_page(page, sco, index, count)
        assert_stays_in_unit(_content(page))
        if _content(page).query_selector("form.ck-quiz"):
            got = answer(_content(page))
            raw, mx = raw + got[0], mx + got[1]
    assert mx > 0, "the module has no quiz to answer"
    return raw, mx


def _answer_right(page) -> None:  # type: ignore[no-untyped-def]
    """Answer the quiz of the current page right, from the answers the page itself checks."""
    content = _content(page)
    for fieldset in content.query_selector_all("fieldset.ck-question"):
        if fieldset.get_attribute("data-type") == "numeric":
            number = fieldset.query_selector("input")
            number.fill(number.get_attribute("data-answer") or "0")
            continue
        for box in fieldset.query_selector_all("input"):
            if box.get_attribute("data-correct") == "true":
                box.check()
            elif box.get_attribute("type") == "checkbox":
                box.uncheck()


def _leave(page) -> None:  # type: ignore[no-untyped-def]
    """Close the block's page, as a learner leaving it does."""
    page.goto("about:blank")


def _wait_stored(
    bench: Workbench, scenario: str, student: str, done: Callable[[Stored], bool]
) -> Stored:
    """What the XBlock stored, once `done` holds and the state has settled, or at 30 s.

    Its writes are asynchronous, and the workbench saves a handler's fields one query at a
    time: a read in between can see `cmi.exit` written but not yet `success_status`. So the
    state is read again until two reads 0.25 s apart agree.
    """
    deadline = time.monotonic() + 30
    stored, before = bench.stored(scenario, student), None
    while not (done(stored) and stored == before) and time.monotonic() < deadline:
        time.sleep(0.25)
        stored, before = bench.stored(scenario, student), stored
    return stored


def _names(version: str) -> dict[str, str]:
    if version == "1.2":
        return {
            "status": "cmi.core.lesson_status",
            "location": "cmi.core.lesson_location",
            "exit": "cmi.core.exit",
            "session": "cmi.core.session_time",
        }
    return {
        "status": "cmi.completion_status",
        "location": "cmi.location",
        "exit": "cmi.exit",
        "session": "cmi.session_time",
    }


def _suspend(stored: Stored) -> dict:
    return json.loads(stored.data.get("cmi.suspend_data") or "{}")


def _passed(page, sco, version: str) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Walk the module; retake its quiz until it is passed (the first try answers at random)."""
    raw, mx = _walk_and_answer(page, sco)
    if raw / mx < 0.8:
        _answer_right(page)
        _content(page).click("form.ck-quiz [type=submit]")
        text = _content(page).inner_text("form.ck-quiz .ck-score")
        got = re.search(r"([\d.]+) out of ([\d.]+)", text)
        assert got, text
        raw, mx = float(got.group(1)), float(got.group(2))
    assert raw / mx >= 0.8, "the quiz could not be passed through its form"
    return raw, mx


def _assert_interactions(
    stored: Stored, module: str, version: str, asked: list[tuple[str, list[int]]]
) -> None:
    """The XBlock holds one interaction per question answered (all right), in order, each
    with the objectives quiz.yml gives it, and the unit's objectives with a status."""
    data = stored.data
    count = len({k.split(".")[2] for k in data if re.fullmatch(r"cmi\.interactions\.\d+\.id", k)})
    assert count == len(asked), sorted(data)
    response = "student_response" if version == "1.2" else "learner_response"
    for n, (qid, numbers) in enumerate(asked):
        row = f"cmi.interactions.{n}."
        assert data[row + "id"] == f"{module}-module-quiz-{qid}", data[row + "id"]
        assert data[row + "result"] == "correct", qid
        assert data[row + "correct_responses.0.pattern"] != "", qid
        assert data.get(row + response), qid
        linked = [data[k] for j in range(8) if (k := f"{row}objectives.{j}.id") in data]
        assert linked == [f"{module}-objective-{k}" for k in numbers], (qid, linked)
    objectives = [v for k, v in data.items() if re.fullmatch(r"cmi\.objectives\.\d+\.id", k)]
    assert objectives and all(o.startswith(f"{module}-objective-") for o in objectives)
    status = "status" if version == "1.2" else "success_status"
    assessed = {f"{module}-objective-{k}" for _, numbers in asked for k in numbers}
    for i, name in enumerate(objectives):
        assert (data[f"cmi.objectives.{i}.{status}"] == "passed") == (name in assessed), name


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_openedx_module_1_keeps_the_learner_inside_and_remembers_them(
    page,
    workbench: Workbench,
    imported: dict[str, str],
    modules: list[str],
    built_course,  # type: ignore[no-untyped-def]
    version: str,
) -> None:
    """Module 1's block (its single-SCO zip): the learner reads pages 1-3, none of which
    leads into module 2, answers the quiz, leaves at page 3; the XBlock holds one
    interaction per question with its objectives; back, the learner sees their answers,
    score and place, reads on to the end, and the module is completed."""
    scenario = imported[f"{COURSE}-{modules[0]}-{SUFFIX[version]}.zip"]
    student = f"learner-{version}"
    names = _names(version)
    asked = questions(built_course.root)
    page.goto(workbench.url(scenario, student))
    sco = _sco(page)
    keys = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
    quiz = next(i for i, k in enumerate(keys) if k.endswith("/quiz.html"))
    cites = keys.index(CITES_MODULE_2)
    assert cites < 3 < quiz
    for index in range(3):  # pages 1 to 3, with Next
        if index:
            sco.click("#ck-next")
        _wait_page(page, sco, index, len(keys))
        if index == cites:  # module 2 is named as a reference, not linked
            assert_cites_module_2_as_reference(_content(page))
        else:
            assert_stays_in_unit(_content(page))
    sco.click("summary")
    sco.click(f"#ck-pages a >> nth={quiz}")
    _wait_page(page, sco, quiz, len(keys))
    _answer_right(page)
    _content(page).click("form.ck-quiz [type=submit]")
    assert re.search(r"(\d+) out of \1 points", _content(page).inner_text(".ck-score"))
    given = checked(_content(page))
    sco.click("summary")  # back to page 3, and away
    sco.click("#ck-pages a >> nth=2")
    _wait_page(page, sco, 2, len(keys))
    stored = _wait_stored(
        workbench, scenario, student, lambda s: s.data.get(names["location"]) == keys[2]
    )
    _leave(page)

    assert stored.success_status == "passed"
    if version == "2004":  # 1.2 has one status: "passed" (the XBlock counts it completed)
        assert stored.lesson_status == "incomplete"
    assert stored.lesson_score == pytest.approx(1.0)
    assert stored.data[names["exit"]] == "suspend"  # pages left to read
    seen = "".join("1" if i < 3 or i == quiz else "0" for i in range(len(keys)))
    assert _suspend(stored)["seen"] == seen
    _assert_interactions(stored, modules[0], version, asked)

    # Back: at page 3, told the score and the place; the pages read are marked.
    page.goto(workbench.url(scenario, student))
    sco = _sco(page)
    _wait_page(page, sco, 2, len(keys))
    sco.wait_for_selector("#ck-tracking:has-text('You scored')")
    status = sco.inner_text("#ck-tracking")
    assert re.search(r"You scored (\d+)/\1 on", status), status
    assert f"page 3 of {len(keys)}" in status, status
    marked = sco.eval_on_selector_all(
        "#ck-pages li.ck-was-seen a", "els => els.map(a => a.dataset.ckPage)"
    )
    assert marked == [k for k, s in zip(keys, seen, strict=True) if s == "1"]
    # Reading on to the end: every page inside the unit; the quiz shows the answers, graded.
    for index in range(3, len(keys)):
        sco.click("#ck-next")
        _wait_page(page, sco, index, len(keys))
        assert_stays_in_unit(_content(page))
    _content(page).wait_for_selector("form.ck-quiz.ck-restored", timeout=15_000)
    assert checked(_content(page)) == given
    assert re.search(r"(\d+) out of \1 points", _content(page).inner_text(".ck-score"))
    finished = "" if version == "1.2" else "normal"
    done = _wait_stored(
        workbench,
        scenario,
        student,
        lambda s: s.data.get(names["exit"]) == finished and s.lesson_status == "completed",
    )
    _leave(page)
    assert (done.lesson_status, done.success_status) == ("completed", "passed")
    assert done.lesson_score == pytest.approx(1.0)
    assert done.data[names["exit"]] == finished
    assert done.data[names["session"]]
    assert _suspend(done)["seen"] == "1" * len(keys)
    _assert_interactions(done, modules[0], version, asked)  # none added by the relaunch


@pytest.mark.parametrize("version", VERSIONS)
def test_openedx_second_module_through_the_same_block_starts_clean(
    page, workbench: Workbench, imported: dict[str, str], modules: list[str], version: str
) -> None:
    """The XBlock keeps one store per block: module 2 must not take module 1's result."""
    scenario, student = MULTI[version], f"menu-{version}"
    names = _names(version)
    page.goto(workbench.url(scenario, student))
    _passed(page, _sco(page), version)
    _wait_stored(workbench, scenario, student, lambda s: s.success_status == "passed")

    page.click(f".navigation-title[href$='launch-{modules[1]}.html']")
    sco = _sco(page, modules[1])
    assert "/assets_proxy/" in sco.url  # opened by the XBlock's menu
    _wait_page(page, sco, 0, sco.eval_on_selector_all("#ck-pages a", "els => els.length"))
    stored = _wait_stored(  # the first page, seen
        workbench,
        scenario,
        student,
        lambda s: _suspend(s).get("m") == modules[1] and "1" in _suspend(s)["seen"],
    )
    _leave(page)
    data = _suspend(stored)
    assert (data["m"], data["seen"].count("1"), data["q"]) == (modules[1], 1, {})
    assert stored.data[names["status"]] == "incomplete", stored
    assert stored.lesson_status == "incomplete"
    if version == "2004":  # 1.2 has no element that clears the XBlock's success field
        assert stored.success_status == "unknown"


@pytest.mark.parametrize("version", VERSIONS)
def test_openedx_each_single_sco_zip_opens_its_own_module(
    page, workbench: Workbench, imported: dict[str, str], modules: list[str], version: str
) -> None:
    for module in modules:
        scenario = imported[f"{COURSE}-{module}-{SUFFIX[version]}.zip"]
        student = f"single-{version}-{module}"
        page.goto(workbench.url(scenario, student))
        sco = _sco(page)
        assert sco.url.endswith(f"/scorm/launch-{module}.html")
        stored = _wait_stored(
            workbench, scenario, student, lambda s: s.lesson_status == "incomplete"
        )
        _leave(page)
        assert _suspend(stored)["m"] == module
        assert stored.lesson_status == "incomplete"


def test_openedx_twenty_launches_are_all_tracked(
    page, workbench: Workbench, imported: dict[str, str]
) -> None:
    """Open edX creates the API after its page has loaded: no launch may miss it."""
    untracked = []
    for version in VERSIONS:
        session = _names(version)["session"]
        for number in range(LAUNCHES):
            scenario, student = MULTI[version], f"launch-{version}-{number}"
            page.goto(workbench.url(scenario, student))
            _sco(page)
            stored = _wait_stored(
                workbench, scenario, student, lambda s, el=session: bool(s.data.get(el))
            )
            _leave(page)
            if not (stored.lesson_status == "incomplete" and stored.data.get(session)):
                untracked.append((version, number, stored))
    assert untracked == []


@pytest.mark.parametrize("version", VERSIONS)
def test_openedx_a_unit_completed_by_its_quiz_needs_not_every_page(
    page, workbench: Workbench, quiz_rule_blocks: dict[str, str], version: str
) -> None:
    """module.yml `completion: quiz`: the quiz passed, page 2 of 3 unread, the unit is done."""
    scenario, student = quiz_rule_blocks[version], f"quiz-rule-{version}"
    names = _names(version)
    page.goto(workbench.url(scenario, student))
    sco = _sco(page)
    keys = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
    quiz = next(i for i, k in enumerate(keys) if k.endswith("/quiz.html"))
    _wait_page(page, sco, 0, len(keys))
    sco.click("summary")
    sco.click(f"#ck-pages a >> nth={quiz}")  # straight to the quiz: page 2 is never read
    _wait_page(page, sco, quiz, len(keys))
    _answer_right(page)
    _content(page).click("form.ck-quiz [type=submit]")
    finished = "" if version == "1.2" else "normal"
    stored = _wait_stored(
        workbench, scenario, student, lambda s: s.data.get(names["exit"]) == finished
    )
    _leave(page)
    assert _suspend(stored)["seen"].count("0") == len(keys) - 2
    assert (stored.lesson_status, stored.success_status) == ("completed", "passed")
    assert stored.data[names["exit"]] == finished  # nothing left to do in this unit
    if version == "2004":
        assert stored.data["cmi.completion_status"] == "completed"
