"""The Sphinx extension under a plain `jupyter-book build` (no coursekit build around it).

The demo course (tests/fixtures/exercises/good) lists `coursekit.sphinxext` in its
`_config.yml`, as the bundled course does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXERCISE_SECRETS, REPO

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The `_build` folder of a plain jupyter-book build of the demo course."""
    src = Path(shutil.copytree(GOOD, tmp_path_factory.mktemp("demo") / "course"))
    out = tmp_path_factory.mktemp("demo-out")
    jb = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [str(jb), "build", str(src), "--path-output", str(out), "-W"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return out / "_build"


def test_no_solution_anywhere_in_the_build_output(build):
    found = {}
    for path in build.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [s for s in EXERCISE_SECRETS if s.encode() in data]
            if hits:
                found[str(path.relative_to(build))] = hits
    assert found == {}, "the doctrees, jupyter_execute and html must all be student editions"


def test_the_downloadable_notebook_is_the_student_edition(build):
    page = (build / "html/exercises/01-demo/rates.html").read_text(encoding="utf-8")
    assert "_sources/exercises/01-demo/rates.ipynb" in page
    assert "YOUR CODE HERE" in page
    nb = json.loads((build / "html/_sources/exercises/01-demo/rates.ipynb").read_text("utf-8"))
    assert nb["metadata"]["coursekit"] == {"exercise": "01-demo/rates", "edition": "student"}
    tests = ["".join(c["source"]) for c in nb["cells"] if "tests" in c["metadata"].get("tags", [])]
    assert tests == ["assert abs(hourly_rate(5) - 3.0) < 1e-9", "assert hourly_rate(0) == 0"]


def test_exercise_pages_have_no_launch_buttons(build):
    page = (build / "html/exercises/01-demo/rates.html").read_text(encoding="utf-8")
    assert "mybinder.org" not in page


def test_the_quiz_page_has_the_form_and_its_static_files(build):
    page = (build / "html/modules/01-demo/quiz.html").read_text(encoding="utf-8")
    assert '<form class="ck-quiz" data-module="demo-module" data-quiz="demo-quiz"' in page
    assert "_static/coursekit-quiz.js" in page and "_static/coursekit-quiz.css" in page
    assert (build / "html/_static/coursekit-quiz.js").is_file()
