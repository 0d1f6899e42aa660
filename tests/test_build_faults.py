"""What a maintainer sees when a build goes wrong, and what is left of the previous build."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ctrl_c_works, run_cli
from coursebuilder import make_course, snapshot, write_notebook

GOOD = ("x = 1", "print(x + 1)")


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A tiny course already built once, so each test can check the old output survives."""
    root = make_course(tmp_path / "course", {"first": GOOD, "second": GOOD})
    result = run_cli("build", root, "--only", "html")
    assert result.returncode == 0, result.stderr
    return root


def _break(root: Path, *cells: str) -> None:
    write_notebook(root / "modules/01-demo/second.ipynb", "Second", *cells)


def _assert_failed_cleanly(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def test_a_failing_cell_names_notebook_cell_and_error(course: Path) -> None:
    before = snapshot(course / "_build" / "html")
    _break(course, "x = 1", "raise ValueError('the data file is empty')")
    result = run_cli("build", course, "--only", "html")
    _assert_failed_cleanly(
        result, "modules/01-demo/second.ipynb", "cell 3", "ValueError: the data file is empty"
    )
    assert snapshot(course / "_build" / "html") == before
    assert not list((course / "_build").glob(".staging-*"))


def test_a_cell_over_the_timeout_stops_the_build(course: Path) -> None:
    _break(course, "import time\ntime.sleep(60)")
    result = run_cli("build", course, "--only", "html", "--timeout", "2")
    _assert_failed_cleanly(
        result, "modules/01-demo/second.ipynb", "cell 2", "did not finish within the 2 s timeout"
    )


def test_a_dead_kernel_stops_the_build(course: Path) -> None:
    _break(course, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    result = run_cli("build", course, "--only", "html")
    _assert_failed_cleanly(result, "modules/01-demo/second.ipynb", "kernel died", "cell 2")


def _start_build(root: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "coursekit", "build", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=ctrl_c_works,
    )


def _wait_for(process: subprocess.Popen[str], text: str, timeout: float = 60) -> str:
    """Read the build's stderr until `text` shows up (the build is then at that point)."""
    assert process.stderr is not None
    seen = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        if text in line:
            return seen
    process.kill()
    pytest.fail(f"the build never printed {text!r}:\n{seen}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_build_leaves_the_previous_build(course: Path, sig: int) -> None:
    before = snapshot(course / "_build" / "html")
    _break(course, "import time\ntime.sleep(60)")
    build = _start_build(course, "--only", "html")
    _wait_for(build, "executing modules/01-demo/second.ipynb")
    time.sleep(1)  # let the kernel start running the cell
    build.send_signal(sig)
    _out, err = build.communicate(timeout=30)
    assert build.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert snapshot(course / "_build" / "html") == before
    assert not list((course / "_build").glob(".staging-*"))


def test_a_second_build_at_once_gets_the_lock_message(course: Path) -> None:
    _break(course, "import time\ntime.sleep(4)", "print('done')")
    first = _start_build(course, "--only", "html")
    _wait_for(first, "executing modules/01-demo/second.ipynb")
    second = run_cli("build", course, "--only", "html")
    assert second.returncode == 1
    assert "another build is already writing to" in second.stderr
    assert f"process {first.pid}" in second.stderr
    _out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    html = (course / "_build/html/modules/01-demo/second.html").read_text(encoding="utf-8")
    assert "done" in html
