"""The one Markdown parser (markdown-it as MyST sets it up): MyST constructs, positions,
and inline parsing skipped only where it could not find anything."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from coursekit.loading.markdown import DEFAULT_EXTENSIONS, parse, role_target
from coursekit.model import Pos

PROSE = [
    "# Title\n\nA [link](a.md) and ![alt](b.png) with {cite:p}`k1,k2`.\n",
    "Text `[not a link](x.md)` and ``{ref}`x` `` in code.\n\n## Two\n",
    "1. Read [one](one.md)\n2. Then {doc}`two`\n\n- item with `code\n- spanning` items\n",
    "  # Indented heading\n#not-a-heading\n###### Six\n",
    'A paragraph\nwrapped [over\nlines](wrapped.md) and <img src="x.png">.\n',
    "Escaped \\[no](link.md) and $x[1](2)$ math and a price of $5 and $10.\n",
    "Heading right after text\n# Title\ntext again {term}`a <b>`\n",
    "",
]


def chunks_from_files() -> list[str]:
    """Every Markdown page and notebook markdown cell in the repository's courses."""
    texts = []
    for path in sorted(REPO.glob("**/*.md")) + sorted(REPO.glob("**/*.ipynb")):
        if any(part.startswith(".") or part in ("_build", "node_modules") for part in path.parts):
            continue
        try:
            raw = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        if path.suffix == ".md":
            texts.append(raw)
            continue
        try:
            cells = json.loads(raw).get("cells", [])
        except (ValueError, AttributeError):
            continue
        for cell in cells:
            if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
                source = cell.get("source", "")
                texts.append("".join(source) if isinstance(source, list) else str(source))
    return texts


