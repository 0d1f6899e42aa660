"""A Jupyter Book 2 course in Chromium: axe-core finds nothing, MathJax typesets offline,
nothing is fetched from outside; and a whole build gives cmi5 and a PDF with its maths.

The book is `tests/fixtures/jb2/book`, built by the real mystmd and rendered by coursekit.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from browser import serve, watch
from conftest import run_cli
from lms.harness import (
    SUFFIX,
    calls_since,
    close,
    items,
    launch,
    module_pages,
    require_scorm_again,
    serve_lms,
    suspend,
    unzip,
    walk,
    watch_runtime,
)
from test_a11y import book_pages, violations
from test_jb2 import BOOK, MYST

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture book after a plain `coursekit build` (every output)."""
    if not MYST.is_file() or shutil.which("node") is None:
        pytest.skip("mystmd or Node.js missing")
    book = tmp_path_factory.mktemp("jb2full") / "book"
    shutil.copytree(BOOK, book)
    result = run_cli("build", book)
    assert result.returncode == 0, result.stdout + result.stderr
    return book / "_build"


def test_the_jb2_site_has_no_axe_violations(full: Path, page) -> None:  # type: ignore[no-untyped-def]
    pages = book_pages(full / "html")
    assert set(pages) == {
        "index.html",
        "intro.html",
        "unit1/overview.html",
        "unit1/numbers.html",
        "unit2/overview.html",
        "unit2/computed.html",
        "exercises/first-steps/doubling.html",
    }
    assert violations(page, full / "html") == {}


def test_maths_is_typeset_offline_and_nothing_comes_from_outside(full: Path, page) -> None:  # type: ignore[no-untyped-def]
    with serve(full / "html") as base:
        seen = watch(page)
        page.goto(f"{base}/unit1/overview.html", wait_until="load")
        page.wait_for_function("document.querySelectorAll('mjx-container').length >= 2")
        count = page.evaluate("document.querySelectorAll('mjx-container').length")
        assert count == 2  # the numbered equation and the inline formula
        assert page.locator("text=\\[").count() == 0
    assert seen.problems() == []


def test_a_whole_build_gives_cmi5_and_a_pdf_with_typeset_maths(full: Path) -> None:
    (cmi5,) = (full / "cmi5").glob("*.zip")
    with zipfile.ZipFile(cmi5) as zf:
        assert "cmi5.xml" in zf.namelist() and "unit1/numbers.html" in zf.namelist()
    (pdf,) = (full / "pdf").glob("*.pdf")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for words in ("Welcome", "Euler’s identity", "Going further", "html-output", "Knuth"):
        assert words in text
    assert "\\[" not in text and "\\(" not in text and "e^{i" not in text
    assert "def double(x):" in text and "the-secret-answer" not in text


def test_the_quiz_of_a_jb2_unit_is_answered_and_scored(full: Path, page) -> None:  # type: ignore[no-untyped-def]
    with serve(full / "html") as base:
        seen = watch(page)
        page.goto(f"{base}/unit2/overview.html", wait_until="load")
        page.check("#ck-further-quiz-size-a")
        page.click("button.ck-submit")
        assert page.locator(".ck-score").inner_text() == "Your score: 1 out of 1 points (100 %)."
        feedback = page.locator("#ck-further-quiz-size .ck-feedback").inner_text()
        assert feedback.startswith("Correct.")
    assert seen.problems() == []


