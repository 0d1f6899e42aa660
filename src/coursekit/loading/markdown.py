"""MyST Markdown → `Markup`: headings, links, images, roles, labels and directives, with positions.

One parser: markdown-it-py set up by myst-parser's own `create_md_parser`, with the
MyST extensions the book enables (`parse.myst_enable_extensions`), so a construct
is a link, a role or code here exactly when it is one in the book. Block structure
comes from the full block parse; markdown-it's inline parser then runs on the
blocks whose text can hold a link, an image, a role or an `<img>` (``](``,
``}` ``, ``<img``, or any ``[`` where the page defines references), since the
others cannot yield anything the checks look at.

Two fast paths stand in front of markdown-it, because `benchmarks/bench_check.py`
showed them needed (the parse was 60% of `coursekit check`): `_plain_blocks` splits
a text made only of headings, paragraphs, targets and backtick fences, and
`_plain_inline` reads a text holding only plain links, images, roles and code
spans. Each gives markdown-it's own tokens or, at the first thing it does not know,
None, and markdown-it does the work; tests/test_markdown.py compares them with
markdown-it on every course text and thousands of random ones.

The bodies of directives whose content is Markdown (``{note}``, ``{figure}``…) are
parsed the same way, since Sphinx parses them too; headings inside them are not
page headings. Positions are 1-based (line, col) within the text given;
`Pos.cell` says which notebook cell the text came from (-1 for a Markdown page).

With the pseudo-extension `mystmd` (a Jupyter Book 2 project), a page is read as
mystmd reads it: a front-matter `title:` is the page's top-level heading (mystmd
drops a first `# heading` that repeats it), `@key` and `[@key; -@other, p. 3]` are
citations (role `AT_CITE`: counted as citing, but, since mystmd also resolves such a
name to a label, a page or a DOI, never reported as an unknown key), and a {cite}
role's keys are split on `,` and `;` with their `{prefix}` and `{suffix}` left out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token

from coursekit.model import Directive, Heading, Label, Link, Markup, Pos, Role

MYSTMD = "mystmd"  # not a myst-parser extension: the page is read as mystmd reads it
AT_CITE = "@"  # the role name of a mystmd `@key` citation (no role can be named so)

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
        "glossary",
    }
)
IMAGE_DIRECTIVES = ("image", "figure")
# Directives whose argument is the label of what they make (`:::{figure-md} markdown-fig`).
ARGUMENT_LABELS = frozenset({"figure-md"})
# Directives whose body is code, maths, data or another markup: never read as MyST.
LITERAL_BODY = frozenset(
    {
        "code",
        "code-block",
        "sourcecode",
        "code-cell",
        "literalinclude",
        "include",
        "math",
        "raw",
        "eval-rst",
        "parsed-literal",
        "csv-table",
        "mermaid",
        "graphviz",
        "jupyter-execute",
        "ipython",
        "toctree",
        "tableofcontents",
        "bibliography",
        "glue",
        "glue:any",
        "glue:math",
        "glue:text",
        "highlight",
        "prompt",
        "quiz",
        "plot",
        "bokeh-plot",
        "mdinclude",
        "video",
        "iframe",
        "youtube",
        "solution-start",
        "solution-end",
        "exercise-start",
        "exercise-end",
    }
)
# Jupyter Book 1.x's default `myst_enable_extensions`, used when the book sets none.
DEFAULT_EXTENSIONS = frozenset({"colon_fence", "dollarmath", "linkify", "substitution", "tasklist"})
# What can open a construct the checks read: an inline link or image `](`, a role
# `{name}` + backtick, an `<img` tag, an autolink, inline maths `$` (CK312); with
# reference definitions, any `[`.
_INLINE_TRIGGERS = re.compile(r"[\[`<{$]")
# markdown-it's `text` rule skips these characters one Python step at a time; the
# same run found by one regex (the tests check the set is still markdown-it's).
TEXT_TERMINATORS = frozenset("\n!#$%&*+-:<=>@[\\]^_`{}~")
_TEXT_RUN = re.compile("[^" + re.escape("".join(sorted(TEXT_TERMINATORS))) + "]+")
_DIRECTIVE = re.compile(r"^\{([^}\s]+)\}\s*(.*)$")
_OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*)$")
_YAML_OPTION = re.compile(r"^\s*([\w-]+)\s*:\s*(.*)$")
_IMG_TAG = re.compile(r"<img\b(?P<attrs>[^>]*)>", re.I)
# Elements whose content a browser reads as raw text up to their end tag: HTML has no
# self-closing form of them, so `<script src="…" />` hides what follows (CK311).
_SELF_CLOSED = re.compile(
    r"<(?P<tag>script|style|textarea|title|iframe|noscript|xmp|noembed|noframes)\b"
    r"""(?:[^>"']|"[^"]*"|'[^']*')*/>""",
    re.I,
)
_ATTR = re.compile(
    r"""(?P<name>[\w-]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))"""
)


@functools.lru_cache(maxsize=8)
def parser(extensions: frozenset[str] = DEFAULT_EXTENSIONS) -> MarkdownIt:
    """markdown-it as MyST sets it up for these extensions (inline parsing left to us)."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = MdParserConfig(enable_extensions=_known(extensions))
    md = create_md_parser(config, RendererHTML)
    block = _BlockParser()
    block.ruler = md.block.ruler  # the rules the plugins added
    md.block = block
    # Of the core chain, only normalize and block: inline runs per block below, only
    # where it can find something; linkify, word counts, task lists and text joins
    # change nothing the checks read (an autolink is always a web address).
    md.core.ruler.enableOnly(["normalize", "block"])
    md.inline.ruler.disable(["linkify", "footnote_ref", "entity"], ignoreInvalid=True)
    md.inline.ruler.at("text", _text_run)
    md.options["maxNesting"] = 50  # a hostile page cannot nest without bound
    md.options[MYSTMD] = MYSTMD in extensions
    return md


# ------------------------------------------------------------- the fast paths


def _text_run(state: Any, silent: bool) -> bool:
    """markdown-it's `text` inline rule, the run of plain characters found by a regex."""
    match = _TEXT_RUN.match(state.src, state.pos, state.posMax)
    if match is None:
        return False
    if not silent:
        state.pending += match.group()
    state.pos = match.end()
    return True


# markdown-it's StateBlock builds its line tables in a Python loop over every
# character, and its `text` rule walks plain text one character at a time: together
# over a third of `coursekit check` on a big course (benchmarks/bench_check.py).
# These do the same with str.split and a regex; the tests compare them with
# markdown-it's own on every course text and on random inputs.


class _LineTables(StateBlock):
    """markdown-it's block state, with its line tables built line by line.

    The same tables as StateBlock's, quirks included (a last line of only blanks
    without a newline is dropped).
    """

    def __init__(self, src: str, md: MarkdownIt, env: Any, tokens: list[Token]) -> None:
        super().__init__("", md, env, tokens)
        self.src = src
        begins, ends, shifts, counts = [], [], [], []
        start, lines = 0, src.split("\n")
        for i, line in enumerate(lines):
            last = i == len(lines) - 1
            indent = len(line) - len(line.lstrip(" \t"))
            if not (last and indent == len(line)):
                begins.append(start)
                ends.append(start + len(line))
                shifts.append(indent)
                counts.append(_expanded(line[:indent]))
            start += len(line) + 1
        self.bMarks = [*begins, len(src)]
        self.eMarks = [*ends, len(src)]
        self.tShift = [*shifts, 0]
        self.sCount = [*counts, 0]
        self.bsCount = [0] * len(self.bMarks)
        self.lineMax = len(begins)


def _expanded(indent: str) -> int:
    if "\t" not in indent:
        return len(indent)
    offset = 0
    for char in indent:
        offset += 4 - offset % 4 if char == "\t" else 1
    return offset


class _BlockParser(ParserBlock):
    def parse(
        self, src: str, md: MarkdownIt, env: Any, outTokens: list[Token]
    ) -> list[Token] | None:  # noqa: N803 (upstream name)
        if not src:
            return None
        state = _LineTables(src, md, env, outTokens)
        self.tokenize(state, state.line, state.lineMax)
        return state.tokens


def _known(extensions: frozenset[str]) -> set[str]:
    """The extensions myst-parser accepts (a typo or a missing linkify is Sphinx's to
    report; here it must not stop the checks)."""
    from myst_parser.config.main import MdParserConfig

    kept = set(extensions)
    while True:
        try:
            MdParserConfig(enable_extensions=kept)
        except ValueError as exc:  # "items not recognised: {...}"
            unknown = {e for e in kept if repr(e) in str(exc)}
            if not unknown:
                return set()
            kept -= unknown
            continue
        break
    if "linkify" in kept:
        try:
            import linkify_it  # noqa: F401
        except ImportError:
            kept.discard("linkify")
    return kept


def parse(chunks: Iterable[tuple[int, str]], extensions: frozenset[str] | None = None) -> Markup:
    """Parse each (cell, text) chunk into one `Markup`; use cell -1 for a Markdown page."""
    md = parser(extensions if extensions is not None else DEFAULT_EXTENSIONS)
    out = _Collected()
    for cell, text in chunks:
        _Chunk(md, out, cell, text.splitlines()).blocks(text, 0, nested=False)
    return out.freeze()


@dataclass(slots=True)
class _Collected:
    headings: list[Heading] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    roles: list[Role] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)
    terms: set[str] = field(default_factory=set)
    self_closed: list[tuple[Pos, str]] = field(default_factory=list)
    money_maths: list[tuple[Pos, str]] = field(default_factory=list)
    front_title: Heading | None = None  # mystmd: the front matter's `title:`

    def freeze(self) -> Markup:
        headings = self.headings
        tops = [h for h in headings if h.level == 1 and h is not self.front_title]
        if self.front_title is not None and tops and tops[0].text == self.front_title.text:
            headings = [h for h in headings if h is not self.front_title]  # mystmd drops one
        return Markup(
            tuple(headings),
            tuple(self.links),
            tuple(self.roles),
            tuple(self.labels),
            tuple(self.directives),
            frozenset(self.terms),
            tuple(self.self_closed),
            tuple(self.money_maths),
        )


