"""What a built page would still fetch from outside the site, by page: the offline report.

The site and the packages are meant to load nothing from elsewhere (the learner may
be offline, the LMS may forbid it). What a book, its theme or its notebook outputs
still load from outside -- a script, a style sheet, a font, an image, an iframe --
is found by scanning the built HTML (the elements a browser fetches by itself:
`script src`, `link rel=stylesheet|preload|icon`, `img`/`source`/`video`/`audio`
`src`/`srcset`/`poster`, `iframe`/`embed`/`object`, and `url(...)`/`@import` in
`style` attributes and elements, and the .js/.css or CDN URLs an inline script names,
as a notebook output's loader does) and the site's CSS files (their `@import` and
`url(...)`, fonts included; a page counts each CSS file it links). Links a reader
clicks (`a href`) are not fetches and are not listed.

The report is written to `_build/outside-requests.txt` by every build that makes
the site (ending with what would ship a listed URL, where coursekit knows: the
`bokeh`/`plotly` version of a loader, a font's `@fontsource` package), and the build
says how many pages fetch from outside; remote images are
also named, with their URL, as warnings. Analytics and tracking scripts never get
this far: `coursekit.offline` removes them from every page (site and packages).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from lxml import etree
from lxml import html as lxml_html

from coursekit.book.sphinx.offline import FONTS, PACKAGED_CDN, google_fonts, packaged_library
from coursekit.build.book_stage import site_of
from coursekit.build.context import BuildContext
from coursekit.build.stages import Stage
from coursekit.build.workfiles import write_text

REPORT_FILE = "outside-requests.txt"
SCAN_CACHE = ".cache/outside-scan.json"  # each page's requests, by its size and mtime
REMOTE = re.compile(r"^(?:https?:)?//", re.I)
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)['"]?\s*\)""", re.I)
# `@import url(...)` (quoted or not: an unquoted Google Fonts URL holds `;`) or `@import "..."`.
CSS_IMPORT = re.compile(
    r"""@import\s+(?:url\(\s*(['"]?)([^'")\s]+)\1\s*\)|(['"])([^'"]+)\3)""", re.I
)
FONT_SUFFIXES = (".woff", ".woff2", ".ttf", ".otf", ".eot")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".avif", ".ico", ".bmp")
# In an inline script: a quoted absolute URL, and the hosts of the CDNs outputs load from.
LOADER_URL = re.compile(r"""["'`]((?:https?:)?//[^"'`\s]+)["'`]""")
CDN_HOST = re.compile(
    r"(?:https?:)?//(?:cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|cdn\.plot\.ly"
    r"|cdn\.bokeh\.org|cdn\.pydata\.org|code\.jquery\.com|requirejs\.org)/",
    re.I,
)
# An inline script that adds scripts to the page (not one that only names a URL for later,
# such as sphinx-thebe's THEBE_JS_URL, fetched only when the reader starts live code).
LOADS = re.compile(r"createElement\(|\brequire(?:js)?\s*[.(]|\bimport\s*\(|\.src\s*=")
MEDIA = ("img", "source", "video", "audio", "track", "input")


@dataclass(frozen=True, slots=True, order=True)
class OutsideRequest:
    """One thing `page` (a path in the site) would fetch from `url`."""

    page: str
    kind: str  # "script" | "style" | "font" | "image" | "iframe" | "media" | "other"
    url: str
    via: str = ""  # the site's CSS file it comes from, when not the page itself


def scan_site(site: Path, known: dict[str, Any] | None = None) -> list[OutsideRequest]:
    """Every outside request of every HTML page of the site at `site`, sorted by page.

    `known` (updated in place) holds each page's requests by its size and mtime from
    an earlier scan: an unchanged page is not parsed again (the book's work tree keeps
    the files it did not rewrite as they were).
    """
    known = {} if known is None else known
    site = site.resolve()
    css_cache: dict[Path, list[tuple[str, str]]] = {}
    sheets: dict[tuple[Path, str], Path | None] = {}  # most pages link the same ones
    found: set[OutsideRequest] = set()
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        rel = page.relative_to(site).as_posix()
        stat = page.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        seen = known.get(rel)
        if isinstance(seen, dict) and seen.get("stamp") == stamp:
            requests = [tuple(r) for r in seen.get("requests", [])]
        else:
            requests = _parsed_requests(page)
            known[rel] = {"stamp": stamp, "requests": [list(r) for r in requests]}
        for kind, url in requests:
            if REMOTE.match(url):
                found.add(OutsideRequest(rel, kind, _absolute(url)))
            elif kind == "style" and not urlparse(url).scheme:
                key = (page.parent, url)
                if key not in sheets:
                    sheets[key] = _site_file(page.parent, url, site)
                css = sheets[key]
                if css is not None:
                    via = css.relative_to(site).as_posix()
                    for css_kind, css_url in _css_requests(css, site, css_cache):
                        found.add(OutsideRequest(rel, css_kind, css_url, via))
    for gone in set(known) - {p.relative_to(site).as_posix() for p in pages}:
        del known[gone]
    return sorted(found)


