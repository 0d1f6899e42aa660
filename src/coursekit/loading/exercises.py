"""Exercise notebooks (`exercises/<unit>/<name>.ipynb`, or `.md` MyST Markdown notebooks)
→ `Exercise` records, read once.

An exercise that is also a TOC page shares that page's reading. A MyST Markdown
exercise is converted to a notebook (as jupytext and the book read it), so the
editions, the self-check and the grading see the same cells as for an `.ipynb`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from coursekit.formats.mystnb import is_myst_notebook
from coursekit.loading.myst_project import is_myst_project
from coursekit.loading.notebooks import read_notebook
from coursekit.loading.pages import read_page
from coursekit.model import EXERCISES_DIR, Config, Exercise, Page, PageKind, is_exercise


def exercise_paths(root: Path) -> list[str]:
    """Every exercise notebook under `root` (`model.is_exercise`), sorted: the `.ipynb`
    files and the `.md` files that are MyST Markdown notebooks."""
    base = root / EXERCISES_DIR
    if not base.is_dir():
        return []
    found = [path.relative_to(root).as_posix() for path in base.glob("*/*.ipynb")]
    mystmd = is_myst_project(root)  # Jupyter Book 2 reads a .md as a notebook by its own rule
    found += [
        path.relative_to(root).as_posix()
        for path in base.glob("*/*.md")
        if path.is_file() and _myst_notebook(path, mystmd)
    ]
    # Folder by folder, as paths sort (`a/` before `a-b/`).
    return sorted((rel for rel in found if is_exercise(rel)), key=lambda rel: rel.split("/"))


def _myst_notebook(path: Path, mystmd: bool) -> bool:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            head = f.read(64 * 1024)
    except OSError:
        return False
    return is_myst_notebook(head, mystmd=mystmd)


def load_exercises(
    root: Path,
    pages: Mapping[str, Page] | None = None,
    config: Config | None = None,
    allowed: frozenset[Path] = frozenset(),
) -> tuple[Exercise, ...]:
    """Every exercise notebook of the course at `root`, in path order.

    `pages`: the TOC pages already read (by path), `config` the course's, `allowed` the
    files outside it that `coursekit.read_outside` lists (resolved, as `read_page` takes).
    """
    paths = exercise_paths(root)
    return tuple(read_exercise(root, rel, pages or {}, config, allowed) for rel in paths)


def read_exercise(
    root: Path,
    rel: str,
    pages: Mapping[str, Page] | None = None,
    config: Config | None = None,
    allowed: frozenset[Path] = frozenset(),
) -> Exercise:
    """The notebook `rel` under `root` as an exercise (its TOC page's reading when it has one)."""
    page = (pages or {}).get(rel)
    if page is None:
        kind = PageKind.NOTEBOOK if rel.endswith(".ipynb") else PageKind.MARKDOWN
        page = read_page(root, Page(rel, kind, in_toc=False), config, allowed)
    if not rel.endswith(".ipynb") and page.text is not None and page.notebook is None:
        page = _as_notebook(page)
    return Exercise(page, root)


def _as_notebook(page: Page) -> Page:
    """A MyST Markdown exercise with its notebook (cells as jupytext reads them)."""
    import jupytext

    try:
        nb = jupytext.reads(page.text or "", fmt="md:myst")
    except Exception as exc:  # jupytext raises many kinds for a bad text notebook
        from coursekit.findings import make

        msg = f"the MyST Markdown notebook cannot be read as a notebook: {exc}"
        return replace(page, problems=(*page.problems, make("CK400", page.path, 1, 1, msg)))
    text = json.dumps(nb, ensure_ascii=False)
    source, problems = read_notebook(page.path, text)
    return replace(page, notebook=source, problems=(*page.problems, *problems))
