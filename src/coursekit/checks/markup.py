"""Markdown (MyST flavour) → the few things the page checks look at, with positions.

Block structure (headings, code fences, ```{directive} fences, `(label)=`
targets, HTML blocks, front matter) decides what is text and what is code, so
nothing inside code is mistaken for a link. Text that is only prose, unindented
fences and targets is split on a fast path that markdown-it would split the
same way (the tests compare the two on every course text); anything else
(lists holding code, quotes, HTML, indented code…) is parsed by markdown-it-py
(`coursekit.checks.mdparser`). Inline syntax (links, images, roles) is then
read by a small scanner over each block's text that first blanks out code spans
and math: the full markdown-it inline parser costs about seven times the block
parse and the checks need only these three constructs (see
benchmarks/bench_check.py).

Positions are 1-based (line, col) within the text given; `Pos.cell` says which
notebook cell the text came from (-1 for a Markdown page).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Directives whose body is Markdown (parsed for links, images and labels too).
MARKDOWN_BODY = frozenset(
    {
        "admonition",
        "attention",
        "caution",
        "danger",
        "error",
        "hint",
        "important",
        "note",
        "seealso",
        "tip",
        "warning",
        "margin",
        "sidebar",
        "topic",
        "dropdown",
        "epigraph",
        "pull-quote",
        "highlights",
        "figure",
        "table",
        "list-table",
        "container",
        "div",
        "card",
        "grid-item",
        "grid-item-card",
        "tab-item",
        "tab-set",
        "exercise",
        "solution",
    }
)
IMAGE_DIRECTIVES = ("image", "figure")

_DIRECTIVE = re.compile(r"^\{([^}\s]+)\}\s*(.*)$")
_OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
_YAML_OPTION = re.compile(r"^\s*([\w-]+)\s*:\s*(.*)$")
# A backtick run, optionally preceded by `{role}`: a role, or a code span to blank out.
_TICKS = re.compile(
    r"(?:\{(?P<name>[A-Za-z][\w:+.\-]*)\})?(?P<ticks>`+)(?P<body>.*?[^`]|)(?P=ticks)(?!`)", re.S
)
# A line that makes a chunk more than plain prose: fences, HTML, comments,
# block breaks, math blocks, quotes, setext underlines and rules, indented code.
_COMPLEX = re.compile(
    r"^(?: {0,3}(?:```|~~~|:::|<|%|\+\+\+|\$\$|>|=+[ \t]*$|-+[ \t]*$"
    r"|(?:[*_-][ \t]*){3,}$)"
    r"| {4}|\t)",
    re.M,
)
_FENCE_OPEN = re.compile(r"^(`{3,}|~{3,}|:{3,})(.*)$")
_TARGET = re.compile(r"^ {0,3}\((.+)\)=[ \t]*$")  # as mdit_py_plugins.myst_blocks reads it
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]|$)")
_ITEM = re.compile(r"^ {0,3}(?:[-+*]|\d{1,9}[.)])(?:[ \t]|$)")
_ESCAPE = re.compile(r"\\[^\s]")
# Inline $math$ as dollarmath reads it: no space inside the dollars, no digit after.
_MATH = re.compile(r"(?<![\\$])\$(?![\s$])(?:[^$\n\\]|\\.)+?(?<![\s\\])\$(?!\d)")
_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<dest><[^>\n]*>|[^\s()]*(?:\([^\s()]*\)[^\s()]*)*)"
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
_IMG_TAG = re.compile(r"<img\b(?P<attrs>[^>]*)>", re.I)
_ATTR = re.compile(
    r"""(?P<name>[\w-]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))"""
)


@dataclass(frozen=True, slots=True)
class Pos:
    """Where something is written: 1-based line and column in a cell (-1: a page)."""

    cell: int
    line: int
    col: int


@dataclass(frozen=True, slots=True)
class Heading:
    pos: Pos
    level: int


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


@dataclass(slots=True)
class Markup:
    """What the checks need from one page (all markdown cells of a notebook together)."""

    headings: list[Heading] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)  # lower-cased, as Sphinx matches them
    bibliography_all: bool = False  # a {bibliography} with :all: cites every entry


def parse(chunks: Iterable[tuple[int, str]]) -> Markup:
    """Parse each (cell, text) chunk into one `Markup`; use cell -1 for a Markdown page."""
    out = Markup()
    for cell, text in chunks:
        chunk = _Chunk(out, cell, text.splitlines())
        chunk.markdown(0, len(chunk.lines), nested=False)
    return out


def parse_with_markdown_it(chunks: Iterable[tuple[int, str]]) -> Markup:
    """`parse` without the fast path for plain prose (the tests compare the two)."""
    out = Markup()
    for cell, text in chunks:
        _Chunk(out, cell, text.splitlines()).blocks(text, 0, nested=False)
    return out


@dataclass(slots=True)
class _Chunk:
    out: Markup
    cell: int
    lines: list[str]

    def pos(self, line_idx: int, col0: int) -> Pos:
        return Pos(self.cell, line_idx + 1, col0 + 1)

    def line(self, idx: int) -> str:
        return self.lines[idx] if 0 <= idx < len(self.lines) else ""

    def markdown(self, first: int, end: int, nested: bool) -> None:
        """Lines [first, end) of the chunk. Prose, targets and unindented fences take the
        fast path; anything else (indented code, quotes, HTML, front matter…) goes to
        markdown-it. The tests check both give the same result on every course text."""
        segments = self.segments(first, end)
        if segments is None:
            self.blocks("\n".join(self.lines[first:end]), first, nested)
            return
        for a, b, fence in segments:
            if fence is None:
                self.prose(a, b, nested)
            else:
                self.directive(fence, self.lines[a + 1 : b], a, fast=True)

    def segments(self, first: int, end: int) -> list[tuple[int, int, str | None]] | None:
        """Split into prose runs and fences (a, b, info): the fence opens on line a and
        its body is a+1..b-1. None when some prose is more than plain prose."""
        out: list[tuple[int, int, str | None]] = []
        i = prose = first
        while i < end:
            m = _FENCE_OPEN.match(self.lines[i])
            if m is None or (m.group(1)[0] == "`" and "`" in m.group(2)):
                i += 1
                continue
            out.append((prose, i, None))
            close = re.compile(rf"^ {{0,3}}{re.escape(m.group(1)[0])}{{{len(m.group(1))},}}[ \t]*$")
            j = i + 1
            while j < end and not close.match(self.lines[j]):
                j += 1
            out.append((i, j, m.group(2)))
            i = prose = j + 1
        out.append((prose, end, None))
        for a, b, fence in out:
            if fence is None and _COMPLEX.search("\n".join(self.lines[a:b])):
                return None
        return [seg for seg in out if seg[2] is not None or seg[0] < seg[1]]

    def prose(self, first: int, end: int, nested: bool) -> None:
        """Plain prose (no line that _COMPLEX matches): paragraphs, ATX headings, `(label)=`
        targets and list items only, which markdown-it would turn into these very blocks."""
        start, block = first, list[str]()
        for i in range(first, end + 1):
            line = self.lines[i] if i < end else ""
            heading, target = _ATX.match(line), _TARGET.match(line)
            if block and (not line.strip() or heading or target or _ITEM.match(line)):
                self.inline("\n".join(block), start)
                block = []
            if target:
                self.out.labels.append(Label(self.pos(i, line.find("(")), target.group(1).strip()))
            elif heading:
                if not nested:
                    self.out.headings.append(
                        Heading(self.pos(i, line.find("#")), len(heading.group(1)))
                    )
                self.inline(line, i)
            elif line.strip():
                start = i if not block else start
                block.append(line)

    def blocks(self, text: str, line0: int, nested: bool) -> None:
        """Walk the block tokens of `text`, whose first line is chunk line `line0`."""
        from coursekit.checks.mdparser import MD  # only for text the fast path declines

        tokens = MD.parse(text)
        for tok in tokens:
            start = line0 + (tok.map[0] if tok.map else 0)
            if tok.type == "heading_open" and not nested and tok.level == 0:
                src = self.line(start)
                col = src.find("#") if tok.markup.startswith("#") else len(src) - len(src.lstrip())
                self.out.headings.append(Heading(self.pos(start, max(col, 0)), int(tok.tag[1])))
            elif tok.type == "inline":
                self.inline(tok.content, start)
            elif tok.type == "myst_target":
                src = self.line(start)
                self.out.labels.append(
                    Label(self.pos(start, max(src.find("("), 0)), tok.content.strip())
                )
            elif tok.type in ("fence", "colon_fence"):
                self.directive(tok.info, tok.content.splitlines(), start, fast=False)
            elif tok.type == "html_block":
                self.html(tok.content, start)

    def directive(self, info: str, body: list[str], start: int, fast: bool) -> None:
        """A fence opening on chunk line `start`: a ```{directive} or plain code."""
        match = _DIRECTIVE.match(info.strip())
        if match is None:
            return  # a plain code block
        name, arg = match.group(1), match.group(2).strip()
        options, first_body = _options(body)
        fence_line = self.line(start)
        where = self.pos(start, max(fence_line.find("{"), 0))
        if name in IMAGE_DIRECTIVES and arg:
            col = fence_line.find(arg)
            self.out.links.append(
                Link(
                    self.pos(start, col if col >= 0 else 0),
                    arg,
                    True,
                    options.get("alt", ""),
                    "{" + name + "}",
                )
            )
        if "name" in options:
            self.out.labels.append(Label(where, options["name"]))
        if name == "math" and "label" in options:
            self.out.labels.append(Label(where, options["label"]))
        if name == "glossary":
            self.out.terms |= _glossary_terms(body)
        if name == "bibliography" and "all" in options:
            self.out.bibliography_all = True
        if not (name in MARKDOWN_BODY or name.startswith("prf:")):
            return
        if fast:  # the body is these very lines of the chunk
            self.markdown(start + 1 + first_body, start + 1 + len(body), nested=True)
        else:
            self.blocks("\n".join(body[first_body:]), start + 1 + first_body, nested=True)

    def inline(self, content: str, start: int) -> None:
        """Roles, links and images in a block's inline text, with code spans ignored."""
        if not any(c in content for c in "`[<"):
            return
        clean = self.roles(_ESCAPE.sub("  ", content), content, start)
        if "$" in clean:
            clean = _MATH.sub(lambda m: " " * len(m.group(0)), clean)
        if "[" in clean:
            for m in _LINK.finditer(clean):
                dest = m.group("dest").strip("<>")
                image = bool(m.group("bang"))
                alt = content[m.start("text") : m.end("text")] if image else ""
                self.out.links.append(
                    Link(self.at(content, m.start(), start), dest, image, alt.strip())
                )
        if "<" in clean:
            self.html(clean, start, content)

    def roles(self, text: str, original: str, start: int) -> str:
        """Record roles; return `text` with every role and code span blanked out."""
        if "`" not in text:
            return text
        pieces, last = [], 0
        for m in _TICKS.finditer(text):
            if m.group("name"):
                body = original[m.start("body") : m.end("body")]
                self.out.roles.append(
                    Role(self.at(original, m.start(), start), m.group("name"), body.strip())
                )
            pieces.append(text[last : m.start()])
            span = m.group(0)
            pieces.append(re.sub(r"[^\n]", " ", span) if "\n" in span else " " * len(span))
            last = m.end()
        pieces.append(text[last:])
        return "".join(pieces)

    def html(self, text: str, start: int, original: str | None = None) -> None:
        """`<img>` tags in raw HTML: their src and alt."""
        for m in _IMG_TAG.finditer(text):
            attrs = {
                a.group("name").lower(): a.group("dq") or a.group("sq") or a.group("bare") or ""
                for a in _ATTR.finditer(m.group("attrs"))
            }
            pos = self.at(original if original is not None else text, m.start(), start)
            self.out.links.append(
                Link(pos, attrs.get("src", ""), True, attrs.get("alt", "").strip(), "html")
            )

    def at(self, content: str, offset: int, start: int) -> Pos:
        """The chunk position of `offset` in a block's text whose first line is `start`."""
        row = content.count("\n", 0, offset)
        bol = content.rfind("\n", 0, offset) + 1
        eol = content.find("\n", offset)
        text_line = content[bol : eol if eol >= 0 else len(content)]
        src = self.line(start + row)
        base = src.find(text_line) if text_line else 0
        return self.pos(start + row, (base if base >= 0 else 0) + offset - bol)


def _options(body: list[str]) -> tuple[dict[str, str], int]:
    """A directive's `:key: value` (or `---` YAML) options and where its body starts."""
    options: dict[str, str] = {}
    if body and body[0].strip() == "---":
        for i, line in enumerate(body[1:], start=1):
            if line.strip() == "---":
                return options, i + 1
            m = _YAML_OPTION.match(line)
            if m:
                options[m.group(1)] = m.group(2).strip().strip("\"'")
        return options, len(body)
    i = 0
    while i < len(body):
        m = _OPTION.match(body[i])
        if m is None:
            break
        options[m.group(1)] = m.group(2).strip()
        i += 1
    return options, i


def _glossary_terms(body: list[str]) -> set[str]:
    """Terms of a {glossary}: the unindented lines (definitions are indented)."""
    terms = set()
    for line in body:
        if line.strip() and not line[0].isspace() and not _OPTION.match(line):
            terms.add(line.split(" : ")[0].strip().lower())
    return terms


def role_target(content: str) -> str:
    """`title <target>` → `target`; a bare `target` stays as it is."""
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", content, re.S)
    return (m.group(2) if m else content).strip()