@dataclass(slots=True)
class _Chunk:
    md: MarkdownIt
    out: _Collected
    cell: int
    lines: list[str]

    def pos(self, line_idx: int, col0: int) -> Pos:
        return Pos(self.cell, line_idx + 1, col0 + 1)

    def line(self, idx: int) -> str:
        return self.lines[idx] if 0 <= idx < len(self.lines) else ""

    def blocks(self, text: str, line0: int, nested: bool) -> None:
        """Walk the block tokens of `text`, whose first line is chunk line `line0`."""
        env: dict[str, object] = {}
        tokens = _plain_blocks(text)
        if tokens is None:
            tokens = self.md.parse(text, env)
        heading: int | None = None
        for tok in tokens:
            start = line0 + (tok.map[0] if tok.map else 0)
            if tok.type == "heading_open" and not nested and tok.level == 0:
                heading = int(tok.tag[1])
                src = self.line(start)
                col = src.find("#") if tok.markup.startswith("#") else len(src) - len(src.lstrip())
                self.out.headings.append(Heading(self.pos(start, max(col, 0)), heading))
            elif tok.type == "inline":
                text_of = self.inline(tok, start, env, text=heading is not None)
                if heading is not None:
                    last = self.out.headings[-1]
                    self.out.headings[-1] = Heading(last.pos, last.level, text_of)
                    heading = None
            elif tok.type == "myst_target":
                src = self.line(start)
                label = Label(self.pos(start, max(src.find("("), 0)), tok.content.strip())
                self.out.labels.append(label)
            elif tok.type == "math_block_label":  # $$ … $$ (label)
                self.out.labels.append(Label(self.pos(start, 0), tok.info.strip()))
            elif tok.type in ("fence", "colon_fence"):
                self.directive(tok, start)
            elif tok.type == "html_block":
                self.html(tok.content, start, tok.content)
            elif tok.type == "front_matter" and self.md.options.get(MYSTMD) and not nested:
                self.front_matter(tok.content, start)

    def front_matter(self, text: str, start: int) -> None:
        """mystmd: the front matter's `title:` is the page title (its top-level heading)."""
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return  # mystmd reports it
        title = data.get("title") if isinstance(data, dict) else None
        if title is None or self.out.front_title is not None:
            return
        row = next((i for i, x in enumerate(text.splitlines()) if x.startswith("title:")), 0)
        heading = Heading(self.pos(start + 1 + row, 0), 1, str(title))
        self.out.front_title = heading
        self.out.headings.insert(0, heading)

    def directive(self, tok: Token, start: int) -> None:
        """A fence opening on chunk line `start`: a ```{directive} or plain code."""
        match = _DIRECTIVE.match(tok.info.strip())
        if match is None:
            return  # a plain code block
        name, arg = match.group(1), match.group(2).strip()
        body = tok.content.splitlines()
        options, first_body = _options(body)
        fence_line = self.line(start)
        where = self.pos(start, max(fence_line.find("{"), 0))
        self.out.directives.append(Directive(where, name, arg, tuple(options.items())))
        if name in IMAGE_DIRECTIVES and arg:
            col = fence_line.find(arg)
            at = self.pos(start, col if col >= 0 else 0)
            self.out.links.append(Link(at, arg, True, options.get("alt", ""), "{" + name + "}"))
        # As Sphinx names targets: any directive's `:name:` or `:label:` (sphinx-exercise,
        # sphinx-proof, math, glue…), and the argument of those whose argument is the label.
        for key in ("name", "label"):
            if options.get(key):
                self.out.labels.append(Label(where, options[key]))
        if name in ARGUMENT_LABELS and arg:
            self.out.labels.append(Label(where, arg.split()[0]))
        if name == "glossary":
            self.glossary(body[first_body:], start + 1 + first_body)
            return
        text = "\n".join(body[first_body:])
        if name == "raw" and "html" in arg.lower().split():
            self.self_closed(text, start + 1 + first_body, text)
        if name in MARKDOWN_BODY or name.startswith("prf:"):
            self.blocks(text, start + 1 + first_body, nested=True)
        elif name not in LITERAL_BODY and text.strip():
            # A directive coursekit does not know ({example}, an extension's): its body
            # may define labels, terms and index names that Sphinx resolves, so those
            # are read; its links and roles are not checked (unsure is no error).
            inner = _Chunk(self.md, _Collected(), self.cell, self.lines)
            inner.blocks(text, start + 1 + first_body, nested=True)
            self.out.labels.extend(inner.out.labels)
            self.out.terms.update(inner.out.terms)

    def glossary(self, body: list[str], line0: int) -> None:
        """A {glossary}'s terms, as Sphinx names them, and the links and roles of its body.

        A term is an unindented line (its definition is indented below it), read up to
        a ` : ` classifier as inline Markdown: `[MyST](https://…)` defines "myst".
        """
        for line in body:
            if line.strip() and not line[0].isspace() and not _OPTION.match(line):
                children: list[Token] = []
                self.md.inline.parse(line.split(" : ")[0], self.md, {}, children)
                words = (c.content for c in children if c.type in ("text", "code_inline"))
                self.out.terms.add("".join(words).strip().lower())
        self.blocks("\n".join(_dedent_definitions(body)), line0, nested=True)

    def inline(self, tok: Token, start: int, env: dict[str, object], text: bool) -> str:
        """Roles, links and images of a block's inline text; returns its plain text
        when `text` is asked for (a heading's), else ""."""
        content = tok.content
        if "@" in content and self.md.options.get(MYSTMD):
            self.at_citations(content, start)
        if not (_INLINE_TRIGGERS.search(content) or ("[" in content and env.get("references"))):
            return content
        children = None if text else _plain_inline(self.md, content)
        if children is None:
            children = []
            self.md.inline.parse(content, self.md, env, children)
        cursor, words = 0, []
        for child in children:
            cursor = self.child(child, content, start, cursor)
            if child.type in ("text", "code_inline"):
                words.append(child.content)
        return "".join(words)

    def child(self, child: Token, content: str, start: int, cursor: int) -> int:
        """Record one inline token; returns where the next one is looked for."""
        if child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            at = _find_link(content, href, cursor, image=False)
            self.out.links.append(Link(self.at(content, at, start), _raw(href), False))
            return at + 1
        if child.type == "image":
            src = str(child.attrs.get("src", ""))
            at = _find_link(content, src, cursor, image=True)
            alt = "".join(c.content for c in child.children or ())
            link = Link(self.at(content, at, start), _raw(src), True, alt.strip())
            self.out.links.append(link)
            return at + 1
        if child.type == "myst_role":
            name = str(child.meta.get("name", ""))
            at = content.find("{" + name + "}", cursor)
            at = at if at >= 0 else cursor
            where = self.at(content, at, start)
            if self.md.options.get(MYSTMD) and (name == "cite" or name.startswith("cite:")):
                for key in _CITE_SPLIT.split(child.content):
                    key = _CITE_AFFIXES.sub("", key).strip()
                    if key:
                        self.out.roles.append(
                            Role(where, AT_CITE if _DOI.match(key) else name, key)
                        )
                return at + 1
            self.out.roles.append(Role(where, name, child.content.strip()))
            return at + 1
        if child.type == "html_inline":
            at = content.find(child.content, cursor)
            self.html(child.content, start, content, base=at if at >= 0 else cursor)
        if child.type == "math_inline" and _reads_as_money(child.content):
            at = content.find("$" + child.content, cursor)
            at = at if at >= 0 else cursor
            self.out.money_maths.append((self.at(content, at, start), child.content))
            return at + 1
        return cursor

    def at_citations(self, content: str, start: int) -> None:
        """mystmd's `[@a; -@b, p. 3]` and `@key` citations, as markdown-it-myst finds them
        (not in code, maths, links or web addresses; `@` after a letter is an e-mail)."""
        plain = _HIDDEN.sub(lambda m: " " * len(m.group()), content)
        for group in _AT_GROUP.finditer(plain):
            parts = group.group(1).split(";")
            found = [_AT_PART.match(part) for part in parts]
            if all(found):
                offset = group.start(1)
                for part, m in zip(parts, found, strict=True):
                    assert m is not None
                    pos = self.at(content, offset + m.start(3) - 1, start)
                    self.out.roles.append(Role(pos, AT_CITE, m.group(3)))
                    offset += len(part) + 1
                plain = plain[: group.start()] + " " * len(group.group()) + plain[group.end() :]
        for m in _AT_KEY.finditer(plain):
            before = plain[: m.start()].split()
            if before and _URL_WORD.search(before[-1]) and not plain[m.start() - 1].isspace():
                continue  # part of a web address
            key = re.sub(r"^\{(.*)\}$", r"\1", m.group(1))
            self.out.roles.append(Role(self.at(content, m.start(), start), AT_CITE, key))

    def html(self, text: str, start: int, content: str, base: int = 0) -> None:
        """`<img>` tags in raw HTML (their src and alt), and `<script … />` (CK311)."""
        self.self_closed(text, start, content, base)
        for m in _IMG_TAG.finditer(text):
            attrs = {
                a.group("name").lower(): a.group("dq") or a.group("sq") or a.group("bare") or ""
                for a in _ATTR.finditer(m.group("attrs"))
            }
            pos = self.at(content, base + m.start(), start)
            link = Link(pos, attrs.get("src", ""), True, attrs.get("alt", "").strip(), "html")
            self.out.links.append(link)

    def self_closed(self, text: str, start: int, content: str, base: int = 0) -> None:
        """`<script … />` and the like in raw HTML (a block, inline, a {raw} html body)."""
        for m in _SELF_CLOSED.finditer(text):
            pos = self.at(content, base + m.start(), start)
            self.out.self_closed.append((pos, m.group("tag").lower()))

    def at(self, content: str, offset: int, start: int) -> Pos:
        """The chunk position of `offset` in a block's text whose first line is `start`.

        markdown-it strips each line's indentation (and list or quote markers) from
        a block's text, so the column is found by locating the text's line in the source.
        """
        offset = max(0, min(offset, len(content)))
        row = content.count("\n", 0, offset)
        bol = content.rfind("\n", 0, offset) + 1
        eol = content.find("\n", offset)
        text_line = content[bol : eol if eol >= 0 else len(content)]
        src = self.line(start + row)
        base = src.find(text_line) if text_line else 0
        return self.pos(start + row, (base if base >= 0 else 0) + offset - bol)


