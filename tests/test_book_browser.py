"""The built book in Chromium: every page loads offline, without errors.

Walks every TOC page of the bundled course from a localhost server, fails on a
page error, a console error or any request leaving localhost (fonts, MathJax,
CDNs…), and saves a screenshot of each module's first page to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from browser import serve, settle, watch
from conftest import REPO, BuiltCourse
from coursekit.loading import load_course

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = REPO / "test-artifacts" / "book"


def test_every_page_loads_offline_without_errors(built_course: BuiltCourse, page) -> None:
    course = load_course(built_course.root).course
    first_pages = {m.pages[0].docname for m in course.modules if m.pages}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: dict[str, list[str]] = {}
    seen = watch(page)
    with serve(built_course.out / "html") as base:
        for book_page in course.pages:
            response = page.goto(f"{base}/{book_page.docname}.html", wait_until="load")
            assert response is not None and response.ok, book_page.path
            settle(page)
            assert page.locator("article h1").first.inner_text().strip(), book_page.path
            if seen.problems():
                problems[book_page.path] = seen.problems()
                seen.console_errors.clear()
                seen.page_errors.clear()
                seen.external_requests.clear()
            if book_page.docname in first_pages:
                name = book_page.docname.replace("/", "__")
                page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert not problems, "\n".join(f"{p}: {'; '.join(v)}" for p, v in problems.items())
    assert len(list(ARTIFACTS.glob("*.png"))) >= len(first_pages)


def test_search_finds_a_word_of_the_course(built_course: BuiltCourse, page) -> None:
    seen = watch(page)
    with serve(built_course.out / "html") as base:
        page.goto(f"{base}/search.html?q=platform")
        results = page.locator("#search-results li")
        results.first.wait_for(timeout=15_000)
        assert results.count() > 0
    assert not seen.problems(), seen.problems()


def _config(root: Path) -> dict:  # type: ignore[type-arg]
    """The course's `_config.yml`, as Jupyter Book reads it."""
    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")) or {}


def test_reader_features_are_on_notebook_pages(built_course: BuiltCourse, page) -> None:
    course = load_course(built_course.root).course
    notebooks = [
        p for p in course.pages if p.path.endswith(".ipynb") and not p.path.startswith("exercises/")
    ]
    if not notebooks:
        pytest.skip("the bundled course has no notebook page yet")
    with serve(built_course.out / "html") as base:
        seen = watch(page)
        page.goto(f"{base}/{notebooks[0].docname}.html")
        download = page.locator(f'a[href*="_sources/"][href$="{Path(notebooks[0].path).name}"]')
        assert download.count() >= 1, "no download button for the notebook"
        url = download.first.evaluate("a => a.href")
        response = page.request.get(url)
        assert response.ok and b'"cells"' in response.body(), url
        launch = page.locator('a[href*="mybinder.org"], a[href*="colab.research.google.com"]')
        repo = (_config(built_course.root).get("repository") or {}).get("url")
        if repo:
            assert launch.count() >= 1, "no launch button"
            assert page.locator(f'a[href^="{repo}"]').count() >= 1, "no repository link"
        else:  # without a repository a launch button or repository link leads nowhere
            assert launch.count() == 0, "a launch button, but no repository to launch"
            placeholder = page.locator('a[href*="github.com/coursekit/coursekit"]')
            assert placeholder.count() == 0, "a link to a placeholder repository"
    assert not seen.problems(), seen.problems()
