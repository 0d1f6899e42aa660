"""Rebuilds: unchanged notebooks are not run again; a build with no change skips the work."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_cli
from coursebuilder import make_course, snapshot, write_notebook

CELLS = ("import random\nprint('value', random.random())",)


def _counts(stderr: str) -> tuple[int, int]:
    match = re.search(r"notebooks executed: (\d+), unchanged: (\d+)", stderr)
    assert match, stderr
    return int(match.group(1)), int(match.group(2))


def _output_of(root: Path, name: str) -> str:
    html = (root / f"_build/html/modules/01-demo/{name}.html").read_text(encoding="utf-8")
    match = re.search(r"value (0\.\d+)", html)
    assert match, f"{name}.html shows no executed output"
    return match.group(1)


def test_only_the_edited_notebook_runs_again(tmp_path: Path) -> None:
    root = make_course(tmp_path, {"alpha": CELLS, "beta": CELLS})
    first = run_cli("build", root, "--only", "html")
    assert first.returncode == 0, first.stderr
    assert _counts(first.stderr) == (2, 0)
    alpha, beta = _output_of(root, "alpha"), _output_of(root, "beta")

    again = run_cli("build", root, "--only", "html")
    assert again.returncode == 0, again.stderr
    assert "nothing changed since the last build" in again.stderr

    write_notebook(root / "modules/01-demo/beta.ipynb", "Beta", CELLS[0] + "\nprint('edited')")
    edited = run_cli("build", root, "--only", "html")
    assert edited.returncode == 0, edited.stderr
    assert _counts(edited.stderr) == (1, 1)
    # alpha's page shows the cached run (same random number), beta's a new run.
    assert _output_of(root, "alpha") == alpha
    assert _output_of(root, "beta") != beta


def test_no_execute_shows_the_stored_outputs(tmp_path: Path) -> None:
    root = make_course(tmp_path, {"alpha": CELLS})
    result = run_cli("build", root, "--only", "html", "--no-execute")
    assert result.returncode == 0, result.stderr
    html = (root / "_build/html/modules/01-demo/alpha.html").read_text(encoding="utf-8")
    assert "cell_input" in html and "value 0." not in html  # the code, no output
    assert not (root / "_build/.jupyter_cache").exists()


def test_a_build_elsewhere_writes_nothing_into_the_sources(tmp_path: Path) -> None:
    root = make_course(tmp_path / "course", {"alpha": CELLS})
    before = snapshot(root)
    out = tmp_path / "out"
    result = run_cli("build", root, "--out", out, "--only", "html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert snapshot(root) == before
    assert sorted(p.name for p in root.iterdir()) == sorted(
        ["_config.yml", "_toc.yml", "intro.md", "modules"]
    )
    assert (out / "html/modules/01-demo/alpha.html").is_file()
    # Sphinx's doctrees and myst-nb's jupyter_execute live in the output folder's work
    # tree (.cache), kept for the next build.
    assert sorted(p.name for p in out.iterdir()) == [
        ".cache",
        ".coursekit-output",  # marks the folder as coursekit's (see outputs.check_out_dir)
        ".fingerprint.json",
        ".jupyter_cache",
        ".lock",
        "html",
        "outside-requests.txt",  # what the pages would still fetch from outside (none here)
    ]
    assert (out / ".cache/book/doctrees").is_dir()


def test_checks_stop_the_build_before_anything_runs(tmp_path: Path) -> None:
    root = make_course(tmp_path, {"alpha": CELLS})
    (root / "_toc.yml").write_text((root / "_toc.yml").read_text() + "      - file: missing\n")
    result = run_cli("build", root)
    assert result.returncode == 1
    assert "_toc.yml:" in result.stderr and "CK110" in result.stderr
    assert "build stopped by the checks" in result.stderr
    assert not (root / "_build/html").exists()


def test_only_builds_one_output_and_says_so(tmp_path: Path) -> None:
    root = make_course(tmp_path, {"alpha": CELLS})
    exercises = run_cli("build", root, "--only", "exercises")
    assert exercises.returncode == 0, exercises.stderr
    assert (root / "_build/exercises").is_dir() and not (root / "_build/html").exists()
    assert "notebooks executed: 0, unchanged: 0" in exercises.stderr  # the book's aren't needed
    assert str(root / "_build/exercises") in exercises.stderr
    scorm = run_cli("build", root, "--only", "scorm", "--no-execute")
    assert scorm.returncode == 0, scorm.stderr
    assert list((root / "_build/scorm").glob("*.zip"))
    assert (root / "_build/html/intro.html").is_file()  # SCORM is made from the HTML


def test_the_longest_notebook_last_time_starts_first(tmp_path: Path) -> None:
    root = make_course(
        tmp_path, {"quick": ("print('quick')",), "slow": ("import time\ntime.sleep(3)",)}
    )
    first = run_cli("build", root, "--only", "html", "--jobs", "1")
    assert first.returncode == 0, first.stderr
    # Never run before: course order.
    assert first.stderr.index("executing modules/01-demo/quick") < first.stderr.index(
        "executing modules/01-demo/slow"
    )
    write_notebook(root / "modules/01-demo/quick.ipynb", "Quick", "print('quick again')")
    write_notebook(root / "modules/01-demo/slow.ipynb", "Slow", "import time\ntime.sleep(3.1)")
    again = run_cli("build", root, "--only", "html", "--jobs", "1")
    assert again.returncode == 0, again.stderr
    assert _counts(again.stderr) == (2, 0)
    # The cache recorded how long each took: the slow one goes first now.
    assert again.stderr.index("executing modules/01-demo/slow") < again.stderr.index(
        "executing modules/01-demo/quick"
    )
