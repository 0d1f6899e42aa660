"""Page files → `Page` records: read once, parsed once (Markdown, notebooks, text notebooks).

A Markdown page is parsed with `markdown.parse`. An `.ipynb` page is parsed as JSON
(`notebooks.read_notebook`) and its markdown cells with the same Markdown parser.
A MyST Markdown notebook (front matter with a `kernelspec`) and a jupytext format
the book declares in `nb_custom_formats` (`.Rmd`, `.py`…) are text notebooks: their
text is parsed as Markdown (positions then point into the file as written).
"""

from __future__ import annotations

from pathlib import Path

from coursekit.findings import Finding
from coursekit.formats.mystnb import is_myst_notebook
from coursekit.formats.yamlfile import read_text
from coursekit.loading import markdown, notebooks
from coursekit.model import Config, Page, PageKind

MARKDOWN_LIKE = (".md", ".Rmd", ".rmd", ".qmd", ".markdown")


def kind_of(path: str) -> PageKind:
    """The kind a page has from its name alone (text notebooks are found when read)."""
    if path.endswith(".ipynb"):
        return PageKind.NOTEBOOK
    if path.endswith(".md"):
        return PageKind.MARKDOWN
    return PageKind.TEXT_NOTEBOOK


def read_page(root: Path, page: Page, config: Config | None) -> Page:
    """`page` with its text and parsed content (or its reading problems)."""
    from dataclasses import replace

    problems: list[Finding] = []
    text = read_text(root, page.path, problems)
    if text is None:
        return replace(page, problems=tuple(problems))
    extensions = _extensions(config)
    if page.kind is PageKind.NOTEBOOK:
        nb, problems = notebooks.read_notebook(page.path, text)
        if nb is None or nb.invalid is not None:
            return replace(page, text=text, notebook=nb, problems=tuple(problems))
        markup = markdown.parse(notebooks.markdown_cells(nb.data), extensions)
        markup = notebooks.with_figure_names(markup, nb.data)
        return replace(page, text=text, notebook=nb, markup=markup, problems=tuple(problems))
    kind = page.kind
    if kind is PageKind.MARKDOWN and is_myst_notebook(text):
        kind = PageKind.TEXT_NOTEBOOK
    if not page.path.endswith(MARKDOWN_LIKE):
        # A script format (`.py` percent…): its Markdown sits in comments, and a reading
        # without positions would point findings at the wrong lines; the TOC checks it.
        return replace(page, kind=kind, text=text, problems=tuple(problems))
    markup = markdown.parse([(-1, text)], extensions)
    return replace(page, kind=kind, text=text, markup=markup, problems=tuple(problems))


def _extensions(config: Config | None) -> frozenset[str] | None:
    if config is None or not config.myst_extensions:
        return None
    return config.myst_extensions
