"""Each TOC page read and parsed once per check run, shared by every check family.

`run_checks` opens a `session()`; inside it `page_source(course, page)` reads a
page the first time it is asked for and hands the same `PageSource` to the
notebook, page and bibliography checks. Outside a session nothing is kept, so a
long-lived process never sees a stale file.

Positions in notebooks: a finding about a notebook cell points at the `.ipynb`
file itself, at the line of the JSON string that holds the cell's source line
(nbformat writes one string per line), and at the column of the character inside
that string (exact unless escapes such as `\\"` come earlier on that line). The
JSON is parsed with the C `json` module; the slower walk that finds where each
cell's strings sit runs only when a finding needs a position.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from coursekit.checks.markup import Label, Markup, Pos, parse
from coursekit.checks.nbschema import schema_problem
from coursekit.findings import Finding, make
from coursekit.model import Course, Page, PageKind
from coursekit.yamlfile import read_text

T = TypeVar("T")
_session: dict[Any, Any] | None = None


@contextmanager
def session() -> Iterator[None]:
    """Share what is read and parsed between the checks run inside this block."""
    global _session
    outer, _session = _session, {}
    try:
        yield
    finally:
        _session = outer


def memo(key: Any, compute: Callable[[], T]) -> T:
    """`compute()` once per session for `key` (every time outside a session)."""
    if _session is None:
        return compute()
    if key not in _session:
        _session[key] = compute()
    value: T = _session[key]
    return value


@dataclass(slots=True)
class PageSource:
    """A TOC page as read: its text, notebook JSON and Markdown, and reading problems."""

    page: Page
    text: str | None
    problems: list[Finding]  # CK105 (not UTF-8) and CK201 (not JSON), reported by one check
    notebook: dict[str, Any] | None = None
    markup: Markup | None = None
    invalid: tuple[int | None, str] | None = None  # (cell, message) when the schema rejects it
    _cells: list[_CellSpan] | None = field(default=None, repr=False)

    def where(self, pos: Pos) -> tuple[int, int]:
        """The file position (line, col) of a position in a page or a notebook cell."""
        if pos.cell < 0:
            return pos.line, pos.col
        span = self.cell_span(pos.cell)
        if span is None:
            return 1, 1
        return span.line_position(self.text or "", pos.line, pos.col)

    def cell_start(self, index: int) -> tuple[int, int]:
        """Where cell `index` (0-based) opens in the notebook file."""
        span = self.cell_span(index)
        return _line_col(self.text or "", span.start) if span else (1, 1)

    def cell_span(self, index: int) -> _CellSpan | None:
        if self._cells is None:
            self._cells = _cell_spans(self.text or "")
        return self._cells[index] if 0 <= index < len(self._cells) else None


def page_source(course: Course, page: Page) -> PageSource:
    """The page read and parsed (once per session)."""
    return memo(("page", page.path), lambda: _read(course, page))


def page_sources(course: Course) -> list[PageSource]:
    """Every TOC page, in reading order."""
    return memo("pages", lambda: [page_source(course, page) for page in course.pages])


def _read(course: Course, page: Page) -> PageSource:
    problems: list[Finding] = []
    text = read_text(course.root, page.path, problems)
    if text is None:
        return PageSource(page, None, problems)
    if page.kind is not PageKind.NOTEBOOK:
        return PageSource(page, text, problems, markup=parse([(-1, text)]))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        problems.append(
            make("CK201", page.path, exc.lineno, exc.colno, f"the notebook is not JSON: {exc.msg}")
        )
        return PageSource(page, text, problems)
    except RecursionError:
        problems.append(make("CK201", page.path, 1, 1, "the notebook is nested too deeply"))
        return PageSource(page, text, problems)
    if not isinstance(data, dict):
        problems.append(
            make(
                "CK201",
                page.path,
                1,
                1,
                f"the notebook must be a JSON object, not a {type(data).__name__}",
            )
        )
        return PageSource(page, text, problems)
    invalid = schema_problem(data)
    if invalid is not None:  # its cells cannot be trusted: report CK202 only
        return PageSource(page, text, problems, data, invalid=invalid)
    markup = parse(_markdown_cells(data))
    markup.labels.extend(_figure_names(data))
    return PageSource(page, text, problems, data, markup)


def _markdown_cells(nb: dict[str, Any]) -> Iterator[tuple[int, str]]:
    cells = nb.get("cells")
    if not isinstance(cells, list):
        return
    for i, cell in enumerate(cells):
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            source = cell.get("source")
            if isinstance(source, list) and all(isinstance(s, str) for s in source):
                yield i, "".join(source)
            elif isinstance(source, str):
                yield i, source


def _figure_names(nb: dict[str, Any]) -> Iterator[Label]:
    """Labels myst-nb gives code-cell figures: metadata `mystnb: {figure: {name: …}}`."""
    for i, cell in enumerate(nb.get("cells") or ()):
        meta = cell.get("metadata") if cell.get("cell_type") == "code" else None
        mystnb = meta.get("mystnb") if isinstance(meta, dict) else None  # free-form metadata
        figure = mystnb.get("figure") if isinstance(mystnb, dict) else None
        if isinstance(figure, dict) and isinstance(figure.get("name"), str):
            yield Label(Pos(i, 1, 1), figure["name"])


# ------------------------------------------------ where cells sit in the JSON


@dataclass(frozen=True, slots=True)
class _CellSpan:
    start: int  # offset of the cell's "{"
    strings: tuple[tuple[int, int], ...]  # (offset after the opening quote, lines it holds)

    def line_position(self, text: str, line: int, col: int) -> tuple[int, int]:
        """File position of (line, col) of this cell's source."""
        first = 1
        for offset, count in self.strings:
            if line < first + count:
                at_start = line == first
                fl, fc = _line_col(text, offset)
                return (fl, fc + col - 1) if at_start else (fl, fc)
            first += count
        return _line_col(text, self.start)


