"""Shared test helpers: the repository root and a way to run the real CLI."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from coursebuilder import copy_course

REPO = Path(__file__).resolve().parent.parent


def ctrl_c_works() -> None:
    """For `preexec_fn`: a child that the test stops with Ctrl-C (SIGINT) must not
    ignore it. A shell's background job (`make test &`) ignores SIGINT, and every
    process it starts would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `coursekit ARGS` in a subprocess, as a user would, and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "coursekit", *map(str, args)],
        cwd=cwd or REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


# What tests/fixtures/exercises/good hides from students: solution code, a stale output
# of it, a cell-metadata hint, notebook metadata, the mark scheme and its image
# attachment. None may reach a student edition or a built site.
EXERCISE_SECRETS = [
    "secret_factor",
    "60 / 100",
    "hint: use",
    "SOLUTION-IN-METADATA",
    "UNPAID-SEARCH-TIME",
    "U09MVVRJT04tSU1BR0U=",
]


@dataclass(frozen=True)
class BuiltCourse:
    """The bundled course copied to a temp folder and built there once by the real CLI."""

    root: Path  # the copy of the course sources
    out: Path  # root / "_build"
    result: subprocess.CompletedProcess[str]  # the `coursekit build` run


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], Path]
) -> BuiltCourse:
    """A course made by `make(folder)` and built by the CLI ONCE per test run.

    Under pytest-xdist every worker is a process of its own with its own session
    fixtures; the first to get here builds into the run's shared temp folder (under a
    file lock) and the others wait for it and read what it built, so a run builds each
    course once, not once per worker.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    record = shared / f"{name}.json"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not record.exists():
            root = make(shared / name)
            result = run_cli("build", root, cwd=root)
            saved = {"root": str(root), "code": result.returncode}
            record.write_text(
                json.dumps({**saved, "stdout": result.stdout, "stderr": result.stderr}),
                encoding="utf-8",
            )
    built = json.loads(record.read_text(encoding="utf-8"))
    root = Path(built["root"])
    result = subprocess.CompletedProcess(
        ["coursekit", "build", str(root)], built["code"], built["stdout"], built["stderr"]
    )
    if result.returncode != 0:
        pytest.fail(f"coursekit build of {name} failed:\n{result.stdout}\n{result.stderr}")
    return BuiltCourse(root, root / "_build", result)


@pytest.fixture(scope="session")
def built_course(tmp_path_factory: pytest.TempPathFactory) -> BuiltCourse:
    """The bundled course built ONCE per test run (execution included), for all workers.

    Shared by the build, browser, SCORM and exercise tests; treat it as read-only.
    """
    return built_once(tmp_path_factory, "course", lambda folder: copy_course(folder))


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (see tests/browser.py)."""
    from browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context and page per test."""
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory: pytest.TempPathFactory) -> BuiltCourse:
    """tests/demobook.py's book (a quiz, an exercise, a DataFrame), built ONCE per run."""
    from demobook import make_demo_book

    return built_once(
        tmp_path_factory, "demo-book", lambda folder: make_demo_book(folder / "course")
    )
