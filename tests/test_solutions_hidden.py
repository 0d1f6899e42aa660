"""Student editions of sphinx-exercise books: `coursekit: solutions: hide` (issue 20, point 9).

The fixture book has a `{solution}`, a colon-fenced one and a gated
`{solution-start}`/`{solution-end}` pair, each holding a secret word. None may reach
the site (pages, search index, `_sources/` downloads), the packages or the PDF; the
exercises stay. A plain `jupyter-book build` with `COURSEKIT_SOLUTIONS=show` is the
teacher edition, and that variable changes nothing in what `coursekit build` publishes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli

pytest.importorskip("sphinx_exercise")
BOOKS = Path(__file__).parent / "fixtures" / "books"
SECRETS = ("FIVE-IS-THE-SECRET", "TWENTY-FOUR-IS-THE-SECRET", "SEVEN-IS-THE-SECRET")


def _book(tmp_path: Path) -> Path:
    return Path(shutil.copytree(BOOKS / "exercise-solutions", tmp_path / "practice"))


def _leaks(folder: Path) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zipped:
                data = b"".join(zipped.read(n) for n in zipped.namelist())
        found += [f"{path}: {s}" for s in SECRETS if s.encode() in data]
    return found


def test_hidden_solutions_reach_no_output_and_the_exercises_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = _book(tmp_path)
    monkeypatch.setenv("COURSEKIT_SOLUTIONS", "show")  # not for coursekit's own builds
    result = run_cli("build", book, cwd=book)
    assert result.returncode == 0, result.stderr[-3000:]
    out = book / "_build"
    assert _leaks(out / "html") == []
    assert _leaks(out / "scorm") == [] and _leaks(out / "cmi5") == []
    page = (out / "html/practice.html").read_text(encoding="utf-8")
    assert "Name a prime number." in page and "What is" in page  # the exercises stay
    assert "After the exercises, the page goes on." in page  # what follows a gated solution
    source = (out / "html/_sources/practice.md").read_text(encoding="utf-8")
    assert "{exercise}" in source and "solution" not in source
    # the PDF is printed from the single-page book
    assert _leaks(out / ".cache/book/singlehtml") == []


def test_a_plain_jupyter_book_build_with_the_teacher_switch_keeps_the_solutions(
    tmp_path: Path,
) -> None:
    book = _book(tmp_path)
    env = {**os.environ, "COURSEKIT_SOLUTIONS": "show"}
    jb = [str(Path(sys.executable).with_name("jupyter-book")), "build", str(book)]
    done = subprocess.run(jb, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    page = (book / "_build/html/practice.html").read_text(encoding="utf-8")
    assert all(s in page for s in SECRETS)