def _site_file(folder: Path, url: str, site: Path) -> Path | None:
    """The site's file a relative `url` in `folder` names, or None (missing, or outside)."""
    path = (folder / url.split("?", 1)[0].split("#", 1)[0]).resolve()
    return path if path.is_file() and path.is_relative_to(site) else None


def _parsed_requests(page: Path) -> list[tuple[str, str]]:
    """What the page itself asks for: (kind, URL as written), remote or not."""
    try:
        tree = lxml_html.fromstring(page.read_bytes())
    except (ValueError, SyntaxError, etree.LxmlError):  # empty or binary: fetches nothing
        return []
    # Only the remote ones and the local style sheets matter later: keep the record small.
    return [
        (kind, url)
        for kind, url in _page_requests(tree)
        if REMOTE.match(url) or (kind == "style" and not urlparse(url).scheme)
    ]


def _page_requests(tree: lxml_html.HtmlElement) -> Iterator[tuple[str, str]]:
    for element in tree.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        get = element.get
        if tag == "script" and get("src"):
            yield "script", get("src")
        elif tag == "script" and element.text and LOADS.search(element.text):
            yield from _loader_requests(element.text)
        elif tag == "link" and get("href"):
            rel = (get("rel") or "").lower().split()
            if "stylesheet" in rel:
                yield "style", get("href")
            elif {"preload", "modulepreload", "prefetch"} & set(rel):
                yield _kind_of(get("href"), get("as") or ""), get("href")
            elif {"icon", "apple-touch-icon", "manifest"} & set(rel):
                yield "image", get("href")
        elif tag in ("iframe", "frame", "embed") and get("src"):
            yield "iframe", get("src")
        elif tag == "object" and get("data"):
            yield "iframe", get("data")
        elif tag in MEDIA:
            kind = "image" if tag in ("img", "input") else "media"
            for name in ("src", "poster"):
                if get(name):
                    yield ("image" if name == "poster" else kind), get(name)
            for candidate in (get("srcset") or "").split(","):
                if candidate.strip():
                    yield kind, candidate.split()[0]
        elif tag == "style" and element.text:
            yield from _css_text_requests(element.text)
        if tag and get("style"):
            for url in CSS_URL.findall(get("style")):
                yield _kind_of(url, ""), url


def _loader_requests(script: str) -> Iterator[tuple[str, str]]:
    """The scripts and style sheets an inline script (a notebook output's loader: BokehJS,
    Plotly, RequireJS paths) names in its strings to add to the page: URLs of .js/.css
    files, RequireJS's `?noext` ones, and any URL on a CDN's host."""
    for url in LOADER_URL.findall(script):
        path = urlparse(url).path.lower()
        if path.endswith(".css"):
            yield "style", url
        elif path.endswith((".js", ".mjs")) or url.endswith("?noext") or CDN_HOST.match(url):
            yield "script", url


def _css_text_requests(text: str) -> Iterator[tuple[str, str]]:
    imports = [found[2] or found[4] for found in CSS_IMPORT.finditer(text)]
    for url in imports:  # a style sheet, or a font's (Google Fonts' css2?family=...)
        yield ("font" if _kind_of(url, "") == "font" else "style"), url
    for url in CSS_URL.findall(text):
        if url not in imports:
            yield _kind_of(url, ""), url


def _css_requests(
    css: Path, site: Path, cache: dict[Path, list[tuple[str, str]]], depth: int = 0
) -> list[tuple[str, str]]:
    """The outside requests of the site's CSS file `css` (and the local ones it imports)."""
    if css in cache:
        return cache[css]
    cache[css] = []  # an import cycle ends here
    found: list[tuple[str, str]] = []
    text = css.read_text(encoding="utf-8", errors="replace")
    for kind, url in _css_text_requests(text):
        if REMOTE.match(url):
            found.append((kind, _absolute(url)))
        elif kind == "style" and depth < 10 and not urlparse(url).scheme:
            inner = _site_file(css.parent, url, site)
            if inner is not None:
                found += _css_requests(inner, site, cache, depth + 1)
    cache[css] = found
    return found


