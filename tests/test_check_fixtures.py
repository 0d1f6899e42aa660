"""Every bad fixture course prints exactly its expected findings; the good one prints none.

Each `tests/fixtures/bad/<case>/` is a small course broken in one way, with an
`expected.txt` beside it listing every `path:line:col: CODE` the check must
report (messages are left out of the comparison so they can improve freely).
Cases git cannot carry (an empty folder, a symlink leading outside) are built
in a temporary folder by the tests below.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import REPO, run_cli

BAD = REPO / "tests" / "fixtures" / "bad"
GOOD = REPO / "tests" / "fixtures" / "good"
CASES = sorted(p.name for p in BAD.iterdir() if (p / "expected.txt").is_file())
POSITION = re.compile(r"^(.+?:\d+:\d+: CK\d{3})(?: .*)?$")


def reported(stdout: str) -> list[str]:
    """The `path:line:col: CODE` part of every output line, sorted."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    found = []
    for line in lines:
        match = POSITION.match(line)
        assert match, f"not a finding line: {line!r}"
        found.append(match.group(1))
    return sorted(found)


def expected(case: Path) -> list[str]:
    return sorted(line for line in (case / "expected.txt").read_text().splitlines() if line)


def test_there_are_enough_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES)
def test_bad_case_fails_cleanly_with_exactly_the_expected_findings(case):
    """Run through the real CLI: no traceback, exit code 1, and the full set of
    `path:line:col: CODE` equal to expected.txt."""
    result = run_cli("check", "--strict", BAD / case)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout + result.stderr
    assert reported(result.stdout) == expected(BAD / case)


def test_every_rule_has_a_bad_case():
    """Each code of the check families this suite owns is exercised by some case."""
    from coursekit.findings import CODES

    covered = {line.split()[-1] for case in CASES for line in expected(BAD / case)}
    covered |= {"CK113", "CK307"}  # the symlink cases below
    mine = {c for c in CODES if c[:3] in ("CK1", "CK2", "CK3", "CK5")}
    assert mine - covered == set()


def test_good_course_is_clean_under_strict():
    result = run_cli("check", "--strict", GOOD)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr.strip() == "coursekit check: clean"


def test_empty_folder_is_not_a_course(tmp_path):
    result = run_cli("check", tmp_path)
    assert result.returncode == 1
    assert reported(result.stdout) == ["_config.yml:0:0: CK100", "_toc.yml:0:0: CK100"]
    assert "Traceback" not in result.stderr


def test_symlink_leading_outside_the_course(tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_text("# Outside\n")
    course = tmp_path / "course"
    course.mkdir()
    (course / "_config.yml").write_text("title: T\nauthor: A\n")
    (course / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n  - file: leak\n")
    (course / "intro.md").write_text("# Intro\n")
    (course / "leak.md").symlink_to(outside)
    result = run_cli("check", course)
    assert result.returncode == 1
    assert reported(result.stdout) == ["_toc.yml:4:11: CK113"]
    assert "symlink" in result.stdout


def test_download_and_image_symlinks_leading_outside(tmp_path):
    """A {download} or image that is a symlink to an outside file would publish that file."""
    (tmp_path / "secret.txt").write_text("not for students\n")
    course = tmp_path / "course"
    course.mkdir()
    (course / "_config.yml").write_text("title: T\n")
    (course / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (course / "intro.md").write_text(
        "# Intro\n\nGet {download}`the data <data.txt>`.\n\n![A chart](chart.png)\n"
    )
    (course / "data.txt").symlink_to(tmp_path / "secret.txt")
    (course / "chart.png").symlink_to(tmp_path / "secret.txt")
    result = run_cli("check", course)
    assert result.returncode == 1
    assert reported(result.stdout) == ["intro.md:3:5: CK307", "intro.md:5:1: CK307"]


def test_an_image_in_a_folder_symlinked_outside(tmp_path):
    """A folder that is a symlink to outside the course leaks every file in it."""
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    course = tmp_path / "course"
    (course / "img").mkdir(parents=True)
    (course / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (course / "_config.yml").write_text("title: T\n")
    (course / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    (course / "intro.md").write_text(
        "# Intro\n\n![A logo](img/logo.png)\n\n![A chart](data/chart.png)\n"
    )
    (course / "data").symlink_to(tmp_path / "elsewhere")
    result = run_cli("check", course)
    assert result.returncode == 1
    assert reported(result.stdout) == ["intro.md:5:1: CK307"]


def test_check_changes_no_file(tmp_path):
    """`check` only reads: every file keeps its bytes and its modification time."""

    def snapshot() -> dict[str, tuple[bytes, int]]:
        return {
            str(p): (p.read_bytes(), p.stat().st_mtime_ns)
            for root in (GOOD, BAD)
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    before = snapshot()
    run_cli("check", GOOD)
    run_cli("check", BAD / "nb-error-output")
    assert snapshot() == before


def test_a_fifo_in_the_course_is_reported_not_waited_for(tmp_path):
    """Reading a FIFO would block forever; a page or exercise that is one is a finding."""
    import os

    course = tmp_path / "course"
    (course / "exercises" / "01-one").mkdir(parents=True)
    (course / "_config.yml").write_text("title: T\n")
    (course / "_toc.yml").write_text("format: jb-book\nroot: intro\n")
    os.mkfifo(course / "intro.md")
    os.mkfifo(course / "exercises" / "01-one" / "task.ipynb")
    result = run_cli("check", course)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "_toc.yml:2:7: CK110" in reported(result.stdout)
    assert "exercises/01-one/task.ipynb:1:1: CK400" in reported(result.stdout)
    assert "not a regular file" in result.stdout
