"""`coursekit new module` on a TOC without parts: `jupyter-book create`'s starter and the like.

Such a book's units are its top-level chapters, so the new module becomes one more
chapter; the existing chapters, and the file's comments, stay as they were.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from coursebuilder import make_course, snapshot
from coursekit.loading import load_course

JUPYTER_BOOK = Path(sys.executable).parent / "jupyter-book"


def test_a_jupyter_book_create_starter_gets_the_module_as_a_chapter(tmp_path: Path) -> None:
    root = tmp_path / "book"
    subprocess.run([JUPYTER_BOOK, "create", root], check=True, capture_output=True, timeout=300)
    toc_before = (root / "_toc.yml").read_text(encoding="utf-8")
    assert "parts:" not in toc_before and "chapters:" in toc_before  # what the test is about
    chapters_before = yaml.safe_load(toc_before)["chapters"]
    checked_before = run_cli("check", root)

    made = run_cli("new", "module", "Second steps", "--path", root)
    assert made.returncode == 0, made.stderr

    toc_text = (root / "_toc.yml").read_text(encoding="utf-8")
    assert toc_text.startswith(toc_before.rstrip("\n"))  # comments and chapters kept, in place
    toc = yaml.safe_load(toc_text)
    assert "parts" not in toc
    assert toc["chapters"] == [*chapters_before, {"file": "modules/01-second-steps/overview"}]
    # The scaffold adds no finding to what the starter already had.
    checked_after = run_cli("check", root)
    assert checked_after.stdout == checked_before.stdout
    assert checked_after.returncode == checked_before.returncode
    # Jupyter Book's own TOC parser takes it and finds the page.
    from sphinx_external_toc.parsing import parse_toc_yaml

    site_map = parse_toc_yaml(root / "_toc.yml")
    assert "modules/01-second-steps/overview" in list(site_map)


@pytest.mark.slow
def test_a_module_added_as_a_chapter_is_its_own_sco(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: modules/01-demo/overview\n",
        encoding="utf-8",
    )
    made = run_cli("new", "module", "Second steps", "--path", root)
    assert made.returncode == 0, made.stderr
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["chapters"] == [
        {"file": "modules/01-demo/overview"},
        {"file": "modules/02-second-steps/overview"},
    ]
    built = run_cli("build", root, "--only", "scorm", "--strict")
    assert built.returncode == 0, built.stdout + built.stderr
    page = root / "_build/html/modules/02-second-steps/overview.html"
    assert "Second steps" in page.read_text(encoding="utf-8")
    # The course's package (both units), beside each unit's own.
    package = root / "_build/scorm" / f"{load_course(root).course.config.course_id}-scorm2004.zip"
    with zipfile.ZipFile(package) as zf:
        manifest = zf.read("imsmanifest.xml").decode()
    assert "scorm/launch-demo.html" in manifest
    assert "scorm/launch-second-steps.html" in manifest


def test_an_article_or_a_flow_list_is_refused_and_left_alone(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {})
    for toc in (
        "format: jb-article\nroot: intro\nsections:\n  - file: modules/01-demo/overview\n",
        "format: jb-book\nroot: intro\nchapters: [{file: modules/01-demo/overview}]\n",
    ):
        (root / "_toc.yml").write_text(toc, encoding="utf-8")
        before = snapshot(root)
        refused = run_cli("new", "module", "Second steps", "--path", root)
        assert refused.returncode == 1
        assert "add the module by hand" in refused.stderr
        assert "modules/02-second-steps/overview" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert snapshot(root) == before
