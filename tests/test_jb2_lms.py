"""The bundled course as a Jupyter Book 2 project, in the LMS as its JB1 version is.

mystmd's own upgrade (`myst init`) converts the bundled course; coursekit builds its
SCORM packages with mystmd and its own renderer. They pass the same XSDs and rules,
hold the same SCOs and quiz forms as the JB1 build (`built_course`), and each SCO is
walked in scorm-again with its quizzes answered through the page; in Open edX's
SCORM XBlock (tests/openedx/), the course zip's first unit is read, passed and
completed. Its cmi5 zip's first AU is launched by the cmi5 test LMS (tests/lrs/)
and reports to Ralph as the JB1 course's does.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import uuid
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from coursekit.packages.scorm.manifest import SCHEMES
from coursekit.packages.scorm.validate import check_rules, validate_manifest
from lms.harness import (
    SUFFIX,
    items,
    require_scorm_again,
    serve_lms,
    unzip,
    walk_sco,
    watch_runtime,
)
from lrs.learner import MODULE_1, questions
from lrs.lms import RETURN_PAGE
from lrs.lms import serve_lms as serve_cmi5_lms
from lrs.player import prepare, read_aus, verbs, wait_for_verb
from lrs.player import walk as walk_au
from lrs.ralph_lrs import require_ralph, run_ralph
from openedx.harness import Workbench, require_openedx
from test_cmi5_lrs import _assert_context, _open
from test_jb2 import MYST, convert_bundled_course
from test_scorm_openedx import _leave, _passed, _sco, _wait_stored

pytestmark = pytest.mark.browser
QUIZ_FORM = re.compile(r'<form class="ck-quiz".*?</form>', re.S)


@pytest.fixture(scope="module")
def jb2_scorm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted course's SCORM packages (`coursekit build --only scorm`)."""
    if not MYST.is_file() or shutil.which("node") is None:
        missing = pytest.fail if os.environ.get("COURSEKIT_REQUIRE_BROWSER") else pytest.skip
        missing("mystmd or Node.js missing: `make test` installs mystmd")
    book = convert_bundled_course(tmp_path_factory.mktemp("jb2course") / "course")
    result = run_cli("build", book, "--only", "scorm")
    assert result.returncode == 0, result.stdout + result.stderr
    return book / "_build" / "scorm"


def _quiz_forms(zip_path: Path) -> dict[str, list[str]]:
    """Each page's quiz forms, quotes made straight: Sphinx's smartquotes curl those of
    a page title that a "see" link shows, mystmd leaves them as written."""
    with zipfile.ZipFile(zip_path) as zf:
        pages = [n for n in zf.namelist() if n.endswith(".html")]
        found = {n: QUIZ_FORM.findall(zf.read(n).decode("utf-8")) for n in pages}
    straight = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"})
    return {
        n: [html.unescape(f).translate(straight) for f in forms]
        for n, forms in found.items()
        if forms
    }


@pytest.mark.slow
def test_the_jb2_bundled_course_passes_the_xsds_and_is_tracked_in_the_lms(
    page, tmp_path: Path, built_course, jb2_scorm: Path
) -> None:  # type: ignore[no-untyped-def]
    """Both SCORM versions in one test: the JB2 build is made once (under pytest-xdist,
    two tests could each build it on their own worker)."""
    require_scorm_again()
    for version in ("1.2", "2004"):
        _check_and_walk(page, tmp_path / version, built_course.out / "scorm", jb2_scorm, version)


