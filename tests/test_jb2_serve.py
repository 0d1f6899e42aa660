"""`coursekit serve` on a Jupyter Book 2 course: built by mystmd, rebuilt after an edit."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from test_build_serve import _get, serving
from test_jb2 import BOOK, MYST


def test_serve_rebuilds_a_jb2_course_after_an_edit(tmp_path: Path) -> None:
    if not MYST.is_file() or shutil.which("node") is None:
        pytest.skip("mystmd or Node.js missing")
    root = tmp_path / "book"
    shutil.copytree(BOOK, root)
    with serving(root) as (serve, url):
        page = _get(url + "unit1/overview.html")
        assert "Euler’s identity" in page and "/websocket-reload" in page
        overview = root / "unit1" / "overview.md"
        text = overview.read_text(encoding="utf-8")
        overview.write_text(text.replace("the** classic", "the** famous one"), encoding="utf-8")
        serve.read_until(r"rebuilt; the open pages reload")
        assert "<strong>the</strong> famous one" in _get(url + "unit1/overview.html")