# The fast block path: most texts are headings, paragraphs, `(label)=` targets and
# backtick fences, each starting at column 0, which `_plain_blocks` splits as
# markdown-it does. Any other line that starts a block (a list, a quote, a table
# row, HTML, maths, an indented line, a `:::` fence, a reference…), a paragraph line
# that does not start with a letter, a tab, or a fence left open gives None, and
# markdown-it parses the text. A paragraph line starting with a letter cannot open
# or end any block construct, nor a table row (whose next line would start with `|`,
# `-` or `:`).
_FENCE_OPEN = re.compile(r"(`{3,})([^`|]*)")
_FENCE_CLOSE = re.compile(r" {0,3}(`{3,}) *")
_UNSAFE = ("\t", "\r", "\0")  # tabs count to four, and the others are rewritten


def _plain_blocks(text: str) -> list[Token] | None:
    """The block tokens markdown-it gives for `text` (those the walk reads), when it
    holds only plain blocks; None when markdown-it must look."""
    if any(c in text for c in _UNSAFE):
        return None
    lines = text.split("\n")
    tokens: list[Token] = []
    i, end = 0, len(lines)
    while i < end:
        line = lines[i]
        first = line[:1]
        if not line.strip(" "):
            i += 1
        elif first.isalpha():
            j = i + 1
            while j < end and lines[j][:1].isalpha():
                j += 1
            if j < end and lines[j].strip(" "):
                return None  # something may interrupt the paragraph
            content = "\n".join(lines[i:j]).strip()
            tokens.append(Token("inline", "", 0, content=content, map=[i, j], level=1))
            i = j
        elif first == "#":
            if not _plain_heading(line, i, tokens):
                return None
            i += 1
        elif first == "(":
            label = line.strip()
            if not (label.endswith(")=") and label[1:-2]):
                return None
            tokens.append(Token("myst_target", "", 0, content=label[1:-2], map=[i, i + 1]))
            i += 1
        elif first == "`" and (fence := _FENCE_OPEN.fullmatch(line)):
            close = _fence_end(lines, i, len(fence.group(1)))
            if close is None:
                return None
            body = "".join(f"{body_line}\n" for body_line in lines[i + 1 : close])
            info, markup = fence.group(2), fence.group(1)
            tok = Token("fence", "code", 0, info=info, content=body, markup=markup)
            tok.map = [i, close + 1]
            tokens.append(tok)
            i = close + 1
        else:
            return None
    return tokens


