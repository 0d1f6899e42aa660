"""Which site files one unit's pages use: what a single-unit zip holds.

A unit's zip needs its pages and the files they load or link to (`_static/`
scripts, styles and fonts, `_images/`, `_downloads/`, `_sources/`…), not the
other units' pages nor the assets only those use. The references are read from
the pages' HTML (`src`, `href`, `srcset`, `data`, `poster`, inline `url(…)`) and,
for the style sheets they load, from the CSS (`url(…)`, `@import`), recursively.

A script may load its siblings at run time (MathJax its input and font
components): a script under a folder of `_static/` brings that whole folder
along, but for source maps (`*.map`, read by browsers' developer tools only).
Links to other pages of the book are not followed; those pages stay out.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import unquote

STATIC = "_static/"
_ATTR = re.compile(r"""\b(?:src|href|data|poster)\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_SRCSET = re.compile(r"""\bsrcset\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.I)
_CSS_REF = re.compile(
    r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')""",
    re.I,
)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_PAGE_SUFFIXES = (".html", ".htm")


def used_files(site: Mapping[str, bytes | Path], pages: Iterable[str]) -> set[str]:
    """The zip paths of `site` that the pages `pages` (zip paths) are and use."""
    found: set[str] = set()
    todo = [p for p in pages if p in site]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for ref in _references(name, _text(site[name])):
            todo.extend(_brought(site, ref, found))
    return found


def _brought(site: Mapping[str, bytes | Path], ref: str, found: set[str]) -> list[str]:
    """`ref` (a site path one of the files uses) and what it brings along."""
    if ref not in site or ref in found:
        return []
    if ref.endswith(_PAGE_SUFFIXES) and not ref.startswith(STATIC):
        return []  # another page of the book (or the index, the search page)
    parts = ref.split("/")
    if ref.startswith(STATIC) and len(parts) > 2 and ref.endswith((".js", ".mjs")):
        folder = "/".join(parts[:2]) + "/"
        return [
            name
            for name in site
            if name.startswith(folder) and not name.endswith(".map") and name not in found
        ]
    return [ref]


def _text(content: bytes | Path) -> str:
    data = content if isinstance(content, bytes) else content.read_bytes()
    return data.decode("utf-8", errors="replace")


def _references(name: str, text: str) -> Iterable[str]:
    """The site paths file `name` refers to (HTML, CSS or SVG), resolved."""
    lower = name.lower()
    raw: list[str] = []
    if lower.endswith((".css", ".svg")):
        raw += _groups(_CSS_REF.finditer(text))
    if lower.endswith((".html", ".htm", ".svg")):
        raw += _groups(_ATTR.finditer(text))
        raw += _groups(_CSS_REF.finditer(text))
        for srcset in _groups(_SRCSET.finditer(text)):
            raw += [part.strip().split(" ")[0] for part in srcset.split(",")]
    base = posixpath.dirname(name)
    for ref in raw:
        path = _resolve(base, ref)
        if path:
            yield path


def _groups(matches: Iterable[re.Match[str]]) -> list[str]:
    return [next(g for g in m.groups() if g is not None) for m in matches]


def _resolve(base: str, ref: str) -> str:
    """`ref` as a site path relative to the folder `base`, or "" for none (a URL, an anchor)."""
    ref = ref.strip()
    if not ref or ref.startswith(("#", "/", "//")) or _SCHEME.match(ref):
        return ""
    path = unquote(ref.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return ""
    joined = posixpath.normpath(posixpath.join(base, path))
    return "" if joined.startswith("..") else joined