def _check_and_walk(page, tmp: Path, jb1_scorm: Path, jb2_scorm: Path, version: str) -> None:  # type: ignore[no-untyped-def]
    suffix = SUFFIX[version]
    zips = sorted(jb2_scorm.glob(f"*-{suffix}.zip"))
    jb1 = sorted(jb1_scorm.glob(f"*-{suffix}.zip"))
    assert [z.name for z in zips] == [z.name for z in jb1]  # the course and each unit
    for z in zips:
        with zipfile.ZipFile(z) as zf:
            manifest, names = zf.read("imsmanifest.xml"), zf.namelist()
        validate_manifest(manifest, SCHEMES[version], z.name)
        check_rules(manifest, names, SCHEMES[version], z.name)
    course_zip = jb2_scorm / f"digital-labor-{suffix}.zip"
    # The same quizzes, asking the same questions with the same choices: same results.
    assert _quiz_forms(course_zip) == _quiz_forms(jb1_scorm / course_zip.name)
    pkg = unzip(course_zip, tmp / "pkg")
    with zipfile.ZipFile(jb1_scorm / course_zip.name) as zf:
        jb1_scos = items(zf.read("imsmanifest.xml"), version)
    errors = watch_runtime(page)
    with serve_lms(tmp, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        scos = items((pkg / "imsmanifest.xml").read_bytes(), version)
        assert [s.launch for s in scos] == [s.launch for s in jb1_scos]
        for item in scos:
            walk_sco(page, base, version, item)
    assert errors == []


@pytest.mark.slow
def test_the_jb2_course_is_passed_and_completed_in_open_edx(
    page, tmp_path: Path, jb2_scorm: Path
) -> None:  # type: ignore[no-untyped-def]
    """The JB2 course's SCORM 2004 zip in the XBlock (which creates the API only after
    its page loaded): its first unit walked page by page, never leaving the unit, and
    its quiz passed through the form; the XBlock stores it completed and passed."""
    require_openedx()
    bench = Workbench(tmp_path)
    bench.start()
    try:
        bench.upload(page, "ck-0", jb2_scorm / "digital-labor-scorm2004.zip")
        page.goto(bench.url("ck-0", "jb2-learner"))
        raw, mx = _passed(page, _sco(page), "2004")
        stored = _wait_stored(
            bench,
            "ck-0",
            "jb2-learner",
            lambda s: (s.lesson_status, s.success_status) == ("completed", "passed"),
        )
        _leave(page)
    finally:
        bench.stop()
    assert (stored.lesson_status, stored.success_status) == ("completed", "passed")
    assert stored.lesson_score == pytest.approx(raw / mx)


@pytest.mark.slow
def test_the_jb2_course_s_first_au_reports_its_result_and_answers_to_ralph(
    page, tmp_path: Path, jb2_scorm: Path
) -> None:  # type: ignore[no-untyped-def]
    """The JB2 course's cmi5 zip (packaged in the SCORM fixture's build folder) in the cmi5
    test LMS: its first AU read page by page, its quiz answered right, Exit. Ralph holds
    the session as for the JB1 course, and one "answered" statement per question with
    the objectives it assesses as parents."""
    require_ralph()
    book = jb2_scorm.parent.parent
    # The same converted book and build folder: the book engine re-reads what changed.
    result = run_cli("build", book, "--only", "cmi5")
    assert result.returncode == 0, result.stdout + result.stderr
    with zipfile.ZipFile(book / "_build" / "cmi5" / "digital-labor-cmi5.zip") as zf:
        zf.extractall(tmp_path / "pkg")
    au = read_aus(tmp_path / "pkg")[0]
    assert au.id.endswith(f"/au/{MODULE_1}") and au.mastery is not None
    registration = str(uuid.uuid4())
    with (
        run_ralph(tmp_path / "ralph") as ralph,
        serve_cmi5_lms(tmp_path / "pkg", ralph.url, ralph.auth_token) as lms,
    ):
        launch = prepare(lms, ralph, au, registration)
        problems = _open(page, launch)
        keys = page.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
        walk_au(page, book)
        page.wait_for_function(
            "t => document.getElementById('ck-tracking').textContent === t",
            arg="Done: your result is recorded. Exit returns you to the course.",
        )
        page.click("#ck-exit")
        page.wait_for_url(f"{lms.base}{RETURN_PAGE}")
        found = wait_for_verb(page, ralph, launch, "terminated")
        stored = ralph.statements(registration)
    assert keys[-1].endswith("/quiz.html")  # the unit ends with its quiz, as in JB1
    progressed = ["progressed"] * len(keys)
    assert verbs(found) == ["launched", "initialized", *progressed] + [
        "completed",
        "passed",
        "terminated",
    ]
    _assert_context(found, launch)
    passed = next(s for s in found if verbs([s]) == ["passed"])
    assert passed["result"]["success"] is True and passed["result"]["score"]["scaled"] == 1

    answered = [s for s in stored if verbs([s]) == ["answered"]]
    objective = f"{launch.activity_id}/objective/"
    assert [
        (
            s["object"]["id"].removeprefix(f"{launch.activity_id}/test/module-quiz/question/"),
            [p["id"] for p in s["context"]["contextActivities"].get("parent", [])],
            s["result"]["success"],
        )
        for s in answered
    ] == [(qid, [f"{objective}{n}" for n in numbers], True) for qid, numbers in questions(book)]
    assert problems == []
