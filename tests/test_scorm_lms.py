"""SCORM packages run in Chromium against a real SCORM runtime (scorm-again) and with no LMS.

For each version, a test LMS page creates the API, opens each SCO's launch page in
a frame, walks its pages, records a quiz score, closes it and relaunches it; the
tests then read what the LMS stored, as an LMS report would show it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from browser import serve, watch
from coursekit.loading import load_course
from coursekit.packages.scorm import package
from lms.harness import (
    CMI,
    SUFFIX,
    assert_clean,
    assert_stored,
    build_html,
    calls_since,
    close,
    items,
    launch,
    make_tiny_course,
    module_pages,
    require_scorm_again,
    serve_lms,
    suspend,
    unzip,
    wait_location_set,
    wait_score,
    wait_seen,
    walk,
    walk_sco,
    watch_runtime,
    watch_site,
)

pytestmark = pytest.mark.browser
VERSIONS = ["1.2", "2004"]
# The quiz score each tiny module's page posts (raw, max); mastery is 80 %.
TINY_SCORES = {"first-steps": (3, 4), "second-thoughts": (9, 10)}


@pytest.fixture(scope="module")
def tiny_zips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_tiny_course(tmp_path_factory.mktemp("tiny"))
    out = root / "_scorm"
    package(load_course(root).course, build_html(root), out)
    return out


def _module_of(item_launch: str) -> str:
    return item_launch.removeprefix("scorm/launch-").removesuffix(".html")


def _post_score(page, module: str, raw: float, mx: float) -> None:  # type: ignore[no-untyped-def]
    """What the quiz of a framed page sends its parent, per the team's quiz→LMS contract.

    Sent once the frame shows the page the bar says is current: right after Next, the
    frame may still be leaving the last one (its script would be gone mid-call)."""
    content = page.frame(name="ck-frame")
    assert content is not None and content.parent_frame is not None
    current = "document.querySelector('#ck-pages a[aria-current=page]').href"
    content.wait_for_url(content.parent_frame.evaluate(current))
    content.evaluate(
        "d => window.parent.postMessage(d, '*')",
        {
            "type": "coursekit:quiz-score",
            "module": module,
            "quiz": "check",
            "raw": raw,
            "min": 0,
            "max": mx,
            "scaled": raw / mx,
        },
    )


def _statuses(calls: list[dict], version: str) -> list[str]:
    """The completion (1.2: lesson) statuses the SCO wrote, in order."""
    status = "cmi.core.lesson_status" if version == "1.2" else "cmi.completion_status"
    return [
        c["args"][1] for c in calls if c["method"] == CMI[version]["set"] and c["args"][0] == status
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_lms_tracks_each_sco_and_resumes_it(
    page, tmp_path: Path, tiny_zips: Path, version: str
) -> None:
    require_scorm_again()
    pkg = unzip(tiny_zips / f"tiny-{SUFFIX[version]}.zip", tmp_path / "pkg")
    seen, errors = watch(page), watch_runtime(page)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        scos = items((pkg / "imsmanifest.xml").read_bytes(), version)
        assert [_module_of(i.launch) for i in scos] == list(TINY_SCORES)
        for item in scos:
            module = _module_of(item.launch)
            start = launch(page, base, version, item)
            keys = module_pages(page, version)
            walk(page, version, start)
            _post_score(page, "some-other-module", 0, 4)  # another module's quiz: ignored
            raw, mx = TINY_SCORES[module]
            _post_score(page, module, raw, mx)
            wait_score(page, version, start)
            stored = close(page, item, base)
            assert_stored(stored, version, keys, raw, mx)
            first = calls_since(page, start)
            assert_clean(first, version)
            written = _statuses(first, version)
            assert written[0] == "incomplete"  # on first launch, before the pages are all seen

            # Relaunch: the SCO resumes at its bookmark and keeps what it recorded.
            start = launch(page, base, version, item)
            wait_location_set(page, version, keys[-1], start)
            page.frame(name="ck-frame").wait_for_url(f"**/{keys[-1]}", timeout=15_000)
            restored = close(page, item, base)
            assert_stored(restored, version, keys, raw, mx)
            again = calls_since(page, start)
            assert_clean(again, version)
            assert _statuses(again, version) == []  # nothing to change: nothing lowered
    assert (errors, seen.external_requests) == ([], [])


def test_suspend_data_stays_under_the_scorm12_limit(page, tmp_path: Path, tiny_zips: Path) -> None:
    """Hundreds of quiz results: the per-quiz detail gives way, the total score stays right."""
    require_scorm_again()
    pkg = unzip(tiny_zips / "tiny-scorm12.zip", tmp_path / "pkg")
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        item = items((pkg / "imsmanifest.xml").read_bytes(), "1.2")[1]
        start = launch(page, base, "1.2", item)
        wait_seen(page, "1.2", 0, start)  # the content page is there to post from
        page.frame(name="ck-frame").evaluate(
            """m => { for (let i = 0; i < 400; i++) window.parent.postMessage({
                type: "coursekit:quiz-score", module: m, quiz: "a-rather-long-quiz-id-" + i,
                raw: i % 2, min: 0, max: 1, scaled: i % 2}, "*"); }""",
            "second-thoughts",
        )
        page.wait_for_function(
            "s => window.lms.calls.slice(s).filter(c => c.args[0] === 'cmi.core.score.raw')"
            ".length === 400",
            arg=start,
            timeout=60000,
        )
        stored = close(page, item, base)
        assert_clean(calls_since(page, start), "1.2")
    assert len(stored["suspend_data"]) < 4096
    assert suspend(stored)["q"] == {"total": [200, 400]}
    assert (stored["core"]["score"]["raw"], stored["core"]["lesson_status"]) == ("50", "failed")


@pytest.mark.parametrize("version", VERSIONS)
def test_package_without_lms_works_and_throws_nothing(
    page, tmp_path: Path, tiny_zips: Path, version: str
) -> None:
    pkg = unzip(tiny_zips / f"tiny-{SUFFIX[version]}.zip", tmp_path / "pkg")
    seen, errors = watch(page), watch_runtime(page)
    scos = items((pkg / "imsmanifest.xml").read_bytes(), version)
    with serve(pkg) as base:
        for item in scos:
            _walk_without_lms(page, f"{base}/{item.launch}")
    # Opened straight from disk, too (file:// pages cannot see into each other's frames).
    _walk_without_lms(page, (pkg / scos[0].launch).as_uri())
    assert (errors, seen.external_requests) == ([], [])


def _walk_without_lms(page, url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_selector("#ck-tracking:has-text('not recorded')")
    count = page.eval_on_selector_all("#ck-pages a", "els => els.length")
    for index in range(count):
        if index:
            page.click("#ck-next")
        page.wait_for_selector(f"#ck-position:has-text('Page {index + 1} of {count}')")
        # The module page itself is shown: wait for its heading, since the frame's URL
        # changes before its new document has loaded.
        frame = page.frame(name="ck-frame")
        frame.locator("h1").first.wait_for(state="attached", timeout=15_000)
    assert page.is_disabled("#ck-next")
    page.goto("about:blank")  # unload: the runtime's finish must not throw either


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_bundled_course_tracked_in_lms(page, tmp_path: Path, built_course, version: str) -> None:
    """The real course: every module walked, its quizzes answered through the page UI."""
    require_scorm_again()
    pkg = unzip(
        built_course.out / "scorm" / f"digital-labor-{SUFFIX[version]}.zip", tmp_path / "pkg"
    )
    site, errors = watch_site(page), watch_runtime(page)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        scos = items((pkg / "imsmanifest.xml").read_bytes(), version)
        assert len(scos) == 4
        for item in scos:
            keys, stored, score = walk_sco(page, base, version, item)
            location = stored["core"]["lesson_location"] if version == "1.2" else stored["location"]
            assert location == keys[-1]
            # A module without a quiz is completed by reading it (walk_sco held a score).
            if score is None and version == "1.2":
                assert stored["core"]["lesson_status"] == "completed"
            elif score is None:
                assert stored["completion_status"] == "completed"
            start = launch(page, base, version, item)
            wait_location_set(page, version, keys[-1], start)
            close(page, item, base)
            assert_clean(calls_since(page, start), version)
    # The real site is held to the whole standard: no error on any page it shows.
    assert (errors, site.problems()) == ([], [])


@pytest.mark.slow
def test_no_page_of_the_package_requests_outside_localhost(
    page, tmp_path: Path, built_course
) -> None:
    pkg = unzip(built_course.out / "scorm" / "digital-labor-scorm2004.zip", tmp_path / "pkg")
    problems = watch(page)
    pages = sorted(p.relative_to(pkg).as_posix() for p in pkg.rglob("*.html"))
    assert any(p.startswith("scorm/launch-") for p in pages)
    with serve(pkg) as base:
        for rel in pages:
            page.goto(f"{base}/{rel}", wait_until="load")
    assert problems.external_requests == []


# --- how real LMSs differ: a late API, failures, one store for all SCOs, no cmi.entry -------


def _tiny_lms(page, tmp_path: Path, tiny_zips: Path, version: str):  # type: ignore[no-untyped-def]
    require_scorm_again()
    pkg = unzip(tiny_zips / f"tiny-{SUFFIX[version]}.zip", tmp_path / "pkg")
    return pkg, items((pkg / "imsmanifest.xml").read_bytes(), version)


def _status_of(cmi: dict, version: str) -> str:
    return cmi["core"]["lesson_status"] if version == "1.2" else cmi["completion_status"]


@pytest.mark.parametrize("version", VERSIONS)
def test_api_created_late_is_still_found_and_tracked(
    page, tmp_path: Path, tiny_zips: Path, version: str
) -> None:
    """The LMS exposes its API 300 ms after the SCO started loading (as Open edX does)."""
    pkg, scos = _tiny_lms(page, tmp_path, tiny_zips, version)
    errors = watch_runtime(page)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        start = launch(page, base, version, scos[0], delay=300)
        keys = module_pages(page, version)
        walk(page, version, start)
        assert page.frame(name="sco").text_content("#ck-tracking") == ""  # no "no LMS found"
        stored = close(page, scos[0], base)
        calls = calls_since(page, start)
    assert_clean(calls, version)
    assert _statuses(calls, version)[0] == "incomplete"
    assert _status_of(stored, version) == "completed"
    assert suspend(stored)["seen"] == "1" * len(keys)
    assert errors == []


@pytest.mark.parametrize("version", VERSIONS)
def test_lms_failures_are_logged_and_the_learner_told(
    page, tmp_path: Path, tiny_zips: Path, version: str
) -> None:
    """Initialize and Commit answering "false": the LMS's error is logged and shown."""
    pkg, scos = _tiny_lms(page, tmp_path, tiny_zips, version)
    warnings: list[str] = []
    page.on("console", lambda m: m.type == "warning" and warnings.append(m.text))
    init = CMI[version]["init"]
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        # 1. The API was terminated before the SCO came: its Initialize fails.
        start = launch(page, base, version, scos[0], wait=False, terminated=True)
        message = page.frame_locator("#sco").locator("#ck-tracking[role=status]")
        message.filter(has_text="progress may not be saved").wait_for(timeout=15_000)
        calls = calls_since(page, start)
        assert [(c["method"], c["result"]) for c in calls] == [(init, "false")]
        assert any(f"{init}() failed, LMS error {calls[0]['error']}" in w for w in warnings)
        close(page, scos[0], base)

        # 2. Every commit fails (the LMS's server answers 501): the first one is reported.
        warnings.clear()
        start = launch(page, base, version, scos[0], wait=False, commitUrl=f"{base}/no-commit")
        message.filter(has_text="progress may not be saved").wait_for(timeout=15_000)
        commit = "LMSCommit" if version == "1.2" else "Commit"
        failed = [c for c in calls_since(page, start) if c["result"] == "false"]
        assert failed and failed[0]["method"] == commit and failed[0]["error"] != "0"
        assert any(f"{commit}() failed, LMS error {failed[0]['error']}" in w for w in warnings)
        close(page, scos[0], base)


