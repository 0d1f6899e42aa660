"""Exercise notebooks as plain JSON dicts (from the model's reading), and writing them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from coursekit.errors import CourseError
from coursekit.findings import Finding
from coursekit.model import EXERCISES_DIR, Exercise, NotebookSource

__all__ = [
    "EXERCISES_DIR",
    "dumps_notebook",
    "exercise_notebook",
    "read_notebook",
    "select_exercises",
    "write_notebook",
]


def exercise_notebook(exercise: Exercise) -> dict[str, Any]:
    """The exercise's notebook as a dict of its own (the model's reading, copied);
    CourseError when it could not be read as one."""
    page = exercise.page
    return notebook_dict(page.notebook, page.problems, exercise.path)


def read_notebook(path: Path, shown: str | None = None) -> dict[str, Any]:
    """The notebook at `path` as a dict; CourseError (naming `shown`) when it is not one.

    For a notebook outside the course model (a submission, a test's fixture).
    """
    from coursekit.loading.notebooks import read_notebook as parse

    name = shown or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CourseError(f"{name}: not a readable notebook ({exc})") from exc
    source, problems = parse(name, text)
    return notebook_dict(source, problems, name)


def notebook_dict(
    source: NotebookSource | None, problems: tuple[Finding, ...] | list[Finding], shown: str
) -> dict[str, Any]:
    """A copy of the notebook's JSON, each cell's source one string (on disk it may be a
    list of lines); CourseError naming `shown` when there is no notebook."""
    if source is None:
        why = problems[0].message if problems else "unreadable"
        raise CourseError(f"{shown}: not a readable notebook ({why})")
    data = copy.deepcopy(source.data)
    if not isinstance(data.get("cells"), list):
        raise CourseError(f"{shown}: not a notebook (no list of cells)")
    for cell in data["cells"]:
        if isinstance(cell, dict) and isinstance(cell.get("source"), list):
            cell["source"] = "".join(cell["source"])
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
    from coursekit.loading.exercises import load_exercises, read_exercise

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
        for ex in load_exercises(root)
        if ex.file.resolve() == path or ex.file.resolve().is_relative_to(path)
    ]
    if not chosen and path.is_file() and path.suffix == ".ipynb":
        return path.parent, [read_exercise(path.parent, path.name)]
    if not chosen:
        raise CourseError(
            f"{path}: no exercise notebooks here (looked for "
            f"{EXERCISES_DIR}/NN-slug/*.ipynb under {root})"
        )
    return root, chosen
