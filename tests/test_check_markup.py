"""The Markdown reader behind the page checks: MyST constructs, positions, and the
fast path for plain prose giving exactly what markdown-it gives."""

from __future__ import annotations

import json

import pytest

from conftest import REPO
from coursekit.checks.markup import _COMPLEX, Pos, parse, parse_with_markdown_it, role_target

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


@pytest.mark.parametrize("text", PROSE)
def test_prose_fast_path_matches_markdown_it(text):
    assert _COMPLEX.search(text) is None
    assert parse([(-1, text)]) == parse_with_markdown_it([(-1, text)])


def test_fast_path_matches_markdown_it_on_every_course_text():
    texts = chunks_from_files()
    assert len([t for t in texts if _COMPLEX.search(t) is None]) > 20
    for text in texts:
        assert parse([(3, text)]) == parse_with_markdown_it([(3, text)]), text


@pytest.mark.parametrize(
    "text",
    [
        "# T\n\n```{figure} a.png\n:alt: x\n:name: f\n\nCap [l](x.md) {ref}`f`\n```\nafter\n",
        "# T\ntext\n```python\n# code\n[x](y.md)\n```\n",
        "```\nnever closed [x](y.md)\n# no\n",
        "(a)=\n# T\ntext\n(b)=\n  ( spaced )=  \n(x)(y)=\n()=\n(c)= trailing\n",
        "````{note}\n```python\n# code\n```\n[in note](n.md)\n````\n",
        ":::{note}\n# not a title\n[x](y.md)\n:::\n\n:::{figure} f.png\n:::\n",
        "~~~{glossary}\nTerm\n  def\n~~~\n```{bibliography}\n:all:\n```\n",
        "```{note}\n> quoted [q](q.md)\n```\n",
        "``` a`b\nnot a fence\n```\n",
        "- list\n  ```\n  code [x](y)\n  ```\n",
    ],
)
def test_fences_take_the_fast_path_with_the_same_result(text):
    assert parse([(-1, text)]) == parse_with_markdown_it([(-1, text)])


@pytest.mark.parametrize(
    "text",
    [
        "  ```python\n# x\n```\n",
        " ~~~\n[a](b)\n~~~\n",
        "<div>\n",
        "% comment [a](b)\n",
        "+++\n",
        "$$\nx\n$$\n",
        "> quote\n",
        "Title\n=====\n",
        "Title\n-\n",
        "---\ntitle: x\n---\n",
        "***\n",
        "    indented code\n",
        "\tcode\n",
    ],
)
def test_block_constructs_take_the_markdown_it_path(text):
    assert _COMPLEX.search(text) is not None


def test_myst_constructs_and_positions():
    text = (
        "(intro)=\n# Intro\n\nSee {ref}`the intro <intro>` and [a page](page.md).\n\n"
        "```{figure} img/chart.png\n:alt: A chart\n:name: fig-chart\n\n"
        "Caption with [a link](x.md).\n```\n\n"
        "```{glossary}\nDigital labor\n  Work.\n```\n\n"
        "```python\n# not a heading [not](a-link.md)\n```\n"
    )
    found = parse([(-1, text)])
    assert [(h.pos, h.level) for h in found.headings] == [(Pos(-1, 2, 1), 1)]
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


def test_headings_inside_directives_and_quotes_are_not_page_titles():
    text = "# Title\n\n```{note}\n# Not a title\n```\n\n> # Quoted\n"
    assert [h.pos.line for h in parse([(-1, text)]).headings] == [1]


def test_role_target():
    assert role_target("label") == "label"
    assert role_target("Figure %s <fig-x>") == "fig-x"
    assert role_target(" spaced ") == "spaced"


def test_line_tables_equal_markdown_its_own():
    """The faster line tables are exactly StateBlock's, on course texts and odd inputs."""
    import random

    from markdown_it.rules_block import StateBlock

    from coursekit.checks.mdparser import MD, _LineTables

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
        theirs, ours = StateBlock(text, MD, {}, []), _LineTables(text, MD, {}, [])
        for name in ("bMarks", "eMarks", "tShift", "sCount", "bsCount", "lineMax"):
            assert getattr(ours, name) == getattr(theirs, name), (text, name)
