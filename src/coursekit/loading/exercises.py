"""Exercise notebooks (`exercises/<unit>/<name>.ipynb`) → `Exercise` records, read once.

An exercise that is also a TOC page shares that page's reading.
"""

from __future__ import annotations

from pathlib import Path

from coursekit.exercises.files import find_exercises
from coursekit.loading.pages import read_page
from coursekit.model import Config, Exercise, Page, PageKind


def load_exercises(
    root: Path, pages: dict[str, Page], config: Config | None
) -> tuple[Exercise, ...]:
    """Every exercise notebook of the course, in path order."""
    out = []
    for ex in find_exercises(root):
        page = pages.get(ex.path)
        if page is None:
            page = read_page(root, Page(ex.path, PageKind.NOTEBOOK, in_toc=False), config)
        out.append(Exercise(page))
    return tuple(out)