def _plain_heading(line: str, i: int, tokens: list[Token]) -> bool:
    """An ATX heading at column 0, cut as markdown-it's `heading` rule cuts it."""
    level = len(line) - len(line.lstrip("#"))
    if level > 6 or (len(line) > level and line[level] != " "):
        return False
    stop = max(level, len(line.rstrip(" ")))
    tail = stop
    while tail > level and line[tail - 1] == "#":
        tail -= 1
    if tail > level and line[tail - 1] == " ":
        stop = tail
    where = [i, i + 1]
    tokens.append(Token("heading_open", f"h{level}", 1, markup="#" * level, map=where))
    tokens.append(Token("inline", "", 0, content=line[level:stop].strip(), map=where, level=1))
    return True


def _fence_end(lines: list[str], start: int, length: int) -> int | None:
    """The line closing a backtick fence opened on line `start`, or None if none does."""
    for j in range(start + 1, len(lines)):
        close = _FENCE_CLOSE.fullmatch(lines[j])
        if close and len(close.group(1)) >= length:
            return j
    return None


# The fast inline path: most prose holds only plain links, images, roles and code
# spans, which a few regexes find as markdown-it's own rules do. `_plain_inline`
# stops at every character that could start anything else (an escape, HTML or an
# autolink, maths, a substitution, a link with a title or a nested bracket…) and
# gives None, and then markdown-it parses the text (tests/test_markdown.py compares
# the two on every course text and on random inputs).
_SCAN = re.compile(r"[`{\[!<\\$]")
_CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.S)  # a run, then one as long
_ROLE_NAME = re.compile(r"\{([a-zA-Z0-9_\-+:]+)\}`")  # as mdit_py_plugins' myst_role
_PLAIN_LINK = re.compile(r"\[([^\[\]`{}<>\\$]*)\]\(([^\s()<>\\`&\x00-\x1f\x7f]*)\)")
_PLAIN_ALT = re.compile(r"[^\n*_~]*")  # alt text that is one text token


