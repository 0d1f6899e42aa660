"""Bibliography checks (CK501–CK503): cited keys exist, the .bib parses, entries are cited.

The .bib files were parsed once by `coursekit.loading.bibliography` (with pybtex,
as sphinxcontrib-bibtex parses them). Citations are the {cite} roles and their
variants ({cite:p}, {cite:t}, …, {footcite}) in every TOC page.
"""

from __future__ import annotations

from collections.abc import Iterator

from coursekit.findings import Finding, make
from coursekit.loading.markdown import AT_CITE
from coursekit.model import Course, Page, Pos


def unparsable(course: Course) -> Iterator[Finding]:
    """CK502 (and CK105): a .bib file the book's bibliography extension cannot read."""
    for bib in course.bibliography.files if course.bibliography else ():
        yield from bib.problems


def unknown_keys(course: Course) -> Iterator[Finding]:
    """CK501: a {cite} key that is in no .bib file."""
    bib = course.bibliography
    known = bib.keys if bib else frozenset()
    files = ", ".join(f.path for f in bib.files) if bib else "no bibliography file"
    # mystmd's `@name` may name a label, a page or a DOI instead: the build says if not.
    for page, pos, key in citations(course, at=False):
        if key not in known:
            line, col = page.where(pos)
            msg = (
                f"citation key {key!r} is not in the bibliography ({files}); "
                "add the entry or fix the key"
            )
            yield make("CK501", page.path, line, col, msg)


def uncited(course: Course) -> Iterator[Finding]:
    """CK503 (warning): an entry no page cites is dead weight, or a citation was forgotten."""
    if any(p.markup and p.markup.bibliography_all for p in course.pages):
        return
    cited = {key for _page, _pos, key in citations(course)}
    for bib in course.bibliography.files if course.bibliography else ():
        if not bib.parsed:
            continue
        for key, (line, col) in bib.keys.items():
            if key not in cited:
                msg = f"entry {key!r} is never cited; cite it with {{cite}}`{key}` or remove it"
                yield make("CK503", bib.path, line, col, msg)


def citations(course: Course, at: bool = True) -> Iterator[tuple[Page, Pos, str]]:
    """Every cited key, with the page and place that cites it (`at`: mystmd's `@key` too)."""
    for page in course.pages:
        for role in page.markup.roles if page.markup else ():
            if (
                role.name in ("cite", "footcite")
                or role.name.startswith(("cite:", "footcite:"))
                or (at and role.name == AT_CITE)
            ):
                for key in role.content.split(","):
                    if key.strip():
                        yield page, role.pos, key.strip()


CHECKS = (unparsable, unknown_keys, uncited)
