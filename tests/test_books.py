"""coursekit on books it did not write: the shapes Jupyter Book 1.x users have.

Each book under `tests/fixtures/books/` was written for these tests in one shape
a teacher's existing book has (a jb-article of MyST Markdown notebooks with maths;
a jb-book with execution off, committed error outputs, old notebooks, label links
and a chapter folder called `modules/`; jupytext `.Rmd` pages; a book in a
sub-folder of its repository). `coursekit check` must report no error on any of
them (Jupyter Book builds them all), and the units must be the book's own parts,
chapters or whole book.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from coursekit.loading import load_course

BOOKS = REPO / "tests" / "fixtures" / "books"
SHAPES = {
    # book folder: [(unit id, title, pages)]
    "article-myst-maths": [("small-article", "Small Article", 3)],
    "book-execution-off": [("calculating", "Calculating", 2), ("practice", "Practice", 1)],
    "book-rmd": [("counting", "Counting", 1), ("summing", "Summing", 1)],
    "repo-with-book/book": [("start", "Start", 2), ("finish", "Finish", 1)],
}


@pytest.mark.parametrize("book", sorted(SHAPES))
def test_check_reports_no_error_on_a_book_jupyter_book_builds(book: str) -> None:
    result = run_cli("check", BOOKS / book)
    assert "Traceback" not in result.stderr
    assert result.returncode == 0, result.stdout
    assert " 0 error(s)" in result.stderr or "clean" in result.stderr


@pytest.mark.parametrize("book", sorted(SHAPES))
def test_units_are_the_books_own_parts_chapters_or_whole(book: str) -> None:
    course = load_course(BOOKS / book).course
    assert [(u.id, u.title, len(u.pages)) for u in course.units] == SHAPES[book]


def test_execution_off_keeps_committed_errors_and_old_formats_as_warnings() -> None:
    result = run_cli("check", "--strict", BOOKS / "book-execution-off")
    codes = sorted({line.split()[1] for line in result.stdout.splitlines()})
    # Not CK205: the book is not executed, so its error outputs are what readers see.
    assert codes == ["CK203", "CK303", "CK304"]
    assert result.returncode == 1  # --strict turns the warnings into a failure


def test_a_folder_called_modules_is_not_coursekits_layout_without_module_yml() -> None:
    course = load_course(BOOKS / "book-execution-off").course
    assert not course.module_layout
    assert [u.source for u in course.units] == ["toc", "toc"]


def test_label_links_resolve_like_sphinx(tmp_path: Path) -> None:
    """`[here](calculator)` to a `(calculator)=` target is a reference; a typo is not."""
    book = tmp_path / "book"
    (book / "chapters").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml", "intro.md"):
        (book / name).write_bytes((BOOKS / "book-execution-off" / name).read_bytes())
    for path in (BOOKS / "book-execution-off").rglob("*.ipynb"):
        target = book / path.relative_to(BOOKS / "book-execution-off")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    intro = book / "intro.md"
    intro.write_text(intro.read_text().replace("](calculator)", "](calculater)"))
    result = run_cli("check", "--select", "CK301", book)
    assert result.stdout.splitlines() == [
        "intro.md:3:27: CK301 link 'calculater' points to nothing (no file calculater)"
    ]


def test_a_book_in_a_sub_folder_is_found_by_the_hint() -> None:
    result = run_cli("check", BOOKS / "repo-with-book")
    assert result.returncode == 1
    assert "the book seems to be in book/" in result.stdout


def test_waivers_in_config_and_on_the_command_line(tmp_path: Path) -> None:
    book = tmp_path / "book"
    book.mkdir()
    (book / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (book / "intro.md").write_text("# Intro\n\n![](a.png)\n\n# Second\n")
    (book / "a.png").write_bytes(b"\x89PNG\r\n")
    (book / "_config.yml").write_text(
        "title: T\ncoursekit:\n  ignore: [CK304]\n  per_file_ignores:\n    '*.md': [CK303]\n"
    )
    assert run_cli("check", "--strict", book).returncode == 0
    (book / "_config.yml").write_text("title: T\n")
    assert run_cli("check", "--strict", "--ignore", "CK303,CK304", book).returncode == 0
    assert run_cli("check", "--strict", "--ignore", "CK303", book).returncode == 1


def _copy_book(tmp_path: Path, name: str) -> Path:
    import shutil

    return Path(shutil.copytree(BOOKS / name, tmp_path / "book"))


@pytest.mark.parametrize(
    ("extension", "package"),
    [
        ("sphinx_no_such_tabs", "sphinx-no-such-tabs"),
        # a namespace package's module is a distribution of its own (not `sphinxcontrib`)
        ("sphinxcontrib.no_such_player", "sphinxcontrib-no-such-player"),
    ],
)
def test_a_missing_book_extension_is_named_with_its_package(
    tmp_path: Path, extension: str, package: str
) -> None:
    book = _copy_book(tmp_path, "repo-with-book/book")
    with (book / "_config.yml").open("a") as config:
        config.write(f"sphinx:\n  extra_extensions: [{extension}]\n")
    result = run_cli("build", "--only", "html", "--no-execute", book)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"the Sphinx extension {extension}" in result.stderr
    assert f"pip install {package}`" in result.stderr


def test_a_missing_notebook_import_is_named_with_its_package(tmp_path: Path) -> None:
    import json

    book = _copy_book(tmp_path, "repo-with-book/book")
    notebook = book / "next-chapter" / "finish.ipynb"
    nb = json.loads(notebook.read_text())
    nb["cells"][1]["source"] = "import sklearn_not_installed_here"
    notebook.write_text(json.dumps(nb))
    result = run_cli("build", "--only", "html", book)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "next-chapter/finish.ipynb: cell 2 failed: ModuleNotFoundError" in result.stderr
    assert "pip install sklearn-not-installed-here" in result.stderr


# A page that loads a script or style sheet from a CDN is not offline (a URL kept in a
# script for a button the page does not show, as sphinx-thebe's, loads nothing).
CDN = re.compile(
    r'(?:src|href)="(?:https?:)?//(?:cdn\.jsdelivr\.net|cdnjs\.cloudflare\.com|unpkg\.com|polyfill\.io)'
)


@pytest.fixture(scope="module", params=sorted(SHAPES))
def built_book(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each fixture book copied and built with `coursekit build` (all outputs)."""
    import shutil

    book = Path(shutil.copytree(BOOKS / request.param, tmp_path_factory.mktemp("b") / "book"))
    result = run_cli("build", book)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    return book


