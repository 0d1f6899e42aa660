"""Grading as a teacher uses it: points, hidden tests, written answers, feedback, the
gradebook, the teacher-edition check, odd file names and Ctrl-C (issue 23).

The course is a copy of tests/fixtures/exercises/good with a second exercise,
`02-points/scores`, written here: tests worth 2, 3 and 1 (default) points, a hidden
test, every nbgrader marker form, and a written question worth 4 points.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import REPO, run_cli
from coursekit.exercises import student_edition
from coursekit.exercises.sandbox import sandbox_kind

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"
SANDBOX = [] if sandbox_kind() == "bwrap" else ["--no-sandbox"]
SOLUTION = """def double(x):
    ### BEGIN SOLUTION ###
    return 2 * x
    ### END SOLUTION ###


def halve(x):
    # BEGIN SOLUTION
    return x / 2
    # END SOLUTION"""
STUB = "raise NotImplementedError()"
VISIBLE = """assert double(2) == 4
### BEGIN HIDDEN TESTS
assert double(-3) == -6
assert 'HIDDEN-CASE'
### END HIDDEN TESTS"""
QUESTION = """Why would one double? Answer in a sentence.

=== BEGIN MARK SCHEME ===
MODEL-ANSWER: twice is nice.
=== END MARK SCHEME ==="""


def _test(source: str, grade_id: str | None, points: int | None) -> nbformat.NotebookNode:
    meta: dict = {"tags": ["tests"]}
    if grade_id:
        meta["nbgrader"] = {"grade": True, "solution": False, "grade_id": grade_id, "locked": True}
        if points is not None:
            meta["nbgrader"]["points"] = points
    return new_code_cell(source, metadata=meta)


def scores_notebook(extra_import: str = "") -> nbformat.NotebookNode:
    written = new_markdown_cell(QUESTION)
    written.metadata["nbgrader"] = {
        "grade": True,
        "solution": True,
        "grade_id": "why-double",
        "points": 4,
    }
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Scores"),
            new_code_cell(extra_import + SOLUTION),
            _test(VISIBLE, "double", 2),
            _test("assert halve(4) == 2", "halve", 3),
            written,
            _test("assert isinstance(double(1), int)", None, None),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    for i, cell in enumerate(nb.cells):
        cell.id = f"s-{i}"
    return nb


def make_course(root: Path, extra_import: str = "") -> Path:
    shutil.copytree(GOOD, root)
    folder = root / "exercises" / "02-points"
    folder.mkdir(parents=True)
    nbformat.write(scores_notebook(extra_import), folder / "scores.ipynb")
    return root


def submission(body_double: str | None, body_halve: str | None, answer: str = "") -> dict:
    nb = json.loads(nbformat.writes(scores_notebook()))
    nb, _ = student_edition(nb_dict(nb), "02-points/scores")
    nb = copy.deepcopy(nb)
    code = nb["cells"][1]
    parts = code["source"].split(STUB)
    assert len(parts) == 3, code["source"]
    code["source"] = parts[0] + (body_double or STUB) + parts[1] + (body_halve or STUB) + parts[2]
    if answer:
        nb["cells"][4]["source"] = nb["cells"][4]["source"].replace("YOUR ANSWER HERE", answer)
    return nb


def nb_dict(nb: dict) -> dict:
    for cell in nb["cells"]:
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return nb


def write(path: Path, nb: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb), encoding="utf-8")


# ----------------------------------------------------------------- editions


def test_the_student_edition_has_no_hidden_test_and_no_solution_in_any_marker_form():
    nb, problems = student_edition(nb_dict(json.loads(nbformat.writes(scores_notebook()))), "x")
    text = json.dumps(nb)
    assert problems == []
    for secret in ("HIDDEN-CASE", "double(-3)", "return 2 * x", "x / 2", "MODEL-ANSWER"):
        assert secret not in text, secret
    assert "assert double(2) == 4" in text  # the visible test stays
    assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text


