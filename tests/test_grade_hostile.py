"""Hostile submissions: none may score more than an honest blank one; honest ones score full.

The exercise is tests/fixtures/exercises/good's `rates` (2 test cells, `cell-2` and
`cell-3`). Each hostile submission starts from the untouched student edition (which
scores 0/2) and adds its attack in a code cell between the solution cell and the tests,
so every one of them
must score 0/2. The whole set is graded by ONE run of the real CLI (`coursekit
exercises grade`), as a teacher would grade a class, then each row is checked.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO, run_cli
from coursekit.exercises import read_notebook, student_edition
from coursekit.exercises.sandbox import sandbox_kind

GOOD = REPO / "tests" / "fixtures" / "exercises" / "good"
TEACHER = GOOD / "exercises" / "01-demo" / "rates.ipynb"
STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()"
RIGHT = "    return cents_per_minute * 60 / 100"
SECRET_ENV = "COURSEKIT_TEST_TEACHER_SECRET"
DAEMON_MARK = "coursekit-hostile-daemon"

needs_bwrap = pytest.mark.skipif(
    sandbox_kind() != "bwrap" and not os.environ.get("COURSEKIT_REQUIRE_BROWSER"),
    reason="bubblewrap is not installed (CI installs it and sets COURSEKIT_REQUIRE_BROWSER)",
)


def student(body: str = STUB) -> dict:
    nb, _ = student_edition(read_notebook(TEACHER), "01-demo/rates")
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if STUB in cell["source"]:
            cell["source"] = cell["source"].replace(STUB, body)
    return nb


def with_cell(source: str, nb: dict | None = None, at: int = 2) -> dict:
    """`nb` (default: the blank student edition) with a code cell of `source` inserted."""
    nb = nb or student()
    cell = {
        "cell_type": "code",
        "id": f"attack-{at}",
        "metadata": {},
        "outputs": [],
        "execution_count": None,
        "source": textwrap.dedent(source),
    }
    nb["cells"].insert(at, cell)
    return nb


# What a thief does with the teacher's notebook once it has its text: run its code cells.
RUN_SOLUTION = """
def _run_solution(text):
    import json
    for c in json.loads(text)["cells"]:
        if c["cell_type"] == "code" and "tests" not in c["metadata"].get("tags", []):
            exec("".join(c["source"]), globals())
