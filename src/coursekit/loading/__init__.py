"""Files → `Course`: the whole course read and parsed once. Nothing raises for a bad course.

`load_course` is the only entry point. It reads, in this order, each by its own
module (one parser per format):

    config.py        _config.yml            → Config
    myst_project.py  myst.yml (Jupyter Book 2) → Config and Toc, instead of the two above
    toc.py           _toc.yml               → Toc (every file entry resolved)
    pages.py         every TOC page         → Page (markdown.py, notebooks.py)
    units.py         TOC parts + module.yml → Unit
    quizzes.py       quiz files             → Quiz (its Markdown by quiz/markdown.py)
    exercises.py     exercises/*/*.ipynb    → Exercise
    bibliography.py  the .bib files         → Bibliography
    files.py         what links name        → FileIndex (the checks read no file)

and returns the frozen model plus the findings about the files' own shape (parse
errors, types, keys, TOC targets). What the files *say* is judged by the checks
(`coursekit.checks`), which only look at the model.
"""

from __future__ import annotations

import gc
import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from coursekit.findings import Finding, make
from coursekit.loading.bibliography import load_bibliography
from coursekit.loading.config import CONFIG_FILE, load_config, outside_files
from coursekit.loading.exercises import load_exercises
from coursekit.loading.files import index_files
from coursekit.loading.myst_project import is_myst_project, load_myst_project
from coursekit.loading.pages import Parses, kind_of, read_page
from coursekit.loading.quizzes import load_quiz
from coursekit.loading.reads import confinement
from coursekit.loading.toc import TOC_FILE, load_toc
from coursekit.loading.units import (
    MODULE_FILE,
    MODULE_FOLDER,
    MODULES_DIR,
    QUIZ_FILE,
    load_units,
)
from coursekit.model import PAGE_SUFFIXES, Config, Course, Page, QuizUse, Toc, Unit
from coursekit.quiz.model import Quiz

__all__ = [
    "CONFIG_FILE",
    "MODULES_DIR",
    "MODULE_FILE",
    "MODULE_FOLDER",
    "QUIZ_FILE",
    "TOC_FILE",
    "LoadResult",
    "Parses",
    "load_course",
]


@dataclass(frozen=True, slots=True)
class LoadResult:
    course: Course
    findings: tuple[Finding, ...]


def load_course(root: Path, parses: Parses | None = None) -> LoadResult:
    """Read the course at `root`; never raises for a bad course. `parses`: the pages'
    parses a caller keeps from one load to the next (`coursekit serve`), else none."""
    with _collector_paused():
        return _load(root.resolve(), parses)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Loading makes hundreds of thousands of small objects (notebook JSON, tokens,
    records) and no reference cycles; Python's cycle collector would walk them all
    again and again as they pile up (about a tenth of `coursekit check` on 2,000 +
    2,000 files, benchmarks/bench_check.py). It runs again once the load is done.

    The objects made meanwhile are then moved to the oldest generation (`freeze`, then
    `unfreeze`), still collectable: else they all sit in the youngest one, and the
    first collection after the load walks every one of them (3 % of that check)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.unfreeze()
            gc.enable()


def _load(root: Path, parses: Parses | None = None) -> LoadResult:
    findings: list[Finding] = []
    if not root.is_dir():
        findings.append(make("CK100", str(root), 0, 0, "not a folder; give the book's folder"))
        return LoadResult(Course(root, None, None), tuple(findings))
    if is_myst_project(root):  # Jupyter Book 2: myst.yml holds the config and the TOC
        config, config_doc, toc = load_myst_project(root, findings)
        suffixes: tuple[str, ...] = PAGE_SUFFIXES
    else:
        config, config_doc = load_config(root, findings)
        suffixes = config.page_suffixes if config else PAGE_SUFFIXES
        toc = _load_toc(root, findings, suffixes)
    outside = outside_files(root, config, config_doc)  # coursekit.read_outside, resolved
    allowed = frozenset(f.path for f in outside)
    pages = _read_pages(root, toc, config, allowed, parses)
    by_path = {p.path: p for p in pages}
    uses = _quiz_uses(pages)
    units, layout = load_units(root, toc, by_path, config, config_doc, uses, findings)
    quiz_problems: list[Finding] = []
    quizzes = _load_quizzes(root, uses, units, layout, quiz_problems)
    findings.extend(quiz_problems)
    course = Course(
        root=root,
        config=config,
        toc=toc,
        units=units,
        pages=pages,
        bibliography=load_bibliography(root, config),
        quizzes=quizzes,
        quiz_uses=uses,
        quiz_problems=tuple(quiz_problems),
        exercises=load_exercises(root, by_path, config, allowed),
        module_layout=layout,
        files=replace(
            index_files(root, pages, uses, suffixes, layout and config is not None),
            confinement=tuple(confinement(root, pages, config_doc, outside)),
        ),
    )
    return LoadResult(course, tuple(findings))


def _load_toc(root: Path, findings: list[Finding], suffixes: tuple[str, ...]) -> Toc | None:
    if not (root / TOC_FILE).is_file():
        msg = "no _toc.yml here; Jupyter Book needs it to know the pages"
        findings.append(make("CK100", TOC_FILE, 0, 0, msg))
        return None
    return load_toc(root, findings, suffixes)


def _read_pages(
    root: Path,
    toc: Toc | None,
    config: Config | None,
    allowed: frozenset[Path],
    parses: Parses | None,
) -> tuple[Page, ...]:
    if toc is None:
        return ()
    pages = []
    for entry in toc.entries():
        if entry.kind == "file" and entry.path:
            page = Page(entry.path, kind_of(entry.path), entry.line, entry.col)
            pages.append(read_page(root, page, config, allowed, parses))
    return tuple(pages)


def _quiz_uses(pages: tuple[Page, ...]) -> tuple[QuizUse, ...]:
    """Every ```{quiz} directive of the pages and the file it names."""
    uses = []
    for page in pages:
        for d in page.markup.directives if page.markup else ():
            if d.name == "quiz":
                base = posixpath.dirname(page.path)
                target = posixpath.normpath(posixpath.join(base, d.argument or QUIZ_FILE))
                line, col = page.where(d.pos)
                uses.append(QuizUse(page.path, line, col, target))
    return tuple(uses)


def _load_quizzes(
    root: Path,
    uses: tuple[QuizUse, ...],
    units: tuple[Unit, ...],
    layout: bool,
    findings: list[Finding],
) -> tuple[Quiz, ...]:
    files = {u.quiz for u in uses if _inside_file(root, u.quiz)}
    files |= {u.quiz for u in units if u.quiz}
    if layout:
        base = root / MODULES_DIR
        files |= {p.relative_to(root).as_posix() for p in base.glob(f"*/{QUIZ_FILE}")}
    quizzes = []
    for rel in sorted(files):
        quiz, problems = load_quiz(root, rel)
        findings.extend(problems)
        if quiz is not None:
            quizzes.append(quiz)
    return tuple(quizzes)


def _inside_file(root: Path, rel: str) -> bool:
    return not rel.startswith("../") and rel != ".." and (root / rel).is_file()
