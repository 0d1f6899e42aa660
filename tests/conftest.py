"""Shared test helpers: the repository root and a way to run the real CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
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


@pytest.fixture(scope="session")
def built_course(tmp_path_factory: pytest.TempPathFactory) -> BuiltCourse:
    """The bundled course built ONCE per test session (execution included).

    Shared by the build, browser, SCORM and exercise tests; treat it as read-only.
    """
    root = copy_course(tmp_path_factory.mktemp("course"))
    result = run_cli("build", root, cwd=root)
    if result.returncode != 0:
        pytest.fail(
            f"coursekit build of the bundled course failed:\n{result.stdout}\n{result.stderr}"
        )
    return BuiltCourse(root, root / "_build", result)


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
    """tests/demobook.py's book (a quiz, an exercise, a DataFrame), built ONCE by the CLI."""
    from demobook import make_demo_book

    root = make_demo_book(tmp_path_factory.mktemp("demo-book") / "course")
    result = run_cli("build", root, cwd=root)
    if result.returncode != 0:
        pytest.fail(f"coursekit build of the demo book failed:\n{result.stdout}\n{result.stderr}")
    return BuiltCourse(root, root / "_build", result)