_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _cell_spans(text: str) -> list[_CellSpan]:
    """Where each cell and each string of its source sit in the notebook text."""
    try:
        return _walk_cells(text)
    except (ValueError, IndexError):  # unreachable for text json.loads accepted
        return []


def _walk_cells(text: str) -> list[_CellSpan]:
    spans: list[_CellSpan] = []
    for key, i in _members(text, _skip(text, 0)):
        if key == "cells" and text[i] == "[":
            for j in _items(text, i):
                spans.append(_cell_span(text, j))
            break
    return spans


def _cell_span(text: str, i: int) -> _CellSpan:
    strings: list[tuple[int, int]] = []
    if text[i] == "{":
        for key, j in _members(text, i):
            if key != "source":
                continue
            items = _items(text, j) if text[j] == "[" else iter([j])
            for k in items:
                value, _end = _DECODER.raw_decode(text, k)
                if isinstance(value, str) and value:
                    held = value.count("\n") + (0 if value.endswith("\n") else 1)
                    strings.append((k + 1, held))
    return _CellSpan(i, tuple(strings))


def _skip(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _members(text: str, i: int) -> Iterator[tuple[str, int]]:
    """For the object at `i`: each key and the offset of its value."""
    i = _skip(text, i + 1)
    while text[i] != "}":
        key, i = _DECODER.raw_decode(text, i)
        i = _skip(text, _skip(text, i) + 1)  # past ":"
        yield key, i
        _value, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)


def _items(text: str, i: int) -> Iterator[int]:
    """For the array at `i`: the offset of each item."""
    i = _skip(text, i + 1)
    while text[i] != "]":
        yield i
        _value, i = _DECODER.raw_decode(text, i)
        i = _skip(text, i)
        if text[i] == ",":
            i = _skip(text, i + 1)


def _line_col(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - text.rfind("\n", 0, offset)