@pytest.mark.slow
def test_each_book_builds_to_an_offline_site_valid_scorm_and_a_pdf(built_book: Path) -> None:
    import zipfile

    from lxml import etree

    from coursekit.packages.scorm.manifest import SCHEMES
    from coursekit.packages.scorm.validate import validate_manifest

    course = load_course(built_book).course
    assert course.config is not None
    html = built_book / "_build" / "html"
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8", errors="replace")
        assert not CDN.search(text), f"{page} loads from a CDN"
    for version, scheme in SCHEMES.items():
        path = built_book / "_build" / "scorm" / f"{course.config.course_id}-{scheme.suffix}.zip"
        with zipfile.ZipFile(path) as zf:
            manifest = zf.read("imsmanifest.xml")
        validate_manifest(manifest, scheme, path.name)  # raises on an invalid manifest
        items = etree.fromstring(manifest).iter("{*}item")
        titles = [i.findtext("{*}title") for i in items]
        assert len(titles) == len(course.units), (version, titles)
    assert (built_book / "_build" / "pdf" / f"{course.config.course_id}.pdf").is_file()


def test_a_bad_execution_setting_is_a_check_error_at_its_line(tmp_path: Path) -> None:
    book = _copy_book(tmp_path, "repo-with-book/book")
    config = book / "_config.yml"
    config.write_text(
        config.read_text().replace("execute_notebooks: auto", "execute_notebooks: sometimes")
    )
    result = run_cli("check", book)
    assert result.returncode == 1
    assert result.stdout.startswith("_config.yml:4:22: CK102 execute.execute_notebooks")


def test_committed_errors_are_content_where_the_book_would_not_run_the_notebook(
    tmp_path: Path,
) -> None:
    """In `auto`, a notebook whose code cells all have outputs is not run: no CK205."""
    book = _copy_book(tmp_path, "book-execution-off")
    config = book / "_config.yml"
    config.write_text(config.read_text().replace('"off"', "auto"))
    assert "CK205" not in run_cli("check", book).stdout
    config.write_text(config.read_text().replace("auto", "force"))
    assert "chapters/errors.ipynb:" in run_cli("check", "--select", "CK205", book).stdout


def test_with_execution_off_the_summary_counts_the_notebooks_shown_as_stored(
    tmp_path: Path,
) -> None:
    book = _copy_book(tmp_path, "book-execution-off")
    result = run_cli("build", book, "--only", "html")
    assert result.returncode == 0, result.stderr
    assert "execute_notebooks is off" in result.stderr
    # Its three notebooks: none run, all shown as committed.
    assert "notebooks executed: 0, unchanged: 0, stored outputs kept: 3;" in result.stderr
