"""Bibliography checks (CK501–CK503): cited keys exist, the .bib parses, entries are cited.

The .bib files are those `_config.yml` lists under `bibtex_bibfiles` (default
`references.bib`), parsed with pybtex, the parser sphinxcontrib-bibtex uses, so
what passes here passes in the book. Citations are the {cite} roles and their
variants ({cite:p}, {cite:t}, …, {footcite}) in every TOC page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from coursekit.checks.markup import Pos
from coursekit.checks.sources import PageSource, memo, page_sources
from coursekit.findings import Finding, make
from coursekit.model import Course
from coursekit.yamlfile import read_text

DEFAULT_BIB = "references.bib"
_ENTRY = re.compile(r"@\s*(\w+)\s*[{(]\s*([^,\s]+)\s*,")


@dataclass(frozen=True, slots=True)
class BibFile:
    path: str
    keys: dict[str, tuple[int, int]]  # key → where its entry starts
    problems: tuple[Finding, ...]  # CK105, CK502
    parsed: bool  # False: keys come from a rough scan, so uncited entries are not reported


def bib_files(course: Course) -> list[BibFile]:
    """The course's bibliography files, each read and parsed once per session."""
    return memo("bib", lambda: [_read(course, rel) for rel in _bib_paths(course)])


def unparsable(course: Course) -> Iterator[Finding]:
    """CK502 (and CK105): a .bib file the book's bibliography extension cannot read."""
    for bib in bib_files(course):
        yield from bib.problems


def unknown_keys(course: Course) -> Iterator[Finding]:
    """CK501: a {cite} key that is in no .bib file."""
    known = {key for bib in bib_files(course) for key in bib.keys}
    files = ", ".join(b.path for b in bib_files(course)) or "no bibliography file"
    for source, pos, key in _citations(course):
        if key not in known:
            line, col = source.where(pos)
            yield make(
                "CK501",
                source.page.path,
                line,
                col,
                f"citation key {key!r} is not in the bibliography ({files}); "
                "add the entry or fix the key",
            )


def uncited(course: Course) -> Iterator[Finding]:
    """CK503 (warning): an entry no page cites is dead weight, or a citation was forgotten."""
    if any(s.markup and s.markup.bibliography_all for s in page_sources(course)):
        return
    cited = {key for _source, _pos, key in _citations(course)}
    for bib in bib_files(course):
        if not bib.parsed:
            continue
        for key, (line, col) in bib.keys.items():
            if key not in cited:
                yield make(
                    "CK503",
                    bib.path,
                    line,
                    col,
                    f"entry {key!r} is never cited; cite it with {{cite}}`{key}` or remove it",
                )


def _citations(course: Course) -> Iterator[tuple[PageSource, Pos, str]]:
    for source in page_sources(course):
        for role in source.markup.roles if source.markup else ():
            if role.name in ("cite", "footcite") or role.name.startswith(("cite:", "footcite:")):
                for key in role.content.split(","):
                    if key.strip():
                        yield source, role.pos, key.strip()


def _bib_paths(course: Course) -> list[str]:
    listed = course.config.raw.get("bibtex_bibfiles") if course.config else None
    if isinstance(listed, list):
        return [p for p in listed if isinstance(p, str) and (course.root / p).is_file()]
    return [DEFAULT_BIB] if (course.root / DEFAULT_BIB).is_file() else []


def _read(course: Course, rel: str) -> BibFile:
    problems: list[Finding] = []
    text = read_text(course.root, rel, problems)
    if text is None:
        return BibFile(rel, {}, tuple(problems), False)
    positions = _entry_positions(text)
    # Imported here: pybtex takes a noticeable part of start-up, and most runs of
    # other commands never need it.
    from pybtex.database import parse_string
    from pybtex.exceptions import PybtexError

    try:
        data = parse_string(text, "bibtex")
    except PybtexError as exc:
        line = getattr(exc, "lineno", None) or _line_of_key(text, str(exc)) or 1
        message = str(exc).replace("\n", " ")
        problems.append(make("CK502", rel, line, 1, f"the bibliography does not parse: {message}"))
        return BibFile(rel, positions, tuple(problems), False)
    keys = {key: positions.get(key, (1, 1)) for key in data.entries}
    return BibFile(rel, keys, (), True)


def _entry_positions(text: str) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for m in _ENTRY.finditer(text):
        if m.group(1).lower() not in ("comment", "preamble", "string"):
            line = text.count("\n", 0, m.start()) + 1
            found.setdefault(m.group(2), (line, m.start() - text.rfind("\n", 0, m.start())))
    return found


def _line_of_key(text: str, message: str) -> int | None:
    """For 'repeated bibliography entry: KEY': the line of the repeat."""
    m = re.search(r"entry: (\S+)", message)
    if not m:
        return None
    hits = [e for e in _ENTRY.finditer(text) if e.group(2) == m.group(1)]
    return text.count("\n", 0, hits[-1].start()) + 1 if hits else None


CHECKS = (unparsable, unknown_keys, uncited)
