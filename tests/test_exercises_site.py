"""The built course: students get the student edition everywhere, teachers get theirs apart.

Uses the session fixture `built_course` (the bundled course built once by `coursekit
build`). A "solution line" is a line inside a solution or mark-scheme region that no
other course file contains, so finding it in the site or a zip can only be a leak.
"""

from __future__ import annotations

import html
import json
import re
import zipfile
from pathlib import Path

import pytest

from coursekit.exercises import read_notebook, solution_lines
from coursekit.exercises.markers import is_test_cell
from coursekit.loading.exercises import load_exercises

pytestmark = pytest.mark.slow
TEXT_SUFFIXES = {".html", ".txt", ".ipynb", ".js", ".json", ".md", ".xml"}


def visible_text(raw: str) -> str:
    """Text a reader would see: tags dropped (code is split into spans), entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", raw))


def secret_lines(root: Path) -> set[str]:
    lines = {
        ln
        for ex in load_exercises(root)
        for ln in solution_lines(read_notebook(ex.file))
        if len(ln) >= 12
    }
    others = "\n".join(
        p.read_text(encoding="utf-8")
        for p in (root / "modules").rglob("*")
        if p.is_file() and p.suffix in {".md", ".ipynb"}
    )
    return {ln for ln in lines if ln not in others}


def leaks(text: str, secrets: set[str]) -> list[str]:
    seen = visible_text(text)
    # Raw, as a reader sees it in HTML, or escaped inside a JSON string (notebooks).
    return sorted(s for s in secrets if s in text or s in seen or json.dumps(s)[1:-1] in text)


def test_each_exercise_has_a_teacher_and_a_student_edition(built_course):
    exercises = load_exercises(built_course.root)
    assert len(exercises) == 4
    for ex in exercises:
        teacher = read_notebook(built_course.out / "exercises" / "teacher" / f"{ex.name}.ipynb")
        student = read_notebook(built_course.out / "exercises" / "student" / f"{ex.name}.ipynb")
        tests = [c for c in teacher["cells"] if is_test_cell(c)]
        assert tests and all(c["execution_count"] for c in tests), ex.name
        assert not [o for c in tests for o in c["outputs"] if o["output_type"] == "error"]
        assert student["metadata"]["coursekit"]["edition"] == "student"
        assert all(not c.get("outputs") for c in student["cells"])


def test_no_solution_reaches_the_site(built_course):
    secrets = secret_lines(built_course.root)
    assert len(secrets) > 20, "the exercises must have solution lines to look for"
    site = built_course.out / "html"
    found = {}
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            hits = leaks(path.read_text(encoding="utf-8", errors="replace"), secrets)
            if hits:
                found[str(path.relative_to(site))] = hits
    assert found == {}
    assert not [p for p in site.rglob("*") if "teacher" in p.name]


def test_no_solution_reaches_the_scorm_zips(built_course):
    secrets = secret_lines(built_course.root)
    zips = sorted((built_course.out / "scorm").glob("*.zip"))
    assert zips, "the build makes SCORM packages"
    found = {}
    for zpath in zips:
        with zipfile.ZipFile(zpath) as z:
            for name in z.namelist():
                if Path(name).suffix in TEXT_SUFFIXES:
                    hits = leaks(z.read(name).decode("utf-8", errors="replace"), secrets)
                    if hits:
                        found[f"{zpath.name}:{name}"] = hits
    assert found == {}


def test_exercise_pages_are_student_editions_and_downloadable(built_course):
    site = built_course.out / "html"
    for ex in load_exercises(built_course.root):
        page = (site / f"exercises/{ex.name}.html").read_text(encoding="utf-8")
        assert "YOUR CODE HERE" in visible_text(page)
        assert "mybinder.org" not in page, "launch buttons would open the teacher notebook"
        download = site / "_sources" / "exercises" / f"{ex.name}.ipynb"
        assert f"_sources/exercises/{ex.name}.ipynb" in page, "the download button"
        nb = json.loads(download.read_text(encoding="utf-8"))
        assert nb["metadata"]["coursekit"] == {"exercise": ex.name, "edition": "student"}
