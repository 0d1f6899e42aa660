"""The single-page book cut into parts at unit starts, each printed as a page of its own.

Chromium lays out a whole page before it prints any of it: the single page of a
300-page book (7 MB, 200,000 elements) took 2 to 3 GB in its renderer, and printing
only its first sheet took as much. Cut where a unit starts (where the print style
sheet begins a new sheet anyway), each part is a page of its own: the page's head
(style sheets, MathJax), the elements that contain the part, opened again, and the
part. The parts are printed one after the other and joined
(`coursekit.packages.pdf.join`): the renderer holds one part at a time, and a part
whose page did not change is not printed again.

A link to an element in another part cannot be followed inside one part's PDF: it
becomes a link to `CROSS` + the element's id, which the join points at that place;
and the part that holds the element gets a hidden link to it, so that Chromium names
the place (a named destination) in that part's PDF.

The page is cut by its tags, not parsed and written again: every byte of a part is
the page's own, but for the cut links and the elements opened again.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from html import escape, unescape
from urllib.parse import quote, unquote, urlsplit

UNIT_START = "ck-unit-start"  # the class of the element before each unit's first page
CROSS = "https://coursekit.invalid/to/"  # a link to another part's element, before the join

TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"  # a comment (may hold tags)
    r"|<![^>]*>"  # the doctype, CDATA
    r"|<(/?)([A-Za-z][^\s/>]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>",
    re.DOTALL,
)
RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp"})  # no tags inside
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)
ATTRIBUTE = r"(?:^|\s){}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))"
ID = re.compile(ATTRIBUTE.format("id"), re.IGNORECASE)
HREF = re.compile(ATTRIBUTE.format("href"), re.IGNORECASE)
CLASS = re.compile(ATTRIBUTE.format("class"), re.IGNORECASE)
ASSET_TAGS = frozenset({"script", "link", "style"})


@dataclass(frozen=True, slots=True)
class Part:
    """One page to print: `html`, the units it holds (their ids, in order)."""

    html: str
    units: tuple[str, ...]


@dataclass
class _Scan:
    """What one pass over the page's tags found."""

    body_start: int = -1  # just after `<body ...>`
    body_end: int = -1  # at `</body>`
    starts: list[tuple[int, str]] = field(default_factory=list)  # unit starts: offset, id
    stacks: dict[int, tuple[tuple[str, str], ...]] = field(default_factory=dict)  # open there
    ids: dict[str, int] = field(default_factory=dict)  # each id's first offset
    # Links: where the href's value is, its target id, and its kind: "bare" (`#id`), "page"
    # (`name#id`), or "file" (to another file of the site: the span is the whole attribute).
    links: list[tuple[int, int, str, str]] = field(default_factory=list)
    assets: list[tuple[int, int]] = field(default_factory=list)  # body's own scripts, styles


def split(page: str, name: str, part_bytes: int) -> list[Part]:
    """`page` (its file name: `name`) cut into parts of whole units, each at least
    `part_bytes` long but the last; one part (the page as it is) when it has no unit
    starts or too little to cut.

    A link to `name#id` (Sphinx writes some so) is a link within the page: as parts are
    served under other names, it is written `#id`."""
    scan = _scan(page, name)
    if scan.body_start < 0:
        return [Part(page, ())]
    bounds = _grouped([scan.body_start, *(at for at, _ in scan.starts), scan.body_end], part_bytes)
    if len(bounds) <= 2:
        whole = _with_cross_links(page, scan, 0, len(page))
        return [Part(whole, tuple(unit for _, unit in scan.starts))]
    ranges = list(zip(bounds, bounds[1:], strict=False))
    wanted = _cross_targets(scan, bounds)
    parts = []
    for index, (begin, end) in enumerate(ranges):
        units = tuple(unit for at, unit in scan.starts if begin <= at < end)
        parts.append(Part(_part(page, scan, begin, end, wanted.get(index, [])), units))
    return parts


def _grouped(bounds: list[int], part_bytes: int) -> list[int]:
    """The cuts kept: each part at least `part_bytes` long, a short last one joined to
    the one before it."""
    kept = [bounds[0]]
    for at in bounds[1:-1]:
        if at - kept[-1] >= part_bytes:
            kept.append(at)
    if len(kept) > 1 and bounds[-1] - kept[-1] < part_bytes // 2:
        kept.pop()
    return [*kept, bounds[-1]]


def _scan(page: str, name: str) -> _Scan:
    """One pass over the tags of `page`: where the body and the units start, the
    elements open there, every id, every link within the page."""
    scan = _Scan()
    stack: list[tuple[str, str]] = []
    at = 0
    while (token := TOKEN.search(page, at)) is not None:
        at = token.end()
        closing, tag, attributes = token.group(1), (token.group(2) or "").lower(), token.group(3)
        if not tag:
            continue  # comment, doctype
        if closing:
            _close(stack, tag)
            if tag == "body":
                scan.body_end = token.start()
            continue
        if tag == "body" and scan.body_start < 0:
            scan.body_start = at
        elif scan.body_start >= 0:
            _element(scan, stack, token, tag, attributes or "", name)
        if tag in RAW_TEXT:  # its text is no markup: on after its end tag
            ended = re.compile(rf"</{tag}\s*>", re.IGNORECASE).search(page, at)
            at = ended.end() if ended else len(page)
            if scan.body_start >= 0 and tag in ASSET_TAGS and not stack:
                scan.assets.append((token.start(), at))
    if scan.body_start >= 0 and scan.body_end < 0:
        scan.body_end = len(page)
    scan.stacks[scan.body_end] = tuple(stack)
    return scan


