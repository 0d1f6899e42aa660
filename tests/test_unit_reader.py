"""Inside the LMS, as a learner: module 1's SCO of the bundled course in scorm-again.

The learner reads part of module 1, answers its quiz and leaves; comes back and sees
their answers, score and place; cannot reach module 2 from inside module 1's frame;
the LMS holds one interaction per answered question, with its objectives, and the
unit's objectives. Then the bar, in a frame 300 px high and on a 390 px phone.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

from browser import serve
from lms.harness import (
    CMI,
    SUFFIX,
    calls_since,
    close,
    items,
    launch,
    require_scorm_again,
    serve_lms,
    unzip,
    wait_seen,
    watch_runtime,
)
from lrs.learner import (
    CITES_MODULE_2,
    MODULE_1,
    assert_cites_module_2_as_reference,
    assert_stays_in_unit,
    checked,
    objectives,
    outside_links,
    questions,
    quiz_rule_course,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]
UNIT = MODULE_1


def _unit_zip(built_course, version: str) -> Path:  # type: ignore[no-untyped-def]
    return built_course.out / "scorm" / f"digital-labor-{UNIT}-{SUFFIX[version]}.zip"


def _answer_right(content) -> str:  # type: ignore[no-untyped-def]
    """Answer every question right through the page's controls; return the score shown."""
    for fieldset in content.query_selector_all("form.ck-quiz fieldset.ck-question"):
        if fieldset.get_attribute("data-type") == "numeric":
            box = fieldset.query_selector("input")
            box.fill(box.get_attribute("data-answer") or "")
        else:
            for choice in fieldset.query_selector_all("input"):
                if choice.get_attribute("data-correct") == "true":
                    choice.check()
    content.click("form.ck-quiz [type=submit]")
    return content.inner_text("form.ck-quiz .ck-score")


def _shown(page, key: str):  # type: ignore[no-untyped-def]
    """The content frame once it shows the page `key`, scoped to the unit."""
    content = page.frame(name="ck-frame")
    content.wait_for_url(f"**/{key}")
    content.wait_for_selector("html[data-ck-unit]", state="attached")
    return content


def _interactions(cmi: dict, version: str) -> list[dict]:
    block = cmi["interactions"]
    rows = block.get("childArray", block) if isinstance(block, dict) else block
    if isinstance(rows, dict):
        rows = [rows[k] for k in sorted((k for k in rows if k.isdigit()), key=int)]
    return list(rows)


