"""The course model: one frozen picture of the course, built once by `coursekit.loading`.

Everything a check or a stage needs is here, parsed: the configuration, the TOC,
the units (SCOs), every page with its parsed Markdown or notebook, the quizzes,
the exercises and the bibliography, with source positions. Checks are pure
functions of a `Course`; no check and no stage reads a source file again.

Paths are strings relative to the course root in POSIX form (``modules/01-x/intro.md``),
so findings, manifests and URLs all speak the same language. Records hold only
validated values: a bad value is reported by `loading` as a finding and left out
(``None`` or empty) here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from coursekit.execute.settings import ExecuteSettings
from coursekit.findings import Finding
from coursekit.formats import positions
from coursekit.formats.frozen import EMPTY
from coursekit.quiz.model import Quiz

PAGE_SUFFIXES = (".md", ".ipynb")
EXERCISES_DIR = "exercises"


EXERCISE_SUFFIXES = (".ipynb", ".md")  # a notebook, or a MyST Markdown notebook


def is_exercise(path: str) -> bool:
    """Whether the file `path` (relative to the course root) is an exercise notebook:
    `exercises/<unit>/<name>.ipynb` or `.md` (a MyST Markdown notebook: the book reads
    it as one, and shows the student edition of either), no part of it hidden (`.x`) or
    private (`_x`)."""
    parts = path.split("/")
    return (
        len(parts) == 3
        and parts[0] == EXERCISES_DIR
        and parts[2].endswith(EXERCISE_SUFFIXES)
        and not any(part.startswith((".", "_")) for part in parts)
    )


class PageKind(StrEnum):
    MARKDOWN = "markdown"  # a MyST Markdown page
    NOTEBOOK = "notebook"  # an .ipynb file
    TEXT_NOTEBOOK = "text-notebook"  # a MyST Markdown notebook or a jupytext format (.Rmd…)


# ------------------------------------------------------------------ parsed Markdown


@dataclass(frozen=True, slots=True)
class Pos:
    """Where something is written: 1-based line and column in a cell (-1: the page text)."""

    cell: int
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Heading:
    pos: Pos
    level: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A link or an image. `via` is "markdown", "html" or the directive, e.g. "{figure}"."""

    pos: Pos
    target: str
    image: bool
    alt: str = ""
    via: str = "markdown"


@dataclass(frozen=True, slots=True)
class Role:
    """A MyST role such as {ref}`label`; `content` is what is between the backticks."""

    pos: Pos
    name: str
    content: str


@dataclass(frozen=True, slots=True)
class Label:
    pos: Pos
    name: str


@dataclass(frozen=True, slots=True)
class Directive:
    """A ```{name} argument fence (with its options)."""

    pos: Pos
    name: str
    argument: str
    options: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Markup:
    """What the checks and stages need from one page (every markdown cell of a notebook)."""

    headings: tuple[Heading, ...] = ()
    links: tuple[Link, ...] = ()
    roles: tuple[Role, ...] = ()
    labels: tuple[Label, ...] = ()
    directives: tuple[Directive, ...] = ()
    terms: frozenset[str] = frozenset()  # {glossary} terms, lower-cased as Sphinx matches them
    # Raw HTML `<script … />` and the like: (where, tag name) of each (see CK311).
    self_closed: tuple[tuple[Pos, str], ...] = ()
    # Inline `$…$` maths that reads as prose between two prices (see CK312).
    money_maths: tuple[tuple[Pos, str], ...] = ()

    @property
    def bibliography_all(self) -> bool:
        """A {bibliography} with :all: cites every entry."""
        return any(
            d.name == "bibliography" and any(k == "all" for k, _ in d.options)
            for d in self.directives
        )

    @property
    def title(self) -> str | None:
        """The text of the first top-level heading (the page title in the book)."""
        return next((h.text for h in self.headings if h.level == 1), None)


# ------------------------------------------------------------------------- pages


