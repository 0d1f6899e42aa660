"""The single page cut into parts at unit starts (coursekit.packages.pdf.parts).

Each part must print as that stretch of the book would in the whole page: the same
head (style sheets, scripts), inside the same elements, and its links still leading
where they led. The pages here are small hand-made ones shaped like Sphinx's
single page; tests/test_pdf.py prints and joins a real one.
"""

from __future__ import annotations

import re

from coursekit.packages.pdf.parts import CROSS, split

HEAD = (
    "<!DOCTYPE html>\n<html><head><title>Book</title>"
    '<link rel="stylesheet" href="_static/print.css">'
    '<script>var s = \'<body><div class="ck-unit-start" id="ck-unit-fake">\';</script>'
    "</head>\n"
)


def unit(name: str, body: str) -> str:
    return (
        f'<div class="ck-unit-start" id="ck-unit-{name}"><p class="ck-unit-title">{name}</p>'
        f'</div><span id="document-{name}"></span><section id="{name}-page">{body}</section>'
    )


def page(*units: str, front: str = "<h1>Front</h1>") -> str:
    return (
        HEAD + '<body data-mode="auto">\n<!-- not a cut: <div class="ck-unit-start" id="x"> -->'
        '<nav class="sidebar"><a href="#alpha-page">Alpha</a></nav>'
        '<main id="main-content"><article><section id="root">'
        f'{front}<div class="toctree-wrapper">{"".join(units)}</div>'
        '</section></article></main>\n<script src="_static/theme.js"></script>\n'
        "</body>\n</html>\n"
    )


BOOK = page(
    unit("alpha", '<p>Alpha text, see <a href="#beta-fact">the fact</a>.</p><p id="a2">A2</p>'),
    unit(
        "beta",
        '<p id="beta-fact">Beta fact, <a href="#a2">back</a>, <a href="#beta-fact">self</a>'
        '</p><p><a href="book.html#alpha-page">Alpha again</a></p>',
    ),
    unit("gamma", '<p>Gamma text.</p><a href="https://example.org/x#y">outside</a>'),
)


def test_each_unit_is_a_part_of_its_own_inside_the_same_elements() -> None:
    parts = split(BOOK, "book.html", 0)
    assert [p.units for p in parts] == [(), ("alpha",), ("beta",), ("gamma",)]
    for part in parts:
        assert part.html.startswith(HEAD)  # the same head: styles and scripts
        assert part.html.count('src="_static/theme.js"') == 1  # the body's own script
        assert part.html.rstrip().endswith("</html>")
        # Every element it opens is closed again (the part is a whole page).
        body = re.sub(r"<!--.*?-->", "", part.html.split("</head>")[1], flags=re.DOTALL)
        opened = re.findall(r"<(section|article|main|div)\b", body)
        closed = re.findall(r"</(section|article|main|div)>", body)
        assert sorted(opened) == sorted(closed)
    assert "Front" in parts[0].html and "Alpha text" not in parts[0].html
    beta = parts[2].html
    assert "Beta fact" in beta and "Alpha text" not in beta and "Gamma text" not in beta
    # Opened again around the unit, without the ids that belong to the first part.
    assert '<main><article><section><div class="toctree-wrapper"><div class="ck-unit-start"' in beta
    assert beta.count('id="root"') == 0 and parts[0].html.count('id="root"') == 1


def test_links_across_parts_lead_to_a_place_the_other_part_names() -> None:
    parts = split(BOOK, "book.html", 0)
    alpha, beta = parts[1].html, parts[2].html
    assert f'href="{CROSS}beta-fact"' in alpha  # to another part: joined later
    assert '<div hidden><a href="#beta-fact"></a></div>' in beta  # named there
    assert f'href="{CROSS}a2"' in beta and '<a href="#a2"></a>' in alpha
    assert 'href="#beta-fact">self' in beta  # within the part: as it was
    assert f'href="{CROSS}alpha-page">Alpha again' in beta  # `book.html#id` is this page
    assert 'href="https://example.org/x#y"' in parts[3].html  # outside the book: as it was


def test_small_units_share_a_part_and_a_page_without_units_is_one() -> None:
    body = BOOK.index('<body data-mode="auto">') + len('<body data-mode="auto">')
    # Parts at least as long as the front matter and the first unit together.
    grouped = split(
        BOOK, "book.html", BOOK.index('<div class="ck-unit-start" id="ck-unit-beta"') - body
    )
    assert len(grouped) == 2 and grouped[0].units == ("alpha",)
    assert grouped[1].units == ("beta", "gamma")
    assert len(split(BOOK, "book.html", len(BOOK))) == 1
    plain = page(
        front='<h1>Front</h1><p id="p">x</p><a href="book.html#p">again</a>'
        '<a href="book.html#gone">a place no page has</a>'
        '<a class="image" href="_images/big.png"><img src="_images/big.png"></a>'
        '<a href="mailto:a@b.org">mail</a>'
    )
    (whole,) = split(plain, "book.html", 0)
    # Links to this page stay in it, even one to a place it lacks; a link to another file
    # of the site is no link in a PDF (it would lead to the server it was printed from).
    expected = plain.replace('href="book.html#p"', 'href="#p"')
    expected = expected.replace('href="book.html#gone"', 'href="#gone"')
    assert whole.html == expected.replace(' href="_images/big.png"', "")
    assert '<img src="_images/big.png">' in whole.html