# ----------------------------------------------------------------- a class


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    course = make_course(tmp_path_factory.mktemp("course") / "course")
    subs = tmp_path_factory.mktemp("class")
    write(subs / "honest" / "scores.ipynb", submission("return 2 * x", "return x / 2", "DOUBLE-IT"))
    # Right for positive numbers only: the visible test passes, the hidden one does not.
    write(subs / "half" / "scores.ipynb", submission("return abs(2 * x)", "return x / 2"))
    write(subs / "blank" / "scores.ipynb", submission(None, None))
    out = tmp_path_factory.mktemp("out")
    marks = out / "marks.csv"
    marks.write_text(
        "student,exercise,question,points,comment\n"
        "honest,02-points/scores,why-double,3,GOOD-COMMENT\n"
        "half,02-points/scores,why-double,,\n",
        encoding="utf-8",
    )
    result = run_cli(
        "exercises", "grade", subs, "--course", course, "-o", out / "grades.csv",
        "--marks", marks, "--timeout", "20", *SANDBOX,
    )  # fmt: skip
    with (out / "grades.csv").open(encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return {"result": result, "rows": rows, "out": out}


def test_points_per_test_with_hidden_tests_and_the_teachers_written_marks(graded_class):
    assert graded_class["result"].returncode == 0, graded_class["result"].stderr
    rows = graded_class["rows"]
    assert (rows["honest"]["points"], rows["honest"]["max_points"]) == ("9", "10")
    # double (2 points, its hidden part fails) lost; halve (3) and the default-1 test won.
    assert (rows["half"]["points"], rows["half"]["tests_passed"]) == ("4", "2")
    assert "double: failed (0/2) - AssertionError" in rows["half"]["tests"]
    assert rows["blank"]["points"] == "0"
    assert (
        "halve: error in the student's code (0/3) - NotImplementedError" in rows["blank"]["tests"]
    )
    assert "why-double: 3/4" in rows["honest"]["written"]
    assert "not marked yet" in rows["half"]["written"]


def test_the_gradebook_has_a_student_id_and_a_grade_per_exercise(graded_class):
    with (graded_class["out"] / "gradebook.csv").open(encoding="utf-8") as f:
        book = list(csv.DictReader(f))
    assert [(r["SIS User ID"], r["02-points/scores"]) for r in book] == [
        ("blank", "0"),
        ("half", "4"),
        ("honest", "9"),
    ]


def test_feedback_pages_say_each_test_and_mark_and_give_away_no_solution(graded_class):
    page = (graded_class["out"] / "feedback" / "honest" / "02-points-scores.html").read_text()
    assert "9 / 10 points" in page and "GOOD-COMMENT" in page and "DOUBLE-IT" in page
    half = (graded_class["out"] / "feedback" / "half" / "02-points-scores.html").read_text()
    assert "failed" in half and "not marked yet" in half
    for text in (page, half):
        for secret in ("MODEL-ANSWER", "HIDDEN-CASE", "double(-3)", "return 2 * x"):
            assert secret not in text, secret


def test_written_answers_are_collected_beside_the_mark_scheme(graded_class):
    written = graded_class["out"] / "written"
    page = (written / "02-points-scores.html").read_text()
    assert "DOUBLE-IT" in page and "MODEL-ANSWER" in page and "half" in page
    with (written / "02-points-scores-marks.csv").open(encoding="utf-8") as f:
        form = {r["student"]: r for r in csv.DictReader(f)}
    assert form["honest"]["points"] == "3" and form["blank"]["points"] == ""


def test_bad_marks_are_named_by_file_and_line(tmp_path):
    course = make_course(tmp_path / "course")
    subs = tmp_path / "class"
    write(subs / "blank" / "scores.ipynb", submission(None, None))
    marks = tmp_path / "marks.csv"
    marks.write_text(
        "student,exercise,question,points\nblank,02-points/scores,why-double,lots\n",
        encoding="utf-8",
    )
    result = run_cli("exercises", "grade", subs, "--course", course, "--marks", marks, *SANDBOX)
    assert result.returncode != 0 and f"{marks}:2" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# ----------------------------------------------------------------- the teacher's check


def test_a_broken_environment_stops_grading_and_says_why(tmp_path):
    course = make_course(tmp_path / "course", "import coursekit_not_installed_here\n")
    subs = tmp_path / "class"
    write(subs / "honest" / "scores.ipynb", submission("return 2 * x", "return x / 2"))
    result = run_cli("exercises", "grade", subs, "--course", course, *SANDBOX)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "grading stopped" in result.stderr
    assert "No module named 'coursekit_not_installed_here'" in result.stderr
    assert not (subs / "grades.csv").exists()


# ----------------------------------------------------------------- names and oddities


def test_odd_names_and_duplicates_are_rows_with_notes(tmp_path):
    course = make_course(tmp_path / "course")
    subs = tmp_path / "class"
    honest = submission("return 2 * x", "return x / 2")
    os.makedirs(os.fsencode(subs) + b"/caf\xe9-latin1")
    write(Path(os.fsdecode(os.fsencode(subs) + b"/caf\xe9-latin1/scores.ipynb")), honest)
    write(subs / "ctrl\x07bell" / "scores.ipynb", honest)
    (subs / "folder" / "scores.ipynb").mkdir(parents=True)
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / "scores.ipynb")
    write(subs / "twice" / "scores.ipynb", honest)
    write(subs / "twice" / "copy" / "scores.ipynb", honest)
    write(subs / "eve" / "unknown.ipynb", {"cells": [], "metadata": {}})
    out = tmp_path / "out" / "grades.csv"
    result = run_cli("exercises", "grade", subs, "--course", course, "-o", out, *SANDBOX)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    with out.open(encoding="utf-8") as f:
        rows = {r["student_file"]: r for r in csv.DictReader(f)}
    assert rows["caf\\xe9-latin1/scores.ipynb"]["points"] == "6"
    assert rows["caf\\xe9-latin1/scores.ipynb"]["student"] == "caf\\xe9-latin1"
    assert rows["ctrl\x07bell/scores.ipynb"]["points"] == "6"
    assert "folder named like a notebook" in rows["folder/scores.ipynb"]["note"]
    assert "not a regular file" in rows["fifo/scores.ipynb"]["note"]
    for twin in ("twice/scores.ipynb", "twice/copy/scores.ipynb"):
        assert "2 notebooks for this exercise from one student" in rows[twin]["note"]
    assert "unknown exercise" in rows["eve/unknown.ipynb"]["note"]
    with (out.parent / "gradebook.csv").open(encoding="utf-8") as f:
        book = {r["SIS User ID"]: r for r in csv.DictReader(f)}
    assert book["twice"]["02-points/scores"] == ""  # the teacher keeps one first