@dataclass(frozen=True, slots=True)
class NotebookSource:
    """A notebook as read: its JSON text and data, and whether nbformat's schema accepts it.

    Positions inside cells are found in the JSON text only when a finding needs one
    (the walk is slower than the parse), and kept once found.
    """

    text: str
    data: dict[str, Any]  # read-only (formats.frozen.FrozenDict): copy it to change it
    invalid: tuple[int | None, str] | None = None  # (cell, message) when the schema rejects it
    _spans: list[positions.CellSpan] = field(default_factory=list, repr=False, compare=False)

    @property
    def cells(self) -> list[Any]:
        cells = self.data.get("cells")
        return cells if isinstance(cells, list) else []

    def where(self, pos: Pos) -> tuple[int, int]:
        """The file position (line, col) of a position inside a cell's source."""
        span = self._span(pos.cell)
        return span.line_position(self.text, pos.line, pos.col) if span else (1, 1)

    def cell_start(self, index: int) -> tuple[int, int]:
        """Where cell `index` (0-based) opens in the notebook file."""
        span = self._span(index)
        return positions.line_col(self.text, span.start) if span else (1, 1)

    def _span(self, index: int) -> positions.CellSpan | None:
        if not self._spans:
            self._spans.extend(positions.cell_spans(self.text))
        return self._spans[index] if 0 <= index < len(self._spans) else None


@dataclass(frozen=True, slots=True)
class Page:
    """One file of the book, as the TOC lists it and as it reads."""

    path: str  # with suffix, e.g. "modules/01-x/overview.md"
    kind: PageKind
    toc_line: int = 0
    toc_col: int = 0
    text: str | None = None  # None: unreadable (see `problems`)
    markup: Markup | None = None  # None: unreadable, or a notebook the schema rejects
    notebook: NotebookSource | None = None  # .ipynb pages (and text notebooks once read)
    problems: tuple[Finding, ...] = ()  # reading problems (CK105, CK201), reported by one check
    in_toc: bool = True

    @property
    def docname(self) -> str:
        return self.path.rsplit(".", 1)[0]

    @property
    def is_notebook(self) -> bool:
        """Whether the book reads this page as a notebook (.ipynb, a MyST Markdown
        notebook or a custom format), and so runs it."""
        return self.kind is not PageKind.MARKDOWN

    @property
    def title(self) -> str | None:
        return self.markup.title if self.markup else None

    def where(self, pos: Pos) -> tuple[int, int]:
        """The file position of a position in this page's text or in one of its cells."""
        if pos.cell < 0 or self.notebook is None:
            return pos.line, pos.col
        return self.notebook.where(pos)


# ------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class ScormSettings:
    versions: tuple[str, ...] = ("1.2", "2004")
    mastery_score: int = 80  # percent needed to pass a unit's quiz
    # "multi": one zip with a SCO per unit; "single": one zip per unit.
    packages: tuple[str, ...] = ("multi", "single")


# cmi5's moveOn values: what an AU must report for the LMS to count it as done.
MOVE_ON = ("NotApplicable", "Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed")


@dataclass(frozen=True, slots=True)
class Cmi5Settings:
    """`coursekit.cmi5`: whether a cmi5 zip is made, the course's IRI, the units' moveOn."""

    enabled: bool = True
    iri: str | None = None  # None: urn:coursekit:<course id>
    move_on: str = "auto"  # auto: CompletedAndPassed with a quiz, else Completed


@dataclass(frozen=True, slots=True)
class PdfSettings:
    """`coursekit.pdf`: the PDF edition, printed by Chromium (not a Python dependency)."""

    enabled: bool = True
    chromium: str = "/usr/bin/chromium"  # the browser that prints it (Debian's)
    # The page is printed in parts of whole units, each at least this many kB of HTML
    # (coursekit.packages.pdf.parts): smaller parts, less memory and less printed again.
    part_kb: int = 400


