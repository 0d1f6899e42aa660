"""Nothing from outside the course and no solution reaches an output (issue 24).

Every directive and setting that makes the book read a file is confined to the course
(CK308), and nothing reaches into `exercises/` but the exercises' own pages, which show
the student edition, also for an exercise written as a MyST Markdown notebook (CK309).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import run_cli
from coursebuilder import make_course

SECRET = "OUTSIDE-SECRET-7431"
SOLUTION = "TEACHER-SECRET-9917"

MYST_EXERCISE = f"""---
jupytext:
  text_representation:
    format_name: myst
kernelspec:
  name: python3
  display_name: Python 3
  language: python
---

# Second exercise

Write `answer`.

```{{code-cell}} python
def answer():
    ### BEGIN SOLUTION
    return 42  # {SOLUTION}
    ### END SOLUTION
```

```{{code-cell}} python
:tags: [tests]

assert answer() == 42
```
"""


def _course(tmp_path: Path) -> Path:
    root = make_course(tmp_path / "course", {})
    (tmp_path / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    return root


def _with_page(root: Path, body: str) -> Path:
    page = root / "modules" / "01-demo" / "overview.md"
    page.write_text("# Demo\n\nThe demo module.\n\n" + body, encoding="utf-8")
    return page


def _refused(result: subprocess.CompletedProcess[str], where: str, code: str) -> None:
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    out = result.stdout + result.stderr
    assert where in out and code in out, out


def _published(root: Path) -> list[tuple[str, bytes]]:
    """Every file of the site and every zip member, as (name, bytes)."""
    build = root / "_build"
    out: list[tuple[str, bytes]] = []
    for path in sorted(build.rglob("*")):
        rel = path.relative_to(build).as_posix()
        if not path.is_file() or rel.startswith((".cache", "exercises/teacher")):
            continue
        out.append((rel, path.read_bytes()))
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as zf:
                out.extend((f"{rel}:{n}", zf.read(n)) for n in zf.namelist())
    return out


@pytest.mark.parametrize(
    "body",
    [
        "```{literalinclude} ../../../secret.txt\n```\n",
        "```{include} ../../../secret.txt\n```\n",
        "```{include} /../secret.txt\n```\n",
        "```{csv-table} Table\n:file: ../../../secret.txt\n```\n",
        "```{raw} html\n:file: ../../../secret.txt\n```\n",
        "```{literalinclude} overview.md\n:diff: ../../../secret.txt\n```\n",
        "```{raw} html\n:file: /dev/zero\n```\n",
    ],
    ids=["literalinclude", "include", "include-root", "csv-table", "raw", "diff", "device"],
)
def test_a_directive_reading_outside_the_course_stops_the_build_at_its_line(
    tmp_path: Path, body: str
) -> None:
    root = _course(tmp_path)
    _with_page(root, body)
    result = run_cli("build", root, "--only", "html", "--no-execute")
    _refused(result, "modules/01-demo/overview.md:5:4:", "CK308")
    html = root / "_build" / "html"
    assert not html.exists() or SECRET not in "".join(
        p.read_text(errors="replace") for p in html.rglob("*.html")
    )


def test_a_symlink_read_by_include_is_refused(tmp_path: Path) -> None:
    root = _course(tmp_path)
    (root / "modules" / "01-demo" / "notes.md").symlink_to(tmp_path / "secret.txt")
    _with_page(root, "```{include} notes.md\n```\n")
    result = run_cli("check", root)
    _refused(result, "modules/01-demo/overview.md:5:4:", "CK308")
    assert "symlink" in result.stdout


@pytest.mark.parametrize(
    ("setting", "where"),
    [
        ("bibtex_bibfiles: [../secret.txt]\n", "_config.yml:9:19:"),
        ("html:\n  favicon: ../secret.txt\n", "_config.yml:10:"),
        ("sphinx:\n  config:\n    html_extra_path: [..]\n", "_config.yml:11:"),
        ("sphinx:\n  config:\n    html_static_path: [/etc]\n", "_config.yml:11:"),
        ("sphinx:\n  config:\n    latex_logo: ../secret.txt\n", "_config.yml:11:"),
    ],
    ids=["bibtex_bibfiles", "favicon", "extra_path", "static_path", "latex_logo"],
)
def test_a_setting_reading_outside_the_course_is_an_error_at_its_line(
    tmp_path: Path, setting: str, where: str
) -> None:
    root = _course(tmp_path)
    config = root / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8") + setting, encoding="utf-8")
    result = run_cli("check", root)
    _refused(result, where, "CK308")


@pytest.mark.parametrize(
    "body",
    [
        "{download}`the exercise <../../exercises/01-demo/first.ipynb>`\n",
        "[the notebook](../../exercises/01-demo/first.ipynb)\n",
        "```{literalinclude} ../../exercises/01-demo/first.ipynb\n```\n",
        "{download}`/exercises/01-demo/data.csv`\n",
    ],
    ids=["download", "link", "literalinclude", "download-root"],
)
def test_reaching_into_the_exercises_is_refused_at_its_line(tmp_path: Path, body: str) -> None:
    root = _course(tmp_path)
    folder = root / "exercises" / "01-demo"
    folder.mkdir(parents=True)
    (folder / "first.ipynb").write_text("{}", encoding="utf-8")
    (folder / "data.csv").write_text("a,b\n", encoding="utf-8")
    _with_page(root, body)
    result = run_cli("check", root)
    _refused(result, "modules/01-demo/overview.md:5:", "CK309")


@pytest.mark.slow
def test_a_myst_markdown_exercise_is_published_as_its_student_edition(tmp_path: Path) -> None:
    root = _course(tmp_path)
    folder = root / "exercises" / "01-demo"
    folder.mkdir(parents=True)
    (folder / "second.md").write_text(MYST_EXERCISE, encoding="utf-8")
    toc = root / "_toc.yml"
    toc.write_text(
        toc.read_text(encoding="utf-8")
        + "        sections:\n          - file: exercises/01-demo/second\n",
        encoding="utf-8",
    )
    result = run_cli("build", root)
    assert result.returncode == 0, result.stderr
    published = _published(root)
    names = [name for name, _ in published]
    assert "exercises/student/01-demo/second.ipynb" in names
    assert any(n.endswith("exercises/01-demo/second.html") for n in names)
    leaks = [name for name, data in published if SOLUTION.encode() in data]
    assert leaks == []
    teacher = root / "_build" / "exercises" / "teacher" / "01-demo" / "second.ipynb"
    assert SOLUTION in teacher.read_text(encoding="utf-8")
