"""One build reads the course once: the book engine builds from the model the build loaded."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"

# Counts the course loads of the builds it runs; prints the count after each.
COUNT_LOADS = """
import sys
from pathlib import Path

import coursekit.loading
from coursekit.book.sphinx.build import WarmBooks
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course

loads = []
load = coursekit.loading._load


def counted(root, *rest):
    loads.append(root)
    return load(root, *rest)


coursekit.loading._load = counted
root = Path(sys.argv[1])
build_course(root, BuildOptions(), SilentReporter())
print("cold build:", len(loads))
books = WarmBooks()
for text in ("first", "second"):
    page = root / "modules/01-demo/reading.md"
    page.write_text(page.read_text(encoding="utf-8") + text + "\\n", encoding="utf-8")
    build_course(root, BuildOptions(only="html", books=books), SilentReporter())
books.close()
print("after two rebuilds:", len(loads))
print("shows the last edit:", "second" in (root / "_build/html/modules/01-demo/reading.html")
      .read_text(encoding="utf-8"))
"""


def test_a_build_loads_the_course_once(tmp_path: Path) -> None:
    """A cold `coursekit build` (the checks, the site, the PDF's page, the exercises)
    loads the course once; each rebuild of `serve` (a kept Sphinx application) loads
    it once more, and the site shows the sources as they are now."""
    root = Path(shutil.copytree(GOOD, tmp_path / "course"))
    result = subprocess.run(
        [sys.executable, "-c", COUNT_LOADS, str(root)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    assert "cold build: 1" in lines, result.stdout
    assert "after two rebuilds: 3" in lines, result.stdout
    assert "shows the last edit: True" in lines, result.stdout