@dataclass(frozen=True, slots=True)
class Waiver:
    """`coursekit.per_file_ignores` or `coursekit.waivers`: codes (prefixes) not reported
    for paths matching a glob; with a `target`, only findings naming it; with a `line`,
    only findings at that line."""

    pattern: str
    codes: tuple[str, ...]
    target: str = ""
    line: int = 0


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
    execute: ExecuteSettings = field(default_factory=ExecuteSettings)  # as the book reads them
    scorm: ScormSettings = field(default_factory=ScormSettings)
    cmi5: Cmi5Settings = field(default_factory=Cmi5Settings)
    pdf: PdfSettings = field(default_factory=PdfSettings)
    extensions: tuple[str, ...] = ()  # sphinx.extra_extensions and local_extensions
    myst_extensions: frozenset[str] = frozenset()  # parse.myst_enable_extensions
    heading_anchors: int = 0  # parse.myst_heading_anchors: heading levels with anchors
    custom_formats: tuple[str, ...] = ()  # suffixes from nb_custom_formats (".Rmd", ".py")
    exclude_patterns: tuple[str, ...] = ()
    only_build_toc_files: bool = False
    units_from: str = "auto"  # coursekit.units_from: auto | parts | chapters | book
    ignore: tuple[str, ...] = ()  # coursekit.ignore: codes never reported
    waivers: tuple[Waiver, ...] = ()
    # coursekit.read_outside: files outside the book folder it may read (relative to it)
    read_outside: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(
        default_factory=lambda: EMPTY
    )  # the whole file, read-only (lists as tuples)

    @property
    def execute_timeout(self) -> int:
        """Seconds a cell may run (Jupyter Book's `execute.timeout`, default 30)."""
        return self.execute.timeout

    @property
    def page_suffixes(self) -> tuple[str, ...]:
        return (*PAGE_SUFFIXES, *self.custom_formats)


# ------------------------------------------------------------------------ the TOC


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

    def files(self) -> tuple[str, ...]:
        """The page paths of this entry and its descendants, in reading order."""
        return tuple(e.path for e in self.walk() if e.kind == "file" and e.path)


@dataclass(frozen=True, slots=True)
class TocPart:
    caption: str | None
    chapters: tuple[TocEntry, ...]
    line: int = 0
    col: int = 0


@dataclass(frozen=True, slots=True)
class Toc:
    path: str  # "_toc.yml"
    root: TocEntry | None
    parts: tuple[TocPart, ...] = ()
    format: str = "jb-book"
    has_parts: bool = False  # written with `parts:` (not bare `chapters:`)

    def entries(self) -> tuple[TocEntry, ...]:
        """Every entry in reading order, the root first."""
        out: list[TocEntry] = []
        if self.root is not None:
            out.append(self.root)
        for part in self.parts:
            for chapter in part.chapters:
                out.extend(chapter.walk())
        return tuple(out)


# ---------------------------------------------------------------------- the units


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of the course: one SCO of a SCORM package, one AU of cmi5.

    A unit is a TOC part (or a top-level chapter, or the whole book) and its pages;
    a `module.yml` beside its first page, or a `coursekit.units` entry, describes
    it (id, objectives, duration, quiz, pass mark).
    """

    id: str
    number: int  # 1-based, in reading order
    title: str
    pages: tuple[Page, ...]
    summary: str = ""
    objectives: tuple[str, ...] = ()
    objectives_pos: tuple[tuple[int, int], ...] = ()  # where each objective is written
    duration: int | None = None  # minutes
    mastery_score: int | None = None  # None: the course's coursekit.scorm.mastery_score
    # When the LMS counts the unit completed (module.yml `completion:`): "pages" (every
    # page seen, the default), "quiz" (quiz passed), "both", or "share" (that share of
    # its pages seen, `completion_share`, 0–1).
    completion: str = "pages"
    completion_share: float = 1.0
    completion_pos: tuple[int, int] | None = None  # where `completion:` is; None: not set
    yaml_path: str | None = None  # the module.yml (or _config.yml) that describes it
    id_pos: tuple[int, int] = (1, 1)  # where the id is written
    quiz: str | None = None  # the quiz file its pages show (e.g. "modules/01-x/quiz.yml")
    folder: str | None = None  # the module folder name under modules/, in coursekit's layout
    source: str = "module.yml"  # what made it a unit: "module.yml", "config", "part"…
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @property
    def dir(self) -> str:
        """The folder of the unit's description (or of its first page)."""
        where = self.yaml_path or (self.pages[0].path if self.pages else "")
        return where.rsplit("/", 1)[0] if "/" in where else ""

    @property
    def where(self) -> str:
        """The file to name in a message about this unit."""
        return self.yaml_path or (self.pages[0].path if self.pages else "_toc.yml")


