"""One failing output never costs the others (issue 20, point 4).

A book whose single-page build breaks (a node only the `singlehtml` builder cannot
write) still gets its site and packages, the PDF keeps its previous version, the
cause is named and the exit code is non-zero. And the PDF of a book whose root page
sits in a sub-folder has its style sheets, its images and a title.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest

from conftest import run_cli

BOOKS = Path(__file__).parent / "fixtures" / "books"
BREAK_PDF = "sphinx:\n  local_extensions:\n    one_page_breaks: _ext\n"

pytestmark = [pytest.mark.browser]


def _book(tmp_path: Path) -> Path:
    from browser import require_chromium

    require_chromium()
    return Path(shutil.copytree(BOOKS / "pdf-subfolder-root", tmp_path / "rivers"))


def test_the_pdf_of_a_root_page_in_a_sub_folder_has_its_styles_images_and_a_title(
    tmp_path: Path,
) -> None:
    book = _book(tmp_path)
    result = run_cli("build", "--only", "pdf", book, cwd=book)
    assert result.returncode == 0, result.stderr[-3000:]
    with pikepdf.open(book / "_build/pdf/rivers.pdf") as pdf:
        # `title: ""`: the root page's title, never the local server's URL
        assert str(pdf.docinfo.get("/Title")) == "Rivers of the North"
        first = pdf.pages[0]
        images = [(im.Width, im.Height) for im in first.get_images().values()]
        assert (40, 40) in images  # lectures/images/rivers.png, not a broken image
        content = pikepdf.unparse_content_stream(pikepdf.parse_content_stream(first))
        # _static/custom.css: paragraphs on rgb(255, 250, 205)
        assert re.search(rb"\b1 \.9804 \.8039 rg", content), "the book's style sheet is missing"


def test_a_failing_pdf_keeps_its_last_version_and_the_other_outputs_are_published(
    tmp_path: Path,
) -> None:
    book = _book(tmp_path)
    first = run_cli("build", book, cwd=book)
    assert first.returncode == 0, first.stderr[-3000:]
    out = book / "_build"
    pdf_before = (out / "pdf/rivers.pdf").read_bytes()
    scorm_before = {p.name: p.read_bytes() for p in (out / "scorm").glob("*.zip")}
    assert scorm_before

    (book / "_config.yml").write_text(
        (book / "_config.yml").read_text() + BREAK_PDF, encoding="utf-8"
    )
    (book / "lectures/second.md").write_text(
        "# Lakes\n\nThe lakes come second: Saimaa.\n\n```{river-note}\nRivers feed lakes.\n```\n"
        "\n![](images/rivers.png)\n"  # no alt text: a CK303 warning, no cause of the failure
    )
    result = run_cli("build", book, cwd=book)

    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "pdf failed" in result.stderr
    assert "river_note nodes cannot be written in a single page" in result.stderr
    assert "lectures/second.md:5" in result.stderr  # the page (and line) it came from
    assert "the check warned" not in result.stderr  # the alt text cannot explain it
    assert "the check found 1 other warning(s)" in result.stderr
    assert "html" in result.stderr.rsplit("published:", 1)[-1]
    # the site and the packages have the edit
    assert "Saimaa" in (out / "html/lectures/second.html").read_text(encoding="utf-8")
    scorm_after = {p.name: p.read_bytes() for p in (out / "scorm").glob("*.zip")}
    assert scorm_after.keys() == scorm_before.keys() and scorm_after != scorm_before
    for name in scorm_after:
        with zipfile.ZipFile(out / "scorm" / name) as zipped:
            pages = [n for n in zipped.namelist() if n.endswith("lectures/second.html")]
            assert pages and b"Saimaa" in zipped.read(pages[0]), name
    assert list((out / "cmi5").glob("*.zip"))
    # the PDF is the one of the last good build
    assert (out / "pdf/rivers.pdf").read_bytes() == pdf_before

    # not "up to date": the next build tries the PDF again (and fails again)
    again = run_cli("build", book, cwd=book)
    assert again.returncode == 1 and "pdf failed" in again.stderr


def test_a_package_that_cannot_be_made_costs_only_the_packages(tmp_path: Path) -> None:
    # Two images whose names differ only in case: fine on the site, refused in a zip
    # (Windows and macOS would unpack one over the other): a genuine package defect.
    book = Path(shutil.copytree(BOOKS / "maths-offline", tmp_path / "maths"))
    first = run_cli("build", "--only", "scorm", book, cwd=book)
    assert first.returncode == 0, first.stderr[-3000:]
    out = book / "_build"
    scorm_before = {p.name: p.read_bytes() for p in (out / "scorm").glob("*.zip")}
    image = (BOOKS / "pdf-subfolder-root/lectures/images/rivers.png").read_bytes()
    (book / "Map.png").write_bytes(image)
    (book / "map.png").write_bytes(image)
    with (book / "index.md").open("a", encoding="utf-8") as page:
        page.write("\n![the old map](Map.png)\n\n![the new map](map.png)\n")

    result = run_cli("build", book, cwd=book)

    assert result.returncode == 1, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "scorm failed, its previous version is kept" in result.stderr
    assert "differ only in case" in result.stderr
    assert "the new map" in (out / "html/index.html").read_text(encoding="utf-8")
    assert {p.name: p.read_bytes() for p in (out / "scorm").glob("*.zip")} == scorm_before


LAKE_NOTE = """
from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class lake_note(nodes.Element):
    pass


class LakeNote(SphinxDirective):
    has_content = True

    def run(self):
        node = lake_note()
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def setup(app):
    app.add_node(lake_note, html=(lambda self, node: None, lambda self, node: None))
    app.add_directive("lake-note", LakeNote)
    return {"parallel_read_safe": True}
"""


def test_nodes_with_only_html_visitors_print_beside_sphinx_exercise(tmp_path: Path) -> None:
    # sphinx-exercise registers `singlehtml` visitors for its nodes; Sphinx then no longer
    # falls back on the `html` ones of every other extension (quantecon's hidden cells):
    # the print page must still have them.
    book = _book(tmp_path)
    (book / "_ext" / "lake_note.py").write_text(LAKE_NOTE, encoding="utf-8")
    (book / "_config.yml").write_text(
        (book / "_config.yml").read_text()
        + "sphinx:\n  extra_extensions: [sphinx_exercise]\n"
        + "  local_extensions:\n    lake_note: _ext\n",
        encoding="utf-8",
    )
    with (book / "lectures/second.md").open("a", encoding="utf-8") as page:
        page.write("\n```{lake-note}\nLakes hold Saimaa seals.\n```\n")
    result = run_cli("build", "--only", "pdf", book, cwd=book)
    assert result.returncode == 0, result.stderr[-3000:]
    with pikepdf.open(book / "_build/pdf/rivers.pdf") as pdf:
        assert len(pdf.pages) >= 1
    text = subprocess.run(
        ["pdftotext", str(book / "_build/pdf/rivers.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Lakes hold Saimaa seals." in text