def _plain_inline(md: MarkdownIt, content: str) -> list[Token] | None:
    """The link, image and role tokens markdown-it would give for `content`, when
    it holds nothing but plain ones; None when markdown-it must look."""
    found: list[Token] = []
    pos = 0
    while (m := _SCAN.search(content, pos)) is not None:
        at, char = m.start(), m.group()
        if char == "`":
            span = _CODE_SPAN.match(content, at)
            if span is None:
                return None
            pos = span.end()
        elif char == "{":
            role = _ROLE_NAME.match(content, at)
            if role is None:
                return None
            ticks = role.end() - 1
            run = ticks
            while run < len(content) and content[run] == "`":
                run += 1
            close = content.find("`" * (run - ticks), run + 1)
            if run == len(content) or close < 0:
                return None
            body = content[run:close].replace("\n", " ")
            found.append(Token("myst_role", "", 0, content=body, meta={"name": role.group(1)}))
            pos = close + run - ticks
        elif char == "!" and not content.startswith("[", at + 1):
            pos = at + 1
        elif char in "[!":
            image = char == "!"
            link = _PLAIN_LINK.match(content, at + image)
            if link is None:
                return None
            href = md.normalizeLink(link.group(2))
            if not md.validateLink(href):
                return None
            if not image:
                found.append(Token("link_open", "a", 1, attrs={"href": href}))
            elif _PLAIN_ALT.fullmatch(alt := link.group(1)):
                text = Token("text", "", 0, content=alt)
                found.append(Token("image", "img", 0, attrs={"src": href}, children=[text]))
            else:
                return None
            pos = link.end()
        else:
            return None
    return found