def _objective_rows(cmi: dict) -> list[dict]:
    block = cmi["objectives"]
    rows = block.get("childArray", block) if isinstance(block, dict) else block
    if isinstance(rows, dict):
        rows = [rows[k] for k in sorted((k for k in rows if k.isdigit()), key=int)]
    return list(rows)


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_learner_inside_module_1_stays_there_and_is_remembered(
    page, tmp_path: Path, built_course, version: str
) -> None:
    require_scorm_again()
    pkg = unzip(_unit_zip(built_course, version), tmp_path / "pkg")
    errors = watch_runtime(page)
    asked = questions(built_course.root)
    unit_objectives = objectives(built_course.root)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        (item,) = items((pkg / "imsmanifest.xml").read_bytes(), version)
        start = launch(page, base, version, item)
        sco = page.frame(name="sco")
        keys = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
        quiz_index = next(i for i, k in enumerate(keys) if k.endswith("/quiz.html"))
        wait_seen(page, version, 0, start)

        # One navigation system: the book's sidebar, next/previous and search are gone.
        assert_stays_in_unit(page.frame(name="ck-frame"))

        # Read part of the module: every page on the way, and none leads into module 2.
        reached = [0]
        for index in (1, 2):
            sco.click("#ck-next")
            wait_seen(page, version, index, start)
            reached.append(index)
            assert outside_links(page.frame(name="ck-frame")) == []
        # The page that cites module 2 shows it as a reference, naming the module.
        sco.click(".ck-bar summary")
        counting = keys.index(CITES_MODULE_2)
        sco.click(f"#ck-pages a >> nth={counting}")
        assert sco.evaluate("document.querySelector('.ck-bar details').open") is False
        assert_cites_module_2_as_reference(_shown(page, keys[counting]))

        # The quiz, answered right.
        sco.click(".ck-bar summary")
        sco.click(f"#ck-pages a >> nth={quiz_index}")
        content = _shown(page, keys[quiz_index])
        shown = _answer_right(content)
        total = len(asked)
        assert re.search(r"(\d+) out of \1 points", shown), shown
        given = checked(content)
        result = f"cmi.interactions.{total - 1}.result"
        page.wait_for_function(
            "([m, el]) => window.lms.calls.some(c => c.method === m && c.args[0] === el)",
            arg=[CMI[version]["set"], result],
            timeout=15000,
        )
        stored = close(page, item, base)

        # The LMS holds one interaction per answered question, with its objectives.
        rows = _interactions(stored, version)
        assert len(rows) == total
        for row, (qid, numbers) in zip(rows, asked, strict=True):
            assert row["id"].endswith(qid)
            assert row["result"] == "correct"
            ids = [o["id"] for o in _objective_rows(row)]
            assert ids == [f"{UNIT}-objective-{n}" for n in numbers], (qid, ids)
            pattern = _objective_rows({"objectives": row["correct_responses"]})[0]["pattern"]
            assert pattern, qid
            response = row["student_response"] if version == "1.2" else row["learner_response"]
            assert response, qid
        assessed = {n for _, numbers in asked for n in numbers}
        objective_rows = _objective_rows(stored)
        assert [o["id"] for o in objective_rows] == [
            f"{UNIT}-objective-{n}" for n in range(1, len(unit_objectives) + 1)
        ]
        for n, row in enumerate(objective_rows, 1):
            status = row["status"] if version == "1.2" else row["success_status"]
            assert status == (
                "passed" if n in assessed else ("not attempted" if version == "1.2" else "unknown")
            ), (n, row)

        # Back again: the bar says what was scored and where they were, the frame is there,
        # the answers are shown, and the pages seen are marked.
        launch(page, base, version, item)
        sco = page.frame(name="sco")
        sco.wait_for_function(
            "() => /You scored \\d+\\/\\d+ on/"
            ".test(document.getElementById('ck-tracking').textContent)"
        )
        status = sco.inner_text("#ck-tracking")
        assert f"{total}/{total}" in status or re.search(r"(\d+)/\1", status), status
        assert f"page {quiz_index + 1} of {len(keys)}" in status, status
        content = _shown(page, keys[quiz_index])
        content.wait_for_selector("form.ck-quiz.ck-restored")
        assert checked(content) == given
        assert re.search(r"(\d+) out of \1 points", content.inner_text("form.ck-quiz .ck-score"))
        marked = sco.eval_on_selector_all(
            "#ck-pages li.ck-was-seen a", "els => els.map(a => a.dataset.ckPage)"
        )
        assert set(marked) == {keys[i] for i in [*reached, counting, quiz_index]}
        close(page, item, base)
    # No call the LMS refused, in either session (2004's GetValue of an element never set
    # answers "" with 403: an empty value, as on a first launch).
    refused = [
        c
        for c in calls_since(page, start)
        if (c["error"] != "0" or c["result"] == "false")
        and not (c["method"] == "GetValue" and c["error"] == "403")
    ]
    assert refused == []
    assert errors == []


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1000, 300)])
def test_the_bar_keeps_one_row_and_leaves_room_for_the_page(
    browser, built_course, width: int, height: int
) -> None:
    pkg_zip = _unit_zip(built_course, "1.2")
    with serve(unzip(pkg_zip, built_course.root.parent / f"bar-{width}x{height}")) as base:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{base}/scorm/launch-{UNIT}.html")
        boxes = page.evaluate(
            """() => {
                 const box = el => el.getBoundingClientRect().toJSON();
                 const of = id => box(document.getElementById(id));
                 return {'ck-prev': of('ck-prev'), 'ck-position': of('ck-position'),
                         'ck-next': of('ck-next'), 'ck-frame': of('ck-frame'),
                         pages: box(document.querySelector('.ck-bar summary')),
                         bar: box(document.querySelector('.ck-bar'))};
               }"""
        )
        context.close()
    row = [boxes[k] for k in ("ck-prev", "ck-position", "ck-next", "pages")]
    middles = [b["top"] + b["height"] / 2 for b in row]
    assert max(middles) - min(middles) < 8, boxes  # the controls on one row, together
    assert all(b["right"] <= width for b in row), boxes
    assert boxes["ck-next"]["left"] - boxes["ck-prev"]["right"] < 160, boxes
    assert boxes["bar"]["height"] <= 80, boxes  # the bar leaves the frame the rest
    assert boxes["ck-frame"]["height"] >= height - 80, boxes