@pytest.mark.parametrize("version", ["1.2", "2004"])
def test_a_jb2_course_is_tracked_in_the_lms_with_the_unit_navigation_only(
    full: Path, page, tmp_path: Path, version: str
) -> None:  # type: ignore[no-untyped-def]
    """scorm-again: every SCO of the course zip walked, its quiz answered through the page;
    inside the frame the site's own navigation is hidden (the unit's bar is the one)."""
    require_scorm_again()
    pkg = unzip(full / "scorm" / f"jb2-fixture-{SUFFIX[version]}.zip", tmp_path / "pkg")
    errors = watch_runtime(page)
    with serve_lms(tmp_path, pkg) as base:
        page.goto(f"{base}/lms/lms.html")
        scos = items((pkg / "imsmanifest.xml").read_bytes(), version)
        assert [s.launch for s in scos] == [
            "scorm/launch-first-steps.html",
            "scorm/launch-going-further.html",
        ]
        for item in scos:
            start = launch(page, base, version, item)
            keys = module_pages(page, version)
            content = page.frame(name="ck-frame")
            # The unit's script hides them once the framed page has loaded: wait for it
            # (a page where that never happens fails here after 10 s).
            nav = ".site-nav, .site-header"
            rendered = "els => els.map(e => e.getClientRects().length === 0)"
            # Both present first: in a frame still loading, no element is "every one hidden".
            hidden = f"els => els.length === 2 && ({rendered})(els).every(Boolean)"
            content.wait_for_function(
                f"() => ({hidden})([...document.querySelectorAll({nav!r})])",
                timeout=10000,
            )
            assert content.eval_on_selector_all(nav, rendered) == [True, True]
            score = walk(page, version, start)
            assert (score is not None) == (item.launch.endswith("going-further.html"))
            if score is not None:
                element = "cmi.core.score.raw" if version == "1.2" else "cmi.score.raw"
                page.wait_for_function(
                    "([el, s]) => window.lms.calls.slice(s).some(c => c.args[0] === el)",
                    arg=[element, start],
                    timeout=10000,
                )
            stored = close(page, item, base)
            assert suspend(stored)["seen"] == "1" * len(keys)
            if score is not None:
                raw = stored["core"]["score"]["raw"] if version == "1.2" else stored["score"]["raw"]
                assert float(raw) in (0.0, 1.0, 100.0)
            assert calls_since(page, start)
    assert errors == []


WIDGET_MODULE = """\
function render({ model, el }) {
  const button = document.createElement("button");
  button.className = "counter";
  const show = () => (button.textContent = `clicked ${model.get("count")} times`);
  button.addEventListener("click", () => {
    model.set("count", model.get("count") + 1);
    model.save_changes();
  });
  model.on("change:count", show);
  show();
  el.appendChild(button);
}
export default { render };
"""
WIDGET_PAGE = """\
# Widgets

```{anywidget} ./counter.mjs
:css: ./counter.css
{"count": 2}
```

```{anywidget} https://example.org/widget.mjs
```
"""


def test_an_anywidget_runs_offline_in_the_site_and_its_unit_zip(tmp_path: Path, page) -> None:  # type: ignore[no-untyped-def]
    """mystmd's {anywidget}: its module (copied into the site as `.js`, which any server
    sends as JavaScript) runs on the directive's state in a shadow root with its style
    sheet; the unit zip carries both; a module on the web is a link, with a warning."""
    if not MYST.is_file() or shutil.which("node") is None:
        pytest.skip("mystmd or Node.js missing")
    book = tmp_path / "book"
    book.mkdir()
    (book / "myst.yml").write_text(
        "version: 1\nproject:\n  title: Widgets\n  toc:\n    - file: index.md\n"
        "    - title: One\n      children:\n        - file: widgets.md\n"
        "    - title: Two\n      children:\n        - file: other.md\n",
        encoding="utf-8",
    )
    (book / "index.md").write_text("# Home\n\nStart.\n", encoding="utf-8")
    (book / "other.md").write_text("# Other\n\nNo widget here.\n", encoding="utf-8")
    (book / "widgets.md").write_text(WIDGET_PAGE, encoding="utf-8")
    (book / "counter.mjs").write_text(WIDGET_MODULE, encoding="utf-8")
    (book / "counter.css").write_text(".counter { color: rgb(0, 128, 0); }\n", "utf-8")
    result = run_cli("build", book, "--only", "scorm")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "an {anywidget} loads its code from https://example.org/widget.mjs" in result.stderr
    (unit_zip,) = [
        z for z in (book / "_build" / "scorm").glob("*-scorm2004.zip") if "-one-" in z.name
    ]
    with zipfile.ZipFile(unit_zip) as zf:
        names = zf.namelist()
    assert any(n.startswith("_media/counter-") and n.endswith(".js") for n in names), names
    assert any(n.startswith("_media/counter-") and n.endswith(".css") for n in names), names
    with zipfile.ZipFile(str(unit_zip).replace("-one-", "-two-")) as zf:
        assert not any(n.startswith("_media/counter-") for n in zf.namelist())
    with serve(book / "_build" / "html") as base:
        seen = watch(page)
        page.goto(f"{base}/widgets.html", wait_until="load")
        button = page.locator(".ck-anywidget button.counter")  # Playwright pierces the shadow root
        assert button.inner_text() == "clicked 2 times"
        button.click()
        button.click()
        assert button.inner_text() == "clicked 4 times"
        assert button.evaluate("b => getComputedStyle(b).color") == "rgb(0, 128, 0)"
        web = page.locator(".anywidget-offline a")
        assert web.get_attribute("href") == "https://example.org/widget.mjs"
    assert seen.problems() == []
