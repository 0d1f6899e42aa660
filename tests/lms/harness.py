"""Helpers of the SCORM tests: a tiny course, and a test LMS driven through Playwright.

The LMS is `lms.html` + `lms.js` beside this file, with the real SCORM API from
`scorm-again` (installed from npm into `node_modules/` by `make test`, pinned in
package-lock.json). `serve_lms` serves it on localhost together with an unzipped
package, so the SCOs and the API share one origin as they do in a real LMS.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree

HERE = Path(__file__).resolve().parent
SCORM_AGAIN = HERE / "node_modules" / "scorm-again" / "dist" / "scorm-again.js"
CP_NS = {
    "1.2": "http://www.imsproject.org/xsd/imscp_rootv1p1p2",
    "2004": "http://www.imsglobal.org/xsd/imscp_v1p1",
}
SUFFIX = {"1.2": "scorm12", "2004": "scorm2004"}
# What each version calls the elements the tests read back.
CMI = {
    "1.2": {
        "location": "cmi.core.lesson_location",
        "set": "LMSSetValue",
        "get": "LMSGetValue",
        "init": "LMSInitialize",
        "finish": "LMSFinish",
    },
    "2004": {
        "location": "cmi.location",
        "set": "SetValue",
        "get": "GetValue",
        "init": "Initialize",
        "finish": "Terminate",
    },
}


def require_scorm_again() -> None:
    """Skip (or fail, under COURSEKIT_REQUIRE_BROWSER) when scorm-again is not installed."""
    if SCORM_AGAIN.is_file():
        return
    message = f"{SCORM_AGAIN} is missing: run `make test` (npm ci in tests/lms)"
    if os.environ.get("COURSEKIT_REQUIRE_BROWSER"):
        pytest.fail(message)
    pytest.skip(message)


# --- a tiny course: two modules, three pages in the first -------------------------------

MODULES = {
    "01-first": ("first-steps", "First steps", ["overview", "second-page", "third-page"]),
    "02-second": ("second-thoughts", "Second thoughts", ["overview"]),
}


def make_tiny_course(root: Path) -> Path:
    """Write a small valid course with two modules at `root`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(
        'title: "Tiny SCORM course"\nauthor: "Tests"\nonly_build_toc_files: true\n'
        "exclude_patterns: [_build]\n"
        "coursekit:\n  id: tiny\n  description: A course for the SCORM tests.\n"
        '  language: en\n  version: "2.1"\n'
        '  scorm:\n    versions: ["1.2", "2004"]\n    mastery_score: 80\n',
        encoding="utf-8",
    )
    (root / "intro.md").write_text("# Tiny SCORM course\n\nWelcome.\n", encoding="utf-8")
    toc = ["format: jb-book", "root: intro", "parts:"]
    for folder, (ident, title, pages) in MODULES.items():
        module = root / "modules" / folder
        module.mkdir(parents=True, exist_ok=True)
        (module / "module.yml").write_text(
            f'id: {ident}\ntitle: "{title}"\nsummary: "A module."\n'
            'objectives:\n  - "Read the pages."\nduration: 10\n',
            encoding="utf-8",
        )
        for name in pages:
            text = f"# {title}: {name.replace('-', ' ')}\n\nSome text about {name}.\n"
            (module / f"{name}.md").write_text(text, encoding="utf-8")
        toc += [
            f'  - caption: "{title}"',
            "    chapters:",
            f"      - file: modules/{folder}/{pages[0]}",
        ]
        if pages[1:]:
            toc.append("        sections:")
            toc += [f"          - file: modules/{folder}/{name}" for name in pages[1:]]
    (root / "_toc.yml").write_text("\n".join(toc) + "\n", encoding="utf-8")
    return root


