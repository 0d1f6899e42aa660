"""The book's own execution settings, as Jupyter Book 1.x reads them, on tiny real books.

Fixture books: tests/fixtures/books/{exec-modes,allow-errors,cell-tags,myst-md,jupytext}.
Each test copies one to a temporary folder, and runs the real execute stage
(worker processes, kernels, jupyter-cache) and the real book stage (Jupyter
Book / Sphinx) on it, as `coursekit build` does, or `coursekit build` itself
where the book passes `coursekit check` today.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from coursebuilder import write_notebook
from coursekit.book.sphinx.build import BookResult, build_book
from coursekit.errors import BuildError
from coursekit.execute.notebooks import (
    ExecuteEvent,
    ExecuteResult,
    NotebookSelection,
    cache_folder,
    execute_notebooks,
    select_notebooks,
)
from coursekit.execute.settings import ExecuteSettings, SettingsError, execute_settings
from coursekit.loading import load_course

# The book stage runs in this process here; a book extension's deprecation notice
# (docutils' traverse → findall) must not become an error, as it is not in the CLI.
pytestmark = pytest.mark.filterwarnings("ignore:nodes.Node.traverse:PendingDeprecationWarning")

BOOKS = Path(__file__).parent / "fixtures" / "books"
EXEC_MODES_PAGES = ["intro.md", "stored.ipynb", "empty.ipynb", "failing.ipynb"]
BOOK_RAN_IT = "the book stage executed a notebook itself"


def copy_book(name: str, tmp_path: Path, **execute: object) -> Path:
    """Copy fixture book `name`, with `execute:` keys of its `_config.yml` replaced."""
    root = Path(shutil.copytree(BOOKS / name, tmp_path / name))
    if execute:
        config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
        config.setdefault("execute", {}).update(execute)
        (root / "_config.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return root


def settings_of(root: Path) -> ExecuteSettings:
    return execute_settings(yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8")))


def run_execute(
    root: Path, pages: list[str], events: list[ExecuteEvent] | None = None
) -> tuple[NotebookSelection, ExecuteResult | None]:
    """The execute stage as `coursekit build` runs it (two notebooks at once)."""
    settings = settings_of(root)
    selection = select_notebooks(root, pages, settings)
    if settings.mode == "off":
        return selection, None
    result = execute_notebooks(
        root,
        selection.run,
        cache_folder(root, root / "_build", settings),
        jobs=2,
        timeout=settings.timeout,
        on_event=(events if events is not None else []).append,
        settings=settings,
    )
    return selection, result


def run_book(root: Path, selection: NotebookSelection) -> BookResult:
    """The book stage as `coursekit build` runs it, after `run_execute`."""
    settings = settings_of(root)
    out = root / "_build"
    return build_book(
        root,
        out / "work",
        cache_dir=None if settings.mode == "off" else cache_folder(root, out, settings),
        key="test",
        kept=selection.kept,
    )


def page(result: BookResult, name: str) -> str:
    return (result.html_dir / f"{name}.html").read_text(encoding="utf-8")


# ------------------------------------------------------------- reading the settings


def test_jupyter_book_defaults_apply_when_the_book_says_nothing() -> None:
    settings = execute_settings({"title": "A book"})
    assert (settings.mode, settings.allow_errors, settings.timeout) == ("auto", False, 30)
    assert settings.exclude_patterns == () and settings.custom_formats == ()


def test_a_bare_off_in_yaml_means_off() -> None:
    # YAML 1.1 reads `off` as false; Jupyter Book takes it as "off", so must we.
    raw = yaml.safe_load("execute:\n  execute_notebooks: off\n")
    assert execute_settings(raw).mode == "off"


def test_sphinx_config_wins_over_the_execute_section_as_in_jupyter_book() -> None:
    raw = yaml.safe_load(
        "execute:\n  execute_notebooks: cache\n  timeout: 60\n"
        "sphinx:\n  config:\n    nb_execution_mode: force\n    nb_execution_allow_errors: true\n"
        "    nb_custom_formats:\n      .Rmd: [jupytext.reads, {fmt: Rmd}]\n"
        "      .myst: jupytext.reads\n"
    )
    settings = execute_settings(raw)
    assert (settings.mode, settings.allow_errors, settings.timeout) == ("force", True, 60)
    formats = {f.suffix: (f.reader, dict(f.kwargs)) for f in settings.custom_formats}
    assert formats == {".Rmd": ("jupytext.reads", {"fmt": "Rmd"}), ".myst": ("jupytext.reads", {})}


def test_every_bad_setting_is_named_with_its_keys() -> None:
    raw = {"execute": {"execute_notebooks": "sometimes", "timeout": "long"}}
    with pytest.raises(SettingsError) as caught:
        execute_settings(raw)
    assert [p.keys for p in caught.value.problems] == [
        ("execute", "execute_notebooks"),
        ("execute", "timeout"),
    ]


def test_a_bad_setting_stops_the_build_with_the_key_and_no_traceback(tmp_path: Path) -> None:
    root = copy_book("myst-md", tmp_path, execute_notebooks="sometimes")
    result = run_cli("build", root, "--only", "html")
    assert result.returncode == 1
    # A check error now, at its line, before anything is built.
    assert "CK102 execute.execute_notebooks: must be one of off, auto" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_cache_is_the_configured_one_only_inside_the_output_folder(tmp_path: Path) -> None:
    out = tmp_path / "_build"
    inside = ExecuteSettings(cache="_build/my_cache")
    outside = ExecuteSettings(cache="../shared_cache")
    assert cache_folder(tmp_path, out, inside) == out / "my_cache"
    assert cache_folder(tmp_path, out, outside) == out / ".jupyter_cache"
    assert cache_folder(tmp_path, out, ExecuteSettings()) == out / ".jupyter_cache"


# ------------------------------------------------------------------ the four modes


def test_off_runs_nothing_and_shows_committed_outputs_errors_included(tmp_path: Path) -> None:
    root = copy_book("exec-modes", tmp_path)  # execute_notebooks: "off"
    selection, result = run_execute(root, EXEC_MODES_PAGES)
    book = run_book(root, selection)
    assert result is None and not (root / "_build" / ".jupyter_cache").exists()
    assert "STORED-OUTPUT" in page(book, "stored") and "RUN-FRESH" not in page(book, "stored")
    assert "RAN-EMPTY" not in page(book, "empty")
    assert "ZeroDivisionError" in page(book, "failing")
    assert not [w for w in book.warnings if BOOK_RAN_IT in w]


def test_auto_runs_only_the_notebooks_missing_outputs(tmp_path: Path) -> None:
    root = copy_book("exec-modes", tmp_path, execute_notebooks="auto")
    selection, result = run_execute(root, EXEC_MODES_PAGES)
    book = run_book(root, selection)
    assert result is not None and result.executed == ("empty.ipynb",)
    assert selection.kept == ("stored.ipynb", "failing.ipynb")
    assert "RAN-EMPTY" in page(book, "empty")
    assert "STORED-OUTPUT" in page(book, "stored") and "RUN-FRESH" not in page(book, "stored")
    assert "ZeroDivisionError" in page(book, "failing")
    assert not [w for w in book.warnings if BOOK_RAN_IT in w]


def test_cache_runs_all_but_the_excluded_and_reuses_unchanged_runs(tmp_path: Path) -> None:
    root = copy_book(
        "exec-modes", tmp_path, execute_notebooks="cache", exclude_patterns=["failing.ipynb"]
    )
    selection, first = run_execute(root, EXEC_MODES_PAGES)
    book = run_book(root, selection)
    assert first is not None and sorted(first.executed) == ["empty.ipynb", "stored.ipynb"]
    assert selection.kept == ("failing.ipynb",)
    assert "RUN-FRESH" in page(book, "stored") and "STORED-OUTPUT" not in page(book, "stored")
    assert "ZeroDivisionError" in page(book, "failing")  # excluded: its committed error shows
    assert not [w for w in book.warnings if BOOK_RAN_IT in w]
    _selection, second = run_execute(root, EXEC_MODES_PAGES)
    assert second is not None and second.executed == ()
    assert sorted(second.cached) == ["empty.ipynb", "stored.ipynb"]


def test_force_runs_every_notebook_on_every_build(tmp_path: Path) -> None:
    root = copy_book(
        "exec-modes", tmp_path, execute_notebooks="force", exclude_patterns=["*/failing.*"]
    )
    _selection, first = run_execute(root, EXEC_MODES_PAGES)
    _selection, second = run_execute(root, EXEC_MODES_PAGES)
    for result in (first, second):
        assert result is not None and sorted(result.executed) == ["empty.ipynb", "stored.ipynb"]


def test_force_is_never_up_to_date_from_the_command_line(tmp_path: Path) -> None:
    root = copy_book("myst-md", tmp_path, execute_notebooks="force")
    for _run in range(2):
        result = run_cli("build", root, "--only", "html")
        assert result.returncode == 0, result.stderr
        assert "notebooks executed: 1, unchanged: 0" in result.stderr


def test_a_page_that_forces_its_own_execution_runs_once_per_build_and_shows_that_run(
    tmp_path: Path,
) -> None:
    # forced.md says `mystnb: execution_mode: force` (myst-nb used to run it again in the
    # book stage, after the execute stage), unrun.md says `off`; the book says nothing (auto).
    root = copy_book("page-execution-mode", tmp_path)
    runs = root / "_build" / "forced-runs.txt"  # the page adds an x at each run
    for build in (1, 2):
        result = run_cli("build", root, "--only", "html")
        assert result.returncode == 0, result.stderr
        assert BOOK_RAN_IT not in result.stderr + result.stdout
        assert "executed forced.md" in result.stderr and "unrun.md" not in result.stderr
        assert runs.read_text(encoding="utf-8") == "x" * build
        html = (root / "_build" / "html" / "forced.html").read_text(encoding="utf-8")
        assert "ran-at-build-42" in html and f"runs so far: {build}" in html
        unrun = (root / "_build" / "html" / "unrun.html").read_text(encoding="utf-8")
        assert "ran-unrun-" in unrun and "ran-unrun-42" not in unrun


def test_a_failing_cell_still_stops_the_build_with_notebook_cell_and_error(
    tmp_path: Path,
) -> None:
    root = copy_book("exec-modes", tmp_path, execute_notebooks="cache")
    with pytest.raises(BuildError, match=r"failing\.ipynb: cell 3 failed: ZeroDivisionError"):
        run_execute(root, EXEC_MODES_PAGES)


def test_the_books_timeout_stops_a_slow_cell(tmp_path: Path) -> None:
    root = copy_book("exec-modes", tmp_path, execute_notebooks="force", timeout=1)
    write_notebook(root / "empty.ipynb", "Slow", "import time; time.sleep(5)")
    with pytest.raises(BuildError, match=r"empty\.ipynb: cell 2 did not finish within the 1 s"):
        run_execute(root, ["empty.ipynb"])


@pytest.mark.parametrize("in_temp", [False, True])
def test_run_in_temp_runs_a_notebook_away_from_its_folder(tmp_path: Path, in_temp: bool) -> None:
    root = copy_book("exec-modes", tmp_path, execute_notebooks="force", run_in_temp=in_temp)
    write_notebook(root / "empty.ipynb", "Writes", "open('made-here.txt', 'w').close()")
    run_execute(root, ["empty.ipynb"])
    assert (root / "made-here.txt").exists() is not in_temp


# ------------------------------------------------------------ errors the book allows


def test_allow_errors_shows_the_error_and_runs_on(tmp_path: Path) -> None:
    root = copy_book("allow-errors", tmp_path)
    selection, result = run_execute(root, ["intro.md", "errors.ipynb"])
    book = run_book(root, selection)
    assert result is not None and result.executed == ("errors.ipynb",)
    html = page(book, "errors")
    assert "ZeroDivisionError" in html and "AFTER-ERROR" in html


def test_cell_tags_allow_an_expected_error_and_skip_a_cell(tmp_path: Path) -> None:
    root = copy_book("cell-tags", tmp_path)  # force mode, errors not allowed
    selection, result = run_execute(root, ["intro.md", "tags.ipynb"])
    book = run_book(root, selection)
    assert result is not None and result.executed == ("tags.ipynb",)
    html = page(book, "tags")
    assert "EXPECTED-FAILURE" in html and "AFTER-TAGS" in html  # raises-exception
    assert "MUST-NOT-RUN" not in html and "SKIPPED-CELL-OUTPUT" in html  # skip-execution


# ---------------------------------------------------------------- text notebooks


def test_a_myst_markdown_notebook_runs_in_the_execute_stage_not_the_book(tmp_path: Path) -> None:
    root = copy_book("myst-md", tmp_path)  # no `execute:` at all: auto
    result = run_cli("build", root, "--only", "html")
    assert result.returncode == 0, result.stderr
    assert "executed growth.md" in result.stderr
    assert BOOK_RAN_IT not in result.stderr + result.stdout
    html = (root / "_build" / "html" / "growth.html").read_text(encoding="utf-8")
    assert "MD-NOTEBOOK-225.0" in html


def test_a_failing_cell_of_a_markdown_notebook_names_cell_line_and_error(
    tmp_path: Path,
) -> None:
    root = copy_book("myst-md", tmp_path)
    growth = root / "growth.md"
    growth.write_text(
        growth.read_text(encoding="utf-8").replace("rate, years = 0.5, 2", "rate = 1 / 0"),
        encoding="utf-8",
    )
    result = run_cli("build", root, "--only", "html")
    assert result.returncode == 1
    assert (
        "growth.md: cell 2 (line 21) failed: ZeroDivisionError: division by zero" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_jupytext_pages_run_in_parallel_and_the_book_finds_them_cached(tmp_path: Path) -> None:
    root = copy_book("jupytext", tmp_path)
    events: list[ExecuteEvent] = []
    selection, result = run_execute(root, ["intro.md", "chunks.Rmd", "script.py"], events)
    book = run_book(root, selection)
    assert result is not None and sorted(result.executed) == ["chunks.Rmd", "script.py"]
    assert [e.kind for e in events] == ["start", "start", "done", "done"]  # side by side
    assert "RMD-CHUNK" in page(book, "chunks") and "PY-PERCENT" in page(book, "script")
    assert not [w for w in book.warnings if BOOK_RAN_IT in w]


def test_a_failing_chunk_of_an_rmd_page_names_page_cell_and_error(tmp_path: Path) -> None:
    root = copy_book("jupytext", tmp_path)
    chunks = root / "chunks.Rmd"
    chunks.write_text(
        chunks.read_text(encoding="utf-8").replace('"-".join(words)', "undefined_name"),
        encoding="utf-8",
    )
    with pytest.raises(BuildError, match=r"chunks\.Rmd: cell 3 failed: NameError: name "):
        run_execute(root, ["chunks.Rmd"])


# ------------------------------------- whole builds of the books of tests/test_books.py

OUTPUT = re.compile(
    r'class="cell_output docutils container">\s*<div class="output[^"]*">(.*?)</div>', re.S
)

WHOLE_BOOKS = {
    # book: (execute_notebooks, notebooks the execute stage runs, page, an output it shows)
    "article-myst-maths": ("force", 2, "growth", "[100, 125, 156, 195]"),
    "book-execution-off": ("off", 0, "chapters/errors", "ZeroDivisionError: division by zero"),
    "book-rmd": ("cache", 2, "summing", "45"),
}


@pytest.mark.parametrize("book", sorted(WHOLE_BOOKS))
def test_a_book_builds_its_site_and_packages_as_its_settings_say(book: str, tmp_path: Path) -> None:
    mode, runs, name, shown = WHOLE_BOOKS[book]
    root = Path(shutil.copytree(BOOKS / book, tmp_path / book))
    assert settings_of(root).mode == mode
    # --only scorm: the site and both packages (the exercise editions are not the point here).
    result = run_cli("build", root, "--only", "scorm")
    assert result.returncode == 0, result.stderr
    assert f"notebooks executed: {runs}, unchanged: 0" in result.stderr
    assert BOOK_RAN_IT not in result.stderr
    html = (root / "_build" / "html" / f"{name}.html").read_text(encoding="utf-8")
    outputs = [re.sub(r"<[^>]+>", "", output) for output in OUTPUT.findall(html)]
    assert any(shown in output for output in outputs), outputs
    # A multi-SCO zip per version, and (with several units) one single-SCO zip per unit.
    units = len(load_course(root).course.units)
    zips = sorted(p.name for p in (root / "_build" / "scorm").iterdir())
    assert len(zips) == 2 * (1 + units if units > 1 else 1), zips
