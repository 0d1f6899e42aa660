"""Checks on what pages say (CK301–CK306), in Markdown pages and notebook markdown cells.

Links and images are resolved relative to the page (a leading `/` means the
course root, as in Sphinx); a link to another page may omit the suffix or use
`.md`, `.ipynb` or `.html`. Cross-references ({ref}, {numref}, {eq}) must name a
label defined anywhere in the TOC pages: a `(label)=` target, a directive's
`:name:` or a math `:label:`. Labels match case-insensitively, as in Sphinx.
Heading anchors are not labels here (the course does not enable them).
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

from coursekit.checks.markup import Link, role_target
from coursekit.checks.sources import PageSource, memo, page_sources
from coursekit.findings import Finding, make
from coursekit.model import PAGE_SUFFIXES, Course, PageKind

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
LABEL_ROLES = ("ref", "numref", "eq")


def unreadable(course: Course) -> Iterator[Finding]:
    """CK105: a Markdown page that is not UTF-8 text."""
    for source in page_sources(course):
        if source.page.kind is PageKind.MARKDOWN:
            yield from source.problems


def dead_links(course: Course) -> Iterator[Finding]:
    """CK301/CK302: a relative link, {download} or image whose target does not exist."""
    for source in _parsed(course):
        for link in source.markup.links if source.markup else ():
            path = _local_path(link.target)
            if path is None:
                continue
            problem = _missing(course.root, source.page.path, path, link.image)
            if problem is None:
                continue
            line, col = source.where(link.pos)
            code = "CK302" if link.image else "CK301"
            what = "image" if link.image else "link"
            yield make(
                code,
                source.page.path,
                line,
                col,
                f"{what} {link.target!r} points to nothing ({problem})",
            )
        yield from _dead_downloads(course, source)


def _dead_downloads(course: Course, source: PageSource) -> Iterator[Finding]:
    """CK301 for {download}`file`: the book copies the file, so it must exist."""
    for role in source.markup.roles if source.markup else ():
        path = _local_path(role_target(role.content)) if role.name == "download" else None
        problem = _missing(course.root, source.page.path, path, True) if path else None
        if problem:
            line, col = source.where(role.pos)
            yield make(
                "CK301",
                source.page.path,
                line,
                col,
                f"{{download}} {role.content!r} points to nothing ({problem})",
            )


def missing_alt(course: Course) -> Iterator[Finding]:
    """CK303: an image without alt text is invisible to screen-reader users."""
    for source in _parsed(course):
        for link in source.markup.links if source.markup else ():
            if link.image and not link.alt:
                line, col = source.where(link.pos)
                yield make(
                    "CK303",
                    source.page.path,
                    line,
                    col,
                    f"image {link.target!r} has no alt text; {_alt_hint(link)}",
                )


def headings(course: Course) -> Iterator[Finding]:
    """CK304: one top-level heading per page (it is the page title); CK306: none at all."""
    for source in _parsed(course):
        tops = [h for h in source.markup.headings if h.level == 1] if source.markup else []
        if not tops:
            yield make(
                "CK306",
                source.page.path,
                1,
                1,
                "the page has no top-level heading (# Title); the book uses it as the page title",
            )
        for heading in tops[1:]:
            line, col = source.where(heading.pos)
            first_line, _ = source.where(tops[0].pos)
            yield make(
                "CK304",
                source.page.path,
                line,
                col,
                f"a second top-level heading (the first is on line {first_line}); "
                "make this one a ## section",
            )


def unknown_references(course: Course) -> Iterator[Finding]:
    """CK305: {ref}/{numref}/{eq} to no label, {doc} to no page, {term} to no glossary term."""
    labels = memo("labels", lambda: _labels(course))
    terms = memo("terms", lambda: _terms(course))
    for source in _parsed(course):
        for role in source.markup.roles if source.markup else ():
            target = role_target(role.content)
            problem = None
            if role.name in LABEL_ROLES and target.lower() not in labels:
                problem = (
                    f"{{{role.name}}} names the label {target!r}, which no page defines; "
                    f"define it with ({target})= above the target"
                )
            elif role.name == "doc" and not _doc_exists(course.root, source.page.path, target):
                problem = f"{{doc}} names {target!r}, which is no page of the course"
            elif role.name == "term" and target.lower() not in terms:
                problem = (
                    f"{{term}} names {target!r}, which no {{glossary}} defines; "
                    "add it to glossary.md"
                )
            if problem:
                line, col = source.where(role.pos)
                yield make("CK305", source.page.path, line, col, problem)


def _parsed(course: Course) -> Iterator[PageSource]:
    return (s for s in page_sources(course) if s.markup is not None)


def _labels(course: Course) -> set[str]:
    return {label.name.lower() for s in _parsed(course) if s.markup for label in s.markup.labels}


def _terms(course: Course) -> set[str]:
    return {term for s in _parsed(course) if s.markup for term in s.markup.terms}


def _local_path(target: str) -> str | None:
    """The file part of a link target, or None for URLs, anchors and empty targets."""
    target = target.strip()
    if not target or target.startswith(("#", "//")) or _SCHEME.match(target):
        return None
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    return path or None


def _resolve(page: str, path: str) -> str:
    base = "" if path.startswith("/") else posixpath.dirname(page)
    return posixpath.normpath(posixpath.join(base, path.lstrip("/")))


def _missing(root: Path, page: str, path: str, image: bool) -> str | None:
    """Why `path` (written in `page`) finds no file, or None when it does."""
    rel = _resolve(page, path)
    if rel == ".." or rel.startswith("../"):
        return "it leads outside the course folder"
    if _is_file(root, rel):
        return None
    if not image:
        stem, suffix = posixpath.splitext(rel)
        stem = stem if suffix in (".html", *PAGE_SUFFIXES) else rel
        if any(_is_file(root, stem + s) for s in PAGE_SUFFIXES):
            return None
    return f"no file {rel}"


def _doc_exists(root: Path, page: str, target: str) -> bool:
    rel = _resolve(page, target)
    if rel.startswith("../"):
        return False
    candidates = [rel] if rel.endswith(PAGE_SUFFIXES) else [rel + s for s in PAGE_SUFFIXES]
    return any(_is_file(root, c) for c in candidates)


def _is_file(root: Path, rel: str) -> bool:
    return os.path.isfile(os.path.join(root, rel))  # strings, not Paths: called per link


def _alt_hint(link: Link) -> str:
    if link.via == "markdown":
        return "describe it between the brackets: ![what it shows](path)"
    if link.via == "html":
        return 'add alt="what it shows" to the <img> tag'
    return f"add an :alt: option to the {link.via} directive"


CHECKS = (unreadable, dead_links, missing_alt, headings, unknown_references)