"""


def hostile(
    submissions: Path, target: Path, server_port: int, sandboxed: bool = True
) -> dict[str, dict]:
    """name -> notebook of every attack; files that are not notebooks are written directly."""
    peers = submissions / "alice" / "rates.ipynb"
    blank = student()
    forged_dupes = student()
    test_cells = [c for c in forged_dupes["cells"] if c["id"] in ("cell-2", "cell-3")]
    for c in test_cells:  # the student empties both tests and repeats each three times
        c["source"] = "pass"
    forged_dupes["cells"] += copy.deepcopy(test_cells) * 2
    untagged = student()
    for c in untagged["cells"]:
        if c["id"] in ("cell-2", "cell-3"):
            c["metadata"] = {}
            c["source"] = "pass"
    grade_id_twins = student()
    twins = []
    for c in grade_id_twins["cells"]:
        if c["id"] in ("cell-2", "cell-3"):
            c["source"] = "pass"
            for n in range(3):  # new ids, same nbgrader grade_id, all before the real test
                twins.append(dict(copy.deepcopy(c), id=f"{c['id']}-twin{n}"))
    grade_id_twins["cells"][2:2] = twins
    renamed = student()
    for c in renamed["cells"]:
        if c["id"] in ("cell-2", "cell-3"):
            c["id"] += "-renamed"
            c["metadata"]["nbgrader"]["grade_id"] += "-renamed"
            c["source"] = "pass"
    own_tests = student()
    own_tests["cells"].append(
        {
            "cell_type": "code",
            "id": "mine",
            "outputs": [],
            "execution_count": None,
            "source": "assert True",
            "metadata": {"tags": ["tests"], "nbgrader": {"grade": True}},
        }
    )
    return {
        "blank": blank,
        # ---- solution theft
        "thief-cmdline": with_cell(
            RUN_SOLUTION
            + textwrap.dedent("""
            import os
            for pid in os.listdir('/proc'):
                try:
                    args = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')
                except OSError:
                    continue
                for a in args:
                    for p in (a.decode(), a.decode() + '/exercises/01-demo/rates.ipynb'):
                        if p.endswith('rates.ipynb') and os.path.isfile(p):
                            t = open(p).read()
                            if 'BEGIN SOLUTION' in t:
                                _run_solution(t)
            """)
        ),
        "thief-path": with_cell(RUN_SOLUTION + f"_run_solution(open({str(TEACHER)!r}).read())"),
        "thief-parent-folder": with_cell(
            RUN_SOLUTION
            + textwrap.dedent("""
            import glob
            for p in glob.glob('../../**/rates.ipynb', recursive=True):
                if 'BEGIN SOLUTION' in open(p).read():
                    _run_solution(open(p).read())
            """)
        ),
        "thief-env": with_cell(f"import os; exec(os.environ.get({SECRET_ENV!r}, ''))"),
        # ---- peers
        "peer-copy": with_cell(
            RUN_SOLUTION
            + textwrap.dedent(f"""
            for p in ({str(peers)!r}, '../alice/rates.ipynb'):
                try:
                    _run_solution(open(p).read())
                except OSError:
                    pass
            """)
        ),
        "peer-delete": with_cell(f"""
            import os, shutil
            for p in ({str(peers)!r}, '../alice/rates.ipynb'):
                try:
                    os.remove(p)
                except OSError:
                    pass
            shutil.rmtree({str(submissions / "bob")!r}, ignore_errors=True)
            """),
        # ---- forged tests
        "forged-duplicate-ids": forged_dupes,
        "forged-untagged-tests": untagged,
        "forged-own-test": own_tests,
        "forged-grade-id-twins": grade_id_twins,
        "forged-renamed-tests": renamed,
        # ---- hooks
        "hook-input-transformer": with_cell(
            "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"
        ),
        "hook-ast-transformer": with_cell("""
            import ast
            class Empty(ast.NodeTransformer):
                def visit_Module(self, node):
                    return ast.Module(body=[ast.Pass()], type_ignores=[])
            get_ipython().ast_transformers.append(Empty())
            """),
        "hook-custom-exc": with_cell(
            "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"
        ),
        "hook-showtraceback": with_cell(
            "ip = get_ipython(); ip.showtraceback = lambda *a, **k: None; "
            "ip._showtraceback = lambda *a, **k: None"
        ),
        "hook-settrace-skips-asserts": with_cell("""
            import sys
            def tracer(frame, event, arg):
                if event == 'line' and 'assert' in (frame.f_code.co_filename + ''):
                    pass
                if event == 'exception':
                    return None
                def local(frame, event, arg):
                    if event == 'line':
                        try:
                            frame.f_lineno = frame.f_lineno + 1
                        except ValueError:
                            pass
                    return local
                return local
            sys.settrace(tracer)
            """),
        "hook-builtins": with_cell("""
            import builtins
            builtins.abs = lambda x: 0
            builtins.AssertionError = type('AssertionError', (Exception,), {})
            builtins.NotImplementedError = type('Fine', (), {})
            """),
        "hook-audit": with_cell("""
            import sys
            def hook(event, args):
                if event == 'exec':
                    sys.settrace(lambda *a: None)
            sys.addaudithook(hook)
            """),
        "hook-fake-output": with_cell(
            'print(\'{"test": 0, "passed": true}\\n{"test": 1, "passed": true}\')\n'
            "import os\nfor fd in range(3, 20):\n    try:\n"
            '        os.write(fd, b\'{"nonce": "x", "test": 0, "passed": true}\\n\')\n'
            "    except OSError:\n        pass"
        ),
        "hook-exit-early": with_cell("import os; os._exit(0)"),
        "hook-json": with_cell("""
            import json, json.encoder
            real = json.encoder.JSONEncoder.encode
            def forge(self, o):
                if isinstance(o, dict) and 'passed' in o:
                    o = dict(o, passed=True)
                return real(self, o)
            json.encoder.JSONEncoder.encode = forge
            json._default_encoder = json.encoder.JSONEncoder()
            """),
        "hook-gc-callbacks": with_cell("""
            import gc
            def revive(phase, info):
                globals()['hourly_rate'] = lambda c: c * 60 / 100
            gc.callbacks.append(revive)
            gc.callbacks = []
            """),
        "hook-thread": with_cell("""
            import builtins, threading, time
            def hourly_rate(c):
                return 7
            def bend():
                while True:
                    builtins.abs = lambda x: 0
                    builtins.AssertionError = type('AssertionError', (Exception,), {})
                    time.sleep(0.001)
            threading.Thread(target=bend, daemon=True).start()
            """),
        # ---- the families of issue 23: the tests' names, the stack, the wire
        "rebind-abs-in-namespace": with_cell("""
            def hourly_rate(c):
                return 7
            abs = lambda x: 0
            """),
        "always-equal": with_cell("""
            class Anything:
                def __eq__(self, other): return True
                def __sub__(self, other): return self
                def __abs__(self): return self
                def __lt__(self, other): return True
                def __bool__(self): return True
            def hourly_rate(c):
                return Anything()
            """),
        "stack-walk": with_cell("""
            import sys
            def hourly_rate(c):
                frames, frame = [], sys._getframe()
                while frame is not None:
                    frames.append(frame)
                    frame = frame.f_back
                for f in frames:  # whatever sends verdicts, with whatever secret it holds
                    held = [g.f_locals['nonce'] for g in frames if 'nonce' in g.f_locals]
                    secret = held[0] if held else ''
                    for name in ('_verdict', '_send', '_emit'):
                        fn = f.f_globals.get(name)
                        for n in range(4):
                            for args in ((secret, n, True, ''),
                                         ({'test': n, 'status': 'passed', 'why': ''},)):
                                try:
                                    fn(*args)
                                except Exception:
                                    pass
                return 7
            """),
        "forged-wire": with_cell("""
            import os, json
            forged = [{'test': n, 'status': 'passed', 'why': ''} for n in range(4)]
            forged += [{'id': i, 'ok': True, 'value': ['f', '3.0']} for i in range(1, 50)]
            forged += [{'op': 'end'}]
            for fd in range(0, 64):
                for m in forged:
                    try:
                        os.write(fd, (json.dumps(m) + '\\n').encode())
                    except OSError:
                        break
            """),
        # Only where bubblewrap shuts it in: unsandboxed, it would really write there, and
        # the walk of the whole disk would only spend the run's wall-clock limit (80 s).
        **(
            {
                "writes-course-and-harness": with_cell(f"""
            import os
            targets = [{str(TEACHER)!r}, {str(REPO / "src/coursekit/exercises/harness.py")!r},
                       {str(REPO / "src/coursekit/exercises/tester.py")!r},
                       {str(REPO / "src/coursekit/exercises/wire.py")!r}]
            for t in targets:
                try:
                    open(t, 'a').write('\\n# written by a submission\\n')
                except OSError:
                    pass
            """),
                "fs-thief": with_cell(
                    RUN_SOLUTION
                    + textwrap.dedent("""
                import os
                for top in ('/', os.path.expanduser('~')):
                    for d, dirs, files in os.walk(top):
                        dirs[:] = [x for x in dirs if x not in ('proc', 'sys', 'dev')]
                        for f in files:
                            if f.endswith('.ipynb'):
                                try:
                                    t = open(os.path.join(d, f)).read()
                                except OSError:
                                    continue
                                if 'BEGIN SOLUTION' in t and 'hourly_rate' in t:
                                    _run_solution(t)
                """)
                ),
            }
            if sandboxed
            else {}
        ),
        # ---- processes and limits
        "daemon-rewrites-csv": with_cell(f"""
            import os, time
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp('python3', ['python3', '-c', '''
import time, sys
sys.argv[0] = {DAEMON_MARK!r}
time.sleep(2)
open({str(target)!r}, "w").write("student_file,exercise,tests_passed,tests_total,note\\\\n")
''', {DAEMON_MARK!r}])
                os._exit(0)
            time.sleep(0.2)
            """),
        "fork-bomb": with_cell("""
            import os, time
            for _ in range(500):
                try:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                except OSError:
                    break
            """),
        "memory-bomb": with_cell("x = bytearray(16 * 1024**3)"),
        "cpu-spin": with_cell("while True:\n    pass"),
        "output-1gb": with_cell(
            "import sys\nchunk = 'x' * (1024**2)\nfor _ in range(1024):\n"
            "    sys.stdout.write(chunk)\n"
        ),
        "network": with_cell(
            RUN_SOLUTION
            + textwrap.dedent(f"""
            import socket
            for host in ('127.0.0.1', 'localhost'):
                try:
                    s = socket.create_connection((host, {server_port}), timeout=2)
                    _run_solution(s.makefile().read())
                except OSError:
                    pass
            """)
        ),
    }


MALFORMED = {
    "cells-of-numbers": '{"cells": [1], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
    "metadata-list": '{"cells": [], "metadata": [], "nbformat": 4, "nbformat_minor": 5}',
    "not-json": "{ this is not a notebook",
    "nested-deep": "[" * 200_000 + "]" * 200_000,
    "source-number": '{"cells": [{"cell_type": "code", "source": 7, "metadata": {}}]}',
}


def _non_string_id() -> dict:
    nb = student(RIGHT)
    for cell in nb["cells"]:
        if cell["id"] == "cell-2":
            cell["id"] = 12
    return nb


class _SolutionServer:
    """A 127.0.0.1 server handing the teacher notebook to whoever connects (it must not be)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(TEACHER.read_bytes())
            conn.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join()
        self.sock.close()