def build_html(root: Path) -> Path:
    """Build `root` with the real Jupyter Book; returns the HTML folder."""
    out = root / "_out"
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run(
        [str(jb), "build", str(root), "--path-output", str(out)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return out / "_build" / "html"


# --- reading a package the way an LMS does ------------------------------------------------


@dataclass(frozen=True)
class Item:
    identifier: str
    title: str
    launch: str  # zip path of the SCO's launch page


def items(manifest: bytes, version: str) -> list[Item]:
    """The organization's items in order, each with its SCO's launch path."""
    ns = {"cp": CP_NS[version]}
    doc = etree.fromstring(manifest)
    hrefs = {r.get("identifier"): r.get("href") for r in doc.iterfind(".//cp:resource", ns)}
    return [
        Item(
            i.get("identifier"),
            i.findtext("cp:title", namespaces=ns),
            unquote(hrefs[i.get("identifierref")]),
        )
        for i in doc.iterfind(".//cp:organization/cp:item", ns)
    ]


def unzip(zip_path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(dest)
    return dest


@contextmanager
def serve_lms(tmp: Path, package_dir: Path) -> Iterator[str]:
    """Serve the test LMS at /lms/ and the unzipped package at /pkg/ (one origin)."""
    from browser import serve

    site = tmp / "lms-site"
    site.mkdir()
    (site / "lms").symlink_to(HERE, target_is_directory=True)
    (site / "pkg").symlink_to(package_dir, target_is_directory=True)
    with serve(site) as base:
        yield base


def watch_runtime(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Errors raised or logged by the launch pages and the runtime (files under scorm/).

    The site's own pages are Jupyter Book's; their console is not what these tests judge.
    """
    errors: list[str] = []

    def ours(url: str | None) -> bool:
        return bool(url) and ("/scorm/" in url)  # type: ignore[operator]

    page.on("pageerror", lambda e: ours(e.stack) and errors.append(f"{e}\n{e.stack}"))
    page.on(
        "console",
        lambda m: m.type == "error" and ours(m.location.get("url")) and errors.append(m.text),
    )
    return errors


def watch_site(page):  # type: ignore[no-untyped-def]
    """`browser.watch`, with failed loads named by URL (the console only says "404").

    The browser's own /favicon.ico probe is not a request of the site's.
    """
    from browser import watch

    seen = watch(page)

    def failed(response) -> None:  # type: ignore[no-untyped-def]
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            seen.page_errors.append(f"HTTP {response.status}: {response.url}")

    page.on("response", failed)
    seen.console_errors = _NoGeneric404()
    return seen


class _NoGeneric404(list):
    """Console errors, without Chromium's URL-less "Failed to load resource" lines."""

    def append(self, text: str) -> None:  # type: ignore[override]
        if not text.startswith("Failed to load resource"):
            super().append(text)


# --- driving a SCO -----------------------------------------------------------------------


@dataclass
class Session:
    """What one launch of a SCO did, as the tests check it."""

    cmi: dict  # the CMI data the LMS stored when the SCO closed
    calls: list[dict] = field(default_factory=list)  # every API call of this launch
    quiz: tuple[float, float] | None = None  # (raw, max) the quiz pages showed, if any


def module_pages(page, version: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The page keys (zip paths) the launch page lists."""
    sco = page.frame(name="sco")
    return sco.eval_on_selector_all("#ck-pages a", "els => els.map(a => a.dataset.ckPage)")


def launch(page, base: str, version: str, item: Item, wait: bool = True, **options) -> int:  # type: ignore[no-untyped-def]
    """Open `item`'s launch page in the LMS frame, wait until a page is bookmarked.

    `options` go to `lms.launch` (delay, shared, noEntry, terminated: see lms.js).
    Returns the index of this launch's first call in `lms.calls`.
    """
    start = len(calls_since(page, 0))
    url = f"{base}/pkg/{item.launch}"
    page.evaluate("([v, u, o]) => window.lms.launch(v, u, o)", [version, url, options])
    if wait:
        wait_location_set(page, version, None, start)
    return start


def wait_location_set(page, version: str, key: str | None, since: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the SCO bookmarked `key` (any page when None) in calls since `since`."""
    page.wait_for_function(
        "([m, el, key, since]) => window.lms.calls.slice(since).some(c => c.method === m"
        " && c.args[0] === el && (key === null || c.args[1] === key))",
        arg=[CMI[version]["set"], CMI[version]["location"], key, since],
        timeout=15000,
    )


def wait_seen(page, version: str, index: int, since: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the SCO recorded page `index` as seen: it has loaded in the content frame.

    The bookmark alone is not enough: it is set when the page is asked for, before
    it loads (a quiz on it cannot be answered yet, and it is not seen yet).
    """
    page.wait_for_function(
        "([m, index, since]) => window.lms.calls.slice(since).some(c => c.method === m"
        " && c.args[0] === 'cmi.suspend_data' && (JSON.parse(c.args[1] || '{}').seen || '')"
        ".charAt(index) === '1')",
        arg=[CMI[version]["set"], index, since],
        timeout=15000,
    )


def walk(page, version: str, since: int, answer_quizzes: bool = True) -> tuple[float, float] | None:  # type: ignore[no-untyped-def]
    """Go through every page of the SCO with Next, answering quiz forms through their UI."""
    keys = module_pages(page, version)
    sco = page.frame(name="sco")
    total: list[float] | None = None
    for index, key in enumerate(keys):
        if index:
            sco.click("#ck-next")
        wait_location_set(page, version, key, since)
        wait_seen(page, version, index, since)
        content = page.frame(name="ck-frame")
        if answer_quizzes and content.query_selector("form.ck-quiz"):
            raw, mx = answer(content)
            total = [raw, mx] if total is None else [total[0] + raw, total[1] + mx]
    return None if total is None else (total[0], total[1])


def answer(content) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Answer every quiz form on a page (first choice, or 1 for numbers); return its score."""
    raw = mx = 0.0
    for form in content.query_selector_all("form.ck-quiz"):
        for fieldset in form.query_selector_all("fieldset.ck-question"):
            if fieldset.get_attribute("data-type") == "numeric":
                fieldset.query_selector("input").fill("1")
            else:
                fieldset.query_selector("input").check()
        form.query_selector("[type=submit]").click()
        text = form.query_selector(".ck-score").inner_text()
        got = re.search(r"([\d.]+) out of ([\d.]+)", text)
        assert got, f"no score shown after submitting the quiz: {text!r}"
        raw += float(got.group(1))
        mx += float(got.group(2))
    return raw, mx


def close(page, item: Item, base: str) -> dict:  # type: ignore[no-untyped-def]
    """Unload the SCO (as an LMS closing its window would) and return the stored CMI."""
    return page.evaluate("u => window.lms.close(u)", f"{base}/pkg/{item.launch}")


def calls_since(page, start: int) -> list[dict]:  # type: ignore[no-untyped-def]
    return page.evaluate("s => window.lms.calls.slice(s)", start)


def suspend(cmi: dict) -> dict:
    return json.loads(cmi["suspend_data"])


def wait_score(page, version: str, since: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until the SCO sent its quiz score to the LMS (calls since `since`)."""
    element = "cmi.core.score.raw" if version == "1.2" else "cmi.score.raw"
    page.wait_for_function(
        "([el, since]) => window.lms.calls.slice(since).some(c => c.args[0] === el)",
        arg=[element, since],
        timeout=10000,
    )


def assert_clean(calls: list[dict], version: str) -> None:
    """No API call failed, and the SCO initialised and finished exactly once.

    A 2004 GetValue of an element never set answers "" with error 403 ("not
    initialized"): that is how a first launch reads its empty suspend_data.
    """
    failed = [
        c
        for c in calls
        if (c["error"] != "0" or c["result"] == "false")
        and not (c["method"] == "GetValue" and c["error"] == "403")
    ]
    assert failed == []
    assert [c["method"] for c in calls].count(CMI[version]["init"]) == 1
    assert [c["method"] for c in calls].count(CMI[version]["finish"]) == 1


def assert_stored(cmi: dict, version: str, keys: list[str], raw: float, mx: float) -> None:
    """What the LMS stored for a SCO whose pages `keys` were all seen and whose quiz
    scored `raw` of `mx`."""
    passed = raw / mx >= 0.8
    data = suspend(cmi)
    assert data["seen"] == "1" * len(keys)
    if version == "1.2":
        core = cmi["core"]
        assert core["lesson_status"] == ("passed" if passed else "failed")
        assert (float(core["score"]["raw"]), core["score"]["min"], core["score"]["max"]) == (
            round(100 * raw / mx, 4),
            "0",
            "100",
        )
        assert core["lesson_location"] == keys[-1]
        assert core["exit"] == ("" if passed else "suspend")  # a failed quiz may be retaken
        assert re.fullmatch(r"\d{2,4}:\d\d:\d\d(\.\d{1,2})?", core["session_time"])
        assert len(cmi["suspend_data"]) < 4096
    else:
        assert cmi["completion_status"] == "completed"
        assert float(cmi["progress_measure"]) == 1.0
        assert cmi["success_status"] == ("passed" if passed else "failed")
        score = cmi["score"]
        assert (float(score["raw"]), score["min"], float(score["max"])) == (raw, "0", mx)
        assert float(score["scaled"]) == pytest.approx(raw / mx, abs=1e-4)
        assert cmi["location"] == keys[-1]
        assert cmi["exit"] == ("normal" if passed else "suspend")
        assert re.fullmatch(r"PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?", cmi["session_time"])


def walk_sco(  # type: ignore[no-untyped-def]
    page, base: str, version: str, item: Item
) -> tuple[list[str], dict, tuple[float, float] | None]:
    """Launch `item`, walk every page answering its quizzes through the page, close it.

    Holds what every SCO must do: a module's quiz page is answerable and its score
    reaches the LMS (a score exactly when the module has a quiz page), no API call
    fails, every page is recorded as seen, and the stored status and score are the
    quiz's. Returns the page keys, the CMI the LMS stored, and the quiz's (raw, max).
    """
    start = launch(page, base, version, item)
    keys = module_pages(page, version)
    score = walk(page, version, start)
    assert (score is not None) == any(k.endswith("/quiz.html") for k in keys), keys
    if score is not None:
        wait_score(page, version, start)
    stored = close(page, item, base)
    assert_clean(calls_since(page, start), version)
    assert suspend(stored)["seen"] == "1" * len(keys)
    if score is not None:
        assert_stored(stored, version, keys, *score)
    return keys, stored, score