def test_without_the_course_nothing_is_graded_and_the_exit_says_so(tmp_path):
    subs = tmp_path / "class"
    write(subs / "a" / "scores.ipynb", submission(None, None))
    result = run_cli("exercises", "grade", subs, *SANDBOX, cwd=tmp_path)
    assert result.returncode == 1 and "could be graded" in result.stderr, result.stderr
    assert "unknown exercise" in result.stdout


# ----------------------------------------------------------------- Ctrl-C

MARK = "coursekit-ctrl-c-mark"  # a prefix: each test's daemons carry a mark of their own


def _new_mark() -> str:
    """A mark for one test's daemons: two such tests may run at once (pytest-xdist)."""
    return f"{MARK}-{uuid.uuid4().hex}"


def _marked(mark: str) -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            if mark.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def _daemon_cell(mark: str) -> dict:
    """A cell that ignores the alarm, leaves a daemon (marked) and never ends."""
    return {
        "cell_type": "code",
        "id": "hang",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": (
            "import os, signal, time\n"
            "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    os.execvp('python3',\n"
            f"        ['python3', '-c', 'import time; time.sleep(600)', {mark!r}])\n"
            "while True:\n"
            "    time.sleep(1)\n"
        ),
    }


def _as_from_a_terminal() -> None:
    """Ctrl-C as a terminal delivers it: a suite started in the background by a script
    (`cmd &`) runs with SIGINT ignored, and Python then keeps it ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_the_run_and_leaves_no_process(tmp_path):
    course = make_course(tmp_path / "course")
    mark = _new_mark()
    subs = tmp_path / "class"
    hang = submission("return 2 * x", "return x / 2")
    hang["cells"].insert(2, _daemon_cell(mark))
    for student in ("a", "b"):
        write(subs / student / "scores.ipynb", hang)
    proc = subprocess.Popen(
        [sys.executable, "-m", "coursekit", "exercises", "grade", str(subs), "--course",
         str(course), "--timeout", "300", *SANDBOX],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        preexec_fn=_as_from_a_terminal,  # noqa: PLW1509
    )  # fmt: skip
    try:
        for _ in range(600):  # up to a minute for the first job to start its process
            if _marked(mark) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert _marked(mark), proc.poll()
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            pytest.fail(f"grade still ran 60 s after Ctrl-C; it said: {err[-3000:]}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert _marked(mark) == []
    assert not (subs / "grades.csv").exists()


@pytest.mark.skipif(sandbox_kind() != "bwrap", reason="needs bubblewrap's pid namespace")
def test_nothing_outlives_a_grader_killed_outright(tmp_path):
    course = make_course(tmp_path / "course")
    mark = _new_mark()
    subs = tmp_path / "class"
    hang = submission("return 2 * x", "return x / 2")
    hang["cells"].insert(2, _daemon_cell(mark))
    write(subs / "a" / "scores.ipynb", hang)
    proc = subprocess.Popen(
        [sys.executable, "-m", "coursekit", "exercises", "grade", str(subs), "--course",
         str(course), "--timeout", "300"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )  # fmt: skip
    try:
        for _ in range(600):
            if _marked(mark) or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert _marked(mark), proc.poll()
    finally:
        proc.kill()  # SIGKILL: no clean-up code of the grader runs
        proc.wait()
    for _ in range(100):  # the kernel ends the sandbox's processes with it
        if not _marked(mark):
            break
        time.sleep(0.1)
    assert _marked(mark) == []


def test_many_cells_that_catch_the_alarm_get_one_budget_from_the_course(tmp_path):
    """The budget is the course notebook's (2 s x (3 code cells + 2 tests) + 30 s = 40 s),
    whatever the submission's own cell count, and no cell can catch or extend it."""
    import test_grade_hostile as hostile

    nb = hostile.student()
    for i in range(60):
        nb["cells"].insert(
            2,
            {
                "cell_type": "code",
                "id": f"slow-{i}",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "source": "import signal, time\n"
                "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                "time.sleep(1.9)",
            },
        )
    write(tmp_path / "class" / "slow" / "rates.ipynb", nb)
    write(tmp_path / "class" / "right" / "rates.ipynb", hostile.student(hostile.RIGHT))
    write(tmp_path / "class" / "loops" / "rates.ipynb", hostile.student("    while True: pass"))
    # A module named by the submission is imported by the tests' process: only one the
    # course imports (`this` would print, `antigravity` open a browser).
    trick = hostile.with_cell("import types\nhourly_rate = types.ModuleType('this')")
    write(tmp_path / "class" / "module-trick" / "rates.ipynb", trick)
    out = tmp_path / "grades.csv"
    result = run_cli(
        "exercises", "grade", tmp_path / "class", "--course", GOOD, "-o", out,
        "--timeout", "2", *SANDBOX,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert "stopped after 40 s (the submission's wall-clock limit)" in rows["slow"]["note"]
    assert "not run" in rows["slow"]["tests"] and rows["slow"]["points"] == "0"
    assert rows["right"]["points"] == "2"
    # A test that runs out of time says so; the submission is stuck, so the rest is not run.
    loops = rows["loops"]["tests"]
    assert "rates-tests: timed out (0/1) - did not finish within the 2 s timeout" in loops
    assert "rates-zero: not run (0/1) - the submission stopped answering" in loops
    assert "does not import 'this'" in rows["module-trick"]["tests"]
    assert rows["module-trick"]["points"] == "0"


def test_the_bundled_course_grades_its_own_solutions_with_full_marks(tmp_path):
    """Values cross between the processes as data: pandas frames built by a test, passed
    to the student's function and returned (k-anonymity), names a test defines for the
    next one, numbers, tuples and dicts."""
    subs = tmp_path / "class"
    (subs / "teacher").mkdir(parents=True)
    for notebook in (REPO / "exercises").glob("*/*.ipynb"):
        shutil.copy(notebook, subs / "teacher" / notebook.name)
    out = tmp_path / "grades.csv"
    result = run_cli("exercises", "grade", subs, "--course", REPO, "-o", out, "--jobs", "2",
                     *SANDBOX)  # fmt: skip
    assert result.returncode == 0, result.stderr
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    for row in rows:
        assert row["tests_passed"] == row["tests_total"] != "0", row
        assert "not marked yet" in row["written"], row


def test_the_teacher_may_ask_for_the_mark_schemes_in_the_feedback(tmp_path):
    course = make_course(tmp_path / "course")
    subs = tmp_path / "class"
    write(subs / "honest" / "scores.ipynb", submission("return 2 * x", "return x / 2", "DOUBLE"))
    out = tmp_path / "out" / "grades.csv"
    result = run_cli(
        "exercises", "grade", subs, "--course", course, "-o", out, "--feedback-solutions",
        *SANDBOX,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = (out.parent / "feedback" / "honest" / "02-points-scores.html").read_text()
    assert "MODEL-ANSWER" in page and "HIDDEN-CASE" not in page
