"""Exercise notebooks (`exercises/<unit>/<name>.ipynb`) → `Exercise` records, read once.

An exercise that is also a TOC page shares that page's reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from coursekit.loading.pages import read_page
from coursekit.model import EXERCISES_DIR, Config, Exercise, Page, PageKind, is_exercise


def exercise_paths(root: Path) -> list[str]:
    """Every exercise notebook under `root` (`model.is_exercise`), sorted."""
    base = root / EXERCISES_DIR
    if not base.is_dir():
        return []
    found = (path.relative_to(root).as_posix() for path in base.glob("*/*.ipynb"))
    # Folder by folder, as paths sort (`a/` before `a-b/`).
    return sorted((rel for rel in found if is_exercise(rel)), key=lambda rel: rel.split("/"))


def load_exercises(
    root: Path, pages: Mapping[str, Page] | None = None, config: Config | None = None
) -> tuple[Exercise, ...]:
    """Every exercise notebook of the course at `root`, in path order.

    `pages`: the TOC pages already read (by path), `config` the course's.
    """
    return tuple(read_exercise(root, rel, pages or {}, config) for rel in exercise_paths(root))


def read_exercise(
    root: Path, rel: str, pages: Mapping[str, Page] | None = None, config: Config | None = None
) -> Exercise:
    """The notebook `rel` under `root` as an exercise (its TOC page's reading when it has one)."""
    page = (pages or {}).get(rel)
    if page is None:
        page = read_page(root, Page(rel, PageKind.NOTEBOOK, in_toc=False), config)
    return Exercise(page, root)