def _kind_of(url: str, hint: str) -> str:
    if hint in ("script", "style", "font", "image"):
        return hint
    path = urlparse(url).path.lower()
    if path.endswith(FONT_SUFFIXES) or "fonts.googleapis.com" in url:
        return "font"
    if path.endswith(IMAGE_SUFFIXES):
        return "image"
    if path.endswith(".css"):
        return "style"
    if path.endswith((".js", ".mjs")):
        return "script"
    return "other"


def _absolute(url: str) -> str:
    return urljoin("https:", url) if url.startswith("//") else url


def remote_images(requests: Iterable[OutsideRequest]) -> dict[str, list[str]]:
    """Each remote image URL and the pages that show it."""
    found: dict[str, list[str]] = {}
    for request in requests:
        if request.kind == "image" and not request.via:
            found.setdefault(request.url, []).append(request.page)
    return found


def remedy(url: str) -> str | None:
    """What would ship `url` with the site, when coursekit knows: the package (and the
    version) that has the very file, or why coursekit serves no copy."""
    packaged = PACKAGED_CDN.search(f'{url}"')
    if packaged and packaged["bokeh"]:
        version = packaged["bokeh_version"]
        found = packaged_library("bokeh")
        have = f"bokeh {found[0]} is" if found else "bokeh is not"
        return (
            f"BokehJS {version}, the output's: install bokeh=={version} where coursekit "
            f"builds the book ({have} installed there), or run the notebook again"
        )
    if packaged:
        version = packaged["plotly_version"]
        found = packaged_library("plotly")
        have = (
            f"the installed plotly has plotly.js {found[0]}" if found else "plotly is not installed"
        )
        return (
            f"plotly.js {version}, the output's: install the plotly release that bundles "
            f"plotly.js {version} where coursekit builds the book ({have}), "
            "or run the notebook again"
        )
    if "fonts.googleapis.com" in url:
        missing = [family for family in google_fonts(url) if family not in FONTS]
        packages = ", ".join(f"npm @fontsource/{'-'.join(f.lower().split())}" for f in missing)
        return (
            f"fonts coursekit does not ship ({packages}): put their files and CSS in the "
            f"book's _static/ and @import that instead (coursekit ships {', '.join(FONTS)})"
        )
    if re.search(r"/mathjax/3[\d.]*/es5/tex-svg", url):
        return (
            "MathJax's SVG output, which plotly adds to each figure for LaTeX labels: coursekit "
            "ships MathJax's CommonHTML output only; a figure without LaTeX draws without it"
        )
    return None


def format_report(requests: list[OutsideRequest]) -> str:
    """The report's text: a line per page and request, the CSS file it comes from; then,
    for the URLs coursekit knows a local copy of, what would ship it."""
    if not requests:
        return "No page of the site fetches anything from outside it.\n"
    pages = len({r.page for r in requests})
    lines = [
        f"{pages} page(s) of the site (and of the SCORM/cmi5 packages, made from it) "
        "would fetch these from outside; offline or under an LMS's content policy "
        "they do not load:",
    ]
    for request in requests:
        via = f"\tfrom {request.via}" if request.via else ""
        lines.append(f"{request.page}\t{request.kind}\t{request.url}{via}")
    fixes = {url: remedy(url) for url in sorted({r.url for r in requests})}
    if any(fixes.values()):
        lines += ["", "What would ship them with the site:"]
        lines += [f"{url} -> {fix}" for url, fix in fixes.items() if fix]  # no tab: not a row
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ the stage


def report_outside(ctx: BuildContext) -> list[OutsideRequest]:
    """Scan the staged site; say what it fetches from outside; write the report on commit."""
    record = ctx.out_dir / SCAN_CACHE
    try:
        known = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    requests = scan_site(site_of(ctx).html_dir, known)
    write_text(record, json.dumps(known))  # a cache of page scans, not an output
    text = format_report(requests)
    ctx.outputs.on_commit(lambda: write_text(ctx.out_dir / REPORT_FILE, text))
    for url, pages in remote_images(requests).items():
        more = f" (and {len(pages) - 1} more page(s))" if len(pages) > 1 else ""
        ctx.reporter.note(
            f"warning: {pages[0]}{more}: a remote image, not in the site or packages offline: {url}"
        )
    if requests:
        count = len({r.page for r in requests})
        urls = len({r.url for r in requests})
        ctx.reporter.note(
            f"offline: {count} page(s) fetch {urls} URL(s) from outside the site "
            f"(listed by page in {ctx.out_dir / REPORT_FILE})"
        )
    return requests


OUTSIDE = Stage(
    "outside requests",
    report_outside,
    produces=("html",),  # part of every build of the site (and so of the packages)
    needs=("book",),
    phase=50,
    timer="book",
)
