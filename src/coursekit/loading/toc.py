"""`_toc.yml` → `Toc` (Jupyter Book's own format, sphinx-external-toc's schema).

Every file entry is resolved to the page file it names (the suffix may be left
out; the suffixes are `.md`, `.ipynb` and the book's `nb_custom_formats`), with the
line and column where it is written, or a finding: missing file (CK110), listed
twice (CK111), absolute (CK112), leading outside the course (CK113), unknown entry
type (CK114), a cycle (CK116).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coursekit.findings import Finding, make
from coursekit.formats import schema
from coursekit.formats.links import Files
from coursekit.formats.schema import ANY, LIST, MAP, REQ_STR, Field
from coursekit.formats.yamlfile import Key, YamlDoc, read_yaml
from coursekit.model import PAGE_SUFFIXES, Toc, TocEntry, TocPart

TOC_FILE = "_toc.yml"
INT = Field((int,), describe="a whole number")
TOC_ROOT_SPEC: schema.Spec = {
    "format": REQ_STR,
    "root": REQ_STR,
    "parts": LIST,
    "chapters": LIST,
    "sections": LIST,
    "defaults": MAP,
    "options": MAP,
}
TOC_PART_SPEC: schema.Spec = {
    # `caption:` left empty is no caption to sphinx-external-toc (issue 20's corpus)
    "caption": Field((str, type(None)), describe="a string"),
    "chapters": LIST,
    "numbered": ANY,
    "maxdepth": INT,
    "titlesonly": ANY,
    "reversed": ANY,
}
TOC_ENTRY_KINDS = ("file", "glob", "url")
TOC_ENTRY_KEYS = {
    "file",
    "glob",
    "url",
    "title",
    "sections",
    "numbered",
    "maxdepth",
    "titlesonly",
    "reversed",
    "caption",
    "parts",
    "chapters",
}


@dataclass
class _TocWalk:
    """State shared while walking the TOC: where each file was first listed."""

    root: Path
    doc: YamlDoc
    findings: list[Finding]
    seen: dict[str, tuple[int, int]]
    suffixes: tuple[str, ...] = PAGE_SUFFIXES
    files: Files = field(init=False)  # the course's files, each looked up once

    def __post_init__(self) -> None:
        self.files = Files(self.root)


def load_toc(
    root: Path, findings: list[Finding], suffixes: tuple[str, ...] = PAGE_SUFFIXES
) -> Toc | None:
    """`_toc.yml` as a `Toc`, every entry resolved to a page file (or a finding)."""
    if not (root / TOC_FILE).is_file():
        findings.append(
            make(
                "CK100", TOC_FILE, 0, 0, "no _toc.yml here; Jupyter Book needs it to know the pages"
            )
        )
        return None
    doc = read_yaml(root, TOC_FILE, findings)
    if doc is None:
        return None
    data = schema.expect_mapping(doc, (), doc.data, TOC_FILE, findings)
    if data is None:
        return None
    top = schema.validate(doc, (), data, TOC_ROOT_SPEC, TOC_FILE, findings)
    fmt = top.get("format")
    if fmt is not None and fmt not in ("jb-book", "jb-article"):
        line, col = doc.where("format")
        findings.append(
            make(
                "CK102",
                TOC_FILE,
                line,
                col,
                f"format must be 'jb-book' or 'jb-article', got {fmt!r}",
            )
        )
    walk = _TocWalk(root, doc, findings, {}, suffixes)
    root_entry = None
    if "root" in top:
        root_entry = _file_entry(walk, ("root",), top["root"], (), {})
    # The root is in `walk.seen`, so listing it again is reported as a duplicate (CK111).
    ancestors: tuple[str, ...] = ()
    parts: list[TocPart] = []
    if "parts" in top:
        for i, part in enumerate(top["parts"]):
            pdata = schema.expect_mapping(doc, ("parts", i), part, "a TOC part", findings)
            if pdata is None:
                continue
            valid = schema.validate(doc, ("parts", i), pdata, TOC_PART_SPEC, "a TOC part", findings)
            chapters = _entries(
                walk, ("parts", i, "chapters"), valid.get("chapters", []), ancestors
            )
            line, col = doc.where("parts", i)
            parts.append(TocPart(valid.get("caption"), chapters, line, col))
    for key in ("chapters", "sections"):
        if key in top:
            line, col = doc.where(key)
            parts.append(TocPart(None, _entries(walk, (key,), top[key], ancestors), line, col))
    return Toc(TOC_FILE, root_entry, tuple(parts), str(fmt or "jb-book"), "parts" in top)


def _entries(
    walk: _TocWalk, keys: tuple[Key, ...], items: list[Any], ancestors: tuple[str, ...]
) -> tuple[TocEntry, ...]:
    out = []
    for i, item in enumerate(items):
        entry = _entry(walk, (*keys, i), item, ancestors)
        if entry is not None:
            out.append(entry)
    return tuple(out)


def _entry(
    walk: _TocWalk, keys: tuple[Key, ...], item: Any, ancestors: tuple[str, ...]
) -> TocEntry | None:
    doc, findings = walk.doc, walk.findings
    line, col = doc.where(*keys)
    if not isinstance(item, dict):
        findings.append(
            make(
                "CK114",
                doc.path,
                line,
                col,
                "a TOC entry must be a mapping with one of file, glob or url, "
                f"got {schema.type_name(item)}",
            )
        )
        return None
    kinds = [k for k in TOC_ENTRY_KINDS if k in item]
    if len(kinds) != 1:
        found = ", ".join(map(str, item)) or "nothing"
        what = "more than one of" if kinds else "none of"
        findings.append(
            make(
                "CK114",
                doc.path,
                line,
                col,
                f"a TOC entry needs exactly one of file, glob or url; it has "
                f"{what} them (keys: {found})",
            )
        )
        return None
    for name in item:
        if name not in TOC_ENTRY_KEYS:
            kl, kc = doc.where(*keys, name, key=True)
            findings.append(make("CK103", doc.path, kl, kc, f"unknown key {name!r} in a TOC entry"))
    kind, target = kinds[0], item[kinds[0]]
    if not isinstance(target, str) or not target.strip():
        tl, tc = doc.where(*keys, kind)
        findings.append(
            make(
                "CK102",
                doc.path,
                tl,
                tc,
                f"{kind!r} must be a non-empty string, got {schema.type_name(target)}",
            )
        )
        return None
    if kind == "url":
        tl, tc = doc.where(*keys, kind)
        problem = _url_problem(target)
        if problem:
            findings.append(make("CK117", doc.path, tl, tc, f"url {target!r} {problem}"))
            return None
        return TocEntry("url", target, line, col, title=_str_or_none(item.get("title")))
    if "\\" in target:
        tl, tc = doc.where(*keys, kind)
        msg = (
            f"{target!r} has a backslash; write paths with / (the book on Linux and macOS "
            "reads a backslash as part of the name)"
        )
        findings.append(make("CK118", doc.path, tl, tc, msg))
        return None
    if kind == "glob":
        return _glob_entry(walk, keys, target, ancestors)
    return _file_entry(walk, (*keys, "file"), target, ancestors, item)


def _file_entry(
    walk: _TocWalk,
    keys: tuple[Key, ...],
    target: Any,
    ancestors: tuple[str, ...],
    item: dict[str, Any],
) -> TocEntry | None:
    doc, findings = walk.doc, walk.findings
    line, col = doc.where(*keys)
    if not isinstance(target, str) or not target.strip():
        findings.append(
            make(
                "CK102",
                doc.path,
                line,
                col,
                f"a TOC file must be a non-empty string, got {schema.type_name(target)}",
            )
        )
        return None
    path = _resolve(walk, target, line, col)
    if path is not None:
        if path in ancestors:
            findings.append(
                make(
                    "CK116",
                    doc.path,
                    line,
                    col,
                    f"{target!r} is listed inside its own sections (a cycle); remove this entry",
                )
            )
            path = None
        elif path in walk.seen:
            fl, fc = walk.seen[path]
            findings.append(
                make(
                    "CK111",
                    doc.path,
                    line,
                    col,
                    f"{target!r} is already listed at {doc.path}:{fl}:{fc}; "
                    "a page can appear only once",
                )
            )
            path = None
        else:
            walk.seen[path] = (line, col)
    parent_keys = keys[:-1]
    children: tuple[TocEntry, ...] = ()
    sections = item.get("sections")
    if sections is not None:
        if isinstance(sections, list):
            inner = (*ancestors, path) if path else ancestors
            children = _entries(walk, (*parent_keys, "sections"), sections, inner)
        else:
            sl, sc = doc.where(*parent_keys, "sections")
            findings.append(
                make(
                    "CK102",
                    doc.path,
                    sl,
                    sc,
                    f"'sections' must be a list, got {schema.type_name(sections)}",
                )
            )
    return TocEntry("file", target, line, col, path, _str_or_none(item.get("title")), children)


def _glob_entry(
    walk: _TocWalk, keys: tuple[Key, ...], pattern: str, ancestors: tuple[str, ...]
) -> TocEntry:
    line, col = walk.doc.where(*keys, "glob")
    matches = []
    if _is_unsafe(pattern):
        walk.findings.append(
            make(
                "CK113",
                walk.doc.path,
                line,
                col,
                f"glob {pattern!r} reaches outside the course folder; "
                "write it relative to the course folder, without '..'",
            )
        )
    else:
        for suffix in walk.suffixes:
            found = walk.root.glob(pattern + suffix)
            matches += [p.relative_to(walk.root).as_posix() for p in found]
    children = []
    for path in sorted(set(matches)):
        if path not in walk.seen and path not in ancestors:
            walk.seen[path] = (line, col)
            children.append(TocEntry("file", path, line, col, path))
    return TocEntry("glob", pattern, line, col, children=tuple(children))


def _is_unsafe(target: str) -> bool:
    return (
        target.startswith(("/", "\\"))
        or bool(re.match(r"^[A-Za-z]:[\\/]", target))
        or ".." in re.split(r"[\\/]", target)
    )


def _resolve(walk: _TocWalk, target: str, line: int, col: int) -> str | None:
    """The page file `target` names (with suffix), or None with a finding."""
    where, findings, files = walk.doc.path, walk.findings, walk.files
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", target):
        findings.append(
            make(
                "CK112",
                where,
                line,
                col,
                f"{target!r} is an absolute path; write it relative to the course "
                "folder, without a suffix",
            )
        )
        return None
    if ".." in re.split(r"[\\/]", target):
        findings.append(
            make(
                "CK113",
                where,
                line,
                col,
                f"{target!r} leads outside the course folder ('..'); move the file into the course",
            )
        )
        return None
    target = target.replace("\\", "/")
    suffix = posixpath.splitext(target)[1]
    suffixes = walk.suffixes
    candidates = [target] if suffix in suffixes else [target + s for s in suffixes]
    found = next((c for c in candidates if files.is_file(c)), None)
    if found is None:
        tried = " or ".join(candidates)
        findings.append(
            make("CK110", where, line, col, f"{target!r} names no file (looked for {tried})")
        )
        return None
    if files.escapes(found):
        findings.append(
            make(
                "CK113",
                where,
                line,
                col,
                f"{found!r} is a symlink leading outside the course folder "
                f"(to {files.real(found)}); copy the file into the course",
            )
        )
        return None
    return found


_WEB_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)


def _url_problem(url: str) -> str | None:
    """Why a TOC `url:` may not be a link in every page's navigation, or None.

    Only http(s) URLs: `javascript:` and `data:` would run in the site's origin (in the
    LMS), `mailto:` and other schemes the book's TOC reader rejects; a page of the
    course is a `file:` entry, not a relative URL."""
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        return "holds a control character (a line break?); write the URL on one line"
    if _WEB_URL.match(url.strip()):
        return None
    scheme = url.split(":", 1)[0].strip().lower() if ":" in url else ""
    if scheme == "mailto":
        return (
            "is a mailto: link; the navigation links only to web pages "
            "(put the address on a page, e.g. in intro.md)"
        )
    if scheme:
        return f"uses the {scheme}: scheme; a TOC url must start with http:// or https://"
    return (
        "is not a web address; a TOC url must start with http:// or https:// "
        "(a page of the course is a `file:` entry)"
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
