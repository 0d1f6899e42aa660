"""Offline means offline: maths typesets with no network, and what still leaves is listed.

The fixture books under tests/fixtures/books/ are built by the real CLI and their
pages opened in Debian's Chromium with every request leaving localhost blocked.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from browser import serve, watch
from conftest import run_cli

BOOKS = Path(__file__).parent / "fixtures" / "books"


def _built(tmp_path: Path, name: str, *args: str) -> Path:
    book = Path(shutil.copytree(BOOKS / name, tmp_path / name))
    result = run_cli("build", *args, book, cwd=book)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return book


@pytest.mark.browser
def test_maths_with_tex_extensions_typesets_offline_despite_a_cdn_mathjax_path(
    tmp_path: Path, page
) -> None:
    # The book sets `mathjax_path` to a CDN and its own extension sets it again later.
    book = _built(tmp_path, "maths-offline", "--only", "html")
    html = (book / "_build/html/colours.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "cdnjs" not in html
    seen = watch(page)  # every request leaving 127.0.0.1 is aborted (and recorded)
    with serve(book / "_build/html") as base:
        page.goto(f"{base}/colours.html", wait_until="load")
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        page.wait_for_load_state("networkidle")
        formulas = page.locator("mjx-container")
        # 3 inline formulas and 1 display formula, none of them an error box
        assert formulas.count() == 4, page.content()[:3000]
        assert page.locator("mjx-merror").count() == 0
        assert page.locator("mjx-container mjx-mi").count() > 0
    assert not seen.external_requests and not seen.page_errors, seen.problems()