# mystmd's citations (markdown-it-myst's citations.js): what hides them, a bracketed
# group (not a link: no `(` or `[` after it), one part of a group, an in-text key.
_HIDDEN = re.compile(
    r"(`+)(?!`).*?(?<!`)\1(?!`)|\$\$.*?\$\$|\$[^$\n]+\$|<[^<>\s]*>|!?\[[^\[\]]*\]\([^)]*\)"
    r"|\\@",
    re.S,
)
_AT_GROUP = re.compile(r"\[([^\[\]]*@[^\[\]]*)\](?![(\[])")
_AT_PART = re.compile(r"^([^^-]|[^^].+?)?(-)?@(\w[\w:.#$%&\-+?~/]*)(.+)?$", re.A | re.S)
_AT_KEY = re.compile(r"(?<![a-zA-Z0-9])@((?:[\w{][\w:.#$%&\-+?~/]*[\w}])|\w)", re.A)
_URL_WORD = re.compile(r"://|^www\.|^([a-z0-9-]+\.)+[a-z]{2,}(/|$)", re.I)
# A {cite} role's keys: split on `,` and `;`, each `{prefix}key{suffix}`; a DOI is
# looked up online by mystmd, so it is counted as citing but never as an unknown key.
_CITE_SPLIT = re.compile(r"[,;]")
_CITE_AFFIXES = re.compile(r"\{[^{}]*\}")
_DOI = re.compile(r"^(?:doi:|https?://|10\.\d{4,9}/)", re.I)


