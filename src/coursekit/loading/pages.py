"""Page files → `Page` records: read once, parsed once (Markdown, notebooks, text notebooks).

A Markdown page is parsed with `markdown.parse`. An `.ipynb` page is parsed as JSON
(`notebooks.read_notebook`) and its markdown cells with the same Markdown parser.
A MyST Markdown notebook (front matter with a `kernelspec`) and a jupytext format
the book declares in `nb_custom_formats` (`.Rmd`, `.py`…) are text notebooks: their
text is parsed as Markdown (positions then point into the file as written).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from coursekit.findings import Finding
from coursekit.formats.mystnb import is_myst_notebook
from coursekit.formats.yamlfile import read_text
from coursekit.loading import markdown, notebooks
from coursekit.model import Config, Heading, Label, Markup, Page, PageKind

MARKDOWN_LIKE = (".md", ".Rmd", ".rmd", ".qmd", ".markdown")


def kind_of(path: str) -> PageKind:
    """The kind a page has from its name alone (text notebooks are found when read)."""
    if path.endswith(".ipynb"):
        return PageKind.NOTEBOOK
    if path.endswith(".md"):
        return PageKind.MARKDOWN
    return PageKind.TEXT_NOTEBOOK


def read_page(
    root: Path,
    page: Page,
    config: Config | None,
    allowed: frozenset[Path] = frozenset(),
    parses: Parses | None = None,
) -> Page:
    """`page` with its text and parsed content (or its reading problems). `allowed`: the
    files outside the course its {include}s may read (`coursekit.read_outside`, resolved
    once by the loader: `config.outside_files`); `parses`: the caller's kept parses."""
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
        markup = _parsed(tuple(notebooks.markdown_cells(nb.data)), extensions, parses)
        markup = notebooks.with_figure_names(markup, nb.data)
        return replace(page, text=text, notebook=nb, markup=markup, problems=tuple(problems))
    kind = page.kind
    mystmd = markdown.MYSTMD in (config.myst_extensions if config else ())  # Jupyter Book 2's rule
    if kind is PageKind.MARKDOWN and is_myst_notebook(text, mystmd=mystmd):
        kind = PageKind.TEXT_NOTEBOOK
    if not page.path.endswith(MARKDOWN_LIKE):
        # A script format (`.py` percent…): its Markdown sits in comments, and a reading
        # without positions would point findings at the wrong lines; the TOC checks it.
        return replace(page, kind=kind, text=text, problems=tuple(problems))
    markup = _parsed(((-1, text),), extensions, parses)
    markup = with_included(root, page.path, markup, extensions, allowed=allowed)
    return replace(page, kind=kind, text=text, markup=markup, problems=tuple(problems))


class Parses:
    """The pages' parses, kept from one load to the next by a caller that loads the same
    course again and again: `coursekit serve` at each save, where most pages are as they
    were. A `Markup` is frozen, a function of the text and the extensions. Only who asks
    keeps them (`coursekit check` loads once: what it kept would cost its exit ~0.1 s)."""

    def __init__(self, size: int = 1024) -> None:
        self.parse = functools.lru_cache(maxsize=size)(markdown.parse)


def _parsed(
    chunks: tuple[tuple[int, str], ...],
    extensions: frozenset[str] | None,
    parses: Parses | None,
) -> Markup:
    """`markdown.parse`, or the kept parse of the same text when the caller keeps them."""
    return (parses.parse if parses is not None else markdown.parse)(chunks, extensions)


def with_included(
    root: Path,
    rel: str,
    markup: Markup,
    extensions: frozenset[str] | None,
    depth: int = 0,
    allowed: frozenset[Path] = frozenset(),
) -> Markup:
    """`markup` with what its `{include}`d files define, as Sphinx sees the page: their
    labels and glossary terms, and their top-level heading when the page has none
    (placed at the directive). Files outside the course are not read (CK308 says so),
    except the `allowed` ones (`coursekit.read_outside`, resolved)."""
    from dataclasses import replace

    includes = [d for d in markup.directives if d.name == "include" and d.argument]
    if not includes or depth > 3:
        return markup
    top = root.resolve()
    labels, terms, headings = list(markup.labels), set(markup.terms), list(markup.headings)
    for directive in includes:
        target = (root / rel).parent / directive.argument.strip()
        try:
            resolved = target.resolve()
            inside = resolved.is_relative_to(top)
            if not (inside or resolved in allowed) or not resolved.is_file():
                continue
            text = resolved.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError, ValueError):
            continue  # the build will say; the check has nothing to add
        inner_rel = Path(os.path.relpath(resolved, top)).as_posix()
        inner = markdown.parse([(-1, text)], extensions)
        inner = with_included(root, inner_rel, inner, extensions, depth + 1, allowed)
        labels.extend(Label(directive.pos, label.name) for label in inner.labels)
        terms |= inner.terms
        if not any(h.level == 1 for h in headings):
            headings.extend(
                Heading(directive.pos, 1, h.text) for h in inner.headings[:1] if h.level == 1
            )
    return replace(markup, labels=tuple(labels), terms=frozenset(terms), headings=tuple(headings))


def _extensions(config: Config | None) -> frozenset[str] | None:
    if config is None or not config.myst_extensions:
        return None
    return config.myst_extensions
