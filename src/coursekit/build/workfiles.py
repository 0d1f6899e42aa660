"""What the build stages keep between builds under `_build/.cache/`, and what it is keyed by.

Small text records (the keys the published outputs were made from) are read as
None when missing and written atomically; `tools_key` is what every output also
depends on besides the course: coursekit's own code and the book tools' versions.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING

import coursekit

if TYPE_CHECKING:
    from coursekit.model import Course

BOOK_TOOLS = ("jupyter-book", "sphinx", "myst-nb", "sphinx-book-theme", "sphinxcontrib-bibtex")


@functools.cache
def tools_key() -> str:
    """coursekit's own code and the book tools' versions: what else the outputs depend on."""
    digest = hashlib.sha256(coursekit.__version__.encode())
    for name in BOOK_TOOLS:
        digest.update(f"{name}={importlib.metadata.version(name)}".encode())
    base = Path(coursekit.__file__).parent
    for path in sorted(base.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and not path.name.endswith(".pyc"):
            digest.update(path.relative_to(base).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def read_text(path: Path) -> str | None:
    """The record at `path`, or None when there is none (or it cannot be read)."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def write_text(path: Path, text: str) -> None:
    """Write the record at `path` whole or not at all (a temporary file, then a rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def sphinx_exclude(root: Path, out_dir: Path) -> list[str]:
    """Sphinx exclude pattern for the output folder when it lies inside the course."""
    try:
        return [out_dir.relative_to(root).as_posix()]
    except ValueError:
        return []


def read_bytes(path: Path) -> bytes:
    """The bytes of an input file; a missing one is a state too (its return changes a hash)."""
    try:
        return path.read_bytes()
    except OSError:
        return b"<missing>"


def packaging_files(course: Course) -> set[str]:
    """The course files the package stages read besides the site (config, TOC, modules)."""
    files = {u.yaml_path for u in course.units if u.yaml_path}
    files |= {u.quiz for u in course.units if u.quiz} | {q.path for q in course.quizzes}
    if course.config is not None:
        files.add(course.config.path)
    if course.toc is not None:
        files.add(course.toc.path)
    return files
