"""Finding exercise notebooks and reading/writing them as plain JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coursekit.errors import CourseError

EXERCISES_DIR = "exercises"


@dataclass(frozen=True, slots=True)
class Exercise:
    """One notebook `exercises/NN-slug/name.ipynb`; `name` is `NN-slug/name`."""

    root: Path
    path: str  # relative to the course root, POSIX

    @property
    def name(self) -> str:
        return self.path.removeprefix(f"{EXERCISES_DIR}/").removesuffix(".ipynb")

    @property
    def file(self) -> Path:
        return self.root / self.path


def find_exercises(root: Path) -> list[Exercise]:
    """Every `exercises/*/*.ipynb` under `root`, sorted; checkpoints and hidden files skipped."""
    base = root / EXERCISES_DIR
    if not base.is_dir():
        return []
    found = []
    for path in sorted(base.glob("*/*.ipynb")):
        rel = path.relative_to(root)
        if any(part.startswith((".", "_")) for part in rel.parts):
            continue
        found.append(Exercise(root, rel.as_posix()))
    return found


def read_notebook(path: Path, shown: str | None = None) -> dict[str, Any]:
    """The notebook at `path` as a dict; CourseError (naming `shown`) when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CourseError(f"{shown or path}: not a readable notebook ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise CourseError(f"{shown or path}: not a notebook (no list of cells)")
    for cell in data["cells"]:
        if isinstance(cell, dict) and isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])  # on disk, a list of lines is allowed
    return data


def dumps_notebook(nb: dict[str, Any]) -> str:
    """The notebook as Jupyter writes it (indent 1, keys sorted, final newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_notebook(nb: dict[str, Any], path: Path) -> None:
    """Write `nb` to `path`, creating parent folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps_notebook(nb), encoding="utf-8")


def select_exercises(path: Path) -> tuple[Path, list[Exercise]]:
    """The course root holding `path` and its exercises at or under `path`.

    `path` may be the course folder, a folder inside `exercises/`, or one notebook
    (also a notebook outside any course, checked on its own).
    """
    path = path.resolve()
    root = next(
        (
            p
            for p in (path, *path.parents)
            if (p / "_config.yml").is_file() or (p / EXERCISES_DIR).is_dir()
        ),
        None,
    )
    if root is None:
        root = path if path.is_dir() else path.parent
    chosen = [
        ex
        for ex in find_exercises(root)
        if ex.file.resolve() == path or ex.file.resolve().is_relative_to(path)
    ]
    if not chosen and path.is_file() and path.suffix == ".ipynb":
        return path.parent, [Exercise(path.parent, path.name)]
    if not chosen:
        raise CourseError(
            f"{path}: no exercise notebooks here (looked for "
            f"{EXERCISES_DIR}/NN-slug/*.ipynb under {root})"
        )
    return root, chosen