Module = Unit  # the name coursekit's own layout gives a unit (modules/NN-slug/)


# ------------------------------------------------------- exercises and bibliography


@dataclass(frozen=True, slots=True)
class Exercise:
    """An exercise notebook (`exercises/<unit>/<name>.ipynb`) as read."""

    page: Page  # the notebook, read like a page (not necessarily in the TOC)
    root: Path  # the folder `path` is relative to (the course's)

    @property
    def path(self) -> str:
        return self.page.path

    @property
    def name(self) -> str:
        """`<unit>/<name>`, as the editions and the grades name it."""
        return self.path.removeprefix(f"{EXERCISES_DIR}/").rsplit(".", 1)[0]

    @property
    def file(self) -> Path:
        return self.root / self.path


@dataclass(frozen=True, slots=True)
class BibFile:
    path: str
    keys: Mapping[str, tuple[int, int]]  # key → where its entry starts (read-only)
    problems: tuple[Finding, ...] = ()  # CK105, CK502
    parsed: bool = True  # False: keys come from a rough scan, so uncited entries are not reported


@dataclass(frozen=True, slots=True)
class Bibliography:
    files: tuple[BibFile, ...] = ()

    @property
    def path(self) -> str | None:
        return self.files[0].path if self.files else None

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(k for f in self.files for k in f.keys)


@dataclass(frozen=True, slots=True)
class FileIndex:
    """The files the pages' links, {download} and {doc} roles and the {quiz} directives
    name, and the pages in the module folders, looked up once by the loader, so the
    checks read nothing from the disk."""

    files: frozenset[str] = frozenset()  # named paths (from the root) that are files
    escaping: frozenset[str] = frozenset()  # of those, symlinks to outside the course
    # Every page file under modules/ (coursekit's layout), hidden and _private ones left out.
    module_pages: tuple[str, ...] = ()
    # CK308: files a directive or setting reads that are no regular file inside the course
    confinement: tuple[Finding, ...] = ()

    def is_file(self, rel: str) -> bool:
        """Whether `rel` is a file (symlinks followed)."""
        return rel in self.files

    def escapes(self, rel: str) -> bool:
        """Whether the file `rel` is a symlink to (or through) somewhere outside the course."""
        return rel in self.escaping


@dataclass(frozen=True, slots=True)
class QuizUse:
    """A page's ```{quiz} directive and the quiz file it names."""

    page: str
    line: int
    col: int
    quiz: str  # relative to the course root


# ---------------------------------------------------------------------- the course


@dataclass(frozen=True, slots=True)
class Course:
    root: Path
    config: Config | None
    toc: Toc | None
    units: tuple[Unit, ...] = ()
    pages: tuple[Page, ...] = ()  # every TOC page in reading order
    bibliography: Bibliography | None = None
    quizzes: tuple[Quiz, ...] = ()
    quiz_uses: tuple[QuizUse, ...] = ()
    quiz_problems: tuple[Finding, ...] = ()  # what reading the quiz files found (the book warns)
    exercises: tuple[Exercise, ...] = ()
    module_layout: bool = False  # modules/ holds module.yml files (coursekit's own layout)
    files: FileIndex = field(default_factory=FileIndex)  # the files the course's links name

    @property
    def modules(self) -> tuple[Unit, ...]:
        return self.units

    def unit(self, unit_id: str) -> Unit | None:
        return next((u for u in self.units if u.id == unit_id), None)

    def module(self, folder: str) -> Unit | None:
        return next((u for u in self.units if u.folder == folder), None)

    def unit_of(self, path: str) -> Unit | None:
        """The unit whose pages include `path` (or whose folder holds it)."""
        for unit in self.units:
            if any(p.path == path for p in unit.pages):
                return unit
        return next((u for u in self.units if u.dir and path.startswith(u.dir + "/")), None)

    def quiz(self, path: str) -> Quiz | None:
        return next((q for q in self.quizzes if q.path == path), None)

    def page(self, path: str) -> Page | None:
        return next((p for p in self.pages if p.path == path), None)