def _full_parse(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Link targets and roles as markdown-it finds them running inline on every block."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    md = create_md_parser(MdParserConfig(enable_extensions=set(DEFAULT_EXTENSIONS)), RendererHTML)
    links, roles = [], []
    for tok in md.parse(text):
        for child in tok.children or ():
            # linkify's autolinks are web addresses, which no check follows.
            if child.type == "link_open" and child.markup != "linkify":
                links.append(str(child.attrs["href"]))
            elif child.type == "image":
                links.append(str(child.attrs["src"]))
            elif child.type == "myst_role":
                roles.append((child.meta["name"], child.content.strip()))
    return links, roles


@pytest.mark.parametrize("text", PROSE)
def test_inline_parsing_only_where_it_can_find_something_loses_nothing(text):
    """Skipping markdown-it's inline pass on blocks without `[`, a backtick, `<` or `{`
    finds the same links and roles as running it everywhere (outside directives)."""
    from mdurl import encode

    found = parse([(-1, text)])
    links, roles = _full_parse(text)
    assert [encode(link.target) for link in found.links if link.via == "markdown"] == links
    assert [(r.name, r.content) for r in found.roles] == roles


def test_every_course_text_parses_like_the_full_parser():
    from mdurl import encode

    texts = [t for t in chunks_from_files() if "```{" not in t and ":::" not in t]
    assert len(texts) > 20
    for text in texts:
        found = parse([(3, text)])
        links, roles = _full_parse(text)
        assert [encode(link.target) for link in found.links if link.via == "markdown"] == links
        assert [(r.name, r.content) for r in found.roles] == roles, text


def test_myst_constructs_and_positions():
    text = (
        "(intro)=\n# Intro\n\nSee {ref}`the intro <intro>` and [a page](page.md).\n\n"
        "```{figure} img/chart.png\n:alt: A chart\n:name: fig-chart\n\n"
        "Caption with [a link](x.md).\n```\n\n"
        "```{glossary}\nDigital labor\n  Work.\n```\n\n"
        "```python\n# not a heading [not](a-link.md)\n```\n"
    )
    found = parse([(-1, text)])
    assert [(h.pos, h.level, h.text) for h in found.headings] == [(Pos(-1, 2, 1), 1, "Intro")]
    assert [(label.name, label.pos.line) for label in found.labels] == [
        ("intro", 1),
        ("fig-chart", 6),
    ]
    assert [(r.name, r.content, r.pos) for r in found.roles] == [
        ("ref", "the intro <intro>", Pos(-1, 4, 5))
    ]
    assert [(link.target, link.image, link.alt, link.pos) for link in found.links] == [
        ("page.md", False, "", Pos(-1, 4, 34)),
        ("img/chart.png", True, "A chart", Pos(-1, 6, 13)),
        ("x.md", False, "", Pos(-1, 10, 14)),
    ]
    assert found.terms == {"digital labor"}


def test_glossary_terms_are_named_by_their_text_and_their_bodies_are_read():
    """As Sphinx reads a glossary (seen in uwhackweek/jupyterbook-template): a term line is
    inline Markdown up to a ` : ` classifier; definitions hold links and roles as any text."""
    text = (
        "```{glossary}\n"
        "[MyST](https://myst-parser.readthedocs.io)\n"
        "  A Markdown flavour; see {term}`Sphinx`.\n\n"
        "**Sphinx** : tool\n"
        "`jupyter-book`\n"
        "    Builds [books](books.md).\n"
        "```\n"
    )
    found = parse([(-1, text)])
    assert found.terms == {"myst", "sphinx", "jupyter-book"}
    assert [(r.name, r.content, r.pos) for r in found.roles] == [("term", "Sphinx", Pos(-1, 3, 27))]
    assert [(link.target, link.pos) for link in found.links] == [
        ("https://myst-parser.readthedocs.io", Pos(-1, 2, 1)),
        ("books.md", Pos(-1, 7, 12)),
    ]


def test_headings_inside_directives_and_quotes_are_not_page_titles():
    text = "# Title\n\n```{note}\n# Not a title\n```\n\n> # Quoted\n"
    assert [h.pos.line for h in parse([(-1, text)]).headings] == [1]


def test_role_target():
    assert role_target("label") == "label"
    assert role_target("Figure %s <fig-x>") == "fig-x"
    assert role_target(" spaced ") == "spaced"


def test_fences_are_code_however_many_backticks():
    """A `{quiz}` shown as an example inside a four-backtick fence is not a directive."""
    text = "````md\n```{quiz} example.yml\n```\n````\n\n```{quiz} real.yml\n```\n"
    found = parse([(-1, text)])
    assert [(d.name, d.argument, d.pos.line) for d in found.directives] == [("quiz", "real.yml", 6)]


def test_labelled_display_maths_defines_a_label():
    text = "$$ F = m a $$ (eq:newton)\n\nSee {eq}`eq:newton`.\n"
    found = parse([(-1, text)], frozenset({"dollarmath"}))
    assert [(label.name, label.pos.line) for label in found.labels] == [("eq:newton", 1)]


def test_code_spans_and_math_hide_links():
    text = "Code `[x](a.md)`, math $[y](b.md)$ and a [real](c.md) link.\n"
    assert [link.target for link in parse([(-1, text)]).links] == ["c.md"]


def test_link_positions_in_lists_and_quotes():
    text = "- item\n  with [a](a.md)\n\n> quoted [b](b.md)\n"
    found = parse([(-1, text)])
    assert [(link.target, link.pos.line, link.pos.col) for link in found.links] == [
        ("a.md", 2, 8),
        ("b.md", 4, 10),
    ]


def test_link_targets_as_written():
    """markdown-it percent-encodes what it stores; the checks see the target as written."""
    text = "[x](my%20file.md) [y](<a b.md>) [z](caf\u00e9.md)\n"
    assert [link.target for link in parse([(-1, text)]).links] == [
        "my file.md",
        "a b.md",
        "caf\u00e9.md",
    ]


def test_line_tables_equal_markdown_its_own():
    """The faster line tables are exactly StateBlock's, on course texts and odd inputs."""
    import random

    from markdown_it.rules_block import StateBlock

    from coursekit.loading.markdown import _LineTables, parser

    md = parser(DEFAULT_EXTENSIONS)

    rnd = random.Random(7)
    texts = [
        "",
        "\n",
        "a",
        "  ",
        "a\n  ",
        "a\n  \n",
        "\tx\n  \ty",
        " \t \n\n\nq",
        *chunks_from_files(),
        *("".join(rnd.choice(" \t\nab#`") for _ in range(rnd.randint(0, 40))) for _ in range(2000)),
    ]
    for text in texts:
        theirs, ours = StateBlock(text, md, {}, []), _LineTables(text, md, {}, [])
        for name in ("bMarks", "eMarks", "tShift", "sCount", "bsCount", "lineMax"):
            assert getattr(ours, name) == getattr(theirs, name), (text, name)


def test_the_text_rule_stops_where_markdown_its_own_stops():
    import importlib

    from coursekit.loading.markdown import TEXT_TERMINATORS

    upstream = importlib.import_module("markdown_it.rules_inline.text")
    assert set(upstream._TerminatorChars) == TEXT_TERMINATORS


# Pieces random inline texts are made of: every construct the fast inline path
# reads, and the characters that should send it back to markdown-it.
_PIECES = (
    "a",
    " ",
    "\n",
    "text ",
    "[",
    "]",
    "(",
    ")",
    "`",
    "``",
    "!",
    "{",
    "}",
    "*",
    "_",
    "~",
    "\\",
    "<",
    ">",
    "$",
    "&amp;",
    '"t"',
    "#",
    ":",
    "a.md",
    "b c.md",
    "%20",
    "caf\u00e9",
    "javascript:x",
    "https://x.org/a?b=c",
    "{ref}",
    "{cite:p}",
    "{term}",
    "{bad name}",
    "[the page](a.md)",
    "![a chart](img/c.png)",
    "{doc}`intro`",
    "`code [x](y.md)`",
    "{ref}`m1 <label>`",
    "[x](<a b.md>)",
    '[x](a.md "title")',
    "[*em*](e.md)",
    "![*alt*](i.png)",
    "![](e.png)",
    "[](empty.md)",
    "{{ sub }}",
    "``{ref}`x` ``",
)


def _inline_children(md, content: str) -> list[tuple]:
    """What the checks read of markdown-it's own inline tokens for `content`."""
    from markdown_it.token import Token

    tokens: list[Token] = []
    md.inline.parse(content, md, {}, tokens)
    return [_reading(t) for t in tokens if t.type in ("link_open", "image", "myst_role")]


def _reading(tok) -> tuple:
    if tok.type == "link_open":
        return ("link", tok.attrs["href"])
    if tok.type == "image":
        return ("image", tok.attrs["src"], "".join(c.content for c in tok.children or ()))
    return ("role", tok.meta["name"], tok.content)


def test_the_fast_inline_path_reads_what_markdown_it_reads():
    """Wherever the regex path answers, it finds markdown-it's links, images and roles,
    in order, with the same targets, alt texts and role contents."""
    import random

    from coursekit.loading.markdown import _plain_inline, parser

    md = parser(DEFAULT_EXTENSIONS)
    rnd = random.Random(11)
    texts = [*chunks_from_files(), *PROSE]
    texts += ["".join(rnd.choices(_PIECES, k=rnd.randint(1, 12))) for _ in range(6000)]
    answered = 0
    for text in texts:
        fast = _plain_inline(md, text)
        if fast is None:
            continue
        answered += 1
        assert [_reading(t) for t in fast] == _inline_children(md, text), text
    # The path must really be taken, for random texts and for the course's own prose.
    assert answered > len(texts) // 5
    prose = "See [the overview](overview.md), {ref}`label` and ![A chart](c.png) {cite:p}`k`."
    assert _plain_inline(md, prose) is not None


# Lines random block texts are made of: the blocks the fast block path splits, and
# those it must leave to markdown-it.
_LINES = (
    "",
    " ",
    "Text with [a link](a.md).",
    "More text {ref}`x`",
    "# Title",
    "## Two ##",
    "### Three #not",
    "#######",
    "#no",
    "# ",
    "#",
    "(label)=",
    "(la bel)=  ",
    "()=",
    "(x)",
    "```",
    "````",
    "```{figure} img.png",
    "```python",
    "```{note} a|b",
    "``` x ```",
    "  ```",
    "    ```",
    "```` ",
    ":alt: a chart",
    ":::{note}",
    ":::",
    "- item",
    "* item",
    "1. one",
    "> quote",
    "---",
    "===",
    "a | b",
    "--|--",
    "    indented code",
    "  Lazy line",
    "<div>",
    "$$",
    "$$ (eq)",
    "[ref]: https://x.org",
    "%comment",
    "+++",
    "\tTab",
    "Caf\u00e9 au lait",
    "\u00e9t\u00e9 2016",
    "2016 was",
    "~~~",
    ": definition",
    "{{ sub }}",
)


def _block_reading(tokens) -> list[tuple]:
    kept = ("heading_open", "inline", "myst_target", "fence", "colon_fence", "html_block")
    return [
        (t.type, t.map, t.content, t.info, t.markup, t.tag, t.level if t.type != "inline" else 0)
        for t in tokens
        if t.type in kept or t.type == "math_block_label"
    ]


def test_the_fast_block_path_splits_as_markdown_it_splits():
    """Wherever the line splitter answers, it gives markdown-it's headings, paragraphs,
    targets and fences with the same lines, texts, info strings and levels."""
    import random

    from coursekit.loading.markdown import _plain_blocks, parser

    md = parser(DEFAULT_EXTENSIONS)
    rnd = random.Random(5)
    texts = [*chunks_from_files(), *PROSE]
    plain = [line for line in _LINES if _plain_blocks(line) is not None]
    weights = [8 if line in plain else 1 for line in _LINES]  # mostly plain texts
    texts += ["\n".join(rnd.choices(_LINES, weights, k=rnd.randint(1, 10))) for _ in range(6000)]
    texts += [text + "\n" for text in texts[-500:]]
    answered = 0
    for text in texts:
        fast = _plain_blocks(text)
        if fast is None:
            continue
        answered += 1
        assert _block_reading(fast) == _block_reading(md.parse(text, {})), text
    assert answered > len(texts) // 6


def test_the_fast_paths_change_nothing_a_check_reads(monkeypatch):
    """The whole `Markup` of every course text is the same with both fast paths off."""
    from coursekit.loading import markdown

    texts = chunks_from_files()
    fast = [markdown.parse([(2, text)]) for text in texts]
    monkeypatch.setattr(markdown, "_plain_blocks", lambda text: None)
    monkeypatch.setattr(markdown, "_plain_inline", lambda md, content: None)
    assert [markdown.parse([(2, text)]) for text in texts] == fast
