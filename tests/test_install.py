"""`pip install coursekit` beside a book's own packages leaves them as they are (real pip).

A teacher's environment already holds what their book's notebooks import. Installing
the tool into it must not downgrade or replace any of that: coursekit declares ranges,
and only this repository's own .venv is held to the exact set in constraints.txt.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

# A book's notebook stack and two packages the tool needs too, each at a real release
# other than the one constraints.txt pins (exact pins of the tool would replace them).
BOOK_PACKAGES = {
    "pandas": "2.3.3",
    "numpy": "2.2.6",
    "matplotlib": "3.10.8",
    "networkx": "3.4.2",
    "click": "8.1.8",
    "pyyaml": "6.0.2",
}

INSTALLED = (
    "import importlib.metadata as m, json; "
    "print(json.dumps({d.metadata['Name'].lower().replace('_', '-'): d.version "
    "for d in m.distributions()}))"
)


@pytest.mark.slow
def test_installing_coursekit_keeps_a_books_packages(tmp_path: Path) -> None:
    pinned = _constraints()
    for name, version in BOOK_PACKAGES.items():
        assert pinned[name] != version, f"{name} {version} is the tested pin; pick another"
    python = _venv(tmp_path / "venv")
    _pip(python, "install", *(f"{n}=={v}" for n, v in BOOK_PACKAGES.items()))
    before = _installed(python)
    assert {n: before[n] for n in BOOK_PACKAGES} == BOOK_PACKAGES

    # From the working tree, as `pip install coursekit` would: no constraints file.
    _pip(python, "install", str(_source_copy(tmp_path / "coursekit")))

    after = _installed(python)
    changed = {n: (v, after.get(n)) for n, v in before.items() if after.get(n) != v}
    assert changed == {}, f"pip install coursekit changed packages already there: {changed}"
    assert "coursekit" in after
    _pip(python, "check")  # what it added fits what was there
    bin_dir = python.parent
    helped = subprocess.run(
        [bin_dir / "coursekit", "--help"], capture_output=True, text=True, timeout=120
    )
    assert helped.returncode == 0, helped.stderr
    assert "Usage: coursekit" in helped.stdout
    # The tool works on those versions too, and its package data came along:
    # the starter course `coursekit init` writes checks clean.
    course = tmp_path / "course"
    for args in (["init", course], ["check", "--strict", course]):
        ran = subprocess.run(
            [bin_dir / "coursekit", *args], capture_output=True, text=True, timeout=300
        )
        assert ran.returncode == 0, ran.stdout + ran.stderr


def _constraints() -> dict[str, str]:
    lines = (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines()
    pairs = (line.split("==") for line in lines if "==" in line and not line.startswith("#"))
    return {name.lower().replace("_", "-"): version for name, version in pairs}


def _venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", folder], check=True, timeout=300)
    return folder / "bin" / "python"


def _pip(python: Path, *args: str) -> None:
    # pip's own cache is reused between runs; nothing here reads constraints.txt.
    result = subprocess.run(
        [python, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"pip {' '.join(args)} failed:\n{result.stdout}{result.stderr}"


def _installed(python: Path) -> dict[str, str]:
    out = subprocess.run([python, "-c", INSTALLED], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout))


def _source_copy(dest: Path) -> Path:
    """What a source distribution holds, so the build writes nothing into the repository."""
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(REPO / "src", dest / "src", ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, dest / name)
    return dest