def test_the_largest_unit_keeps_everything_within_scorm12s_4096_characters(
    page, tmp_path: Path, built_course
) -> None:
    """Every page seen and every question answered at its longest (all boxes ticked, a long
    number typed): the 1.2 suspend_data still holds the answers, and they come back."""
    require_scorm_again()
    units = sorted(
        (p.parent for p in (built_course.root / "modules").glob("*/quiz.yml")),
        key=lambda d: (len(list(d.glob("*.md")) + list(d.glob("*.ipynb"))), len(_quiz_of(d))),
    )
    largest = units[-1]
    pkg = unzip(built_course.out / "scorm" / "digital-labor-scorm12.zip", tmp_path / "pkg")
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        item = next(
            i
            for i in items((pkg / "imsmanifest.xml").read_bytes(), "1.2")
            if (pkg / i.launch).read_text(encoding="utf-8").count(f"modules/{largest.name}/") > 0
        )
        start = launch(page, base, "1.2", item)
        sco = page.frame(name="sco")
        keys = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
        for index, key in enumerate(keys):
            if index:
                sco.click("#ck-next")
            content = _shown(page, key)
            wait_seen(page, "1.2", index, start)
            if content.query_selector("form.ck-quiz"):
                for box in content.query_selector_all("fieldset.ck-question input"):
                    if box.get_attribute("type") == "text":
                        box.fill("-123456789.987654321")
                    else:
                        box.check()  # radios: the last one stays; checkboxes: all of them
                content.click("form.ck-quiz [type=submit]")
                content.wait_for_selector("form.ck-quiz.ck-submitted")
                page.wait_for_function(
                    "() => window.lms.calls.some(c => c.method === 'LMSSetValue'"
                    " && c.args[0] === 'cmi.suspend_data'"
                    " && JSON.parse(c.args[1]).a)"
                )
        stored = close(page, item, base)
        text = stored["suspend_data"]
        assert len(text) <= 4096, len(text)
        data = json.loads(text)
        assert data["seen"] == "1" * len(keys)
        assert len(next(iter(data["a"].values()))) == len(_quiz_of(largest))
        print(f"{largest.name}: suspend_data {len(text)} of 4096 characters")

        launch(page, base, "1.2", item)
        content = _shown(page, next(k for k in keys if k.endswith("/quiz.html")))
        content.wait_for_selector("form.ck-quiz.ck-restored")
        assert content.input_value("fieldset[data-type=numeric] input") == "-123456789.987654321"


def _quiz_of(unit: Path) -> list[dict]:
    import yaml

    return list(yaml.safe_load((unit / "quiz.yml").read_text(encoding="utf-8"))["questions"])


def test_the_bar_speaks_the_books_language(tmp_path: Path, page) -> None:
    """French words from the one catalogue; a language it lacks reads English."""
    from coursekit.packages.scorm.launch import LaunchPage, render

    unit = LaunchPage("u", "Unité", (("modules/u/a.html", "A"), ("modules/u/b.html", "B")))
    (tmp_path / "scorm").mkdir()
    runtime = Path(str(resources.files("coursekit.packages.scorm") / "runtime"))
    for name in ("coursekit-unit.js", "coursekit-scorm.js", "coursekit-scorm.css"):
        (tmp_path / "scorm" / name).write_bytes((runtime / name).read_bytes())
    for language, words in (
        ("fr-FR", ("Précédent", "Suivant", "Page 1 sur 2")),
        ("tlh", ("Previous", "Next", "Page 1 of 2")),
    ):
        html = render(unit, "1.2", 80, language, "c")
        (tmp_path / "scorm" / f"launch-{language}.html").write_text(html, encoding="utf-8")
        with serve(tmp_path) as base:
            page.goto(f"{base}/scorm/launch-{language}.html")
            page.wait_for_function("() => document.getElementById('ck-position').textContent")
            shown = (
                page.inner_text("#ck-prev"),
                page.inner_text("#ck-next"),
                page.inner_text("#ck-position"),
            )
        assert shown == words, language


@pytest.fixture(scope="module")
def quiz_rule_zips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small cmi5 test course, its quiz unit set to `completion: quiz`, as SCORM zips."""
    return quiz_rule_course(tmp_path_factory).out / "scorm"


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_unit_completed_by_its_quiz_needs_not_every_page(
    page, tmp_path: Path, quiz_rule_zips: Path, version: str
) -> None:
    require_scorm_again()
    (zip_path,) = quiz_rule_zips.glob(f"*-reading-{SUFFIX[version]}.zip")
    pkg = unzip(zip_path, tmp_path / "pkg")
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        (item,) = items((pkg / "imsmanifest.xml").read_bytes(), version)
        start = launch(page, base, version, item)
        sco = page.frame(name="sco")
        keys = sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")
        quiz = next(i for i, k in enumerate(keys) if k.endswith("/quiz.html"))
        wait_seen(page, version, 0, start)
        sco.click(".ck-bar summary")
        sco.click(f"#ck-pages a >> nth={quiz}")  # straight to the quiz: page 2 is never read
        content = _shown(page, keys[quiz])
        _answer_right(content)
        page.wait_for_function(
            "([m, el]) => window.lms.calls.some(c => c.method === m && c.args[0] === el)",
            arg=[CMI[version]["set"], "cmi.interactions.2.result"],
        )
        stored = close(page, item, base)
    assert json.loads(stored["suspend_data"])["seen"].count("0") == len(keys) - 2
    if version == "1.2":
        assert stored["core"]["lesson_status"] == "passed"
    else:
        assert (stored["completion_status"], stored["success_status"]) == ("completed", "passed")