@pytest.mark.parametrize("version", VERSIONS)
def test_scos_sharing_one_store_never_read_each_others_data(
    page, tmp_path: Path, tiny_zips: Path, version: str
) -> None:
    """One store for the whole package (as Open edX keeps): module 2 starts clean."""
    pkg, scos = _tiny_lms(page, tmp_path, tiny_zips, version)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        start = launch(page, base, version, scos[1], shared=True)
        walk(page, version, start)
        _post_score(page, "second-thoughts", 9, 10)  # passed
        wait_score(page, version, start)
        first = close(page, scos[1], base)
        assert _status_of(first, version) in ("passed", "completed")

        start = launch(page, base, version, scos[0], shared=True)
        keys = module_pages(page, version)
        page.frame(name="ck-frame").wait_for_url(f"**/{keys[0]}", timeout=15_000)
        second = close(page, scos[0], base)
        calls = calls_since(page, start)
    assert_clean(calls, version)
    data = suspend(second)
    assert (data["m"], data["seen"], data["q"]) == ("first-steps", "100", {})
    assert _statuses(calls, version) == ["incomplete"]
    scored = [c for c in calls if "score" in c["args"][0] and c["method"] == CMI[version]["set"]]
    assert scored == []  # module 2's pass is not reported as module 1's
    location = second["core"]["lesson_location"] if version == "1.2" else second["location"]
    assert location == keys[0]
    if version == "2004":
        assert second["success_status"] == "unknown"