def _element(
    scan: _Scan,
    stack: list[tuple[str, str]],
    token: re.Match[str],
    tag: str,
    attrs: str,
    name: str,
) -> None:
    """Note a start tag in the body."""
    start, end = token.span()
    if (found := ID.search(attrs)) is not None:
        scan.ids.setdefault(unescape(_value(found)), start)
    if tag == "a" and (href := HREF.search(attrs)) is not None:
        _link(scan, token.start(3), href, name)
    classes = CLASS.search(attrs) if tag == "div" else None
    if classes is not None and UNIT_START in _value(classes).split() and found is not None:
        scan.starts.append((start, unescape(_value(found)).removeprefix("ck-unit-")))
        scan.stacks[start] = tuple(stack)
    if tag in ASSET_TAGS and tag not in RAW_TEXT and not stack:
        scan.assets.append((start, end))  # a <link>; scripts and styles: with their text
    elif tag not in VOID and tag not in RAW_TEXT and not attrs.rstrip().endswith("/"):
        stack.append((tag, token.group(0)))


def _link(scan: _Scan, attrs_at: int, href: re.Match[str], name: str) -> None:
    """Note a link within the page (`#id`, `name#id`), or to another file of the site
    (an image's full size, a download, the index): the page is printed from a server
    of its own, and such a link would lead a reader of the PDF to it."""
    value = _value(href)
    if value.startswith("#") or value.startswith(f"{name}#"):
        if len(value) > value.index("#") + 1:
            value_start = attrs_at + href.start(href.lastindex or 1)
            target = unquote(unescape(value[value.index("#") + 1 :]))
            kind = "bare" if value[0] == "#" else "page"
            scan.links.append((value_start, value_start + len(value), target, kind))
    elif not urlsplit(unescape(value)).scheme and not value.startswith("//"):
        scan.links.append((attrs_at + href.start(), attrs_at + href.end(), "", "file"))


def _value(found: re.Match[str]) -> str:
    return next(v for v in found.groups() if v is not None)


def _close(stack: list[tuple[str, str]], tag: str) -> None:
    """An end tag closes its element and any left open inside it; a stray one nothing."""
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth][0] == tag:
            del stack[depth:]
            return


def _cross_targets(scan: _Scan, bounds: list[int]) -> dict[int, list[str]]:
    """For each part, the ids in it that links of other parts lead to."""
    wanted: dict[int, list[str]] = {}
    for value_start, _, target, kind in scan.links:
        owner = scan.ids.get(target) if kind != "file" else None
        if owner is None:
            continue
        there = bisect_right(bounds, owner) - 1
        if there != bisect_right(bounds, value_start) - 1 and target not in wanted.get(there, []):
            wanted.setdefault(there, []).append(target)
    return wanted


def _part(page: str, scan: _Scan, begin: int, end: int, targets: list[str]) -> str:
    """The page from `begin` to `end` of its body: its head, the elements open at
    `begin` opened again, the text, those still open at `end` closed, the body's own
    scripts and styles, and hidden links naming the places other parts link to."""
    named = "".join(f'<a href="#{escape(quote(t, safe="/:"))}"></a>' for t in targets)
    pieces = [page[: scan.body_start], f"<div hidden>{named}</div>" if named else ""]
    pieces += [_opened(raw) for _, raw in scan.stacks.get(begin, ())]
    pieces.append(_with_cross_links(page, scan, begin, end))
    pieces += [f"</{tag}>" for tag, _ in reversed(scan.stacks.get(end, ()))]
    pieces += [page[a:b] for a, b in scan.assets if not begin <= a < end]
    pieces.append(page[scan.body_end :] if end == scan.body_end else "</body></html>")
    return "".join(pieces)


def _opened(start_tag: str) -> str:
    """An element opened again in a later part: without its id, which is its first
    part's (a link to it leads there)."""
    return ID.sub("", start_tag, count=1) if ID.search(start_tag) else start_tag


def _with_cross_links(page: str, scan: _Scan, begin: int, end: int) -> str:
    """`page[begin:end]`, each link to an element outside it pointed at `CROSS`, each
    other link within the page written `#id`, links to other files of the site removed
    (their text kept)."""
    out, at = [], begin
    first = bisect_right(scan.links, (begin, -1, "", ""))
    for value_start, value_end, target, kind in scan.links[first:]:
        if value_start >= end:
            break
        if kind == "file":  # no link, its text stays
            out.append(page[at:value_start])
            at = value_end
            continue
        bare = kind == "bare"
        owner = scan.ids.get(target)
        # No such id: a link that leads nowhere in the page, as in a browser; written `#id`
        # all the same, not left to lead to the server the part is printed from.
        inside = owner is None or begin <= owner < end
        if bare and inside:
            continue
        written = "#" + quote(target, safe="/:") if inside else CROSS + quote(target, safe="")
        out += [page[at:value_start], escape(written)]
        at = value_end
    out.append(page[at:end])
    return "".join(out)
