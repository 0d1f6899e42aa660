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
from openedx.harness import Stored, Workbench, require_openedx

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VERSIONS = ["1.2", "2004"]
COURSE = "digital-labor"
MULTI = {"1.2": "ck-0", "2004": "ck-1"}  # the block holding each version's multi-SCO zip
LAUNCHES = 10  # per version: twenty launches in all


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
    """What the XBlock stored, once `done` holds (its writes are asynchronous), or at 30 s."""
    deadline = time.monotonic() + 30
    stored = bench.stored(scenario, student)
    while not done(stored) and time.monotonic() < deadline:
        time.sleep(0.25)
        stored = bench.stored(scenario, student)
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


def _assert_interactions(stored: Stored, module: str, version: str) -> None:
    """The XBlock holds an interaction per answered question, each with its objectives and
    result, and the unit's objectives with a status."""
    data = stored.data
    ids = {
        k.split(".")[2]: v
        for k, v in data.items()
        if re.fullmatch(r"cmi\.interactions\.\d+\.id", k)
    }
    assert ids, sorted(data)
    questions = {v.rsplit("-", 1)[-1] for v in ids.values()}
    assert len(questions) >= 10, ids  # the bundled quizzes have ten questions each
    results = {"correct", "wrong"} if version == "1.2" else {"correct", "incorrect"}
    response = "student_response" if version == "1.2" else "learner_response"
    for n, value in ids.items():
        assert value.startswith(f"{module}-"), value
        assert data[f"cmi.interactions.{n}.result"] in results
        assert data[f"cmi.interactions.{n}.correct_responses.0.pattern"] != ""
        assert data.get(f"cmi.interactions.{n}.objectives.0.id", "").startswith(
            f"{module}-objective-"
        )
        if data[f"cmi.interactions.{n}.type"] == "choice":
            assert data[f"cmi.interactions.{n}.{response}"]
    objectives = [v for k, v in data.items() if re.fullmatch(r"cmi\.objectives\.\d+\.id", k)]
    assert objectives and all(o.startswith(f"{module}-objective-") for o in objectives)
    status = "status" if version == "1.2" else "success_status"
    assert {data[f"cmi.objectives.{i}.{status}"] for i in range(len(objectives))} <= {
        "passed",
        "failed",
    }


# --- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_openedx_stores_a_passed_module_and_resumes_it(
    page, workbench: Workbench, imported: dict[str, str], modules: list[str], version: str
) -> None:
    scenario, student = MULTI[version], f"walker-{version}"
    names = _names(version)
    page.goto(workbench.url(scenario, student))
    sco = _sco(page)
    assert modules[0] in sco.url
    keys = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
    raw, mx = _passed(page, sco, version)
    # The learner goes back to the second page, then leaves.
    sco.click("summary")
    sco.click("#ck-pages a >> nth=1")
    _wait_page(page, sco, 1, len(keys))
    stored = _wait_stored(
        workbench, scenario, student, lambda s: s.data.get(names["location"]) == keys[1]
    )
    _leave(page)

    assert (stored.lesson_status, stored.success_status) == ("completed", "passed")
    assert stored.lesson_score == pytest.approx(raw / mx, abs=1e-4)
    assert stored.data[names["exit"]] == ("" if version == "1.2" else "normal")
    assert stored.data[names["session"]]
    data = _suspend(stored)
    assert (data["c"], data["m"], data["seen"]) == (COURSE, modules[0], "1" * len(keys))
    _assert_interactions(stored, modules[0], version)

    # Relaunch: back at page 2, still completed and passed, nothing lowered; the bar says
    # what was scored and where the learner was.
    page.goto(workbench.url(scenario, student))
    sco = _sco(page)
    _wait_page(page, sco, 1, len(keys))
    sco.wait_for_selector("#ck-tracking:has-text('You scored')")
    assert f"page 2 of {len(keys)}" in sco.inner_text("#ck-tracking")
    page.wait_for_timeout(1000)  # let any write of this launch reach the XBlock
    again = workbench.stored(scenario, student)
    # The quiz shows the answers given last time, graded.
    sco.click("summary")
    sco.click(
        f"#ck-pages a >> nth={next(i for i, k in enumerate(keys) if k.endswith('/quiz.html'))}"
    )
    _content(page).wait_for_selector("form.ck-quiz.ck-restored", timeout=15_000)
    assert re.search(r"\d+ out of \d+ points", _content(page).inner_text("form.ck-quiz .ck-score"))
    _leave(page)
    assert (again.lesson_status, again.success_status) == ("completed", "passed")
    assert again.lesson_score == pytest.approx(raw / mx, abs=1e-4)
    assert again.data[names["location"]] == keys[1]
    assert _suspend(again)["seen"] == "1" * len(keys)


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