@pytest.mark.parametrize("version", VERSIONS)
def test_relaunch_without_cmi_entry_resumes_and_keeps_the_result(
    page, tmp_path: Path, tiny_zips: Path, version: str
) -> None:
    """An LMS that never sets cmi.entry: the SCO resumes from its data all the same."""
    pkg, scos = _tiny_lms(page, tmp_path, tiny_zips, version)
    item = scos[0]
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        start = launch(page, base, version, item, noEntry=True)
        keys = module_pages(page, version)
        walk(page, version, start)
        _post_score(page, "first-steps", 4, 4)
        wait_score(page, version, start)
        sco = page.frame(name="sco")
        sco.click("summary")  # the learner goes back to page 2 through the page list
        back = len(calls_since(page, 0))
        sco.click("#ck-pages a >> nth=1")
        wait_location_set(page, version, keys[1], back)
        close(page, item, base)

        start = launch(page, base, version, item, noEntry=True)
        wait_location_set(page, version, keys[1], start)
        page.frame(name="ck-frame").wait_for_url(f"**/{keys[1]}", timeout=15_000)
        again = close(page, item, base)
        calls = calls_since(page, start)
    entry = "cmi.core.entry" if version == "1.2" else "cmi.entry"
    assert (again["core"]["entry"] if version == "1.2" else again["entry"]) == ""
    assert all(c["args"][:1] != [entry] for c in calls)  # resuming does not depend on it
    assert_clean(calls, version)
    assert _statuses(calls, version) == []  # completed/passed is kept, never "incomplete"
    assert suspend(again)["seen"] == "1" * len(keys)
    if version == "1.2":
        assert (again["core"]["lesson_status"], again["core"]["score"]["raw"]) == ("passed", "100")
    else:
        assert (again["completion_status"], again["success_status"]) == ("completed", "passed")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("mode", ["browse", "review"])
def test_browse_and_review_write_nothing(
    page, tmp_path: Path, tiny_zips: Path, version: str, mode: str
) -> None:
    """As the README says: in these modes the SCO initialises and terminates, nothing else."""
    pkg, scos = _tiny_lms(page, tmp_path, tiny_zips, version)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        start = launch(page, base, version, scos[0], wait=False, mode=mode)
        sco = page.frame_locator("#sco")
        sco.locator(f"#ck-tracking:has-text('not recorded in {mode} mode')").wait_for()
        sco.locator("#ck-next").click()
        sco.locator("#ck-position:has-text('Page 2 of 3')").wait_for()
        _post_score(page, "first-steps", 4, 4)
        close(page, scos[0], base)
        calls = calls_since(page, start)
    methods = {c["method"] for c in calls}
    assert methods == {CMI[version]["init"], CMI[version]["finish"], CMI[version]["get"]}
    assert [c["method"] for c in calls].count(CMI[version]["finish"]) == 1
