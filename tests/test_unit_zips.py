"""A unit's own zip holds its pages and what they use, and nothing they use is missing.

Each single-SCO zip of the bundled course is unpacked, served on 127.0.0.1 and
every one of its pages opened in Chromium: no request of a page (scripts,
styles, fonts, images, MathJax's components loaded on demand) may fail. The
other units' pages stay out, so the zip is much smaller than the course's.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from browser import serve, watch
from conftest import BuiltCourse

UNITS = [
    "crowdsourcing-to-digital-labor",
    "internet-and-political-power",
    "network-practices",
    "social-networks-versus-privacy",
]


def _zip(built: BuiltCourse, name: str) -> Path:
    return built.out / "scorm" / f"digital-labor-{name}.zip"


@pytest.mark.parametrize("unit", UNITS)
def test_a_unit_zip_holds_its_own_pages_only_and_is_smaller(
    built_course: BuiltCourse, unit: str
) -> None:
    course_zip = _zip(built_course, "scorm12")
    unit_zip = _zip(built_course, f"{unit}-scorm12")
    with zipfile.ZipFile(unit_zip) as zf:
        names = set(zf.namelist())
    with zipfile.ZipFile(course_zip) as zf:
        everything = set(zf.namelist())
    launch = f"scorm/launch-{unit}.html"
    assert [n for n in names if n.startswith("scorm/launch-")] == [launch]
    folders = {n.split("/")[1] for n in names if n.startswith("modules/")}
    assert len(folders) == 1, folders  # its own module folder, no other
    assert not {"index.html", "genindex.html", "search.html", "intro.html"} & names
    assert not [n for n in names if n.endswith(".map")]  # source maps: developer tools only
    assert names - {"imsmanifest.xml"} <= everything
    assert unit_zip.stat().st_size < 0.7 * course_zip.stat().st_size


@pytest.mark.parametrize("unit", UNITS)
def test_every_page_of_a_unit_zip_finds_every_file_it_loads(
    built_course: BuiltCourse, unit: str, page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(_zip(built_course, f"{unit}-scorm2004")) as zf:
        zf.extractall(tmp_path)
        pages = sorted(
            n for n in zf.namelist() if n.endswith(".html") and not n.startswith("scorm/")
        )
    assert pages
    seen = watch(page)
    missing: list[str] = []
    page.on(
        "response",
        lambda r: r.status >= 400 and missing.append(f"{r.status} {r.url}"),
    )
    # A missing file is a 404 (above); a request cut short by the next page's load is not.
    page.on(
        "requestfailed",
        lambda r: "ERR_ABORTED" not in (r.failure or "") and missing.append(f"failed {r.url}"),
    )
    with serve(tmp_path) as base:
        for name in pages:
            page.goto(f"{base}/{name}", wait_until="networkidle")
            page.evaluate("document.fonts.ready.then(() => true)")  # MathJax's fonts too
            assert page.locator("article, main").count() > 0, name
    # favicon requests are the browser's own guess, not something a page asked for
    assert [m for m in missing if not m.endswith("/favicon.ico")] == []
    assert seen.external_requests == []