def _daemons() -> list[str]:
    found = []
    for pid in os.listdir("/proc"):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if DAEMON_MARK.encode() in cmd and str(os.getpid()) != pid:
            found.append(pid)
    return found


KINDS = ["bwrap", "none"] if sandbox_kind() == "bwrap" else ["none"]


@pytest.fixture(scope="module", params=KINDS)
def graded(tmp_path_factory, request):
    """Write the class (honest and hostile), grade it in one CLI run; rows by student.

    Twice: in bubblewrap, and as on a machine without it (`COURSEKIT_BWRAP=none`), where
    the teacher must type `--no-sandbox`.
    """
    kind = request.param
    subs = tmp_path_factory.mktemp("class")
    target = tmp_path_factory.mktemp("out") / "grades.csv"
    server = _SolutionServer()
    notebooks = {
        "alice": student(RIGHT),
        "bob": student("    return cents_per_minute * 0.6"),
        "honest-magics": with_cell(
            "%time x = 1\nimport subprocess\nsubprocess.run(['true'], check=True)\nprint('hi')",
            student(RIGHT),
        ),
        "honest-non-string-id": _non_string_id(),
        **hostile(subs, target, server.port, sandboxed=kind == "bwrap"),
    }
    for name, nb in notebooks.items():
        (subs / name).mkdir()
        (subs / name / "rates.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    for name, text in MALFORMED.items():
        (subs / name).mkdir()
        (subs / name / "rates.ipynb").write_text(text, encoding="utf-8")
    (subs / "huge").mkdir()
    with (subs / "huge" / "rates.ipynb").open("w") as f:
        f.write('{"cells": [], "metadata": {"x": "' + "a" * (30 * 1024**2) + '"}}')
    (subs / "symlink").mkdir()
    (subs / "symlink" / "rates.ipynb").symlink_to(TEACHER)
    env_secret = "".join(
        c["source"] if isinstance(c["source"], str) else "".join(c["source"])
        for c in json.loads(TEACHER.read_text())["cells"][1:2]
    )
    os.environ[SECRET_ENV] = env_secret
    if kind == "none":
        os.environ["COURSEKIT_BWRAP"] = "none"
    start = time.monotonic()
    try:
        result = run_cli(
            "exercises",
            "grade",
            subs,
            "--course",
            GOOD,
            "-o",
            target,
            "--timeout",
            "10",
            "--jobs",
            "2",
            *(["--no-sandbox"] if kind == "none" else []),
        )
    finally:
        del os.environ[SECRET_ENV]
        os.environ.pop("COURSEKIT_BWRAP", None)
        server.close()
    seconds = time.monotonic() - start
    csv_right_after = target.read_text(encoding="utf-8") if target.exists() else ""
    time.sleep(3)  # the daemon would have rewritten the CSV by now
    with target.open(encoding="utf-8") as f:
        rows = {r["student_file"].split("/")[0]: r for r in csv.DictReader(f)}
    return {
        "kind": kind,
        "rows": rows,
        "result": result,
        "seconds": seconds,
        "csv_right_after": csv_right_after,
        "csv_later": target.read_text(encoding="utf-8"),
        "connections": server.connections,
        "daemons": _daemons(),
        "names": [*notebooks, *MALFORMED, "huge", "symlink"],
        "notebooks": notebooks,
    }


def score(graded, name: str) -> tuple[str, str]:
    row = graded["rows"][name]
    return row["tests_passed"], row["tests_total"]


def test_the_run_ends_with_a_row_for_every_submission(graded):
    assert graded["result"].returncode == 0, graded["result"].stderr
    assert "Traceback" not in graded["result"].stderr
    assert sorted(graded["rows"]) == sorted(graded["names"])


def test_without_bubblewrap_grading_is_refused_unless_the_teacher_says_so(tmp_path):
    subs = tmp_path / "class"
    (subs / "alice").mkdir(parents=True)
    (subs / "alice" / "rates.ipynb").write_text(json.dumps(student(RIGHT)), encoding="utf-8")
    os.environ["COURSEKIT_BWRAP"] = "none"
    try:
        result = run_cli("exercises", "grade", subs, "--course", GOOD)
    finally:
        os.environ.pop("COURSEKIT_BWRAP", None)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "bubblewrap is not available" in result.stderr and "--no-sandbox" in result.stderr
    assert not (subs / "grades.csv").exists()


def test_honest_submissions_score_full_marks(graded):
    assert score(graded, "alice") == ("2", "2")
    assert score(graded, "bob") == ("2", "2")  # 0.6 is 60 / 100
    assert score(graded, "honest-magics") == ("2", "2")
    # A cell id that is not a string is no id: the test is found by its nbgrader grade_id.
    assert score(graded, "honest-non-string-id") == ("2", "2")
    assert score(graded, "blank") == ("0", "2")


FORGERS = [
    "forged-duplicate-ids",
    "forged-untagged-tests",
    "forged-own-test",
    "forged-grade-id-twins",
    "forged-renamed-tests",
    "hook-input-transformer",
    "hook-ast-transformer",
    "hook-custom-exc",
    "hook-showtraceback",
    "hook-settrace-skips-asserts",
    "hook-builtins",
    "hook-audit",
    "hook-fake-output",
    "hook-exit-early",
    "hook-json",
    "hook-gc-callbacks",
    "hook-thread",
    "rebind-abs-in-namespace",
    "always-equal",
    "stack-walk",
    "forged-wire",
]


@pytest.mark.parametrize("name", FORGERS)
def test_forged_tests_and_hooks_score_what_a_blank_scores(graded, name):
    assert score(graded, name) == score(graded, "blank")


@pytest.mark.parametrize("name", ["daemon-rewrites-csv", "fork-bomb", "memory-bomb", "cpu-spin"])
def test_processes_and_limits_score_what_a_blank_scores(graded, name):
    assert score(graded, name) == score(graded, "blank")


def test_no_daemon_outlives_the_run_or_rewrites_the_csv(graded):
    assert graded["daemons"] == []
    assert graded["csv_later"] == graded["csv_right_after"]
    assert "daemon-rewrites-csv" in graded["csv_later"]


def test_cpu_spin_is_stopped_by_the_time_limit(graded):
    assert graded["rows"]["cpu-spin"]["note"], graded["rows"]["cpu-spin"]
    # Bounded: no submission runs longer than its budget (10 s x 5 cells + 30 s), two at once.
    budget = 10 * 5 + 30
    assert graded["seconds"] < (len(graded["names"]) / 2 + 2) * budget


def test_every_row_says_what_became_of_each_test(graded):
    for name, row in graded["rows"].items():
        tests = row["tests"]
        assert tests.count("rates-tests:") == 1 and tests.count("rates-zero:") == 1, (name, row)
    blank = graded["rows"]["blank"]["tests"]
    assert "error in the student's code (0/1) - NotImplementedError" in blank
    assert "rates-zero: passed (1/1)" in graded["rows"]["alice"]["tests"]
    assert "failed (0/1) - AssertionError" in graded["rows"]["rebind-abs-in-namespace"]["tests"]
    # An object that is not data is never asked whether it equals something.
    equal = graded["rows"]["always-equal"]["tests"]
    assert "TypeError: unsupported operand type(s) for -: 'submission_object_not_data'" in equal


@needs_bwrap
def test_the_course_and_the_harness_are_not_writable_from_a_job(graded):
    if graded["kind"] != "bwrap":
        pytest.skip("only bubblewrap shuts a submission out of the file system and network")
    for path in ("src/coursekit/exercises/harness.py", "src/coursekit/exercises/tester.py"):
        assert "written by a submission" not in (REPO / path).read_text(encoding="utf-8")
    assert "written by a submission" not in TEACHER.read_text(encoding="utf-8")
    assert score(graded, "writes-course-and-harness") == score(graded, "blank")


def test_a_gigabyte_of_output_is_cut_off(graded):
    assert score(graded, "output-1gb") == score(graded, "blank")
    assert "printed more than" in graded["rows"]["output-1gb"]["note"]


@pytest.mark.parametrize("name", [*MALFORMED, "huge", "symlink"])
def test_a_malformed_submission_is_a_row_with_a_note(graded, name):
    row = graded["rows"][name]
    assert (row["tests_passed"], row["tests_total"]) == ("0", "2")
    assert row["note"], row


@needs_bwrap
@pytest.mark.parametrize(
    "name",
    ["thief-cmdline", "thief-path", "thief-parent-folder", "peer-copy", "network", "fs-thief"],
)
def test_a_sandboxed_submission_sees_no_solution_no_peer_no_network(graded, name):
    if graded["kind"] != "bwrap":
        pytest.skip("only bubblewrap shuts a submission out of the file system and network")
    assert score(graded, name) == score(graded, "blank")


@needs_bwrap
def test_no_connection_reached_the_teachers_machine(graded):
    if graded["kind"] != "bwrap":
        pytest.skip("only bubblewrap shuts a submission out of the file system and network")
    assert graded["connections"] == 0


def test_the_teachers_environment_is_not_passed_on(graded):
    assert score(graded, "thief-env") == score(graded, "blank")


@needs_bwrap
def test_a_submission_cannot_delete_another(graded):
    if graded["kind"] != "bwrap":
        pytest.skip("only bubblewrap shuts a submission out of the file system and network")
    assert score(graded, "alice") == ("2", "2")
    assert graded["rows"]["alice"]["note"] == ""
    assert "bob" in graded["rows"]


def test_the_run_says_whether_it_is_sandboxed(graded):
    if graded["kind"] == "bwrap":
        assert "NOT sandboxed" not in graded["result"].stderr
    else:
        assert "NOT sandboxed" in graded["result"].stderr


# ----------------------------------------------------------------- the CSV itself


def test_csv_cells_cannot_become_spreadsheet_formulas(tmp_path):
    from coursekit.exercises.grade import Grade, write_csv

    target = tmp_path / "grades.csv"
    write_csv(
        [
            Grade('=HYPERLINK("x")/a.ipynb', "+1", 0, 2, "-cmd|' /C calc'!A0", "=evil"),
            Grade("@SUM(A1)", "\tx", 1, 2, "\rnote", "+student"),
        ],
        target,
    )
    with target.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    cells = [r[k] for r in rows for k in ("student", "student_file", "exercise", "note")]
    assert all(c.startswith("'") for c in cells), cells
    assert [(r["tests_passed"], r["tests_total"]) for r in rows] == [("0", "2"), ("1", "2")]
    assert [p.name for p in tmp_path.iterdir()] == ["grades.csv"]  # no temp file left


def test_file_names_reach_the_terminal_and_the_csv_defused(tmp_path):
    subs = tmp_path / "class"
    for name in ("evil\x1b[2J", "=HYPERLINK(1)"):
        (subs / name).mkdir(parents=True)
        (subs / name / "rates.ipynb").write_text("not json", encoding="utf-8")
    target = tmp_path / "grades.csv"
    sandbox = [] if sandbox_kind() == "bwrap" else ["--no-sandbox"]
    result = run_cli("exercises", "grade", subs, "--course", GOOD, "-o", target, *sandbox)
    # Nothing could be graded (two files that are not notebooks): a non-zero exit.
    assert result.returncode == 1 and "could be graded" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "\x1b" not in result.stdout and "evil\\x1b[2J/rates.ipynb: 0/" in result.stdout
    with target.open(encoding="utf-8", newline="") as f:
        files = sorted(r["student_file"] for r in csv.DictReader(f))
    assert files == ["'=HYPERLINK(1)/rates.ipynb", "evil\x1b[2J/rates.ipynb"]
