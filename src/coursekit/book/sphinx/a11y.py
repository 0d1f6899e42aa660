"""Sphinx extension `coursekit.book.sphinx.a11y`: every page passes axe-core, whatever the theme.

`coursekit.sphinxext` loads it, so every book coursekit builds (and a plain
`jupyter-book build` of a book listing `coursekit.sphinxext`) gets it. Each
page's HTML is rewritten as the builder renders it (so the HTML, single-page and
PDF editions all get it), to fix what axe-core 4.14 reports on a Jupyter Book 1.x
page, and where it comes from:

- `summary-name`: the theme's sidebar toggles, a `<summary>` holding only an
  icon, get `aria-label="Pages under <the entry's title>"`;
- `label-content-name-mismatch`: the theme's search buttons (`aria-label="Search"`
  on a button showing "Search Ctrl+K") lose the label, their text names them;
  the colour-mode button's icons lose their titles (Font Awesome turns them into
  text the button's label lacks), the button keeps its label;
- `region`: the primary sidebar (logo, search button, table of contents), outside
  any landmark, becomes one (`role="complementary"`);
- `empty-table-header`: an empty header cell (a pandas DataFrame's top-left
  corner, an empty Markdown table header) heads nothing: it becomes a `<td>`;
- `aria-allowed-role`, `aria-deprecated-role`, `aria-required-children`:
  docutils' citation lists (sphinxcontrib-bibtex's bibliography) hold
  `role="doc-biblioentry"` entries in a `role="list"`: each entry is a `listitem`.

The rewrites are plain-text and idempotent: a page that does not hold the markup
a fix looks for is left as it is. `tests/test_a11y.py` runs axe-core on every
page of built books, so a theme update that changes the markup shows there.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from coursekit import __version__

SIDEBAR_LABEL = "Course navigation"

# <li class="toctree-l1 has-children"><a …>Title</a><details><summary>
_TOGGLE = re.compile(
    r"(<a\b[^>]*>(?P<title>(?:(?!</a>).)*)</a>\s*<details\b[^>]*>\s*)<summary>", re.DOTALL
)
_EMPTY_SUMMARY = re.compile(r"<summary>(?P<inner>(?:(?!</summary>).)*)</summary>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SEARCH_BUTTON = re.compile(r'<button\b[^>]*\bclass="[^"]*\bsearch-button-field\b[^"]*"[^>]*>')
_ARIA_LABEL = re.compile(r'\saria-label="[^"]*"')
_MODE_ICON = re.compile(r'<i\b[^>]*\bclass="[^"]*\btheme-switch\b[^"]*"[^>]*>')
_TITLE = re.compile(r'\stitle="[^"]*"')
_PRIMARY_SIDEBAR = re.compile(r'<div id="pst-primary-sidebar"(?![^>]*\brole=)')
_HEADER_CELL = re.compile(r"<th\b(?P<attrs>[^>]*)>(?P<inner>(?:(?!</th>).)*)</th>", re.DOTALL)
_CITATION = re.compile(r'<div\b[^>]*\bclass="citation"[^>]*>')


def _text(fragment: str) -> str:
    """The visible text of an HTML fragment, on one line."""
    return " ".join(html.unescape(_TAG.sub(" ", fragment)).split())


def name_toctree_toggles(page: str) -> str:
    """Each sidebar toggle names what it opens; any other empty `<summary>` gets a name too."""

    def toggle(m: re.Match[str]) -> str:
        name = html.escape(f"Pages under {_text(m['title'])}", quote=True)
        return f'{m[1]}<summary aria-label="{name}">'

    def fallback(m: re.Match[str]) -> str:
        if _text(m["inner"]):
            return m[0]
        return f'<summary aria-label="Show or hide">{m["inner"]}</summary>'

    return _EMPTY_SUMMARY.sub(fallback, _TOGGLE.sub(toggle, page))


def name_search_buttons(page: str) -> str:
    """The search buttons' text ("Search Ctrl+K") is their name, not a shorter label."""
    return _SEARCH_BUTTON.sub(lambda m: _ARIA_LABEL.sub("", m[0]), page)


def untitle_mode_icons(page: str) -> str:
    """The colour-mode icons lose their titles; the button's own label names it."""
    return _MODE_ICON.sub(lambda m: _TITLE.sub("", m[0]), page)


def sidebar_landmark(page: str) -> str:
    """The primary sidebar (logo, search button, table of contents) is a landmark."""
    attrs = f'role="complementary" aria-label="{SIDEBAR_LABEL}"'
    return _PRIMARY_SIDEBAR.sub(f'<div id="pst-primary-sidebar" {attrs}', page)


def data_cells_for_empty_headers(page: str) -> str:
    """An empty header cell (a DataFrame's corner) heads nothing: make it a data cell."""

    def cell(m: re.Match[str]) -> str:
        inner = m["inner"]
        if _text(inner) or re.search(r"<(img|svg|math|input)\b", inner):
            return m[0]
        return f"<td{m['attrs']}>{inner}</td>"

    return _HEADER_CELL.sub(cell, page)


def citations_as_list_items(page: str) -> str:
    """docutils' citation entries: `listitem`s of their `role="list"`, not the deprecated role."""
    return _CITATION.sub(lambda m: m[0].replace('role="doc-biblioentry"', 'role="listitem"'), page)


FIXES: tuple[Callable[[str], str], ...] = (
    name_toctree_toggles,
    name_search_buttons,
    untitle_mode_icons,
    sidebar_landmark,
    data_cells_for_empty_headers,
    citations_as_list_items,
)


def fix_page(page: str) -> str:
    """Every fix, in turn, on one rendered page."""
    for fix in FIXES:
        page = fix(page)
    return page


def _rewrite_rendered_pages(app: Any) -> None:
    """Wrap the HTML builder's template renderer, through which every page is written."""
    builder = app.builder
    templates = getattr(builder, "templates", None)
    if builder.format != "html" or templates is None or getattr(templates, "_ck_a11y", False):
        return
    render = templates.render

    def render_fixed(template: str, context: dict[str, Any]) -> str:
        page = render(template, context)
        return fix_page(page) if template.endswith(".html") else page

    templates.render = render_fixed
    templates._ck_a11y = True


def setup(app: Any) -> dict[str, Any]:
    """Register the extension with Sphinx."""
    app.connect("builder-inited", _rewrite_rendered_pages)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
