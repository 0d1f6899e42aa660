"""The course model: frozen records of what the course contains and where it came from.

Paths are strings relative to the course root in POSIX form (``modules/01-x/intro.md``),
so findings, manifests and URLs all speak the same language. Records hold only
validated values: a bad value is reported by `loading` as a finding and left out
(``None`` or empty) here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

PAGE_SUFFIXES = (".md", ".ipynb")


class PageKind(StrEnum):
    MARKDOWN = "markdown"
    NOTEBOOK = "notebook"


@dataclass(frozen=True, slots=True)
class TocEntry:
    """One entry of `_toc.yml`: a file, a glob or a URL, with its children."""

    kind: str  # "file" | "glob" | "url"
    target: str  # as written in the TOC
    line: int
    col: int
    path: str | None = None  # resolved page path (with suffix) when kind == "file" and found
    title: str | None = None
    children: tuple[TocEntry, ...] = ()

    def walk(self) -> tuple[TocEntry, ...]:
        """This entry and every descendant, in reading order."""
        out: list[TocEntry] = [self]
        for child in self.children:
            out.extend(child.walk())
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Toc:
    path: str  # "_toc.yml"
    root: TocEntry | None
    parts: tuple[tuple[str | None, tuple[TocEntry, ...]], ...] = ()  # (caption, chapters)

    def entries(self) -> tuple[TocEntry, ...]:
        """Every entry in reading order, the root first."""
        out: list[TocEntry] = []
        if self.root is not None:
            out.append(self.root)
        for _caption, chapters in self.parts:
            for chapter in chapters:
                out.extend(chapter.walk())
        return tuple(out)


@dataclass(frozen=True, slots=True)
class ScormSettings:
    versions: tuple[str, ...] = ("1.2", "2004")
    mastery_score: int = 80  # percent needed to pass a module quiz
    # "multi": one zip with a SCO per module; "single": one zip per module.
    packages: tuple[str, ...] = ("multi", "single")


@dataclass(frozen=True, slots=True)
class Config:
    """What coursekit reads from `_config.yml` (Jupyter Book's own file)."""

    path: str
    title: str
    author: str
    course_id: str  # used for package names and SCORM identifiers
    description: str = ""
    language: str = "en"
    version: str = "1.0"
    execute_timeout: int = 120  # seconds per cell
    scorm: ScormSettings = field(default_factory=ScormSettings)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Page:
    path: str  # with suffix, e.g. "modules/01-x/overview.md"
    kind: PageKind
    toc_line: int
    toc_col: int
    module: str | None = None  # the module folder name, when under modules/

    @property
    def docname(self) -> str:
        return self.path.rsplit(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Module:
    """A folder `modules/NN-slug/` with its `module.yml` and its pages in TOC order."""

    folder: str  # "01-crowdsourcing-to-digital-labor"
    number: int
    id: str
    title: str
    summary: str
    objectives: tuple[str, ...]
    duration: int | None  # minutes; None when invalid (already reported)
    yaml_path: str
    id_pos: tuple[int, int] = (1, 1)  # where the id is written (or the file start)
    quiz: str | None = None  # "modules/NN-slug/quiz.yml" when the module has a quiz
    pages: tuple[Page, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)  # keys other issues add (quiz, …)

    @property
    def dir(self) -> str:
        return f"modules/{self.folder}"


@dataclass(frozen=True, slots=True)
class Bibliography:
    path: str
    keys: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Course:
    root: Path
    config: Config | None
    toc: Toc | None
    modules: tuple[Module, ...] = ()
    pages: tuple[Page, ...] = ()  # every TOC page in reading order
    bibliography: Bibliography | None = None

    def module(self, folder: str) -> Module | None:
        return next((m for m in self.modules if m.folder == folder), None)
