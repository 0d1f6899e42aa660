"""`coursekit build` on the bundled course: every TOC page, its title, the bibliography."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from conftest import BuiltCourse
from coursekit.loading import load_course

pytestmark = pytest.mark.slow


def _html(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _title(html: str) -> str:
    match = re.search(r"<title>(.*?)</title>", html, re.S)
    assert match, "page has no <title>"
    return unescape(match.group(1)).strip()


def test_the_build_says_what_it_built(built_course: BuiltCourse) -> None:
    err = built_course.result.stderr
    summary = re.search(r"built in [\d.]+ s \((.*)\)", err)
    assert summary, err
    for stage in ("load and check", "execute", "exercises", "book", "package", "pdf"):
        assert re.search(rf"{stage} [\d.]+ s", summary.group(1)), stage
    for output in ("html", "scorm", "cmi5", "exercises", "pdf"):
        assert re.search(rf"{re.escape(str(built_course.out / output))}  [\d.]+ MB", err)


def test_the_build_prints_no_library_chatter(built_course: BuiltCourse) -> None:
    # The book theme's a11y-pygments sets the root logger to INFO when imported; nbclient's
    # "Executing notebook with kernel" lines then appeared in the middle of the build.
    # A kernel prints its "To connect another client" banner when it thinks it runs alone.
    chatter = [
        line
        for line in built_course.result.stderr.splitlines()
        if " INFO " in line or "connect another client" in line
    ]
    assert chatter == []


def test_progress_names_every_notebook_it_runs(built_course: BuiltCourse) -> None:
    # Not a terminal here, so one plain line per notebook started and finished.
    course = load_course(built_course.root).course
    notebooks = [
        p.path
        for p in course.pages
        if p.path.endswith(".ipynb") and not p.path.startswith("exercises/")
    ]
    total = len(notebooks)
    for notebook in notebooks:
        assert f"executing {notebook} [" in built_course.result.stderr
        assert re.search(
            rf"executed {re.escape(notebook)} in [\d.]+ s \[\d+/{total}\]",
            built_course.result.stderr,
        )


def test_the_book_stage_executes_nothing_itself(built_course: BuiltCourse) -> None:
    # Every notebook came from the execute stage's cache; myst-nb ran none of them.
    assert "notebooks executed:" in built_course.result.stderr
    assert "the book stage executed a notebook itself" not in built_course.result.stderr


def _heading(root: Path, path: str) -> str | None:
    """The page's first `# ` heading, from Markdown or a notebook's markdown cells."""
    if path.endswith(".ipynb"):
        cells = json.loads((root / path).read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = (root / path).read_text(encoding="utf-8")
    text = re.sub(r"^(```|~~~).*?^\1", "", text, flags=re.M | re.S)  # not in code fences
    match = re.search(r"^# (.+)$", text, re.M)
    return match.group(1) if match else None


def _plain(text: str) -> str:
    """Markup, roles and typographic quotes out, to compare a heading with a <title>."""
    text = re.sub(r"\{[^}]+\}`([^`]*)`", r"\1", text)
    text = re.sub(r"[`*_]", "", text)
    return text.translate(str.maketrans("“”‘’–—", "\"\"''--")).strip()


def test_every_toc_page_is_built_with_its_title(built_course: BuiltCourse) -> None:
    course = load_course(built_course.root).course
    assert course.pages, "the bundled course has no pages"
    for page in course.pages:
        html_file = built_course.out / "html" / f"{page.docname}.html"
        assert html_file.is_file(), f"{page.path} was not built"
        heading = _heading(built_course.root, page.path)
        assert heading, f"{page.path} has no title heading"
        title = _plain(_title(_html(html_file)))
        assert title.startswith(_plain(heading)[:30]), (page.path, title, heading)


def test_the_bibliography_resolves(built_course: BuiltCourse) -> None:
    html_dir = built_course.out / "html"
    pages = list(html_dir.rglob("*.html"))
    unresolved = [p for p in pages if re.search(r'class="[^"]*problematic', _html(p))]
    assert not unresolved, f"unresolved references in {unresolved}"
    bibliography = _html(html_dir / "bibliography.html")
    entries = re.findall(r'<div class="citation"', bibliography)
    assert entries, "the bibliography page lists no entry"
    # sphinxcontrib-bibtex warns (and leaves the citation out) for an unknown key.
    assert "could not find bibtex key" not in built_course.result.stderr


def test_the_sources_are_left_untouched(built_course: BuiltCourse) -> None:
    written = [
        p
        for p in built_course.root.rglob("*")
        if p.name in {"__pycache__", ".ipynb_checkpoints", "jupyter_execute", ".doctrees"}
        and "_build" not in p.relative_to(built_course.root).parts
    ]
    assert not written, f"the build wrote into the sources: {written}"
