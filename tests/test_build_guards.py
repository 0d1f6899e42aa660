"""What a build guarantees whatever the book's settings: coursekit's extensions, no import
race between its threads, cached self-checks, and one clean line for an unexpected error."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import EXERCISE_SECRETS, REPO, run_cli
from coursebuilder import copy_course, make_course

GOOD_EXERCISES = REPO / "tests/fixtures/exercises/good"
SOLUTION_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")
CDN_MATHJAX = re.compile(r"""src=["']https?://[^"']*mathjax""", re.I)


@pytest.mark.slow
def test_solutions_and_cdns_stay_out_whatever_the_extensions_listed(tmp_path: Path) -> None:
    root = copy_course(tmp_path / "course")
    config = (root / "_config.yml").read_text(encoding="utf-8")
    listed = "extra_extensions: [coursekit.offline, coursekit.sphinxext]"
    assert listed in config
    (root / "_config.yml").write_text(config.replace(listed, "extra_extensions: []"), "utf-8")
    result = run_cli("build", root, "--only", "scorm", "--no-execute")
    assert result.returncode == 0, result.stderr

    html = root / "_build/html"
    texts = {
        p.relative_to(html).as_posix(): p.read_text(encoding="utf-8", errors="replace")
        for p in html.rglob("*")
        if p.is_file() and p.suffix in {".html", ".ipynb", ".md", ".txt", ".js", ".json"}
    }
    exercise_pages = [name for name in texts if name.startswith("exercises/")]
    assert exercise_pages, "the exercise pages were not built"
    leaks = [n for n, t in texts.items() if any(m in t for m in SOLUTION_MARKERS)]
    assert leaks == []
    assert [n for n, t in texts.items() if CDN_MATHJAX.search(t)] == []
    # The quiz directive ran: the quiz pages hold the quiz form, not the directive's text.
    quizzes = [n for n, t in texts.items() if n.endswith("quiz.html")]
    assert quizzes and all("coursekit-quiz" in texts[n] for n in quizzes)
    for package in (root / "_build/scorm").glob("*.zip"):
        with zipfile.ZipFile(package) as zf:
            for name in zf.namelist():
                data = zf.read(name)
                assert not any(m.encode() in data for m in SOLUTION_MARKERS), (package, name)


def test_both_threads_imports_are_done_before_the_exercises_thread_starts(
    tmp_path: Path,
) -> None:
    # The race ("partially initialized module 'jupyter_client.manager'") needs the
    # exercises thread and the book stage to import jupyter_client at the same time.
    # A fresh interpreter records what is imported when the thread starts.
    root = make_course(tmp_path / "course", {"alpha": ("print(1)",)})
    script = """
import sys, threading
from pathlib import Path
from coursekit.build.pipeline import BuildOptions, SilentReporter, build_course

SHARED = ("jupyter_client.manager", "nbclient", "sphinx.application", "jupyter_book.config")
start = threading.Thread.start

def recording_start(self):
    if self.name == "coursekit-exercises":
        print("missing at thread start:", [m for m in SHARED if m not in sys.modules])
    start(self)

threading.Thread.start = recording_start
build_course(Path(sys.argv[1]), BuildOptions(execute=False), SilentReporter())
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr
    assert "missing at thread start: []" in result.stdout, result.stdout + result.stderr
    assert "ImportError" not in result.stderr


@pytest.mark.slow
def test_exercise_self_checks_run_again_only_for_a_changed_exercise(tmp_path: Path) -> None:
    root = tmp_path / "course"
    shutil.copytree(GOOD_EXERCISES, root)
    first = run_cli("build", root, "--only", "exercises")
    assert first.returncode == 0, first.stderr
    assert "exercises self-checked: 1 of 1" in first.stderr
    # A reading edited: the book changes, the exercise does not.
    reading = next((root / "modules/01-demo").glob("*.md"))
    reading.write_text(reading.read_text(encoding="utf-8") + "\nMore prose.\n", "utf-8")
    again = run_cli("build", root, "--only", "exercises")
    assert again.returncode == 0, again.stderr
    assert "exercises self-checked: 0 of 1" in again.stderr
    student = (root / "_build/exercises/student/01-demo/rates.ipynb").read_text("utf-8")
    assert not any(secret in student for secret in EXERCISE_SECRETS)
    # The exercise's cells edited: checked again.
    notebook = root / "exercises/01-demo/rates.ipynb"
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    code = next(c for c in nb["cells"] if c["cell_type"] == "code")
    code["source"] = ["# edited\n", *code["source"]]
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    edited = run_cli("build", root, "--only", "exercises")
    assert edited.returncode == 0, edited.stderr
    assert "exercises self-checked: 1 of 1" in edited.stderr


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coursekit.build import pipeline as build_module
    from coursekit.cli import cli

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in a stage\nwith a second line")

    monkeypatch.setattr(build_module, "build_course", broken)
    root = make_course(tmp_path / "course", {})
    result = CliRunner().invoke(cli, ["build", str(root)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        "error: unexpected RuntimeError: a bug in a stage (run with --debug for the traceback)"
    ]
    debug = CliRunner().invoke(cli, ["build", str(root), "--debug"])
    assert isinstance(debug.exception, RuntimeError)