# Inline maths that is prose between two prices (`US$4.43 per hour to US$3.31`):
# it starts with a digit, and has two plain words in a row or ends with a space.
# `\text{…}` and the like hold words in real maths; a `\command` is not a word.
_MATH_TEXT = re.compile(r"\\(?:text\w*|math\w+|mbox|hbox|operatorname)\s*\{[^{}]*\}")
_TWO_WORDS = re.compile(r"(?<![\\\w])[A-Za-z]{2,}\s+[A-Za-z]{2,}(?!\w)")


def _reads_as_money(maths: str) -> bool:
    """`maths` (inline, between two `$`) reads as the prose between two prices."""
    if not maths[:1].isdigit():
        return False
    return maths[-1:].isspace() or _TWO_WORDS.search(_MATH_TEXT.sub("", maths)) is not None


def _raw(url: str) -> str:
    """A link target as written: markdown-it percent-encodes what it stores."""
    from mdurl import decode

    return decode(url)


def _find_link(content: str, url: str, cursor: int, image: bool) -> int:
    """Where the `[` (or `![`) of the link to `url` starts in `content`."""
    close = -1
    for written in dict.fromkeys((_raw(url), url)):
        close = content.find("](" + written, cursor)
        if close < 0:
            close = content.find("](<" + written, cursor)
        if close >= 0:
            break
    if close < 0:  # a reference-style link or an autolink: the next bracket will do
        found = content.find("![" if image else "[", cursor)
        return found if found >= 0 else cursor
    depth, i = 0, close
    while i > cursor:
        i -= 1
        if content[i] == "]":
            depth += 1
        elif content[i] == "[":
            if depth == 0:
                break
            depth -= 1
    return i - 1 if image and i > 0 and content[i - 1] == "!" else i


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
        options[m.group(1)] = _unquoted(m.group(2).strip())
        i += 1
    return options, i


def _unquoted(value: str) -> str:
    """An option value as docutils reads it for a name: `"fig-boot"` → `fig-boot`."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1].strip()
    return value


def _dedent_definitions(body: list[str]) -> list[str]:
    """A glossary's lines with its definitions' common indentation removed (so an
    indented definition is a paragraph, not code, to markdown-it); as many lines."""
    indents = [len(x) - len(x.lstrip()) for x in body if x.strip() and x[0].isspace()]
    cut = min(indents, default=0)
    return [x[cut:] if x.strip() and x[0].isspace() else x for x in body]


def role_target(content: str) -> str:
    """`title <target>` → `target`; a bare `target` stays as it is."""
    m = re.match(r"^(.*?)\s*<([^<>]+)>$", content, re.S)
    return (m.group(2) if m else content).strip()
